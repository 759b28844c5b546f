//! What a two-arm comparison of proportions can detect: the power of the two-sided test at
//! α 0.05 for `n` per arm (R's `power.prop.test`, normal approximation), and the minimum
//! detectable improvement over a baseline at 80 % power.

use super::chi2::gamma_q;
use super::proportions::Z95;

/// The standard normal distribution function, Φ(x) = 1 − ½·Q(½, x²/2) for x ≥ 0.
pub fn normal_cdf(x: f64) -> f64 {
    let tail = 0.5 * gamma_q(0.5, x * x / 2.0);
    if x >= 0.0 { 1.0 - tail } else { tail }
}

/// The power of the two-sided 5 % test of p₁ = p₂ with `n` accounts per arm when the true
/// proportions are `p1` and `p2` (`power.prop.test(n, p1, p2)`, `strict = FALSE`).
pub fn power(n: f64, p1: f64, p2: f64) -> f64 {
    let (q1, q2) = (1.0 - p1, 1.0 - p2);
    let spread = (p1 * q1 + p2 * q2).sqrt();
    if n <= 0.0 || spread <= 0.0 {
        return 0.0;
    }
    let pooled = ((p1 + p2) * (q1 + q2) / 2.0).sqrt();
    normal_cdf((n.sqrt() * (p1 - p2).abs() - Z95 * pooled) / spread)
}

/// The smallest rise over `baseline` that `n` accounts per arm detect with 80 % power; `None`
/// when even a rise to 100 % would not be.
pub fn min_detectable_rise(n: f64, baseline: f64) -> Option<f64> {
    let room = 1.0 - baseline;
    if room <= 0.0 || power(n, baseline, 1.0 - 1e-9) < 0.8 {
        return None;
    }
    let (mut lo, mut hi) = (0.0, room);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if power(n, baseline, baseline + mid) >= 0.8 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_distribution_matches_its_tables() {
        // Φ(1.959964) = 0.975, Φ(0.841621) = 0.8, Φ(−1) = 0.158655 (Abramowitz & Stegun 26.2).
        assert!((normal_cdf(Z95) - 0.975).abs() < 1e-9);
        assert!((normal_cdf(0.841_621_2) - 0.8).abs() < 1e-7);
        assert!((normal_cdf(-1.0) - 0.158_655_253_9).abs() < 1e-9);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn power_matches_r_power_prop_test() {
        // R's ?power.prop.test examples: power.prop.test(n = 50, p1 = .50, p2 = .75)
        // gives power = 0.7401659; power.prop.test(p1 = .50, p2 = .75, power = .90) prints
        // n = 76.7, so 90 % power is reached between 76.65 and 76.75 per arm.
        assert!((power(50.0, 0.5, 0.75) - 0.740_165_9).abs() < 1e-6);
        assert!(power(76.65, 0.5, 0.75) < 0.9 && power(76.75, 0.5, 0.75) > 0.9);
        assert!((power(50.0, 0.75, 0.5) - power(50.0, 0.5, 0.75)).abs() < 1e-12);
    }

    #[test]
    fn the_detectable_rise_is_where_power_reaches_80_percent() {
        // power.prop.test(p1 = .5, p2 = .75, power = .8) needs n = 57.67; so 57.67 per arm
        // detects a rise of 25 points from 50 %.
        let n = 57.67;
        assert!((power(n, 0.5, 0.75) - 0.8).abs() < 1e-3);
        let rise = min_detectable_rise(n, 0.5).unwrap();
        assert!((rise - 0.25).abs() < 1e-3, "{rise}");
        // More accounts detect less; none detect nothing.
        assert!(min_detectable_rise(4.0 * n, 0.5).unwrap() < rise / 1.8);
        assert_eq!(min_detectable_rise(2.0, 0.5), None);
        assert_eq!(min_detectable_rise(100.0, 1.0), None);
    }
}
