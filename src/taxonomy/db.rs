//! SQL for the event types seen and the versioned mapping (`event_types`, `event_mappings`),
//! and the recomputation of the usage roll-ups under a mapping.

use std::collections::HashMap;

use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgExecutor};
use time::{Date, OffsetDateTime};

use super::rules::Roles;

#[derive(FromRow)]
pub struct MappingRow {
    pub id: i64,
    pub rules: Value,
    pub note: String,
    pub created_by: String,
    pub created_at: OffsetDateTime,
}

/// The newest mapping version, if any was saved.
pub async fn current(db: impl PgExecutor<'_>) -> sqlx::Result<Option<MappingRow>> {
    sqlx::query_as("select * from event_mappings order by id desc limit 1")
        .fetch_optional(db)
        .await
}

/// Every version, newest first.
pub async fn versions(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<MappingRow>> {
    sqlx::query_as("select * from event_mappings order by id desc limit 50")
        .fetch_all(db)
        .await
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    rules: &Value,
    note: &str,
    by: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "insert into event_mappings (rules, note, created_by) values ($1, $2, $3) returning id",
    )
    .bind(rules)
    .bind(note)
    .bind(by)
    .fetch_one(db)
    .await
}

/// Ids for the names, adding the ones never seen before.
pub async fn type_ids(
    conn: &mut PgConnection,
    names: &[String],
) -> sqlx::Result<HashMap<String, i16>> {
    sqlx::query(
        "insert into event_types (name) select unnest($1::text[]) order by 1 on conflict (name) do nothing",
    )
    .bind(names)
    .execute(&mut *conn)
    .await?;
    let rows: Vec<(i16, String)> =
        sqlx::query_as("select id, name from event_types where name = any($1)")
            .bind(names)
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.into_iter().map(|(id, name)| (name, id)).collect())
}

/// Widens each type's first and last day seen to cover a batch's. The rows are locked in id
/// order first, so batches ingested at the same time wait for each other, never deadlock.
pub async fn widen_seen(conn: &mut PgConnection, seen: &[(i16, Date, Date)]) -> sqlx::Result<()> {
    let ids: Vec<i16> = seen.iter().map(|s| s.0).collect();
    sqlx::query("select 1 from event_types where id = any($1) order by id for update")
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    let first: Vec<Date> = seen.iter().map(|s| s.1).collect();
    let last: Vec<Date> = seen.iter().map(|s| s.2).collect();
    sqlx::query(
        r#"update event_types t set first_seen = least(t.first_seen, s.first),
                                    last_seen = greatest(t.last_seen, s.last)
           from unnest($1::smallint[], $2::date[], $3::date[]) s(id, first, last)
           where t.id = s.id"#,
    )
    .bind(ids)
    .bind(first)
    .bind(last)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(FromRow)]
pub struct TypeRow {
    pub id: i16,
    pub name: String,
    pub first_seen: Option<Date>,
    pub last_seen: Option<Date>,
}

pub async fn all_types(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<TypeRow>> {
    sqlx::query_as("select * from event_types order by id")
        .fetch_all(db)
        .await
}

/// Recomputes every roll-up's mapped figures under `roles` (by type id), from the events
/// per type they keep. Rows from before types were kept (empty arrays) are left as they are.
pub async fn remap(conn: &mut PgConnection, roles: &[(i16, Roles)]) -> sqlx::Result<()> {
    sqlx::query(
        r#"create temp table mapped (
               type_id smallint primary key, counted bool, core bool, collab bool, invite bool, bits int
           ) on commit drop"#,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        r#"insert into mapped select * from unnest($1::smallint[], $2::bool[], $3::bool[],
                                                   $4::bool[], $5::bool[], $6::int[])"#,
    )
    .bind(roles.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(roles.iter().map(|r| r.1.counted).collect::<Vec<_>>())
    .bind(roles.iter().map(|r| r.1.core).collect::<Vec<_>>())
    .bind(roles.iter().map(|r| r.1.collaboration).collect::<Vec<_>>())
    .bind(roles.iter().map(|r| r.1.invite).collect::<Vec<_>>())
    .bind(roles.iter().map(|r| r.1.modules).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    for table in ["usage_user_daily", "usage_daily"] {
        sqlx::query(&format!(
            r#"update {table} u set (events, core_actions, comments, invites, categories) = (
                   select coalesce(sum(x.n) filter (where m.counted), 0),
                          coalesce(sum(x.n) filter (where m.core), 0),
                          coalesce(sum(x.n) filter (where m.collab), 0),
                          coalesce(sum(x.n) filter (where m.invite), 0),
                          coalesce(bit_or(m.bits), 0)
                   from unnest(u.event_types, u.type_events) x(t, n) join mapped m on m.type_id = x.t)
               where cardinality(u.event_types) > 0"#
        ))
        .execute(&mut *conn)
        .await?;
    }
    crate::features::months::rebuild_later(&mut *conn).await?;
    sqlx::query(
        r#"update usage_daily d set active_users = a.n
           from (select account_id, day, count(*) filter (where events > 0)::int as n
                 from usage_user_daily group by 1, 2) a
           where d.account_id = a.account_id and d.day = a.day and d.active_users <> a.n"#,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
