//! Risk drivers in plain words: the features pushing an account's churn risk up the most,
//! described with the account's own values.

use serde::Serialize;

use crate::features::FEATURES;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Driver {
    pub feature: &'static str,
    /// Contribution to the log-odds of churn.
    pub contribution: f64,
    pub text: String,
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
        "features_adopted" => format!("uses {v:.0} feature areas"),
        "days_since_last_login" => format!("no activity for {v:.0} days"),
        "urgent_tickets_30d" => format!("{v:.0} urgent or high-priority tickets in 30 days"),
        "support_tickets_30d" => format!("{v:.0} support tickets in 30 days"),
        "avg_csat" => format!("CSAT averaging {v:.1} of 5"),
        "nps_score" => format!("latest NPS answer {v:.0}"),
        "downgraded_last_period" if v > 0.0 => "downgraded at the last billing period".to_owned(),
        "downgraded_last_period" => "no recent downgrade".to_owned(),
        "invites_sent_30d" => format!("{v:.0} invites sent in 30 days"),
        "users_commenting" => format!("{v:.0} users commenting in 30 days"),
        "avg_dau_7d" | "avg_dau_14d" | "avg_dau_30d" => {
            format!("{v:.1} daily active users ({feature})")
        }
        "mrr" => format!("MRR ${v:.0}"),
        "account_age_days" => format!("customer for {v:.0} days"),
        other => format!("{other} = {v:.2}"),
    }
}

/// The `n` features raising risk the most (positive contributions), in plain words.
pub fn top(row: &[f64], contributions: &[f64], n: usize) -> Vec<Driver> {
    let mut order: Vec<usize> = (0..contributions.len().min(FEATURES.len()))
        .filter(|&i| contributions[i] > 0.0)
        .collect();
    order.sort_by(|&a, &b| contributions[b].total_cmp(&contributions[a]));
    order
        .into_iter()
        .take(n)
        .map(|i| {
            let text = if row[i].is_finite() {
                describe(FEATURES[i], row[i])
            } else {
                format!("no {} on record", FEATURES[i].replace('_', " "))
            };
            Driver {
                feature: FEATURES[i],
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
        let d = top(&row, &contrib, 3);
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
}
