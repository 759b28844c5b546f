//! `POST /api/v1/churn-score`: one account scored now by the production model, with its
//! tier and top drivers. Token scope `score`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::drivers;
use crate::app::AppState;
use crate::auth::tokens::ApiToken;
use crate::error::{AppError, Result};
use crate::features;
use crate::pipeline::scoring;

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
    drivers: Vec<drivers::Driver>,
    model_version: String,
}

#[tracing::instrument(skip_all, fields(token = %token.name))]
pub async fn churn_score(
    State(state): State<AppState>,
    token: ApiToken,
    Json(req): Json<Request>,
) -> Result<Json<Score>> {
    token.require("score")?;
    let external = req.account_id.trim().to_owned();
    let ids = crate::ingest::db::account_ids(&state.db, std::slice::from_ref(&external)).await?;
    let id = *ids
        .get(&external)
        .ok_or_else(|| AppError::BadRequest(format!("account_id: unknown account '{external}'")))?;
    let (model_id, model) = state
        .models
        .production(&state.db)
        .await?
        .ok_or_else(|| AppError::Conflict("No churn model is in production yet.".into()))?;
    let thresholds = scoring::settings(&state.db).await?.thresholds;
    let today = time::OffsetDateTime::now_utc().date();
    let table = features::compute_for(&state.db, today, Some(&[id])).await?;
    let row = table
        .rows
        .first()
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "Account '{external}' is not a live customer today."
            ))
        })?
        .to_vec();
    let x = vec![row];
    let p = model.predict(&x).first().copied().unwrap_or(f64::NAN);
    let contributions = model.contributions(&x);
    let top = contributions
        .first()
        .map(|(c, _)| drivers::top(&x[0], c, 3))
        .unwrap_or_default();
    Ok(Json(Score {
        account_id: external,
        as_of: today.to_string(),
        churn_probability: p,
        risk_tier: thresholds.tier(p),
        at_risk: p >= thresholds.at_risk,
        drivers: top,
        model_version: model_id.to_string(),
    }))
}
