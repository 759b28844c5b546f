//! The CSM's worklist and account workspace over HTTP: ranking, filters, inline actions,
//! and who may see and act on what.

use keel::auth::Role;
use keel::ingest::Entity;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::helpers::{Client, TestApp, TestUser};

pub struct Book {
    pub app: TestApp,
    pub csm: Client,
    pub csm_user: TestUser,
    pub other: TestUser,
    pub manager: Client,
}

pub async fn id_of(app: &TestApp, external: &str) -> Uuid {
    sqlx::query_scalar("select id from accounts where external_id = $1")
        .bind(external)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Four accounts for one CSM, one for another; scores chosen so the ranking is known:
/// priority = probability × ARR (doubled near renewal).
pub async fn book(pool: sqlx::PgPool) -> Book {
    let app = TestApp::spawn(pool).await;
    let (csm, csm_user) = app.login_as(Role::Csm).await;
    let other = app.create_user(Role::Csm).await;
    let (manager, manager_user) = app.login_as(Role::Manager).await;
    sqlx::query("update users set manager_id = $1 where id = $2")
        .bind(manager_user.id)
        .bind(csm_user.id)
        .execute(&app.db)
        .await
        .unwrap();
    let today = OffsetDateTime::now_utc().date();
    let soon = today + Duration::days(20);
    let later = today + Duration::days(200);
    let csv = format!(
        "external_id,name,plan,seats,mrr,customer_since,renewal_date,owner_email\n\
         A1,Alpha Co,team,10,2000,2024-01-01,{later},{me}\n\
         A2,Bravo Ltd,team,10,1000,2024-01-01,{soon},{me}\n\
         A3,Charlie Inc,team,10,5000,2024-01-01,{later},{me}\n\
         A4,Delta LLC,team,10,300,2024-01-01,{later},{me}\n\
         B1,Other Corp,team,10,900,2024-01-01,{later},{them}\n",
        me = csm_user.email,
        them = other.email
    );
    app.load_csv(Entity::Accounts, csv).await;
    let run = app.test_run(today).await;
    // (account, health, band, probability, tier, at risk, anomaly)
    let scores = [
        ("A1", 25.0, "red", 0.70, "medium", true, None),
        (
            "A2",
            55.0,
            "yellow",
            0.40,
            "low",
            false,
            Some("usage drop: 3 active user-days this week against 40 ± 5"),
        ),
        ("A3", 80.0, "green", 0.05, "low", false, None),
        ("A4", 60.0, "yellow", 0.20, "low", false, None),
        ("B1", 20.0, "red", 0.90, "high", true, None),
    ];
    for (ext, health, band, p, tier, at_risk, anomaly) in scores {
        sqlx::query(
            r#"insert into scores (account_id, day, health_score, band, signals, churn_probability, risk_tier, at_risk,
                                   drivers, run_id, anomaly, trajectory)
               values ($1, $2, $3, $4, '[]', $5, $6, $7, $8, $9, $10, 'declining')"#,
        )
        .bind(id_of(&app, ext).await)
        .bind(today)
        .bind(health as f32)
        .bind(band)
        .bind(p as f32)
        .bind(tier)
        .bind(at_risk)
        .bind(serde_json::json!([{"feature": "seat_utilization", "contribution": 1.0, "text": format!("{ext}: 12 % of seats active in 30 days")}]))
        .bind(run)
        .bind(anomaly)
        .execute(&app.db)
        .await
        .unwrap();
    }
    let now = OffsetDateTime::now_utc();
    for (ext, owner, title, due) in [
        (
            "A1",
            csm_user.id,
            "Call the champion",
            now + Duration::hours(2),
        ),
        (
            "A3",
            csm_user.id,
            "Send the renewal offer",
            now - Duration::hours(5),
        ),
        (
            "A4",
            csm_user.id,
            "Quarterly review",
            now + Duration::days(3),
        ),
        (
            "B1",
            other.id,
            "Someone else's task",
            now + Duration::hours(1),
        ),
    ] {
        sqlx::query("insert into tasks (account_id, assignee_id, title, kind, due_at, reason) values ($1, $2, $3, 'call', $4, 'test')")
            .bind(id_of(&app, ext).await)
            .bind(owner)
            .bind(title)
            .bind(due)
            .execute(&app.db)
            .await
            .unwrap();
    }
    Book {
        app,
        csm,
        csm_user,
        other,
        manager,
    }
}

fn order_of(html: &str, names: &[&str]) -> Vec<usize> {
    names
        .iter()
        .map(|n| html.find(n).unwrap_or_else(|| panic!("{n} missing")))
        .collect()
}

pub async fn task_id(app: &TestApp, title: &str) -> i64 {
    sqlx::query_scalar("select id from tasks where title = $1")
        .bind(title)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn the_book_is_ranked_by_priority_with_bookmarkable_filters(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let page = b.csm.get("/worklist").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    // A1: 0.70 × 24k = 16.8k; A2: 0.40 × 12k × ~1.8 (renews in 20 days) = 8.6k; A3: 0.05 × 60k = 3k; A4: 0.2 × 3.6k.
    let book_part = html.split("id=\"book\"").nth(1).unwrap();
    let pos = order_of(
        book_part,
        &["Alpha Co", "Bravo Ltd", "Charlie Inc", "Delta LLC"],
    );
    assert!(
        pos.windows(2).all(|w| w[0] < w[1]),
        "ranked by priority: {pos:?}"
    );
    assert!(
        !html.contains("Other Corp"),
        "another CSM's account is not in my book"
    );
    assert!(
        html.contains("A1: 12 % of seats active in 30 days"),
        "top driver shown"
    );
    assert!(html.contains("title=\"declining\""), "trend arrow");
    assert!(
        html.contains(">at risk<") && html.contains(">anomaly<"),
        "flags"
    );
    // Tasks: soonest first, with countdowns that are already amber and red.
    let tasks = order_of(
        &html,
        &[
            "Send the renewal offer",
            "Call the champion",
            "Quarterly review",
        ],
    );
    assert!(tasks.windows(2).all(|w| w[0] < w[1]), "soonest SLA first");
    assert!(
        html.contains("countdown red")
            && html.contains("countdown amber")
            && html.contains("countdown ok")
    );
    assert!(html.contains("overdue by"));
    assert!(!html.contains("Someone else's task"));
    // A month later by the app's clock, every open task is late.
    b.app.clock.advance(time::Duration::days(30));
    let later = b.csm.get("/worklist").await.text().await.unwrap();
    assert!(later.contains("countdown red"));
    assert!(!later.contains("countdown amber") && !later.contains("countdown ok"));
    b.app.clock.advance(time::Duration::days(-30));

    let only = |html: &str| {
        ["Alpha Co", "Bravo Ltd", "Charlie Inc", "Delta LLC"]
            .into_iter()
            .filter(|n| html.contains(n))
            .collect::<Vec<_>>()
    };
    let fragment = b.csm.hx_get("/worklist?band=yellow").await;
    assert_eq!(fragment.headers()["vary"], "HX-Request");
    let fragment = fragment.text().await.unwrap();
    assert!(
        fragment.starts_with("<section id=\"book\">"),
        "htmx gets the list alone"
    );
    assert_eq!(only(&fragment), ["Bravo Ltd", "Delta LLC"]);
    let book_only = |path: &str| {
        let client = &b.csm;
        let path = path.to_owned();
        async move { client.hx_get(&path).await.text().await.unwrap() }
    };
    assert_eq!(
        only(&book_only("/worklist?renewal=30").await),
        ["Bravo Ltd"]
    );
    assert_eq!(
        only(&book_only("/worklist?flagged=1").await),
        ["Alpha Co", "Bravo Ltd"]
    );
    assert_eq!(
        only(&book_only("/worklist?tier=medium").await),
        ["Alpha Co"]
    );
    assert_eq!(
        only(&book_only("/worklist?segment=enterprise").await),
        ["Charlie Inc"]
    );
    assert_eq!(only(&book_only("/worklist?q=charl").await), ["Charlie Inc"]);
    let by_name = book_only("/worklist?sort=name").await;
    let pos = order_of(
        &by_name,
        &["Alpha Co", "Bravo Ltd", "Charlie Inc", "Delta LLC"],
    );
    assert!(pos.windows(2).all(|w| w[0] < w[1]));
    let by_arr = book_only("/worklist?sort=arr").await;
    assert!(by_arr.find("Charlie Inc") < by_arr.find("Alpha Co"));
    // The full page keeps the filters in its form, so the URL is the view.
    let bookmarked = b
        .csm
        .get("/worklist?band=yellow&sort=name")
        .await
        .text()
        .await
        .unwrap();
    assert!(bookmarked.contains("<option value=\"yellow\" selected>"));
    assert!(bookmarked.contains("<option value=\"name\" selected>"));
    assert_eq!(b.csm.get("/worklist?sort=shoe-size").await.status(), 400);
    assert_eq!(b.csm.get("/worklist?renewal=soon").await.status(), 400);
}

#[sqlx::test]
async fn the_row_forms_load_when_opened(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let a2 = id_of(&b.app, "A2").await;

    // The row forms load when opened.
    let form = b
        .csm
        .hx_get(&format!("/accounts/{a2}/actions/snooze"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("Waiting on the customer")
            && form.contains(&format!("/accounts/{a2}/snooze"))
    );
    assert!(
        b.csm
            .hx_get(&format!("/accounts/{a2}/actions/log"))
            .await
            .text()
            .await
            .unwrap()
            .contains("name=\"outcome\"")
    );
    assert_eq!(
        b.csm
            .hx_get(&format!("/accounts/{a2}/actions/dance"))
            .await
            .status(),
        404
    );
}

#[sqlx::test]
async fn a_task_is_completed_once(pool: sqlx::PgPool) {
    let b = book(pool).await;

    // Complete a task.
    let task = task_id(&b.app, "Quarterly review").await;
    let done = b.csm.hx_post(&format!("/tasks/{task}/complete"), &[]).await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Done."));
    let status: String = sqlx::query_scalar("select status::text from tasks where id = $1")
        .bind(task)
        .fetch_one(&b.app.db)
        .await
        .unwrap();
    assert_eq!(status, "done");
    assert_eq!(
        b.csm
            .hx_post(&format!("/tasks/{task}/complete"), &[])
            .await
            .status(),
        404,
        "once"
    );
    assert_eq!(b.app.audit_count("task.complete").await, 1);
}

#[sqlx::test]
async fn an_intervention_answers_a_task_books_a_follow_up_and_shows_on_the_timeline(
    pool: sqlx::PgPool,
) {
    let b = book(pool).await;
    let a1 = id_of(&b.app, "A1").await;

    // Log an intervention that answers a task and books a follow-up.
    let call = task_id(&b.app, "Call the champion").await;
    let task_field = call.to_string();
    let logged = b
        .csm
        .hx_post(
            &format!("/accounts/{a1}/interventions"),
            &[
                ("kind", "call"),
                ("outcome", "positive"),
                ("notes", "Champion is back on board"),
                ("task_id", &task_field),
                ("follow_up_days", "7"),
            ],
        )
        .await;
    assert_eq!(logged.status(), 201);
    assert_eq!(logged.headers()["hx-trigger"], "timeline-changed");
    let text = logged.text().await.unwrap();
    assert!(
        text.contains("Logged call (positive)") && text.contains("Follow-up due in 7 days"),
        "{text}"
    );
    let (closed, follow_ups): (String, i64) = sqlx::query_as(
        "select (select status::text from tasks where id = $1), (select count(*) from tasks where kind = 'follow_up' and account_id = $2)",
    )
    .bind(call)
    .bind(a1)
    .fetch_one(&b.app.db)
    .await
    .unwrap();
    assert_eq!((closed.as_str(), follow_ups), ("done", 1));
    for (form, problem) in [
        (
            vec![("kind", "smoke-signal"), ("outcome", "positive")],
            "kind",
        ),
        (vec![("kind", "call"), ("outcome", "great")], "outcome"),
        (
            vec![
                ("kind", "call"),
                ("outcome", "positive"),
                ("happened_on", "2999-01-01"),
            ],
            "future",
        ),
        (
            vec![
                ("kind", "call"),
                ("outcome", "positive"),
                ("task_id", &task_field),
            ],
            "not an open task",
        ),
    ] {
        let refused = b
            .csm
            .hx_post(&format!("/accounts/{a1}/interventions"), &form)
            .await;
        assert_eq!(refused.status(), 400, "{problem}");
        assert!(refused.text().await.unwrap().contains(problem));
    }
    assert_eq!(b.app.audit_count("intervention.log").await, 1);

    // The account's timeline shows it, and filters by kind.
    let timeline = b
        .csm
        .hx_get(&format!("/accounts/{a1}/timeline?kind=intervention"))
        .await
        .text()
        .await
        .unwrap();
    assert!(timeline.contains("Champion is back on board") && timeline.contains("call by"));
    let tasks = b
        .csm
        .hx_get(&format!("/accounts/{a1}/timeline?kind=task"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        tasks.contains("Follow up with Alpha Co") && !tasks.contains("Champion is back on board")
    );
    assert_eq!(
        b.csm
            .hx_get(&format!("/accounts/{a1}/timeline?kind=gossip"))
            .await
            .status(),
        400
    );
}

#[sqlx::test]
async fn feedback_on_a_prediction_carries_a_reason_the_analyst_reads(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let a1 = id_of(&b.app, "A1").await;

    // Feedback on the prediction, with a reason code.
    let feedback = b
        .csm
        .hx_post(
            &format!("/accounts/{a1}/feedback"),
            &[
                ("verdict", "false_positive"),
                ("reason", "contract_locked"),
                ("note", "3-year deal"),
            ],
        )
        .await;
    assert_eq!(feedback.status(), 201);
    let (verdict, p): (String, f32) = sqlx::query_as(
        "select verdict::text, churn_probability from prediction_feedback where account_id = $1",
    )
    .bind(a1)
    .fetch_one(&b.app.db)
    .await
    .unwrap();
    assert_eq!((verdict.as_str(), p), ("false_positive", 0.7));
    let (analyst, _) = b.app.login_as(Role::Analyst).await;
    let health = analyst.get("/models/health").await.text().await.unwrap();
    assert!(
        health.contains(
            "<td>false positive</td><td>Multi-year contract, cannot churn soon</td><td>1</td>"
        ),
        "the analyst sees the feedback"
    );
    let bad = b
        .csm
        .hx_post(
            &format!("/accounts/{a1}/feedback"),
            &[("verdict", "agree"), ("reason", "vibes")],
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(b.app.audit_count("prediction.feedback").await, 1);
}

#[sqlx::test]
async fn a_snooze_hides_the_account_until_its_date(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let a2 = id_of(&b.app, "A2").await;

    // Snooze: the account leaves the list until the date, and shows under "Snoozed".
    let snoozed = b
        .csm
        .hx_post(
            &format!("/accounts/{a2}/snooze"),
            &[("reason", "waiting_customer"), ("days", "14")],
        )
        .await;
    assert_eq!(snoozed.status(), 200);
    assert!(
        snoozed
            .text()
            .await
            .unwrap()
            .contains("Waiting on the customer")
    );
    let list = b.csm.hx_get("/worklist").await.text().await.unwrap();
    assert!(!list.contains("Bravo Ltd"));
    assert!(
        b.csm
            .hx_get("/worklist?snoozed=1")
            .await
            .text()
            .await
            .unwrap()
            .contains("Bravo Ltd")
    );
    assert_eq!(
        b.csm
            .hx_post(
                &format!("/accounts/{a2}/snooze"),
                &[("reason", "bored"), ("days", "14")]
            )
            .await
            .status(),
        400
    );
    assert_eq!(b.app.audit_count("account.snooze").await, 1);
}

#[sqlx::test]
async fn nobody_sees_or_acts_on_accounts_outside_their_book(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let theirs = id_of(&b.app, "B1").await;
    // 404, not 403: another CSM's accounts are not enumerable.
    assert_eq!(
        b.csm.get(&format!("/accounts/{theirs}")).await.status(),
        404
    );
    for (path, form) in [
        (
            format!("/accounts/{theirs}/interventions"),
            vec![("kind", "call"), ("outcome", "positive")],
        ),
        (
            format!("/accounts/{theirs}/snooze"),
            vec![("reason", "false_alarm"), ("days", "7")],
        ),
        (
            format!("/accounts/{theirs}/feedback"),
            vec![("verdict", "agree"), ("reason", "data_wrong")],
        ),
        (
            format!(
                "/tasks/{}/complete",
                task_id(&b.app, "Someone else's task").await
            ),
            vec![],
        ),
    ] {
        assert_eq!(b.csm.hx_post(&path, &form).await.status(), 404, "{path}");
    }
    assert_eq!(
        b.csm
            .get(&format!("/accounts/{theirs}/timeline"))
            .await
            .status(),
        404
    );

    // A manager sees their CSM's list and may act; not other teams'.
    let mine = b
        .manager
        .get(&format!("/worklist?csm={}", b.csm_user.id))
        .await;
    assert_eq!(mine.status(), 200);
    let html = mine.text().await.unwrap();
    assert!(html.contains("Alpha Co") && html.contains(">Complete<"));
    assert_eq!(
        b.manager
            .get(&format!("/worklist?csm={}", b.other.id))
            .await
            .status(),
        404
    );
    let task = task_id(&b.app, "Call the champion").await;
    assert_eq!(
        b.manager
            .hx_post(&format!("/tasks/{task}/complete"), &[])
            .await
            .status(),
        200
    );

    // An executive reads any worklist but cannot act.
    let (exec, _) = b.app.login_as(Role::Executive).await;
    let read = exec
        .get(&format!("/worklist?csm={}", b.csm_user.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        read.contains("Alpha Co")
            && !read.contains(">Complete<")
            && !read.contains("<summary>Snooze")
    );
    let a1 = id_of(&b.app, "A1").await;
    assert_eq!(
        exec.hx_post(
            &format!("/accounts/{a1}/feedback"),
            &[("verdict", "agree"), ("reason", "data_wrong")]
        )
        .await
        .status(),
        403
    );
}

#[sqlx::test]
async fn the_account_page_shows_history_with_weight_changes_and_the_workspace(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let a1 = id_of(&b.app, "A1").await;
    // Two earlier scores under another scoring configuration.
    let today = OffsetDateTime::now_utc().date();
    let old_config: i64 = sqlx::query_scalar(
        "insert into health_configs (signals, red_max, yellow_max, created_by) values ('[]', 30, 70, 'test') returning id",
    )
    .fetch_one(&b.app.db)
    .await
    .unwrap();
    let new_config: i64 = sqlx::query_scalar(
        "insert into health_configs (signals, red_max, yellow_max, created_by) values ('[]', 30, 70, 'test') returning id",
    )
    .fetch_one(&b.app.db)
    .await
    .unwrap();
    sqlx::query(
        "insert into scores (account_id, day, health_score, band, signals, run_id, health_config_id)
         select account_id, day - d, 60 - d, 'yellow', '[]', run_id, $2 from scores, unnest(array[14, 7]) d where account_id = $1",
    )
    .bind(a1)
    .bind(old_config)
    .execute(&b.app.db)
    .await
    .unwrap();
    sqlx::query("update scores set health_config_id = $2 where account_id = $1 and day = $3")
        .bind(a1)
        .bind(new_config)
        .bind(today)
        .execute(&b.app.db)
        .await
        .unwrap();
    let html = b
        .csm
        .get(&format!("/accounts/{a1}?kind="))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"history\"") && html.contains(&format!("weights v{new_config}")),
        "the change of weights is marked"
    );
    assert!(
        html.contains("Band yellow → red"),
        "band changes are on the timeline"
    );
    assert!(html.contains("Trajectory: <strong>declining</strong>"));
    assert!(html.contains("id=\"intervention-form\"") && html.contains("id=\"feedback-form\""));
    assert!(
        html.contains("Call the champion"),
        "open tasks can be answered by an intervention"
    );
    assert!(
        html.contains("Strong relationship the data does not show"),
        "feedback reason codes"
    );
    assert!(html.contains("Last active"));
}

#[sqlx::test]
async fn admins_keep_the_reason_codes_csms_pick_from(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let (admin, _) = b.app.login_as(Role::Admin).await;
    let added = admin
        .post_form(
            "/admin/reason-codes",
            &[
                ("code", "price_increase"),
                ("kind", "feedback"),
                ("label", "Reacting to a price increase"),
            ],
        )
        .await;
    assert_eq!(added.status(), 303);
    let again = admin
        .post_form(
            "/admin/reason-codes",
            &[
                ("code", "price_increase"),
                ("kind", "feedback"),
                ("label", "Twice"),
            ],
        )
        .await;
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("exists already"));
    let bad = admin
        .post_form(
            "/admin/reason-codes",
            &[("code", "Bad Code!"), ("kind", "feedback"), ("label", "x")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let a1 = id_of(&b.app, "A1").await;
    let page = b
        .csm
        .get(&format!("/accounts/{a1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Reacting to a price increase"),
        "new codes reach the pickers"
    );
    let row = admin
        .hx_post("/admin/reason-codes/price_increase/toggle", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(row.contains("retired"));
    let page = b
        .csm
        .get(&format!("/accounts/{a1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("Reacting to a price increase"),
        "retired codes leave them"
    );
    assert_eq!(b.app.audit_count("reason_code.create").await, 1);
    assert_eq!(b.app.audit_count("reason_code.retire").await, 1);
}

/// The intervention rules, called as a domain function without HTTP.
#[sqlx::test]
async fn an_intervention_is_validated_field_by_field_and_books_its_follow_up(pool: sqlx::PgPool) {
    use keel::accounts::{db as accounts_db, scope_for};
    use keel::auth::CurrentUser;
    use keel::worklist::act::{self, InterventionForm};

    let b = book(pool.clone()).await;
    let user = CurrentUser {
        id: b.csm_user.id,
        email: b.csm_user.email.clone(),
        name: "CSM".into(),
        role: Role::Csm,
        time_zone: None,
    };
    let id = id_of(&b.app, "A1").await;
    let account = accounts_db::find(&pool, scope_for(&user), id)
        .await
        .unwrap()
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let form = |pairs: &[(&str, &str)]| -> InterventionForm {
        serde_json::from_value(serde_json::Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
                .collect(),
        ))
        .unwrap()
    };
    for (pairs, field) in [
        (vec![("kind", "fax"), ("outcome", "positive")], "kind:"),
        (vec![("kind", "call"), ("outcome", "great")], "outcome:"),
        (
            vec![
                ("kind", "call"),
                ("outcome", "positive"),
                ("happened_on", "2999-01-01"),
            ],
            "happened_on:",
        ),
        (
            vec![
                ("kind", "call"),
                ("outcome", "positive"),
                ("follow_up_days", "91"),
            ],
            "follow_up_days:",
        ),
        (
            vec![
                ("kind", "call"),
                ("outcome", "positive"),
                ("task_id", "999999"),
            ],
            "task_id:",
        ),
    ] {
        let err = act::log_intervention(&pool, &user, &account, &form(&pairs), now)
            .await
            .unwrap_err();
        assert!(err.to_string().contains(field), "{pairs:?}: {err}");
    }
    // A task on this account assigned to someone else cannot be closed by this CSM.
    let theirs: i64 = sqlx::query_scalar(
        "insert into tasks (account_id, assignee_id, title, kind, due_at, reason)
         values ($1, $2, 'Manager review', 'call', now() + interval '1 day', 'test') returning id",
    )
    .bind(id)
    .bind(b.other.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let err = act::log_intervention(
        &pool,
        &user,
        &account,
        &form(&[
            ("kind", "call"),
            ("outcome", "positive"),
            ("task_id", &theirs.to_string()),
        ]),
        now,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("not an open task of yours"),
        "{err}"
    );
    let status: String = sqlx::query_scalar("select status::text from tasks where id = $1")
        .bind(theirs)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "open");
    let before = b.app.audit_count("intervention.log").await;
    let done = act::log_intervention(
        &pool,
        &user,
        &account,
        &form(&[
            ("kind", "qbr"),
            ("outcome", "no_response"),
            ("follow_up_days", "7"),
        ]),
        now,
    )
    .await
    .unwrap();
    assert_eq!(
        done,
        format!(
            "Logged qbr (no response) on {}. Follow-up due in 7 days.",
            now.date()
        )
    );
    assert_eq!(b.app.audit_count("intervention.log").await, before + 1);
    let due: OffsetDateTime =
        sqlx::query_scalar("select due_at from tasks where account_id = $1 and kind = 'follow_up'")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    // Stored to the microsecond.
    assert!((due - now - Duration::days(7)).abs() < Duration::milliseconds(1));
}

#[sqlx::test]
async fn a_churned_account_reads_as_a_former_customer(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let a1 = id_of(&b.app, "A1").await;
    sqlx::query(
        "update accounts set status = 'churned', churned_on = current_date - 3, renewal_date = current_date + 80
         where id = $1",
    )
    .bind(a1)
    .execute(&b.app.db)
    .await
    .unwrap();
    let html = b
        .csm
        .get(&format!("/accounts/{a1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("This account churned on"), "{html}");
    assert!(
        html.contains("none: no longer a customer"),
        "no renewal countdown"
    );
    assert!(
        !html.contains("Is the prediction right?"),
        "no prediction to judge"
    );
    assert!(!html.contains("Snooze on the worklist"));
    assert!(
        html.contains("Log an intervention"),
        "a win-back call can still be logged"
    );
    let live = id_of(&b.app, "A2").await;
    let html = b
        .csm
        .get(&format!("/accounts/{live}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("This account churned on") && html.contains("Is the prediction right?"));
}
