//! SQL for pipeline runs.

use serde_json::Value;
use sqlx::{Connection, PgConnection, PgExecutor, PgPool};
use time::{Date, OffsetDateTime};

use crate::statuses::RunStatus;

/// The right to run one day's pipeline: a session-level advisory lock on a connection of its
/// own. It dies with that connection, so a run whose process is killed frees its day at once,
/// and the next run of that day finds the orphaned row and marks it abandoned.
pub struct Lease {
    conn: PgConnection,
    key: i64,
}

impl Lease {
    /// Gives the day back: unlocked when this returns, then the connection is closed.
    pub async fn release(mut self) -> sqlx::Result<()> {
        sqlx::query_scalar!("select pg_advisory_unlock($1)", self.key)
            .fetch_one(&mut self.conn)
            .await?;
        self.conn.close().await
    }
}

/// The advisory-lock key of `day`'s run ("keel" in the high bits, the day below).
fn lock_key(day: Date) -> i64 {
    (0x6b65_656c_i64 << 32) | i64::from(day.to_julian_day())
}

const ABANDONED: &str = "abandoned: the process running it stopped before it finished";

/// Takes `day`'s lock on a connection of its own, then marks failed the runs of that day
/// still shown as running (their process has died, or it would hold the lock); `None` if a
/// live process holds the day.
async fn claim(pool: &PgPool, day: Date) -> sqlx::Result<Option<(Lease, u64)>> {
    let key = lock_key(day);
    let mut conn = pool.acquire().await?.detach();
    let held = sqlx::query_scalar!("select pg_try_advisory_lock($1) as \"held!\"", key)
        .fetch_one(&mut conn)
        .await?;
    if !held {
        conn.close().await?;
        return Ok(None);
    }
    let abandoned = sqlx::query!(
        "update pipeline_runs set status = 'failed', error = $2, finished_at = now()
         where day = $1 and status = 'running'",
        day,
        ABANDONED
    )
    .execute(&mut conn)
    .await?
    .rows_affected();
    Ok(Some((Lease { conn, key }, abandoned)))
}

/// Starts a run of `day`, with its lease; `None` if a live process is running that day.
pub async fn start_run(
    pool: &PgPool,
    day: Date,
    trigger: &str,
) -> sqlx::Result<Option<(i64, Lease)>> {
    let Some((mut lease, _)) = claim(pool, day).await? else {
        return Ok(None);
    };
    let id = sqlx::query_scalar!(
        "insert into pipeline_runs (day, trigger, status) values ($1, $2, 'running') returning id",
        day,
        trigger
    )
    .fetch_one(&mut lease.conn)
    .await?;
    Ok(Some((id, lease)))
}

/// Marks failed every run still shown as running whose process has died, so pages stop
/// showing it as running. Returns how many.
pub async fn recover_abandoned(pool: &PgPool) -> sqlx::Result<u64> {
    let days =
        sqlx::query_scalar!("select distinct day from pipeline_runs where status = 'running'")
            .fetch_all(pool)
            .await?;
    let mut recovered = 0;
    for day in days {
        if let Some((lease, abandoned)) = claim(pool, day).await? {
            recovered += abandoned;
            lease.release().await?;
        }
    }
    Ok(recovered)
}

pub async fn finish_run(
    db: impl PgExecutor<'_>,
    id: i64,
    status: RunStatus,
    stages: &Value,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update pipeline_runs set status = $2, stages = $3, error = $4, finished_at = now() where id = $1",
        id,
        status as RunStatus,
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
    pub status: RunStatus,
    pub stages: Value,
    pub error: Option<String>,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

/// The newest `limit` runs, or the newest older than run `before`.
pub async fn recent_runs(
    db: impl PgExecutor<'_>,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<Run>> {
    sqlx::query_as!(
        Run,
        r#"select id, day, trigger, status as "status: RunStatus", stages, error, started_at, finished_at
           from pipeline_runs where $2::bigint is null or id < $2 order by id desc limit $1"#,
        limit,
        before
    )
    .fetch_all(db)
    .await
}

pub async fn find_run(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Run>> {
    sqlx::query_as!(
        Run,
        r#"select id, day, trigger, status as "status: RunStatus", stages, error, started_at, finished_at
           from pipeline_runs where id = $1"#,
        id
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
