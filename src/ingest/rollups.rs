//! Events into the usage roll-ups: validated and rolled up under the event mapping off the
//! async runtime, then streamed into `usage_user_daily` and recomputed into `usage_daily`.

use std::fmt::Write as _;

use sqlx::PgConnection;
use time::OffsetDateTime;

use super::retention;
use super::table::{Errors, Table};
use super::usage::{self, UserDay};
use crate::error::Result;

/// Events are validated and rolled up under the event mapping off the async runtime, then
/// added to the roll-ups.
pub(super) async fn write_events(
    tx: &mut sqlx::PgConnection,
    table: &Table,
    accounts: std::collections::HashMap<String, uuid::Uuid>,
    errors: &mut Errors,
) -> Result<(u64, u64, Option<OffsetDateTime>)> {
    let started = std::time::Instant::now();
    // Events with an id count once, across batches: those seen before are skipped.
    let keyed = usage::event_keys(table, &accounts);
    let fresh = retention::record_event_ids(tx, &keyed).await?;
    let seen: std::collections::HashSet<(uuid::Uuid, String)> =
        keyed.into_iter().filter(|k| !fresh.contains(k)).collect();
    let types = crate::taxonomy::for_batch(tx, &usage::type_names(table)).await?;
    let table = table.clone();
    let (rollup, found) = tokio::task::spawn_blocking(move || {
        let mut found = Errors::default();
        let rollup = usage::rollup(&table, &accounts, &types, &seen, &mut found);
        (rollup, found)
    })
    .await
    .map_err(anyhow::Error::from)?;
    *errors = found;
    let Some(rollup) = rollup else {
        return Ok((0, 0, None));
    };
    let rollup_ms = started.elapsed().as_millis();
    let written = add_usage(tx, &rollup.rows).await?;
    crate::taxonomy::db::widen_seen(&mut *tx, &rollup.seen).await?;
    tracing::debug!(
        rollup_ms,
        upsert_ms = started.elapsed().as_millis() - rollup_ms,
        "events rolled up"
    );
    Ok((written, rollup.events, rollup.newest))
}

/// Adds a batch's user-days to the roll-ups (streamed with COPY), then recomputes the
/// account-days it touched, and notes its days (with usage, and for the event catalogue).
/// Returns the number of user-day rows written.
pub async fn add_usage(conn: &mut PgConnection, rows: &[UserDay]) -> sqlx::Result<u64> {
    let started = std::time::Instant::now();
    sqlx::query(
        r#"create temp table usage_batch (
               account_id uuid, day date, user_ref text collate "C", events int, core_actions int,
               comments int, invites int, categories int, event_types smallint[], type_events int[]
           ) on commit drop"#,
    )
    .execute(&mut *conn)
    .await?;
    let mut copy = conn
        .copy_in_raw("copy usage_batch from stdin (format text)")
        .await?;
    let mut buf = String::with_capacity(1 << 20);
    for r in rows {
        let ids: Vec<String> = r.types.iter().map(|t| t.0.to_string()).collect();
        let counts: Vec<String> = r.types.iter().map(|t| t.1.to_string()).collect();
        let _ = writeln!(
            buf,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{{{}}}\t{{{}}}",
            r.account,
            r.day,
            escape_copy(&r.user_ref),
            r.events,
            r.core_actions,
            r.comments,
            r.invites,
            r.categories,
            ids.join(","),
            counts.join(",")
        );
        if buf.len() > (1 << 20) {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
        }
    }
    copy.send(buf.as_bytes()).await?;
    let written = copy.finish().await?;
    let copied_ms = started.elapsed().as_millis();
    // A user-day already there (an earlier batch ended inside it) adds its events type by type.
    sqlx::query(
        r#"insert into usage_user_daily as u
               (account_id, day, user_ref, events, core_actions, comments, invites, categories,
                event_types, type_events)
           select * from usage_batch order by account_id, day, user_ref
           on conflict (account_id, day, user_ref) do update set
               events = u.events + excluded.events,
               core_actions = u.core_actions + excluded.core_actions,
               comments = u.comments + excluded.comments,
               invites = u.invites + excluded.invites,
               categories = u.categories | excluded.categories,
               (event_types, type_events) = (
                   select array_agg(t order by t), array_agg(n order by t)
                   from (select t, sum(n)::int as n
                         from (select * from unnest(u.event_types, u.type_events)
                               union all
                               select * from unnest(excluded.event_types, excluded.type_events)) x(t, n)
                         group by t) y)"#,
    )
    .execute(&mut *conn)
    .await?;
    // The days with usage, and the event catalogue's to count at its next refresh.
    sqlx::query(
        "with days as (select distinct day from usage_batch),
              kept as (insert into usage_days select day from days on conflict do nothing)
         insert into usage_days_touched select day from days on conflict do nothing",
    )
    .execute(&mut *conn)
    .await?;
    let merged_ms = started.elapsed().as_millis();
    sqlx::query(
        r#"insert into usage_daily as d
               (account_id, day, active_users, events, core_actions, comments, invites, categories,
                event_types, type_events)
           select k.account_id, k.day, agg.*, types.*
           from (select distinct account_id, day from usage_batch) k
           -- one index range per touched account-day, however large the history grows
           cross join lateral (
               select count(*) filter (where u.events > 0)::int, sum(u.events), sum(u.core_actions),
                      sum(u.comments), sum(u.invites), bit_or(u.categories)
               from usage_user_daily u where u.account_id = k.account_id and u.day = k.day
           ) agg
           cross join lateral (
               select coalesce(array_agg(x.t order by x.t), '{}'), coalesce(array_agg(x.n order by x.t), '{}')
               from (select y.t, sum(y.n)::int as n
                     from usage_user_daily u, unnest(u.event_types, u.type_events) y(t, n)
                     where u.account_id = k.account_id and u.day = k.day group by y.t) x
           ) types
           on conflict (account_id, day) do update set
               active_users = excluded.active_users, events = excluded.events,
               core_actions = excluded.core_actions, comments = excluded.comments,
               invites = excluded.invites, categories = excluded.categories,
               event_types = excluded.event_types, type_events = excluded.type_events"#,
    )
    .execute(&mut *conn)
    .await?;
    tracing::debug!(
        copied_ms,
        merged_ms,
        total_ms = started.elapsed().as_millis(),
        "usage written"
    );
    Ok(written)
}

fn escape_copy(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}
