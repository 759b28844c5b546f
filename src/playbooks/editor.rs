//! The playbook editor (managers and admins): the rule's conditions and the steps as a form
//! builder, the same rule and steps as JSON for power users, and the preview of today's
//! matches.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;

use super::builder::{self, RuleFields, StepFields};
use super::db;
use super::edit::{self, PlaybookForm};
use super::rules::{Rule, Step};
use crate::auth::audit::Actor;
use crate::auth::users::FormErrors;
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::segment::Segment;
use crate::state::AppState;
use crate::web::errors::urlencode;
use crate::web::layout::Chrome;

type Options = &'static [(&'static str, &'static str)];
type Tick = (&'static str, &'static str, bool);

fn ticks(options: &[(&'static str, &'static str)], chosen: &[String]) -> Vec<Tick> {
    options
        .iter()
        .map(|(v, l)| (*v, *l, chosen.iter().any(|c| c == v)))
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "playbooks/edit.html")]
pub struct EditPage {
    chrome: Chrome,
    id: Option<i64>,
    form: Shown,
    blank: StepFields,
    errors: FormErrors,
    /// (value, label, ticked) of each multiple-choice condition.
    tiers: Vec<Tick>,
    bands: Vec<Tick>,
    segments: Vec<Tick>,
    either: Options,
    statuses: Options,
    owners: Options,
    step_kinds: Vec<(&'static str, &'static str)>,
}

/// What the page shows in its fields: the rule and steps both in the builder and as JSON
/// (for power users), and whether the JSON is the one to save.
pub struct Shown {
    name: String,
    description: String,
    review_emails: bool,
    holdout: String,
    rule: String,
    steps: String,
    use_json: bool,
    fields: RuleFields,
    step_fields: Vec<StepFields>,
}

impl Shown {
    /// A saved (or starting) rule and steps, in both the builder and JSON.
    fn typed(rule: &Rule, steps: &[Step]) -> Shown {
        Shown {
            name: String::new(),
            description: String::new(),
            review_emails: true,
            holdout: "0".into(),
            rule: serde_json::to_string_pretty(rule).unwrap_or_default(),
            steps: serde_json::to_string_pretty(steps).unwrap_or_default(),
            use_json: false,
            fields: RuleFields::from(rule),
            step_fields: steps.iter().map(StepFields::from).collect(),
        }
    }

    /// The form as posted, to show again with its problems.
    fn posted(form: PlaybookForm) -> Shown {
        Shown {
            fields: RuleFields::posted(&form),
            step_fields: builder::posted_steps(&form),
            use_json: !form.from_builder(),
            review_emails: form.review_emails.is_some(),
            name: form.name,
            description: form.description,
            holdout: form.holdout,
            rule: form.rule,
            steps: form.steps,
        }
    }

    fn page(mut self, chrome: Chrome, id: Option<i64>, errors: FormErrors) -> EditPage {
        if self.step_fields.is_empty() {
            self.step_fields.push(StepFields::default());
        }
        EditPage {
            chrome,
            id,
            tiers: ticks(&builder::TIERS, &self.fields.tiers),
            bands: ticks(&builder::BANDS, &self.fields.bands),
            segments: ticks(&Segment::options(), &self.fields.segments),
            form: self,
            blank: StepFields {
                sla: "24".into(),
                ..StepFields::default()
            },
            errors,
            either: &builder::EITHER,
            statuses: &builder::STATUSES,
            owners: &builder::OWNERS,
            step_kinds: builder::step_kinds(),
        }
    }
}

pub async fn new(chrome: Chrome) -> EditPage {
    let rule = Rule {
        at_risk: Some(true),
        min_arr: Some(20_000.0),
        ..Rule::default()
    };
    let steps = [Step {
        title: "Call the account".into(),
        kind: "call".into(),
        owner_role: "csm".into(),
        sla_hours: 24,
        email: None,
    }];
    Shown::typed(&rule, &steps).page(chrome, None, FormErrors::default())
}

pub async fn edit(
    State(state): State<AppState>,
    chrome: Chrome,
    Path(id): Path<i64>,
) -> Result<EditPage> {
    let p = db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let rule: Rule = serde_json::from_value(p.rule).unwrap_or_default();
    let steps: Vec<Step> = serde_json::from_value(p.steps).unwrap_or_default();
    let shown = Shown {
        name: p.name,
        description: p.description,
        review_emails: p.review_emails,
        holdout: p.holdout_pct.to_string(),
        ..Shown::typed(&rule, &steps)
    };
    Ok(shown.page(chrome, Some(id), FormErrors::default()))
}

/// Saves the editor's form, or shows it again with every problem named by its field.
async fn save(
    state: &AppState,
    chrome: Chrome,
    user: &CurrentUser,
    id: Option<i64>,
    form: PlaybookForm,
) -> Result<Response> {
    match edit::save(&state.db, &Actor::from(user), id, &form).await? {
        Ok(_) => {
            let notice = format!(
                "Saved '{}'; the next pipeline run opens its plays.",
                form.name.trim()
            );
            Ok(Redirect::to(&format!("/playbooks?notice={}", urlencode(&notice))).into_response())
        }
        Err(errors) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Shown::posted(form).page(chrome, id, errors),
        )
            .into_response()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    Form(form): Form<PlaybookForm>,
) -> Result<Response> {
    save(&state, chrome, &user, None, form).await
}

pub async fn update(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<PlaybookForm>,
) -> Result<Response> {
    save(&state, chrome, &user, Some(id), form).await
}

#[derive(Template, WebTemplate, Default)]
#[template(path = "playbooks/preview.html")]
pub struct Preview {
    error: Option<String>,
    day: String,
    /// Matches company-wide (playbooks act on every account), and how many the viewer sees.
    company: usize,
    total: usize,
    /// Whether the viewer sees their team's accounts only.
    team_only: bool,
    sample: Vec<(uuid::Uuid, String, String)>,
    /// The steps' emails as the first matched account would receive them.
    emails: Vec<(String, String, String)>,
}

/// The accounts the typed rule matches on the latest scored day (an htmx fragment).
pub async fn preview(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<PlaybookForm>,
) -> Result<Preview> {
    let mut errors = FormErrors::default();
    let (rule, steps) = edit::typed(&form, &mut errors);
    let Some(rule) = rule else {
        let problems: Vec<String> = errors
            .0
            .iter()
            .filter(|(f, _)| *f != "steps")
            .map(|(f, m)| format!("{}: {m}", f.replace('_', " ")))
            .collect();
        return Ok(Preview {
            error: Some(problems.join("; ")),
            ..Preview::default()
        });
    };
    let Some(day) = crate::scores::db::latest_day(&state.db).await? else {
        return Ok(Preview {
            error: Some("No scores yet: run the pipeline first.".into()),
            ..Preview::default()
        });
    };
    let candidates = db::candidates(&state.db, day).await?;
    let mut matched = super::matching(&rule, &candidates, day);
    let company = matched.len();
    // A manager previews their team's accounts only (names and contacts included).
    let team_only = user.role == Role::Manager;
    if team_only {
        let teams = crate::accounts::db::teams(&state.db).await?;
        matched.retain(|(c, _)| teams.get(&c.account).copied().flatten() == Some(user.id));
    }
    let mut emails = Vec::new();
    if let Some((c, _)) = matched.iter().find(|(c, _)| c.contact.is_some()) {
        for template in steps.iter().flatten().filter_map(|s| s.email.as_ref()) {
            match template.render(&|f| c.merge_field(f)) {
                Ok((subject, body)) => emails.push((
                    c.contact.as_ref().map(|x| x.1.clone()).unwrap_or_default(),
                    subject,
                    body,
                )),
                Err(e) => {
                    emails.push((String::new(), format!("Cannot render: {e}"), String::new()))
                }
            }
        }
    }
    Ok(Preview {
        emails,
        error: None,
        day: day.to_string(),
        company,
        total: matched.len(),
        team_only,
        sample: matched
            .iter()
            .take(20)
            .map(|(c, why)| (c.account, c.name.clone(), why.clone()))
            .collect(),
    })
}
