//! Reads other domains make of past scores: what each account was told on a day, the
//! model's ARR at risk, which days were scored, and the churn-score lookup.

use sqlx::PgExecutor;
use time::Date;
use uuid::Uuid;

/// Every score of `day`: (account, segment, band, risk tier) — what the account was told
/// that day, for measuring what became of it.
pub async fn day_bands(
    db: impl PgExecutor<'_>,
    day: Date,
) -> sqlx::Result<Vec<(Uuid, String, String, Option<String>)>> {
    let rows = sqlx::query!(
        r#"select account_id, coalesce(segment, '') as "segment!", band, risk_tier from scores where day = $1"#,
        day
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.account_id, r.segment, r.band, r.risk_tier))
        .collect())
}

/// The latest day with scores on or before `day`.
pub async fn scored_on_or_before(db: impl PgExecutor<'_>, day: Date) -> sqlx::Result<Option<Date>> {
    sqlx::query_scalar!("select max(day) from scores where day <= $1", day)
        .fetch_one(db)
        .await
}

/// The model's expected ARR loss on `day` (Σ ARR × churn probability, in cents, unrounded)
/// per segment and team: each filter of the dashboard adds up the groups it covers, so one
/// read serves them all.
pub async fn arr_at_risk_by_group(
    db: impl PgExecutor<'_>,
    day: Date,
) -> sqlx::Result<Vec<(Option<String>, Option<Uuid>, f64)>> {
    sqlx::query_as(
        "select s.segment, u.manager_id, coalesce(sum(a.mrr_cents * 12 * s.churn_probability), 0)::float8
         from scores s join accounts a on a.id = s.account_id left join users u on u.id = a.owner_id
         where s.day = $1 and a.status <> 'churned'
         group by 1, 2",
    )
    .bind(day)
    .fetch_all(db)
    .await
}

/// The earliest day with scores on or after `day`.
pub async fn earliest_day_since(db: impl PgExecutor<'_>, day: Date) -> sqlx::Result<Option<Date>> {
    sqlx::query_scalar!("select min(day) from scores where day >= $1", day)
        .fetch_one(db)
        .await
}

/// The account with this external id, and its score of today by this model if nothing has
/// arrived for it since.
pub struct Lookup {
    pub id: uuid::Uuid,
    pub stored: Option<(f64, serde_json::Value)>,
}

pub async fn lookup(
    db: &sqlx::PgPool,
    external: &str,
    model: uuid::Uuid,
    today: time::Date,
) -> sqlx::Result<Option<Lookup>> {
    let row = sqlx::query!(
        r#"select a.id, s.churn_probability as "p?", s.drivers as "drivers?"
           from accounts a
           left join lateral (
               select s.churn_probability, s.drivers from scores s
               where s.account_id = a.id and s.model_id = $2 and s.churn_probability is not null
                 and (s.day = $3 or s.rescored_at >= $3::date::timestamptz)
                 and not exists (select 1 from rescore_queue q where q.account_id = a.id)
               order by s.day desc
               limit 1
           ) s on true
           where a.external_id = $1"#,
        external,
        model,
        today
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Lookup {
        id: r.id,
        stored: r.p.map(f64::from).zip(r.drivers),
    }))
}
