//! SQL for ingestion. The bulk writes bind whole columns as arrays (`unnest`) or stream
//! through `COPY`, so a batch costs a handful of statements however many rows it has.
//! Upserts only touch rows whose values changed, so re-sending a batch changes nothing.

use std::collections::HashMap;
use std::fmt::Write as _;

use sqlx::{PgConnection, PgExecutor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::rows::{AccountRow, ContactRow, NoteRow, NpsRow, SubscriptionRow, TicketRow};
use super::usage::UserDay;

/// Keel ids of the accounts with these external ids.
pub async fn account_ids(
    db: impl PgExecutor<'_>,
    external: &[String],
) -> sqlx::Result<HashMap<String, Uuid>> {
    let rows = sqlx::query("select external_id, id from accounts where external_id = any($1)")
        .bind(external)
        .fetch_all(db)
        .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Active users by lower-cased email, for account owners.
pub async fn user_ids_by_email(db: impl PgExecutor<'_>) -> sqlx::Result<HashMap<String, Uuid>> {
    let rows = sqlx::query("select email, id from users where active")
        .fetch_all(db)
        .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

pub async fn upsert_accounts(conn: &mut PgConnection, rows: &[AccountRow]) -> sqlx::Result<u64> {
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::new_v4()).collect();
    let done = sqlx::query(
        r#"insert into accounts (id, external_id, name, plan, seats, mrr_cents, customer_since,
                                 renewal_date, status, churned_on, owner_id, executive_sponsor)
           select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[],
                                $7::date[], $8::date[], $9::text[]::account_status[], $10::date[],
                                $11::uuid[], $12::text[])
           on conflict (external_id) do update set
               name = excluded.name, plan = excluded.plan, seats = excluded.seats,
               mrr_cents = excluded.mrr_cents, customer_since = excluded.customer_since,
               renewal_date = excluded.renewal_date, status = excluded.status,
               churned_on = excluded.churned_on, owner_id = excluded.owner_id,
               executive_sponsor = excluded.executive_sponsor
           where (accounts.name, accounts.plan, accounts.seats, accounts.mrr_cents,
                  accounts.customer_since, accounts.renewal_date, accounts.status,
                  accounts.churned_on, accounts.owner_id, accounts.executive_sponsor)
                 is distinct from
                 (excluded.name, excluded.plan, excluded.seats, excluded.mrr_cents,
                  excluded.customer_since, excluded.renewal_date, excluded.status,
                  excluded.churned_on, excluded.owner_id, excluded.executive_sponsor)"#,
    )
    .bind(&ids)
    .bind(rows.iter().map(|r| r.external_id.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.plan.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.seats).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.mrr_cents).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.customer_since).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.renewal_date).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.status).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.churned_on).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.owner_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.executive_sponsor.clone()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn upsert_contacts(conn: &mut PgConnection, rows: &[ContactRow]) -> sqlx::Result<u64> {
    let done = sqlx::query(
        r#"insert into contacts (account_id, external_id, name, email, title, is_champion, user_ref)
           select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::text[])
           on conflict (account_id, external_id) do update set
               name = excluded.name, email = excluded.email, title = excluded.title,
               is_champion = excluded.is_champion, user_ref = excluded.user_ref
           where contacts.erased_at is null
             and (contacts.name, contacts.email, contacts.title, contacts.is_champion, contacts.user_ref)
                 is distinct from
                 (excluded.name, excluded.email, excluded.title, excluded.is_champion, excluded.user_ref)"#,
    )
    .bind(rows.iter().map(|r| r.account_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.external_id.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.email.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.title.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.champion).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.user_ref.clone()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn upsert_subscriptions(
    conn: &mut PgConnection,
    rows: &[SubscriptionRow],
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        r#"insert into subscription_periods (account_id, period_start, period_end, plan, seats, mrr_cents)
           select * from unnest($1::uuid[], $2::date[], $3::date[], $4::text[], $5::int[], $6::bigint[])
           on conflict (account_id, period_start) do update set
               period_end = excluded.period_end, plan = excluded.plan, seats = excluded.seats,
               mrr_cents = excluded.mrr_cents
           where (subscription_periods.period_end, subscription_periods.plan,
                  subscription_periods.seats, subscription_periods.mrr_cents)
                 is distinct from
                 (excluded.period_end, excluded.plan, excluded.seats, excluded.mrr_cents)"#,
    )
    .bind(rows.iter().map(|r| r.account_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.period_start).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.period_end).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.plan.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.seats).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.mrr_cents).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn upsert_tickets(conn: &mut PgConnection, rows: &[TicketRow]) -> sqlx::Result<u64> {
    let done = sqlx::query(
        r#"insert into tickets (account_id, external_id, priority, subject, opened_at, resolved_at, csat, feature_request)
           select * from unnest($1::uuid[], $2::text[], $3::text[]::ticket_priority[], $4::text[],
                                $5::timestamptz[], $6::timestamptz[], $7::smallint[], $8::bool[])
           on conflict (account_id, external_id) do update set
               priority = excluded.priority, subject = excluded.subject, opened_at = excluded.opened_at,
               resolved_at = excluded.resolved_at, csat = excluded.csat,
               feature_request = excluded.feature_request
           where (tickets.priority, tickets.subject, tickets.opened_at, tickets.resolved_at,
                  tickets.csat, tickets.feature_request)
                 is distinct from
                 (excluded.priority, excluded.subject, excluded.opened_at, excluded.resolved_at,
                  excluded.csat, excluded.feature_request)"#,
    )
    .bind(rows.iter().map(|r| r.account_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.external_id.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.priority).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.subject.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.opened_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.resolved_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.csat).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.feature_request).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn upsert_nps(conn: &mut PgConnection, rows: &[NpsRow]) -> sqlx::Result<u64> {
    let done = sqlx::query(
        r#"insert into nps_responses (account_id, external_id, responded_at, score, user_ref, comment)
           select * from unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::smallint[], $5::text[], $6::text[])
           on conflict (account_id, external_id) do update set
               responded_at = excluded.responded_at, score = excluded.score,
               user_ref = excluded.user_ref, comment = excluded.comment
           where (nps_responses.responded_at, nps_responses.score, nps_responses.user_ref, nps_responses.comment)
                 is distinct from
                 (excluded.responded_at, excluded.score, excluded.user_ref, excluded.comment)"#,
    )
    .bind(rows.iter().map(|r| r.account_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.external_id.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.responded_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.score).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.user_ref.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.comment.clone()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn upsert_notes(conn: &mut PgConnection, rows: &[NoteRow]) -> sqlx::Result<u64> {
    let done = sqlx::query(
        r#"insert into crm_notes (account_id, external_id, author, noted_at, body)
           select * from unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
           on conflict (account_id, external_id) do update set
               author = excluded.author, noted_at = excluded.noted_at, body = excluded.body
           where (crm_notes.author, crm_notes.noted_at, crm_notes.body)
                 is distinct from (excluded.author, excluded.noted_at, excluded.body)"#,
    )
    .bind(rows.iter().map(|r| r.account_id).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.external_id.clone())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.author.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.noted_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.body.clone()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Adds a batch's user-days to the roll-ups (streamed with COPY), then recomputes the
/// account-days it touched. Returns the number of user-day rows written.
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

pub struct BatchRecord<'a> {
    pub entity: &'a str,
    pub source: &'a str,
    pub status: &'a str,
    pub rows: i32,
    pub errors: serde_json::Value,
    pub content_hash: &'a str,
    pub newest_record_at: Option<OffsetDateTime>,
    pub actor_label: &'a str,
}

pub async fn record_batch(db: impl PgExecutor<'_>, b: &BatchRecord<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        r#"insert into ingest_batches (entity, source, status, rows, errors, content_hash, newest_record_at, actor_label)
           values ($1, $2, $3, $4, $5, $6, $7, $8) returning id"#,
    )
    .bind(b.entity)
    .bind(b.source)
    .bind(b.status)
    .bind(b.rows)
    .bind(&b.errors)
    .bind(b.content_hash)
    .bind(b.newest_record_at)
    .bind(b.actor_label)
    .fetch_one(db)
    .await
}

/// Serialises batches with the same content, so a re-send racing its original is seen.
pub async fn lock_content(conn: &mut PgConnection, entity: &str, hash: &str) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("{entity}:{hash}"))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn already_accepted(
    db: impl PgExecutor<'_>,
    entity: &str,
    hash: &str,
) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "select id from ingest_batches where entity = $1 and content_hash = $2 and status = 'accepted' limit 1",
    )
    .bind(entity)
    .bind(hash)
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// Newest product event known (from accepted event batches).
pub async fn newest_event(db: impl PgExecutor<'_>) -> sqlx::Result<Option<OffsetDateTime>> {
    sqlx::query_scalar!("select max(newest_record_at) from ingest_batches where entity = 'events' and status = 'accepted'")
        .fetch_one(db)
        .await
}

/// Every subscription line: (account, start, end, MRR in cents), by account.
pub async fn subscription_lines(
    db: impl PgExecutor<'_>,
) -> sqlx::Result<Vec<(Uuid, time::Date, time::Date, i64)>> {
    let rows = sqlx::query!(
        "select account_id, period_start, period_end, mrr_cents from subscription_periods
         order by account_id, period_start"
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.account_id, r.period_start, r.period_end, r.mrr_cents))
        .collect())
}
