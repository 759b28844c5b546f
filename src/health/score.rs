//! The health score: signals normalised to percentiles within the account's segment,
//! weighted (40 % behavioural, 30 % financial, 30 % support by default) and summed to
//! 0–100, with its per-signal breakdown. A signal without data gives its weight to the
//! others, and the breakdown says so.

use std::collections::HashMap;

use serde::Serialize;

use crate::features::FEATURES;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Behavioural,
    Financial,
    Support,
}

/// One weighted signal: a feature, which way is healthy, and its weight in percent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Signal {
    pub feature: &'static str,
    pub group: Group,
    pub higher_is_healthier: bool,
    pub weight: f64,
}

const fn signal(
    feature: &'static str,
    group: Group,
    higher_is_healthier: bool,
    weight: f64,
) -> Signal {
    Signal {
        feature,
        group,
        higher_is_healthier,
        weight,
    }
}

/// The default mix: 40 % behavioural, 30 % financial, 30 % support.
pub const DEFAULT_SIGNALS: [Signal; 10] = [
    signal("seat_utilization", Group::Behavioural, true, 12.0),
    signal("features_adopted", Group::Behavioural, true, 10.0),
    signal("usage_trend_ratio_7d_30d", Group::Behavioural, true, 10.0),
    signal("days_since_last_login", Group::Behavioural, false, 8.0),
    signal("downgraded_last_period", Group::Financial, false, 18.0),
    signal("account_age_days", Group::Financial, true, 12.0),
    signal("urgent_tickets_30d", Group::Support, false, 10.0),
    signal("support_tickets_30d", Group::Support, false, 5.0),
    signal("avg_csat", Group::Support, true, 8.0),
    signal("nps_score", Group::Support, true, 7.0),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    Red,
    Yellow,
    Green,
}

/// Band thresholds: scores up to `red_max` are red, up to `yellow_max` yellow, the rest green.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bands {
    pub red_max: f64,
    pub yellow_max: f64,
}

impl Default for Bands {
    fn default() -> Self {
        Bands {
            red_max: 30.0,
            yellow_max: 70.0,
        }
    }
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Red => "red",
            Band::Yellow => "yellow",
            Band::Green => "green",
        }
    }
}

impl Bands {
    pub fn band(self, score: f64) -> Band {
        if score <= self.red_max {
            Band::Red
        } else if score <= self.yellow_max {
            Band::Yellow
        } else {
            Band::Green
        }
    }
}

/// A signal as it entered one account's score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SignalScore {
    pub name: &'static str,
    /// The raw feature value; `None` when there was no data.
    pub value: Option<f64>,
    /// 0–1, healthier is higher, within the account's segment.
    pub normalised: Option<f64>,
    /// The weight actually applied, in percent (0 when there was no data).
    pub weight: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Health {
    pub score: f64,
    pub band: Band,
    pub signals: Vec<SignalScore>,
}

/// The population an account is ranked against: per segment, per signal, the sorted
/// present values. The daily run builds it from the day's accounts; a re-score between runs
/// ranks the changed accounts against the last run's population.
#[derive(Clone, Debug, Default)]
pub struct Reference {
    segments: HashMap<String, Vec<Vec<f64>>>,
}

impl Reference {
    /// `values[i]` holds row i's raw value of each signal, in `signals` order.
    pub fn build<'a>(
        values: impl IntoIterator<Item = (&'a str, Vec<Option<f64>>)>,
        signals: usize,
    ) -> Reference {
        let mut segments: HashMap<String, Vec<Vec<f64>>> = HashMap::new();
        for (segment, row) in values {
            let columns = segments
                .entry(segment.to_owned())
                .or_insert_with(|| vec![Vec::new(); signals]);
            for (column, v) in columns.iter_mut().zip(row) {
                column.extend(v.filter(|v| v.is_finite()));
            }
        }
        for column in segments.values_mut().flatten() {
            column.sort_by(f64::total_cmp);
        }
        Reference { segments }
    }

    /// Builds the reference from feature rows, as the daily run ranks them.
    pub fn from_rows(
        rows: &[[f64; FEATURES.len()]],
        segments: &[&str],
        signals: &[Signal],
    ) -> Self {
        let idx = indices(signals);
        Reference::build(
            rows.iter()
                .zip(segments)
                .map(|(row, seg)| (*seg, idx.iter().map(|i| value(row, *i)).collect())),
            signals.len(),
        )
    }

    /// Percentile rank (0–1, ties averaged) of `v` among the segment's values of signal `s`;
    /// for a value in the population this is its rank / (n − 1).
    fn percentile(&self, segment: &str, s: usize, v: f64) -> Option<f64> {
        let column = self.segments.get(segment)?.get(s)?;
        let n = column.len();
        if n <= 1 {
            return Some(0.5);
        }
        let below = column.partition_point(|x| *x < v);
        let equal = column[below..].partition_point(|x| *x <= v);
        let rank = below as f64 + equal.saturating_sub(1) as f64 / 2.0;
        Some((rank / (n - 1) as f64).clamp(0.0, 1.0))
    }
}

fn indices(signals: &[Signal]) -> Vec<Option<usize>> {
    signals
        .iter()
        .map(|s| FEATURES.iter().position(|f| *f == s.feature))
        .collect()
}

fn value(row: &[f64; FEATURES.len()], index: Option<usize>) -> Option<f64> {
    index.map(|i| row[i]).filter(|v| v.is_finite())
}

/// Scores one row (features in `FEATURES` order) against the reference of its segment.
pub fn score_one(
    row: &[f64; FEATURES.len()],
    segment: &str,
    signals: &[Signal],
    bands: Bands,
    reference: &Reference,
) -> Health {
    let idx = indices(signals);
    let raw: Vec<Option<f64>> = idx.iter().map(|i| value(row, *i)).collect();
    let normalised: Vec<Option<f64>> = signals
        .iter()
        .zip(&raw)
        .enumerate()
        .map(|(k, (sig, v))| {
            let p = reference.percentile(segment, k, (*v)?)?;
            Some(if sig.higher_is_healthier { p } else { 1.0 - p })
        })
        .collect();
    let present: f64 = signals
        .iter()
        .zip(&normalised)
        .filter(|(_, n)| n.is_some())
        .map(|(s, _)| s.weight)
        .sum();
    let scale = if present > 0.0 { 100.0 / present } else { 0.0 };
    let breakdown: Vec<SignalScore> = signals
        .iter()
        .zip(raw.iter().zip(&normalised))
        .map(|(s, (v, n))| SignalScore {
            name: s.feature,
            value: *v,
            normalised: *n,
            weight: if n.is_some() { s.weight * scale } else { 0.0 },
        })
        .collect();
    let total: f64 = breakdown
        .iter()
        .map(|s| s.normalised.unwrap_or(0.0) * s.weight)
        .sum();
    let score = (total * 100.0).round() / 100.0;
    Health {
        score,
        band: bands.band(score),
        signals: breakdown,
    }
}

/// Scores every row of `rows` (feature vectors in `FEATURES` order), normalising within
/// each row's segment.
pub fn score(
    rows: &[[f64; FEATURES.len()]],
    segments: &[&str],
    signals: &[Signal],
    bands: Bands,
) -> Vec<Health> {
    let reference = Reference::from_rows(rows, segments, signals);
    rows.iter()
        .zip(segments)
        .map(|(row, seg)| score_one(row, seg, signals, bands, &reference))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[(&str, f64)]) -> [f64; FEATURES.len()] {
        let mut r = [0.0; FEATURES.len()];
        for (name, v) in values {
            r[FEATURES.iter().position(|f| f == name).unwrap()] = *v;
        }
        r
    }

    #[test]
    fn default_weights_follow_the_40_30_30_mix() {
        let total = |g| {
            DEFAULT_SIGNALS
                .iter()
                .filter(|s| s.group == g)
                .map(|s| s.weight)
                .sum::<f64>()
        };
        assert_eq!(
            (
                total(Group::Behavioural),
                total(Group::Financial),
                total(Group::Support)
            ),
            (40.0, 30.0, 30.0)
        );
        assert!(
            DEFAULT_SIGNALS
                .iter()
                .all(|s| FEATURES.contains(&s.feature))
        );
    }

    #[test]
    fn bands_follow_the_thresholds() {
        let b = Bands::default();
        assert_eq!(
            (
                b.band(0.0),
                b.band(30.0),
                b.band(30.01),
                b.band(70.0),
                b.band(70.5)
            ),
            (
                Band::Red,
                Band::Red,
                Band::Yellow,
                Band::Yellow,
                Band::Green
            )
        );
    }

    #[test]
    fn healthier_accounts_score_higher_within_their_segment() {
        let signals = [
            signal("seat_utilization", Group::Behavioural, true, 60.0),
            signal("urgent_tickets_30d", Group::Support, false, 40.0),
        ];
        let rows = [
            row(&[("seat_utilization", 0.9), ("urgent_tickets_30d", 0.0)]),
            row(&[("seat_utilization", 0.5), ("urgent_tickets_30d", 1.0)]),
            row(&[("seat_utilization", 0.1), ("urgent_tickets_30d", 5.0)]),
            // Another segment is ranked on its own: mediocre values, best of its segment.
            row(&[("seat_utilization", 0.3), ("urgent_tickets_30d", 2.0)]),
        ];
        let h = score(
            &rows,
            &["smb", "smb", "smb", "enterprise"],
            &signals,
            Bands::default(),
        );
        assert_eq!(h[0].score, 100.0);
        assert_eq!(h[1].score, 50.0);
        assert_eq!(h[2].score, 0.0);
        assert_eq!(h[2].band, Band::Red);
        assert_eq!(h[3].score, 50.0, "a lone account sits mid-segment");
        let weights: f64 = h[1].signals.iter().map(|s| s.weight).sum();
        assert!((weights - 100.0).abs() < 1e-9);
    }

    #[test]
    fn an_account_scored_against_the_days_population_scores_as_in_the_run() {
        let signals = DEFAULT_SIGNALS.to_vec();
        let rows: Vec<_> = (0..40)
            .map(|i| {
                let x = f64::from(i);
                row(&[
                    ("seat_utilization", (x * 0.37) % 1.0),
                    ("features_adopted", (i % 7).into()),
                    ("urgent_tickets_30d", (i % 3).into()),
                    ("avg_csat", if i % 5 == 0 { f64::NAN } else { x % 5.0 }),
                ])
            })
            .collect();
        let segments: Vec<&str> = (0..40)
            .map(|i| if i % 2 == 0 { "smb" } else { "enterprise" })
            .collect();
        let batch = score(&rows, &segments, &signals, Bands::default());
        let reference = Reference::from_rows(&rows, &segments, &signals);
        for (i, h) in batch.iter().enumerate() {
            assert_eq!(
                &score_one(
                    &rows[i],
                    segments[i],
                    &signals,
                    Bands::default(),
                    &reference
                ),
                h
            );
        }
        // A changed account is ranked among the others: the best seat utilisation scores above.
        let mut better = rows[0];
        better[FEATURES
            .iter()
            .position(|f| *f == "seat_utilization")
            .unwrap()] = 1.0;
        let rescored = score_one(&better, "smb", &signals, Bands::default(), &reference);
        assert!(rescored.score > batch[0].score);
    }

    #[test]
    fn a_signal_without_data_gives_its_weight_to_the_others() {
        let signals = [
            signal("avg_csat", Group::Support, true, 50.0),
            signal("seat_utilization", Group::Behavioural, true, 50.0),
        ];
        let rows = [
            row(&[("avg_csat", f64::NAN), ("seat_utilization", 0.9)]),
            row(&[("avg_csat", 4.0), ("seat_utilization", 0.1)]),
        ];
        let h = score(&rows, &["smb", "smb"], &signals, Bands::default());
        let csat = &h[0].signals[0];
        assert_eq!(
            (csat.value, csat.normalised, csat.weight),
            (None, None, 0.0)
        );
        assert_eq!(h[0].signals[1].weight, 100.0);
        assert_eq!(h[0].score, 100.0);
    }
}
