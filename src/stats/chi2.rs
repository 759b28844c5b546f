//! The chi-squared distribution's upper tail, through the regularized incomplete gamma
//! function (series below a + 1, Lentz's continued fraction above, as in Numerical Recipes
//! §6.2), with ln Γ by the Lanczos approximation (g = 7, n = 9).

use std::f64::consts::PI;

const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln Γ(x) for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x)
    } else {
        let x = x - 1.0;
        let t = x + 7.5;
        let sum = LANCZOS[1..]
            .iter()
            .enumerate()
            .fold(LANCZOS[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
        0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
    }
}

/// Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma function.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let prefix = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        // P(a, x) by its series.
        let (mut term, mut sum, mut n) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        1.0 - sum * prefix
    } else {
        // Q(a, x) by its continued fraction (modified Lentz).
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        prefix * h
    }
}

/// P(X ≥ x) for X chi-squared with `df` degrees of freedom.
pub fn upper_tail(x: f64, df: f64) -> f64 {
    gamma_q(df / 2.0, x / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_published_p_values() {
        // R: pchisq(q, df, lower.tail = FALSE), as printed by survdiff and mantelhaen.test
        // (see stats::survival's tests for the sources).
        // (statistic, df, p, tolerance: half the last printed digit)
        for (x, df, p, tol) in [
            (3.396_388_698_977_601, 1.0, 0.065_339_322_040_505_13, 1e-12),
            (
                3.390_222_923_460_842_5,
                2.0,
                0.183_578_765_880_396_54,
                1e-12,
            ),
            // mantelhaen.test(Rabbits): X-squared = 3.9286 (3.928571 by hand), p = 0.04747.
            (3.928_571, 1.0, 0.047_472, 5e-7),
            // erfc(√½)
            (1.0, 1.0, 0.317_310_507_862_914_1, 1e-12),
            // Closed form for even df: Q(5, 15) = e^-15 Σ_{i<5} 15^i / i!.
            (30.0, 10.0, 8.566_412_107_753_004e-4, 1e-14),
        ] {
            let got = upper_tail(x, df);
            assert!((got - p).abs() <= tol, "chi2({x}, {df}) = {got}, want {p}");
        }
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - PI.sqrt().ln()).abs() < 1e-12);
    }
}
