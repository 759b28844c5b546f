//! Model quality measures, on predicted probabilities and 0/1 outcomes. Pure functions,
//! shared by validation, monitoring and `keel model evaluate`.

/// Area under the ROC curve (Mann–Whitney, ties counted half). `None` without both classes.
pub fn auc_roc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let ranked = ranks(scores);
    let positives = labels.iter().filter(|l| **l).count() as f64;
    let negatives = labels.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    let rank_sum: f64 = ranked
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l)
        .map(|(r, _)| r)
        .sum();
    Some((rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives))
}

/// 1-based ranks with ties averaged.
pub(crate) fn ranks(scores: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut out = vec![0.0; scores.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            out[order[k]] = rank;
        }
        i = j + 1;
    }
    out
}

/// Precision and recall at each distinct threshold, from the highest score down.
fn pr_curve(scores: &[f64], labels: &[bool]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let positives = labels.iter().filter(|l| **l).count() as f64;
    let mut curve = Vec::new();
    let (mut tp, mut fp) = (0.0, 0.0);
    for (i, &idx) in order.iter().enumerate() {
        if labels[idx] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = order.get(i + 1).is_none_or(|&n| scores[n] != scores[idx]);
        if last_of_tie && positives > 0.0 {
            curve.push((tp / (tp + fp), tp / positives));
        }
    }
    curve
}

/// Area under the precision–recall curve as average precision. `None` without positives.
pub fn auc_pr(scores: &[f64], labels: &[bool]) -> Option<f64> {
    if !labels.iter().any(|l| *l) {
        return None;
    }
    let mut area = 0.0;
    let mut last_recall = 0.0;
    for (precision, recall) in pr_curve(scores, labels) {
        area += precision * (recall - last_recall);
        last_recall = recall;
    }
    Some(area)
}

/// The best precision among thresholds that reach at least `recall`.
pub fn precision_at_recall(scores: &[f64], labels: &[bool], recall: f64) -> Option<f64> {
    pr_curve(scores, labels)
        .into_iter()
        .filter(|(_, r)| *r >= recall - 1e-12)
        .map(|(p, _)| p)
        .max_by(f64::total_cmp)
}

/// Mean squared error of the probabilities.
pub fn brier(probs: &[f64], labels: &[bool]) -> f64 {
    if probs.is_empty() {
        return f64::NAN;
    }
    probs
        .iter()
        .zip(labels)
        .map(|(p, &y)| (p - f64::from(u8::from(y))).powi(2))
        .sum::<f64>()
        / probs.len() as f64
}

/// One bin of a calibration plot.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CalibrationBin {
    pub mean_predicted: f64,
    pub observed_rate: f64,
    pub count: usize,
}

/// Equal-width bins over [0, 1].
pub fn calibration(probs: &[f64], labels: &[bool], bins: usize) -> Vec<CalibrationBin> {
    let mut sums = vec![(0.0, 0.0, 0usize); bins];
    for (p, &y) in probs.iter().zip(labels) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        sums[b].0 += p;
        sums[b].1 += f64::from(u8::from(y));
        sums[b].2 += 1;
    }
    sums.into_iter()
        .filter(|s| s.2 > 0)
        .map(|(p, y, n)| CalibrationBin {
            mean_predicted: p / n as f64,
            observed_rate: y / n as f64,
            count: n,
        })
        .collect()
}

/// Expected calibration error over ten equal-width bins.
pub fn ece(probs: &[f64], labels: &[bool]) -> f64 {
    let n = probs.len() as f64;
    calibration(probs, labels, 10)
        .iter()
        .map(|b| b.count as f64 / n * (b.mean_predicted - b.observed_rate).abs())
        .sum()
}

/// Lift of each decile (highest scores first): its positive rate over the overall rate.
pub fn lift_by_decile(scores: &[f64], labels: &[bool]) -> Vec<f64> {
    let n = scores.len();
    let base = labels.iter().filter(|l| **l).count() as f64 / n.max(1) as f64;
    if n < 10 || base == 0.0 {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    (0..10)
        .map(|d| {
            let slice = &order[d * n / 10..(d + 1) * n / 10];
            let rate = slice.iter().filter(|&&i| labels[i]).count() as f64 / slice.len() as f64;
            rate / base
        })
        .collect()
}

/// Every measure the registry keeps, for one set of predictions.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub rows: usize,
    pub positives: usize,
    pub auc_roc: Option<f64>,
    pub auc_pr: Option<f64>,
    pub precision_at_80_recall: Option<f64>,
    pub brier: f64,
    pub ece: f64,
    pub lift: Vec<f64>,
    /// The naive baseline: always predicting the historical churn rate.
    pub baseline_rate: f64,
    pub baseline_brier: f64,
    pub calibration: Vec<CalibrationBin>,
}

impl Report {
    /// The headline figures on one line, for the command line and benchmarks.
    pub fn summary(&self) -> String {
        format!(
            "AUC {}  AUC-PR {}  P@80%R {}  Brier {:.4} (naive {:.4})  ECE {:.3}  lift@10 {}",
            show(self.auc_roc),
            show(self.auc_pr),
            show(self.precision_at_80_recall),
            self.brier,
            self.baseline_brier,
            self.ece,
            show(self.lift.first().copied())
        )
    }
}

/// A measure to three decimals, or "n/a" where it is undefined (e.g. AUC on one class).
pub(crate) fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}

pub fn report(probs: &[f64], labels: &[bool], historical_rate: f64) -> Report {
    let constant = vec![historical_rate; labels.len()];
    Report {
        rows: labels.len(),
        positives: labels.iter().filter(|l| **l).count(),
        auc_roc: auc_roc(probs, labels),
        auc_pr: auc_pr(probs, labels),
        precision_at_80_recall: precision_at_recall(probs, labels, 0.8),
        brier: brier(probs, labels),
        ece: ece(probs, labels),
        lift: lift_by_decile(probs, labels),
        baseline_rate: historical_rate,
        baseline_brier: brier(&constant, labels),
        calibration: calibration(probs, labels, 10),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn auc_of_perfect_random_and_inverted_rankings() {
        let labels = [false, false, true, true];
        assert_eq!(auc_roc(&[0.1, 0.2, 0.8, 0.9], &labels), Some(1.0));
        assert_eq!(auc_roc(&[0.9, 0.8, 0.2, 0.1], &labels), Some(0.0));
        assert_eq!(auc_roc(&[0.5; 4], &labels), Some(0.5));
        // One of four positive–negative pairs misordered.
        assert_eq!(auc_roc(&[0.1, 0.6, 0.5, 0.9], &labels), Some(0.75));
        assert_eq!(auc_roc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn average_precision_and_precision_at_recall() {
        // Ranked: T F T F → precision 1 at recall .5, 2/3 at recall 1.
        let scores = [0.9, 0.8, 0.7, 0.6];
        let labels = [true, false, true, false];
        assert!(close(
            auc_pr(&scores, &labels).unwrap(),
            0.5 * 1.0 + 0.5 * 2.0 / 3.0
        ));
        assert!(close(
            precision_at_recall(&scores, &labels, 0.8).unwrap(),
            2.0 / 3.0
        ));
        assert!(close(
            precision_at_recall(&scores, &labels, 0.5).unwrap(),
            1.0
        ));
    }

    #[test]
    fn brier_and_calibration() {
        assert!(close(brier(&[1.0, 0.0], &[true, false]), 0.0));
        assert!(close(brier(&[0.5, 0.5], &[true, false]), 0.25));
        // Perfectly calibrated bins have no calibration error.
        let probs = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75];
        let labels = [true, false, false, false, true, true, true, false];
        assert!(close(ece(&probs, &labels), 0.0));
        // Always saying 0.9 when the rate is 0.5 is 0.4 off.
        assert!(close(ece(&[0.9; 4], &[true, false, true, false]), 0.4));
    }

    #[test]
    fn lift_concentrates_positives_in_the_top_decile() {
        let scores: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let labels: Vec<bool> = (0..100).map(|i| i >= 90).collect();
        let lift = lift_by_decile(&scores, &labels);
        assert_eq!(lift.len(), 10);
        assert!(close(lift[0], 10.0));
        assert!(lift[1..].iter().all(|l| *l == 0.0));
    }

    #[test]
    fn the_report_includes_the_naive_baseline() {
        let r = report(&[0.9, 0.1, 0.8, 0.2], &[true, false, true, false], 0.5);
        assert_eq!(r.auc_roc, Some(1.0));
        assert!(close(r.baseline_brier, 0.25));
        assert!(r.brier < r.baseline_brier);
    }
}
