//! The demo's history of usage is copied in without the usage tables' primary keys, which
//! are then built once, sorted: PostgreSQL's advice for populating a database ("Remove
//! Indexes", §14.4.3 of its manual). Kept during the load, each batch of a day's events at
//! 50,000 accounts changed the keys at 50,000 places, each written whole to the WAL again
//! after every checkpoint (one every few seconds then).
//!
//! The demo's event batches cover days no other batch does, so no key is needed to keep
//! them apart while loading.

use std::future::Future;

use sqlx::PgPool;

/// Table, key and its columns, as the migrations made them.
const KEYS: [(&str, &str, &str); 2] = [
    (
        "usage_user_daily",
        "usage_user_daily_pkey",
        "account_id, day, user_ref",
    ),
    ("usage_daily", "usage_daily_pkey", "account_id, day"),
];

/// Runs `load` with the usage keys dropped, then builds them again, whether or not the load
/// succeeded (and before saying how it went).
pub async fn without_usage_keys<T>(
    pool: &PgPool,
    load: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    for (table, key, _) in KEYS {
        sqlx::query(&format!("alter table {table} drop constraint {key}"))
            .execute(pool)
            .await?;
    }
    let loaded = load.await;
    restore_usage_keys(pool).await?;
    loaded
}

/// Builds whichever usage key is missing (a load killed midway leaves them dropped), each
/// table on a connection of its own, with room to sort.
pub async fn restore_usage_keys(pool: &PgPool) -> anyhow::Result<()> {
    let builds = KEYS.map(|(table, key, columns)| async move {
        let mut tx = pool.begin().await?;
        let exists: bool =
            sqlx::query_scalar("select exists (select from pg_constraint where conname = $1)")
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
        if !exists {
            sqlx::query("set local maintenance_work_mem = '512MB'")
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!(
                "alter table {table} add constraint {key} primary key ({columns})"
            ))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        anyhow::Ok(())
    });
    futures_util::future::try_join_all(builds).await?;
    Ok(())
}
