//! SQL for experiments, their variants and assignments.

use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgExecutor};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(FromRow, Clone, Debug)]
pub struct Experiment {
    pub id: i64,
    pub name: String,
    pub hypothesis: String,
    pub rule: Value,
    pub seed: i64,
    pub duration_days: i32,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub min_per_variant: i32,
    pub horizon_days: i32,
    pub status: String,
    pub holdout_of: Option<i64>,
    pub decision: Option<String>,
    pub winner_variant_id: Option<i64>,
    pub concluded_at: Option<OffsetDateTime>,
    pub concluded_by: Option<String>,
    pub created_by: String,
}

const EXPERIMENT: &str = "select id, name, hypothesis, rule, seed, duration_days, start_date, end_date,
       min_per_variant, horizon_days, status::text as status, holdout_of, decision, winner_variant_id,
       concluded_at, concluded_by, created_by from experiments";

#[derive(FromRow, Clone, Debug)]
pub struct Variant {
    pub id: i64,
    pub experiment_id: i64,
    pub position: i16,
    pub name: String,
    pub description: String,
    pub allocation: i32,
    pub playbook_id: Option<i64>,
    pub playbook: Option<String>,
}

pub async fn all(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Experiment>> {
    sqlx::query_as(&format!(
        "{EXPERIMENT} order by holdout_of nulls first, id desc"
    ))
    .fetch_all(db)
    .await
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Experiment>> {
    sqlx::query_as(&format!("{EXPERIMENT} where id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn holdout_of(
    db: impl PgExecutor<'_>,
    playbook: i64,
) -> sqlx::Result<Option<Experiment>> {
    sqlx::query_as(&format!("{EXPERIMENT} where holdout_of = $1"))
        .bind(playbook)
        .fetch_optional(db)
        .await
}

/// The running experiments (and every holdout) whose assignment window holds `day`.
pub async fn running(db: impl PgExecutor<'_>, day: Date) -> sqlx::Result<Vec<Experiment>> {
    sqlx::query_as(&format!(
        "{EXPERIMENT} where status = 'running' and (holdout_of is not null or ($1 between start_date and end_date))
         order by holdout_of nulls first, id"
    ))
    .bind(day)
    .fetch_all(db)
    .await
}

/// The variants of the given experiments, in order.
pub async fn variants(db: impl PgExecutor<'_>, experiments: &[i64]) -> sqlx::Result<Vec<Variant>> {
    sqlx::query_as(
        "select v.id, v.experiment_id, v.position, v.name, v.description, v.allocation, v.playbook_id,
                p.name as playbook
         from experiment_variants v left join playbooks p on p.id = v.playbook_id
         where v.experiment_id = any($1) order by v.experiment_id, v.position",
    )
    .bind(experiments)
    .fetch_all(db)
    .await
}

/// What a designer writes.
pub struct Draft<'a> {
    pub name: &'a str,
    pub hypothesis: &'a str,
    pub rule: &'a Value,
    pub seed: i64,
    pub duration_days: i32,
    pub min_per_variant: i32,
    pub holdout_of: Option<i64>,
    pub variants: &'a [NewVariant],
}

pub struct NewVariant {
    pub name: String,
    pub description: String,
    pub allocation: i32,
    pub playbook: Option<i64>,
}

/// Whether a database error is the experiment name's uniqueness.
pub fn name_taken(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.constraint() == Some("experiments_name_key"))
}

pub async fn create(conn: &mut PgConnection, d: &Draft<'_>, by: &str) -> sqlx::Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "insert into experiments (name, hypothesis, rule, seed, duration_days, min_per_variant, holdout_of, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
    )
    .bind(d.name)
    .bind(d.hypothesis)
    .bind(d.rule)
    .bind(d.seed)
    .bind(d.duration_days)
    .bind(d.min_per_variant)
    .bind(d.holdout_of)
    .bind(by)
    .fetch_one(&mut *conn)
    .await?;
    for (position, v) in d.variants.iter().enumerate() {
        sqlx::query(
            "insert into experiment_variants (experiment_id, position, name, description, allocation, playbook_id)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(position as i16)
        .bind(&v.name)
        .bind(&v.description)
        .bind(v.allocation)
        .bind(v.playbook)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// Starts a draft on `day`; false when it is not a draft.
pub async fn start(db: impl PgExecutor<'_>, id: i64, day: Date) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update experiments set status = 'running', start_date = $2, end_date = $2 + duration_days
         where id = $1 and status = 'draft'",
    )
    .bind(id)
    .bind(day)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the decision on a running experiment; false when it is not running.
pub async fn conclude(
    db: impl PgExecutor<'_>,
    id: i64,
    decision: &str,
    winner: Option<i64>,
    by: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update experiments set status = 'concluded', decision = $2, winner_variant_id = $3,
                concluded_at = now(), concluded_by = $4
         where id = $1 and status = 'running'",
    )
    .bind(id)
    .bind(decision)
    .bind(winner)
    .bind(by)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A holdout's split follows its playbook's current share.
pub async fn set_holdout_split(
    db: &mut PgConnection,
    experiment: i64,
    pct: i32,
) -> sqlx::Result<()> {
    sqlx::query(
        "update experiment_variants set allocation = case position when 0 then $2 else 100 - $2 end
         where experiment_id = $1",
    )
    .bind(experiment)
    .bind(pct)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(FromRow, Clone, Debug)]
pub struct Assignment {
    pub experiment_id: i64,
    pub account_id: Uuid,
    pub variant_id: i64,
    pub stratum: String,
    pub slot: i32,
    pub assigned_on: Date,
}

pub async fn assignments(
    db: impl PgExecutor<'_>,
    experiments: &[i64],
) -> sqlx::Result<Vec<Assignment>> {
    sqlx::query_as(
        "select experiment_id, account_id, variant_id, stratum, slot, assigned_on
         from experiment_assignments where experiment_id = any($1)",
    )
    .bind(experiments)
    .fetch_all(db)
    .await
}

/// Accounts inside a (non-holdout) experiment's outcome window on `day`.
pub async fn in_window(db: impl PgExecutor<'_>, day: Date) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select distinct x.account_id from experiment_assignments x join experiments e on e.id = x.experiment_id
         where e.holdout_of is null and x.assigned_on <= $1 and $1 < x.assigned_on + e.horizon_days",
    )
    .bind(day)
    .fetch_all(db)
    .await
}

pub async fn insert_assignments(conn: &mut PgConnection, rows: &[Assignment]) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "insert into experiment_assignments (experiment_id, account_id, variant_id, stratum, slot, assigned_on)
         select * from unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::text[], $5::int[], $6::date[])
         on conflict do nothing",
    )
    .bind(rows.iter().map(|r| r.experiment_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.account_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.variant_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.stratum.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.slot).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.assigned_on).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The experiments an account is in now (name, since), for its CSM: not the variant's
/// results, only that the account is under test.
pub async fn of_account(
    db: impl PgExecutor<'_>,
    account: Uuid,
    day: Date,
) -> sqlx::Result<Vec<(i64, String, Date)>> {
    sqlx::query_as(
        "select e.id, e.name, x.assigned_on from experiment_assignments x join experiments e on e.id = x.experiment_id
         where x.account_id = $1 and e.holdout_of is null and $2 < x.assigned_on + e.horizon_days
         order by x.assigned_on",
    )
    .bind(account)
    .bind(day)
    .fetch_all(db)
    .await
}

/// One assigned account's outcome, for the results.
#[derive(FromRow, Clone, Debug)]
pub struct Outcome {
    pub variant_id: i64,
    pub stratum: String,
    pub assigned_on: Date,
    pub churned_on: Option<Date>,
    pub mrr_before: Option<i64>,
    pub mrr_after: Option<i64>,
    pub nps_before: Option<f64>,
    pub nps_after: Option<f64>,
    pub minutes: i64,
}

pub async fn outcomes(db: impl PgExecutor<'_>, experiment: i64) -> sqlx::Result<Vec<Outcome>> {
    sqlx::query_as(
        "select x.variant_id, x.stratum, x.assigned_on, a.churned_on,
                (select sum(s.mrr_cents)::int8 from subscription_periods s where s.account_id = x.account_id
                   and s.period_start <= x.assigned_on and s.period_end > x.assigned_on) as mrr_before,
                (select sum(s.mrr_cents)::int8 from subscription_periods s where s.account_id = x.account_id
                   and s.period_start <= x.assigned_on + e.horizon_days
                   and s.period_end > x.assigned_on + e.horizon_days) as mrr_after,
                (select avg(n.score)::float8 from nps_responses n where n.account_id = x.account_id
                   and n.responded_at < x.assigned_on and n.responded_at >= x.assigned_on - 180) as nps_before,
                (select avg(n.score)::float8 from nps_responses n where n.account_id = x.account_id
                   and n.responded_at >= x.assigned_on and n.responded_at < x.assigned_on + e.horizon_days) as nps_after,
                coalesce((select sum(i.minutes_spent) from interventions i where i.account_id = x.account_id
                   and i.happened_on >= x.assigned_on and i.happened_on < x.assigned_on + e.horizon_days), 0)::int8 as minutes
         from experiment_assignments x join accounts a on a.id = x.account_id
              join experiments e on e.id = x.experiment_id
         where x.experiment_id = $1",
    )
    .bind(experiment)
    .fetch_all(db)
    .await
}
