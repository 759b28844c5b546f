//! A playbook's trigger rule and steps, and matching an account's latest score against it.
//! Pure: the pipeline and the preview feed it candidates.

use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// Every condition is optional; an account matches when all the given ones hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_decrement: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_decrement: Option<f64>,
    /// Churn tiers: high, medium, low.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_risk: Option<bool>,
    /// Health bands now: red, yellow, green.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bands: Vec<String>,
    /// The band changed since the previous score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band_changed: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
    /// Account status: trial or active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// ARR in dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_arr: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days_to_renewal: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub champion_loss: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    /// email, call, meeting, in_app, remediation
    pub kind: String,
    /// csm (the account's CSM) or manager (the CSM's manager)
    pub owner_role: String,
    pub sla_hours: i64,
    /// An email to the account's main contact, opened with the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailTemplate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailTemplate {
    pub subject: String,
    pub body: String,
}

impl EmailTemplate {
    pub fn render(
        &self,
        values: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(String, String), String> {
        Ok((
            super::merge::render(&self.subject, values)?,
            super::merge::render(&self.body, values)?,
        ))
    }
}

pub const STEP_KINDS: [&str; 5] = ["email", "call", "meeting", "in_app", "remediation"];

/// Checks steps beyond their shape: known kinds and owners, a positive SLA.
pub fn check_steps(steps: &[Step]) -> Result<(), String> {
    if steps.is_empty() {
        return Err("a playbook needs at least one step".into());
    }
    for (i, s) in steps.iter().enumerate() {
        let n = i + 1;
        if s.title.trim().is_empty() {
            return Err(format!("step {n}: the title is empty"));
        }
        if !STEP_KINDS.contains(&s.kind.as_str()) {
            return Err(format!(
                "step {n}: kind '{}' is not one of {}",
                s.kind,
                STEP_KINDS.join(", ")
            ));
        }
        if !["csm", "manager"].contains(&s.owner_role.as_str()) {
            return Err(format!(
                "step {n}: owner_role '{}' is not csm or manager",
                s.owner_role
            ));
        }
        if !(0..=24 * 90).contains(&s.sla_hours) {
            return Err(format!("step {n}: sla_hours {} is not 0–2160", s.sla_hours));
        }
        if let Some(e) = &s.email {
            e.render(&|_| None)
                .map_err(|e| format!("step {n}: email: {e}"))?;
        }
    }
    Ok(())
}

/// An account as the rules see it on a day.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub account: Uuid,
    pub name: String,
    pub owner: Option<Uuid>,
    pub manager: Option<Uuid>,
    pub segment: String,
    pub status: String,
    pub arr: f64,
    pub renewal: Option<Date>,
    pub band: String,
    pub previous_band: Option<String>,
    pub decrement: Option<f64>,
    pub probability: Option<f64>,
    pub tier: Option<String>,
    pub at_risk: bool,
    pub anomaly: Option<String>,
    pub champion_loss: Option<String>,
    pub health: f64,
    /// What the CSM would like to talk about, for the customer (`merge::topic`).
    pub topic: &'static str,
    pub csm_name: Option<String>,
    /// The main contact (the champion first) with an email address.
    pub contact: Option<(String, String)>,
}

impl Candidate {
    /// The merge fields of this account: customer-safe, for emails to its contact.
    pub fn merge_field(&self, name: &str) -> Option<String> {
        match name {
            "account" => Some(self.name.clone()),
            "contact" => self.contact.as_ref().map(|c| c.0.clone()),
            "csm" => self.csm_name.clone(),
            "topic" => Some(self.topic.to_owned()),
            _ => None,
        }
    }
}

impl Rule {
    /// Why the candidate matches, in words; `None` when it does not.
    pub fn matches(&self, c: &Candidate, today: Date) -> Option<String> {
        let mut why = Vec::new();
        if self.min_decrement.is_some() || self.max_decrement.is_some() {
            let d = c.decrement?;
            if self.min_decrement.is_some_and(|m| d < m)
                || self.max_decrement.is_some_and(|m| d > m)
            {
                return None;
            }
            why.push(format!(
                "health fell {}",
                crate::web::format::count(d.round() as i64, "point", "points")
            ));
        }
        if !self.tiers.is_empty() {
            let t = c.tier.as_ref()?;
            if !self.tiers.contains(t) {
                return None;
            }
            why.push(format!("{t} churn risk"));
        }
        if let Some(want) = self.at_risk {
            if c.at_risk != want {
                return None;
            }
            if want {
                why.push(format!(
                    "flagged at risk (churn probability {:.0} %)",
                    c.probability.unwrap_or(0.0) * 100.0
                ));
            }
        }
        if !self.bands.is_empty() {
            if !self.bands.contains(&c.band) {
                return None;
            }
            why.push(format!("{} band", c.band));
        }
        if let Some(want) = self.band_changed {
            let changed = c.previous_band.as_ref().is_some_and(|p| *p != c.band);
            if changed != want {
                return None;
            }
            if want {
                why.push(format!(
                    "band {} → {}",
                    c.previous_band.as_deref().unwrap_or("?"),
                    c.band
                ));
            }
        }
        if !self.segments.is_empty() && !self.segments.contains(&c.segment) {
            return None;
        }
        if self.status.as_ref().is_some_and(|s| *s != c.status) {
            return None;
        }
        if let Some(min) = self.min_arr {
            if c.arr < min {
                return None;
            }
            why.push(format!("ARR ${:.0}", c.arr));
        }
        if let Some(max) = self.max_days_to_renewal {
            let days = (c.renewal? - today).whole_days();
            if !(0..=max).contains(&days) {
                return None;
            }
            why.push(format!("renews in {days} days"));
        }
        if let Some(want) = self.anomaly {
            if c.anomaly.is_some() != want {
                return None;
            }
            if let Some(a) = c.anomaly.as_ref().filter(|_| want) {
                why.push(a.clone());
            }
        }
        if let Some(want) = self.champion_loss {
            if c.champion_loss.is_some() != want {
                return None;
            }
            if let Some(a) = c.champion_loss.as_ref().filter(|_| want) {
                why.push(a.clone());
            }
        }
        Some(if why.is_empty() {
            "matches every account".to_owned()
        } else {
            why.join("; ")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn candidate() -> Candidate {
        Candidate {
            account: Uuid::nil(),
            name: "Acme".into(),
            owner: None,
            manager: None,
            segment: "smb".into(),
            status: "active".into(),
            arr: 60_000.0,
            renewal: Some(date!(2026 - 12 - 10)),
            band: "red".into(),
            previous_band: Some("yellow".into()),
            decrement: Some(14.0),
            probability: Some(0.7),
            tier: Some("medium".into()),
            at_risk: true,
            anomaly: None,
            champion_loss: Some("champion Ann active 1 of the last 14 days".into()),
            health: 41.0,
            topic: crate::playbooks::merge::topic(Some("usage_trend_ratio_7d_30d")),
            csm_name: Some("Casey".into()),
            contact: Some(("Ann".into(), "ann@acme.test".into())),
        }
    }

    #[test]
    fn templates_fill_customer_safe_merge_fields() {
        let c = candidate();
        let t = EmailTemplate {
            subject: "{{account}}: a quick check-in".into(),
            body: "Hi {{ contact }}, could we talk about {{topic}}? {{csm}}".into(),
        };
        let (subject, body) = t.render(&|f| c.merge_field(f)).unwrap();
        assert_eq!(subject, "Acme: a quick check-in");
        assert_eq!(
            body,
            "Hi Ann, could we talk about how your team is using the product day to day? Casey"
        );
    }

    #[test]
    fn decrement_bands_follow_the_sources() {
        let today = date!(2026 - 11 - 23);
        let rule = |min, max| Rule {
            min_decrement: Some(min),
            max_decrement: max,
            ..Rule::default()
        };
        let c = candidate();
        assert!(rule(1.0, Some(10.0)).matches(&c, today).is_none());
        assert_eq!(
            rule(11.0, Some(20.0)).matches(&c, today).as_deref(),
            Some("health fell 14 points")
        );
        assert!(rule(21.0, None).matches(&c, today).is_none());
        let mut no_drop = c.clone();
        no_drop.decrement = None;
        assert!(rule(1.0, Some(10.0)).matches(&no_drop, today).is_none());
    }

    #[test]
    fn every_condition_must_hold_and_the_reason_says_why() {
        let today = date!(2026 - 11 - 23);
        let rule = Rule {
            at_risk: Some(true),
            min_arr: Some(50_000.0),
            max_days_to_renewal: Some(30),
            band_changed: Some(true),
            champion_loss: Some(true),
            ..Rule::default()
        };
        let why = rule.matches(&candidate(), today).unwrap();
        assert!(
            why.contains("flagged at risk (churn probability 70 %)"),
            "{why}"
        );
        assert!(
            why.contains("renews in 17 days")
                && why.contains("band yellow → red")
                && why.contains("champion Ann")
        );
        let mut small = candidate();
        small.arr = 10_000.0;
        assert!(rule.matches(&small, today).is_none());
        let trial = Rule {
            status: Some("trial".into()),
            ..Rule::default()
        };
        assert!(trial.matches(&candidate(), today).is_none());
    }

    #[test]
    fn unknown_rule_fields_and_bad_steps_are_refused() {
        assert!(serde_json::from_str::<Rule>(r#"{"min_decrment": 3}"#).is_err());
        let step = |kind: &str, owner: &str, sla| Step {
            title: "Call".into(),
            kind: kind.into(),
            owner_role: owner.into(),
            sla_hours: sla,
            email: None,
        };
        assert!(check_steps(&[step("call", "csm", 24)]).is_ok());
        assert!(check_steps(&[]).is_err());
        assert!(
            check_steps(&[step("fax", "csm", 24)])
                .unwrap_err()
                .contains("kind 'fax'")
        );
        assert!(
            check_steps(&[step("call", "ceo", 24)])
                .unwrap_err()
                .contains("owner_role")
        );
        assert!(
            check_steps(&[step("call", "csm", -1)])
                .unwrap_err()
                .contains("sla_hours")
        );
    }
}
