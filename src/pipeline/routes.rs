//! Pipeline pages: start a run, and each run's log.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::response::{IntoResponse, Response};
use axum_htmx::HxRequest;
use serde_json::Value;

use crate::auth::CurrentUser;
use crate::auth::audit::Actor;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::format::timestamp;
use crate::web::layout::Chrome;

/// Runs today's pipeline and shows its log. The run has its own task, so it completes
/// even if the client stops waiting.
pub async fn start(State(state): State<AppState>, user: CurrentUser) -> Result<Redirect> {
    let actor = Actor::from(&user);
    let today = state.clock.now().date();
    let outcome = tokio::spawn(async move {
        super::run(
            &state.db,
            today,
            "analyst",
            &actor,
            &super::Options::default(),
        )
        .await
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(|e| AppError::Conflict(format!("{e:#}")))?;
    Ok(Redirect::to(&format!("/pipeline/runs/{}", outcome.run_id)))
}

pub struct StageView {
    name: String,
    status: String,
    millis: String,
    detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "pipeline/run.html")]
pub struct RunPage {
    chrome: Chrome,
    id: i64,
    day: String,
    trigger: String,
    status: String,
    started: String,
    finished: String,
    error: Option<String>,
    stages: Vec<StageView>,
}

pub async fn show(
    State(state): State<AppState>,
    chrome: Chrome,
    Path(id): Path<i64>,
) -> Result<RunPage> {
    let run = super::db::find_run(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let text = |s: &Value, k: &str| {
        s.get(k)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .unwrap_or_default()
    };
    Ok(RunPage {
        chrome,
        id: run.id,
        day: run.day.to_string(),
        trigger: run.trigger,
        status: run.status.to_string(),
        started: timestamp(run.started_at),
        finished: run
            .finished_at
            .map(timestamp)
            .unwrap_or_else(|| "still running".into()),
        error: run.error,
        stages: run
            .stages
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|s| StageView {
                name: text(s, "name"),
                status: text(s, "status"),
                millis: text(s, "millis"),
                detail: text(s, "detail"),
            })
            .collect(),
    })
}

pub struct RunView {
    id: i64,
    day: String,
    trigger: String,
    status: String,
    started: String,
    summary: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "pipeline/runs.html")]
pub struct RunsPage {
    chrome: Chrome,
    runs: Vec<RunView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "pipeline/runs.html", block = "table")]
pub struct RunsTable {
    runs: Vec<RunView>,
}

/// The latest runs, newest first: a page, or its table for the models page (htmx).
pub async fn list(
    State(state): State<AppState>,
    chrome: Chrome,
    HxRequest(htmx): HxRequest,
) -> Result<Response> {
    let runs = super::db::recent_runs(&state.db, if htmx { 10 } else { 100 })
        .await?
        .into_iter()
        .map(|r| RunView {
            id: r.id,
            day: r.day.to_string(),
            trigger: r.trigger,
            status: r.status.to_string(),
            started: timestamp(r.started_at),
            summary: r.error.unwrap_or_else(|| {
                r.stages
                    .as_array()
                    .and_then(|s| s.last())
                    .and_then(|s| s.get("detail"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            }),
        })
        .collect();
    Ok(if htmx {
        RunsTable { runs }.into_response()
    } else {
        RunsPage { chrome, runs }.into_response()
    })
}
