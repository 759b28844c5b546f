//! Playbook pages (managers and admins): the list, the editor with its preview.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::db;
use super::edit::{self, PlaybookForm};
use super::rules::{Rule, Step};
use crate::auth::audit::{self, Actor};
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::errors::urlencode;
use crate::web::layout::{Chrome, Notice};

pub struct PlaybookRow {
    id: i64,
    name: String,
    description: String,
    enabled: bool,
    review_emails: bool,
    holdout_pct: i16,
    rule: String,
    steps: String,
}

fn row(p: db::Playbook) -> PlaybookRow {
    let steps: Vec<Step> = serde_json::from_value(p.steps).unwrap_or_default();
    PlaybookRow {
        id: p.id,
        name: p.name,
        description: p.description,
        enabled: p.enabled,
        review_emails: p.review_emails,
        holdout_pct: p.holdout_pct,
        rule: p.rule.to_string(),
        steps: steps
            .iter()
            .map(|s| {
                format!(
                    "{} ({}, {} within {} h{})",
                    s.title,
                    s.kind,
                    s.owner_role,
                    s.sla_hours,
                    if s.email.is_some() {
                        ", with an email"
                    } else {
                        ""
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(" → "),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "playbooks/index.html")]
pub struct IndexPage {
    chrome: Chrome,
    notice: Option<String>,
    playbooks: Vec<PlaybookRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "playbooks/row.html")]
pub struct RowFragment {
    p: PlaybookRow,
}

pub async fn index(
    State(state): State<AppState>,
    chrome: Chrome,
    Query(q): Query<Notice>,
) -> Result<IndexPage> {
    Ok(IndexPage {
        chrome,
        notice: q.notice,
        playbooks: db::list(&state.db).await?.into_iter().map(row).collect(),
    })
}

pub async fn toggle(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<RowFragment> {
    let current = db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let mut tx = state.db.begin().await?;
    db::set_enabled(&mut *tx, id, !current.enabled).await?;
    audit::record(
        &mut *tx,
        &Actor::from(&user),
        if current.enabled {
            "playbook.disable"
        } else {
            "playbook.enable"
        },
        Some(format!("playbook:{id}")),
        json!({"name": current.name}),
    )
    .await?;
    tx.commit().await?;
    let updated = db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(RowFragment { p: row(updated) })
}

#[derive(Template, WebTemplate)]
#[template(path = "playbooks/edit.html")]
pub struct EditPage {
    chrome: Chrome,
    id: Option<i64>,
    name: String,
    description: String,
    review_emails: bool,
    holdout: String,
    rule: String,
    steps: String,
    errors: Vec<String>,
}

pub async fn new(chrome: Chrome) -> EditPage {
    EditPage {
        chrome,
        id: None,
        name: String::new(),
        description: String::new(),
        review_emails: true,
        holdout: "0".into(),
        rule: r#"{"at_risk": true, "min_arr": 20000}"#.into(),
        steps: r#"[{"title": "Call the account", "kind": "call", "owner_role": "csm", "sla_hours": 24}]"#.into(),
        errors: Vec::new(),
    }
}

pub async fn edit(
    State(state): State<AppState>,
    chrome: Chrome,
    Path(id): Path<i64>,
) -> Result<EditPage> {
    let p = db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(EditPage {
        chrome,
        id: Some(id),
        name: p.name,
        description: p.description,
        review_emails: p.review_emails,
        holdout: p.holdout_pct.to_string(),
        rule: serde_json::to_string_pretty(&p.rule).unwrap_or_default(),
        steps: serde_json::to_string_pretty(&p.steps).unwrap_or_default(),
        errors: Vec::new(),
    })
}

/// Saves the editor's form, or shows it again with every problem named.
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
            EditPage {
                chrome,
                id,
                review_emails: form.review_emails.is_some(),
                name: form.name,
                description: form.description,
                holdout: form.holdout,
                rule: form.rule,
                steps: form.steps,
                errors: errors
                    .0
                    .into_iter()
                    .map(|(f, m)| format!("{f}: {m}"))
                    .collect(),
            },
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

#[derive(Template, WebTemplate)]
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
    let rule = match serde_json::from_str::<Rule>(form.rule.trim()) {
        Ok(r) => r,
        Err(e) => {
            return Ok(Preview {
                error: Some(format!("rule: {e}")),
                day: String::new(),
                company: 0,
                total: 0,
                team_only: false,
                sample: Vec::new(),
                emails: Vec::new(),
            });
        }
    };
    let Some(day) = crate::scores::db::latest_day(&state.db).await? else {
        return Ok(Preview {
            error: Some("No scores yet: run the pipeline first.".into()),
            day: String::new(),
            company: 0,
            total: 0,
            team_only: false,
            sample: Vec::new(),
            emails: Vec::new(),
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
    let steps: Vec<Step> = serde_json::from_str(form.steps.trim()).unwrap_or_default();
    let mut emails = Vec::new();
    if let Some((c, _)) = matched.iter().find(|(c, _)| c.contact.is_some()) {
        for template in steps.iter().filter_map(|s| s.email.as_ref()) {
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
