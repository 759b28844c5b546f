//! Training both churn models on labelled snapshots with class weights, calibrating their
//! probabilities (Platt scaling on the latest fifth of the training period), explaining each
//! prediction, and validating walk-forward (rolling origin, never random folds).

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use super::logistic::{Logistic, irls, sigmoid};
use super::metrics::{self, Report};
use super::trees::{Booster, Params};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    LogisticRegression,
    GradientBoostedTrees,
}

impl Algorithm {
    pub const ALL: [Algorithm; 2] = [
        Algorithm::LogisticRegression,
        Algorithm::GradientBoostedTrees,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::LogisticRegression => "logistic_regression",
            Algorithm::GradientBoostedTrees => "gradient_boosted_trees",
        }
    }

    /// As people say it.
    pub fn label(name: &str) -> &str {
        match name {
            "logistic_regression" => "Logistic regression",
            "gradient_boosted_trees" => "Gradient-boosted trees",
            other => other,
        }
    }
}

/// Rows of features with their label and the date of their snapshot.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub x: Vec<Vec<f64>>,
    pub y: Vec<bool>,
    pub dates: Vec<Date>,
}

impl Dataset {
    pub(crate) fn subset(&self, keep: impl Fn(usize) -> bool) -> Dataset {
        let idx: Vec<usize> = (0..self.y.len()).filter(|&i| keep(i)).collect();
        Dataset {
            x: idx.iter().map(|&i| self.x[i].clone()).collect(),
            y: idx.iter().map(|&i| self.y[i]).collect(),
            dates: idx.iter().map(|&i| self.dates[i]).collect(),
        }
    }

    pub fn churn_rate(&self) -> f64 {
        self.y.iter().filter(|y| **y).count() as f64 / self.y.len().max(1) as f64
    }
}

#[derive(Clone, Serialize, Deserialize)]
enum Fitted {
    Logistic(Logistic),
    Trees(Booster),
}

/// A trained model: raw log-odds, Platt-calibrated probabilities, per-feature contributions.
#[derive(Clone, Serialize, Deserialize)]
pub struct Model {
    pub algorithm: Algorithm,
    fitted: Fitted,
    /// p = sigmoid(a · log-odds + b)
    platt: (f64, f64),
    /// The event-type measures it reads after the fixed features (none in models trained
    /// before candidates existed, or on a CSV).
    #[serde(default)]
    pub candidates: Vec<crate::features::Candidate>,
}

/// Class weights: a churned row weighs (retained / churned)^power, so `power` 1 balances
/// the classes and ½ softens that.
fn class_weights(y: &[bool], power: f64) -> Vec<f64> {
    let pos = y.iter().filter(|v| **v).count().max(1) as f64;
    let neg = (y.len() as f64 - pos).max(1.0);
    let w = (neg / pos).powf(power);
    y.iter().map(|&v| if v { w } else { 1.0 }).collect()
}

/// How the trees are grown and weighted, chosen on the demo's walk-forward folds
/// (`keel model snapshots`, then `bench/train`): the demo's churn is close to additive in
/// the features, so shallow trees and few rounds generalise best (depth 3 or 500 rounds
/// overfit and lose to the regression); churned rows weigh (retained / churned)^¼, since
/// full balancing cost AUC on every fold.
const TREES: Params = Params {
    rounds: 150,
    learning_rate: 0.05,
    max_depth: 2,
    min_child_weight: 5.0,
    lambda: 1.0,
    bins: 64,
};
const TREE_WEIGHT_POWER: f64 = 0.25;

fn fit_raw(algorithm: Algorithm, data: &Dataset) -> Fitted {
    match algorithm {
        Algorithm::LogisticRegression => Fitted::Logistic(Logistic::fit(
            &data.x,
            &data.y,
            &class_weights(&data.y, 1.0),
        )),
        Algorithm::GradientBoostedTrees => Fitted::Trees(Booster::fit(
            &data.x,
            &data.y,
            &class_weights(&data.y, TREE_WEIGHT_POWER),
            &TREES,
        )),
    }
}

impl Fitted {
    fn log_odds(&self, x: &[Vec<f64>]) -> Vec<f64> {
        match self {
            Fitted::Logistic(m) => x.iter().map(|r| m.log_odds(r)).collect(),
            Fitted::Trees(b) => x.iter().map(|r| b.log_odds(r)).collect(),
        }
    }
}

impl Model {
    /// Fits on the earliest four fifths of the snapshot dates and calibrates on the rest.
    pub fn fit(algorithm: Algorithm, data: &Dataset) -> anyhow::Result<Model> {
        anyhow::ensure!(
            data.y.iter().any(|y| *y) && data.y.iter().any(|y| !*y),
            "training needs both churned and retained examples"
        );
        let mut dates = data.dates.clone();
        dates.sort_unstable();
        dates.dedup();
        let cut = dates[(dates.len() * 4 / 5).min(dates.len() - 1)];
        let (base, calib) = if dates.len() >= 3 {
            (
                data.subset(|i| data.dates[i] < cut),
                data.subset(|i| data.dates[i] >= cut),
            )
        } else {
            (data.clone(), data.clone())
        };
        let fitted = fit_raw(algorithm, &base);
        let raw = fitted.log_odds(&calib.x);
        let z: Vec<Vec<f64>> = raw.iter().map(|r| vec![*r]).collect();
        let (b, a) = irls(&z, &calib.y, &vec![1.0; z.len()], 0.0);
        let platt = match a.first() {
            Some(&a) if a.is_finite() && b.is_finite() => (a, b),
            _ => (1.0, 0.0),
        };
        Ok(Model {
            algorithm,
            fitted,
            platt,
            candidates: Vec::new(),
        })
    }

    pub fn log_odds(&self, x: &[Vec<f64>]) -> Vec<f64> {
        self.fitted.log_odds(x)
    }

    /// Calibrated churn probabilities.
    pub fn predict(&self, x: &[Vec<f64>]) -> Vec<f64> {
        let (a, b) = self.platt;
        self.log_odds(x)
            .into_iter()
            .map(|z| sigmoid(a * z + b))
            .collect()
    }

    /// Per-feature contributions to each row's raw log-odds, and the bias; contributions
    /// plus bias equal `log_odds` (exact TreeSHAP for the trees).
    pub fn contributions(&self, x: &[Vec<f64>]) -> Vec<(Vec<f64>, f64)> {
        match &self.fitted {
            Fitted::Logistic(m) => x
                .iter()
                .map(|r| (m.contributions(r), m.intercept))
                .collect(),
            Fitted::Trees(b) => {
                let bias = b.expected_value();
                x.iter().map(|r| (b.contributions(r), bias)).collect()
            }
        }
    }

    /// Global importance: mean absolute contribution per feature.
    pub fn importance(&self, x: &[Vec<f64>]) -> Vec<f64> {
        let contributions = self.contributions(x);
        let k = x.first().map_or(0, Vec::len);
        let n = contributions.len().max(1) as f64;
        (0..k)
            .map(|j| contributions.iter().map(|(c, _)| c[j].abs()).sum::<f64>() / n)
            .collect()
    }
}

/// One walk-forward fold: trained on every snapshot whose label had matured by the test
/// date, tested on the snapshot of that date.
#[derive(Clone, Debug)]
pub struct Fold {
    pub test_date: Date,
    pub train_rows: usize,
    pub report: Report,
}

impl Fold {
    /// The fold on one line, for the command line and benchmarks.
    pub fn summary(&self) -> String {
        format!(
            "fold {}: train {} rows, test {} ({} churned), AUC {}, AUC-PR {}, Brier {:.4} (naive {:.4}), ECE {:.3}",
            self.test_date,
            self.train_rows,
            self.report.rows,
            self.report.positives,
            metrics::show(self.report.auc_roc),
            metrics::show(self.report.auc_pr),
            self.report.brier,
            self.report.baseline_brier,
            self.report.ece
        )
    }
}

#[derive(Clone, Debug)]
pub struct Validation {
    pub folds: Vec<Fold>,
    /// All folds' test predictions together.
    pub overall: Report,
}

/// Rolling-origin validation: each snapshot date after the first `min_history` is a test
/// period for a model trained only on labels known by then (a snapshot's label is known
/// `horizon_days` after it) from earlier snapshots: with a horizon of 0 the test
/// snapshot's own labels count as known on its date, and must still not be trained on.
pub fn walk_forward(
    algorithm: Algorithm,
    data: &Dataset,
    min_history: usize,
    horizon_days: i64,
) -> anyhow::Result<Validation> {
    let mut dates = data.dates.clone();
    dates.sort_unstable();
    dates.dedup();
    let mut folds = Vec::new();
    let (mut all_p, mut all_y) = (Vec::new(), Vec::new());
    for &test_date in dates.iter().skip(min_history) {
        let train = data.subset(|i| {
            data.dates[i] < test_date && data.dates[i] + Duration::days(horizon_days) <= test_date
        });
        let test = data.subset(|i| data.dates[i] == test_date);
        if train.dates.is_empty() || !train.y.iter().any(|y| *y) || test.y.is_empty() {
            continue;
        }
        let model = Model::fit(algorithm, &train)?;
        let p = model.predict(&test.x);
        let report = metrics::report(&p, &test.y, train.churn_rate());
        all_p.extend(p);
        all_y.extend(test.y.iter().copied());
        folds.push(Fold {
            test_date,
            train_rows: train.y.len(),
            report,
        });
    }
    anyhow::ensure!(
        !folds.is_empty(),
        "not enough snapshot history for walk-forward validation"
    );
    Ok(Validation {
        overall: metrics::report(&all_p, &all_y, data.churn_rate()),
        folds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    /// A churn process with a non-linear effect the trees can find and the regression
    /// cannot, plus noise and missing values.
    fn synthetic(n_dates: usize, per_date: usize) -> Dataset {
        let mut d = Dataset::default();
        let mut rand = crate::model::uniform(42);
        for t in 0..n_dates {
            let day = date!(2025 - 01 - 01) + Duration::days(30 * t as i64);
            for _ in 0..per_date {
                let usage = rand();
                let tickets = rand();
                let noise = rand();
                let tenure = rand();
                // Risk rises at both ends of usage (a U the regression cannot draw).
                let z = -2.5 + 14.0 * (usage - 0.5).powi(2) + 1.5 * tickets - 0.8 * tenure;
                d.x.push(vec![
                    usage,
                    tickets,
                    noise,
                    if rand() < 0.1 { f64::NAN } else { tenure },
                ]);
                d.y.push(rand() < sigmoid(z));
                d.dates.push(day);
            }
        }
        d
    }

    #[test]
    fn without_a_horizon_folds_train_on_earlier_snapshots_only() {
        let data = synthetic(3, 200);
        let v = walk_forward(Algorithm::LogisticRegression, &data, 1, 0).unwrap();
        let train_rows: Vec<usize> = v.folds.iter().map(|f| f.train_rows).collect();
        assert_eq!(train_rows, [200, 400]);
    }

    #[test]
    fn tree_contributions_plus_bias_equal_the_raw_output() {
        let data = synthetic(4, 300);
        let model = Model::fit(Algorithm::GradientBoostedTrees, &data).unwrap();
        let rows = &data.x[..50];
        let raw = model.log_odds(rows);
        for ((contrib, bias), r) in model.contributions(rows).iter().zip(raw) {
            let total: f64 = contrib.iter().sum::<f64>() + bias;
            assert!((total - r).abs() < 1e-6, "contributions {total} vs raw {r}");
        }
    }

    #[test]
    fn both_models_learn_and_the_trees_beat_the_regression_walk_forward() {
        let data = synthetic(8, 500);
        let lr = walk_forward(Algorithm::LogisticRegression, &data, 3, 60).unwrap();
        let gbt = walk_forward(Algorithm::GradientBoostedTrees, &data, 3, 60).unwrap();
        let (lr_auc, gbt_auc) = (lr.overall.auc_roc.unwrap(), gbt.overall.auc_roc.unwrap());
        assert!(
            lr_auc > 0.55,
            "the regression still learns the linear effects: AUC {lr_auc}"
        );
        assert!(
            gbt_auc > lr_auc + 0.05,
            "trees {gbt_auc} vs regression {lr_auc}"
        );
        assert!(
            gbt.overall.brier < gbt.overall.baseline_brier,
            "trees must beat the naive baseline"
        );
        assert!(
            gbt.overall.ece < 0.08,
            "calibration error {}",
            gbt.overall.ece
        );
        // Folds never train on labels that were unknown at their test date.
        assert!(
            gbt.folds
                .windows(2)
                .all(|w| w[0].train_rows <= w[1].train_rows)
        );
        assert_eq!(
            gbt.folds.first().map(|f| f.train_rows),
            Some(2 * 500),
            "the snapshot 30 days before the test date is not labelled yet"
        );
    }
}
