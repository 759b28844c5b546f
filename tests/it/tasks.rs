//! The worklist's tasks: grouped by urgency, worked in bulk (complete, new due date, and for
//! a manager, reassign), only ever the viewer's own or their team's.

use keel::auth::Role;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::worklist::{book, id_of};

async fn task(
    pool: &sqlx::PgPool,
    account: Uuid,
    assignee: Uuid,
    title: &str,
    due: OffsetDateTime,
) -> i64 {
    sqlx::query_scalar(
        "insert into tasks (account_id, assignee_id, title, kind, due_at, reason)
         values ($1, $2, $3, 'call', $4, 'test') returning id",
    )
    .bind(account)
    .bind(assignee)
    .bind(title)
    .bind(due)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn state(pool: &sqlx::PgPool, id: i64) -> (String, Uuid, OffsetDateTime) {
    sqlx::query_as("select status::text, assignee_id, due_at from tasks where id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn tasks_are_grouped_by_urgency_and_worked_in_bulk(pool: sqlx::PgPool) {
    let b = book(pool.clone()).await;
    let now = OffsetDateTime::now_utc();
    let (a1, b1) = (id_of(&b.app, "A1").await, id_of(&b.app, "B1").await);
    let me = b.csm_user.id;
    // Only the tasks made here are open.
    sqlx::query("update tasks set status = 'done', completed_at = now()")
        .execute(&pool)
        .await
        .unwrap();
    let late = task(
        &pool,
        a1,
        me,
        "Call about the outage",
        now - Duration::days(2),
    )
    .await;
    let soon = task(&pool, a1, me, "Send the QBR deck", now + Duration::days(3)).await;
    let far = task(&pool, a1, me, "Plan the renewal", now + Duration::days(30)).await;
    let theirs = task(&pool, b1, b.other.id, "Not mine", now + Duration::days(3)).await;

    let page = b.csm.get("/worklist").await.text().await.unwrap();
    let at = |s: &str| page.find(s).unwrap_or_else(|| panic!("{s} in {page}"));
    assert!(at(">Overdue <") < at("Call about the outage"));
    assert!(at("Call about the outage") < at(">Due within 7 days <"));
    assert!(at(">Due within 7 days <") < at("Send the QBR deck"));
    assert!(at(">Later <") < at("Plan the renewal"));
    assert!(page.contains("3 open tasks") && !page.contains("Not mine"));

    let csm = b.csm_user.id.to_string();
    let post = |form: Vec<(&'static str, String)>| {
        let client = &b.csm;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client.hx_post("/tasks/bulk", &pairs).await
        }
    };
    // Completing the overdue one and another CSM's task slipped in: only mine is done.
    let done = post(vec![
        ("csm", csm.clone()),
        ("action", "complete".into()),
        ("task", late.to_string()),
        ("task", theirs.to_string()),
    ])
    .await;
    assert_eq!(done.status(), 200);
    let html = done.text().await.unwrap();
    assert!(
        html.contains("Completed 1 task.") && html.contains("2 open tasks"),
        "{html}"
    );
    assert_eq!(state(&pool, late).await.0, "done");
    assert_eq!(state(&pool, theirs).await.0, "open");

    let yesterday = (now - Duration::days(1)).date().to_string();
    let refused = post(vec![
        ("csm", csm.clone()),
        ("action", "due".into()),
        ("due", yesterday),
        ("task", soon.to_string()),
    ])
    .await;
    assert_eq!(refused.status(), 400, "a due date in the past");
    let next_week = (now + Duration::days(9)).date();
    let moved = post(vec![
        ("csm", csm.clone()),
        ("action", "due".into()),
        ("due", next_week.to_string()),
        ("task", soon.to_string()),
        ("task", far.to_string()),
    ])
    .await;
    assert!(
        moved
            .text()
            .await
            .unwrap()
            .contains(&format!("Moved 2 tasks to {next_week}."))
    );
    assert_eq!(state(&pool, far).await.2.date(), next_week);
    let csm_reassigns = post(vec![
        ("csm", csm.clone()),
        ("action", "reassign".into()),
        ("assignee", b.other.id.to_string()),
        ("task", soon.to_string()),
    ])
    .await;
    assert_eq!(
        csm_reassigns.status(),
        400,
        "only a manager hands tasks over"
    );

    // Their manager hands one to the other CSM on the team.
    let (manager, boss) = b.app.login_as(Role::Manager).await;
    sqlx::query("update users set manager_id = $1 where id = any($2)")
        .bind(boss.id)
        .bind(vec![me, b.other.id])
        .execute(&pool)
        .await
        .unwrap();
    let form = [
        ("csm", csm.as_str()),
        ("action", "reassign"),
        ("assignee", &b.other.id.to_string()),
        ("task", &soon.to_string()),
    ];
    let handed = manager.hx_post("/tasks/bulk", &form).await;
    assert!(handed.text().await.unwrap().contains("Handed 1 task over."));
    assert_eq!(state(&pool, soon).await.1, b.other.id);
    assert_eq!(b.app.audit_count("task.reassign").await, 1);
    assert_eq!(b.app.audit_count("task.due").await, 2);
    assert_eq!(b.app.audit_count("task.complete").await, 1);
}

#[sqlx::test]
async fn a_completed_task_asks_how_it_went_and_the_timeline_says(pool: sqlx::PgPool) {
    let b = book(pool.clone()).await;
    let review = crate::worklist::task_id(&b.app, "Quarterly review").await;
    let done = b
        .csm
        .hx_post(&format!("/tasks/{review}/complete"), &[])
        .await;
    let row = done.text().await.unwrap();
    assert!(
        row.contains("How did it go?") && row.contains(">no response</button>"),
        "{row}"
    );

    // Only a done task takes an outcome, one of the four, and only the viewer's own.
    let open = crate::worklist::task_id(&b.app, "Call the champion").await;
    let path = |id: i64| format!("/tasks/{id}/outcome");
    assert_eq!(
        b.csm
            .hx_post(&path(open), &[("outcome", "positive")])
            .await
            .status(),
        404
    );
    let theirs = crate::worklist::task_id(&b.app, "Someone else's task").await;
    assert_eq!(
        b.csm
            .hx_post(&path(theirs), &[("outcome", "positive")])
            .await
            .status(),
        404
    );
    let wrong = b.csm.hx_post(&path(review), &[("outcome", "great")]).await;
    assert_eq!(wrong.status(), 400);
    let refusal = wrong.text().await.unwrap();
    assert!(
        refusal.contains("great") && refusal.contains("is not one of positive, neutral"),
        "{refusal}"
    );

    let said = b
        .csm
        .hx_post(&path(review), &[("outcome", "no_response")])
        .await;
    assert!(said.text().await.unwrap().contains("It went: no response."));
    assert_eq!(b.app.audit_count("task.outcome").await, 1);
    let a4 = id_of(&b.app, "A4").await;
    let timeline = b
        .csm
        .hx_get(&format!("/accounts/{a4}/timeline"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        timeline.contains("Task done: Quarterly review (no response)"),
        "{timeline}"
    );
}
