//! Acting from the account workspace over HTTP: interventions answering tasks, feedback on
//! predictions, snoozes, and each form's validation.

use keel::auth::Role;
use time::{Duration, OffsetDateTime};

use crate::worklist::{book, id_of, task_id};

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
