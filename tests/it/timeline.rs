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
    let section = timeline_of(&b.csm, &format!("/accounts/{a1}?kind=snooze")).await;
    assert!(section.contains("Snoozed until") && !section.contains("NPS 9"));

    // Opened plainly, the page leaves the timeline to load when scrolled into view; its link
    // (for a browser without scripts) comes back to the page with every kind inline.
    let section = timeline_of(&b.csm, &format!("/accounts/{a1}")).await;
    assert!(
        section.contains("hx-trigger=\"revealed") && !section.contains("Snoozed until"),
        "{section}"
    );
    let all = b.csm.get(&format!("/accounts/{a1}/timeline")).await;
    assert_eq!(
        crate::helpers::location(&all),
        format!("/accounts/{a1}?kind=#timeline")
    );
    let section = timeline_of(&b.csm, &format!("/accounts/{a1}?kind=")).await;
    assert!(section.contains("Snoozed until") && section.contains("NPS 9"));
}

/// The timeline section of the account page at `path`.
async fn timeline_of(client: &crate::helpers::Client, path: &str) -> String {
    let page = client.get(path).await.text().await.unwrap();
    let section = &page[page.find("id=\"timeline\"").unwrap()..];
    section[..section.find("</section>").unwrap()].to_owned()
}

#[sqlx::test]
async fn each_kind_of_entry_reads_in_words_with_moments_in_the_viewers_zone(pool: sqlx::PgPool) {
    let b = book(pool.clone()).await;
    let a1 = id_of(&b.app, "A1").await;
    let csm = b.csm_user.id;
    let run = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(sql)
                .bind(a1)
                .bind(csm)
                .execute(&pool)
                .await
                .unwrap()
        }
    };
    // The CSM reads in India (UTC+5:30).
    run("update users set time_zone = 'Asia/Kolkata' where id = $2 and $1 is not null").await;
    run("insert into tickets (account_id, external_id, priority, subject, opened_at, resolved_at, csat) values
         ($1, 'T-1', 'urgent', 'Export fails', '2026-01-01 00:00+00', '2026-01-02 06:00+00', 2),
         ($1, 'T-2', 'low', 'Question', '2026-01-01 01:00+00', null, null)")
    .await;
    run(
        "insert into nps_responses (account_id, external_id, score, comment, responded_at)
         values ($1, 'N1', 3, 'too slow', current_date - 2 + time '06:00')",
    )
    .await;
    run(
        "insert into crm_notes (account_id, external_id, author, noted_at, body)
         values ($1, 'C1', 'Ana', current_date - 2 + time '18:00', 'Budget review in May')",
    )
    .await;
    // Logged now for two days ago: it sits at noon of that day, between the NPS and the note.
    run(
        "insert into interventions (account_id, user_id, kind, happened_on, outcome, notes)
         values ($1, $2, 'in_app', current_date - 2, 'no_response', 'Banner shown')",
    )
    .await;
    run("insert into tasks (account_id, assignee_id, title, kind, due_at, status, completed_at, outcome, reason, created_at) values
         ($1, $2, 'Send deck', 'email', '2026-01-04 00:00+00', 'done', '2026-01-03 00:00+00', 'positive', 'renewal', '2026-01-01 03:30+00'),
         ($1, $2, 'Check in', 'call', '2026-01-05 18:30+00', 'open', null, null, 'health fell', '2026-01-01 02:00+00')")
    .await;
    run("insert into prediction_feedback (account_id, user_id, score_day, churn_probability, verdict, reason_code, note)
         values ($1, $2, current_date, 0.7, 'false_positive', 'contract_locked', 'three-year deal')")
    .await;
    let name: String = sqlx::query_scalar("select name from users where id = $1")
        .bind(csm)
        .fetch_one(&pool)
        .await
        .unwrap();
    let html = b
        .csm
        .hx_get(&format!("/accounts/{a1}/timeline"))
        .await
        .text()
        .await
        .unwrap();
    let reads = |title: &str, detail: &str| {
        let want = format!("<strong>{title}</strong><br><span class=\"muted\">{detail}</span>");
        html.find(&want)
            .unwrap_or_else(|| panic!("{want} in {html}"))
    };
    reads(
        "urgent ticket: Export fails",
        "T-1 · resolved 2026-01-02 11:30 IST, CSAT 2",
    );
    reads("low ticket: Question", "T-2 · open");
    let nps = reads("NPS 3", "too slow");
    let note = reads("Note by Ana", "Budget review in May");
    let intervention = reads(&format!("in app by {name}: no response"), "Banner shown");
    assert!(note < intervention && intervention < nps, "noon of its day");
    reads(
        "Task done: Send deck (positive)",
        "opened 2026-01-01 09:00 IST · renewal",
    );
    reads(
        "Task opened: Check in",
        "open, due 2026-01-06 00:00 IST · health fell",
    );
    reads(
        &format!("Feedback by {name}: false positive on a churn probability of 70 %"),
        "Multi-year contract, cannot churn soon three-year deal",
    );
}

#[sqlx::test]
async fn a_back_filled_days_tasks_open_on_that_day_not_on_the_day_of_the_back_fill(
    pool: sqlx::PgPool,
) {
    let b = book(pool.clone()).await;
    let a4 = id_of(&b.app, "A4").await;
    // A4 fell 14 health points 30 days ago (noon UTC); that day's plays are opened now.
    let today = OffsetDateTime::now_utc().date();
    let then = (today - Duration::days(30)).midnight().assume_utc() + Duration::hours(12);
    sqlx::query("update scores set day = $2, decrement = 14 where account_id = $1")
        .bind(a4)
        .bind(then.date())
        .execute(&pool)
        .await
        .unwrap();
    let mut tx = pool.begin().await.unwrap();
    let (_, opened) = keel::pipeline::open_plays(&pool, &mut tx, then.date(), then)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(opened.tasks, 1, "the medium-decrement play's one task");

    let (created, due): (OffsetDateTime, OffsetDateTime) =
        sqlx::query_as("select t.created_at, t.due_at from tasks t join plays p on p.id = t.play_id where p.account_id = $1")
            .bind(a4)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(created, then, "opened on the scored day");
    assert_eq!(due - created, Duration::hours(24), "its 24-hour SLA");

    let html = b
        .csm
        .hx_get(&format!("/accounts/{a4}/timeline?kind=task"))
        .await
        .text()
        .await
        .unwrap();
    let entry = html
        .split("<li ")
        .find(|li| li.contains("Task opened: Reach out to the account"))
        .unwrap_or_else(|| panic!("the task on the timeline: {html}"));
    assert!(entry.contains(&then.date().to_string()), "{entry}");
}
