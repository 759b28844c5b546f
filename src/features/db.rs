//! What feature extraction reads, always bounded by the as-of date (no look-ahead).

use sqlx::{PgExecutor, Row};
use time::{Date, Duration};
use uuid::Uuid;

pub struct AccountRow {
    pub id: Uuid,
    pub customer_since: Date,
    pub seats: i32,
}

/// Accounts that were customers on `as_of` (started, and not churned yet).
pub async fn live_accounts(
    db: impl PgExecutor<'_>,
    as_of: Date,
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<AccountRow>> {
    sqlx::query_as!(
        AccountRow,
        r#"select id, customer_since, seats from accounts
           where customer_since <= $1 and (churned_on is null or churned_on > $1)
             and ($2::uuid[] is null or id = any($2))
           order by id"#,
        as_of,
        only
    )
    .fetch_all(db)
    .await
}

/// Summarises the block ranges of the usage roll-ups' day indexes filled since they were
/// last summarised, so the run's windows read their days and not all history: a range not
/// yet summarised matches every query (after a bulk load, all of them did). Autovacuum does
/// this too, in time; if it holds the table now this skips (0). Returns the ranges done.
pub async fn summarize_usage_days(pool: &sqlx::PgPool) -> sqlx::Result<i64> {
    let mut tx = pool.begin().await?;
    sqlx::query("set local lock_timeout = '2s'")
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query_scalar(
        "select brin_summarize_new_values('usage_daily_day_brin')::int8
              + brin_summarize_new_values('usage_user_daily_day_brin')::int8",
    )
    .fetch_one(&mut *tx)
    .await;
    match done {
        Ok(ranges) => {
            tx.commit().await?;
            Ok(ranges)
        }
        // lock_not_available: autovacuum is at it
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => Ok(0),
        Err(e) => Err(e),
    }
}

/// The first and last day with any product usage.
pub async fn usage_span(db: impl PgExecutor<'_>) -> sqlx::Result<Option<(Date, Date)>> {
    let span: (Option<Date>, Option<Date>) =
        sqlx::query_as("select min(day), max(day) from usage_days")
            .fetch_one(db)
            .await?;
    Ok(span.0.zip(span.1))
}

/// When each churned account churned (for labels, which look ahead on purpose).
pub async fn churn_dates(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(Uuid, Date)>> {
    let rows = sqlx::query!(
        r#"select id, churned_on as "churned_on!" from accounts where churned_on is not null"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.churned_on)).collect())
}

/// Daily usage per account over the 30 days ending `as_of`.
pub struct UsageRows {
    pub account: Vec<String>,
    pub day: Vec<i32>,
    pub active_users: Vec<i32>,
    pub core_actions: Vec<i32>,
    pub invites: Vec<i32>,
    /// bitmask of the feature areas touched that day by anyone
    pub categories: Vec<i32>,
}

pub async fn usage_30d(
    db: impl PgExecutor<'_>,
    as_of: Date,
    only: Option<&[Uuid]>,
) -> sqlx::Result<UsageRows> {
    let rows = sqlx::query(
        r#"select account_id::text, (day - $1::date)::int as age, active_users, core_actions, invites,
                  categories
           from usage_daily where day > $1::date - 30 and day <= $1::date
             and ($2::uuid[] is null or account_id = any($2))"#,
    )
    .bind(as_of)
    .bind(only)
    .fetch_all(db)
    .await?;
    let mut out = UsageRows {
        account: vec![],
        day: vec![],
        active_users: vec![],
        core_actions: vec![],
        invites: vec![],
        categories: vec![],
    };
    for r in rows {
        out.account.push(r.try_get(0)?);
        out.day.push(r.try_get(1)?);
        out.active_users.push(r.try_get(2)?);
        out.core_actions.push(r.try_get(3)?);
        out.invites.push(r.try_get(4)?);
        out.categories.push(r.try_get(5)?);
    }
    Ok(out)
}

/// Per-user activity over the 30 days ending `as_of`: (account, user, commented). Reads the
/// months as last caught up (`months::catch_up`).
pub async fn users_30d(
    db: impl PgExecutor<'_>,
    as_of: Date,
    only: Option<&[Uuid]>,
) -> sqlx::Result<(Vec<String>, Vec<String>, Vec<bool>)> {
    let rows = sqlx::query(
        r#"select account_id::text, user_ref,
                  bool_or(commented & month_day_bits(month, $1::date - 29, $1) <> 0)
           from usage_user_months
           where month between date_trunc('month', $1::date - 29)::date and $1
             and active & month_day_bits(month, $1::date - 29, $1) <> 0
             and ($2::uuid[] is null or account_id = any($2))
           group by account_id, user_ref"#,
    )
    .bind(as_of)
    .bind(only)
    .fetch_all(db)
    .await?;
    let mut out = (vec![], vec![], vec![]);
    for r in rows {
        out.0.push(r.try_get(0)?);
        out.1.push(r.try_get(1)?);
        out.2.push(r.try_get(2)?);
    }
    Ok(out)
}

/// Per account, the figures that come from single rows rather than windows.
pub struct Point {
    pub account: Uuid,
    pub last_active: Option<Date>,
    pub tickets_30d: i64,
    pub urgent_30d: i64,
    pub avg_csat: Option<f64>,
    pub mrr_cents: Option<i64>,
    pub prev_mrr_cents: Option<i64>,
    pub seats: Option<i32>,
    pub nps: Option<i16>,
}

pub async fn points(
    db: impl PgExecutor<'_>,
    as_of: Date,
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<Point>> {
    let since_30 = as_of - Duration::days(30);
    let since_90 = as_of - Duration::days(90);
    sqlx::query_as!(
        Point,
        r#"select a.id as "account!",
                  (select max(day) from usage_daily u where u.account_id = a.id and u.day <= $1
                     and u.active_users > 0) as last_active,
                  (select count(*) from tickets t where t.account_id = a.id
                     and t.opened_at::date > $2 and t.opened_at::date <= $1) as "tickets_30d!",
                  (select count(*) from tickets t where t.account_id = a.id and t.priority in ('high', 'urgent')
                     and t.opened_at::date > $2 and t.opened_at::date <= $1) as "urgent_30d!",
                  (select avg(csat)::float8 from tickets t where t.account_id = a.id and t.csat is not null
                     and t.resolved_at::date <= $1 and t.opened_at::date > $3) as avg_csat,
                  cur.mrr_cents as "mrr_cents?", prev.mrr_cents as "prev_mrr_cents?", cur.seats as "seats?",
                  (select score from nps_responses n where n.account_id = a.id and n.responded_at::date <= $1
                     order by responded_at desc limit 1) as nps
           from accounts a
           -- the day billing is read on: as-of, or the last day billed if the export ends earlier
           left join lateral (select least($1, max(s.period_end) - 1) as day from subscription_periods s
                              where s.account_id = a.id and s.period_start <= $1) billed on true
           -- every line in force that day (a plan and its add-ons), and a month before
           left join lateral (select sum(s.mrr_cents)::int8 as mrr_cents, sum(s.seats)::int4 as seats
                              from subscription_periods s where s.account_id = a.id
                                and s.period_start <= billed.day and s.period_end > billed.day) cur on true
           left join lateral (select sum(s.mrr_cents)::int8 as mrr_cents from subscription_periods s
                              where s.account_id = a.id and s.period_start <= billed.day - 31
                                and s.period_end > billed.day - 31) prev on true
           where a.customer_since <= $1 and (a.churned_on is null or a.churned_on > $1)
             and ($4::uuid[] is null or a.id = any($4))"#,
        as_of,
        since_30,
        since_90,
        only
    )
    .fetch_all(db)
    .await
}
