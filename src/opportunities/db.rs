//! SQL for `opportunities` and `opportunity_events`.

use serde_json::Value;
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use sqlx::{PgConnection, PgExecutor, Postgres};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Kind, Status, Viewer};
use crate::expansion::propensity::Tier;

/// An opportunity as the pages show it.
#[derive(sqlx::FromRow, Clone)]
pub struct Row {
    pub id: i64,
    pub account_id: Uuid,
    pub account: String,
    pub external_id: String,
    pub segment: String,
    pub mrr_cents: i64,
    pub kind: Kind,
    pub status: Status,
    pub estimated_arr_cents: i64,
    pub propensity: f32,
    pub tier: Tier,
    pub reasons: Value,
    pub note: String,
    pub context_note: Option<String>,
    pub at_risk: bool,
    pub csm: String,
    pub sales_owner_id: Uuid,
    pub seller: String,
    pub created_at: OffsetDateTime,
    pub sla_due_at: OffsetDateTime,
    pub accepted_at: Option<OffsetDateTime>,
    pub contacted_at: Option<OffsetDateTime>,
    pub closed_at: Option<OffsetDateTime>,
    pub reason: Option<String>,
    pub outcome_note: Option<String>,
    pub closed_arr_cents: Option<i64>,
    pub escalated_at: Option<OffsetDateTime>,
}

const SELECT: &str = r#"
    select o.id, o.account_id, a.name as account, a.external_id, a.segment, a.mrr_cents, o.kind, o.status,
           o.estimated_arr_cents, o.propensity, o.tier, o.reasons, o.note, o.context_note, o.at_risk,
           c.name as csm, o.sales_owner_id, s.name as seller, o.created_at, o.sla_due_at, o.accepted_at,
           o.contacted_at, o.closed_at, r.label as reason, o.outcome_note, o.closed_arr_cents, o.escalated_at
    from opportunities o
    join accounts a on a.id = o.account_id
    join users c on c.id = o.csm_id
    join users s on s.id = o.sales_owner_id
    left join reason_codes r on r.code = o.reason_code
    where ($1::uuid is null or o.sales_owner_id = $1)
      and ($2::uuid is null or c.manager_id = $2)
      and ($3::uuid is null or o.csm_id = $3)"#;

/// `SELECT`'s query with the viewer's three scope parameters bound; the caller binds `$4`.
fn scoped(sql: &str, viewer: Viewer) -> QueryAs<'_, Postgres, Row, PgArguments> {
    let (seller, manager, csm) = viewer.params();
    sqlx::query_as(sql).bind(seller).bind(manager).bind(csm)
}

/// The open opportunities a viewer sees, the acceptance SLA due soonest first, then the
/// accepted ones by hand-off.
pub async fn open(db: impl PgExecutor<'_>, viewer: Viewer, limit: i64) -> sqlx::Result<Vec<Row>> {
    let sql = format!(
        "{SELECT} and o.status in ('handed', 'accepted', 'contacted')
         order by o.status <> 'handed', o.sla_due_at, o.id limit $4"
    );
    scoped(&sql, viewer).bind(limit).fetch_all(db).await
}

/// The latest closed (or rejected) ones.
pub async fn closed(db: impl PgExecutor<'_>, viewer: Viewer, limit: i64) -> sqlx::Result<Vec<Row>> {
    let sql = format!(
        "{SELECT} and o.status in ('rejected', 'won', 'lost') order by o.closed_at desc, o.id desc limit $4"
    );
    scoped(&sql, viewer).bind(limit).fetch_all(db).await
}

/// One opportunity, if the viewer may see it.
pub async fn find(db: impl PgExecutor<'_>, viewer: Viewer, id: i64) -> sqlx::Result<Option<Row>> {
    let sql = format!("{SELECT} and o.id = $4");
    scoped(&sql, viewer).bind(id).fetch_optional(db).await
}

/// An account's opportunities, newest first.
pub async fn of_account(db: impl PgExecutor<'_>, account: Uuid) -> sqlx::Result<Vec<Row>> {
    let sql = format!("{SELECT} and o.account_id = $4 order by o.created_at desc limit 10");
    scoped(&sql, Viewer::All).bind(account).fetch_all(db).await
}

/// Every opportunity a viewer sees, for the exports, newest first.
pub async fn all(db: impl PgExecutor<'_>, viewer: Viewer) -> sqlx::Result<Vec<Row>> {
    let sql = format!("{SELECT} and $4 order by o.created_at desc, o.id desc");
    scoped(&sql, viewer).bind(true).fetch_all(db).await
}

pub struct New<'a> {
    pub account: Uuid,
    pub kind: Kind,
    pub estimated_arr_cents: i64,
    pub propensity: f32,
    pub tier: Tier,
    pub reasons: Value,
    pub note: &'a str,
    pub context_note: Option<&'a str>,
    pub at_risk: bool,
    pub csm: Uuid,
    pub seller: Uuid,
    pub at: OffsetDateTime,
    pub sla_due_at: OffsetDateTime,
}

/// Inserts a hand-off; `None` if the account already has an open opportunity.
pub async fn insert(conn: &mut PgConnection, n: &New<'_>) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        r#"insert into opportunities (account_id, kind, estimated_arr_cents, propensity, tier, reasons, note,
                                      context_note, at_risk, csm_id, sales_owner_id, created_at, sla_due_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
           on conflict (account_id) where status in ('handed', 'accepted', 'contacted') do nothing
           returning id"#,
    )
    .bind(n.account)
    .bind(n.kind)
    .bind(n.estimated_arr_cents)
    .bind(n.propensity)
    .bind(n.tier)
    .bind(&n.reasons)
    .bind(n.note)
    .bind(n.context_note)
    .bind(n.at_risk)
    .bind(n.csm)
    .bind(n.seller)
    .bind(n.at)
    .bind(n.sla_due_at)
    .fetch_optional(&mut *conn)
    .await
}

/// Records a step on an opportunity's history.
pub async fn event(
    conn: &mut PgConnection,
    id: i64,
    at: OffsetDateTime,
    step: &str,
    actor: &str,
    note: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into opportunity_events (opportunity_id, at, step, actor, note) values ($1, $2, $3::opportunity_step, $4, $5)",
    )
    .bind(id)
    .bind(at)
    .bind(step)
    .bind(actor)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(())
}

/// The sales owner for a hand-off on `account`: the rep who had its last opportunity, if
/// still an active sales user, else the active sales user assigned longest ago (round
/// robin). Serialised, so two hand-offs at once do not pick the same rep.
pub async fn pick_seller(conn: &mut PgConnection, account: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query("select pg_advisory_xact_lock(hashtext('opportunities.round_robin'))")
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        r#"select coalesce(
               (select o.sales_owner_id from opportunities o join users u on u.id = o.sales_owner_id
                where o.account_id = $1 and u.active and u.role = 'sales'
                order by o.created_at desc limit 1),
               (select u.id from users u
                left join lateral (select max(created_at) as last from opportunities where sales_owner_id = u.id) l on true
                where u.active and u.role = 'sales'
                order by l.last nulls first, u.id limit 1))"#,
    )
    .bind(account)
    .fetch_one(&mut *conn)
    .await
}

/// Moves an opportunity from one of `from` to `to`, setting the step's fields; false if it
/// was not in one of `from` (someone else moved it first).
pub async fn advance(
    conn: &mut PgConnection,
    id: i64,
    from: &[Status],
    to: Status,
    at: OffsetDateTime,
    outcome: &Outcome<'_>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        r#"update opportunities set status = $3,
               accepted_at = case when $3 = 'accepted' then $4 else accepted_at end,
               contacted_at = case when $3 = 'contacted' then $4 else contacted_at end,
               closed_at = case when $3 in ('rejected', 'won', 'lost') then $4 else closed_at end,
               reason_code = coalesce($5, reason_code),
               outcome_note = coalesce($6, outcome_note),
               closed_arr_cents = coalesce($7, closed_arr_cents)
           where id = $1 and status = any($2)"#,
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(at)
    .bind(outcome.reason)
    .bind(outcome.note)
    .bind(outcome.closed_arr_cents)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What a closing step records.
#[derive(Default)]
pub struct Outcome<'a> {
    pub reason: Option<&'a str>,
    pub note: Option<&'a str>,
    pub closed_arr_cents: Option<i64>,
}

/// Whether `code` is an active reason code of `kind`.
pub async fn reason_exists(db: impl PgExecutor<'_>, code: &str, kind: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists (select 1 from reason_codes where code = $1 and kind = $2 and active)",
    )
    .bind(code)
    .bind(kind)
    .fetch_one(db)
    .await
}

/// A hand-off whose acceptance SLA has passed, marked escalated in this transaction.
#[derive(sqlx::FromRow)]
pub struct Breach {
    pub id: i64,
    pub account_id: Uuid,
    pub account: String,
    pub csm: String,
    pub seller: String,
    pub manager_email: String,
    pub sla_due_at: OffsetDateTime,
}

pub async fn escalate_breaches(
    conn: &mut PgConnection,
    now: OffsetDateTime,
) -> sqlx::Result<Vec<Breach>> {
    sqlx::query_as(
        r#"with due as (
               select o.id from opportunities o
               where o.status = 'handed' and o.sla_due_at < $1 and o.escalated_at is null
               for update skip locked)
           update opportunities o set escalated_at = $1
           from due, accounts a, users c, users s, users m
           where o.id = due.id and a.id = o.account_id and c.id = o.csm_id and s.id = o.sales_owner_id
             and m.id = c.manager_id
           returning o.id, o.account_id, a.name as account, c.name as csm, s.name as seller,
                     m.email as manager_email, o.sla_due_at"#,
    )
    .bind(now)
    .fetch_all(conn)
    .await
}
