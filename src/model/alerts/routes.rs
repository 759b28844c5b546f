//! The alerts table on the model-health page, and what an analyst does with an alert
//! (acknowledge, mute, unmute), each answered with the table again (htmx swaps it).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use serde::Deserialize;

use super::{Decision, db, decide};
use crate::auth::CurrentUser;
use crate::error::Result;
use crate::state::AppState;
use crate::web::format::{count, timestamp};

pub struct AlertView {
    pub id: i64,
    pub kind: String,
    pub subject: String,
    pub message: String,
    pub when: String,
    /// "open", or who acknowledged it and when.
    pub status: Option<String>,
    pub muted_until: Option<String>,
}

/// The alerts, open ones first, and what was just done.
pub struct AlertDesk {
    pub alerts: Vec<AlertView>,
    pub notice: Option<String>,
}

impl AlertDesk {
    pub async fn load(db: &sqlx::PgPool, notice: Option<String>) -> Result<AlertDesk> {
        let alerts = db::recent(db, 30)
            .await?
            .into_iter()
            .map(|a| AlertView {
                id: a.id,
                kind: a.kind,
                subject: a.subject,
                message: a.message,
                when: if a.seen > 1 {
                    format!(
                        "first on {}, last on {} ({})",
                        a.day,
                        a.last_seen,
                        count(i64::from(a.seen), "run day", "run days")
                    )
                } else {
                    format!("run day {} (raised {})", a.day, timestamp(a.created_at))
                },
                status: a.acknowledged_at.map(|t| {
                    format!(
                        "acknowledged by {} on {}",
                        a.acknowledged_by.as_deref().unwrap_or("a former user"),
                        timestamp(t)
                    )
                }),
                muted_until: a.muted_until.map(|d| d.to_string()),
            })
            .collect();
        Ok(AlertDesk { alerts, notice })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "model/_alerts.html")]
pub struct AlertsFragment {
    desk: AlertDesk,
}

async fn answer(state: &AppState, said: String) -> Result<AlertsFragment> {
    Ok(AlertsFragment {
        desk: AlertDesk::load(&state.db, Some(said)).await?,
    })
}

pub async fn acknowledge(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<AlertsFragment> {
    let today = state.clock.now().date();
    let said = decide(&state.db, &user, id, Decision::Acknowledge, today).await?;
    answer(&state, said).await
}

#[derive(Deserialize)]
pub struct MuteForm {
    days: i64,
}

pub async fn mute(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<MuteForm>,
) -> Result<AlertsFragment> {
    let today = state.clock.now().date();
    let said = decide(&state.db, &user, id, Decision::Mute(form.days), today).await?;
    answer(&state, said).await
}

pub async fn unmute(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<AlertsFragment> {
    let today = state.clock.now().date();
    let said = decide(&state.db, &user, id, Decision::Unmute, today).await?;
    answer(&state, said).await
}
