//! The scoring configuration in force: one version of signal weights, health bands and the
//! churn-probability thresholds (risk tiers, at-risk flag). Versioned in `health_configs`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgPool;

use super::db;
use super::score::{Bands, DEFAULT_SIGNALS, Signal};

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

/// A stored `real` as the decimal it was typed as (0.8, not 0.800000011920929).
fn widen(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}

impl Settings {
    pub fn from_row(c: db::HealthConfig) -> Settings {
        Settings {
            id: c.id,
            signals: signals_from(&c.signals),
            bands: Bands {
                red_max: widen(c.red_max),
                yellow_max: widen(c.yellow_max),
            },
            thresholds: Thresholds {
                high: widen(c.high_risk),
                medium: widen(c.medium_risk),
                at_risk: widen(c.at_risk),
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

/// Calibrates the bands in force on the latest labelled snapshots and saves them as a new
/// version (same weights and thresholds), with its audit row. `None` when history has no
/// churn to calibrate on.
pub async fn calibrate_bands(
    pool: &PgPool,
    today: time::Date,
    actor: &crate::auth::audit::Actor,
) -> anyhow::Result<Option<Bands>> {
    let current = settings(pool).await?;
    let snapshots = super::backtest::SnapshotCache::default()
        .get(pool, today)
        .await?;
    let signals = current.signals.clone();
    let Some(bands) =
        tokio::task::spawn_blocking(move || super::backtest::calibrate(&snapshots, &signals))
            .await?
    else {
        return Ok(None);
    };
    let config = db::NewHealthConfig {
        signals: serde_json::to_value(&current.signals)?,
        bands,
        thresholds: current.thresholds,
        note: "bands calibrated on history",
    };
    let mut tx = pool.begin().await?;
    let id = db::insert_health_config(&mut *tx, &config, &actor.label()).await?;
    crate::auth::audit::record(
        &mut *tx,
        actor,
        "scoring.calibrate",
        Some(format!("health_config:{id}")),
        serde_json::json!({"bands": [bands.red_max, bands.yellow_max]}),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(bands))
}

#[cfg(test)]
mod tests {
    #[test]
    fn stored_thresholds_read_back_as_typed() {
        assert_eq!(super::widen(0.8), 0.8);
        assert_eq!(super::widen(0.65), 0.65);
        assert_eq!(super::widen(46.3), 46.3);
    }
}
