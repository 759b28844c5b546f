//! Ingestion: CSV uploads and JSON batches for every entity, validated whole and written
//! in one transaction (all or nothing), idempotent on re-send, recorded per batch.

mod cells;
pub mod db;
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

use crate::auth::audit::{self, Actor};
use crate::error::Result;
use cells::Reader;
pub use schema::Entity;
use table::{Errors, RowError, Table};

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

/// Ingests one batch. Bad input is an `Outcome` with status `Rejected`, not an `Err`.
pub async fn ingest(pool: &PgPool, entity: Entity, payload: Payload, source: &str, actor: &Actor) -> Result<Outcome> {
    let hash = payload.content_hash();
    let mut errors = Errors::default();
    let table = match payload {
        Payload::Csv(bytes) => Table::from_csv(entity, bytes, &mut errors),
        Payload::Json(rows) => Table::from_json(entity, &rows, &mut errors),
    };
    let rows = table.as_ref().map_or(0, Table::len);
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
        Some(_) if db::already_accepted(&mut *tx, entity.as_str(), &hash).await? => Status::Unchanged,
        Some(t) => {
            let result = write(&mut tx, entity, t, &mut errors).await?;
            (written, events, newest) = result;
            if errors.is_empty() { Status::Accepted } else { Status::Rejected }
        }
    };
    if status == Status::Rejected {
        // Nothing of a refused batch stays: roll back, then record the refusal on its own.
        tx.rollback().await?;
        tx = pool.begin().await?;
        written = 0;
    }
    let label = actor_label(actor);
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
    let details = json!({"batch": batch_id, "status": status, "rows": rows, "written": written, "source": source});
    audit::record(&mut *tx, actor, &format!("ingest.{entity}"), Some(format!("batch:{batch_id}")), details).await?;
    tx.commit().await?;
    Ok(Outcome {
        batch_id,
        entity: entity.as_str(),
        status,
        rows,
        written,
        events,
        errors: errors.list,
        errors_truncated: errors.truncated,
    })
}

fn actor_label(actor: &Actor) -> String {
    match actor {
        Actor::User { email, .. } => email.clone(),
        Actor::Anonymous(label) => label.clone(),
        Actor::Cli => "cli".to_owned(),
        Actor::Token { name } => format!("token:{name}"),
    }
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
        let external: HashSet<String> = table
            .column("account_id")
            .map(|c| c.iter().flatten().map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default();
        db::account_ids(&mut *tx, &external.into_iter().collect::<Vec<_>>()).await?
    };
    if entity == Entity::Events {
        let Some(rollup) = usage::rollup(table, &accounts, errors).map_err(anyhow::Error::from)? else {
            return Ok((0, 0, None));
        };
        let written = db::add_usage(tx, &rollup.rows).await?;
        return Ok((written, rollup.events, rollup.newest));
    }
    let now = Some(OffsetDateTime::now_utc());
    let mut r = Reader { table, entity, errors };
    let written = match entity {
        Entity::Accounts => {
            let owners = db::user_ids_by_email(&mut *tx).await?;
            let rows = rows::accounts(&mut r, &owners);
            if !r.errors.is_empty() { return Ok((0, 0, None)); }
            db::upsert_accounts(tx, &rows).await?
        }
        Entity::Contacts => {
            let rows = rows::contacts(&mut r, &accounts);
            if !r.errors.is_empty() { return Ok((0, 0, None)); }
            db::upsert_contacts(tx, &rows).await?
        }
        Entity::Subscriptions => {
            let rows = rows::subscriptions(&mut r, &accounts);
            if !r.errors.is_empty() { return Ok((0, 0, None)); }
            db::upsert_subscriptions(tx, &rows).await?
        }
        Entity::Tickets => {
            let rows = rows::tickets(&mut r, &accounts);
            if !r.errors.is_empty() { return Ok((0, 0, None)); }
            let newest = rows.iter().map(|t| t.opened_at).max();
            let n = db::upsert_tickets(tx, &rows).await?;
            return Ok((n, 0, newest));
        }
        Entity::Nps => {
            let rows = rows::nps(&mut r, &accounts);
            if !r.errors.is_empty() { return Ok((0, 0, None)); }
            let newest = rows.iter().map(|t| t.responded_at).max();
            let n = db::upsert_nps(tx, &rows).await?;
            return Ok((n, 0, newest));
        }
        Entity::Notes => {
            let rows = rows::notes(&mut r, &accounts);
            if !r.errors.is_empty() { return Ok((0, 0, None)); }
            let newest = rows.iter().map(|t| t.noted_at).max();
            let n = db::upsert_notes(tx, &rows).await?;
            return Ok((n, 0, newest));
        }
        Entity::Events => unreachable!("handled above"),
    };
    Ok((written, 0, now))
}
