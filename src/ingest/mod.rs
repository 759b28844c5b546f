//! Ingestion: CSV uploads and JSON batches for every entity, validated whole and written
//! in one transaction (all or nothing), idempotent on re-send, recorded per batch.

mod api;
pub(crate) mod cells;
mod check_page;
mod columns;
pub mod db;
pub mod import;
pub mod mapping;
mod pages;
pub mod queue;
pub mod retention;
mod rollups;
mod routes;
mod rows;
pub mod schema;
pub mod table;
pub mod usage;

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::auth::Role;
use crate::auth::access::{Access, Route};
use crate::auth::audit::{self, Actor};
use crate::error::Result;
use cells::Reader;
pub use mapping::ColumnMap;
pub use schema::Entity;
use table::{Errors, RowError, Table};

const DATA_STAFF: Access = Access::Roles(&[Role::Analyst, Role::Admin]);

pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/v1/{entity}", Access::ApiToken, api::batch).large_body(),
        Route::get("/ingest", DATA_STAFF, routes::index),
        Route::get("/ingest/formats", DATA_STAFF, routes::formats),
        Route::post("/ingest/uploads", DATA_STAFF, routes::upload).large_body(),
        Route::get("/ingest/uploads/{id}", DATA_STAFF, check_page::preview),
        Route::post(
            "/ingest/uploads/{id}/mapping",
            DATA_STAFF,
            check_page::save_mapping,
        ),
        Route::post("/ingest/uploads/{id}/confirm", DATA_STAFF, routes::confirm),
    ]
}

/// What a batch arrives as.
pub enum Payload {
    Csv(Vec<u8>),
    Json(Vec<Value>),
}

impl Payload {
    fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        match self {
            Payload::Csv(bytes) => h.update(bytes),
            Payload::Json(rows) => {
                for r in rows {
                    h.update(r.to_string().as_bytes());
                    h.update(b"\n");
                }
            }
        }
        format!("{:x}", h.finalize())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Written.
    Accepted,
    /// Refused whole; nothing written.
    Rejected,
    /// The same content was already accepted; nothing written.
    Unchanged,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
            Status::Unchanged => "unchanged",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub batch_id: i64,
    pub entity: &'static str,
    pub status: Status,
    pub rows: usize,
    /// Rows inserted or changed (user-day roll-ups for events).
    pub written: u64,
    /// Events represented (the sum of `count`), for event batches.
    pub events: u64,
    pub errors: Vec<RowError>,
    pub errors_truncated: bool,
}

/// Whether a batch is written or only checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Commit,
    /// Validates everything a real run would (including unknown accounts), writes nothing.
    DryRun,
}

/// Ingests one batch, its columns read through a saved column mapping if one is given.
/// Bad input is an `Outcome` with status `Rejected`, not an `Err`.
pub async fn ingest(
    pool: &PgPool,
    entity: Entity,
    payload: Payload,
    mapping: Option<&ColumnMap>,
    source: &str,
    actor: &Actor,
) -> Result<Outcome> {
    run(pool, entity, payload, mapping, source, actor, Mode::Commit).await
}

/// Checks a batch as `ingest` would, without writing or recording anything.
pub async fn check(
    pool: &PgPool,
    entity: Entity,
    payload: Payload,
    mapping: Option<&ColumnMap>,
    actor: &Actor,
) -> Result<Outcome> {
    run(pool, entity, payload, mapping, "check", actor, Mode::DryRun).await
}

async fn run(
    pool: &PgPool,
    entity: Entity,
    payload: Payload,
    mapping: Option<&ColumnMap>,
    source: &str,
    actor: &Actor,
    mode: Mode,
) -> Result<Outcome> {
    // The same file read through another mapping is another batch.
    let hash = match mapping {
        None => payload.content_hash(),
        Some(m) => {
            let mut h = Sha256::new();
            h.update(payload.content_hash());
            h.update(format!("{:?}", m.columns));
            format!("{:x}", h.finalize())
        }
    };
    let started = std::time::Instant::now();
    let mapping = mapping.cloned();
    // Parsing is CPU work: keep it off the async runtime.
    let (table, mut errors) = tokio::task::spawn_blocking(move || {
        let mut errors = Errors::default();
        let m = mapping.as_ref();
        let table = match payload {
            Payload::Csv(bytes) => Table::from_csv(entity, bytes, m, &mut errors),
            Payload::Json(rows) => {
                let rows = match m {
                    Some(m) => table::rename_json(rows, m),
                    None => rows,
                };
                Table::from_json(entity, &rows, &mut errors)
            }
        };
        (table, errors)
    })
    .await
    .map_err(anyhow::Error::from)?;
    let rows = table.as_ref().map_or(0, Table::len);
    let parsed_ms = started.elapsed().as_millis();
    let mut tx = pool.begin().await?;
    db::lock_content(&mut tx, entity.as_str(), &hash).await?;
    let mut written = 0;
    let mut events = 0;
    let mut newest = None;
    let status = match &table {
        None => Status::Rejected,
        Some(t) if t.is_empty() => {
            errors.add(0, "", "the batch has no rows");
            Status::Rejected
        }
        Some(_) if db::already_accepted(&mut *tx, entity.as_str(), &hash).await? => {
            Status::Unchanged
        }
        Some(t) => {
            let result = write(&mut tx, entity, t, &mut errors).await?;
            (written, events, newest) = result;
            if errors.is_empty() {
                Status::Accepted
            } else {
                Status::Rejected
            }
        }
    };
    let outcome = |batch_id, written, errors: Errors| Outcome {
        batch_id,
        entity: entity.as_str(),
        status,
        rows,
        written,
        events,
        errors: errors.list,
        errors_truncated: errors.truncated,
    };
    if mode == Mode::DryRun {
        tx.rollback().await?;
        return Ok(outcome(0, written, errors));
    }
    if status == Status::Rejected {
        // Nothing of a refused batch stays: roll back, then record the refusal on its own.
        tx.rollback().await?;
        tx = pool.begin().await?;
        written = 0;
    }
    let written_ms = started.elapsed().as_millis();
    let label = actor.label();
    let batch_id = db::record_batch(
        &mut *tx,
        &db::BatchRecord {
            entity: entity.as_str(),
            source,
            status: status.as_str(),
            rows: rows as i32,
            errors: serde_json::to_value(&errors.list).unwrap_or(Value::Null),
            content_hash: &hash,
            newest_record_at: newest,
            actor_label: &label,
        },
    )
    .await?;
    if let (Status::Accepted, Some(t)) = (status, &table) {
        // Fresh data, fresh scores: the worker re-scores these accounts within seconds.
        queue::queue_rescore(&mut *tx, &account_refs(entity, t)).await?;
    }
    let details = json!({"batch": batch_id, "status": status, "rows": rows, "written": written, "source": source});
    audit::record(
        &mut *tx,
        actor,
        &format!("ingest.{entity}"),
        Some(format!("batch:{batch_id}")),
        details,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        %entity, batch_id, status = status.as_str(), rows, written, parsed_ms, written_ms,
        total_ms = started.elapsed().as_millis(), "batch ingested"
    );
    Ok(outcome(batch_id, written, errors))
}

/// The external ids of the accounts a batch's rows belong to.
fn account_refs(entity: Entity, table: &Table) -> Vec<String> {
    let column = if entity == Entity::Accounts {
        "external_id"
    } else {
        "account_id"
    };
    let external: HashSet<String> = table
        .column(column)
        .map(|c| c.iter().flatten().map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default();
    external.into_iter().collect()
}

/// For entities without a record time of their own, a batch is as fresh as its arrival.
fn now<T>(_: &T) -> Option<OffsetDateTime> {
    Some(OffsetDateTime::now_utc())
}

/// Reads the typed rows; writes them only if every row was valid.
macro_rules! load {
    ($reader:expr, $tx:expr, $rows:expr, $upsert:ident, $newest:expr) => {{
        let rows = $rows;
        if !$reader.errors.is_empty() {
            return Ok((0, 0, None));
        }
        let newest = $newest(&rows);
        (db::$upsert($tx, &rows).await?, newest)
    }};
}

/// Validates and writes; returns (rows written, events, newest record time).
async fn write(
    tx: &mut sqlx::PgConnection,
    entity: Entity,
    table: &Table,
    errors: &mut Errors,
) -> Result<(u64, u64, Option<OffsetDateTime>)> {
    let accounts = if entity == Entity::Accounts {
        Default::default()
    } else {
        db::account_ids(&mut *tx, &account_refs(entity, table)).await?
    };
    let mut r = Reader {
        table,
        entity,
        errors,
    };
    let (written, newest) = match entity {
        Entity::Events => return rollups::write_events(tx, table, accounts, r.errors).await,
        Entity::Accounts => {
            let owners = db::user_ids_by_email(&mut *tx).await?;
            load!(r, tx, rows::accounts(&mut r, &owners), upsert_accounts, now)
        }
        Entity::Contacts => load!(
            r,
            tx,
            rows::contacts(&mut r, &accounts),
            upsert_contacts,
            now
        ),
        Entity::Subscriptions => load!(
            r,
            tx,
            rows::subscriptions(&mut r, &accounts),
            upsert_subscriptions,
            now
        ),
        Entity::Tickets => load!(
            r,
            tx,
            rows::tickets(&mut r, &accounts),
            upsert_tickets,
            |rows: &Vec<rows::TicketRow>| rows.iter().map(|t| t.opened_at).max()
        ),
        Entity::Nps => load!(
            r,
            tx,
            rows::nps(&mut r, &accounts),
            upsert_nps,
            |rows: &Vec<rows::NpsRow>| rows.iter().map(|t| t.responded_at).max()
        ),
        Entity::Notes => load!(
            r,
            tx,
            rows::notes(&mut r, &accounts),
            upsert_notes,
            |rows: &Vec<rows::NoteRow>| rows.iter().map(|t| t.noted_at).max()
        ),
    };
    Ok((written, 0, newest))
}

/// How long a staged upload waits for its confirmation before the worker drops it.
pub const UPLOAD_TTL: time::Duration = time::Duration::hours(24);

/// Drops staged uploads older than a day that were never confirmed (the worker calls this).
pub async fn clean_up(pool: &sqlx::PgPool, now: OffsetDateTime) -> Result<u64> {
    Ok(pages::delete_stale_uploads(pool, now - UPLOAD_TTL).await?)
}
