//! Merge fields of playbook emails. Every playbook email goes to the account's main contact,
//! so its fields are customer-safe: the account, the contact, the CSM, and the topic (what the
//! CSM would like to talk about, phrased for the customer from the signal behind the top risk
//! driver). Internal wording (risk drivers, the health score, the churn probability) never
//! reaches a customer: those fields are refused by name when a playbook is saved.

/// The merge fields a template may use, as `{{name}}`.
pub const MERGE_FIELDS: [&str; 4] = ["account", "contact", "csm", "topic"];

/// Fields that would put Keel's internal reading of the account in a customer's inbox.
const INTERNAL: [&str; 3] = ["driver", "score", "probability"];

/// What the CSM would like to talk about, in the customer's terms, given the feature behind
/// the account's top risk driver (none: no driver).
pub fn topic(feature: Option<&str>) -> &'static str {
    let feature = feature.unwrap_or("");
    match feature {
        "seat_utilization" | "invites_sent_30d" => "getting everyone on your team set up",
        "features_adopted" => "the parts of the product your team has not tried yet",
        "support_tickets_30d" | "urgent_tickets_30d" | "avg_csat" => {
            "the support requests your team raised recently"
        }
        "nps_score" => "the feedback you shared with us",
        "downgraded_last_period" => "making sure your plan fits your team",
        "avg_dau_7d"
        | "avg_dau_14d"
        | "avg_dau_30d"
        | "usage_trend_ratio_7d_30d"
        | "action_trend_ratio"
        | "days_since_last_login"
        | "users_commenting" => "how your team is using the product day to day",
        // A product's own event types (events_30d:…, trend_7d_30d:…) are usage too.
        f if f.contains(':') => "how your team is using the product day to day",
        _ => "how things are going for your team",
    }
}

/// Fills `{{field}}`s from `values`; an unknown or internal field, or an unclosed `{{`, is an
/// error naming it.
pub fn render(template: &str, values: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let allowed = || MERGE_FIELDS.map(|f| format!("{{{{{f}}}}}")).join(", ");
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            format!(
                "'{{{{' without '}}}}' near \"{}\"",
                after.chars().take(20).collect::<String>()
            )
        })?;
        let name = after[..end].trim();
        if INTERNAL.contains(&name) {
            return Err(format!(
                "{{{{{name}}}}} is Keel's internal reading of the account and these emails go to the customer; use {{{{topic}}}} (what you would like to talk about, in their terms) or one of {}",
                allowed()
            ));
        }
        if !MERGE_FIELDS.contains(&name) {
            return Err(format!(
                "unknown merge field {{{{{name}}}}}; use {}",
                allowed()
            ));
        }
        out.push_str(&values(name).unwrap_or_default());
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_fields_are_refused_by_name() {
        let e = render("We noticed {{ driver }}", &|_| None).unwrap_err();
        assert!(
            e.starts_with("{{driver}} is Keel's internal reading"),
            "{e}"
        );
        assert!(render("Health {{score}}", &|_| None).is_err());
        assert!(render("{{probability}}", &|_| None).is_err());
        assert!(
            render("Hi {{name}}", &|_| None)
                .unwrap_err()
                .contains("unknown merge field {{name}}")
        );
        assert!(render("Hi {{account", &|_| None).is_err());
    }

    #[test]
    fn every_topic_is_customer_safe() {
        let mut features: Vec<&str> = crate::features::FEATURES.to_vec();
        features.extend(["events_30d:unfriend", "trend_7d_30d:board_viewed", ""]);
        for f in features {
            let t = topic(Some(f).filter(|f| !f.is_empty()));
            for word in [
                "risk", "churn", "health", "score", "nps", "csat", "down", "%",
            ] {
                assert!(!t.to_lowercase().contains(word), "{f}: {t}");
            }
        }
    }
}
