//! Proportions and their differences, for experiments: the Wilson score interval for one
//! proportion, Newcombe's hybrid score interval for the difference of two independent
//! proportions, the 'N−1' chi-squared test of a 2×2 table (Campbell 2007, sound at the small
//! expected counts experiments see), and the Cochran–Mantel–Haenszel test with the
//! Mantel–Haenszel common odds ratio over strata.

use super::chi2::upper_tail;

/// The normal quantile for a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson's score interval for `x` successes in `n` trials; `None` when `n` is 0.
pub fn wilson(x: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 || x > n {
        return None;
    }
    let (n, p) = (n as f64, x as f64 / n as f64);
    let d = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / d;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Newcombe's hybrid score interval (his method 10) for p₁ − p₂, from each proportion's
/// Wilson interval.
pub fn newcombe(x1: u64, n1: u64, x2: u64, n2: u64, z: f64) -> Option<(f64, f64)> {
    let (l1, u1) = wilson(x1, n1, z)?;
    let (l2, u2) = wilson(x2, n2, z)?;
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let d = p1 - p2;
    Some((
        d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(),
        d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt(),
    ))
}

/// A 2×2 table: rows are the groups, columns success and failure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Table {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
}

impl Table {
    /// `x1` of `n1` against `x2` of `n2`.
    pub fn of(x1: u64, n1: u64, x2: u64, n2: u64) -> Table {
        Table {
            a: x1 as f64,
            b: n1.saturating_sub(x1) as f64,
            c: x2 as f64,
            d: n2.saturating_sub(x2) as f64,
        }
    }

    fn n(&self) -> f64 {
        self.a + self.b + self.c + self.d
    }
}

/// The 'N−1' chi-squared test: Pearson's statistic × (N − 1)/N, one degree of freedom.
/// Returns (statistic, p); `None` when a margin is empty.
pub fn n_minus_1_chi2(t: Table) -> Option<(f64, f64)> {
    let n = t.n();
    let margins = (t.a + t.b) * (t.c + t.d) * (t.a + t.c) * (t.b + t.d);
    if n < 2.0 || margins <= 0.0 {
        return None;
    }
    let pearson = n * (t.a * t.d - t.b * t.c).powi(2) / margins;
    let stat = pearson * (n - 1.0) / n;
    Some((stat, upper_tail(stat, 1.0)))
}

/// The Cochran–Mantel–Haenszel test over strata.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cmh {
    pub statistic: f64,
    pub p: f64,
    /// The Mantel–Haenszel common odds ratio (success odds of the first row over the second).
    pub odds_ratio: f64,
}

/// CMH over the strata's tables, with or without the continuity correction; `None` when no
/// stratum carries information (each needs two or more subjects and both margins filled).
pub fn cmh(strata: &[Table], continuity: bool) -> Option<Cmh> {
    let (mut observed, mut expected, mut variance, mut num, mut den) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for t in strata {
        let n = t.n();
        if n < 2.0 {
            continue;
        }
        let (r1, r2, c1, c2) = (t.a + t.b, t.c + t.d, t.a + t.c, t.b + t.d);
        observed += t.a;
        expected += r1 * c1 / n;
        variance += r1 * r2 * c1 * c2 / (n * n * (n - 1.0));
        num += t.a * t.d / n;
        den += t.b * t.c / n;
    }
    if variance <= 0.0 {
        return None;
    }
    let gap = (observed - expected).abs() - if continuity { 0.5 } else { 0.0 };
    let statistic = gap.max(0.0).powi(2) / variance;
    Some(Cmh {
        statistic,
        p: upper_tail(statistic, 1.0),
        odds_ratio: if den > 0.0 { num / den } else { f64::INFINITY },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, tol: f64) -> bool {
        (got - want).abs() < tol
    }

    /// Newcombe (1998a), "Two-sided confidence intervals for the single proportion",
    /// Statistics in Medicine 17:857–872, Table I, the score method without correction.
    #[test]
    fn wilson_reproduces_newcombe_1998_table_1() {
        for (x, n, lo, hi) in [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ] {
            let (l, h) = wilson(x, n, Z95).unwrap();
            assert!(
                close(l, lo, 5e-5) && close(h, hi, 5e-5),
                "{x}/{n}: {l:.4}–{h:.4}"
            );
        }
        assert_eq!(wilson(1, 0, Z95), None);
    }

    /// Newcombe (1998b), "Interval estimation for the difference between independent
    /// proportions", Statistics in Medicine 17:873–890, Table II, method 10.
    #[test]
    fn newcombe_reproduces_newcombe_1998_table_2() {
        for (x1, n1, x2, n2, lo, hi) in [
            (56, 70, 48, 80, 0.0524, 0.3339),
            (9, 10, 3, 10, 0.1705, 0.8090),
            (6, 7, 2, 7, 0.0582, 0.8062),
            (5, 56, 0, 29, -0.0381, 0.1926),
        ] {
            let (l, h) = newcombe(x1, n1, x2, n2, Z95).unwrap();
            assert!(
                close(l, lo, 5e-5) && close(h, hi, 5e-5),
                "{x1}/{n1} − {x2}/{n2}: {l:.4} to {h:.4}"
            );
        }
    }

    /// Fisher's tea-tasting table (3 1 / 1 3): Pearson's chi-squared is 2 by hand (every
    /// expected count is 2, every deviation 1), so N−1 gives 2 × 7/8 = 1.75, p = 0.1859.
    #[test]
    fn n_minus_1_scales_pearson() {
        let (stat, p) = n_minus_1_chi2(Table::of(3, 4, 1, 4)).unwrap();
        assert!(close(stat, 1.75, 1e-12));
        assert!(close(p, 0.1859, 5e-5), "{p}");
        assert_eq!(n_minus_1_chi2(Table::of(0, 0, 1, 4)), None);
    }

    /// R's `mantelhaen.test(UCBAdmissions)` (its documentation's example): X² = 1.4269,
    /// p = 0.2323 with the continuity correction; 1.5246, p = 0.2169 without; common odds
    /// ratio 0.9046968. Rows: male, female; columns admitted, rejected; strata departments.
    #[test]
    fn cmh_reproduces_r_on_ucb_admissions() {
        let strata: Vec<Table> = [
            (512, 313, 89, 19),
            (353, 207, 17, 8),
            (120, 205, 202, 391),
            (138, 279, 131, 244),
            (53, 138, 94, 299),
            (22, 351, 24, 317),
        ]
        .iter()
        .map(|&(a, b, c, d)| Table::of(a, a + b, c, c + d))
        .collect();
        let corrected = cmh(&strata, true).unwrap();
        assert!(close(corrected.statistic, 1.4269, 5e-5) && close(corrected.p, 0.2323, 5e-5));
        let plain = cmh(&strata, false).unwrap();
        assert!(close(plain.statistic, 1.5246, 5e-5) && close(plain.p, 0.2169, 5e-5));
        assert!(close(plain.odds_ratio, 0.904_696_8, 5e-7));
    }
}
