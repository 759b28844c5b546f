//! The playbook editor's form builder: a rule's conditions and the steps as plain form
//! fields, read into the typed [`Rule`] and [`Step`]s with each problem named by its field,
//! and written back into fields for the page.

use super::edit::PlaybookForm;
use super::rules::{EmailTemplate, Rule, STEP_KINDS, Step, check_steps};
use crate::auth::users::FormErrors;
use crate::segment::Segment;

pub const TIERS: [(&str, &str); 3] = [("high", "High"), ("medium", "Medium"), ("low", "Low")];
pub const BANDS: [(&str, &str); 3] = [("red", "Red"), ("yellow", "Yellow"), ("green", "Green")];
pub const OWNERS: [(&str, &str); 2] = [
    ("csm", "The account's CSM"),
    ("manager", "The CSM's manager"),
];
pub const STATUSES: [(&str, &str); 3] = [("", "Any"), ("active", "Paying"), ("trial", "In trial")];
/// A yes/no condition: any (not checked), yes or no.
pub const EITHER: [(&str, &str); 3] = [("", "Any"), ("yes", "Yes"), ("no", "No")];

/// The rule's conditions as the builder's fields show them.
#[derive(Clone, Debug, Default)]
pub struct RuleFields {
    pub tiers: Vec<String>,
    pub bands: Vec<String>,
    pub segments: Vec<String>,
    pub at_risk: String,
    pub band_changed: String,
    pub anomaly: String,
    pub champion_loss: String,
    pub status: String,
    pub min_decrement: String,
    pub max_decrement: String,
    pub min_arr: String,
    pub max_days_to_renewal: String,
}

/// One step as the builder's fields show it.
#[derive(Clone, Debug, Default)]
pub struct StepFields {
    pub title: String,
    pub kind: String,
    pub owner: String,
    pub sla: String,
    pub subject: String,
    pub body: String,
}

fn either(b: Option<bool>) -> String {
    match b {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => String::new(),
    }
}

fn shown(n: Option<impl ToString>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

impl From<&Rule> for RuleFields {
    fn from(r: &Rule) -> Self {
        RuleFields {
            tiers: r.tiers.clone(),
            bands: r.bands.clone(),
            segments: r.segments.clone(),
            at_risk: either(r.at_risk),
            band_changed: either(r.band_changed),
            anomaly: either(r.anomaly),
            champion_loss: either(r.champion_loss),
            status: r.status.clone().unwrap_or_default(),
            min_decrement: shown(r.min_decrement),
            max_decrement: shown(r.max_decrement),
            min_arr: shown(r.min_arr),
            max_days_to_renewal: shown(r.max_days_to_renewal),
        }
    }
}

impl From<&Step> for StepFields {
    fn from(s: &Step) -> Self {
        StepFields {
            title: s.title.clone(),
            kind: s.kind.clone(),
            owner: s.owner_role.clone(),
            sla: s.sla_hours.to_string(),
            subject: s
                .email
                .as_ref()
                .map(|e| e.subject.clone())
                .unwrap_or_default(),
            body: s.email.as_ref().map(|e| e.body.clone()).unwrap_or_default(),
        }
    }
}

impl RuleFields {
    /// The fields as posted.
    pub fn posted(f: &PlaybookForm) -> Self {
        RuleFields {
            tiers: f.tiers.clone(),
            bands: f.bands.clone(),
            segments: f.segments.clone(),
            at_risk: f.at_risk.clone(),
            band_changed: f.band_changed.clone(),
            anomaly: f.anomaly.clone(),
            champion_loss: f.champion_loss.clone(),
            status: f.status.clone(),
            min_decrement: f.min_decrement.clone(),
            max_decrement: f.max_decrement.clone(),
            min_arr: f.min_arr.clone(),
            max_days_to_renewal: f.max_days_to_renewal.clone(),
        }
    }
}

/// The steps as posted (the builder's parallel lists, one entry per step).
pub fn posted_steps(f: &PlaybookForm) -> Vec<StepFields> {
    let at = |v: &[String], i: usize| v.get(i).cloned().unwrap_or_default();
    (0..f.step_title.len())
        .map(|i| StepFields {
            title: at(&f.step_title, i),
            kind: at(&f.step_kind, i),
            owner: at(&f.step_owner, i),
            sla: at(&f.step_sla, i),
            subject: at(&f.step_subject, i),
            body: at(&f.step_body, i),
        })
        .collect()
}

/// Values of a multiple choice, each one of `allowed`.
fn picked(
    field: &'static str,
    values: &[String],
    allowed: &[&str],
    errors: &mut FormErrors,
) -> Vec<String> {
    for v in values.iter().filter(|v| !allowed.contains(&v.as_str())) {
        errors.add(field, format!("'{v}' is not one of {}", allowed.join(", ")));
    }
    values.to_vec()
}

fn yes_no(field: &'static str, raw: &str, errors: &mut FormErrors) -> Option<bool> {
    match raw {
        "" => None,
        "yes" => Some(true),
        "no" => Some(false),
        other => {
            errors.add(field, format!("'{other}' is not yes, no or empty"));
            None
        }
    }
}

/// A number typed into `field` (empty: no condition), at least `min`.
fn number(field: &'static str, raw: &str, min: f64, errors: &mut FormErrors) -> Option<f64> {
    let raw = raw.trim().replace(',', "");
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= min => Some(n),
        Ok(_) => {
            errors.add(field, format!("use a number of at least {min}"));
            None
        }
        Err(_) => {
            errors.add(field, format!("'{raw}' is not a number"));
            None
        }
    }
}

/// The rule the builder's fields describe; problems are added to `errors` by field.
pub fn rule(f: &RuleFields, errors: &mut FormErrors) -> Rule {
    let tiers: Vec<&str> = TIERS.iter().map(|t| t.0).collect();
    let bands: Vec<&str> = BANDS.iter().map(|b| b.0).collect();
    let segments: Vec<&str> = Segment::ALL.iter().map(|s| s.as_str()).collect();
    let status = match f.status.as_str() {
        "" => None,
        s @ ("active" | "trial") => Some(s.to_owned()),
        other => {
            errors.add("status", format!("'{other}' is not active or trial"));
            None
        }
    };
    let days = number("max_days_to_renewal", &f.max_days_to_renewal, 0.0, errors);
    if days.is_some_and(|d| d.fract() != 0.0) {
        errors.add("max_days_to_renewal", "use a whole number of days");
    }
    let rule = Rule {
        min_decrement: number("min_decrement", &f.min_decrement, 0.0, errors),
        max_decrement: number("max_decrement", &f.max_decrement, 0.0, errors),
        tiers: picked("tiers", &f.tiers, &tiers, errors),
        at_risk: yes_no("at_risk", &f.at_risk, errors),
        bands: picked("bands", &f.bands, &bands, errors),
        band_changed: yes_no("band_changed", &f.band_changed, errors),
        segments: picked("segments", &f.segments, &segments, errors),
        status,
        min_arr: number("min_arr", &f.min_arr, 0.0, errors),
        max_days_to_renewal: days.map(|d| d as i64),
        anomaly: yes_no("anomaly", &f.anomaly, errors),
        champion_loss: yes_no("champion_loss", &f.champion_loss, errors),
    };
    if let (Some(lo), Some(hi)) = (rule.min_decrement, rule.max_decrement)
        && lo > hi
    {
        errors.add(
            "max_decrement",
            format!("the most ({hi}) is below the least ({lo})"),
        );
    }
    rule
}

/// The steps the builder's fields describe (wholly blank ones left out); problems are added
/// to `errors` under `steps`, naming the step.
pub fn steps(fields: &[StepFields], errors: &mut FormErrors) -> Vec<Step> {
    let mut steps = Vec::new();
    let before = errors.0.len();
    let filled = fields.iter().filter(|s| {
        [&s.title, &s.subject, &s.body]
            .iter()
            .any(|v| !v.trim().is_empty())
    });
    for (i, s) in filled.enumerate() {
        let n = i + 1;
        let sla_hours = match s.sla.trim().parse::<i64>() {
            Ok(h) => h,
            Err(_) => {
                errors.add(
                    "steps",
                    format!(
                        "step {n}: '{}' is not a whole number of hours",
                        s.sla.trim()
                    ),
                );
                continue;
            }
        };
        let email = match (s.subject.trim(), s.body.trim()) {
            ("", "") => None,
            ("", _) | (_, "") => {
                errors.add(
                    "steps",
                    format!("step {n}: an email needs both a subject and a body"),
                );
                continue;
            }
            (subject, body) => Some(EmailTemplate {
                subject: subject.to_owned(),
                body: body.to_owned(),
            }),
        };
        steps.push(Step {
            title: s.title.trim().to_owned(),
            kind: s.kind.clone(),
            owner_role: s.owner.clone(),
            sla_hours,
            email,
        });
    }
    if errors.0.len() == before
        && let Err(e) = check_steps(&steps)
    {
        errors.add("steps", e);
    }
    steps
}

/// Step kinds with their labels, for the builder's select.
pub fn step_kinds() -> Vec<(&'static str, &'static str)> {
    STEP_KINDS
        .iter()
        .map(|k| (*k, crate::worklist::act::kind_label(k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> RuleFields {
        RuleFields {
            tiers: vec!["high".into()],
            at_risk: "yes".into(),
            min_arr: "20,000".into(),
            max_days_to_renewal: "90".into(),
            ..RuleFields::default()
        }
    }

    #[test]
    fn the_builder_reads_a_rule_and_writes_it_back() {
        let mut errors = FormErrors::default();
        let r = rule(&fields(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(r.tiers, ["high"]);
        assert_eq!(r.at_risk, Some(true));
        assert_eq!(r.min_arr, Some(20_000.0));
        assert_eq!(r.max_days_to_renewal, Some(90));
        assert_eq!(r.bands, Vec::<String>::new());
        let back = RuleFields::from(&r);
        assert_eq!(
            (back.at_risk.as_str(), back.min_arr.as_str()),
            ("yes", "20000")
        );
    }

    #[test]
    fn each_bad_condition_is_named_by_its_field() {
        let mut errors = FormErrors::default();
        rule(
            &RuleFields {
                min_arr: "abc".into(),
                max_days_to_renewal: "7.5".into(),
                bands: vec!["purple".into()],
                min_decrement: "10".into(),
                max_decrement: "5".into(),
                ..RuleFields::default()
            },
            &mut errors,
        );
        assert_eq!(errors.get("min_arr"), Some("'abc' is not a number"));
        assert_eq!(
            errors.get("max_days_to_renewal"),
            Some("use a whole number of days")
        );
        assert_eq!(
            errors.get("bands"),
            Some("'purple' is not one of red, yellow, green")
        );
        assert_eq!(
            errors.get("max_decrement"),
            Some("the most (5) is below the least (10)")
        );
    }

    #[test]
    fn steps_skip_blank_rows_and_name_the_step_at_fault() {
        let step = |title: &str, sla: &str, subject: &str| StepFields {
            title: title.into(),
            kind: "call".into(),
            owner: "csm".into(),
            sla: sla.into(),
            subject: subject.into(),
            body: String::new(),
        };
        let mut errors = FormErrors::default();
        let read = steps(
            &[step("Call them", "24", ""), step("", "", "")],
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].sla_hours, 24);

        let mut errors = FormErrors::default();
        steps(
            &[step("Call them", "a day", ""), step("Write", "24", "Hello")],
            &mut errors,
        );
        assert_eq!(errors.0.len(), 2, "{errors:?}");
        assert_eq!(
            errors.0[0].1,
            "step 1: 'a day' is not a whole number of hours"
        );
        assert_eq!(
            errors.0[1].1,
            "step 2: an email needs both a subject and a body"
        );

        let mut errors = FormErrors::default();
        steps(&[step("", "", "")], &mut errors);
        assert_eq!(
            errors.get("steps"),
            Some("a playbook needs at least one step")
        );
    }
}
