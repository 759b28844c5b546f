//! Watching the model in production: drift of each feature against its training
//! distribution (population stability index), AUC by week on labels that have matured, and
//! the distribution of today's predictions. Pure functions; the pipeline stores what they
//! measure and records alerts.

use serde::{Deserialize, Serialize};

use super::metrics;

/// PSI above this is an alert; between `PSI_WATCH` and it, worth watching (the spec's
/// 0.10–0.15 band).
pub const PSI_ALERT: f64 = 0.15;
pub const PSI_WATCH: f64 = 0.10;
/// Matured-label AUC below this for two weeks running is an alert.
pub const AUC_ALERT: f64 = 0.78;

/// A feature's training distribution: decile edges and the share of rows in each bin, with
/// one more bin for missing values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bins {
    pub edges: Vec<f64>,
    pub shares: Vec<f64>,
}

fn bin_of(edges: &[f64], v: f64) -> usize {
    if v.is_finite() {
        edges.partition_point(|e| *e < v)
    } else {
        edges.len() + 1
    }
}

fn shares(edges: &[f64], values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut counts = vec![0usize; edges.len() + 2];
    let mut n = 0usize;
    for v in values {
        counts[bin_of(edges, v)] += 1;
        n += 1;
    }
    counts
        .into_iter()
        .map(|c| c as f64 / n.max(1) as f64)
        .collect()
}

impl Bins {
    /// Decile bins of a column (distinct edges only, so a column with few values gets few bins).
    pub fn of(values: &[f64]) -> Bins {
        let mut present: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        present.sort_by(f64::total_cmp);
        let mut edges: Vec<f64> = (1..10)
            .filter_map(|k| present.get(present.len() * k / 10).copied())
            .collect();
        edges.dedup();
        Bins {
            shares: shares(&edges, values.iter().copied()),
            edges,
        }
    }

    /// Population stability index of `values` against this distribution.
    pub fn psi(&self, values: &[f64]) -> f64 {
        const FLOOR: f64 = 1e-4;
        shares(&self.edges, values.iter().copied())
            .iter()
            .zip(&self.shares)
            .map(|(a, e)| {
                let (a, e) = (a.max(FLOOR), e.max(FLOOR));
                (a - e) * (a / e).ln()
            })
            .sum()
    }
}

/// Training distributions of every column of `x` (rows of features).
pub fn reference(x: &[Vec<f64>]) -> Vec<Bins> {
    let k = x.first().map_or(0, Vec::len);
    (0..k)
        .map(|j| Bins::of(&x.iter().map(|r| r[j]).collect::<Vec<_>>()))
        .collect()
}

/// One week of matured labels: how well the scores of that week ranked who churned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Week {
    pub week: String,
    pub accounts: usize,
    pub churned: usize,
    pub auc: Option<f64>,
    /// The scoring model had seen these labels in training: not a fair test, no alert.
    pub in_sample: bool,
}

pub fn week(week: String, probabilities: &[f64], churned: &[bool], in_sample: bool) -> Week {
    Week {
        week,
        accounts: churned.len(),
        churned: churned.iter().filter(|c| **c).count(),
        auc: metrics::auc_roc(probabilities, churned),
        in_sample,
    }
}

/// True when the two latest out-of-sample weeks both fall below the alert line.
pub fn auc_alert(weeks: &[Week]) -> bool {
    let fair: Vec<f64> = weeks
        .iter()
        .filter(|w| !w.in_sample)
        .filter_map(|w| w.auc)
        .collect();
    fair.len() >= 2 && fair[fair.len() - 2..].iter().all(|a| *a < AUC_ALERT)
}

/// Share of predictions in each tenth of 0–1.
pub fn histogram(probabilities: &[f64]) -> Vec<f64> {
    let mut counts = [0usize; 10];
    for p in probabilities.iter().filter(|p| p.is_finite()) {
        counts[((p * 10.0) as usize).min(9)] += 1;
    }
    let n = probabilities.len().max(1) as f64;
    counts.iter().map(|c| *c as f64 / n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_distribution_is_stable_and_a_shifted_one_drifts() {
        let train: Vec<f64> = (0..1000).map(|i| f64::from(i % 100)).collect();
        let bins = Bins::of(&train);
        assert!(bins.psi(&train) < 1e-9);
        let same_shape: Vec<f64> = (0..500).map(|i| f64::from((i * 7) % 100)).collect();
        assert!(bins.psi(&same_shape) < PSI_WATCH);
        let shifted: Vec<f64> = train.iter().map(|v| v + 30.0).collect();
        assert!(bins.psi(&shifted) > PSI_ALERT, "{}", bins.psi(&shifted));
        // Values going missing is drift too.
        let missing: Vec<f64> = train
            .iter()
            .enumerate()
            .map(|(i, v)| if i % 3 == 0 { f64::NAN } else { *v })
            .collect();
        assert!(bins.psi(&missing) > PSI_ALERT);
    }

    #[test]
    fn auc_alerts_after_two_fair_weeks_below_the_line() {
        let w = |auc, in_sample| Week {
            week: String::new(),
            accounts: 100,
            churned: 5,
            auc: Some(auc),
            in_sample,
        };
        assert!(!auc_alert(&[w(0.9, false), w(0.7, false)]));
        assert!(auc_alert(&[w(0.7, false), w(0.75, false)]));
        assert!(
            !auc_alert(&[w(0.7, true), w(0.75, false)]),
            "in-sample weeks do not count"
        );
    }

    #[test]
    fn the_histogram_sums_to_one() {
        let h = histogram(&[0.01, 0.15, 0.99, 1.0]);
        assert_eq!(h[0], 0.25);
        assert_eq!(h[9], 0.5);
        assert!((h.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
