//! Scoring accounts from their features: health against a reference population, churn
//! probability with its drivers, tier and at-risk flag. Shared by the daily run and by the
//! re-score that follows an ingestion batch, so both give an account the same score.

use std::sync::Arc;

use serde_json::Value;
use sqlx::PgPool;

use super::db::{self, ScoreRows};
use crate::features::FeatureTable;
use crate::health::config::Settings;
use crate::health::score::{self as health, Reference};
use crate::model::drivers;
use crate::model::train::Model;

/// Scores every account of `table` against `reference` (CPU-bound: call it off the async
/// runtime for large tables).
pub fn score_table(
    table: &FeatureTable,
    reference: &Reference,
    settings: &Settings,
    model: Option<&Arc<Model>>,
) -> anyhow::Result<ScoreRows> {
    let segments = table.segments();
    let x = table.x();
    let (probabilities, contributions) = match model {
        Some(m) => (m.predict(&x), m.contributions(&x)),
        None => (Vec::new(), Vec::new()),
    };
    let mut rows = ScoreRows {
        account: table.accounts.clone(),
        ..ScoreRows::default()
    };
    for (i, row) in table.rows.iter().enumerate() {
        let h = health::score_one(
            row,
            segments[i],
            &settings.signals,
            settings.bands,
            reference,
        );
        let p = probabilities.get(i).copied();
        rows.segment.push(segments[i].to_owned());
        rows.health.push(h.score as f32);
        rows.band.push(h.band.as_str().to_owned());
        rows.signals.push(serde_json::to_value(&h.signals)?);
        rows.probability.push(p.map(|p| p as f32));
        rows.tier
            .push(p.map(|p| settings.thresholds.tier(p).to_owned()));
        rows.at_risk
            .push(p.is_some_and(|p| p >= settings.thresholds.at_risk));
        let d = contributions
            .get(i)
            .map(|(c, _)| drivers::top(&table.candidates, &x[i], c, 3))
            .unwrap_or_default();
        rows.drivers.push(serde_json::to_value(d)?);
    }
    Ok(rows)
}

/// Scores a whole day's population against itself.
pub async fn score_population(
    table: Arc<FeatureTable>,
    settings: Settings,
    model: Option<Arc<Model>>,
) -> anyhow::Result<ScoreRows> {
    tokio::task::spawn_blocking(move || {
        let segments = table.segments();
        let reference = Reference::from_rows(&table.rows, &segments, &settings.signals);
        score_table(&table, &reference, &settings, model.as_ref())
    })
    .await?
}

/// The population of the latest scored day, rebuilt from the signal values stored with its
/// scores, for ranking re-scored accounts against it.
pub async fn stored_reference(
    pool: &PgPool,
    day: time::Date,
    settings: &Settings,
) -> anyhow::Result<Reference> {
    let stored = db::day_signals(pool, day).await?;
    let names: Vec<&str> = settings.signals.iter().map(|s| s.feature).collect();
    let rows: Vec<(String, Vec<Option<f64>>)> = stored
        .into_iter()
        .map(|(segment, signals)| {
            let values = names
                .iter()
                .map(|name| {
                    signals.as_array().and_then(|items| {
                        items
                            .iter()
                            .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
                            .and_then(|s| s.get("value"))
                            .and_then(Value::as_f64)
                    })
                })
                .collect();
            (segment, values)
        })
        .collect();
    Ok(Reference::build(
        rows.iter().map(|(s, v)| (s.as_str(), v.clone())),
        names.len(),
    ))
}
