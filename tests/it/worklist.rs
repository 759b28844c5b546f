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
