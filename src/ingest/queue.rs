//! The re-score queue: accounts whose data changed since their last score. Ingestion adds
//! them; the worker's re-score takes them; the daily run clears those it covered.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

/// Queues accounts (by external id) for re-scoring, in id order (as every batch does, so
/// batches at the same time wait for each other, never deadlock).
pub async fn queue_rescore(db: impl PgExecutor<'_>, external: &[String]) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into rescore_queue (account_id) select id from accounts where external_id = any($1)
         order by id on conflict (account_id) do nothing",
        external
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Takes up to `limit` queued accounts, oldest first; other workers skip them meanwhile.
pub async fn take_queued(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "delete from rescore_queue where account_id in
             (select account_id from rescore_queue order by queued_at limit $1 for update skip locked)
         returning account_id",
        limit
    )
    .fetch_all(conn)
    .await
}

/// Drops queued accounts the day's run has just scored from data at least as new.
pub async fn clear_queue(db: impl PgExecutor<'_>, before: OffsetDateTime) -> sqlx::Result<u64> {
    let done = sqlx::query!("delete from rescore_queue where queued_at < $1", before)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
