//! The product's event taxonomy as configuration: every event type seen in the data, with
//! how much and by whom it is used, and the versioned mapping that says which types are
//! core actions, which feature area (module) each belongs to, which are collaboration,
//! invites, activity only or ignored. Saving a mapping recomputes the usage roll-ups of all
//! history from the events per type they keep. Owns `event_types` and `event_mappings`.

pub mod catalog;
pub mod db;
pub mod preview;
mod routes;
pub mod rules;

use serde_json::json;
use sqlx::{PgConnection, PgExecutor, PgPool};

use crate::auth::Role;
use crate::auth::access::{Access, Route};
use crate::auth::audit::{self, Actor};
use crate::error::Result;
pub use rules::{Compiled, Roles};

/// A batch's event types: each name's id and what it counts for.
pub type Types = std::collections::HashMap<String, (i16, Roles)>;

const DATA_STAFF: Access = Access::Roles(&[Role::Analyst, Role::Admin]);

/// The demo product's taxonomy, shipped as data and saved by `keel demo`.
pub const DEMO_MAPPING: &str = include_str!("../../seeds/demo_event_mapping.txt");

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/event-types", DATA_STAFF, routes::show),
        Route::post("/event-types/preview", DATA_STAFF, routes::preview),
        Route::post("/event-types", DATA_STAFF, routes::save),
        Route::post("/event-types/refresh", DATA_STAFF, routes::refresh),
    ]
}

/// Batches map their events under the mapping they read; a new mapping waits for them, and
/// they wait for it, so no batch is written half under the old one.
const BATCH_LOCK: &str =
    "select pg_advisory_xact_lock_shared(hashtextextended('event_mapping', 0))";
const MAPPING_LOCK: &str = "select pg_advisory_xact_lock(hashtextextended('event_mapping', 0))";

/// The mapping in force: the newest version's rules, or none (every type is activity only).
pub async fn current(db: impl PgExecutor<'_>) -> Result<Compiled> {
    let rules = match db::current(db).await? {
        Some(row) => serde_json::from_value(row.rules).map_err(anyhow::Error::from)?,
        None => Vec::new(),
    };
    Ok(Compiled::new(rules))
}

/// The ids and roles of a batch's event types (new names are added to the catalogue).
pub async fn for_batch(conn: &mut PgConnection, names: &[String]) -> Result<Types> {
    sqlx::query(BATCH_LOCK).execute(&mut *conn).await?;
    let mapping = current(&mut *conn).await?;
    let ids = db::type_ids(conn, names).await?;
    Ok(ids
        .into_iter()
        .map(|(name, id)| {
            let roles = mapping.roles(&name);
            (name, (id, roles))
        })
        .collect())
}

/// Saves a mapping version from the editor's text and recomputes every roll-up under it,
/// in one transaction with its audit row. `Err` lists what is wrong with the text, by line.
pub async fn save(
    pool: &PgPool,
    actor: &Actor,
    text: &str,
    note: &str,
) -> Result<std::result::Result<i64, Vec<String>>> {
    let rules = match rules::parse(text) {
        Ok(rules) if rules.is_empty() => return Ok(Err(vec!["the mapping has no rules".into()])),
        Ok(rules) => rules,
        Err(errors) => return Ok(Err(errors)),
    };
    let compiled = Compiled::new(rules);
    let mut tx = pool.begin().await?;
    crate::features::months::lock(&mut tx).await?;
    sqlx::query(MAPPING_LOCK).execute(&mut *tx).await?;
    let value = serde_json::to_value(&compiled.rules).map_err(anyhow::Error::from)?;
    let id = db::insert(&mut *tx, &value, note.trim(), &actor.label()).await?;
    let roles: Vec<(i16, Roles)> = db::all_types(&mut *tx)
        .await?
        .iter()
        .map(|t| (t.id, compiled.roles(&t.name)))
        .collect();
    db::remap(&mut tx, &roles).await?;
    audit::record(
        &mut *tx,
        actor,
        "event_mapping.save",
        Some(format!("event_mapping:{id}")),
        json!({"rules": compiled.rules.len(), "modules": compiled.modules, "types": roles.len(), "note": note.trim()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// Saves the demo product's taxonomy (`seeds/demo_event_mapping.txt`, or an operator's
/// copy) as the mapping.
pub async fn install_demo(pool: &PgPool, actor: &Actor, rules: &str) -> Result<i64> {
    save(pool, actor, rules, "The demo product's taxonomy")
        .await?
        .map_err(|e| anyhow::anyhow!("the demo mapping is invalid: {e:?}").into())
}
