//! Saving a playbook from its editor: the typed form, validated into `FormErrors` naming
//! each field, then written with its audit row in one transaction.

use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::PgPool;

use super::builder;
use super::db::{self, Draft};
use super::rules::{Rule, Step, check_steps};
use crate::auth::audit::{self, Actor};
use crate::auth::users::FormErrors;
use crate::error::{AppError, Result};

/// The editor's fields, as posted (a checkbox is present only when ticked). The page's
/// form builder sends `builder` with the rule's conditions and the steps as fields; without
/// it, or with `use_json` ticked, the rule and steps are the JSON in `rule` and `steps`.
#[derive(Debug, Default, Deserialize)]
pub struct PlaybookForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub review_emails: Option<String>,
    #[serde(default)]
    pub holdout: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub steps: String,
    #[serde(default)]
    pub builder: Option<String>,
    #[serde(default)]
    pub use_json: Option<String>,
    #[serde(default)]
    pub tiers: Vec<String>,
    #[serde(default)]
    pub bands: Vec<String>,
    #[serde(default)]
    pub segments: Vec<String>,
    #[serde(default)]
    pub at_risk: String,
    #[serde(default)]
    pub band_changed: String,
    #[serde(default)]
    pub anomaly: String,
    #[serde(default)]
    pub champion_loss: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub min_decrement: String,
    #[serde(default)]
    pub max_decrement: String,
    #[serde(default)]
    pub min_arr: String,
    #[serde(default)]
    pub max_days_to_renewal: String,
    #[serde(default)]
    pub step_title: Vec<String>,
    #[serde(default)]
    pub step_kind: Vec<String>,
    #[serde(default)]
    pub step_owner: Vec<String>,
    #[serde(default)]
    pub step_sla: Vec<String>,
    #[serde(default)]
    pub step_subject: Vec<String>,
    #[serde(default)]
    pub step_body: Vec<String>,
}

impl PlaybookForm {
    /// Whether the rule and steps come from the builder's fields rather than the JSON.
    pub fn from_builder(&self) -> bool {
        self.builder.is_some() && self.use_json.is_none()
    }
}

/// The rule and steps the form describes (from the builder or the JSON), or `None` for
/// each with its problems added to `errors`.
pub fn typed(form: &PlaybookForm, errors: &mut FormErrors) -> (Option<Rule>, Option<Vec<Step>>) {
    if form.from_builder() {
        let before = errors.0.len();
        let rule = builder::rule(&builder::RuleFields::posted(form), errors);
        let rule_ok = errors.0.len() == before;
        let steps = builder::steps(&builder::posted_steps(form), errors);
        let steps_ok = !errors.0.iter().skip(before).any(|(f, _)| *f == "steps");
        return (rule_ok.then_some(rule), steps_ok.then_some(steps));
    }
    let rule = serde_json::from_str::<Rule>(form.rule.trim())
        .map_err(|e| errors.add("rule", e.to_string()))
        .ok();
    let steps = match serde_json::from_str::<Vec<Step>>(form.steps.trim()) {
        Ok(s) => check_steps(&s)
            .map(|()| s)
            .map_err(|e| errors.add("steps", e))
            .ok(),
        Err(e) => {
            errors.add("steps", e.to_string());
            None
        }
    };
    (rule, steps)
}

/// A form that passed every check.
#[derive(Debug, PartialEq)]
pub struct Checked {
    pub rule: Value,
    pub steps: Value,
    pub holdout_pct: i16,
}

/// The typed rule, steps and holdout share, or every problem with them named.
pub fn check(form: &PlaybookForm) -> std::result::Result<Checked, FormErrors> {
    let mut errors = FormErrors::default();
    if form.name.trim().is_empty() {
        errors.add("name", "a playbook needs a name");
    }
    let holdout_pct = match form.holdout.trim() {
        "" => 0,
        h => match h.parse::<i16>() {
            Ok(pct) if (0..=50).contains(&pct) => pct,
            _ => {
                errors.add(
                    "holdout",
                    format!("'{h}' is not a whole percentage from 0 to 50"),
                );
                0
            }
        },
    };
    let (rule, steps) = typed(form, &mut errors);
    match (rule, steps) {
        (Some(r), Some(s)) if errors.is_empty() => Ok(Checked {
            rule: json!(r),
            steps: json!(s),
            holdout_pct,
        }),
        _ => Err(errors),
    }
}

/// Creates (`id` none) or updates a playbook with its audit row; its id, or the problems.
pub async fn save(
    pool: &PgPool,
    actor: &Actor,
    id: Option<i64>,
    form: &PlaybookForm,
) -> Result<std::result::Result<i64, FormErrors>> {
    let checked = match check(form) {
        Ok(c) => c,
        Err(errors) => return Ok(Err(errors)),
    };
    let name = form.name.trim();
    let draft = Draft {
        name,
        description: form.description.trim(),
        review_emails: form.review_emails.is_some(),
        holdout_pct: checked.holdout_pct,
        rule: &checked.rule,
        steps: &checked.steps,
    };
    let mut tx = pool.begin().await?;
    let saved = match id {
        Some(id) => db::update(&mut *tx, id, &draft)
            .await
            .map(|found| found.then_some(id)),
        None => db::create(&mut *tx, &draft, &actor.label()).await.map(Some),
    };
    let id = match saved {
        Ok(Some(id)) => id,
        Ok(None) => return Err(AppError::NotFound),
        Err(e) if db::name_taken(&e) => {
            let mut errors = FormErrors::default();
            errors.add("name", format!("a playbook called '{name}' exists already"));
            return Ok(Err(errors));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &mut *tx,
        actor,
        "playbook.save",
        Some(format!("playbook:{id}")),
        json!({"name": name, "rule": checked.rule, "steps": checked.steps,
               "holdout_pct": checked.holdout_pct}),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(rule: &str, steps: &str, holdout: &str) -> PlaybookForm {
        PlaybookForm {
            name: "Rescue".into(),
            rule: rule.into(),
            steps: steps.into(),
            holdout: holdout.into(),
            ..PlaybookForm::default()
        }
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let errors = check(&PlaybookForm {
            holdout: "60".into(),
            rule: "{".into(),
            steps: "[]".into(),
            ..PlaybookForm::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["name", "holdout", "rule", "steps"]);
        assert_eq!(
            errors.get("holdout"),
            Some("'60' is not a whole percentage from 0 to 50")
        );
        assert_eq!(
            errors.get("steps"),
            Some("a playbook needs at least one step")
        );
    }

    #[test]
    fn an_empty_holdout_is_none_held_out() {
        let steps =
            r#"[{"title": "Call them", "kind": "call", "owner_role": "csm", "sla_hours": 48}]"#;
        let checked = check(&form(r#"{"tiers": ["high"]}"#, steps, " ")).unwrap();
        assert_eq!(checked.holdout_pct, 0);
        assert_eq!(checked.rule, json!({"tiers": ["high"]}));
        assert_eq!(check(&form("{}", steps, "50")).unwrap().holdout_pct, 50);
    }
}
