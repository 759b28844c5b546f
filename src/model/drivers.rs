//! Risk drivers in plain words: the features pushing an account's churn risk up the most,
//! described with the account's own values.

use serde::Serialize;

use crate::features::{Candidate, FEATURES};
use crate::web::format::count;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Driver {
    pub feature: String,
    /// Contribution to the log-odds of churn.
    pub contribution: f64,
    pub text: String,
}

/// A whole count with its noun in the right number.
fn whole(v: f64, one: &str, many: &str) -> String {
    count(v.round() as i64, one, many)
}

fn describe(feature: &str, v: f64) -> String {
    let pct = |x: f64| (x * 100.0).round();
    match feature {
        "usage_trend_ratio_7d_30d" if v < 1.0 => format!(
            "usage down {:.0} % against its 30-day average",
            100.0 - pct(v)
        ),
        "usage_trend_ratio_7d_30d" => format!(
            "usage up {:.0} % against its 30-day average",
            pct(v) - 100.0
        ),
        "action_trend_ratio" if v < 1.0 => format!(
            "core actions down {:.0} % against the 30-day pace",
            100.0 - pct(v)
        ),
        "action_trend_ratio" => format!("core actions at {:.0} % of the 30-day pace", pct(v)),
        "seat_utilization" => format!("{:.0} % of seats active in 30 days", pct(v)),
        "features_adopted" => format!("uses {}", whole(v, "feature area", "feature areas")),
        "days_since_last_login" => format!("no activity for {}", whole(v, "day", "days")),
        "urgent_tickets_30d" => format!(
            "{} in 30 days",
            whole(
                v,
                "urgent or high-priority ticket",
                "urgent or high-priority tickets"
            )
        ),
        "support_tickets_30d" => {
            format!(
                "{} in 30 days",
                whole(v, "support ticket", "support tickets")
            )
        }
        "avg_csat" => format!("CSAT averaging {v:.1} of 5"),
        "nps_score" => format!("latest NPS answer {v:.0}"),
        "downgraded_last_period" if v > 0.0 => "downgraded at the last billing period".to_owned(),
        "downgraded_last_period" => "no recent downgrade".to_owned(),
        "invites_sent_30d" => format!("{} sent in 30 days", whole(v, "invite", "invites")),
        "users_commenting" => format!("{} commenting in 30 days", whole(v, "person", "people")),
        "avg_dau_7d" => format!("{v:.1} people active a day over the last 7 days"),
        "avg_dau_14d" => format!("{v:.1} people active a day over the last 14 days"),
        "avg_dau_30d" => format!("{v:.1} people active a day over the last 30 days"),
        "mrr" => format!("MRR ${v:.0}"),
        "account_age_days" => format!("customer for {}", whole(v, "day", "days")),
        other => format!("{other} = {v:.2}"),
    }
}

/// The `n` features raising risk the most (positive contributions), in plain words; the
/// columns after the fixed features are the model's `candidates`.
pub fn top(candidates: &[Candidate], row: &[f64], contributions: &[f64], n: usize) -> Vec<Driver> {
    let columns = FEATURES.len() + candidates.len();
    let mut order: Vec<usize> = (0..contributions.len().min(columns).min(row.len()))
        .filter(|&i| contributions[i] > 0.0)
        .collect();
    order.sort_by(|&a, &b| contributions[b].total_cmp(&contributions[a]));
    order
        .into_iter()
        .take(n)
        .map(|i| {
            let (feature, text) = match i.checked_sub(FEATURES.len()) {
                None if row[i].is_finite() => {
                    (FEATURES[i].to_owned(), describe(FEATURES[i], row[i]))
                }
                None => (
                    FEATURES[i].to_owned(),
                    format!("no {} on record", FEATURES[i].replace('_', " ")),
                ),
                Some(j) => {
                    let c = &candidates[j];
                    let text = if row[i].is_finite() {
                        c.describe(row[i])
                    } else {
                        format!("no {} events in 30 days", c.event_type)
                    };
                    (c.name(), text)
                }
            };
            Driver {
                feature,
                contribution: contributions[i],
                text,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_risk_raisers_come_first_in_plain_words() {
        let mut row = [0.0; FEATURES.len()];
        let mut contrib = [0.0; FEATURES.len()];
        let at = |name: &str| FEATURES.iter().position(|f| *f == name).unwrap();
        row[at("usage_trend_ratio_7d_30d")] = 0.62;
        contrib[at("usage_trend_ratio_7d_30d")] = 0.9;
        row[at("urgent_tickets_30d")] = 3.0;
        contrib[at("urgent_tickets_30d")] = 0.4;
        contrib[at("mrr")] = -1.0;
        row[at("nps_score")] = f64::NAN;
        contrib[at("nps_score")] = 0.1;
        let d = top(&[], &row, &contrib, 3);
        let texts: Vec<&str> = d.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "usage down 38 % against its 30-day average",
                "3 urgent or high-priority tickets in 30 days",
                "no nps score on record"
            ]
        );
    }

    #[test]
    fn a_candidate_column_is_described_by_its_event_type() {
        let candidates = Candidate::both("unfriend");
        let mut row = vec![0.0; FEATURES.len() + 2];
        let mut contrib = vec![0.0; FEATURES.len() + 2];
        row[FEATURES.len() + 1] = 3.0;
        contrib[FEATURES.len() + 1] = 0.5;
        row[FEATURES.len()] = 12.0;
        contrib[FEATURES.len()] = -0.2;
        let d = top(&candidates, &row, &contrib, 3);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].feature, "trend_7d_30d:unfriend");
        assert_eq!(d[0].text, "unfriend events at 300 % of the 30-day pace");
    }
}
