//! Kaplan–Meier survival curves with Greenwood standard errors and 95 % "log-log"
//! confidence limits (R's `survfit(..., conf.type = "log-log")`), and the log-rank test
//! across groups (R's `survdiff`).

use super::chi2;

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// One subject: time to the event or to censoring, and whether the event happened.
#[derive(Clone, Copy, Debug)]
pub struct Subject {
    pub time: f64,
    pub event: bool,
}

/// The curve at one event time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub time: f64,
    pub at_risk: usize,
    pub events: usize,
    pub survival: f64,
    /// Greenwood: the standard error of log S.
    pub se_log: f64,
    /// 95 % log-log limits; none where S is 0 or 1.
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

impl Step {
    /// (time, survival, lower, upper), the limits standing at the survival where there are
    /// none: a point of a drawn curve with its band.
    pub fn point(&self) -> (f64, f64, f64, f64) {
        (
            self.time,
            self.survival,
            self.lower.unwrap_or(self.survival),
            self.upper.unwrap_or(self.survival),
        )
    }
}

/// The Kaplan–Meier estimate, one step per distinct event time.
pub fn kaplan_meier(subjects: &[Subject]) -> Vec<Step> {
    let mut sorted: Vec<Subject> = subjects
        .iter()
        .copied()
        .filter(|s| s.time.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.time.total_cmp(&b.time));
    let mut steps = Vec::new();
    let (mut at_risk, mut survival, mut greenwood) = (sorted.len(), 1.0, 0.0);
    let mut i = 0;
    while i < sorted.len() {
        let time = sorted[i].time;
        let tied = sorted[i..].iter().take_while(|s| s.time == time).count();
        let events = sorted[i..i + tied].iter().filter(|s| s.event).count();
        if events > 0 {
            let (n, d) = (at_risk as f64, events as f64);
            survival *= 1.0 - d / n;
            greenwood += if at_risk > events {
                d / (n * (n - d))
            } else {
                f64::INFINITY
            };
            let se_log = greenwood.sqrt();
            let (lower, upper) = log_log_limits(survival, se_log);
            steps.push(Step {
                time,
                at_risk,
                events,
                survival,
                se_log,
                lower,
                upper,
            });
        }
        at_risk -= tied;
        i += tied;
    }
    steps
}

/// S^exp(∓z·se/ln S): the interval for log(−log S), mapped back.
fn log_log_limits(s: f64, se_log: f64) -> (Option<f64>, Option<f64>) {
    if s <= 0.0 || s >= 1.0 || !se_log.is_finite() {
        return (None, None);
    }
    let w = Z95 * se_log / s.ln();
    (Some(s.powf((-w).exp())), Some(s.powf(w.exp())))
}

/// The log-rank test across groups.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRank {
    pub observed: Vec<f64>,
    pub expected: Vec<f64>,
    pub chi_squared: f64,
    pub df: usize,
    pub p_value: f64,
}

/// Compares the groups' survival: observed against expected events under one common
/// hazard, with the hypergeometric covariance; groups nobody was at risk in are left out.
pub fn log_rank(groups: &[Vec<Subject>]) -> LogRank {
    let k = groups.len();
    let mut all: Vec<(f64, usize, bool)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, s)| s.iter().map(move |s| (s.time, g, s.event)))
        .filter(|s| s.0.is_finite())
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut at_risk: Vec<f64> = (0..k)
        .map(|g| all.iter().filter(|s| s.1 == g).count() as f64)
        .collect();
    let (mut observed, mut expected) = (vec![0.0; k], vec![0.0; k]);
    let mut v = vec![vec![0.0; k]; k];
    let mut i = 0;
    while i < all.len() {
        let time = all[i].0;
        let tied = all[i..].iter().take_while(|s| s.0 == time).count();
        let mut d = vec![0.0; k];
        let mut left = vec![0.0; k];
        for &(_, g, event) in &all[i..i + tied] {
            d[g] += f64::from(u8::from(event));
            left[g] += 1.0;
        }
        let (n, dt): (f64, f64) = (at_risk.iter().sum(), d.iter().sum());
        if dt > 0.0 {
            for g in 0..k {
                observed[g] += d[g];
                expected[g] += at_risk[g] * dt / n;
            }
            if n > 1.0 {
                let scale = dt * (n - dt) / (n - 1.0);
                for g in 0..k {
                    for h in 0..k {
                        let delta = if g == h { 1.0 } else { 0.0 };
                        v[g][h] += scale * at_risk[g] / n * (delta - at_risk[h] / n);
                    }
                }
            }
        }
        for g in 0..k {
            at_risk[g] -= left[g];
        }
        i += tied;
    }
    // Groups with any variance; the last of them is implied by the others.
    let kept: Vec<usize> = (0..k).filter(|&g| v[g][g] > 0.0).collect();
    let free = &kept[..kept.len().saturating_sub(1)];
    let diff: Vec<f64> = free.iter().map(|&g| observed[g] - expected[g]).collect();
    let matrix: Vec<Vec<f64>> = free
        .iter()
        .map(|&g| free.iter().map(|&h| v[g][h]).collect())
        .collect();
    let chi_squared =
        solve(matrix, diff.clone()).map_or(0.0, |x| x.iter().zip(&diff).map(|(a, b)| a * b).sum());
    let df = free.len();
    LogRank {
        observed,
        expected,
        chi_squared,
        df,
        p_value: if df == 0 {
            1.0
        } else {
            chi2::upper_tail(chi_squared, df as f64)
        },
    }
}

/// Solves A x = b by Gaussian elimination with partial pivoting; `None` if A is singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col].clone();
        for row in col + 1..n {
            let f = a[row][col] / pivot_row[col];
            for (x, p) in a[row].iter_mut().zip(&pivot_row).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let rest: f64 = (row + 1..n).map(|c| a[row][c] * x[c]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R's `aml` data (Miller 1981), as listed in the survival package's
    /// `tests/difftest.Rout.save`: time and status (1 = relapse).
    fn aml() -> (Vec<Subject>, Vec<Subject>) {
        let s = |v: &[(f64, u8)]| -> Vec<Subject> {
            v.iter()
                .map(|&(time, e)| Subject {
                    time,
                    event: e == 1,
                })
                .collect()
        };
        (
            s(&[
                (9., 1),
                (13., 1),
                (13., 0),
                (18., 1),
                (23., 1),
                (28., 0),
                (31., 1),
                (34., 1),
                (45., 0),
                (48., 1),
                (161., 0),
            ]),
            s(&[
                (5., 1),
                (5., 1),
                (8., 1),
                (8., 1),
                (12., 1),
                (16., 0),
                (23., 1),
                (27., 1),
                (30., 1),
                (33., 1),
                (43., 1),
                (45., 1),
            ]),
        )
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn kaplan_meier_matches_r_survfit_on_aml() {
        let (maintained, non) = aml();
        // survfit(Surv(time, status) ~ x, data = aml, conf.type = "log-log") in R 4.6.0,
        // survival 3.8.6; S and limits also reproduced by hand.
        let want = [
            (
                9.,
                11,
                1,
                0.909_090_909_090_909,
                0.508_080_205_769_929_7,
                0.986_673_822_667_823,
            ),
            (
                13.,
                10,
                1,
                0.818_181_818_181_818,
                0.447_428_614_682_181_4,
                0.951_162_228_582_491_7,
            ),
            (
                18.,
                8,
                1,
                0.715_909_090_909_090_8,
                0.350_190_385_907_938_4,
                0.899_023_974_191_053_4,
            ),
            (
                23.,
                7,
                1,
                0.613_636_363_636_363_5,
                0.265_752_040_001_286_1,
                0.835_299_243_250_221_4,
            ),
            (
                31.,
                5,
                1,
                0.490_909_090_909_090_85,
                0.167_330_909_776_850_8,
                0.753_399_790_370_811_3,
            ),
            (
                34.,
                4,
                1,
                0.368_181_818_181_818_2,
                0.092_829_574_936_985_18,
                0.657_040_832_398_163_8,
            ),
            (
                48.,
                2,
                1,
                0.184_090_909_090_909_08,
                0.011_738_480_123_189_602,
                0.525_014_842_726_641_4,
            ),
        ];
        let km = kaplan_meier(&maintained);
        assert_eq!(km.len(), want.len());
        for (s, w) in km.iter().zip(want) {
            assert_eq!((s.time, s.at_risk, s.events), (w.0, w.1, w.2));
            assert!(close(s.survival, w.3, 1e-12), "{s:?}");
            assert!(close(s.lower.unwrap(), w.4, 1e-7), "{s:?} lower {}", w.4);
            assert!(close(s.upper.unwrap(), w.5, 1e-7), "{s:?} upper {}", w.5);
        }
        // Greenwood, as R's std.err of S: 0.1163 at 13, 0.1642 at 31 (printed summary).
        assert!(close(km[1].survival * km[1].se_log, 0.1163, 5e-5));
        assert!(close(km[4].survival * km[4].se_log, 0.1642, 5e-5));
        // Ties of two events at 5 and 8; the curve falls to 0 at 45 with no interval.
        let km = kaplan_meier(&non);
        assert_eq!((km[0].time, km[0].at_risk, km[0].events), (5., 12, 2));
        assert!(close(km[0].survival, 0.833_333_333_333_333_4, 1e-12));
        assert!(close(km[0].lower.unwrap(), 0.481_714_942_195_378_86, 1e-7));
        assert!(close(km[7].upper.unwrap(), 0.348_903_861_110_749_7, 1e-7));
        let last = km.last().unwrap();
        assert_eq!((last.time, last.survival, last.lower), (45., 0.0, None));
    }

    #[test]
    fn log_rank_matches_r_survdiff_on_aml() {
        let (maintained, non) = aml();
        // survdiff(Surv(time, status) ~ x, data = aml): Chisq = 3.4 on 1 df, p = 0.07;
        // full precision 3.3963886989776011, p 0.065339322040505132, E 10.6893 / 7.3107.
        let r = log_rank(&[maintained.clone(), non.clone()]);
        assert_eq!(r.observed, vec![7.0, 11.0]);
        assert!(close(r.expected[0], 10.689_335_992_300_725, 1e-9));
        assert!(close(r.expected[1], 7.310_664_007_699_276, 1e-9));
        assert_eq!(r.df, 1);
        assert!(close(r.chi_squared, 3.396_388_698_977_601, 1e-9));
        assert!(close(r.p_value, 0.065_339_322_040_505_13, 1e-9));
        // A third group (4, 7, 10+, 20, 40+): Chisq 3.3902229234608425 on 2 df,
        // p 0.18357876588039654.
        let third = vec![
            Subject {
                time: 4.,
                event: true,
            },
            Subject {
                time: 7.,
                event: true,
            },
            Subject {
                time: 10.,
                event: false,
            },
            Subject {
                time: 20.,
                event: true,
            },
            Subject {
                time: 40.,
                event: false,
            },
        ];
        let r = log_rank(&[maintained.clone(), non.clone(), third]);
        assert_eq!(r.df, 2);
        assert!(close(r.chi_squared, 3.390_222_923_460_842_5, 1e-9));
        assert!(close(r.p_value, 0.183_578_765_880_396_54, 1e-9));
        // A group censored before any event changes nothing (R's "Dummy" group).
        let dummy = vec![
            Subject {
                time: 1.,
                event: false
            };
            7
        ];
        let r = log_rank(&[maintained, non, dummy]);
        assert_eq!(r.df, 1);
        assert!(close(r.chi_squared, 3.396_388_698_977_601, 1e-9));
    }
}
