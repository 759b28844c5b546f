//! SQL writing the revenue facts, replaced whole by `facts::refresh` (`read` reads them).

use sqlx::{PgConnection, PgExecutor};
use time::Date;
use uuid::Uuid;

use super::facts::BandOutcome;
use super::movements::MonthFacts;
use super::windows::{CohortCell, CohortKey, MonthKey, MonthSums, Retention, WindowKey};

/// Replaces every account's monthly facts, writing only what changed: most months of most
/// accounts are the same as yesterday's, and rewriting all of them (580,000 rows at 50,000
/// accounts, each checked against its account) took 8 s of the daily run.
pub async fn replace_months(
    conn: &mut PgConnection,
    rows: &[(Uuid, MonthFacts)],
) -> sqlx::Result<()> {
    sqlx::query("create temporary table months_now (like revenue_months) on commit drop")
        .execute(&mut *conn)
        .await?;
    for chunk in rows.chunks(50_000) {
        let col = |f: fn(&MonthFacts) -> i64| chunk.iter().map(|(_, m)| f(m)).collect::<Vec<_>>();
        sqlx::query(
            "insert into months_now
             select * from unnest($1::uuid[], $2::date[], $3::bigint[], $4::bigint[], $5::bigint[],
                                  $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])",
        )
        .bind(chunk.iter().map(|r| r.0).collect::<Vec<_>>())
        .bind(chunk.iter().filter_map(|r| r.1.month).collect::<Vec<_>>())
        .bind(col(|m| m.start))
        .bind(col(|m| m.new))
        .bind(col(|m| m.expansion))
        .bind(col(|m| m.contraction))
        .bind(col(|m| m.churn))
        .bind(col(|m| m.reactivation))
        .bind(col(|m| m.end))
        .execute(&mut *conn)
        .await?;
    }
    // Without statistics the planner would take the new rows for a handful and probe the
    // table's index once for each.
    sqlx::query("analyze months_now")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "delete from revenue_months r
         where not exists (select from months_now n where n.account_id = r.account_id and n.month = r.month)",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into revenue_months
         select n.* from months_now n
         left join revenue_months r on r.account_id = n.account_id and r.month = n.month
         where r is distinct from n
         on conflict (account_id, month) do update set
             start_cents = excluded.start_cents, new_cents = excluded.new_cents,
             expansion_cents = excluded.expansion_cents, contraction_cents = excluded.contraction_cents,
             churn_cents = excluded.churn_cents, reactivation_cents = excluded.reactivation_cents,
             end_cents = excluded.end_cents",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Replaces the retention of every window.
pub async fn replace_windows(
    conn: &mut PgConnection,
    rows: &[(WindowKey, Retention)],
) -> sqlx::Result<()> {
    sqlx::query!("delete from revenue_windows")
        .execute(&mut *conn)
        .await?;
    let col = |f: fn(&Retention) -> i64| rows.iter().map(|(_, r)| f(r)).collect::<Vec<_>>();
    sqlx::query!(
        "insert into revenue_windows (months, end_month, segment, manager_id, accounts, churned_accounts,
                                      starting_cents, expansion_cents, contraction_cents, churn_cents)
         select * from unnest($1::int[], $2::date[], $3::text[], $4::uuid[], $5::bigint[], $6::bigint[],
                              $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])",
        &rows.iter().map(|r| r.0.months).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.0.end).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.0.segment.as_str()).collect::<Vec<_>>() as &[&str],
        &rows.iter().map(|r| r.0.manager).collect::<Vec<_>>() as &[Option<Uuid>],
        &col(|r| r.accounts),
        &col(|r| r.churned_accounts),
        &col(|r| r.starting),
        &col(|r| r.expansion),
        &col(|r| r.contraction),
        &col(|r| r.churn),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Replaces every cohort's cells: per team, and summed over every team (`every_team`).
pub async fn replace_cohorts(
    conn: &mut PgConnection,
    rows: &[(CohortKey, CohortCell, bool)],
) -> sqlx::Result<()> {
    sqlx::query!("delete from revenue_cohorts")
        .execute(&mut *conn)
        .await?;
    let col = |f: fn(&CohortCell) -> i64| rows.iter().map(|(_, c, _)| f(c)).collect::<Vec<_>>();
    sqlx::query!(
        "insert into revenue_cohorts (cohort, age, segment, manager_id, accounts, retained, base_cents, mrr_cents,
                                      every_team)
         select * from unnest($1::date[], $2::int[], $3::text[], $4::uuid[], $5::bigint[], $6::bigint[],
                              $7::bigint[], $8::bigint[], $9::bool[])",
        &rows.iter().map(|r| r.0.cohort).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.0.age).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.0.segment.as_str()).collect::<Vec<_>>() as &[&str],
        &rows.iter().map(|r| r.0.manager).collect::<Vec<_>>() as &[Option<Uuid>],
        &col(|c| c.accounts),
        &col(|c| c.retained),
        &col(|c| c.base_mrr),
        &col(|c| c.mrr),
        &rows.iter().map(|r| r.2).collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn record_refresh(
    db: impl PgExecutor<'_>,
    as_of: Date,
    accounts: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into revenue_refreshes (as_of, accounts) values ($1, $2)",
        as_of,
        accounts
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces the book's monthly movements.
pub async fn replace_monthly(
    conn: &mut PgConnection,
    rows: &[(MonthKey, MonthSums)],
) -> sqlx::Result<()> {
    sqlx::query!("delete from revenue_monthly")
        .execute(&mut *conn)
        .await?;
    let col = |f: fn(&MonthSums) -> i64| rows.iter().map(|(_, s)| f(s)).collect::<Vec<_>>();
    sqlx::query!(
        "insert into revenue_monthly (month, segment, manager_id, accounts_start, accounts_end, start_cents,
                                      new_cents, expansion_cents, contraction_cents, churn_cents,
                                      reactivation_cents, end_cents)
         select * from unnest($1::date[], $2::text[], $3::uuid[], $4::bigint[], $5::bigint[], $6::bigint[],
                              $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[])",
        &rows.iter().map(|r| r.0.month).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.0.segment.as_str()).collect::<Vec<_>>() as &[&str],
        &rows.iter().map(|r| r.0.manager).collect::<Vec<_>>() as &[Option<Uuid>],
        &col(|s| s.accounts_start),
        &col(|s| s.accounts_end),
        &col(|s| s.facts.start),
        &col(|s| s.facts.new),
        &col(|s| s.facts.expansion),
        &col(|s| s.facts.contraction),
        &col(|s| s.facts.churn),
        &col(|s| s.facts.reactivation),
        &col(|s| s.facts.end),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Replaces what became of the accounts in each band and tier.
pub async fn replace_band_outcomes(
    conn: &mut PgConnection,
    rows: &[BandOutcome],
) -> sqlx::Result<()> {
    sqlx::query!("delete from revenue_band_outcomes")
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "insert into revenue_band_outcomes (horizon_days, score_day, grouping, value, segment, manager_id,
                                            accounts, churned)
         select * from unnest($1::int[], $2::date[], $3::text[], $4::text[], $5::text[], $6::uuid[],
                              $7::bigint[], $8::bigint[])",
        &rows.iter().map(|r| r.0 as i32).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.2).collect::<Vec<_>>() as &[&str],
        &rows.iter().map(|r| r.3.as_str()).collect::<Vec<_>>() as &[&str],
        &rows.iter().map(|r| r.4.as_str()).collect::<Vec<_>>() as &[&str],
        &rows.iter().map(|r| r.5).collect::<Vec<_>>() as &[Option<Uuid>],
        &rows.iter().map(|r| r.6).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.7).collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Replaces every filter view's survival curves and ARR at risk.
pub async fn replace_views(
    conn: &mut PgConnection,
    views: &[super::views::View],
) -> anyhow::Result<()> {
    sqlx::query!("delete from revenue_views")
        .execute(&mut *conn)
        .await?;
    for v in views {
        sqlx::query!(
            "insert into revenue_views (segment, manager_id, score_day, horizon_days, curves, log_rank,
                                        arr_at_risk_cents, saves_flagged, saves_contacted, saves_retained)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            v.segment,
            v.manager,
            v.score_day,
            v.horizon.map(|h| h as i32),
            serde_json::to_value(&v.curves)?,
            v.log_rank.as_ref().map(serde_json::to_value).transpose()?,
            v.arr_at_risk,
            v.saves.flagged,
            v.saves.contacted,
            v.saves.retained
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Reclaims the space of the rows a refresh replaced in the tables the dashboard reads, so
/// its queries scan only live rows (at 50,000 accounts, a dozen runs' dead rows made the page
/// about a third slower).
pub async fn compact(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "vacuum (analyze) revenue_windows, revenue_monthly, revenue_cohorts, revenue_band_outcomes, revenue_views",
    )
    .execute(db)
    .await?;
    Ok(())
}
