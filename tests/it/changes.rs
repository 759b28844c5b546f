//! The worklist's "what changed" card: newly flagged and fallen accounts first, recoveries,
//! new tasks, customer signals, only from the viewed CSM's book.

use time::{Duration, OffsetDateTime};

use crate::worklist::{book, id_of};

#[sqlx::test]
async fn the_card_says_what_moved_in_the_book_since_the_scores_before(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let before = b
        .csm
        .hx_get("/worklist/changes")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        before.contains("Once the pipeline has scored two days"),
        "{before}"
    );

    // The day before: Alpha was yellow and not flagged, Charlie yellow, Other Corp (not
    // this CSM's) green.
    let yesterday = OffsetDateTime::now_utc().date() - Duration::days(1);
    let run = b.app.test_run(yesterday).await;
    for (ext, health, band, at_risk) in [
        ("A1", 50.0_f32, "yellow", false),
        ("A3", 65.0, "yellow", false),
        ("A4", 61.0, "yellow", false),
        ("B1", 90.0, "green", false),
    ] {
        sqlx::query(
            "insert into scores (account_id, day, health_score, band, signals, at_risk, run_id)
             values ($1, $2, $3, $4, '[]', $5, $6)",
        )
        .bind(id_of(&b.app, ext).await)
        .bind(yesterday)
        .bind(health)
        .bind(band)
        .bind(at_risk)
        .bind(run)
        .execute(&b.app.db)
        .await
        .unwrap();
    }
    sqlx::query(
        "insert into nps_responses (account_id, external_id, responded_at, score, comment)
         values ($1, 'n1', now() - interval '2 hours', 3, 'Reports keep timing out')",
    )
    .bind(id_of(&b.app, "A2").await)
    .execute(&b.app.db)
    .await
    .unwrap();

    let card = b
        .csm
        .hx_get("/worklist/changes")
        .await
        .text()
        .await
        .unwrap();
    let attention = card
        .split("Needs attention")
        .nth(1)
        .expect("a needs-attention group");
    let attention = attention.split("</ul>").next().unwrap();
    assert!(
        attention.contains("Alpha Co</a>: newly flagged at risk; health 50 → 25, yellow → red"),
        "{attention}"
    );
    assert!(!attention.contains("Delta"), "a steady band is no news");
    assert!(card.contains("Charlie Inc</a>: health 65 → 80, yellow → green"));
    assert!(
        card.contains("Bravo Ltd</a>: NPS 3: “Reports keep timing out”"),
        "{card}"
    );
    assert!(card.contains("Call the champion"), "the book's new tasks");
    assert!(
        !card.contains("Other Corp") && !card.contains("Someone else"),
        "only this book"
    );

    // The worklist loads it first.
    let page = b.csm.get("/worklist").await.text().await.unwrap();
    assert!(page.contains("hx-get=\"/worklist/changes?csm="));
}

#[sqlx::test]
async fn a_csm_who_asked_gets_the_digest_once_a_day(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let yesterday = OffsetDateTime::now_utc().date() - Duration::days(1);
    let run = b.app.test_run(yesterday).await;
    sqlx::query(
        "insert into scores (account_id, day, health_score, band, signals, at_risk, run_id)
         values ($1, $2, 50, 'yellow', '[]', false, $3)",
    )
    .bind(id_of(&b.app, "A1").await)
    .bind(yesterday)
    .bind(run)
    .execute(&b.app.db)
    .await
    .unwrap();
    let digests = || async {
        sqlx::query_as::<_, (String, String, String)>(
            "select recipient, subject, body from outbox where subject like 'What changed%'",
        )
        .fetch_all(&b.app.db)
        .await
        .unwrap()
    };
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        keel::worklist::digest::sweep(&b.app.db, now).await.unwrap(),
        0
    );
    assert!(digests().await.is_empty(), "nobody asked");

    // The CSM asks for it in their settings.
    let saved = b
        .csm
        .post_form("/account/settings", &[("time_zone", ""), ("digest", "1")])
        .await;
    assert_eq!(saved.status(), 200);
    assert_eq!(
        keel::worklist::digest::sweep(&b.app.db, now).await.unwrap(),
        1
    );
    assert_eq!(
        keel::worklist::digest::sweep(&b.app.db, now).await.unwrap(),
        0,
        "once a day"
    );
    let sent = digests().await;
    assert_eq!(sent.len(), 1);
    let (to, subject, body) = &sent[0];
    assert_eq!(to, &b.csm_user.email);
    assert_eq!(
        subject,
        &format!("What changed in your book since {yesterday}")
    );
    assert!(
        body.contains("Needs attention (1)")
            && body.contains("- Alpha Co: newly flagged at risk; health 50 → 25, yellow → red"),
        "{body}"
    );
    assert!(!body.contains("Other Corp"), "only their book");
}
