//! The pipeline's exports: `/opportunities/export.csv` in the sources' schema (`account_id,
//! score, projected_arr, poc, signals_json, created_date, status`) and the same rows as JSON
//! for a CRM (`GET /api/v1/opportunities`, token scope `opportunities`).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::Viewer;
use super::db::{self, Row};
use crate::auth::CurrentUser;
use crate::auth::tokens::ApiToken;
use crate::error::Result;
use crate::state::AppState;

pub const HEADER: [&str; 7] = [
    "account_id",
    "score",
    "projected_arr",
    "poc",
    "signals_json",
    "created_date",
    "status",
];

/// The probability of close an opportunity carries: won 1, lost or rejected 0, else the
/// tier's rubric default.
fn poc(o: &Row) -> f64 {
    match o.status {
        super::Status::Won => 1.0,
        super::Status::Lost | super::Status::Rejected => 0.0,
        _ => o.tier.default_poc(),
    }
}

/// The estimate weighted by the probability of close, in dollars.
fn projected_dollars(o: &Row) -> f64 {
    o.estimated_arr_cents as f64 / 100.0 * poc(o)
}

fn record(o: &Row) -> Value {
    json!({
        "account_id": o.external_id,
        "score": (f64::from(o.propensity) * 10.0).round() / 10.0,
        "projected_arr": (projected_dollars(o) * 100.0).round() / 100.0,
        "poc": poc(o),
        "signals_json": {"tier": o.tier.as_str(), "type": o.kind.as_str(), "reasons": o.reasons},
        "created_date": o.created_at.date().to_string(),
        "status": o.status.export(),
    })
}

pub async fn csv(State(state): State<AppState>, user: CurrentUser) -> Result<impl IntoResponse> {
    let rows = db::all(&state.db, Viewer::of(&user)).await?;
    let mut w = crate::web::csv::Writer::new(Vec::new());
    w.record(HEADER)?;
    for o in &rows {
        let r = record(o);
        w.record([
            o.external_id.clone(),
            r["score"].to_string(),
            format!("{:.2}", projected_dollars(o)),
            format!("{:.2}", poc(o)),
            r["signals_json"].to_string(),
            o.created_at.date().to_string(),
            o.status.export().to_owned(),
        ])?;
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"opportunities.csv\"",
            ),
        ],
        w.into_inner()?,
    ))
}

pub async fn json(State(state): State<AppState>, token: ApiToken) -> Result<Json<Value>> {
    token.require("opportunities")?;
    let rows = db::all(&state.db, Viewer::All).await?;
    Ok(Json(
        json!({"opportunities": rows.iter().map(record).collect::<Vec<_>>()}),
    ))
}
