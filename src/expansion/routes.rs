//! The expansion page: how the propensity is computed, what it found on this company's
//! history, and (for admins) the choice between the rubric's weights and learned ones.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::Redirect;
use serde::Deserialize;
use serde_json::json;

use super::backtest::{self, Precision};
use super::propensity::{SIGNALS, Tier, Weights, label};
use super::{db, poc};
use crate::auth::audit::{self, Actor};
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::layout::Chrome;

/// One row of the back-test table.
pub struct Row {
    label: &'static str,
    cells: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "expansion/index.html")]
pub struct Page {
    chrome: Chrome,
    /// (signal, weight in force %, learned weight %)
    weights: Vec<(&'static str, String, String)>,
    source: String,
    correlation: (String, String),
    rows: Vec<Row>,
    summary: String,
    poc: Vec<(&'static str, String, &'static str)>,
    can_choose: bool,
}

fn pct(v: f64) -> String {
    format!("{:.0} %", 100.0 * v)
}

fn precision_cells(p: Option<&Precision>) -> Vec<String> {
    p.map_or_else(
        || vec!["—".to_owned(); 4],
        |p| {
            vec![
                pct(p.at10),
                pct(p.at100),
                p.lift100().map_or("—".into(), |l| format!("{l:.2}×")),
                pct(p.base_rate),
            ]
        },
    )
}

pub async fn page(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
) -> Result<Page> {
    let today = state.clock.now().date();
    let mut conn = state.db.acquire().await?;
    let (_, weights, source) = db::config(&mut *conn).await?;
    let poc = poc(&mut conn, state.clock.now()).await?;
    let snapshots = state
        .caches
        .get::<backtest::Cache>()
        .get(&state.db, today)
        .await?;
    let b = backtest::evaluate(&snapshots, &weights);
    let days = b
        .days
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Page {
        chrome,
        weights: SIGNALS
            .iter()
            .zip(weights.0)
            .zip(b.learned_weights.0)
            .map(|((s, w), l)| (label(s), pct(w), pct(l)))
            .collect(),
        source,
        correlation: (
            format!("{:.2}", b.correlation.0),
            format!("{:.2}", b.correlation.1),
        ),
        rows: vec![
            Row {
                label: "Weights in force, every day",
                cells: precision_cells((!b.days.is_empty()).then_some(&b.rubric)),
            },
            Row {
                label: "Weights in force, days after the first",
                cells: precision_cells(b.rubric_same_days.as_ref()),
            },
            Row {
                label: "Learned from past expansions (walk-forward), days after the first",
                cells: precision_cells(b.learned.as_ref()),
            },
        ],
        summary: if b.days.is_empty() {
            "Not yet: a back-test needs 270 days of product usage (180 behind a day, 90 after it)."
                .to_owned()
        } else {
            format!(
                "{} past days ({days}), {} account-days; an account expanded if its billed MRR {} days later was higher.",
                b.days.len(),
                b.accounts,
                backtest::HORIZON
            )
        },
        poc: Tier::ALL
            .into_iter()
            .map(|t| {
                let (p, learned) = poc.0.get(&t).copied().unwrap_or((t.default_poc(), false));
                (
                    t.as_str(),
                    pct(p),
                    if learned {
                        "this year's win rate"
                    } else {
                        "the rubric (too few closed deals)"
                    },
                )
            })
            .collect(),
        can_choose: user.role == Role::Admin,
    })
}

#[derive(Deserialize)]
pub struct Choose {
    weights: String,
}

/// Puts the rubric's or the learned weights in force from the next scoring on.
pub async fn choose(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<Choose>,
) -> Result<Redirect> {
    let today = state.clock.now().date();
    let weights = match form.weights.as_str() {
        "rubric" => Weights::RUBRIC,
        "learned" => {
            let snapshots = state
                .caches
                .get::<backtest::Cache>()
                .get(&state.db, today)
                .await?;
            backtest::evaluate(&snapshots, &Weights::RUBRIC).learned_weights
        }
        other => {
            return Err(AppError::BadRequest(format!(
                "weights: '{other}' is not rubric or learned"
            )));
        }
    };
    let mut tx = state.db.begin().await?;
    let id = db::insert_config(&mut *tx, &weights, &form.weights, user.id).await?;
    audit::record(
        &mut *tx,
        &Actor::from(&user),
        "expansion.weights",
        Some(format!("expansion_config:{id}")),
        json!({"source": form.weights, "weights": weights.0}),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/expansion"))
}
