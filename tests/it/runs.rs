//! The pipeline runs page: every run, fifty a page, with how long each took.

use sqlx::PgPool;

use crate::helpers::TestApp;

#[sqlx::test]
async fn the_runs_page_pages_back_through_every_run_and_says_how_long_each_took(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    // 55 finished runs, one a day; run n took n × 5 seconds (the last, 275 s = 4 min 35 s).
    sqlx::query(
        "insert into pipeline_runs (day, trigger, status, started_at, finished_at)
         select date '2026-01-01' + n, 'schedule', 'succeeded', timestamptz '2026-01-02 06:00Z' + n * interval '1 day',
                timestamptz '2026-01-02 06:00Z' + n * interval '1 day' + n * interval '5 seconds'
         from generate_series(1, 55) n",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let (analyst, _) = app.login_as(keel::auth::Role::Analyst).await;

    let first = analyst.get("/pipeline/runs").await.text().await.unwrap();
    assert_eq!(
        first.matches("href=\"/pipeline/runs/").count(),
        50,
        "fifty a page"
    );
    assert!(first.contains("4 min 35 s"), "the newest run took 275 s");
    assert!(
        first.contains("<td class=\"nowrap\">30 s</td>"),
        "run 6 took 30 s"
    );
    let older: String = first
        .split("href=\"/pipeline/runs?before=")
        .nth(1)
        .expect("a link to older runs")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();

    let second = analyst
        .get(&format!("/pipeline/runs?before={older}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        second.matches("href=\"/pipeline/runs/").count(),
        5,
        "the five oldest"
    );
    assert!(
        second.contains("<td class=\"nowrap\">5 s</td>"),
        "the first run took 5 s"
    );
    assert!(!second.contains("Older runs"), "nothing older");

    // The models page's list is the latest ten.
    let table = analyst.hx_get("/pipeline/runs").await.text().await.unwrap();
    assert_eq!(table.matches("href=\"/pipeline/runs/").count(), 10);
}
