//! SQL for model monitoring, alerts and the CSMs' feedback on predictions.

use crate::statuses::Verdict;
use serde_json::Value;
use sqlx::PgExecutor;
use time::Date;

/// Stores what run `run` of `day` measured.
pub async fn save_monitoring(
    db: impl PgExecutor<'_>,
    run: i64,
    day: Date,
    monitoring: &Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into model_monitoring (run_id, day, monitoring) values ($1, $2, $3)
         on conflict (run_id) do update set monitoring = excluded.monitoring",
        run,
        day,
        monitoring
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The latest run's monitoring, with its run id and day.
pub async fn latest_monitoring(
    db: impl PgExecutor<'_>,
) -> sqlx::Result<Option<(i64, Date, Value)>> {
    let row = sqlx::query!(
        "select run_id, day, monitoring from model_monitoring order by run_id desc limit 1"
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.run_id, r.day, r.monitoring)))
}

/// CSM feedback on predictions by verdict and reason, with how the accounts turned out where
/// the 60-day outcome is known.
pub struct FeedbackSummary {
    pub verdict: Verdict,
    pub reason: String,
    pub count: i64,
    pub matured: i64,
    pub churned: i64,
}

pub async fn feedback_summary(
    db: impl PgExecutor<'_>,
    today: Date,
) -> sqlx::Result<Vec<FeedbackSummary>> {
    sqlx::query_as!(
        FeedbackSummary,
        r#"select f.verdict as "verdict: Verdict", r.label as reason, count(*) as "count!",
                  count(*) filter (where f.score_day <= $1::date - $2::int) as "matured!",
                  count(*) filter (where f.score_day <= $1::date - $2::int and a.churned_on > f.score_day
                                   and a.churned_on <= f.score_day + $2::int) as "churned!"
           from prediction_feedback f
           join reason_codes r on r.code = f.reason_code
           join accounts a on a.id = f.account_id
           where f.created_at > now() - interval '365 days'
           group by f.verdict, r.label order by count(*) desc limit 50"#,
        today,
        crate::features::HORIZON_DAYS as i32
    )
    .fetch_all(db)
    .await
}
