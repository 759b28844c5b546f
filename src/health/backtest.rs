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
        let (first, last) = features::db::usage_span(pool)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no product usage yet: nothing to back-test on"))?;
        let end = today.min(last);
        let dates = snapshot_dates(first, end);
        let latest = &dates[dates.len().saturating_sub(DATES)..];
        let snapshots = Arc::new(features::snapshots(pool, latest, end, &[]).await?);
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

/// The share of the lowest scores a red band may hold at most, and where green may start.
const RED_UP_TO: usize = 6; // of twenty: the 30th percentile
const GREEN_FROM: usize = 10; // of twenty: the 50th percentile

/// Band cut-offs calibrated on outcomes, so each band means what it says on this company's
/// history: candidates are the scores at every 5th percentile; red ends at the highest
/// candidate up to the 30th percentile below which the 60-day churn rate is at least twice
/// the overall rate (else the 10th percentile); green starts above the lowest candidate from
/// the 50th percentile up above which the churn rate is at most half the overall rate (else
/// the 70th percentile). `None` without snapshots or churn.
pub fn cutoffs(scored: &mut [(f64, bool)]) -> Option<Bands> {
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = scored.len();
    let churned = scored.iter().filter(|s| s.1).count();
    if n < 20 || churned == 0 {
        return None;
    }
    let base = churned as f64 / n as f64;
    // The candidate at k twentieths, and how many scores are at or below it.
    let at = |k: usize| {
        let c = scored[(n * k / 20).saturating_sub(1)].0;
        (c, scored.partition_point(|s| s.0 <= c))
    };
    let rate = |from: usize, to: usize| {
        let part = &scored[from..to];
        (!part.is_empty()).then(|| part.iter().filter(|s| s.1).count() as f64 / part.len() as f64)
    };
    let red = (1..=RED_UP_TO)
        .rev()
        .map(at)
        .find(|&(_, below)| rate(0, below).is_some_and(|r| r >= 2.0 * base))
        .unwrap_or_else(|| at(2))
        .0;
    let green = (GREEN_FROM..20)
        .map(at)
        .find(|&(c, above)| c > red && rate(above, n).is_some_and(|r| r <= base / 2.0))
        .unwrap_or_else(|| at(14))
        .0;
    let round = |x: f64| (x * 10.0).round() / 10.0;
    Some(Bands {
        red_max: round(red),
        yellow_max: round(green.max(red + 0.1)),
    })
}

/// Scores every snapshot with `signals` and calibrates the bands on the outcomes.
pub fn calibrate(snapshots: &[(FeatureTable, Vec<bool>)], signals: &[Signal]) -> Option<Bands> {
    let mut scored = Vec::new();
    for (table, churned) in snapshots {
        let segments = table.segments();
        for (h, &y) in score::score(&table.rows, &segments, signals, Bands::default())
            .iter()
            .zip(churned)
        {
            scored.push((h.score, y));
        }
    }
    cutoffs(&mut scored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_offs_follow_the_outcomes() {
        // Scores 0–99. Churned: 0–7 (eight of the ten lowest), 10–12, 30–31; 13 in all, so
        // the overall rate is 13 %. At or below 29 (the 30th percentile) 11 of 30 churned,
        // 36.7 % ≥ 26 %: red ends at 29. Above 49 (the median) none churned, 0 ≤ 6.5 %:
        // green starts above 49.
        let churned = |i: u32| i < 8 || (10..13).contains(&i) || (30..32).contains(&i);
        let mut scored: Vec<(f64, bool)> =
            (0..100).rev().map(|i| (f64::from(i), churned(i))).collect();
        assert_eq!(
            cutoffs(&mut scored),
            Some(Bands {
                red_max: 29.0,
                yellow_max: 49.0
            })
        );
        // Churn spread evenly: no candidate qualifies, so the fallbacks (10th and 70th
        // percentiles) hold.
        let mut even: Vec<(f64, bool)> = (0..100).map(|i| (f64::from(i), i % 10 == 5)).collect();
        assert_eq!(
            cutoffs(&mut even),
            Some(Bands {
                red_max: 9.0,
                yellow_max: 69.0
            })
        );
        let mut none: Vec<(f64, bool)> = (0..100).map(|i| (f64::from(i), false)).collect();
        assert_eq!(cutoffs(&mut none), None);
    }
}
