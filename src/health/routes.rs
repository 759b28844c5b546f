//! The admin's scoring configuration: signal weights, band thresholds and risk thresholds,
//! versioned. A proposal is back-tested beside the current configuration before it is saved.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::backtest::{self, Outcome};
use super::config::{self, Settings};
use super::db as config_db;
use super::proposal::{self, ScoringForm};
use super::score::{DEFAULT_SIGNALS, Group, Signal};
use crate::auth::CurrentUser;
use crate::auth::audit::Actor;
use crate::auth::users::FormErrors;
use crate::error::Result;
use crate::state::AppState;
use crate::web::errors::urlencode;
use crate::web::format::timestamp;
use crate::web::layout::{Chrome, Notice};

/// One editable signal: the current weight, or the value the admin typed.
pub struct SignalField {
    feature: &'static str,
    group: &'static str,
    direction: &'static str,
    value: String,
}

/// The form's values as typed (so a refused form comes back as it was).
pub struct Values {
    signals: Vec<SignalField>,
    red_max: String,
    yellow_max: String,
    high: String,
    medium: String,
    at_risk: String,
    note: String,
}

pub struct VersionView {
    id: i64,
    when: String,
    by: String,
    note: String,
    weights: String,
    bands: String,
    thresholds: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "health/scoring.html")]
pub struct ScoringPage {
    chrome: Chrome,
    notice: Option<String>,
    current_id: i64,
    values: Values,
    errors: FormErrors,
    versions: Vec<VersionView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "health/backtest.html")]
pub struct BacktestView {
    errors: FormErrors,
    current: Option<OutcomeView>,
    proposed: Option<OutcomeView>,
    summary: String,
    /// Bands calibrated on the outcomes, when asked for: they replace the form's.
    calibrated: Option<(f64, f64)>,
}

pub struct OutcomeView {
    auc: String,
    bands: Vec<(&'static str, String, String)>,
}

impl From<&Outcome> for OutcomeView {
    fn from(o: &Outcome) -> Self {
        OutcomeView {
            auc: o
                .auc
                .map_or_else(|| "n/a".to_owned(), |a| format!("{a:.3}")),
            bands: o
                .bands
                .iter()
                .map(|b| {
                    (
                        b.band.as_str(),
                        format!("{} of {}", b.churned, b.accounts),
                        b.rate()
                            .map_or_else(|| "—".to_owned(), |r| format!("{:.1} %", r * 100.0)),
                    )
                })
                .collect(),
        }
    }
}

fn group_name(g: Group) -> &'static str {
    match g {
        Group::Behavioural => "behavioural",
        Group::Financial => "financial",
        Group::Support => "support",
    }
}

/// Every signal Keel knows, with the value `value` gives it.
fn fields(value: impl Fn(&Signal) -> String) -> Vec<SignalField> {
    DEFAULT_SIGNALS
        .iter()
        .map(|d| SignalField {
            feature: d.feature,
            group: group_name(d.group),
            direction: if d.higher_is_healthier {
                "higher is healthier"
            } else {
                "lower is healthier"
            },
            value: value(d),
        })
        .collect()
}

fn values_of(s: &Settings) -> Values {
    Values {
        signals: fields(|d| {
            s.signals
                .iter()
                .find(|x| x.feature == d.feature)
                .map_or(0.0, |x| x.weight)
                .to_string()
        }),
        red_max: s.bands.red_max.to_string(),
        yellow_max: s.bands.yellow_max.to_string(),
        high: s.thresholds.high.to_string(),
        medium: s.thresholds.medium.to_string(),
        at_risk: s.thresholds.at_risk.to_string(),
        note: String::new(),
    }
}

fn values_from(form: &ScoringForm) -> Values {
    Values {
        signals: fields(|d| form.weight(d.feature).to_owned()),
        red_max: form.red_max.trim().to_owned(),
        yellow_max: form.yellow_max.trim().to_owned(),
        high: form.high.trim().to_owned(),
        medium: form.medium.trim().to_owned(),
        at_risk: form.at_risk.trim().to_owned(),
        note: form.note.trim().to_owned(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    chrome: Chrome,
    Query(q): Query<Notice>,
) -> Result<ScoringPage> {
    let current = config::settings(&state.db).await?;
    page(
        &state,
        chrome,
        q.notice,
        values_of(&current),
        FormErrors::default(),
    )
    .await
}

async fn page(
    state: &AppState,
    chrome: Chrome,
    notice: Option<String>,
    values: Values,
    errors: FormErrors,
) -> Result<ScoringPage> {
    let versions = config_db::health_configs(&state.db).await?;
    Ok(ScoringPage {
        chrome,
        notice,
        current_id: versions.first().map_or(0, |v| v.id),
        values,
        errors,
        versions: versions
            .into_iter()
            .map(|c| {
                let id = c.id;
                let (when, by, note) = (
                    timestamp(c.created_at),
                    c.created_by.clone(),
                    c.note.clone(),
                );
                let s = Settings::from_row(c);
                VersionView {
                    id,
                    when,
                    by,
                    note,
                    weights: s
                        .signals
                        .iter()
                        .map(|x| format!("{} {}", x.feature, x.weight))
                        .collect::<Vec<_>>()
                        .join(", "),
                    bands: format!("red ≤ {}, yellow ≤ {}", s.bands.red_max, s.bands.yellow_max),
                    thresholds: format!(
                        "high ≥ {}, medium ≥ {}, at-risk ≥ {}",
                        s.thresholds.high, s.thresholds.medium, s.thresholds.at_risk
                    ),
                }
            })
            .collect(),
    })
}

/// The back-test of the typed proposal beside the current configuration (an htmx fragment).
pub async fn backtest(
    State(state): State<AppState>,
    Form(form): Form<ScoringForm>,
) -> Result<Response> {
    let mut proposal = match proposal::check(&form) {
        Ok(p) => p,
        Err(errors) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                BacktestView {
                    errors,
                    current: None,
                    proposed: None,
                    summary: String::new(),
                    calibrated: None,
                },
            )
                .into_response());
        }
    };
    let current = config::settings(&state.db).await?;
    let today = state.clock.now().date();
    let snapshots = state
        .caches
        .get::<super::backtest::SnapshotCache>()
        .get(&state.db, today)
        .await?;
    let calibrate = form.calibrate.is_some();
    let (now, proposed, calibrated) = tokio::task::spawn_blocking(move || {
        let calibrated = calibrate
            .then(|| backtest::calibrate(&snapshots, &proposal.signals))
            .flatten();
        if let Some(b) = calibrated {
            proposal.bands = b;
        }
        (
            backtest::run(&snapshots, &current.signals, current.bands),
            backtest::run(&snapshots, &proposal.signals, proposal.bands),
            calibrated.map(|b| (b.red_max, b.yellow_max)),
        )
    })
    .await
    .map_err(anyhow::Error::from)?;
    let summary = format!(
        "{} account snapshots from {}, each scored as of its date and compared with whether the account churned in the next 60 days.",
        now.rows,
        now.dates
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(BacktestView {
        errors: FormErrors::default(),
        current: Some(OutcomeView::from(&now)),
        proposed: Some(OutcomeView::from(&proposed)),
        summary,
        calibrated,
    }
    .into_response())
}

/// Saves the proposal as the new version; the next run (or re-score) uses it.
pub async fn save(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    Form(form): Form<ScoringForm>,
) -> Result<Response> {
    let id = match proposal::save(&state.db, &Actor::from(&user), &form).await? {
        Ok(id) => id,
        Err(errors) => {
            let page = page(&state, chrome, None, values_from(&form), errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let notice = format!("Saved as version {id}; the next pipeline run scores with it.");
    Ok(Redirect::to(&format!("/admin/scoring?notice={}", urlencode(&notice))).into_response())
}
