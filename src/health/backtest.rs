//! Back-testing a health configuration against what actually happened: the latest labelled
//! snapshots (features as of a date, and whether the account churned in the 60 days after)
//! are scored with the weights and bands, giving the churn rate per band and the AUC of the
//! health score as a churn predictor. CS leaders do not trust health scores they cannot check.

use std::sync::Arc;

use serde::Serialize;
use sqlx::PgPool;
use time::Date;
use tokio::sync::Mutex;

use super::score::{self, Band, Bands, Signal};
use crate::features::{self, FeatureTable};
use crate::model::metrics;
use crate::model::training::snapshot_dates;

/// How many of the latest matured snapshot dates a back-test scores.
const DATES: usize = 4;

type Snapshots = Arc<Vec<(FeatureTable, Vec<bool>)>>;

/// The labelled snapshots, computed once a day per process (they only change when a new
/// snapshot date matures or history is re-ingested).
#[derive(Default)]
pub struct SnapshotCache(Mutex<Option<(Date, Snapshots)>>);

impl SnapshotCache {
    pub async fn get(&self, pool: &PgPool, today: Date) -> anyhow::Result<Snapshots> {
        let mut cached = self.0.lock().await;
        if let Some((day, snapshots)) = &*cached
            && *day == today
        {
            return Ok(snapshots.clone());
        }
        let first = features::db::first_usage_day(pool)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no product usage yet: nothing to back-test on"))?;
        let dates = snapshot_dates(first, today);
        let latest = &dates[dates.len().saturating_sub(DATES)..];
        let snapshots = Arc::new(features::snapshots(pool, latest, today).await?);
        *cached = Some((today, snapshots.clone()));
        Ok(snapshots)
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BandOutcome {
    pub band: Band,
    pub accounts: usize,
    pub churned: usize,
}

impl BandOutcome {
    pub fn rate(&self) -> Option<f64> {
        (self.accounts > 0).then(|| self.churned as f64 / self.accounts as f64)
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Outcome {
    /// AUC of (100 − health score) as a predictor of churn within 60 days.
    pub auc: Option<f64>,
    pub bands: Vec<BandOutcome>,
    pub rows: usize,
    pub dates: Vec<Date>,
}

/// Scores every snapshot with `signals` and `bands`, each date ranked within its own segments
/// as the daily run would have.
pub fn run(snapshots: &[(FeatureTable, Vec<bool>)], signals: &[Signal], bands: Bands) -> Outcome {
    let mut risk = Vec::new();
    let mut labels = Vec::new();
    let mut per_band = [Band::Red, Band::Yellow, Band::Green].map(|band| BandOutcome {
        band,
        accounts: 0,
        churned: 0,
    });
    for (table, churned) in snapshots {
        let segments = table.segments();
        for (h, &y) in score::score(&table.rows, &segments, signals, bands)
            .iter()
            .zip(churned)
        {
            risk.push(100.0 - h.score);
            labels.push(y);
            if let Some(b) = per_band.iter_mut().find(|b| b.band == h.band) {
                b.accounts += 1;
                b.churned += usize::from(y);
            }
        }
    }
    Outcome {
        auc: metrics::auc_roc(&risk, &labels),
        bands: per_band.to_vec(),
        rows: labels.len(),
        dates: snapshots.iter().map(|(t, _)| t.as_of).collect(),
    }
}
