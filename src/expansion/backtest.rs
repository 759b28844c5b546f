//! Back-testing the propensity on the company's own history: on past days whose next 90
//! days are known, rank every account by propensity and count how many of the top 10 and
//! top 100 expanded (billed MRR up) in those 90 days — precision@10, precision@100 and lift
//! over picking at random — for the rubric's weights and for weights learned from past
//! expansions, side by side. Learned weights are walked forward: each day is scored with
//! weights fitted on the days before it only.

use std::sync::Arc;

use sqlx::PgPool;
use time::{Date, Duration};
use tokio::sync::Mutex;

use super::propensity::{self, Weights};
use crate::model::logistic::irls;

/// Days ahead a back-test looks for an expansion.
pub const HORIZON: i64 = 90;
/// Snapshot days, 30 days apart, the latest first.
const SNAPSHOTS: i64 = 6;
/// History a snapshot needs behind it (the NPS trend compares two quarters).
const LOOKBACK: i64 = 180;

/// One past day: every account's normalised signals and whether it expanded afterwards.
pub struct Snapshot {
    pub day: Date,
    pub normalised: Vec<[f64; 5]>,
    pub expanded: Vec<bool>,
    /// Raw depth and co-usage, for the correlation the page reports.
    pub depth_co: Vec<(f64, f64)>,
}

/// Precision at the top of one ranking.
#[derive(Clone, Debug, PartialEq)]
pub struct Precision {
    pub at10: f64,
    pub at100: f64,
    pub base_rate: f64,
}

impl Precision {
    pub fn lift10(&self) -> Option<f64> {
        (self.base_rate > 0.0).then(|| self.at10 / self.base_rate)
    }
    pub fn lift100(&self) -> Option<f64> {
        (self.base_rate > 0.0).then(|| self.at100 / self.base_rate)
    }
}

/// Share of the `k` highest `scores` whose label is true (ties broken by position).
pub fn precision_at(scores: &[f64], labels: &[bool], k: usize) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let top = &order[..k.min(order.len())];
    if top.is_empty() {
        return 0.0;
    }
    top.iter().filter(|&&i| labels[i]).count() as f64 / top.len() as f64
}

fn precision(s: &Snapshot, w: &Weights) -> Precision {
    let scores: Vec<f64> = s
        .normalised
        .iter()
        .map(|n| propensity::propensity(n, w))
        .collect();
    Precision {
        at10: precision_at(&scores, &s.expanded, 10),
        at100: precision_at(&scores, &s.expanded, 100),
        base_rate: s.expanded.iter().filter(|e| **e).count() as f64
            / s.expanded.len().max(1) as f64,
    }
}

fn mean(ps: &[Precision]) -> Precision {
    let n = ps.len().max(1) as f64;
    Precision {
        at10: ps.iter().map(|p| p.at10).sum::<f64>() / n,
        at100: ps.iter().map(|p| p.at100).sum::<f64>() / n,
        base_rate: ps.iter().map(|p| p.base_rate).sum::<f64>() / n,
    }
}

/// Weights learned from snapshots: a logistic regression of "expanded" on the normalised
/// signals, its positive coefficients scaled to sum to 1.
pub fn learn(snapshots: &[&Snapshot]) -> Weights {
    let (x, y): (Vec<Vec<f64>>, Vec<bool>) = snapshots
        .iter()
        .flat_map(|s| {
            s.normalised
                .iter()
                .map(|n| n.to_vec())
                .zip(s.expanded.iter().copied())
        })
        .unzip();
    if x.is_empty() {
        return Weights::RUBRIC;
    }
    let (_, coef) = irls(&x, &y, &vec![1.0; y.len()], 1.0);
    Weights::normalised([coef[0], coef[1], coef[2], coef[3], coef[4]])
}

/// The back-test as the page shows it.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub days: Vec<Date>,
    pub accounts: usize,
    pub rubric: Precision,
    /// Walk-forward, on the days after the first.
    pub learned: Option<Precision>,
    /// The rubric on the same days as `learned`, for a fair comparison.
    pub rubric_same_days: Option<Precision>,
    /// Fitted on every snapshot: what an admin may adopt.
    pub learned_weights: Weights,
    /// Pearson's r of raw depth and co-usage, and of depth and co-usage beyond depth.
    pub correlation: (f64, f64),
}

pub fn evaluate(snapshots: &[Snapshot], weights: &Weights) -> Outcome {
    let rubric: Vec<Precision> = snapshots.iter().map(|s| precision(s, weights)).collect();
    // Oldest first: each later day is scored with weights learned on the days before it.
    let mut chrono: Vec<&Snapshot> = snapshots.iter().collect();
    chrono.sort_by_key(|s| s.day);
    let walked: Vec<(Precision, Precision)> = (1..chrono.len())
        .map(|i| {
            let w = learn(&chrono[..i]);
            (precision(chrono[i], &w), precision(chrono[i], weights))
        })
        .collect();
    let (learned, same): (Vec<_>, Vec<_>) = walked.into_iter().unzip();
    let (depth, co): (Vec<f64>, Vec<f64>) = snapshots
        .first()
        .map(|s| s.depth_co.iter().copied().unzip())
        .unwrap_or_default();
    let beyond = propensity::residuals(&co, &depth);
    Outcome {
        days: snapshots.iter().map(|s| s.day).collect(),
        accounts: snapshots.iter().map(|s| s.expanded.len()).sum(),
        rubric: mean(&rubric),
        learned: (!learned.is_empty()).then(|| mean(&learned)),
        rubric_same_days: (!same.is_empty()).then(|| mean(&same)),
        learned_weights: learn(&chrono),
        correlation: (
            propensity::pearson(&depth, &co),
            propensity::pearson(&depth, &beyond),
        ),
    }
}

/// The past days a back-test on history up to `today` can use, latest first.
pub fn days(first_usage: Date, today: Date) -> Vec<Date> {
    (0..SNAPSHOTS)
        .map(|k| today - Duration::days(HORIZON + 30 * k))
        .filter(|d| *d >= first_usage + Duration::days(LOOKBACK))
        .collect()
}

/// Loads the snapshots of `days`.
pub async fn snapshots(pool: &PgPool, days: &[Date]) -> sqlx::Result<Vec<Snapshot>> {
    crate::features::months::catch_up(pool).await?;
    let mut out = Vec::with_capacity(days.len());
    let mut conn = pool.acquire().await?;
    for &day in days {
        let scored = super::score(&mut conn, day, &Weights::RUBRIC).await?;
        let expanded = super::db::expanded(&mut *conn, day, HORIZON).await?;
        out.push(Snapshot {
            day,
            expanded: scored
                .rows
                .iter()
                .map(|r| expanded.contains(&r.account))
                .collect(),
            depth_co: scored
                .rows
                .iter()
                .map(|r| (r.raw.depth, r.raw.co_usage))
                .collect(),
            normalised: scored.normalised,
        });
    }
    Ok(out)
}

/// The snapshots, loaded once a day per process.
#[derive(Default)]
pub struct Cache(Mutex<Option<(Date, Arc<Vec<Snapshot>>)>>);

impl Cache {
    pub async fn get(&self, pool: &PgPool, today: Date) -> anyhow::Result<Arc<Vec<Snapshot>>> {
        let mut cached = self.0.lock().await;
        if let Some((day, s)) = &*cached
            && *day == today
        {
            return Ok(s.clone());
        }
        // Without product usage there is nothing to back-test on: no days.
        let days = match crate::features::db::usage_span(pool).await? {
            Some((first, last)) => days(first, today.min(last)),
            None => Vec::new(),
        };
        let s = Arc::new(snapshots(pool, &days).await?);
        *cached = Some((today, s.clone()));
        Ok(s)
    }
}

/// The propensity's precision@10 over the last quarter, under the weights in force: the ten
/// accounts ranked highest 90 days before `today` and the share of them that expanded
/// since. Loaded once a day per process.
#[derive(Default)]
pub struct QuarterCache(Mutex<Option<(Date, Quarter)>>);

/// The day ranked and the precision@10 of its ranking, if there is history enough.
pub type Quarter = Option<(Date, f64)>;

impl QuarterCache {
    /// Today's figure if it is ready; otherwise starts computing it in the background (it
    /// reads a quarter-old snapshot: seconds at 50,000 accounts) and answers `None`, so no
    /// page waits for it.
    pub fn ready_or_start(self: Arc<Self>, pool: &PgPool, today: Date) -> Option<Quarter> {
        match self.0.try_lock() {
            Ok(cached) => match &*cached {
                Some((day, p)) if *day == today => return Some(*p),
                _ => {}
            },
            // Being computed.
            Err(_) => return None,
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            if let Err(e) = self.get(&pool, today).await {
                tracing::error!(error = %e, "the quarter's precision@10 could not be computed");
            }
        });
        None
    }

    pub async fn get(&self, pool: &PgPool, today: Date) -> anyhow::Result<Quarter> {
        let mut cached = self.0.lock().await;
        if let Some((day, p)) = &*cached
            && *day == today
        {
            return Ok(*p);
        }
        let day = today - Duration::days(HORIZON);
        let snapshot = snapshots(pool, &[day]).await?;
        let (_, weights, _) = super::db::config(pool).await?;
        let p = snapshot
            .first()
            .filter(|s| !s.normalised.is_empty())
            .map(|s| (day, precision(s, &weights).at10));
        *cached = Some((today, p));
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_counts_the_top_k() {
        let scores = [0.9, 0.1, 0.8, 0.7, 0.2];
        let labels = [true, true, false, true, false];
        // Top 3: 0.9 (yes), 0.8 (no), 0.7 (yes).
        assert!((precision_at(&scores, &labels, 3) - 2.0 / 3.0).abs() < 1e-12);
        assert!((precision_at(&scores, &labels, 10) - 0.6).abs() < 1e-12);
    }

    #[test]
    fn learned_weights_find_the_signal_that_predicts() {
        // Expansion follows the third signal only.
        let normalised: Vec<[f64; 5]> = (0..200)
            .map(|i| {
                let f = |k: u64| ((i as u64 * (7 + k * 13)) % 101) as f64 / 100.0;
                [f(0), f(1), f(2), f(3), f(4)]
            })
            .collect();
        let expanded = normalised.iter().map(|n| n[2] > 0.6).collect();
        let s = Snapshot {
            day: Date::MIN,
            normalised,
            expanded,
            depth_co: Vec::new(),
        };
        let w = learn(&[&s]);
        assert!(w.0[2] > 0.8, "{w:?}");
    }
}
