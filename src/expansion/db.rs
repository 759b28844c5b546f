//! SQL for expansion: the raw signals as of a day, who expanded afterwards, the weights in
//! force, and the daily `expansion_scores`.

use std::collections::HashSet;

use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use time::Date;
use uuid::Uuid;

use super::propensity::{Raw, Tier, Weights};

/// One paying account live on the day, with its MRR then and its raw signals.
pub struct SignalRow {
    pub account: Uuid,
    pub mrr_cents: i64,
    pub raw: Raw,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    mrr_cents: i64,
    areas: i32,
    users_now: i64,
    co_users: i64,
    seats_now: i64,
    seats_before: i64,
    users_before: i64,
    nps_recent: Option<f64>,
    nps_earlier: Option<f64>,
    feature_requests: i64,
}

/// The raw signals of every paying account live on `day`, reading nothing after it.
/// `areas` is how many feature areas the product has. Reads each person's months as last
/// caught up: callers catch up first (`features::months::catch_up`).
pub async fn signals(
    db: impl PgExecutor<'_>,
    day: Date,
    areas: usize,
) -> sqlx::Result<Vec<SignalRow>> {
    let rows: Vec<Row> = sqlx::query_as(
        r#"with live as (
               select id, mrr_cents from accounts
               where customer_since <= $1 and (churned_on is null or churned_on > $1)
                 and status <> 'trial'),
           per_user as (
               select account_id, user_ref, bit_or(categories) as c from usage_user_daily
               where day > $1 - 30 and day <= $1 and events > 0 group by 1, 2),
           usage_now as (
               select account_id, bit_or(c) as areas, count(*) as users,
                      count(*) filter (where c & (c - 1) <> 0) as co_users
               from per_user group by 1),
           usage_before as (
               select account_id, count(distinct user_ref) as users from usage_user_months
               where month between date_trunc('month', $1 - 120)::date and $1 - 91
                 and active & month_day_bits(month, $1 - 120, $1 - 91) <> 0
               group by 1),
           billed as (
               select account_id,
                      sum(mrr_cents) filter (where period_start <= $1 and period_end > $1) as mrr,
                      sum(seats) filter (where period_start <= $1 and period_end > $1) as seats_now,
                      sum(seats) filter (where period_start <= $1 - 91 and period_end > $1 - 91) as seats_before
               from subscription_periods where period_end > $1 - 91 and period_start <= $1 group by 1),
           nps as (
               select account_id,
                      avg(score) filter (where responded_at >= ($1 - 89)::timestamptz) as recent,
                      avg(score) filter (where responded_at < ($1 - 89)::timestamptz) as earlier
               from nps_responses
               where responded_at >= ($1 - 179)::timestamptz and responded_at < ($1 + 1)::timestamptz
               group by 1),
           requests as (
               select account_id, count(*) as n from tickets
               where feature_request and opened_at >= ($1 - 89)::timestamptz
                 and opened_at < ($1 + 1)::timestamptz
               group by 1)
           select l.id, coalesce(b.mrr, l.mrr_cents)::int8 as mrr_cents,
                  coalesce(u.areas, 0) as areas, coalesce(u.users, 0) as users_now,
                  coalesce(u.co_users, 0) as co_users,
                  coalesce(b.seats_now, 0)::int8 as seats_now, coalesce(b.seats_before, 0)::int8 as seats_before,
                  coalesce(ub.users, 0) as users_before,
                  n.recent::float8 as nps_recent, n.earlier::float8 as nps_earlier,
                  coalesce(r.n, 0) as feature_requests
           from live l
           left join billed b on b.account_id = l.id
           left join usage_now u on u.account_id = l.id
           left join usage_before ub on ub.account_id = l.id
           left join nps n on n.account_id = l.id
           left join requests r on r.account_id = l.id
           where coalesce(b.mrr, l.mrr_cents) > 0
           order by l.id"#,
    )
    .bind(day)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let now = r.seats_now.max(r.users_now) as f64;
            let before = r.seats_before.max(r.users_before) as f64;
            SignalRow {
                account: r.id,
                mrr_cents: r.mrr_cents,
                raw: Raw {
                    depth: f64::from(r.areas.count_ones()) / areas.max(1) as f64,
                    co_usage: if r.users_now > 0 {
                        r.co_users as f64 / r.users_now as f64
                    } else {
                        0.0
                    },
                    seat_growth: if before > 0.0 {
                        now / before - 1.0
                    } else {
                        0.0
                    },
                    nps_trend: match (r.nps_recent, r.nps_earlier) {
                        (Some(a), Some(b)) => a - b,
                        _ => 0.0,
                    },
                    feature_requests: r.feature_requests as f64,
                },
            }
        })
        .collect())
}

/// Accounts whose billed MRR `days` after `day` exceeds their MRR on `day`: they expanded.
pub async fn expanded(
    db: impl PgExecutor<'_>,
    day: Date,
    days: i64,
) -> sqlx::Result<HashSet<Uuid>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        r#"select account_id from subscription_periods
           where (period_start <= $1 and period_end > $1) or (period_start <= $2 and period_end > $2)
           group by account_id
           having sum(mrr_cents) filter (where period_start <= $2 and period_end > $2)
                > sum(mrr_cents) filter (where period_start <= $1 and period_end > $1)"#,
    )
    .bind(day)
    .bind(day + time::Duration::days(days))
    .fetch_all(db)
    .await?;
    Ok(ids.into_iter().collect())
}

/// The weights in force: (version, weights, rubric or learned).
pub async fn config(db: impl PgExecutor<'_>) -> sqlx::Result<(i64, Weights, String)> {
    let (id, weights, source): (i64, Value, String) = sqlx::query_as(
        "select id, weights, source from expansion_configs order by id desc limit 1",
    )
    .fetch_one(db)
    .await?;
    let w =
        super::propensity::SIGNALS.map(|s| weights.get(s).and_then(Value::as_f64).unwrap_or(0.0));
    Ok((id, Weights::normalised(w), source))
}

pub async fn insert_config(
    db: impl PgExecutor<'_>,
    weights: &Weights,
    source: &str,
    by: Uuid,
) -> sqlx::Result<i64> {
    let json: serde_json::Map<String, Value> = super::propensity::SIGNALS
        .iter()
        .zip(weights.0)
        .map(|(s, w)| ((*s).to_owned(), Value::from(w)))
        .collect();
    sqlx::query_scalar(
        "insert into expansion_configs (weights, source, created_by) values ($1, $2, $3) returning id",
    )
    .bind(Value::Object(json))
    .bind(source)
    .bind(by)
    .fetch_one(db)
    .await
}

/// Won and lost opportunities per tier closed since `since`.
pub async fn closed_by_tier(
    db: impl PgExecutor<'_>,
    since: time::OffsetDateTime,
) -> sqlx::Result<Vec<(Tier, i64, i64)>> {
    sqlx::query_as(
        r#"select tier, count(*) filter (where status = 'won'), count(*) filter (where status = 'lost')
           from opportunities where closed_at >= $1 group by tier"#,
    )
    .bind(since)
    .fetch_all(db)
    .await
}

/// One day's propensities, as written.
#[derive(Default)]
pub struct ScoreRows {
    pub account: Vec<Uuid>,
    pub propensity: Vec<f32>,
    pub tier: Vec<Tier>,
    pub signals: Vec<Value>,
    pub poc: Vec<f32>,
    pub projected_arr_cents: Vec<i64>,
}

/// Replaces the propensities of these accounts on `day`, in the caller's transaction.
pub async fn write(
    conn: &mut PgConnection,
    day: Date,
    config: i64,
    s: &ScoreRows,
    replace_day: bool,
) -> sqlx::Result<u64> {
    if replace_day {
        sqlx::query("delete from expansion_scores where day = $1")
            .bind(day)
            .execute(&mut *conn)
            .await?;
    }
    let done = sqlx::query(
        r#"insert into expansion_scores (account_id, day, propensity, tier, signals, poc, projected_arr_cents, config_id)
           select a, $2, p, t, s, c, r, $3
           from unnest($1::uuid[], $4::real[], $5::expansion_tier[], $6::jsonb[], $7::real[], $8::int8[])
                as x(a, p, t, s, c, r)
           on conflict (account_id, day) do update set
               propensity = excluded.propensity, tier = excluded.tier, signals = excluded.signals,
               poc = excluded.poc, projected_arr_cents = excluded.projected_arr_cents,
               config_id = excluded.config_id"#,
    )
    .bind(&s.account)
    .bind(day)
    .bind(config)
    .bind(&s.propensity)
    .bind(&s.tier)
    .bind(&s.signals)
    .bind(&s.poc)
    .bind(&s.projected_arr_cents)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// An account's latest propensity.
#[derive(sqlx::FromRow, Clone)]
pub struct Latest {
    pub day: Date,
    pub propensity: f32,
    pub tier: Tier,
    pub signals: Value,
    pub poc: f32,
    pub projected_arr_cents: i64,
}

pub async fn latest(db: impl PgExecutor<'_>, account: Uuid) -> sqlx::Result<Option<Latest>> {
    sqlx::query_as(
        r#"select day, propensity, tier, signals, poc, projected_arr_cents from expansion_scores
           where account_id = $1 order by day desc limit 1"#,
    )
    .bind(account)
    .fetch_optional(db)
    .await
}
