//! Pipeline pages: start a run, and each run's log.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use axum::response::{IntoResponse, Response};
use axum_htmx::HxRequest;
use serde::Deserialize;
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
    /// How long it ran ("41 s", "2 min 5 s"), empty while it runs.
    took: String,
    summary: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "pipeline/runs.html")]
pub struct RunsPage {
    chrome: Chrome,
    runs: Vec<RunView>,
    /// The link to the next page of older runs, when there may be one.
    older: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "pipeline/runs.html", block = "table")]
pub struct RunsTable {
    runs: Vec<RunView>,
}

#[derive(Deserialize)]
pub struct RunsQuery {
    /// Show the runs older than this one.
    before: Option<i64>,
}

const RUNS_PER_PAGE: i64 = 50;

/// The latest runs, newest first, fifty a page: a page, or its table of ten for the models
/// page (htmx).
pub async fn list(
    State(state): State<AppState>,
    chrome: Chrome,
    HxRequest(htmx): HxRequest,
    Query(q): Query<RunsQuery>,
) -> Result<Response> {
    let limit = if htmx { 10 } else { RUNS_PER_PAGE };
    let runs: Vec<RunView> = super::db::recent_runs(&state.db, q.before, limit)
        .await?
        .into_iter()
        .map(|r| RunView {
            id: r.id,
            day: r.day.to_string(),
            trigger: r.trigger,
            status: r.status.to_string(),
            started: timestamp(r.started_at),
            took: r
                .finished_at
                .map(|f| took(f - r.started_at))
                .unwrap_or_default(),
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
        let older = (runs.len() as i64 == limit)
            .then(|| runs.last().map(|r| r.id))
            .flatten();
        RunsPage {
            chrome,
            runs,
            older,
        }
        .into_response()
    })
}

/// A run's duration in words: "850 ms", "41 s", "2 min 5 s".
fn took(d: time::Duration) -> String {
    let ms = d.whole_milliseconds();
    match d.whole_seconds() {
        _ if ms < 1000 => format!("{ms} ms"),
        s if s < 60 => format!("{s} s"),
        s => format!("{} min {} s", s / 60, s % 60),
    }
}
