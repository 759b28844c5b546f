//! SQL behind the ingestion pages: staged uploads, the batch list, source freshness.

use crate::statuses::BatchStatus;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub struct Upload {
    pub entity: String,
    pub filename: String,
    pub content: Vec<u8>,
    /// The column mapping it is read through, once chosen.
    pub mapping: Option<String>,
}

pub async fn stage_upload(
    db: impl PgExecutor<'_>,
    entity: &str,
    filename: &str,
    content: &[u8],
    mapping: Option<&str>,
    user: Uuid,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "insert into ingest_uploads (id, entity, filename, content, mapping, uploaded_by)
         values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(Uuid::new_v4())
    .bind(entity)
    .bind(filename)
    .bind(content)
    .bind(mapping)
    .bind(user)
    .fetch_one(db)
    .await
}

/// Reads a staged upload through a column mapping from now on.
pub async fn set_upload_mapping(
    db: impl PgExecutor<'_>,
    id: Uuid,
    mapping: &str,
) -> sqlx::Result<()> {
    sqlx::query("update ingest_uploads set mapping = $2 where id = $1")
        .bind(id)
        .bind(mapping)
        .execute(db)
        .await?;
    Ok(())
}

/// The upload, if it exists and belongs to `user`.
pub async fn find_upload(
    db: impl PgExecutor<'_>,
    id: Uuid,
    user: Uuid,
) -> sqlx::Result<Option<Upload>> {
    sqlx::query_as(
        "select entity, filename, content, mapping from ingest_uploads where id = $1 and uploaded_by = $2",
    )
    .bind(id)
    .bind(user)
    .fetch_optional(db)
    .await
}

pub async fn delete_upload(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("delete from ingest_uploads where id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

/// Drops uploads staged before `before` and never confirmed. Returns how many.
pub async fn delete_stale_uploads(
    db: impl PgExecutor<'_>,
    before: OffsetDateTime,
) -> sqlx::Result<u64> {
    let done = sqlx::query!("delete from ingest_uploads where created_at < $1", before)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

pub struct BatchRow {
    pub id: i64,
    pub entity: String,
    pub source: String,
    pub status: BatchStatus,
    pub rows: i32,
    pub errors: serde_json::Value,
    pub actor_label: String,
    pub created_at: OffsetDateTime,
}

pub async fn recent_batches(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<BatchRow>> {
    sqlx::query_as!(
        BatchRow,
        r#"select id, entity, source, status as "status: BatchStatus", rows, errors, actor_label, created_at
           from ingest_batches order by id desc limit $1"#,
        limit
    )
    .fetch_all(db)
    .await
}

/// Newest record time per entity among accepted batches.
pub async fn newest_records(
    db: impl PgExecutor<'_>,
) -> sqlx::Result<Vec<(String, Option<OffsetDateTime>)>> {
    let rows = sqlx::query!(
        r#"select entity as "entity!", max(newest_record_at) as newest
           from ingest_batches where status = 'accepted' group by entity"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.entity, r.newest)).collect())
}
