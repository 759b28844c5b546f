//! A run of history (the demo's weekly back-fill) leaves the newest day's read models to
//! the run of that day: its log says so, and it writes none of them.

use keel::auth::audit::Actor;
use keel::pipeline::{self, Options};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test]
async fn a_run_of_history_leaves_propensities_and_revenue_facts_to_the_newest_days_run(
    pool: PgPool,
) {
    crate::pipeline::company(&pool).await;
    let today = OffsetDateTime::now_utc().date();
    let history = Options {
        history: true,
        ..Options::default()
    };
    let past = pipeline::run(
        &pool,
        today - Duration::days(1),
        "test",
        &Actor::Cli,
        &history,
    )
    .await
    .unwrap();
    assert!(past.succeeded, "{:?}", past.stages);
    assert_eq!(past.scored, 3, "history is still scored");
    for name in ["expansion propensity", "revenue facts"] {
        let stage = past.stages.iter().find(|s| s.name == name).unwrap();
        assert_eq!(
            (stage.status, stage.detail.as_str()),
            (
                "ok",
                "left to the newest day's run: this run back-fills history"
            )
        );
    }
    assert_eq!(
        count(&pool, "select count(*) from expansion_scores").await,
        0
    );
    assert_eq!(
        count(&pool, "select count(*) from revenue_refreshes").await,
        0
    );

    let newest = pipeline::run(&pool, today, "test", &Actor::Cli, &Options::default())
        .await
        .unwrap();
    assert!(newest.succeeded, "{:?}", newest.stages);
    let scored: i64 = sqlx::query_scalar("select count(*) from expansion_scores where day = $1")
        .bind(today)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(scored, 3, "the three paying accounts");
    assert_eq!(
        count(&pool, "select count(*) from revenue_refreshes").await,
        1
    );
}
