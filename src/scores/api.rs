//! `POST /api/v1/churn-score`: one account's churn probability now from the production
//! model, with its tier and top drivers. Token scope `score`.
//!
//! An account scored today (by the daily run, or re-scored since its last ingested batch)
//! with nothing waiting to be re-scored is answered from that stored score, which is what
//! scoring it again would give; any other account is scored on the spot. `source` says which.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::reads;
use crate::auth::tokens::ApiToken;
use crate::error::{AppError, Result};
use crate::features;
use crate::health::config;
use crate::model::drivers;
use crate::model::registry::Cache;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Request {
    /// The account's external id.
    account_id: String,
}

#[derive(Serialize)]
pub struct Score {
    account_id: String,
    as_of: String,
    churn_probability: f64,
    risk_tier: &'static str,
    at_risk: bool,
    drivers: serde_json::Value,
    model_version: String,
    /// `stored` (today's score, nothing new since) or `computed` (scored for this request).
    source: &'static str,
}

#[tracing::instrument(skip_all, fields(token = %token.name))]
pub async fn churn_score(
    State(state): State<AppState>,
    token: ApiToken,
    Json(req): Json<Request>,
) -> Result<Json<Score>> {
    token.require("score")?;
    let external = req.account_id.trim().to_owned();
    let (model_id, model) = state
        .caches
        .get::<Cache>()
        .production(&state.db)
        .await?
        .ok_or_else(|| AppError::Conflict("No churn model is in production yet.".into()))?;
    let today = state.clock.now().date();
    // Two independent reads at once.
    let (settings, found) = tokio::try_join!(config::settings(&state.db), async {
        Ok::<_, anyhow::Error>(reads::lookup(&state.db, &external, model_id, today).await?)
    })?;
    let thresholds = settings.thresholds;
    let reads::Lookup { id, stored } = found
        .ok_or_else(|| AppError::BadRequest(format!("account_id: unknown account '{external}'")))?;
    let score = |p: f64, drivers, source| Score {
        account_id: external.clone(),
        as_of: today.to_string(),
        churn_probability: p,
        risk_tier: thresholds.tier(p),
        at_risk: p >= thresholds.at_risk,
        drivers,
        model_version: model_id.to_string(),
        source,
    };
    if let Some((p, drivers)) = stored {
        return Ok(Json(score(p, drivers, "stored")));
    }
    let table = features::compute_for(&state.db, today, Some(&[id]), &model.candidates).await?;
    let x = table.x();
    if x.is_empty() {
        return Err(AppError::Conflict(format!(
            "Account '{external}' is not a live customer today."
        )));
    }
    let p = model.predict(&x).first().copied().unwrap_or(f64::NAN);
    let contributions = model.contributions(&x);
    let top = contributions
        .first()
        .map(|(c, _)| drivers::top(&model.candidates, &x[0], c, 3))
        .unwrap_or_default();
    let drivers = serde_json::to_value(top).map_err(anyhow::Error::from)?;
    Ok(Json(score(p, drivers, "computed")))
}
