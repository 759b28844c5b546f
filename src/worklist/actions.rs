//! The actions a CSM takes from the worklist or from an account page: complete a task, log an
//! intervention, snooze an account, leave feedback on a prediction. Each answers htmx with
//! the fragment that changed.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::act;
use crate::accounts::{self, scope_for};
use crate::auth::CurrentUser;
use crate::error::{AppError, Result};
use crate::reasons;
use crate::state::AppState;
use crate::statuses::Outcome;

/// Tells an open account page to reload its timeline.
const TIMELINE_CHANGED: [(HeaderName, HeaderValue); 1] = [(
    HeaderName::from_static("hx-trigger"),
    HeaderValue::from_static("timeline-changed"),
)];

/// The account, if the user may act on it; 404 otherwise (accounts are not enumerable).
async fn actionable(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<accounts::db::Account> {
    accounts::db::find(&state.db, scope_for(user), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The "answers task" picker of the account page's intervention form, fetched again when
/// the timeline changes, so a task just closed is no longer offered.
#[derive(Template, WebTemplate)]
#[template(path = "accounts/_task_picker.html")]
pub struct TaskPicker {
    id: Uuid,
    open_tasks: Vec<(i64, String)>,
}

pub async fn task_picker(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<TaskPicker> {
    actionable(&state, &user, id).await?;
    Ok(TaskPicker {
        id,
        open_tasks: accounts::activity::open_tasks(&state.db, id).await?,
    })
}

/// What an action did, in words: a table row spanning `colspan` cells, or a notice.
#[derive(Template, WebTemplate)]
#[template(path = "worklist/done.html")]
pub struct Done {
    pub message: String,
    pub colspan: u8,
}

/// A task row once done: asking how it went, or saying so.
#[derive(Template, WebTemplate)]
#[template(path = "worklist/_task_done.html")]
pub struct TaskDone {
    id: i64,
    outcome: Option<&'static str>,
    choices: Vec<(&'static str, &'static str)>,
}

/// Completes one of the viewed CSM's open tasks; the row then asks how it went.
pub async fn complete_task(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<TaskDone> {
    act::complete_task(&state.db, &user, id).await?;
    Ok(TaskDone {
        id,
        outcome: None,
        choices: Outcome::ALL
            .iter()
            .map(|o| (o.as_str(), o.label()))
            .collect(),
    })
}

#[derive(Deserialize)]
pub struct OutcomeForm {
    #[serde(default)]
    outcome: String,
}

/// Records how a completed task went.
pub async fn task_outcome(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<OutcomeForm>,
) -> Result<TaskDone> {
    let outcome = act::task_outcome(&state.db, &user, id, &form.outcome).await?;
    Ok(TaskDone {
        id,
        outcome: Some(outcome.label()),
        choices: Vec::new(),
    })
}

/// Logs an intervention (closing the task it answers, if any), with an optional follow-up.
pub async fn log_intervention(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Form(form): Form<act::InterventionForm>,
) -> Result<Response> {
    let account = actionable(&state, &user, id).await?;
    let message =
        act::log_intervention(&state.db, &user, &account, &form, state.clock.now()).await?;
    Ok(created(message))
}

/// Hides an account from the worklist until a date, with a reason.
pub async fn snooze(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Form(form): Form<act::SnoozeForm>,
) -> Result<Done> {
    actionable(&state, &user, id).await?;
    let message = act::snooze(&state.db, &user, id, &form, state.clock.now().date()).await?;
    Ok(Done {
        message,
        colspan: 10,
    })
}

/// Feedback on the account's latest prediction: agree, false positive or missed churn.
pub async fn feedback(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Form(form): Form<act::FeedbackForm>,
) -> Result<Response> {
    actionable(&state, &user, id).await?;
    let message = act::feedback(&state.db, &user, id, &form).await?;
    Ok(created(message))
}

/// A recorded action on an account page: its words, and a nudge for the timeline to reload.
fn created(message: String) -> Response {
    (
        StatusCode::CREATED,
        TIMELINE_CHANGED,
        Done {
            message,
            colspan: 1,
        },
    )
        .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "worklist/action_form.html")]
pub struct ActionForm {
    id: Uuid,
    kind: String,
    today: String,
    reasons: Vec<reasons::db::ReasonCode>,
}

/// A row's log or snooze form, fetched when the CSM opens it (the list stays light).
pub async fn action_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, kind)): Path<(Uuid, String)>,
) -> Result<ActionForm> {
    actionable(&state, &user, id).await?;
    let reasons = match kind.as_str() {
        "log" => Vec::new(),
        "snooze" => reasons::db::reason_codes(&state.db, "snooze").await?,
        _ => return Err(AppError::NotFound),
    };
    Ok(ActionForm {
        id,
        kind,
        today: state.clock.now().date().to_string(),
        reasons,
    })
}
