//! The quality gate before scoring: event freshness and account volume (critical: a failure
//! aborts the run and leaves the previous scores), completeness of key columns (a warning).

use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime};

use super::{Log, Options};
use crate::features::{FEATURES, FeatureTable};
use crate::ingest;
use crate::scores;

/// Judges the day's feature table; a failed check is a failed stage in `log`.
pub(super) async fn check(
    pool: &PgPool,
    day: Date,
    table: &FeatureTable,
    options: &Options,
    log: &mut Log,
) -> anyhow::Result<()> {
    // A past day is judged as of its own end, so history can be re-run.
    let day_end = (day + Duration::days(1)).midnight().assume_utc();
    let backfill = day_end < OffsetDateTime::now_utc();
    let now = OffsetDateTime::now_utc().min(day_end);
    let judged = if backfill {
        format!("back-fill, judged as of the end of {day}: ")
    } else {
        String::new()
    };
    match ingest::db::newest_event(pool).await? {
        Some(t) if now - t <= options.max_event_age => log.stage(
            "freshness",
            "ok",
            format!(
                "{judged}newest event {} min old",
                (now - t).whole_minutes().max(0)
            ),
        ),
        Some(t) => log.stage(
            "freshness",
            "failed",
            format!(
                "{judged}newest event is {} h old (limit {} h): ingestion looks stalled",
                (now - t).whole_hours(),
                options.max_event_age.whole_hours()
            ),
        ),
        None => log.stage("freshness", "failed", "no product events ingested yet"),
    }
    let key_columns = [
        "avg_dau_30d",
        "seat_utilization",
        "features_adopted",
        "days_since_last_login",
        "mrr",
    ];
    let rows = table.rows.len().max(1) as f64;
    let worst = key_columns
        .iter()
        .filter_map(|c| {
            FEATURES.iter().position(|f| f == c).map(|i| {
                (
                    c,
                    table.rows.iter().filter(|r| !r[i].is_finite()).count() as f64 / rows,
                )
            })
        })
        .max_by(|a, b| a.1.total_cmp(&b.1));
    match worst {
        Some((c, share)) if share > 0.05 => log.stage(
            "completeness",
            "warning",
            format!("{c}: {:.1} % missing (limit 5 %)", share * 100.0),
        ),
        _ => log.stage("completeness", "ok", "key columns ≤ 5 % missing"),
    }
    let volume = table.accounts.len() as i64;
    match scores::db::previous_volume(pool, day).await? {
        _ if volume == 0 => log.stage("volume", "failed", "no accounts to score"),
        Some(prev) if (volume as f64) < prev as f64 * 0.8 => log.stage(
            "volume",
            "failed",
            format!("{volume} accounts against {prev} last run: a drop over 20 % suggests an ingestion failure"),
        ),
        Some(prev) => log.stage("volume", "ok", format!("{volume} accounts (last run {prev})")),
        None => log.stage("volume", "ok", format!("{volume} accounts (first run)")),
    }
    Ok(())
}
