//! The admin's scoring configuration: signal weights, band thresholds and risk thresholds,
//! versioned. A proposal is back-tested beside the current configuration before it is saved.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::backtest::{self, Outcome};
use super::config::{self, Settings, Thresholds};
use super::db::{self as config_db, NewHealthConfig};
use super::score::{Bands, DEFAULT_SIGNALS, Group, Signal};
use crate::auth::CurrentUser;
use crate::auth::audit::{self, Actor};
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

fn values_from(form: &HashMap<String, String>) -> Values {
    let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    Values {
        signals: fields(|d| get(&format!("w_{}", d.feature))),
        red_max: get("red_max"),
        yellow_max: get("yellow_max"),
        high: get("high"),
        medium: get("medium"),
        at_risk: get("at_risk"),
        note: get("note"),
    }
}

/// A proposal, checked: weights 0–100 adding up to 100, bands and tiers in order.
pub struct Proposal {
    pub signals: Vec<Signal>,
    pub bands: Bands,
    pub thresholds: Thresholds,
}

fn number(errors: &mut FormErrors, field: &'static str, raw: &str, lo: f64, hi: f64) -> f64 {
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => v,
        Ok(_) => {
            errors.add(field, format!("must be between {lo} and {hi}"));
            f64::NAN
        }
        Err(_) => {
            errors.add(field, format!("'{raw}' is not a number"));
            f64::NAN
        }
    }
}

pub fn parse(values: &Values) -> std::result::Result<Proposal, FormErrors> {
    let mut errors = FormErrors::default();
    let mut signals = Vec::new();
    for (field, template) in values.signals.iter().zip(DEFAULT_SIGNALS.iter()) {
        let w = number(&mut errors, template.feature, &field.value, 0.0, 100.0);
        if w > 0.0 {
            signals.push(Signal {
                weight: w,
                ..template.clone()
            });
        }
    }
    let total: f64 = signals.iter().map(|s| s.weight).sum();
    if errors.is_empty() && (total - 100.0).abs() > 0.01 {
        errors.add(
            "weights",
            format!("the weights add up to {total:.2} %; they must add up to 100 %"),
        );
    }
    let red_max = number(&mut errors, "red_max", &values.red_max, 0.0, 100.0);
    let yellow_max = number(&mut errors, "yellow_max", &values.yellow_max, 0.0, 100.0);
    if red_max >= yellow_max {
        errors.add(
            "yellow_max",
            "the yellow band must end above where the red band ends",
        );
    }
    let high = number(&mut errors, "high", &values.high, 0.0, 1.0);
    let medium = number(&mut errors, "medium", &values.medium, 0.0, 1.0);
    let at_risk = number(&mut errors, "at_risk", &values.at_risk, 0.0, 1.0);
    if medium >= high {
        errors.add("high", "the high tier must start above the medium tier");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Proposal {
        signals,
        bands: Bands {
            red_max,
            yellow_max,
        },
        thresholds: Thresholds {
            high,
            medium,
            at_risk,
        },
    })
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
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response> {
    let mut proposal = match parse(&values_from(&form)) {
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
    let calibrate = form.contains_key("calibrate");
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
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response> {
    let values = values_from(&form);
    let proposal = match parse(&values) {
        Ok(p) => p,
        Err(errors) => {
            let page = page(&state, chrome, None, values, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let actor = Actor::from(&user);
    let note = if values.note.is_empty() {
        "edited".to_owned()
    } else {
        values.note.clone()
    };
    let config = NewHealthConfig {
        signals: serde_json::to_value(&proposal.signals).map_err(anyhow::Error::from)?,
        bands: proposal.bands,
        thresholds: proposal.thresholds,
        note: &note,
    };
    let mut tx = state.db.begin().await?;
    let id = config_db::insert_health_config(&mut *tx, &config, &actor.label()).await?;
    audit::record(
        &mut *tx,
        &actor,
        "scoring.configure",
        Some(format!("health_config:{id}")),
        json!({"signals": config.signals, "bands": [proposal.bands.red_max, proposal.bands.yellow_max],
               "thresholds": proposal.thresholds, "note": note}),
    )
    .await?;
    tx.commit().await?;
    let notice = format!("Saved as version {id}; the next pipeline run scores with it.");
    Ok(Redirect::to(&format!("/admin/scoring?notice={}", urlencode(&notice))).into_response())
}
