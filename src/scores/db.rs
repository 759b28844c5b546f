//! SQL for the `scores` table: each account's score per day, written by the daily run and
//! by re-scoring, read by every page that shows a score.

use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(Default)]
pub struct ScoreRows {
    pub account: Vec<Uuid>,
    pub segment: Vec<String>,
    pub health: Vec<f32>,
    pub band: Vec<String>,
    pub signals: Vec<Value>,
    pub probability: Vec<Option<f32>>,
    pub tier: Vec<Option<String>>,
    pub at_risk: Vec<bool>,
    pub drivers: Vec<Value>,
}

/// Who computed a set of scores: the run, the model and the scoring configuration.
#[derive(Clone, Copy)]
pub struct Provenance {
    pub run: i64,
    pub model: Option<Uuid>,
    pub config: i64,
}

/// Replaces the day's scores with these, in the caller's transaction (`notes::write` then
/// adds their usage anomalies and champion watch).
pub async fn replace_scores(
    conn: &mut PgConnection,
    day: Date,
    by: Provenance,
    s: &ScoreRows,
) -> sqlx::Result<u64> {
    sqlx::query!("delete from scores where day = $1", day)
        .execute(&mut *conn)
        .await?;
    write_scores(conn, day, by, s, None).await
}

/// Writes scores for `day`, replacing any the accounts already have that day; `rescored_at`
/// marks scores refreshed after the day's run.
pub async fn upsert_scores(
    conn: &mut PgConnection,
    day: Date,
    by: Provenance,
    s: &ScoreRows,
    rescored_at: OffsetDateTime,
) -> sqlx::Result<u64> {
    write_scores(conn, day, by, s, Some(rescored_at)).await
}

async fn write_scores(
    conn: &mut PgConnection,
    day: Date,
    by: Provenance,
    s: &ScoreRows,
    rescored_at: Option<OffsetDateTime>,
) -> sqlx::Result<u64> {
    // The decrement (points lost since the account's previous score) and the trajectory (a
    // least-squares slope over four weeks, this score included: ±5 points or more is improving
    // or declining) are reckoned as the rows go in. Updating every row of the day afterwards
    // rewrote 45,000 rows (5.7 s at 50,000 accounts).
    //
    // Both look-ups go by the key, in every case. The table grows as this statement runs, so
    // when it is empty at planning time (the first run over a new company) a plan that scans
    // it looks free, and then scans it once per account over the rows going in: quadratic,
    // 140 s of the first run at 50,000 accounts instead of about 2 s.
    sqlx::query("set local enable_seqscan = off")
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query(
        r#"insert into scores (account_id, day, segment, health_score, band, signals, churn_probability,
                               risk_tier, at_risk, drivers, model_id, health_config_id, run_id, rescored_at,
                               decrement, trajectory)
           select x.a, $2, x.g, x.h, x.b, x.s, x.p, x.t, x.r, x.d, $3, $4, $5, $14,
                  nullif(greatest(prev.health_score - x.h, 0), 0),
                  case when w.n < 3 then 'stable'
                       when w.slope * 28 >= 5 then 'improving'
                       when w.slope * 28 <= -5 then 'declining'
                       else 'stable' end
           from unnest($1::uuid[], $13::text[], $6::real[], $7::text[], $8::jsonb[], $9::real[], $10::text[],
                       $11::bool[], $12::jsonb[]) as x(a, g, h, b, s, p, t, r, d)
           left join lateral (select p.health_score from scores p
                              where p.account_id = x.a and p.day < $2 order by p.day desc limit 1) prev on true
           cross join lateral (select count(*) as n, regr_slope(w.health, w.day - $2) as slope
                               from (select h.health_score as health, h.day from scores h
                                     where h.account_id = x.a and h.day >= $2 - 28 and h.day < $2
                                     union all select x.h, $2::date) w) w
           on conflict (account_id, day) do update set
               segment = excluded.segment, health_score = excluded.health_score, band = excluded.band,
               signals = excluded.signals, churn_probability = excluded.churn_probability,
               risk_tier = excluded.risk_tier, at_risk = excluded.at_risk, drivers = excluded.drivers,
               model_id = excluded.model_id, health_config_id = excluded.health_config_id,
               trajectory = excluded.trajectory, decrement = excluded.decrement,
               anomaly = null, champion_loss = null, rescored_at = excluded.rescored_at"#,
    )
    .bind(&s.account)
    .bind(day)
    .bind(by.model)
    .bind(by.config)
    .bind(by.run)
    .bind(&s.health)
    .bind(&s.band)
    .bind(&s.signals)
    .bind(&s.probability)
    .bind(&s.tier)
    .bind(&s.at_risk)
    .bind(&s.drivers)
    .bind(&s.segment)
    .bind(rescored_at)
    .execute(&mut *conn)
    .await?;
    sqlx::query("set local enable_seqscan = default")
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// Segment and stored signals of every score of `day`.
pub async fn day_signals(db: impl PgExecutor<'_>, day: Date) -> sqlx::Result<Vec<(String, Value)>> {
    let rows = sqlx::query!(
        r#"select coalesce(segment, '') as "segment!", signals from scores where day = $1"#,
        day
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.segment, r.signals)).collect())
}

/// An account's most recent score, read with the account (`accounts::db::find_scored`).
pub struct LatestScore {
    pub day: Date,
    pub health_score: f32,
    pub band: String,
    pub signals: Value,
    pub churn_probability: Option<f32>,
    pub risk_tier: Option<String>,
    pub at_risk: bool,
    pub drivers: Value,
    pub trajectory: Option<String>,
    pub decrement: Option<f32>,
    pub anomaly: Option<String>,
    pub champion_loss: Option<String>,
    pub rescored_at: Option<OffsetDateTime>,
}

/// The latest day with scores (written only by a successful run, or by re-scoring that day).
pub async fn latest_day(db: impl PgExecutor<'_>) -> sqlx::Result<Option<Date>> {
    sqlx::query_scalar!("select max(day) from scores")
        .fetch_one(db)
        .await
}

/// Scores of the latest scored day in each of the twelve weeks whose 60-day labels have
/// matured by `day`: (ISO week, probability, churned within 60 days, label seen in training).
pub async fn matured_scores(
    db: impl PgExecutor<'_>,
    day: Date,
) -> sqlx::Result<Vec<(String, f64, bool, bool)>> {
    let rows = sqlx::query!(
        r#"select to_char(s.day, 'IYYY-"W"IW') as "week!", s.churn_probability as "p!",
                  coalesce(a.churned_on > s.day and a.churned_on <= s.day + $2::int, false) as "churned!",
                  coalesce(s.day < m.train_to + $2::int, false) as "in_sample!"
           from scores s
           join accounts a on a.id = s.account_id
           left join models m on m.id = s.model_id
           where s.day in (select max(d.day) from scores d
                           where d.day <= $1::date - $2::int and d.day > $1::date - $2::int - 84
                           group by date_trunc('week', d.day))
             and s.churn_probability is not null
           order by s.day"#,
        day,
        crate::features::HORIZON_DAYS as i32
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.week, f64::from(r.p), r.churned, r.in_sample))
        .collect())
}

/// One exported score, with the account it belongs to.
#[derive(serde::Serialize)]
pub struct ExportRow {
    pub account_id: String,
    pub name: String,
    pub segment: Option<String>,
    pub health_score: f32,
    pub band: String,
    pub trajectory: Option<String>,
    pub decrement: Option<f32>,
    pub churn_probability: Option<f32>,
    pub risk_tier: Option<String>,
    pub at_risk: bool,
    pub drivers: Value,
    pub anomaly: Option<String>,
    pub champion_loss: Option<String>,
    pub rescored_at: Option<OffsetDateTime>,
}

/// The latest day with scores on or before `day` (or at all).
pub async fn export_day(db: impl PgExecutor<'_>, day: Option<Date>) -> sqlx::Result<Option<Date>> {
    sqlx::query_scalar!(
        "select max(day) from scores where $1::date is null or day <= $1",
        day
    )
    .fetch_one(db)
    .await
}

/// A page of a day's scores in external-id order, after `after`.
pub async fn export_page(
    db: impl PgExecutor<'_>,
    day: Date,
    after: &str,
    limit: i64,
) -> sqlx::Result<Vec<ExportRow>> {
    sqlx::query_as!(
        ExportRow,
        r#"select a.external_id as account_id, a.name, s.segment, s.health_score, s.band, s.trajectory, s.decrement,
                  s.churn_probability, s.risk_tier, s.at_risk, s.drivers, s.anomaly, s.champion_loss, s.rescored_at
           from scores s join accounts a on a.id = s.account_id
           where s.day = $1 and a.external_id > $2
           order by a.external_id limit $3"#,
        day,
        after,
        limit
    )
    .fetch_all(db)
    .await
}

/// Accounts scored on the last scored day before `day` (scores are written only by
/// successful runs and by re-scoring that day).
pub async fn previous_volume(db: impl PgExecutor<'_>, day: Date) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from scores where day = (select max(day) from scores where day < $1)
           having count(*) > 0"#,
        day
    )
    .fetch_optional(db)
    .await
}
