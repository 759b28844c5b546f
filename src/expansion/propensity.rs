//! The expansion propensity: five signals, each normalised within the account's segment
//! (its mid-rank percentile, 0–1), weighted 40/30/15/10/5 by default into a score 0–100,
//! with tiers, the probability of close and the projected expansion ARR.
//!
//! Depth of use and co-usage move together (an account using more areas has more people
//! using several), so counting both would count one thing twice. Co-usage enters as its
//! residual after depth: within each segment, co-usage is regressed on depth by least
//! squares and only what depth does not predict is ranked. What the two share counts once,
//! under depth.

use serde::{Deserialize, Serialize};

use crate::segment::Segment;

/// The signals, in weight order.
pub const SIGNALS: [&str; 5] = [
    "depth",
    "co_usage",
    "seat_growth",
    "nps_trend",
    "feature_requests",
];

/// What people call each signal.
pub fn label(signal: &str) -> &'static str {
    match signal {
        "depth" => "Depth of use",
        "co_usage" => "Co-usage (beyond depth)",
        "seat_growth" => "Seat growth",
        "nps_trend" => "NPS trend",
        _ => "Feature requests",
    }
}

/// One account's raw signals as of a day.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Raw {
    /// Feature areas used in the last 30 days, of those the product has (0–1).
    pub depth: f64,
    /// Share of the last 30 days' active people who used two or more areas together.
    pub co_usage: f64,
    /// Seats in use now against a quarter ago, minus one (seats billed, or more people
    /// active than billed).
    pub seat_growth: f64,
    /// Mean NPS of the last 90 days minus that of the 90 before (0 without both).
    pub nps_trend: f64,
    /// Feature-request tickets opened in the last 90 days.
    pub feature_requests: f64,
}

impl Raw {
    pub fn values(&self) -> [f64; 5] {
        [
            self.depth,
            self.co_usage,
            self.seat_growth,
            self.nps_trend,
            self.feature_requests,
        ]
    }
}

/// The signal weights, summing to 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Weights(pub [f64; 5]);

impl Weights {
    /// The sources' rubric.
    pub const RUBRIC: Weights = Weights([0.4, 0.3, 0.15, 0.1, 0.05]);

    /// Non-negative weights scaled to sum to 1; the rubric if nothing is left.
    pub fn normalised(raw: [f64; 5]) -> Weights {
        let clipped = raw.map(|w| if w.is_finite() { w.max(0.0) } else { 0.0 });
        let sum: f64 = clipped.iter().sum();
        if sum <= 0.0 {
            return Weights::RUBRIC;
        }
        Weights(clipped.map(|w| w / sum))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, sqlx::Type, Serialize, Deserialize)]
#[sqlx(type_name = "expansion_tier", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Low,
    Medium,
    High,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::High, Tier::Medium, Tier::Low];

    /// High above 80, medium 50–80, low below 50.
    pub fn of(score: f64) -> Tier {
        if score > 80.0 {
            Tier::High
        } else if score >= 50.0 {
            Tier::Medium
        } else {
            Tier::Low
        }
    }

    /// What the expansion multiplies ARR by (the sources' 1.2–1.5 by tier).
    pub fn uplift(self) -> f64 {
        match self {
            Tier::High => 1.5,
            Tier::Medium => 1.35,
            Tier::Low => 1.2,
        }
    }

    /// The probability of close before there is history to learn it from (the sources' 60 %
    /// for scores above 80, scaled down for the lower tiers).
    pub fn default_poc(self) -> f64 {
        match self {
            Tier::High => 0.6,
            Tier::Medium => 0.35,
            Tier::Low => 0.15,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::High => "high",
            Tier::Medium => "medium",
            Tier::Low => "low",
        }
    }
}

/// Projected expansion ARR = ARR × (uplift − 1) × probability of close, in cents.
pub fn projected_arr_cents(arr_cents: i64, tier: Tier, poc: f64) -> i64 {
    (arr_cents as f64 * (tier.uplift() - 1.0) * poc).round() as i64
}

/// Each value's mid-rank percentile among `values`, scaled to 0–1: the share of the others
/// below it, ties counting half. A lone value is 0.5.
pub fn percentile_ranks(values: &[f64]) -> Vec<f64> {
    let n = values.len();
    if n < 2 {
        return vec![0.5; n];
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        // i values below, (j − i) equal others, each counting half.
        let rank = (i as f64 + (j - i) as f64 / 2.0) / (n - 1) as f64;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

/// Residuals of the least-squares line of `y` on `x` (`y` itself less its mean when `x`
/// does not vary).
pub fn residuals(y: &[f64], x: &[f64]) -> Vec<f64> {
    let n = y.len() as f64;
    if y.is_empty() {
        return Vec::new();
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    x.iter()
        .zip(y)
        .map(|(a, b)| b - my - slope * (a - mx))
        .collect()
}

/// Pearson's correlation; 0 when either side does not vary.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.is_empty() {
        return 0.0;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    let syy: f64 = y.iter().map(|v| (v - my).powi(2)).sum();
    if sxx <= 0.0 || syy <= 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Every account's normalised signals (0–1 each), segment by segment, co-usage as its
/// residual after depth.
pub fn normalise(raw: &[Raw], segments: &[Segment]) -> Vec<[f64; 5]> {
    let mut out = vec![[0.0; 5]; raw.len()];
    for segment in Segment::ALL {
        let members: Vec<usize> = (0..raw.len()).filter(|&i| segments[i] == segment).collect();
        let column =
            |f: fn(&Raw) -> f64| -> Vec<f64> { members.iter().map(|&i| f(&raw[i])).collect() };
        let depth = column(|r| r.depth);
        let co_beyond_depth = residuals(&column(|r| r.co_usage), &depth);
        let ranked = [
            percentile_ranks(&depth),
            percentile_ranks(&co_beyond_depth),
            percentile_ranks(&column(|r| r.seat_growth)),
            percentile_ranks(&column(|r| r.nps_trend)),
            percentile_ranks(&column(|r| r.feature_requests)),
        ];
        for (m, &i) in members.iter().enumerate() {
            for (s, ranks) in ranked.iter().enumerate() {
                out[i][s] = ranks[m];
            }
        }
    }
    out
}

/// The propensity 0–100 of normalised signals under `weights`.
pub fn propensity(normalised: &[f64; 5], weights: &Weights) -> f64 {
    100.0
        * normalised
            .iter()
            .zip(weights.0)
            .map(|(v, w)| v * w)
            .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mid_rank_percentiles() {
        // 1 < 2 = 2 < 5: the tied pair has one value below and one tie counting half.
        assert_eq!(
            percentile_ranks(&[2.0, 1.0, 5.0, 2.0]),
            vec![0.5, 0.0, 1.0, 0.5]
        );
        assert_eq!(percentile_ranks(&[3.0]), vec![0.5]);
    }

    #[test]
    fn residuals_remove_the_line() {
        // y = 1 + 2x exactly, plus one deviation of +1 at x = 2.
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [1.0, 3.0, 6.0, 7.0];
        let r = residuals(&y, &x);
        assert!(r.iter().sum::<f64>().abs() < 1e-12);
        assert!(pearson(&x, &r).abs() < 1e-12);
        assert!((pearson(&x, &y) - 0.984496).abs() < 1e-6);
    }

    #[test]
    fn tiers_and_projection_follow_the_rubric() {
        assert_eq!(Tier::of(80.1), Tier::High);
        assert_eq!(Tier::of(80.0), Tier::Medium);
        assert_eq!(Tier::of(50.0), Tier::Medium);
        assert_eq!(Tier::of(49.9), Tier::Low);
        // $120,000 ARR, high tier: 120,000 × 0.5 × 0.6 = $36,000.
        assert_eq!(projected_arr_cents(12_000_000, Tier::High, 0.6), 3_600_000);
        assert_eq!(
            Weights::normalised([2.0, -1.0, 1.0, 1.0, 0.0]),
            Weights([0.5, 0.0, 0.25, 0.25, 0.0])
        );
    }
}
