//! The analyst's model page: the registry side by side, the production model's walk-forward
//! folds and feature importance, recent pipeline runs; train and promote from here.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::registry;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::auth::audit::Actor;
use crate::error::{AppError, Result};
use crate::pipeline;
use crate::web::errors::urlencode;
use crate::web::format::timestamp;
use crate::web::layout::Chrome;

pub struct VersionView {
    id: String,
    version: i64,
    algorithm: String,
    trained: String,
    window: String,
    rows: i32,
    figures: Vec<String>,
    in_production: bool,
}

pub struct FoldView {
    date: String,
    rows: String,
    auc: String,
    ece: String,
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
#[template(path = "model/index.html")]
pub struct ModelsPage {
    chrome: Chrome,
    notice: Option<String>,
    versions: Vec<VersionView>,
    folds: Vec<FoldView>,
    importance: Vec<(String, String)>,
    runs: Vec<RunView>,
}

fn num(v: &Value, key: &str, digits: usize) -> String {
    v.get(key)
        .and_then(Value::as_f64)
        .map_or_else(|| "n/a".to_owned(), |x| format!("{x:.digits$}"))
}

#[derive(Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

pub async fn index(
    State(state): State<AppState>,
    chrome: Chrome,
    Query(q): Query<Notice>,
) -> Result<ModelsPage> {
    let versions = registry::list(&state.db).await?;
    let production = versions.iter().find(|v| v.in_production);
    let folds = production
        .and_then(|v| v.metrics.get("folds").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .map(|f| FoldView {
            date: f
                .get("test_date")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            rows: f
                .get("train_rows")
                .map(ToString::to_string)
                .unwrap_or_default(),
            auc: f
                .get("report")
                .map_or_else(String::new, |r| num(r, "auc_roc", 3)),
            ece: f
                .get("report")
                .map_or_else(String::new, |r| num(r, "ece", 3)),
        })
        .collect();
    let mut importance: Vec<(String, f64)> = production
        .and_then(|v| v.importance.as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.as_f64().unwrap_or(0.0)))
        .collect();
    importance.sort_by(|a, b| b.1.total_cmp(&a.1));
    let runs = pipeline::db::recent_runs(&state.db, 10)
        .await?
        .into_iter()
        .map(|r| RunView {
            id: r.id,
            day: r.day.to_string(),
            trigger: r.trigger,
            status: r.status,
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
    Ok(ModelsPage {
        chrome,
        notice: q.notice,
        versions: versions
            .into_iter()
            .map(|v| {
                let o = v.metrics.get("overall").cloned().unwrap_or(Value::Null);
                let lift = o
                    .get("lift")
                    .and_then(Value::as_array)
                    .and_then(|l| l.first())
                    .and_then(Value::as_f64);
                VersionView {
                    id: v.id.to_string(),
                    version: v.version,
                    algorithm: v.algorithm,
                    trained: timestamp(v.trained_at),
                    window: format!("{} → {}", v.train_from, v.train_to),
                    rows: v.rows,
                    figures: vec![
                        num(&o, "auc_roc", 3),
                        num(&o, "auc_pr", 3),
                        num(&o, "precision_at_80_recall", 3),
                        format!("{} / {}", num(&o, "brier", 4), num(&o, "baseline_brier", 4)),
                        num(&o, "ece", 3),
                        lift.map_or_else(|| "n/a".to_owned(), |l| format!("{l:.1}×")),
                    ],
                    in_production: v.in_production,
                }
            })
            .collect(),
        folds,
        importance: importance
            .into_iter()
            .take(8)
            .map(|(k, v)| (k, format!("{v:.3}")))
            .collect(),
        runs,
    })
}

/// Trains both models and registers them. The work runs in its own task, so a client that
/// gives up waiting does not cancel it.
pub async fn train(State(state): State<AppState>, user: CurrentUser) -> Result<Redirect> {
    let actor = Actor::from(&user);
    let today = time::OffsetDateTime::now_utc().date();
    let result =
        tokio::spawn(async move { super::training::train(&state.db, today, &actor).await })
            .await
            .map_err(anyhow::Error::from)?;
    let notice = match result {
        Ok(t) => format!(
            "Trained {} versions on {} snapshot rows in {:.0} s.",
            t.versions.len(),
            t.rows,
            t.seconds
        ),
        Err(e) => format!("Training failed: {e:#}"),
    };
    Ok(Redirect::to(&format!(
        "/models?notice={}",
        urlencode(&notice)
    )))
}

pub async fn promote(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Redirect> {
    if !super::training::promote(&state.db, &Actor::from(&user), id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/models?notice=Promoted+to+production."))
}
