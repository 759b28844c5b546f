//! SQL for the versioned scoring configuration (`health_configs`).

use serde_json::Value;
use sqlx::PgExecutor;
use time::OffsetDateTime;

use super::config::Thresholds;
use super::score::Bands;

pub struct HealthConfig {
    pub id: i64,
    pub signals: Value,
    pub red_max: f32,
    pub yellow_max: f32,
    pub high_risk: f32,
    pub medium_risk: f32,
    pub at_risk: f32,
    pub note: String,
    pub created_by: String,
    pub created_at: OffsetDateTime,
}

pub async fn current_health_config(db: impl PgExecutor<'_>) -> sqlx::Result<Option<HealthConfig>> {
    sqlx::query_as!(
        HealthConfig,
        "select id, signals, red_max, yellow_max, high_risk, medium_risk, at_risk, note, created_by, created_at
         from health_configs order by id desc limit 1"
    )
    .fetch_optional(db)
    .await
}

/// Every version of the scoring configuration, newest first.
pub async fn health_configs(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<HealthConfig>> {
    sqlx::query_as!(
        HealthConfig,
        "select id, signals, red_max, yellow_max, high_risk, medium_risk, at_risk, note, created_by, created_at
         from health_configs order by id desc limit 50"
    )
    .fetch_all(db)
    .await
}

pub struct NewHealthConfig<'a> {
    pub signals: Value,
    pub bands: Bands,
    pub thresholds: Thresholds,
    pub note: &'a str,
}

pub async fn insert_health_config(
    db: impl PgExecutor<'_>,
    c: &NewHealthConfig<'_>,
    by: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into health_configs (signals, red_max, yellow_max, high_risk, medium_risk, at_risk, note, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
        c.signals,
        c.bands.red_max as f32,
        c.bands.yellow_max as f32,
        c.thresholds.high as f32,
        c.thresholds.medium as f32,
        c.thresholds.at_risk as f32,
        c.note,
        by
    )
    .fetch_one(db)
    .await
}
