//! SQL for pipeline runs.

use serde_json::Value;
use sqlx::PgExecutor;
use time::{Date, OffsetDateTime};

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

/// The latest successful run for `day`.
pub async fn succeeded_run(db: impl PgExecutor<'_>, day: Date) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "select max(id) from pipeline_runs where day = $1 and status = 'succeeded'",
        day
    )
    .fetch_one(db)
    .await
}
