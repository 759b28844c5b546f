//! The account timeline puts each entry where its event happened: a task when it was done,
//! an intervention when it was logged, and snoozes appear on it.

use time::{Duration, OffsetDateTime};

use crate::worklist::{book, id_of};

#[sqlx::test]
async fn the_timeline_orders_events_by_when_they_happened_and_shows_snoozes(pool: sqlx::PgPool) {
    let b = book(pool.clone()).await;
    let a1 = id_of(&b.app, "A1").await;
    let now = OffsetDateTime::now_utc();
    // A task opened three days ago, and an NPS answer from two days ago.
    let task: i64 = sqlx::query_scalar(
        "insert into tasks (account_id, assignee_id, title, kind, due_at, reason, created_at)
         values ($1, $2, 'Call the sponsor', 'call', $3, 'test', $4) returning id",
    )
    .bind(a1)
    .bind(b.csm_user.id)
    .bind(now + Duration::days(1))
    .bind(now - Duration::days(3))
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into nps_responses (account_id, external_id, score, responded_at) values ($1, 'N1', 9, $2)",
    )
    .bind(a1)
    .bind(now - Duration::days(2))
    .execute(&pool)
    .await
    .unwrap();
    let timeline = || async {
        b.csm
            .hx_get(&format!("/accounts/{a1}/timeline"))
            .await
            .text()
            .await
            .unwrap()
    };
    let before = timeline().await;
    let at = |html: &str, s: &str| html.find(s).unwrap_or_else(|| panic!("{s} in {html}"));
    assert!(at(&before, "NPS 9") < at(&before, "Task opened: Call the sponsor"));

    let picker = || async {
        b.csm
            .hx_get(&format!("/accounts/{a1}/task-picker"))
            .await
            .text()
            .await
            .unwrap()
    };
    assert!(picker().await.contains("Call the sponsor"));

    // Done now: the task moves above the NPS answer, and is no longer offered to answer.
    let done = b.csm.hx_post(&format!("/tasks/{task}/complete"), &[]).await;
    assert_eq!(done.status(), 200);
    assert!(!picker().await.contains("Call the sponsor"));
    let form = [
        ("days", "7"),
        ("reason", "already_handled"),
        ("note", "renewal agreed"),
    ];
    let snoozed = b
        .csm
        .hx_post(&format!("/accounts/{a1}/snooze"), &form)
        .await;
    assert_eq!(snoozed.status(), 200);
    let after = timeline().await;
    assert!(
        at(&after, "Task done: Call the sponsor") < at(&after, "NPS 9"),
        "{after}"
    );
    let until = (now + Duration::days(7)).date();
    let snooze = at(&after, &format!("Snoozed until {until}"));
    assert!(
        snooze < at(&after, "Task done: Call the sponsor"),
        "newest first"
    );
    assert!(after.contains("renewal agreed"));
    let only = b
        .csm
        .hx_get(&format!("/accounts/{a1}/timeline?kind=snooze"))
        .await
        .text()
        .await
        .unwrap();
    assert!(only.contains("Snoozed until") && !only.contains("NPS 9"));

    // A filter opened in a new tab is the account page with that filter, not a bare fragment.
    let tab = b
        .csm
        .get(&format!("/accounts/{a1}/timeline?kind=snooze"))
        .await;
    assert_eq!(
        crate::helpers::location(&tab),
        format!("/accounts/{a1}?kind=snooze#timeline")
    );
    let page = b
        .csm
        .get(&format!("/accounts/{a1}?kind=snooze"))
        .await
        .text()
        .await
        .unwrap();
    let section = &page[page.find("id=\"timeline\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains("Snoozed until") && !section.contains("NPS 9"));
}
