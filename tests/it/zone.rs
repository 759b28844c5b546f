//! Times in the viewer's time zone: their own setting, else their browser's, else UTC.

use sqlx::PgPool;

use crate::helpers::TestApp;

#[sqlx::test]
async fn times_show_in_the_users_zone_else_the_browsers_else_utc(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    // A run that started at 06:00 UTC on 2 January: 11:30 in India, 15:00 in Japan.
    sqlx::query(
        "insert into pipeline_runs (day, trigger, status, started_at, finished_at)
         values (date '2026-01-01', 'schedule', 'succeeded', timestamptz '2026-01-02 06:00Z', timestamptz '2026-01-02 06:01Z')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let (analyst, user) = app.login_as(keel::auth::Role::Analyst).await;
    let runs = || async { analyst.get("/pipeline/runs").await.text().await.unwrap() };
    assert!(
        runs().await.contains("2026-01-02 06:00 UTC"),
        "no zone known: UTC"
    );

    analyst.set_cookie("tz=Asia/Tokyo");
    assert!(
        runs().await.contains("2026-01-02 15:00 JST"),
        "the browser's zone"
    );
    let settings = analyst.get("/account/settings").await.text().await.unwrap();
    assert!(
        settings.contains("Your browser&#39;s (Asia/Tokyo)")
            || settings.contains("Your browser's (Asia/Tokyo)"),
        "{settings}"
    );

    // A zone Keel does not know is refused by name, and nothing changes.
    let refused = analyst
        .post_form("/account/settings", &[("time_zone", "Mars/Olympus")])
        .await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Mars/Olympus is not a time zone")
    );
    assert_eq!(app.audit_count("user.settings").await, 0);

    // The user's own choice wins over the browser's, and is audited.
    let saved = analyst
        .post_form("/account/settings", &[("time_zone", "Asia/Kolkata")])
        .await;
    assert_eq!(saved.status(), 200);
    assert!(
        saved.text().await.unwrap().contains(" IST."),
        "the confirmation reads in IST"
    );
    assert!(runs().await.contains("2026-01-02 11:30 IST"));
    assert_eq!(app.audit_count("user.settings").await, 1);
    let stored: Option<String> = sqlx::query_scalar("select time_zone from users where id = $1")
        .bind(user.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some("Asia/Kolkata"));

    // Back to the browser's.
    analyst
        .post_form("/account/settings", &[("time_zone", "")])
        .await;
    assert!(runs().await.contains("2026-01-02 15:00 JST"));
}
