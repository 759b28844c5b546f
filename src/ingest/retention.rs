//! What ingestion keeps and for how long: the ids of events already counted (so an event
//! counts once), and per-user roll-ups for 13 months (account roll-ups for good).

use std::collections::HashSet;

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::audit::{self, Actor};
use crate::error::Result;

/// Deletes per-user roll-ups and counted event ids older than the retention `window`
/// (`--user-retention-days`, 13 months by default); the account roll-ups, already summed
/// from them, stay for good. Returns the user-days deleted.
pub async fn prune(pool: &PgPool, now: OffsetDateTime, window: time::Duration) -> Result<u64> {
    let before = (now - window).date();
    let mut tx = pool.begin().await?;
    crate::features::months::forget_before(&mut tx, before).await?;
    let days = delete_user_days_before(&mut tx, before).await?;
    let ids = delete_event_ids_before(&mut *tx, before).await?;
    if days + ids > 0 {
        audit::record(
            &mut *tx,
            &Actor::Worker,
            "retention.prune",
            None,
            serde_json::json!({"before": before.to_string(), "user_days": days, "event_ids": ids}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(days)
}

/// Records these event ids, and returns those not seen before (the others were counted by
/// an earlier batch). In the batch's transaction, so a refused batch records none.
pub async fn record_event_ids(
    conn: &mut PgConnection,
    keys: &[(Uuid, String)],
) -> sqlx::Result<HashSet<(Uuid, String)>> {
    if keys.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let rows = sqlx::query!(
        "insert into event_ids (account_id, event_id)
         select * from unnest($1::uuid[], $2::text[]) order by 1, 2
         on conflict do nothing
         returning account_id, event_id",
        &keys.iter().map(|k| k.0).collect::<Vec<_>>(),
        &keys.iter().map(|k| k.1.as_str()).collect::<Vec<_>>() as &[&str],
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.account_id, r.event_id))
        .collect())
}

pub async fn delete_user_days_before(
    conn: &mut PgConnection,
    before: time::Date,
) -> sqlx::Result<u64> {
    let done = sqlx::query!("delete from usage_user_daily where day < $1", before)
        .execute(&mut *conn)
        .await?;
    // The catalogue forgets, per person, the types none of whose days are left, and the
    // people with none left.
    sqlx::query!(
        "update event_type_people p set (types, last_days) = (
             select coalesce(array_agg(t order by t), '{}'), coalesce(array_agg(d order by t), '{}')
             from unnest(p.types, p.last_days) x(t, d) where d >= $1)
         where $1 > any(p.last_days)",
        before
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("delete from event_type_people where cardinality(types) = 0")
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn delete_event_ids_before(
    db: impl PgExecutor<'_>,
    before: time::Date,
) -> sqlx::Result<u64> {
    let done = sqlx::query!("delete from event_ids where seen_on < $1", before)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
