//! Playbook rules and steps in words, for the playbook list and experiment pages: "Health
//! fell 1–10 points; SMB or Self-serve", "Send an in-app nudge (in-app message, by the
//! account's CSM, within 1 hour)".

use super::rules::{Rule, Step};
use crate::segment;
use crate::web::format::{count, grouped};

/// Alternatives joined with "or": "high or medium".
fn either(values: &[String], label: impl Fn(&str) -> String) -> String {
    values
        .iter()
        .map(|v| label(v))
        .collect::<Vec<_>>()
        .join(" or ")
}

fn yes_no(value: Option<bool>, yes: &str, no: &str) -> Option<String> {
    value.map(|v| if v { yes } else { no }.to_owned())
}

impl Rule {
    /// The conditions in words, joined by "; "; every account when there are none.
    pub fn in_words(&self) -> String {
        let points = |n: f64| count(n.round() as i64, "point", "points");
        let decrement = match (self.min_decrement, self.max_decrement) {
            (Some(lo), Some(hi)) => Some(format!("health fell {lo:.0}–{}", points(hi))),
            (Some(lo), None) => Some(format!("health fell at least {}", points(lo))),
            (None, Some(hi)) => Some(format!("health fell at most {}", points(hi))),
            (None, None) => None,
        };
        let parts: Vec<String> = [
            decrement,
            (!self.tiers.is_empty())
                .then(|| format!("{} churn risk", either(&self.tiers, str::to_owned))),
            yes_no(self.at_risk, "flagged at risk", "not flagged at risk"),
            (!self.bands.is_empty())
                .then(|| format!("{} band", either(&self.bands, str::to_owned))),
            yes_no(
                self.band_changed,
                "band changed since the last score",
                "band unchanged",
            ),
            (!self.segments.is_empty())
                .then(|| either(&self.segments, |s| segment::label_of(s).to_owned())),
            self.status.as_deref().map(|s| match s {
                "trial" => "in trial".to_owned(),
                _ => "paying".to_owned(),
            }),
            self.min_arr
                .map(|a| format!("ARR at least ${}", grouped(a.round() as i64))),
            self.max_days_to_renewal
                .map(|d| format!("renewal within {}", count(d, "day", "days"))),
            yes_no(self.anomaly, "a usage anomaly", "no usage anomaly"),
            yes_no(
                self.champion_loss,
                "the champion left",
                "the champion stayed",
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            return "Every account (no conditions)".to_owned();
        }
        let text = parts.join("; ");
        let mut chars = text.chars();
        chars
            .next()
            .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
    }
}

impl Step {
    /// The step in words: "Call the champion (call, by the account's CSM, within 2 days, with an email)".
    pub fn in_words(&self) -> String {
        let who = match self.owner_role.as_str() {
            "manager" => "by the CSM's manager",
            _ => "by the account's CSM",
        };
        let within = if self.sla_hours > 0 && self.sla_hours % 24 == 0 {
            count(self.sla_hours / 24, "day", "days")
        } else {
            count(self.sla_hours, "hour", "hours")
        };
        format!(
            "{} ({}, {who}, within {within}{})",
            self.title,
            crate::worklist::act::kind_label(&self.kind),
            if self.email.is_some() {
                ", with an email"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_steps_read_in_words() {
        assert_eq!(Rule::default().in_words(), "Every account (no conditions)");
        let rule = Rule {
            min_decrement: Some(1.0),
            max_decrement: Some(10.0),
            at_risk: Some(true),
            segments: vec!["smb".into(), "self_serve".into()],
            min_arr: Some(20_000.0),
            ..Rule::default()
        };
        assert_eq!(
            rule.in_words(),
            "Health fell 1–10 points; flagged at risk; SMB or Self-serve; ARR at least $20,000"
        );
        let step = Step {
            title: "Send an in-app nudge".into(),
            kind: "in_app".into(),
            owner_role: "csm".into(),
            sla_hours: 168,
            email: None,
        };
        assert_eq!(
            step.in_words(),
            "Send an in-app nudge (in-app message, by the account's CSM, within 7 days)"
        );
    }
}
