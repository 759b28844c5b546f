//! The analyst's model page: the registry side by side, the production model's walk-forward
//! folds and feature importance, recent pipeline runs; train and promote from here.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use serde_json::Value;
use uuid::Uuid;

use super::metrics::Report;
use super::monitor;
use super::registry;
use super::screen::{Screened, Verdict};
use crate::auth::CurrentUser;
use crate::auth::audit::Actor;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::charts;
use crate::web::errors::urlencode;
use crate::web::format::timestamp;
use crate::web::layout::{Chrome, Notice};

pub struct VersionView {
    id: String,
    version: i64,
    algorithm: String,
    trained: String,
    window: String,
    rows: i32,
    /// (label, value) of each validation figure, in the table's column order.
    figures: Vec<(&'static str, String)>,
    in_production: bool,
    /// Why the guard would not promote it automatically.
    objections: Vec<String>,
}

pub struct FoldView {
    date: String,
    rows: String,
    auc: String,
    ece: String,
}

/// One screened event-type candidate, as the Models page lists it.
pub struct CandidateView {
    feature: String,
    rho: String,
    coverage: String,
    closest: String,
    partial: String,
    verdict: &'static str,
    kept: bool,
}

impl From<Screened> for CandidateView {
    fn from(s: Screened) -> Self {
        CandidateView {
            rho: s
                .rho
                .map_or_else(|| "n/a".to_owned(), |r| format!("{r:+.2}")),
            coverage: format!("{:.0} %", s.coverage * 100.0),
            closest: s.closest.map_or_else(String::new, |(f, r)| {
                format!("{} ({r:.2})", crate::features::label(&f))
            }),
            partial: s.partial.map_or_else(String::new, |r| format!("{r:+.2}")),
            verdict: s.verdict.label(),
            kept: s.verdict == Verdict::Kept,
            feature: s.feature,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "model/index.html")]
pub struct ModelsPage {
    chrome: Chrome,
    notice: Option<String>,
    versions: Vec<VersionView>,
    folds: Vec<FoldView>,
    importance: Vec<(String, String)>,
    /// The newest training's screening of event-type candidates, strongest first.
    candidates: Vec<CandidateView>,
    calibration: Option<charts::CalibrationChart>,
    lift: Option<charts::BarChart>,
}

fn num(v: &Value, key: &str, digits: usize) -> String {
    v.get(key)
        .and_then(Value::as_f64)
        .map_or_else(|| "n/a".to_owned(), |x| format!("{x:.digits$}"))
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
    let candidates: Vec<Screened> = versions
        .first()
        .and_then(|v| v.metrics.get("candidates").cloned())
        .and_then(|c| serde_json::from_value(c).ok())
        .unwrap_or_default();
    let overall = production.and_then(|v| v.metrics.get("overall").cloned());
    let report: Option<Report> = overall.and_then(|o| serde_json::from_value(o).ok());
    let calibration = report.as_ref().map(|r| {
        let points: Vec<_> = r
            .calibration
            .iter()
            .map(|b| (b.mean_predicted, b.observed_rate, b.count))
            .collect();
        charts::calibration(
            "Calibration: predicted against observed churn, walk-forward",
            &points,
        )
    });
    let lift = report.as_ref().filter(|r| !r.lift.is_empty()).map(|r| {
        charts::lift(
            "Lift by decile of predicted risk (1 = riskiest tenth), walk-forward",
            &r.lift,
        )
    });
    Ok(ModelsPage {
        chrome,
        notice: q.notice,
        calibration,
        lift,
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
                    algorithm: super::train::Algorithm::label(&v.algorithm).to_owned(),
                    trained: timestamp(v.trained_at),
                    window: format!("{} → {}", v.train_from, v.train_to),
                    rows: v.rows,
                    figures: vec![
                        ("AUC-ROC", num(&o, "auc_roc", 3)),
                        ("AUC-PR", num(&o, "auc_pr", 3)),
                        (
                            "Precision @80 % recall",
                            num(&o, "precision_at_80_recall", 3),
                        ),
                        (
                            "Brier / naive",
                            format!("{} / {}", num(&o, "brier", 4), num(&o, "baseline_brier", 4)),
                        ),
                        ("ECE", num(&o, "ece", 3)),
                        (
                            "Lift top 10 %",
                            lift.map_or_else(|| "n/a".to_owned(), |l| format!("{l:.1}×")),
                        ),
                    ],
                    in_production: v.in_production,
                    objections: v
                        .metrics
                        .get("objections")
                        .and_then(|o| serde_json::from_value(o.clone()).ok())
                        .unwrap_or_default(),
                }
            })
            .collect(),
        folds,
        candidates: candidates.into_iter().map(CandidateView::from).collect(),
        importance: importance
            .into_iter()
            .take(8)
            .map(|(k, v)| (k, format!("{v:.3}")))
            .collect(),
    })
}

/// Trains both models and registers them. The work runs in its own task, so a client that
/// gives up waiting does not cancel it.
pub async fn train(State(state): State<AppState>, user: CurrentUser) -> Result<Redirect> {
    let actor = Actor::from(&user);
    let today = state.clock.now().date();
    let result =
        tokio::spawn(async move { super::training::train(&state.db, today, &actor).await })
            .await
            .map_err(anyhow::Error::from)?;
    let notice = match result {
        Ok(t) => format!(
            "Trained {} versions on {} snapshot rows in {:.0} s; {}.",
            t.versions.len(),
            t.rows,
            t.seconds,
            t.outcome()
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

pub struct DriftView {
    feature: String,
    psi: String,
    /// ok, watch or alert
    level: &'static str,
}

pub struct WeekView {
    week: String,
    accounts: usize,
    churned: usize,
    auc: String,
    in_sample: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "model/health.html")]
pub struct HealthPage {
    chrome: Chrome,
    run: Option<(i64, String)>,
    predictions: u64,
    drift: Vec<DriftView>,
    weeks: Vec<WeekView>,
    histogram: Option<charts::BarChart>,
    desk: super::alerts::routes::AlertDesk,
    freshness: String,
    feedback: Vec<FeedbackView>,
}

pub struct FeedbackView {
    verdict: String,
    reason: String,
    count: i64,
    outcome: String,
}

/// Model health: what the latest run measured, and the alerts raised.
pub async fn health(State(state): State<AppState>, chrome: Chrome) -> Result<HealthPage> {
    let latest = super::db::latest_monitoring(&state.db).await?;
    let m = latest.as_ref().map(|l| &l.2);
    let field = |key: &str| m.and_then(|m| m.get(key)).cloned().unwrap_or(Value::Null);
    let mut drift: Vec<DriftView> = field("drift")
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| {
            let psi = d.get("psi").and_then(Value::as_f64).unwrap_or(0.0);
            DriftView {
                feature: d
                    .get("feature")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                psi: format!("{psi:.3}"),
                level: if psi > monitor::PSI_ALERT {
                    "alert"
                } else if psi > monitor::PSI_WATCH {
                    "watch"
                } else {
                    "ok"
                },
            }
        })
        .collect();
    drift.sort_by(|a, b| b.psi.cmp(&a.psi));
    let weeks: Vec<monitor::Week> = serde_json::from_value(field("weeks")).unwrap_or_default();
    let histogram: Vec<f64> = serde_json::from_value(field("histogram")).unwrap_or_default();
    let histogram = (!histogram.is_empty()).then(|| {
        let bins: Vec<(String, f64)> = histogram
            .iter()
            .enumerate()
            .map(|(i, share)| (format!("{:.1}", i as f64 / 10.0), *share))
            .collect();
        charts::bars("Distribution of today's churn probabilities", &bins, |v| {
            format!("{:.1} %", v * 100.0)
        })
    });
    let now = state.clock.now();
    let freshness = match crate::ingest::db::newest_event(&state.db).await? {
        Some(t) => format!(
            "newest product event {} h old",
            (now - t).whole_hours().max(0)
        ),
        None => "no product events yet".to_owned(),
    };
    Ok(HealthPage {
        chrome,
        run: latest.as_ref().map(|(id, day, _)| (*id, day.to_string())),
        predictions: field("predictions").as_u64().unwrap_or(0),
        drift,
        weeks: weeks
            .into_iter()
            .map(|w| WeekView {
                week: w.week,
                accounts: w.accounts,
                churned: w.churned,
                auc: metrics_show(w.auc),
                in_sample: w.in_sample,
            })
            .collect(),
        histogram,
        desk: super::alerts::routes::AlertDesk::load(&state.db, None).await?,
        freshness,
        feedback: super::db::feedback_summary(&state.db, now.date())
            .await?
            .into_iter()
            .map(|f| FeedbackView {
                outcome: if f.matured == 0 {
                    "outcome not known yet".to_owned()
                } else {
                    let right = match f.verdict.as_str() {
                        "false_positive" => f.matured - f.churned,
                        _ => f.churned,
                    };
                    format!(
                        "{} of {} with a known outcome churned; the CSM was right {} times",
                        f.churned, f.matured, right
                    )
                },
                verdict: f.verdict.as_str().replace('_', " "),
                reason: f.reason,
                count: f.count,
            })
            .collect(),
    })
}

fn metrics_show(v: Option<f64>) -> String {
    super::metrics::show(v)
}
