//! What the dashboard reads: the prepared revenue facts for one filter (segment, team).

use sqlx::PgExecutor;
use time::Date;
use uuid::Uuid;

use super::movements::MonthFacts;
use super::windows::{CohortCell, MonthSums, Retention};

/// The latest refresh: as of which day, and when.
pub async fn latest_refresh(
    db: impl PgExecutor<'_>,
) -> sqlx::Result<Option<(Date, time::OffsetDateTime)>> {
    let row =
        sqlx::query!("select as_of, refreshed_at from revenue_refreshes order by id desc limit 1")
            .fetch_optional(db)
            .await?;
    Ok(row.map(|r| (r.as_of, r.refreshed_at)))
}

/// Which accounts a figure covers: a segment, a team (a manager's reports' accounts), both
/// or neither.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub segment: Option<String>,
    pub manager: Option<Uuid>,
}

/// Retention of `months`-month windows ending from `since` on, by end month and segment.
pub async fn retention(
    db: impl PgExecutor<'_>,
    months: i32,
    since: Date,
    f: &Filter,
) -> sqlx::Result<Vec<(Date, String, Retention)>> {
    let rows = sqlx::query!(
        r#"select end_month, segment, sum(accounts)::bigint as "accounts!",
                  sum(churned_accounts)::bigint as "churned_accounts!", sum(starting_cents)::bigint as "starting!",
                  sum(expansion_cents)::bigint as "expansion!", sum(contraction_cents)::bigint as "contraction!",
                  sum(churn_cents)::bigint as "churn!"
           from revenue_windows
           where months = $1 and end_month >= $2 and ($3::text is null or segment = $3)
             and ($4::uuid is null or manager_id = $4)
           group by end_month, segment order by end_month, segment"#,
        months,
        since,
        f.segment,
        f.manager
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.end_month,
                r.segment,
                Retention {
                    accounts: r.accounts,
                    churned_accounts: r.churned_accounts,
                    starting: r.starting,
                    expansion: r.expansion,
                    contraction: r.contraction,
                    churn: r.churn,
                },
            )
        })
        .collect())
}

/// The book's movements per month from `since` on.
pub async fn monthly(
    db: impl PgExecutor<'_>,
    since: Date,
    f: &Filter,
) -> sqlx::Result<Vec<(Date, MonthSums)>> {
    let rows = sqlx::query!(
        r#"select month, sum(accounts_start)::bigint as "accounts_start!", sum(accounts_end)::bigint as "accounts_end!",
                  sum(start_cents)::bigint as "start!", sum(new_cents)::bigint as "new!",
                  sum(expansion_cents)::bigint as "expansion!", sum(contraction_cents)::bigint as "contraction!",
                  sum(churn_cents)::bigint as "churn!", sum(reactivation_cents)::bigint as "reactivation!",
                  sum(end_cents)::bigint as "end!"
           from revenue_monthly
           where month >= $1 and ($2::text is null or segment = $2) and ($3::uuid is null or manager_id = $3)
           group by month order by month"#,
        since,
        f.segment,
        f.manager
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.month,
                MonthSums {
                    accounts_start: r.accounts_start,
                    accounts_end: r.accounts_end,
                    facts: MonthFacts {
                        month: Some(r.month),
                        start: r.start,
                        new: r.new,
                        expansion: r.expansion,
                        contraction: r.contraction,
                        churn: r.churn,
                        reactivation: r.reactivation,
                        end: r.end,
                    },
                },
            )
        })
        .collect())
}

/// Every cohort's cells.
pub async fn cohorts(
    db: impl PgExecutor<'_>,
    f: &Filter,
) -> sqlx::Result<Vec<(Date, i32, CohortCell)>> {
    let rows = sqlx::query!(
        r#"select cohort, age, sum(accounts)::bigint as "accounts!", sum(retained)::bigint as "retained!",
                  sum(base_cents)::bigint as "base!", sum(mrr_cents)::bigint as "mrr!"
           from revenue_cohorts
           where every_team = ($2::uuid is null) and ($1::text is null or segment = $1)
             and ($2::uuid is null or manager_id = $2)
           group by cohort, age order by cohort, age"#,
        f.segment,
        f.manager
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.cohort,
                r.age,
                CohortCell {
                    accounts: r.accounts,
                    retained: r.retained,
                    base_mrr: r.base,
                    mrr: r.mrr,
                },
            )
        })
        .collect())
}

/// What became of each band and tier: (horizon, score day, grouping, value, accounts,
/// churned).
pub async fn band_outcomes(
    db: impl PgExecutor<'_>,
    f: &Filter,
) -> sqlx::Result<Vec<(i32, Date, String, String, i64, i64)>> {
    let rows = sqlx::query!(
        r#"select horizon_days, score_day, grouping, value, sum(accounts)::bigint as "accounts!",
                  sum(churned)::bigint as "churned!"
           from revenue_band_outcomes
           where ($1::text is null or segment = $1) and ($2::uuid is null or manager_id = $2)
           group by horizon_days, score_day, grouping, value order by horizon_days, grouping, value"#,
        f.segment,
        f.manager
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.horizon_days,
                r.score_day,
                r.grouping,
                r.value,
                r.accounts,
                r.churned,
            )
        })
        .collect())
}

/// One filter view, as prepared: (score day, horizon, curves, log-rank, ARR at risk).
pub struct ViewRow {
    pub score_day: Option<Date>,
    pub horizon_days: Option<i32>,
    pub curves: serde_json::Value,
    pub log_rank: Option<serde_json::Value>,
    pub arr_at_risk_cents: i64,
    pub saves_flagged: i64,
    pub saves_contacted: i64,
    pub saves_retained: i64,
}

pub async fn view(db: impl PgExecutor<'_>, f: &Filter) -> sqlx::Result<Option<ViewRow>> {
    sqlx::query_as!(
        ViewRow,
        "select score_day, horizon_days, curves, log_rank, arr_at_risk_cents, saves_flagged, saves_contacted,
                saves_retained
         from revenue_views
         where segment is not distinct from $1 and manager_id is not distinct from $2",
        f.segment,
        f.manager
    )
    .fetch_optional(db)
    .await
}
