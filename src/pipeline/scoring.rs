//! Scoring accounts from their features: health against a reference population, churn
//! probability with its drivers, tier and at-risk flag. Shared by the daily run and by the
//! re-score that follows an ingestion batch, so both give an account the same score.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgPool;

use super::db::{self, ScoreRows};
use crate::features::{FEATURES, FeatureTable};
use crate::health::score::{self as health, Bands, DEFAULT_SIGNALS, Reference, Signal};
use crate::model::drivers;
use crate::model::train::Model;

/// Risk tiers and the at-risk flag on the churn probability; editable with the weights.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub high: f64,
    pub medium: f64,
    pub at_risk: f64,
}

impl Default for Thresholds {
    /// The spec's defaults: high ≥ 0.80, medium 0.50–0.79, at-risk ≥ 0.65.
    fn default() -> Self {
        Thresholds {
            high: 0.80,
            medium: 0.50,
            at_risk: 0.65,
        }
    }
}

impl Thresholds {
    pub fn tier(&self, p: f64) -> &'static str {
        if p >= self.high {
            "high"
        } else if p >= self.medium {
            "medium"
        } else {
            "low"
        }
    }
}

/// The scoring configuration in force: one version of weights, bands and thresholds.
#[derive(Clone, Debug)]
pub struct Settings {
    pub id: i64,
    pub signals: Vec<Signal>,
    pub bands: Bands,
    pub thresholds: Thresholds,
}

impl Settings {
    pub fn from_row(c: db::HealthConfig) -> Settings {
        Settings {
            id: c.id,
            signals: signals_from(&c.signals),
            bands: Bands {
                red_max: f64::from(c.red_max),
                yellow_max: f64::from(c.yellow_max),
            },
            thresholds: Thresholds {
                high: f64::from(c.high_risk),
                medium: f64::from(c.medium_risk),
                at_risk: f64::from(c.at_risk),
            },
        }
    }
}

/// The configuration in force, creating the defaults on first use.
pub async fn settings(pool: &PgPool) -> anyhow::Result<Settings> {
    if let Some(c) = db::current_health_config(pool).await? {
        return Ok(Settings::from_row(c));
    }
    let defaults = db::NewHealthConfig {
        signals: serde_json::to_value(DEFAULT_SIGNALS.to_vec())?,
        bands: Bands::default(),
        thresholds: Thresholds::default(),
        note: "defaults",
    };
    db::insert_health_config(pool, &defaults, "default").await?;
    let c = db::current_health_config(pool)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the default scoring configuration was not stored"))?;
    Ok(Settings::from_row(c))
}

/// Stored configurations name features; keep only those Keel computes.
pub fn signals_from(value: &Value) -> Vec<Signal> {
    let Some(items) = value.as_array() else {
        return DEFAULT_SIGNALS.to_vec();
    };
    let parsed: Vec<Signal> = items
        .iter()
        .filter_map(|item| {
            let name = item.get("feature")?.as_str()?;
            let template = DEFAULT_SIGNALS.iter().find(|s| s.feature == name)?;
            Some(Signal {
                weight: item.get("weight")?.as_f64()?,
                ..template.clone()
            })
        })
        .collect();
    if parsed.is_empty() {
        DEFAULT_SIGNALS.to_vec()
    } else {
        parsed
    }
}

/// Segment from the MRR as of the day, for normalising within segment. Keep in step with the
/// `accounts.segment` generated column.
pub fn segment_of(mrr_dollars: f64) -> &'static str {
    if mrr_dollars >= 5000.0 {
        "enterprise"
    } else if mrr_dollars >= 1000.0 {
        "mid_market"
    } else if mrr_dollars >= 200.0 {
        "smb"
    } else {
        "self_serve"
    }
}

pub fn segments(table: &FeatureTable) -> Vec<&'static str> {
    let mrr = FEATURES.iter().position(|f| *f == "mrr").unwrap_or(0);
    table.rows.iter().map(|r| segment_of(r[mrr])).collect()
}

/// Scores every account of `table` against `reference` (CPU-bound: call it off the async
/// runtime for large tables).
pub fn score_table(
    table: &FeatureTable,
    reference: &Reference,
    settings: &Settings,
    model: Option<&Arc<Model>>,
) -> anyhow::Result<ScoreRows> {
    let segments = segments(table);
    let x: Vec<Vec<f64>> = table.rows.iter().map(|r| r.to_vec()).collect();
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
            .map(|(c, _)| drivers::top(&x[i], c, 3))
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
        let segments = segments(&table);
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
