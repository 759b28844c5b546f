//! What keeps a model out of production automatically: it must beat the naive baseline
//! (always predicting the historical churn rate) on its pooled walk-forward test folds, in
//! ranking (AUC) and in probability (Brier score), and be roughly calibrated. And which
//! features carry nothing to learn from (constant, or missing everywhere), reported rather
//! than breaking a fit.

use super::metrics::Report;

/// The least AUC that counts as ranking better than chance by a useful margin.
pub const MIN_AUC: f64 = 0.55;
/// The most expected calibration error tolerated (probabilities off by 10 points on average).
pub const MAX_ECE: f64 = 0.10;

/// Why the validation says this model must not be promoted automatically; empty if it may.
pub fn objections(r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    match r.auc_roc {
        None => out.push("AUC undefined: the test folds hold one class only".to_owned()),
        Some(auc) if auc < MIN_AUC => out.push(format!(
            "AUC {auc:.3} is below {MIN_AUC}: it ranks accounts little better than chance"
        )),
        Some(_) => {}
    }
    if r.brier >= r.baseline_brier {
        out.push(format!(
            "Brier score {:.4} does not beat the naive {:.4} (always predicting the {:.1} % churn rate)",
            r.brier,
            r.baseline_brier,
            100.0 * r.baseline_rate
        ));
    }
    if r.ece > MAX_ECE {
        out.push(format!(
            "calibration error {:.3} is above {MAX_ECE}: its probabilities cannot be read as chances",
            r.ece
        ));
    }
    out
}

/// Why each column carries nothing to learn from: `Some("no variance")` for a constant
/// column, `Some("missing everywhere")` for one without a value; `None` otherwise.
pub fn uninformative(x: &[Vec<f64>], columns: usize) -> Vec<Option<&'static str>> {
    (0..columns)
        .map(|j| {
            let mut values = x.iter().map(|r| r[j]).filter(|v| v.is_finite());
            match values.next() {
                None => Some("missing everywhere"),
                Some(first) if values.all(|v| v == first) => Some("no variance"),
                Some(_) => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metrics::report;

    #[test]
    fn a_collapsed_model_is_refused_and_a_good_one_passes() {
        // 10 % churn; the collapsed model says 0.9 for everyone (the Brier 0.84 case).
        let y: Vec<bool> = (0..100).map(|i| i % 10 == 0).collect();
        let collapsed = report(&vec![0.9; 100], &y, 0.1);
        let said = objections(&collapsed);
        assert_eq!(said.len(), 3, "{said:?}");
        assert!(said[0].contains("AUC 0.500"));
        assert!(said[1].contains("Brier score 0.7300 does not beat the naive 0.0900"));
        assert!(said[2].contains("calibration error"));

        let good: Vec<f64> = y.iter().map(|&c| if c { 0.6 } else { 0.05 }).collect();
        assert!(objections(&report(&good, &y, 0.1)).is_empty());
    }

    #[test]
    fn constant_and_empty_columns_are_named() {
        let x = vec![
            vec![1.0, f64::NAN, 3.0, 5.0],
            vec![1.0, f64::NAN, f64::NAN, 6.0],
            vec![1.0, f64::NAN, 3.0, 5.0],
        ];
        assert_eq!(
            uninformative(&x, 4),
            [
                Some("no variance"),
                Some("missing everywhere"),
                Some("no variance"),
                None
            ]
        );
    }
}
