//! SQL for ingestion. The bulk writes bind whole columns as arrays (`unnest`) or stream
//! through `COPY`, so a batch costs a handful of statements however many rows it has.
//! Upserts only touch rows whose values changed, so re-sending a batch changes nothing.

use std::collections::HashMap;

use sqlx::{PgConnection, PgExecutor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::rows::{AccountRow, ContactRow, NoteRow, NpsRow, SubscriptionRow, TicketRow};

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
           -- seats, MRR and renewal the file leaves out keep what billing gave them
           select t.id, t.external_id, t.name, t.plan, coalesce(t.seats, a.seats, 0),
                  coalesce(t.mrr, a.mrr_cents, 0), t.since, coalesce(t.renewal, a.renewal_date),
                  t.status, t.churned, t.owner, t.sponsor
           from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[],
                       $7::date[], $8::date[], $9::text[]::account_status[], $10::date[],
                       $11::uuid[], $12::text[])
                as t(id, external_id, name, plan, seats, mrr, since, renewal, status, churned, owner, sponsor)
           left join accounts a on a.external_id = t.external_id
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
        r#"insert into subscription_periods (account_id, line_id, period_start, period_end, plan, seats,
                                             mrr_cents, amount_cents, discount_cents, term_months)
           select * from unnest($1::uuid[], $2::text[], $3::date[], $4::date[], $5::text[], $6::int[],
                                $7::bigint[], $8::bigint[], $9::bigint[], $10::smallint[])
           on conflict (account_id, line_id, period_start) do update set
               period_end = excluded.period_end, plan = excluded.plan, seats = excluded.seats,
               mrr_cents = excluded.mrr_cents, amount_cents = excluded.amount_cents,
               discount_cents = excluded.discount_cents, term_months = excluded.term_months
           where (subscription_periods.period_end, subscription_periods.plan, subscription_periods.seats,
                  subscription_periods.mrr_cents, subscription_periods.amount_cents,
                  subscription_periods.discount_cents, subscription_periods.term_months)
                 is distinct from
                 (excluded.period_end, excluded.plan, excluded.seats, excluded.mrr_cents,
                  excluded.amount_cents, excluded.discount_cents, excluded.term_months)"#,
    )
    .bind(rows.iter().map(|r| r.account_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.line_id.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.period_start).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.period_end).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.plan.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.seats).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.mrr_cents).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.amount_cents).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.discount_cents).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.term_months).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    // The accounts' MRR and seats follow their lines in force today (or, for an account the
    // CRM gave no MRR, on its last day billed); a renewal date the CRM did not give is the
    // current term's end.
    let accounts: Vec<Uuid> = rows.iter().map(|r| r.account_id).collect();
    sqlx::query(
        r#"with billed as (
               select account_id, least(current_date, max(period_end) - 1) as day
               from subscription_periods where account_id = any($1) group by account_id),
           cur as (
               select s.account_id, sum(s.mrr_cents)::int8 as mrr, sum(s.seats)::int4 as seats,
                      max(s.period_end) as term_end, b.day = current_date as live
               from subscription_periods s join billed b on b.account_id = s.account_id
               where s.period_start <= b.day and s.period_end > b.day
               group by s.account_id, b.day)
           update accounts a set mrr_cents = cur.mrr, seats = greatest(a.seats, cur.seats),
                  renewal_date = coalesce(a.renewal_date, cur.term_end)
           from cur
           where a.id = cur.account_id and (cur.live or a.mrr_cents = 0)
             and (a.mrr_cents, a.seats, a.renewal_date) is distinct from
                 (cur.mrr, greatest(a.seats, cur.seats), coalesce(a.renewal_date, cur.term_end))"#,
    )
    .bind(&accounts)
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
           values ($1, $2, $3::batch_status, $4, $5, $6, $7, $8) returning id"#,
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
