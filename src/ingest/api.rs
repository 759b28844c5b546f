//! `POST /api/v1/{entity}`: JSON batches from pipelines, authenticated by API tokens.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::{Entity, Outcome, Payload, Status};
use crate::auth::tokens::ApiToken;
use crate::error::{AppError, Result};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct BatchQuery {
    /// A saved column mapping to read the rows' keys through.
    mapping: Option<String>,
}

#[tracing::instrument(skip_all, fields(token = %token.name, entity = %entity))]
pub async fn batch(
    State(state): State<AppState>,
    token: ApiToken,
    Path(entity): Path<String>,
    Query(q): Query<BatchQuery>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Outcome>)> {
    let entity: Entity = entity.parse().map_err(|_| AppError::NotFound)?;
    token.require(entity.as_str())?;
    let mapping = match &q.mapping {
        Some(name) => Some(super::mapping::named(&state.db, name, entity).await?),
        None => None,
    };
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge(format!(
            "The batch is larger than {} MB; split it into smaller batches.",
            state.config.max_batch_mb
        )),
        _ => AppError::BadRequest(e.body_text()),
    })?;
    let shape = || AppError::BadRequest("Send a JSON array of rows, or {\"rows\": [...]}.".into());
    let rows = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(rows)) => rows,
        Ok(Value::Object(mut o)) => match o.remove("rows") {
            Some(Value::Array(rows)) => rows,
            _ => return Err(shape()),
        },
        Ok(_) => return Err(shape()),
        Err(e) => {
            return Err(AppError::BadRequest(format!(
                "The body is not valid JSON: {e}"
            )));
        }
    };
    let outcome = super::ingest(
        &state.db,
        entity,
        Payload::Json(rows),
        mapping.as_ref(),
        "api",
        &token.actor(),
    )
    .await?;
    let status = match outcome.status {
        Status::Accepted => StatusCode::CREATED,
        Status::Unchanged => StatusCode::OK,
        Status::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((status, Json(outcome)))
}
