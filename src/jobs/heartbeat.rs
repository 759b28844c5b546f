//! The worker's heartbeat: each worker records once a minute that it is alive and whether it
//! has a mail server, and what admins should be told about it (`banner` shows it)
//! when no worker has been seen lately, or none can send the email that is waiting.

use sqlx::{FromRow, PgExecutor};
use time::{Duration, OffsetDateTime};

/// A worker not seen for this long is taken to be gone (it beats every minute).
pub const GONE_AFTER: Duration = Duration::minutes(3);

/// This process's worker name: host and process id.
pub fn worker_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".to_owned());
    format!("{host}:{}", std::process::id())
}

/// Records that `worker` is alive now.
pub async fn beat(
    db: impl PgExecutor<'_>,
    worker: &str,
    started_at: OffsetDateTime,
    now: OffsetDateTime,
    mail: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into worker_heartbeats (worker, seen_at, started_at, mail) values ($1, $2, $3, $4)
         on conflict (worker) do update set seen_at = excluded.seen_at, mail = excluded.mail",
    )
    .bind(worker)
    .bind(now)
    .bind(started_at)
    .bind(mail)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct Seen {
    last: Option<OffsetDateTime>,
    /// Whether any worker seen lately can send email.
    mail: bool,
    waiting: i64,
}

/// What admins should know about the workers, in a sentence (none when all is well).
pub async fn warning(db: impl PgExecutor<'_>, now: OffsetDateTime) -> sqlx::Result<Option<String>> {
    let seen: Seen = sqlx::query_as(
        "select (select max(seen_at) from worker_heartbeats) as last,
                coalesce((select bool_or(mail) from worker_heartbeats where seen_at > $1), false) as mail,
                (select count(*) from outbox where status = 'pending') as waiting",
    )
    .bind(now - GONE_AFTER)
    .fetch_one(db)
    .await?;
    let gone = "so the daily run, outgoing email and re-scoring after uploads are not \
                happening. Start one with keel worker (or keel serve --worker).";
    Ok(match seen.last {
        None => Some(format!("No worker has run yet, {gone}")),
        Some(t) if now - t > GONE_AFTER => Some(format!(
            "No worker has been seen for {} minutes, {gone}",
            (now - t).whole_minutes()
        )),
        Some(_) if !seen.mail && seen.waiting > 0 => Some(format!(
            "The worker has no mail server (KEEL_SMTP), so {} {} in the outbox.",
            seen.waiting,
            if seen.waiting == 1 {
                "email waits"
            } else {
                "emails wait"
            }
        )),
        Some(_) => None,
    })
}
