//! SQL of the sender: claiming due emails under a lease and recording each one's fate, each
//! statement its own transaction so no connection waits on an SMTP conversation.

use sqlx::PgPool;
use time::OffsetDateTime;

use super::{Email, backoff};

/// Claims up to `n` due emails, oldest first, skipping any another sender is claiming; they
/// are not due again until `until`.
pub(super) async fn claim(
    pool: &PgPool,
    now: OffsetDateTime,
    until: OffsetDateTime,
    n: u64,
) -> sqlx::Result<Vec<Email>> {
    sqlx::query_as!(
        Email,
        "update outbox o set next_attempt_at = $2
         from (select id from outbox where status = 'pending' and next_attempt_at <= $1
               order by next_attempt_at limit $3 for update skip locked) due
         where o.id = due.id
         returning o.id, o.recipient, o.subject, o.body, o.html, o.attempts",
        now,
        until,
        n as i64
    )
    .fetch_all(pool)
    .await
}

/// Gives claimed emails back, due at `now`.
pub(super) async fn release(pool: &PgPool, ids: &[i64], now: OffsetDateTime) -> sqlx::Result<()> {
    sqlx::query!(
        "update outbox set next_attempt_at = $2 where id = any($1) and status = 'pending'",
        ids,
        now
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn mark_sent(pool: &PgPool, id: i64, now: OffsetDateTime) -> sqlx::Result<()> {
    sqlx::query!(
        "update outbox set status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = null where id = $1",
        id,
        now
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Failed for now: tried again after the backoff for its `attempts` so far.
pub(super) async fn mark_retry(
    pool: &PgPool,
    id: i64,
    attempts: i32,
    now: OffsetDateTime,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update outbox set attempts = attempts + 1, next_attempt_at = $2, last_error = $3 where id = $1",
        id,
        now + backoff(attempts),
        error
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn mark_failed(pool: &PgPool, id: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update outbox set status = 'failed', attempts = attempts + 1, last_error = $2 where id = $1",
        id,
        error
    )
    .execute(pool)
    .await?;
    Ok(())
}
