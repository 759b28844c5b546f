//! The background worker: sends the outbox, re-scores accounts after ingestion, escalates
//! late tasks, and runs the daily pipeline at its scheduled time. Any number of
//! workers may run; the database lets only one run a given day at a time.

mod banner;
pub mod heartbeat;

use std::time::Duration as StdDuration;

use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime, Time};

use crate::auth::Role;
use crate::auth::access::{Access, Route};
use crate::auth::audit::Actor;
use crate::mail::Mailer;
use crate::model::registry::Cache;
use crate::pipeline::{self, Options, rescore};

/// A failed day is retried after this long, not on every tick.
const RETRY_AFTER: Duration = Duration::hours(1);
const RESCORE_EVERY: StdDuration = StdDuration::from_secs(5);
const SCHEDULE_EVERY: StdDuration = StdDuration::from_secs(60);

pub fn routes() -> Vec<Route> {
    vec![Route::get(
        "/worker/banner",
        Access::Roles(&[Role::Admin, Role::Analyst]),
        banner::banner,
    )]
}

/// The day to run now, if any: it is past the scheduled time, the day has no successful run,
/// and its last attempt (if any) is older than the retry interval.
pub fn due(
    now: OffsetDateTime,
    at: Time,
    last_success: Option<Date>,
    last_attempt: Option<OffsetDateTime>,
) -> Option<Date> {
    let today = now.date();
    let scheduled = today.with_time(at).assume_utc();
    let done = last_success.is_some_and(|d| d >= today);
    let recently_tried = last_attempt.is_some_and(|t| t >= scheduled && now - t < RETRY_AFTER);
    (now >= scheduled && !done && !recently_tried).then_some(today)
}

/// One scheduler tick: runs today's pipeline if it is due.
pub async fn tick(
    pool: &PgPool,
    now: OffsetDateTime,
    at: Time,
) -> anyhow::Result<Option<pipeline::Outcome>> {
    let (last_success, last_attempt) = pipeline::db::last_runs(pool, now.date()).await?;
    let Some(day) = due(now, at, last_success, last_attempt) else {
        return Ok(None);
    };
    match pipeline::run(pool, day, "schedule", &Actor::Worker, &Options::default()).await {
        Ok(outcome) => Ok(Some(outcome)),
        // Another live worker got there first.
        Err(e) if e.is::<pipeline::AlreadyRunning>() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Re-scores queued accounts every few seconds; every minute escalates late tasks and checks
/// the schedule; until `stop` completes (SIGTERM or Ctrl-C). A daily run still going then is
/// abandoned: its lease dies with its connection, its scores were never committed, and the
/// next start of that day (by any worker) records it as abandoned and runs the day again.
pub async fn run_forever(
    pool: PgPool,
    at: Time,
    retention: time::Duration,
    mailer: Option<Mailer>,
    stop: impl std::future::Future<Output = ()>,
) {
    tracing::info!(%at, "worker started: the daily pipeline runs at this time (UTC)");
    match pipeline::db::recover_abandoned(&pool).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            runs = n,
            "pipeline runs left running by a stopped process marked abandoned"
        ),
        Err(e) => tracing::error!(error = %e, "checking for abandoned pipeline runs failed"),
    }
    if mailer.is_none() {
        tracing::warn!("no SMTP server (KEEL_SMTP): emails wait in the outbox, readable by admins");
    }
    let models = Cache::default();
    let (name, started_at) = (heartbeat::worker_name(), OffsetDateTime::now_utc());
    let mut ticks = tokio::time::interval(RESCORE_EVERY);
    let mut last_schedule_check: Option<std::time::Instant> = None;
    let mut daily: Option<tokio::task::JoinHandle<()>> = None;
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = &mut stop => break,
        }
        if let Some(m) = &mailer {
            match crate::mail::send_due(&pool, m, OffsetDateTime::now_utc()).await {
                Ok(s) if s.sent + s.retrying + s.failed > 0 => {
                    tracing::info!(
                        sent = s.sent,
                        retrying = s.retrying,
                        failed = s.failed,
                        "outbox sent"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %format!("{e:#}"), "sending the outbox failed"),
            }
        }
        match rescore::tick(&pool, &models, OffsetDateTime::now_utc()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(accounts = n, "re-scored after ingestion"),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "re-scoring failed; the accounts stay queued")
            }
        }
        if last_schedule_check.is_some_and(|t| t.elapsed() < SCHEDULE_EVERY) {
            continue;
        }
        last_schedule_check = Some(std::time::Instant::now());
        if let Err(e) = heartbeat::beat(
            &pool,
            &name,
            started_at,
            OffsetDateTime::now_utc(),
            mailer.is_some(),
        )
        .await
        {
            tracing::error!(error = %e, "recording the worker's heartbeat failed");
        }
        match crate::ingest::retention::prune(&pool, OffsetDateTime::now_utc(), retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                user_days = n,
                "per-user roll-ups past the retention window deleted"
            ),
            Err(e) => tracing::error!(error = %e, "retention pruning failed"),
        }
        match crate::ingest::clean_up(&pool, OffsetDateTime::now_utc()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(uploads = n, "unconfirmed uploads older than a day dropped"),
            Err(e) => tracing::error!(error = %e, "dropping stale uploads failed"),
        }
        match crate::worklist::digest::sweep(&pool, OffsetDateTime::now_utc()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(digests = n, "daily digests queued"),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "queuing the daily digests failed")
            }
        }
        match crate::playbooks::sweep(&pool, OffsetDateTime::now_utc()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(escalations = n, "late tasks escalated"),
            Err(e) => tracing::error!(error = %format!("{e:#}"), "escalation sweep failed"),
        }
        match crate::opportunities::escalate::sweep(&pool, OffsetDateTime::now_utc()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                hand_offs = n,
                "hand-offs past their acceptance SLA escalated"
            ),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "hand-off escalation sweep failed")
            }
        }
        // The daily run takes a while: it runs beside the loop, so re-scoring and email go on.
        if daily
            .as_ref()
            .is_none_or(tokio::task::JoinHandle::is_finished)
        {
            let pool = pool.clone();
            daily = Some(tokio::spawn(async move {
                match tick(&pool, OffsetDateTime::now_utc(), at).await {
                    Ok(Some(o)) => tracing::info!(
                        run = o.run_id,
                        succeeded = o.succeeded,
                        scored = o.scored,
                        "scheduled pipeline run finished"
                    ),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "scheduled pipeline run failed to start")
                    }
                }
            }));
        }
    }
    if let Some(run) = daily.filter(|d| !d.is_finished()) {
        run.abort();
        let _ = run.await;
        tracing::warn!(
            "worker stopping: the daily run in progress is abandoned; the next worker runs the day again"
        );
    }
    tracing::info!("worker stopped");
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, time};

    const AT: Time = time!(06:00);

    #[test]
    fn runs_once_a_day_after_the_scheduled_time() {
        let before = datetime!(2026-11-23 05:59 UTC);
        let after = datetime!(2026-11-23 06:00 UTC);
        let yesterday = Some(time::macros::date!(2026 - 11 - 22));
        assert_eq!(due(before, AT, yesterday, None), None);
        assert_eq!(due(after, AT, yesterday, None), Some(after.date()));
        assert_eq!(
            due(after, AT, Some(after.date()), Some(after)),
            None,
            "already done today"
        );
    }

    #[test]
    fn a_failed_day_is_retried_hourly_not_every_minute() {
        let failed_at = datetime!(2026-11-23 06:00 UTC);
        let yesterday = Some(time::macros::date!(2026 - 11 - 22));
        assert_eq!(
            due(
                datetime!(2026-11-23 06:30 UTC),
                AT,
                yesterday,
                Some(failed_at)
            ),
            None
        );
        assert_eq!(
            due(
                datetime!(2026-11-23 07:01 UTC),
                AT,
                yesterday,
                Some(failed_at)
            ),
            Some(failed_at.date())
        );
        // An on-demand run before the scheduled time does not count as today's attempt.
        assert_eq!(
            due(
                datetime!(2026-11-23 06:01 UTC),
                AT,
                yesterday,
                Some(datetime!(2026-11-23 05:00 UTC))
            ),
            Some(failed_at.date())
        );
    }
}
