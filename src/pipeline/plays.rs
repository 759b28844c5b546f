//! Step 5 of the daily run: experiments assign the accounts that qualify and open their
//! variants' plays, then the enabled playbooks open theirs, in one transaction.

use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime};

use super::Log;

/// Plays opened in one run past which their tables' statistics are refreshed at once.
const BIG_OPENING: usize = 1_000;

/// Opens the day's plays and logs what each step opened.
pub(super) async fn open_and_log(pool: &PgPool, day: Date, log: &mut Log) -> anyhow::Result<()> {
    // Experiments assign the accounts that qualify today and open their variants' plays;
    // then the enabled playbooks open plays on the accounts they match that no experiment
    // holds.
    let mut tx = pool.begin().await?;
    // A past day's plays open as of that day's end, so re-running history keeps its timing.
    let day_end = (day + Duration::days(1)).midnight().assume_utc();
    let opened_at = OffsetDateTime::now_utc().min(day_end);
    let (assigned, opened) = open_plays(pool, &mut tx, day, opened_at).await?;
    tx.commit().await?;
    if opened.plays + assigned.plays.plays >= BIG_OPENING {
        // Plans made while the plays were few (a table of a few pages is read whole, not by
        // its key) would otherwise stay in use until autovacuum next looks: the next run's
        // tasks each scanned every play for their foreign key, 13 s for 13,000 tasks.
        sqlx::query("analyze plays, tasks").execute(pool).await?;
    }
    log.stage(
        "experiments",
        "ok",
        format!(
            "{} assigned, {} opened ({})",
            crate::web::format::count(assigned.accounts as i64, "account", "accounts"),
            crate::web::format::count(assigned.plays.plays as i64, "variant play", "variant plays"),
            named_counts(&assigned.by_experiment)
        ),
    );
    log.stage(
        "open plays",
        "ok",
        format!(
            "{} plays, {} tasks and {} customer emails opened ({})",
            opened.plays,
            opened.tasks,
            opened.emails,
            named_counts(&opened.by_playbook)
        ),
    );
    Ok(())
}

/// The day's assignments to experiments, then the default playbooks' plays on the accounts
/// no experiment holds, in the caller's transaction.
pub async fn open_plays(
    pool: &PgPool,
    conn: &mut sqlx::PgConnection,
    day: Date,
    now: OffsetDateTime,
) -> anyhow::Result<(
    crate::experiments::assign::Assigned,
    crate::playbooks::Opened,
)> {
    // Both read the same candidates and playbooks, loaded once.
    let candidates = crate::playbooks::db::candidates(&mut *conn, day).await?;
    let playbooks = crate::playbooks::parsed(pool).await?;
    let (assigned, aside) =
        crate::experiments::assign::assign(conn, day, &candidates, &playbooks, now).await?;
    let opened =
        crate::playbooks::open_plays(conn, day, &candidates, &playbooks, now, &aside).await?;
    Ok((assigned, opened))
}

/// "name: n" for each non-zero count.
fn named_counts(counts: &[(String, usize)]) -> String {
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{name}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
