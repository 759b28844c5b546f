//! The worklist keeps a CSM's book between requests, and shows at once whatever changed what
//! the book shows, whoever wrote it: here plain SQL, as the worker, the CLI or another web
//! server would.

use time::OffsetDateTime;

use crate::worklist::{book, id_of};

/// The book's part of a worklist page.
fn book_part(html: &str) -> &str {
    html.split("id=\"book\"").nth(1).unwrap_or_default()
}

#[sqlx::test]
async fn the_worklist_shows_every_writers_change_at_once(pool: sqlx::PgPool) {
    let b = book(pool.clone()).await;
    let worklist = || async { b.csm.get("/worklist").await.text().await.unwrap() };
    let version = || async {
        sqlx::query_scalar::<_, i64>("select version from book_versions where owner_id = $1")
            .bind(b.csm_user.id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let run = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(sql).execute(&pool).await.unwrap() }
    };
    let first = worklist().await;
    assert!(book_part(&first).contains("Alpha Co"), "{first}");
    assert!(!book_part(&first).contains(">93<"));
    assert_eq!(book_part(&worklist().await), book_part(&first));

    // Another CSM's account changing leaves this book's version alone.
    let before = version().await;
    run("update scores set health_score = 11 where account_id = (select id from accounts where external_id = 'B1')").await;
    assert_eq!(version().await, before, "B1 is in another book");

    // A new score of one of the CSM's accounts.
    run("update scores set health_score = 93 where account_id = (select id from accounts where external_id = 'A1')").await;
    assert!(version().await > before);
    assert!(
        book_part(&worklist().await).contains(">93<"),
        "the new health"
    );

    // An expansion propensity: the account is flagged for sales.
    let a3 = id_of(&b.app, "A3").await;
    sqlx::query(
        "insert into expansion_scores (account_id, day, propensity, tier, signals, poc, projected_arr_cents, config_id)
         values ($1, $2, 88, 'high', '[]', 0.6, 360000, (select min(id) from expansion_configs))",
    )
    .bind(a3)
    .bind(OffsetDateTime::now_utc().date())
    .execute(&pool)
    .await
    .unwrap();
    assert!(
        book_part(&worklist().await).contains("expansion propensity 88 of 100"),
        "the expand flag"
    );

    // A renamed account, and one handed to another CSM.
    run("update accounts set name = 'Alpha Renamed' where external_id = 'A1'").await;
    run("update accounts set owner_id = (select owner_id from accounts where external_id = 'B1') where external_id = 'A2'").await;
    let html = worklist().await;
    assert!(book_part(&html).contains("Alpha Renamed"));
    assert!(!book_part(&html).contains("Bravo Ltd"), "A2 left the book");

    // A snooze written elsewhere hides the account; its end brings it back.
    let until = OffsetDateTime::now_utc().date() + time::Duration::days(7);
    sqlx::query("insert into snoozes (account_id, user_id, until, reason_code) values ($1, $2, $3, 'waiting_customer')")
        .bind(a3)
        .bind(b.csm_user.id)
        .bind(until)
        .execute(&pool)
        .await
        .unwrap();
    assert!(!book_part(&worklist().await).contains("Charlie Inc"));
    run("delete from snoozes").await;
    assert!(book_part(&worklist().await).contains("Charlie Inc"));
}
