//! The latest scores as the account page shows them: health signals with their units, the
//! churn model's drivers, and a reading when health and churn risk point opposite ways.

use crate::web::format::timestamp;

/// The latest health and churn scores, ready to show.
pub struct ScoreView {
    pub day: String,
    pub health: String,
    pub band: String,
    pub churn: String,
    pub tier: String,
    pub at_risk: bool,
    pub drivers: Vec<String>,
    pub signals: Vec<(String, String, String)>,
    pub trajectory: String,
    pub decrement: Option<String>,
    pub anomaly: Option<String>,
    pub champion_loss: Option<String>,
    pub rescored: Option<String>,
    /// When health and the churn model disagree, why they can, in words.
    pub reading: Option<String>,
}

/// A stored code in words: `business_plus` → "Business plus", `churned` → "Churned".
pub fn code_words(code: &str) -> String {
    let spaced = code.replace('_', " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// A health signal's name as people say it.
fn signal_label(feature: &str) -> String {
    crate::features::label(feature)
}

/// A health signal's raw value with its unit.
fn signal_value(feature: &str, v: f64) -> String {
    use crate::web::format::count;
    match feature {
        "seat_utilization" => format!("{:.0} %", v * 100.0),
        "usage_trend_ratio_7d_30d" => format!("{v:.2}× (below 1 is falling)"),
        "days_since_last_login" | "account_age_days" => count(v.round() as i64, "day", "days"),
        "downgraded_last_period" => if v > 0.0 { "yes" } else { "no" }.into(),
        "urgent_tickets_30d" | "support_tickets_30d" => {
            count(v.round() as i64, "ticket", "tickets")
        }
        "features_adopted" => count(v.round() as i64, "area", "areas"),
        "avg_csat" => format!("{v:.1} of 5"),
        "nps_score" => format!("{v:.0} of 10"),
        _ => format!("{v:.2}"),
    }
}

pub fn score_view(s: crate::scores::db::LatestScore) -> ScoreView {
    let signals = s
        .signals
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|sig| {
            let feature = sig.get("name").and_then(|v| v.as_str()).unwrap_or("");
            let value = sig
                .get("value")
                .and_then(|v| v.as_f64())
                .map_or_else(|| "no data".to_owned(), |v| signal_value(feature, v));
            let name = signal_label(feature);
            let weight = sig.get("weight").and_then(|v| v.as_f64()).unwrap_or(0.0);
            let norm = sig.get("normalised").and_then(|v| v.as_f64());
            let share = match norm {
                Some(n) => format!("{:.0} of {weight:.0} points", n * weight),
                None => "weight spread over the others".to_owned(),
            };
            (name, value, share)
        })
        .collect();
    let reading = reading(&s.band, s.risk_tier.as_deref(), &s.signals);
    ScoreView {
        day: s.day.to_string(),
        health: format!("{:.0}", s.health_score),
        band: s.band,
        churn: s.churn_probability.map_or_else(
            || "not scored".to_owned(),
            |p| format!("{:.1} %", p * 100.0),
        ),
        tier: s.risk_tier.unwrap_or_default(),
        at_risk: s.at_risk,
        drivers: s
            .drivers
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|d| d.get("text").and_then(|t| t.as_str()).map(str::to_owned))
            .collect(),
        signals,
        trajectory: s.trajectory.unwrap_or_else(|| "no history yet".into()),
        decrement: s.decrement.map(|d| {
            format!(
                "{} lost since the previous score",
                crate::web::format::count(d.round() as i64, "point", "points")
            )
        }),
        anomaly: s.anomaly,
        champion_loss: s.champion_loss,
        rescored: s.rescored_at.map(timestamp),
        reading,
    }
}

/// Health ranks an account against its segment's peers on fixed weights; the churn
/// probability is learned from what preceded churn in this company's history. When they
/// point opposite ways, the page says so and why, instead of showing both silently.
fn reading(band: &str, tier: Option<&str>, signals: &serde_json::Value) -> Option<String> {
    let mut weakest: Vec<(f64, &str)> = signals
        .as_array()?
        .iter()
        .filter_map(|s| Some((s.get("normalised")?.as_f64()?, s.get("name")?.as_str()?)))
        .collect();
    weakest.sort_by(|a, b| a.0.total_cmp(&b.0));
    let low: Vec<String> = weakest
        .iter()
        .take(2)
        .map(|(_, n)| signal_label(n))
        .collect();
    match (band, tier?) {
        ("red", "low") => Some(format!(
            "Health is low against this account's peers (weakest: {}), yet the churn model puts its risk low: in this company's history those signals have not preceded churn on their own. Check with the account before escalating.",
            low.join(", ")
        )),
        ("green", "high") => Some(
            "Health looks good against this account's peers, yet the churn model puts its risk high: it weighs what preceded churn here, which health's fixed weights do not. The drivers below say what it sees.".to_owned(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_signals_read_with_their_units() {
        assert_eq!(signal_label("account_age_days"), "Time as a customer");
        assert_eq!(code_words("business_plus"), "Business plus");
        assert_eq!(signal_value("account_age_days", 165.0), "165 days");
        assert_eq!(signal_value("seat_utilization", 0.625), "62 %");
        assert_eq!(signal_value("downgraded_last_period", 1.0), "yes");
        assert_eq!(signal_value("urgent_tickets_30d", 1.0), "1 ticket");
        assert_eq!(signal_value("nps_score", 7.0), "7 of 10");
    }

    #[test]
    fn health_and_churn_risk_that_disagree_are_explained() {
        let signals = serde_json::json!([
            {"name": "nps_score", "normalised": 0.05},
            {"name": "seat_utilization", "normalised": 0.9},
            {"name": "avg_csat", "normalised": 0.1}
        ]);
        let low = reading("red", Some("low"), &signals).unwrap();
        assert!(
            low.contains("weakest: Latest NPS answer, Average CSAT"),
            "{low}"
        );
        assert!(reading("green", Some("high"), &signals).is_some());
        assert_eq!(reading("red", Some("high"), &signals), None, "they agree");
        assert_eq!(reading("yellow", Some("low"), &signals), None);
    }
}
