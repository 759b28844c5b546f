//! SQL for pipeline runs, health configurations and scores.

use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Starts a run; `None` if one for the same day is already running.
pub async fn start_run(
    db: impl PgExecutor<'_>,
    day: Date,
    trigger: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"insert into pipeline_runs (day, trigger, status) values ($1, $2, 'running')
           on conflict (day) where status = 'running' do nothing returning id"#,
        day,
        trigger
    )
    .fetch_optional(db)
    .await
}

pub async fn finish_run(
    db: impl PgExecutor<'_>,
    id: i64,
    status: &str,
    stages: &Value,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update pipeline_runs set status = $2, stages = $3, error = $4, finished_at = now() where id = $1",
        id,
        status,
        stages,
        error
    )
    .execute(db)
    .await?;
    Ok(())
}

pub struct Run {
    pub id: i64,
    pub day: Date,
    pub trigger: String,
    pub status: String,
    pub stages: Value,
    pub error: Option<String>,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

pub async fn recent_runs(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<Run>> {
    sqlx::query_as!(
        Run,
        "select id, day, trigger, status, stages, error, started_at, finished_at from pipeline_runs order by id desc limit $1",
        limit
    )
    .fetch_all(db)
    .await
}

pub async fn find_run(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Run>> {
    sqlx::query_as!(
        Run,
        "select id, day, trigger, status, stages, error, started_at, finished_at from pipeline_runs where id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

/// Accounts scored by the last successful run before `day`.
pub async fn previous_volume(db: impl PgExecutor<'_>, day: Date) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from scores where day = (select max(day) from scores where day < $1)
           having count(*) > 0"#,
        day
    )
    .fetch_optional(db)
    .await
}

/// Newest product event known (from accepted event batches).
pub async fn newest_event(db: impl PgExecutor<'_>) -> sqlx::Result<Option<OffsetDateTime>> {
    sqlx::query_scalar!("select max(newest_record_at) from ingest_batches where entity = 'events' and status = 'accepted'")
        .fetch_one(db)
        .await
}

pub struct HealthConfig {
    pub id: i64,
    pub signals: Value,
    pub red_max: f32,
    pub yellow_max: f32,
}

pub async fn current_health_config(db: impl PgExecutor<'_>) -> sqlx::Result<Option<HealthConfig>> {
    sqlx::query_as!(
        HealthConfig,
        "select id, signals, red_max, yellow_max from health_configs order by id desc limit 1"
    )
    .fetch_optional(db)
    .await
}

pub async fn insert_health_config(
    db: impl PgExecutor<'_>,
    signals: &Value,
    red_max: f32,
    yellow_max: f32,
    by: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into health_configs (signals, red_max, yellow_max, created_by) values ($1, $2, $3, $4) returning id",
        signals,
        red_max,
        yellow_max,
        by
    )
    .fetch_one(db)
    .await
}

pub struct ScoreRows {
    pub account: Vec<Uuid>,
    pub health: Vec<f32>,
    pub band: Vec<String>,
    pub signals: Vec<Value>,
    pub probability: Vec<Option<f32>>,
    pub tier: Vec<Option<String>>,
    pub at_risk: Vec<bool>,
    pub drivers: Vec<Value>,
}

/// Replaces the day's scores with these, in the caller's transaction.
pub async fn replace_scores(
    conn: &mut PgConnection,
    day: Date,
    run: i64,
    model: Option<Uuid>,
    config: i64,
    s: &ScoreRows,
) -> sqlx::Result<u64> {
    sqlx::query!("delete from scores where day = $1", day)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query(
        r#"insert into scores (account_id, day, health_score, band, signals, churn_probability, risk_tier,
                               at_risk, drivers, model_id, health_config_id, run_id)
           select a, $2, h, b, s, p, t, r, d, $3, $4, $5
           from unnest($1::uuid[], $6::real[], $7::text[], $8::jsonb[], $9::real[], $10::text[], $11::bool[], $12::jsonb[])
                as x(a, h, b, s, p, t, r, d)"#,
    )
    .bind(&s.account)
    .bind(day)
    .bind(model)
    .bind(config)
    .bind(run)
    .bind(&s.health)
    .bind(&s.band)
    .bind(&s.signals)
    .bind(&s.probability)
    .bind(&s.tier)
    .bind(&s.at_risk)
    .bind(&s.drivers)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

pub struct LatestScore {
    pub day: Date,
    pub health_score: f32,
    pub band: String,
    pub signals: Value,
    pub churn_probability: Option<f32>,
    pub risk_tier: Option<String>,
    pub at_risk: bool,
    pub drivers: Value,
}

/// The account's most recent score.
pub async fn latest_score(
    db: impl PgExecutor<'_>,
    account: Uuid,
) -> sqlx::Result<Option<LatestScore>> {
    sqlx::query_as!(
        LatestScore,
        "select day, health_score, band, signals, churn_probability, risk_tier, at_risk, drivers
         from scores where account_id = $1 order by day desc limit 1",
        account
    )
    .fetch_optional(db)
    .await
}

/// The latest day with a successful run, and the start of the latest attempt for `day`.
pub async fn last_runs(
    db: impl PgExecutor<'_>,
    day: Date,
) -> sqlx::Result<(Option<Date>, Option<OffsetDateTime>)> {
    let row = sqlx::query!(
        r#"select (select max(day) from pipeline_runs where status = 'succeeded') as last_success,
                  (select max(started_at) from pipeline_runs where day = $1) as last_attempt"#,
        day
    )
    .fetch_one(db)
    .await?;
    Ok((row.last_success, row.last_attempt))
}
