//! The propensity's signals in words, for the CSM's card, the hand-off and sales.

use serde_json::Value;

use super::propensity::{SIGNALS, Weights};

/// One signal as people read it: what it measures for this account, and where that puts
/// the account in its segment.
#[derive(Clone, Debug, PartialEq)]
pub struct Said {
    pub signal: &'static str,
    pub text: String,
    /// Percentile within the segment, 0–100.
    pub percentile: u32,
    /// Points it adds to the propensity.
    pub points: f64,
}

/// `areas`: how many feature areas the mapping named when the signal was stored.
fn sentence(signal: &str, raw: f64, areas: Option<u64>) -> String {
    match (signal, areas) {
        ("depth", Some(areas)) => format!(
            "Uses {} of {areas} feature areas",
            (raw * areas as f64).round()
        ),
        ("depth", None) => format!("Uses {:.0} % of the feature areas", 100.0 * raw),
        ("co_usage", _) => format!(
            "{:.0} % of active people use two or more areas together",
            100.0 * raw
        ),
        ("seat_growth", _) if raw.abs() < 0.005 => "Seats in use flat on a quarter ago".to_owned(),
        ("seat_growth", _) => format!(
            "Seats in use {} {:.0} % on a quarter ago",
            if raw > 0.0 { "up" } else { "down" },
            100.0 * raw.abs()
        ),
        ("nps_trend", _) if raw.abs() < 0.05 => {
            "NPS flat on the quarter before (or too few answers)".to_owned()
        }
        ("nps_trend", _) => format!(
            "NPS {} {:.1} points on the quarter before",
            if raw > 0.0 { "up" } else { "down" },
            raw.abs()
        ),
        _ => match raw as i64 {
            0 => "No feature requests in 90 days".to_owned(),
            1 => "1 feature request in 90 days".to_owned(),
            n => format!("{n} feature requests in 90 days"),
        },
    }
}

/// Every signal of a stored propensity (`expansion_scores.signals`), strongest first.
pub fn explain(signals: &Value, weights: &Weights) -> Vec<Said> {
    let mut out: Vec<Said> = SIGNALS
        .iter()
        .zip(weights.0)
        .filter_map(|(s, w)| {
            let v = signals.get(*s)?;
            let raw = v.get("raw")?.as_f64()?;
            let norm = v.get("normalised")?.as_f64()?;
            Some(Said {
                signal: s,
                text: sentence(s, raw, v.get("areas").and_then(Value::as_u64)),
                percentile: (100.0 * norm).round() as u32,
                points: 100.0 * w * norm,
            })
        })
        .collect();
    out.sort_by(|a, b| b.points.total_cmp(&a.points));
    out
}

/// The top three, as short sentences for a hand-off.
pub fn top_reasons(signals: &Value, weights: &Weights) -> Vec<String> {
    explain(signals, weights)
        .into_iter()
        .take(3)
        .map(|s| {
            format!(
                "{} (top {} % of its segment)",
                s.text,
                100 - s.percentile.min(99)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signals_read_as_sentences_strongest_first() {
        let signals = json!({
            "depth": {"raw": 0.7, "normalised": 0.9, "areas": 10},
            "co_usage": {"raw": 0.25, "normalised": 0.2},
            "seat_growth": {"raw": 0.18, "normalised": 0.95},
            "nps_trend": {"raw": -1.5, "normalised": 0.1},
            "feature_requests": {"raw": 3.0, "normalised": 1.0}
        });
        let said = explain(&signals, &Weights::RUBRIC);
        // 0.4 × 0.9 = 36 points, then 0.15 × 0.95 = 14.25, 0.3 × 0.2 = 6, 0.05 × 1 = 5, 0.1 × 0.1 = 1.
        let order: Vec<_> = said.iter().map(|s| s.signal).collect();
        assert_eq!(
            order,
            [
                "depth",
                "seat_growth",
                "co_usage",
                "feature_requests",
                "nps_trend"
            ]
        );
        assert_eq!(said[0].text, "Uses 7 of 10 feature areas");
        assert_eq!(said[1].text, "Seats in use up 18 % on a quarter ago");
        assert_eq!(said[4].text, "NPS down 1.5 points on the quarter before");
        assert_eq!(
            top_reasons(&signals, &Weights::RUBRIC)[0],
            "Uses 7 of 10 feature areas (top 10 % of its segment)"
        );
    }
}
