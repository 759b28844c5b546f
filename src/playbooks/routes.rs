//! Playbook pages (managers and admins): the list, the editor with its preview.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde_json::json;

use super::db;
use super::rules::{Rule, Step};
use crate::auth::CurrentUser;
use crate::auth::audit::{self, Actor};
use crate::error::{AppError, Result};
use crate::state::AppState;
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
    let rule: Rule = serde_json::from_value(p.rule).unwrap_or_default();
    PlaybookRow {
        id: p.id,
        name: p.name,
        description: p.description,
        enabled: p.enabled,
        review_emails: p.review_emails,
        holdout_pct: p.holdout_pct,
        rule: rule.in_words(),
        steps: steps
            .iter()
            .map(Step::in_words)
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
