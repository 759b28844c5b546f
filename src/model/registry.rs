//! The model registry: every trained version with its validation figures; one in production.

use std::sync::Arc;

use serde_json::Value;
use sqlx::{PgExecutor, PgPool};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::monitor::Bins;
use super::train::Model;

pub struct NewModel<'a> {
    pub algorithm: &'a str,
    pub train_from: Date,
    pub train_to: Date,
    pub rows: i32,
    pub metrics: Value,
    pub importance: Value,
    pub artefact: Value,
    pub reference: &'a Value,
    pub created_by: &'a str,
}

pub async fn insert(db: impl PgExecutor<'_>, m: &NewModel<'_>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        r#"insert into models (id, algorithm, train_from, train_to, rows, metrics, importance, artefact, reference, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id"#,
        Uuid::new_v4(),
        m.algorithm,
        m.train_from,
        m.train_to,
        m.rows,
        m.metrics,
        m.importance,
        m.artefact,
        m.reference,
        m.created_by
    )
    .fetch_one(db)
    .await
}

pub struct Version {
    pub id: Uuid,
    pub version: i64,
    pub algorithm: String,
    pub trained_at: OffsetDateTime,
    pub train_from: Date,
    pub train_to: Date,
    pub rows: i32,
    pub metrics: Value,
    pub importance: Value,
    pub in_production: bool,
}

pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Version>> {
    sqlx::query_as!(
        Version,
        "select id, version, algorithm, trained_at, train_from, train_to, rows, metrics, importance, in_production
         from models order by version desc limit 20"
    )
    .fetch_all(db)
    .await
}

/// The production model's pooled walk-forward validation, if one is in production.
pub async fn production_report(
    db: impl PgExecutor<'_>,
) -> sqlx::Result<Option<super::metrics::Report>> {
    let metrics = sqlx::query_scalar!("select metrics from models where in_production")
        .fetch_optional(db)
        .await?;
    Ok(metrics
        .and_then(|m| m.get("overall").cloned())
        .and_then(|o| serde_json::from_value(o).ok()))
}

/// Makes `id` the production model (and no other).
pub async fn promote(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query!("update models set in_production = false where in_production")
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query!("update models set in_production = true where id = $1", id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// The production model, deserialised.
pub async fn production(db: impl PgExecutor<'_>) -> anyhow::Result<Option<(Uuid, Model)>> {
    let row = sqlx::query!("select id, artefact from models where in_production")
        .fetch_optional(db)
        .await?;
    match row {
        Some(r) => Ok(Some((r.id, serde_json::from_value(r.artefact)?))),
        None => Ok(None),
    }
}

/// The production model's id, if one is in production.
pub async fn production_id(db: impl PgExecutor<'_>) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!("select id from models where in_production")
        .fetch_optional(db)
        .await
}

/// The production model kept deserialised between requests; a promotion elsewhere is seen
/// on the next request (one indexed lookup of the production id).
#[derive(Default)]
pub struct Cache(tokio::sync::RwLock<Option<(Uuid, Arc<Model>)>>);

impl Cache {
    pub async fn production(&self, pool: &PgPool) -> anyhow::Result<Option<(Uuid, Arc<Model>)>> {
        let Some(id) = production_id(pool).await? else {
            return Ok(None);
        };
        if let Some((cached, model)) = &*self.0.read().await
            && *cached == id
        {
            return Ok(Some((id, model.clone())));
        }
        let loaded = production(pool).await?.map(|(id, m)| (id, Arc::new(m)));
        *self.0.write().await = loaded.clone();
        Ok(loaded)
    }
}

/// A model's training distribution of each feature (absent for models trained before drift
/// was measured).
pub async fn reference(db: impl PgExecutor<'_>, id: Uuid) -> anyhow::Result<Option<Vec<Bins>>> {
    let value = sqlx::query_scalar!("select reference from models where id = $1", id)
        .fetch_optional(db)
        .await?
        .flatten()
        .filter(|v| !v.is_null());
    Ok(value.map(serde_json::from_value).transpose()?)
}
