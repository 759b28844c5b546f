//! Scores out of Keel: a CSV download for people, and a paged JSON endpoint a CRM can pull
//! (token scope `scores`). Both read one day's scores, the latest by default.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use time::Date;

use super::db::{self, ExportRow};
use crate::auth::tokens::ApiToken;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::format::parse_date;

const CSV_PAGE: i64 = 5000;
const MAX_LIMIT: i64 = 5000;

#[derive(Deserialize)]
pub struct ExportQuery {
    day: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
}

fn parse_day(raw: Option<&str>) -> Result<Option<Date>> {
    raw.filter(|d| !d.is_empty())
        .map(|d| parse_date(d, "day"))
        .transpose()
}

async fn day_of(state: &AppState, q: &ExportQuery) -> Result<Date> {
    db::export_day(&state.db, parse_day(q.day.as_deref())?)
        .await?
        .ok_or_else(|| AppError::Conflict("No scores yet: run the pipeline first.".into()))
}

/// Every score of the day as CSV; drivers as their plain words joined with "; ".
pub async fn csv(
    State(state): State<AppState>,
    Query(q): Query<ExportQuery>,
) -> Result<impl IntoResponse> {
    let day = day_of(&state, &q).await?;
    let mut out = crate::web::csv::Writer::new(Vec::new());
    out.record([
        "account_id",
        "name",
        "segment",
        "day",
        "health_score",
        "band",
        "trajectory",
        "decrement",
        "churn_probability",
        "risk_tier",
        "at_risk",
        "drivers",
        "anomaly",
        "champion_loss",
    ])?;
    let mut after = String::new();
    loop {
        let page = db::export_page(&state.db, day, &after, CSV_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.account_id.clone();
        for r in &page {
            let opt = |v: Option<String>| v.unwrap_or_default();
            out.record([
                r.account_id.clone(),
                r.name.clone(),
                opt(r.segment.clone()),
                day.to_string(),
                format!("{:.2}", r.health_score),
                r.band.clone(),
                opt(r.trajectory.clone()),
                opt(r.decrement.map(|d| format!("{d:.2}"))),
                opt(r.churn_probability.map(|p| format!("{p:.4}"))),
                opt(r.risk_tier.clone()),
                r.at_risk.to_string(),
                driver_words(r),
                opt(r.anomaly.clone()),
                opt(r.champion_loss.clone()),
            ])?;
        }
    }
    let body = out.into_inner()?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"keel-scores-{day}.csv\""),
            ),
        ],
        body,
    ))
}

fn driver_words(r: &ExportRow) -> String {
    r.drivers
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|x| x.get("text").and_then(|t| t.as_str()))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

#[derive(Serialize)]
pub struct Page {
    day: String,
    scores: Vec<ExportRow>,
    /// Pass as `after` for the next page; absent on the last page.
    next_after: Option<String>,
}

/// `GET /api/v1/scores?day=&after=&limit=`: a day's scores in pages, in account-id order.
pub async fn json(
    State(state): State<AppState>,
    token: ApiToken,
    Query(q): Query<ExportQuery>,
) -> Result<Json<Page>> {
    token.require("scores")?;
    let limit = q.limit.unwrap_or(1000);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::BadRequest(format!(
            "limit: {limit} is outside 1–{MAX_LIMIT}"
        )));
    }
    let day = day_of(&state, &q).await?;
    let scores = db::export_page(&state.db, day, q.after.as_deref().unwrap_or(""), limit).await?;
    let next_after = (scores.len() as i64 == limit)
        .then(|| scores.last().map(|s| s.account_id.clone()))
        .flatten();
    Ok(Json(Page {
        day: day.to_string(),
        scores,
        next_after,
    }))
}
