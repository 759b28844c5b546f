//! Screening candidate features before training: of the most widespread event types, each
//! type's 30-day count and 7/30 pace is kept when it is common enough, rank-correlates with
//! churn, and says something the fixed features and the candidates already kept do not.
//! The verdicts are stored with the model and shown on the Models page.

use serde::{Deserialize, Serialize};

use super::metrics::ranks;

/// Event types considered: the most widespread (by accounts in 90 days) that the mapping
/// does not ignore.
pub const POOL: usize = 20;
/// Candidate features kept at most (two measures per type, so at least four types).
pub const CAP: usize = 8;
/// Smallest |Spearman ρ| with the churn label worth a column.
pub const MIN_RHO: f64 = 0.05;
/// Candidates rank-correlated this strongly with a column already in are redundant.
pub const MAX_OVERLAP: f64 = 0.9;
/// Smallest share of snapshot rows where the type was used at all.
pub const MIN_COVERAGE: f64 = 0.01;
/// Rows looked at (evenly spaced): enough for a stable ρ, bounded at any size.
const SAMPLE: usize = 20_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Kept,
    TooRare,
    TooWeak,
    Redundant,
    NothingNew,
    OverCap,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Kept => "kept",
            Verdict::TooRare => "too rare",
            Verdict::TooWeak => "too weak",
            Verdict::Redundant => "redundant",
            Verdict::NothingNew => "nothing beyond its closest column",
            Verdict::OverCap => "over the cap",
        }
    }
}

/// One candidate's screening.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Screened {
    pub feature: String,
    /// Spearman's ρ with churned-within-the-horizon (positive: more of it, more churn).
    pub rho: Option<f64>,
    /// Share of rows where the type was used.
    pub coverage: f64,
    /// The column it overlaps most, and |ρ| with it.
    pub closest: Option<(String, f64)>,
    /// Its partial rank correlation with churn given that column: what it adds.
    #[serde(default)]
    pub partial: Option<f64>,
    pub verdict: Verdict,
}

fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// The correlation of x and y with z held fixed, from the three pairwise correlations:
/// (r_xy − r_xz·r_yz) / √((1 − r_xz²)(1 − r_yz²)).
pub fn partial(r_xy: f64, r_xz: f64, r_yz: f64) -> Option<f64> {
    let d = ((1.0 - r_xz * r_xz) * (1.0 - r_yz * r_yz)).sqrt();
    (d > 1e-12).then(|| (r_xy - r_xz * r_yz) / d)
}

/// Spearman's rank correlation over the pairs where both values are present; none with
/// fewer than three pairs or when either side is constant.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    let (x, y): (Vec<f64>, Vec<f64>) = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| (*x, *y))
        .unzip();
    if x.len() < 3 {
        return None;
    }
    pearson(&ranks(&x), &ranks(&y))
}

/// Screens `candidates` (named columns) against the churn label, the `fixed` columns and
/// each other, strongest first. Returns every verdict and the kept candidates' indices.
pub fn screen(
    fixed: &[(String, Vec<f64>)],
    candidates: &[(String, Vec<f64>)],
    label: &[bool],
) -> (Vec<Screened>, Vec<usize>) {
    let step = (label.len() / SAMPLE).max(1);
    let sample = |v: &[f64]| -> Vec<f64> { v.iter().step_by(step).copied().collect() };
    let y = sample(
        &label
            .iter()
            .map(|l| f64::from(u8::from(*l)))
            .collect::<Vec<_>>(),
    );
    let fixed: Vec<(&str, Vec<f64>)> = fixed.iter().map(|(n, v)| (n.as_str(), sample(v))).collect();
    let columns: Vec<Vec<f64>> = candidates.iter().map(|(_, v)| sample(v)).collect();
    let rho: Vec<Option<f64>> = columns.iter().map(|c| spearman(c, &y)).collect();
    let fixed_rho: Vec<Option<f64>> = fixed.iter().map(|(_, v)| spearman(v, &y)).collect();
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| {
        let strength = |i: usize| rho[i].map_or(-1.0, f64::abs);
        strength(b).total_cmp(&strength(a))
    });
    let mut kept: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for i in order {
        let col = &columns[i];
        let coverage = col.iter().filter(|v| v.is_finite() && **v != 0.0).count() as f64
            / col.len().max(1) as f64;
        // The column it overlaps most: (name, signed ρ with it, that column's ρ with churn).
        let mut closest: Option<(String, f64, Option<f64>)> = None;
        let mut partial_rho = None;
        let verdict = if coverage < MIN_COVERAGE {
            Verdict::TooRare
        } else if rho[i].is_none_or(|r| r.abs() < MIN_RHO) {
            Verdict::TooWeak
        } else {
            let others = fixed
                .iter()
                .zip(&fixed_rho)
                .map(|((n, v), r)| (*n, v, *r))
                .chain(
                    kept.iter()
                        .map(|&k| (candidates[k].0.as_str(), &columns[k], rho[k])),
                );
            for (name, other, other_rho) in others {
                if let Some(r) = spearman(col, other)
                    && closest.as_ref().is_none_or(|c| r.abs() > c.1.abs())
                {
                    closest = Some((name.to_owned(), r, other_rho));
                }
            }
            partial_rho = match &closest {
                Some((_, r_xz, Some(r_yz))) => rho[i].and_then(|r| partial(r, *r_xz, *r_yz)),
                _ => rho[i],
            };
            if closest.as_ref().is_some_and(|c| c.1.abs() >= MAX_OVERLAP) {
                Verdict::Redundant
            } else if partial_rho.is_none_or(|p| p.abs() < MIN_RHO) {
                Verdict::NothingNew
            } else if kept.len() == CAP {
                Verdict::OverCap
            } else {
                kept.push(i);
                Verdict::Kept
            }
        };
        out.push(Screened {
            feature: candidates[i].0.clone(),
            rho: rho[i],
            coverage,
            closest: closest.map(|(name, r, _)| (name, r.abs())),
            partial: partial_rho,
            verdict,
        });
    }
    (out, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_matches_the_published_example() {
        // Wikipedia, "Spearman's rank correlation coefficient", worked example: IQ against
        // hours of television a week; ρ = −29/165 ≈ −0.1758.
        let iq = [
            106.0, 100.0, 86.0, 101.0, 99.0, 103.0, 97.0, 113.0, 112.0, 110.0,
        ];
        let tv = [7.0, 27.0, 2.0, 50.0, 28.0, 29.0, 20.0, 12.0, 6.0, 17.0];
        let rho = spearman(&iq, &tv).unwrap();
        assert!((rho - (-29.0 / 165.0)).abs() < 1e-12, "{rho}");
    }

    #[test]
    fn ties_take_their_average_rank_and_missing_pairs_are_left_out() {
        // Ranks 1, 2.5, 2.5, 4 against 1, 3, 2, 4: Σdxdy = 4.5, Σdx² = 4.5, Σdy² = 5,
        // so ρ = 4.5 / √22.5 = √0.9.
        let x = [1.0, 2.0, 2.0, 3.0, f64::NAN];
        let y = [1.0, 3.0, 2.0, 4.0, 9.0];
        let rho = spearman(&x, &y).unwrap();
        assert!((rho - 0.9f64.sqrt()).abs() < 1e-12, "{rho}");
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
    }

    #[test]
    fn the_partial_correlation_is_that_of_the_residuals() {
        // By definition: correlate what is left of x and of y once each is regressed on z.
        let x = [2.0, 4.0, 5.0, 7.0, 8.0, 11.0];
        let y = [1.0, 3.0, 2.0, 6.0, 5.0, 9.0];
        let z = [1.0, 2.0, 4.0, 3.0, 6.0, 5.0];
        let residual = |v: &[f64]| -> Vec<f64> {
            let n = v.len() as f64;
            let (mv, mz) = (v.iter().sum::<f64>() / n, z.iter().sum::<f64>() / n);
            let b = v
                .iter()
                .zip(&z)
                .map(|(a, c)| (a - mv) * (c - mz))
                .sum::<f64>()
                / z.iter().map(|c| (c - mz) * (c - mz)).sum::<f64>();
            v.iter()
                .zip(&z)
                .map(|(a, c)| a - mv - b * (c - mz))
                .collect()
        };
        let by_residuals = pearson(&residual(&x), &residual(&y)).unwrap();
        let by_formula = partial(
            pearson(&x, &y).unwrap(),
            pearson(&x, &z).unwrap(),
            pearson(&y, &z).unwrap(),
        )
        .unwrap();
        assert!(
            (by_residuals - by_formula).abs() < 1e-12,
            "{by_residuals} {by_formula}"
        );
        assert_eq!(partial(0.5, 1.0, 0.3), None);
    }

    #[test]
    fn a_proxy_of_a_fixed_feature_adds_nothing_even_when_it_tracks_churn() {
        // Churn follows daily use; `busy` is daily use blurred: it tracks churn through daily
        // use alone, so with daily use held fixed it says nothing.
        let mut u = crate::model::uniform(11);
        let n = 3000;
        let dau: Vec<f64> = (0..n).map(|_| u()).collect();
        let label: Vec<bool> = dau.iter().map(|d| d + 0.5 * u() < 0.45).collect();
        let busy: Vec<f64> = dau.iter().map(|d| d + 0.6 * u()).collect();
        let (screened, kept) = screen(
            &[("avg_dau_30d".to_owned(), dau)],
            &[("events_30d:busy".to_owned(), busy)],
            &label,
        );
        let busy = &screened[0];
        assert!(busy.rho.unwrap() < -0.3, "{busy:?}");
        assert!(busy.closest.as_ref().unwrap().1 < MAX_OVERLAP, "{busy:?}");
        assert!(busy.partial.unwrap().abs() < MIN_RHO, "{busy:?}");
        assert_eq!(busy.verdict, Verdict::NothingNew);
        assert!(kept.is_empty());
    }

    #[test]
    fn keeps_the_telling_candidate_and_says_why_it_leaves_the_others() {
        // Churners use the product little and `unfriend` a lot; `login` only restates
        // daily use; `export` was used twice; `view` is noise.
        let n = 400;
        let label: Vec<bool> = (0..n).map(|i| i % 4 == 0).collect();
        let dau: Vec<f64> = (0..n)
            .map(|i| {
                if label[i] {
                    (i % 5) as f64
                } else {
                    (20 + (i * 37) % 80) as f64
                }
            })
            .collect();
        let unfriend: Vec<f64> = (0..n)
            .map(|i| {
                if label[i] {
                    5.0 + (i % 3) as f64
                } else {
                    (i % 2) as f64
                }
            })
            .collect();
        let login = dau.iter().map(|d| d * 2.0 + 1.0).collect();
        let export = (0..n).map(|i| if i < 2 { 1.0 } else { 0.0 }).collect();
        let view = (0..n).map(|i| ((i * 53) % 7) as f64).collect();
        let fixed = vec![("avg_dau_30d".to_owned(), dau)];
        let candidates = vec![
            ("events_30d:view".to_owned(), view),
            ("events_30d:login".to_owned(), login),
            ("events_30d:export".to_owned(), export),
            ("events_30d:unfriend".to_owned(), unfriend),
        ];
        let (screened, kept) = screen(&fixed, &candidates, &label);
        assert_eq!(kept, vec![3]);
        let verdict = |f: &str| screened.iter().find(|s| s.feature == f).unwrap();
        let unfriend = verdict("events_30d:unfriend");
        assert_eq!(unfriend.verdict, Verdict::Kept);
        assert!(unfriend.rho.unwrap() > 0.8, "{unfriend:?}");
        let login = verdict("events_30d:login");
        assert_eq!(login.verdict, Verdict::Redundant);
        let (closest, overlap) = login.closest.clone().unwrap();
        assert_eq!(closest, "avg_dau_30d");
        assert!((overlap - 1.0).abs() < 1e-12);
        assert_eq!(verdict("events_30d:export").verdict, Verdict::TooRare);
        assert_eq!(verdict("events_30d:view").verdict, Verdict::TooWeak);
        // Strongest first.
        assert_eq!(screened[0].feature, "events_30d:unfriend");
    }
}
