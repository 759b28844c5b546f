//! Fresh data, fresh scores: an accepted ingestion batch queues the accounts it touched (in
//! its own transaction), and the worker re-scores them within seconds instead of waiting for
//! the daily run. A re-scored account is ranked against the latest day's population (the
//! signal values stored with that day's scores), so its health means the same as everyone
//! else's; its features are as of today, and the new score replaces its score of that day,
//! marked `rescored_at`.

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::db;
use crate::auth::audit::{self, Actor};
use crate::features;
use crate::health::config;
use crate::ingest;
use crate::model::registry::Cache;
use crate::scores::{self, scoring};

/// Accounts re-scored per transaction.
const BATCH: i64 = 2000;

/// Re-scores queued accounts, one batch per transaction: a failure leaves them queued.
/// Returns how many were re-scored.
pub async fn tick(pool: &PgPool, models: &Cache, now: OffsetDateTime) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    let queued = ingest::queue::take_queued(&mut tx, BATCH).await?;
    if queued.is_empty() {
        return Ok(0);
    }
    let last = match scores::db::latest_day(&mut *tx).await? {
        Some(day) => db::succeeded_run(&mut *tx, day)
            .await?
            .map(|run| (day, run)),
        None => None,
    };
    let Some((day, run)) = last else {
        // Nothing has been scored yet: the first daily run will score everyone.
        tx.commit().await?;
        return Ok(0);
    };
    let settings = config::settings(pool).await?;
    let model = models.production(pool).await?;
    let candidates = model
        .as_ref()
        .map(|m| m.1.candidates.clone())
        .unwrap_or_default();
    let table = features::compute_for(pool, now.date(), Some(&queued), &candidates).await?;
    let reference = scoring::stored_reference(pool, day, &settings).await?;
    let by = scores::db::Provenance {
        run,
        model: model.as_ref().map(|m| m.0),
        config: settings.id,
    };
    let rows = tokio::task::spawn_blocking(move || {
        scoring::score_table(&table, &reference, &settings, model.as_ref().map(|m| &m.1))
    })
    .await??;
    let written = scores::db::upsert_scores(&mut tx, day, by, &rows, now).await?;
    // Finding the notes catches the months up, as the propensities need.
    let notes = scores::notes::find(pool, day, Some(&rows.account)).await?;
    scores::notes::write(&mut tx, day, &notes).await?;
    crate::expansion::refresh(&mut tx, (now.date(), day), now, Some(&queued)).await?;
    audit::record(
        &mut *tx,
        &Actor::Worker,
        "scores.rescore",
        Some(format!("day:{day}")),
        json!({"queued": queued.len(), "rescored": written}),
    )
    .await?;
    tx.commit().await?;
    Ok(written)
}
