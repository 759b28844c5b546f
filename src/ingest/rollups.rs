//! Events into the usage roll-ups: validated and rolled up under the event mapping off the
//! async runtime, then streamed into `usage_user_daily` and recomputed into `usage_daily`.

use sqlx::PgConnection;
use time::OffsetDateTime;

use super::retention;
use super::table::{Errors, Table};
use super::usage::{self, AccountDay, Rollup, Totals, UserDay};
use crate::digits;
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
    let written = add_usage(tx, &rollup).await?;
    crate::taxonomy::db::widen_seen(&mut *tx, &rollup.seen).await?;
    tracing::debug!(
        rollup_ms,
        upsert_ms = started.elapsed().as_millis() - rollup_ms,
        "events rolled up"
    );
    Ok((written, rollup.events, rollup.newest))
}

/// Adds a batch's user-days and account-days to the roll-ups. Where none of its days had
/// usage yet (a day's first batch, every back-fill), both are copied straight in; otherwise
/// the user-days are merged and the touched account-days recomputed. Notes the batch's days
/// (with usage, and for the event catalogue). Returns the user-day rows written.
async fn add_usage(conn: &mut PgConnection, rollup: &Rollup) -> sqlx::Result<u64> {
    let started = std::time::Instant::now();
    // Plans here are cheap; compiling them is not (0.2 s a batch).
    sqlx::query("set local jit = off")
        .execute(&mut *conn)
        .await?;
    let mut days: Vec<time::Date> = rollup.days.iter().map(|d| d.day).collect();
    days.sort_unstable();
    days.dedup();
    crate::features::months::note_days(&mut *conn, &days).await?;
    // Days nobody had usage on yet: their account-days are all new, unless a batch racing
    // for them commits first (the copy then finds its rows there, and merges instead).
    let new: bool =
        sqlx::query_scalar("select not exists (select from usage_days where day = any($1))")
            .bind(&days)
            .fetch_one(&mut *conn)
            .await?;
    let copied = if new {
        copy_new(conn, rollup).await?
    } else {
        None
    };
    let (path, written) = match copied {
        Some(written) => ("copied", written),
        None => ("merged", merge(conn, rollup).await?),
    };
    // The days with usage, and the event catalogue's to count at its next refresh.
    sqlx::query(
        "with kept as (insert into usage_days select unnest($1::date[]) on conflict do nothing)
         insert into usage_days_touched select unnest($1::date[]) on conflict do nothing",
    )
    .bind(&days)
    .execute(&mut *conn)
    .await?;
    tracing::debug!(path, ms = started.elapsed().as_millis(), "usage written");
    Ok(written)
}

/// Copies the account-days into `usage_daily`, then the user-days into `usage_user_daily`,
/// under a savepoint: `None`, with nothing written, where an account-day had usage already
/// (a concurrent batch's, committed since; its user-days then must be merged). Both go in
/// key order, so two batches racing for the same new days wait for each other rather than
/// deadlock.
async fn copy_new(conn: &mut PgConnection, rollup: &Rollup) -> sqlx::Result<Option<u64>> {
    sqlx::query("savepoint usage_new")
        .execute(&mut *conn)
        .await?;
    let copied = async {
        copy_in(
            &mut *conn,
            "usage_daily (account_id, day, active_users, events, core_actions, comments, invites, categories, event_types, type_events)",
            &rollup.days,
            account_day,
        )
        .await?;
        copy_in(
            conn,
            "usage_user_daily (account_id, day, user_ref, events, core_actions, comments, invites, categories, event_types, type_events)",
            &rollup.rows,
            user_day,
        )
        .await
    }
    .await;
    let (step, written) = match copied {
        Ok(n) => ("release savepoint usage_new", Some(n)),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            ("rollback to savepoint usage_new", None)
        }
        Err(e) => return Err(e),
    };
    sqlx::query(step).execute(&mut *conn).await?;
    Ok(written)
}

/// Adds a batch some of whose account-days had usage already: its user-days merged, the new
/// account-days written as summed, the others recomputed from their user-days.
async fn merge(conn: &mut PgConnection, rollup: &Rollup) -> sqlx::Result<u64> {
    sqlx::query(
        "create temp table usage_batch_days (
             account_id uuid, day date, active_users int, events int, core_actions int,
             comments int, invites int, categories int, event_types smallint[], type_events int[],
             known bool not null default false
         ) on commit drop",
    )
    .execute(&mut *conn)
    .await?;
    copy_in(conn, "usage_batch_days", &rollup.days, |buf, d| {
        account_day(buf, d);
        buf.push_str("\tf");
    })
    .await?;
    // One index probe per account-day, evaluated row by row whatever the table sizes.
    let new_days: i64 = sqlx::query_scalar(
        "with k as (update usage_batch_days k set known = exists (
                        select 1 from usage_daily d where d.account_id = k.account_id and d.day = k.day)
                    returning known)
         select count(*) filter (where not known) from k",
    )
    .fetch_one(&mut *conn)
    .await?;
    let written = merge_user_days(conn, &rollup.rows).await?;
    let inserted = sqlx::query(
        "insert into usage_daily
             (account_id, day, active_users, events, core_actions, comments, invites, categories,
              event_types, type_events)
         select account_id, day, active_users, events, core_actions, comments, invites, categories,
                event_types, type_events
         from usage_batch_days where not known
         on conflict do nothing",
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // A concurrent batch wrote one of the new account-days first: recompute them all.
    let raced = inserted < new_days as u64;
    // Batches adding to the same account-days take turns, in key order: each recomputes them
    // after the other's commit, in a statement that sees the other's user rows.
    sqlx::query(
        "select count((select 1 from usage_daily d
                       where d.account_id = k.account_id and d.day = k.day for update))
         from usage_batch_days k where k.known or $1",
    )
    .bind(raced)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        r#"insert into usage_daily as d
               (account_id, day, active_users, events, core_actions, comments, invites, categories,
                event_types, type_events)
           select k.account_id, k.day, agg.*, types.*
           from usage_batch_days k
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
           where k.known or $1
           on conflict (account_id, day) do update set
               active_users = excluded.active_users, events = excluded.events,
               core_actions = excluded.core_actions, comments = excluded.comments,
               invites = excluded.invites, categories = excluded.categories,
               event_types = excluded.event_types, type_events = excluded.type_events"#,
    )
    .bind(raced)
    .execute(&mut *conn)
    .await?;
    Ok(written)
}

/// Adds user-days to `usage_user_daily`: a user-day already there (an earlier batch ended
/// inside it) adds its events type by type. The rows go in key order, as the roll-up sorted
/// and copied them.
async fn merge_user_days(conn: &mut PgConnection, rows: &[UserDay]) -> sqlx::Result<u64> {
    sqlx::query(
        r#"create temp table usage_batch (
               account_id uuid, day date, user_ref text collate "C", events int, core_actions int,
               comments int, invites int, categories int, event_types smallint[], type_events int[]
           ) on commit drop"#,
    )
    .execute(&mut *conn)
    .await?;
    let written = copy_in(conn, "usage_batch", rows, user_day).await?;
    sqlx::query(
        r#"insert into usage_user_daily as u
               (account_id, day, user_ref, events, core_actions, comments, invites, categories,
                event_types, type_events)
           select * from usage_batch
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
    Ok(written)
}

/// An account-day as a COPY line: `account\tday\tactive users\t` and its totals.
fn account_day(buf: &mut String, d: &AccountDay) {
    key(buf, d.account, d.day);
    digits::int(buf, d.active_users);
    buf.push('\t');
    totals(buf, &d.totals);
}

/// A user-day as a COPY line: `account\tday\tuser\t` and its totals.
fn user_day(buf: &mut String, r: &UserDay) {
    key(buf, r.account, r.day);
    escape_copy(buf, &r.user_ref);
    buf.push('\t');
    totals(buf, &r.totals);
}

/// `account\tday\t`.
fn key(buf: &mut String, account: uuid::Uuid, day: time::Date) {
    digits::uuid(buf, account);
    buf.push('\t');
    digits::date(buf, day);
    buf.push('\t');
}

/// Streams rows into a table with COPY, one line each written by `line`.
async fn copy_in<T>(
    conn: &mut PgConnection,
    table: &str,
    rows: &[T],
    line: impl Fn(&mut String, &T),
) -> sqlx::Result<u64> {
    let mut copy = conn
        .copy_in_raw(&format!("copy {table} from stdin (format text)"))
        .await?;
    let mut buf = String::with_capacity(1 << 20);
    for r in rows {
        line(&mut buf, r);
        buf.push('\n');
        if buf.len() > (1 << 20) {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
        }
    }
    copy.send(buf.as_bytes()).await?;
    copy.finish().await
}

/// The totals as their COPY columns, events through categories, then the (type id, events)
/// pairs as two arrays: `…\t{1,4}\t{12,3}`.
fn totals(buf: &mut String, t: &Totals) {
    for n in [t.events, t.core_actions, t.comments, t.invites] {
        digits::int(buf, n);
        buf.push('\t');
    }
    digits::int(buf, t.categories);
    buf.push('\t');
    let list = |buf: &mut String, f: &dyn Fn(&(i16, i64)) -> i64| {
        buf.push('{');
        for (i, t) in t.types.iter().enumerate() {
            if i > 0 {
                buf.push(',');
            }
            digits::int(buf, f(t));
        }
        buf.push('}');
    };
    list(buf, &|t| i64::from(t.0));
    buf.push('\t');
    list(buf, &|t| t.1);
}

/// `s` as a COPY text field: backslash, tab, newline and carriage return escaped.
fn escape_copy(buf: &mut String, s: &str) {
    if !s
        .bytes()
        .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        buf.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_copy;

    #[test]
    fn copy_fields_escape_what_the_text_format_reads_as_special() {
        let mut out = String::new();
        for s in ["plain.user@x", r"dom\user", "a\tb\nc\rd"] {
            escape_copy(&mut out, s);
            out.push('|');
        }
        assert_eq!(out, r"plain.user@x|dom\\user|a\tb\nc\rd|");
    }
}
