//! Every feature's name as people say it: the fixed features, and the model's candidates
//! from a product's own event types (`events_30d:board_viewed`, `trend_7d_30d:board_viewed`).

/// What `feature` measures, in words: "People active a day (7 days)", "Board viewed events
/// (30 days)".
pub fn label(feature: &str) -> String {
    let fixed = match feature {
        "avg_dau_7d" => "People active a day (7 days)",
        "avg_dau_14d" => "People active a day (14 days)",
        "avg_dau_30d" => "People active a day (30 days)",
        "usage_trend_ratio_7d_30d" => "Usage trend (last 7 days against 30)",
        "action_trend_ratio" => "Core-action trend (last 7 days against 30)",
        "features_adopted" => "Feature areas used (30 days)",
        "seat_utilization" => "Seats in use",
        "invites_sent_30d" => "Invites sent (30 days)",
        "users_commenting" => "People commenting (30 days)",
        "support_tickets_30d" => "Support tickets (30 days)",
        "urgent_tickets_30d" => "Urgent tickets (30 days)",
        "avg_csat" => "Average CSAT",
        "days_since_last_login" => "Since the last login",
        "mrr" => "MRR",
        "account_age_days" => "Time as a customer",
        "downgraded_last_period" => "Downgraded at the last renewal",
        "nps_score" => "Latest NPS answer",
        _ => "",
    };
    if !fixed.is_empty() {
        return fixed.to_owned();
    }
    let words = |s: &str| {
        let s = s.replace('_', " ");
        let mut chars = s.chars();
        chars
            .next()
            .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
    };
    match feature.split_once(':') {
        Some(("events_30d", event)) => format!("{} events (30 days)", words(event)),
        Some(("trend_7d_30d", event)) => format!("{} trend (last 7 days against 30)", words(event)),
        _ => words(feature),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixed_feature_and_candidate_reads_in_words() {
        for f in super::super::FEATURES {
            let l = label(f);
            assert!(!l.contains('_'), "{f}: {l}");
        }
        assert_eq!(
            label("events_30d:board_viewed"),
            "Board viewed events (30 days)"
        );
        assert_eq!(
            label("trend_7d_30d:task_created"),
            "Task created trend (last 7 days against 30)"
        );
    }
}
