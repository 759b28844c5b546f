//! Churn features per account as of a date, computed with polars from the daily roll-ups,
//! tickets, NPS and billing, reading nothing after the date (no look-ahead); and training
//! snapshots labelled `churned_within_60d`, including accounts that have since churned.

pub mod db;
pub mod events;
mod labels;
pub mod months;

pub use labels::label;

pub use events::Candidate;

use crate::segment::Segment;
use std::collections::HashMap;

use polars::prelude::*;
use sqlx::PgPool;
use time::{Date, Duration};
use uuid::Uuid;

/// The label horizon: a snapshot is labelled churned when the account churns within this
/// many days after it. Every query about matured outcomes binds it from here.
pub const HORIZON_DAYS: i64 = 60;

/// The features of the spec, in model column order.
pub const FEATURES: [&str; 17] = [
    "avg_dau_7d",
    "avg_dau_14d",
    "avg_dau_30d",
    "usage_trend_ratio_7d_30d",
    "action_trend_ratio",
    "features_adopted",
    "seat_utilization",
    "invites_sent_30d",
    "users_commenting",
    "support_tickets_30d",
    "urgent_tickets_30d",
    "avg_csat",
    "days_since_last_login",
    "mrr",
    "account_age_days",
    "downgraded_last_period",
    "nps_score",
];

/// One row of features per account live on `as_of`; `f64::NAN` where there is no data
/// (no CSAT, no NPS answer, no usage to form a ratio).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    pub as_of: Date,
    pub accounts: Vec<Uuid>,
    pub rows: Vec<[f64; FEATURES.len()]>,
    /// Measures of the product's own event types a model was trained with, and their
    /// values per account (in `candidates` order).
    pub candidates: Vec<Candidate>,
    pub extra: Vec<Vec<f64>>,
}

impl FeatureTable {
    /// Every column's name: the fixed features, then the candidates.
    pub fn names(&self) -> Vec<String> {
        FEATURES
            .iter()
            .map(|f| (*f).to_owned())
            .chain(self.candidates.iter().map(Candidate::name))
            .collect()
    }

    /// Each account's full row, as a model reads it.
    pub fn x(&self) -> Vec<Vec<f64>> {
        self.rows
            .iter()
            .zip(&self.extra)
            .map(|(r, e)| r.iter().chain(e).copied().collect())
            .collect()
    }

    /// Each account's segment from its MRR as of the day, for normalising within segment.
    pub fn segments(&self) -> Vec<&'static str> {
        let mrr = FEATURES.iter().position(|f| *f == "mrr").unwrap_or(0);
        self.rows
            .iter()
            .map(|r| Segment::from_mrr(r[mrr]).as_str())
            .collect()
    }
}

/// Window sums per account from the usage frame.
#[derive(Default, Clone, Copy)]
struct Usage {
    dau7: f64,
    dau14: f64,
    dau30: f64,
    core7: f64,
    core30: f64,
    invites30: f64,
    adopted: f64,
}

fn usage_by_account(rows: db::UsageRows) -> PolarsResult<HashMap<String, Usage>> {
    // Categories are bitmasks: or them per account (polars' bitwise aggregations are a
    // heavier feature than this needs).
    let mut categories: HashMap<&str, i32> = HashMap::new();
    for (a, c) in rows.account.iter().zip(&rows.categories) {
        *categories.entry(a.as_str()).or_default() |= c;
    }
    let adopted: HashMap<String, f64> = categories
        .into_iter()
        .map(|(a, c)| (a.to_owned(), f64::from(c.count_ones())))
        .collect();
    let frame = DataFrame::new(
        rows.account.len(),
        vec![
            Column::new("account".into(), rows.account),
            Column::new("age".into(), rows.day),
            Column::new("dau".into(), rows.active_users),
            Column::new("core".into(), rows.core_actions),
            Column::new("invites".into(), rows.invites),
        ],
    )?;
    let recent = |days: i32| col("age").gt(lit(-days));
    let grouped = frame
        .lazy()
        .group_by([col("account")])
        .agg([
            col("dau").filter(recent(7)).sum().alias("dau7"),
            col("dau").filter(recent(14)).sum().alias("dau14"),
            col("dau").sum().alias("dau30"),
            col("core").filter(recent(7)).sum().alias("core7"),
            col("core").sum().alias("core30"),
            col("invites").sum().alias("invites30"),
        ])
        .collect()?;
    let f = |name: &str| -> PolarsResult<Vec<f64>> {
        Ok(grouped
            .column(name)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .map(|v| v.unwrap_or(0.0))
            .collect())
    };
    let (dau7, dau14, dau30) = (f("dau7")?, f("dau14")?, f("dau30")?);
    let (core7, core30, invites30) = (f("core7")?, f("core30")?, f("invites30")?);
    let accounts = grouped.column("account")?.str()?;
    Ok(accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let a = a.unwrap_or_default().to_owned();
            let u = Usage {
                dau7: dau7[i],
                dau14: dau14[i],
                dau30: dau30[i],
                core7: core7[i],
                core30: core30[i],
                invites30: invites30[i],
                adopted: adopted.get(&a).copied().unwrap_or(0.0),
            };
            (a, u)
        })
        .collect())
}

/// (distinct active users, users who commented) per account over 30 days.
fn users_by_account(
    rows: (Vec<String>, Vec<String>, Vec<bool>),
) -> PolarsResult<HashMap<String, (f64, f64)>> {
    let frame = DataFrame::new(
        rows.0.len(),
        vec![
            Column::new("account".into(), rows.0),
            Column::new("user".into(), rows.1),
            Column::new("commented".into(), rows.2),
        ],
    )?;
    let grouped = frame
        .lazy()
        .group_by([col("account")])
        .agg([
            col("user")
                .n_unique()
                .cast(DataType::Float64)
                .alias("users"),
            col("commented")
                .sum()
                .cast(DataType::Float64)
                .alias("commenting"),
        ])
        .collect()?;
    let accounts = grouped.column("account")?.str()?;
    let users = grouped.column("users")?.f64()?;
    let commenting = grouped.column("commenting")?.f64()?;
    Ok(accounts
        .iter()
        .zip(users.iter().zip(commenting.iter()))
        .map(|(a, (u, c))| {
            (
                a.unwrap_or_default().to_owned(),
                (u.unwrap_or(0.0), c.unwrap_or(0.0)),
            )
        })
        .collect())
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

/// Features of every account live on `as_of`, from data up to and including `as_of`, with
/// the given candidates beside the fixed features.
pub async fn compute(
    pool: &PgPool,
    as_of: Date,
    candidates: &[Candidate],
) -> anyhow::Result<FeatureTable> {
    compute_for(pool, as_of, None, candidates).await
}

/// Features as of `as_of` for some accounts (`Some`) or for all (`None`); accounts that
/// are not live that day are left out.
pub async fn compute_for(
    pool: &PgPool,
    as_of: Date,
    only: Option<&[Uuid]>,
    candidates: &[Candidate],
) -> anyhow::Result<FeatureTable> {
    let mut types: Vec<String> = candidates.iter().map(|c| c.event_type.clone()).collect();
    types.sort();
    types.dedup();
    // Five independent reads, on five connections at once.
    let (accounts, usage_rows, user_rows, points, windows) = tokio::try_join!(
        db::live_accounts(pool, as_of, only),
        db::usage_30d(pool, as_of, only),
        async {
            months::catch_up(pool).await?;
            db::users_30d(pool, as_of, only).await
        },
        db::points(pool, as_of, only),
        events::windows(pool, as_of, only, &types),
    )?;
    let points: HashMap<Uuid, db::Point> = points.into_iter().map(|p| (p.account, p)).collect();
    let (usage, users) = tokio::task::spawn_blocking(move || -> PolarsResult<_> {
        Ok((usage_by_account(usage_rows)?, users_by_account(user_rows)?))
    })
    .await??;

    let mut rows = Vec::with_capacity(accounts.len());
    for a in &accounts {
        let key = a.id.to_string();
        let u = usage.get(&key).copied().unwrap_or_default();
        let (active_30d, commenting) = users.get(&key).copied().unwrap_or((0.0, 0.0));
        let p = points.get(&a.id);
        // Seats unknown (neither billing nor the CRM gave any): utilisation is missing, not
        // a share of one seat.
        let seats = match p
            .and_then(|p| p.seats)
            .filter(|s| *s > 0)
            .unwrap_or(a.seats)
        {
            0 => f64::NAN,
            n => f64::from(n),
        };
        let mrr = p.and_then(|p| p.mrr_cents).unwrap_or(0) as f64 / 100.0;
        let downgraded = p.is_some_and(
            |p| matches!((p.mrr_cents, p.prev_mrr_cents), (Some(c), Some(prev)) if c < prev),
        );
        let age = (as_of - a.customer_since).whole_days() as f64;
        let since_login = p
            .and_then(|p| p.last_active)
            .map_or(age, |d| (as_of - d).whole_days() as f64);
        let (dau7, dau14, dau30) = (u.dau7 / 7.0, u.dau14 / 14.0, u.dau30 / 30.0);
        rows.push([
            dau7,
            dau14,
            dau30,
            ratio(dau7, dau30),
            ratio(u.core7 / 7.0, u.core30 / 30.0),
            u.adopted,
            active_30d / seats,
            u.invites30,
            commenting,
            p.map_or(0.0, |p| p.tickets_30d as f64),
            p.map_or(0.0, |p| p.urgent_30d as f64),
            p.and_then(|p| p.avg_csat).unwrap_or(f64::NAN),
            since_login,
            mrr,
            age,
            if downgraded { 1.0 } else { 0.0 },
            p.and_then(|p| p.nps).map_or(f64::NAN, f64::from),
        ]);
    }
    let ids: Vec<Uuid> = accounts.iter().map(|a| a.id).collect();
    Ok(FeatureTable {
        as_of,
        extra: events::values(&ids, candidates, &windows),
        candidates: candidates.to_vec(),
        accounts: ids,
        rows,
    })
}

/// Snapshots for training: features as of each date, labelled with whether the account
/// churned within the following 60 days. Only dates whose label has matured by `today`.
pub async fn snapshots(
    pool: &PgPool,
    dates: &[Date],
    today: Date,
    candidates: &[Candidate],
) -> anyhow::Result<Vec<(FeatureTable, Vec<bool>)>> {
    let churned: HashMap<Uuid, Date> = db::churn_dates(pool).await?.into_iter().collect();
    let horizon = Duration::days(HORIZON_DAYS);
    let matured: Vec<Date> = dates
        .iter()
        .copied()
        .filter(|d| *d + horizon <= today)
        .collect();
    let mut out = Vec::with_capacity(matured.len());
    // Two dates at a time: while PostgreSQL answers one date's queries, the other's frames
    // are built here, so both cores work.
    for pair in matured.chunks(2) {
        let second = async {
            match pair.get(1) {
                Some(&d) => compute(pool, d, candidates).await.map(Some),
                None => Ok(None),
            }
        };
        let (first, second) = tokio::try_join!(compute(pool, pair[0], candidates), second)?;
        for table in std::iter::once(first).chain(second) {
            let d = table.as_of;
            let labels = table
                .accounts
                .iter()
                .map(|a| churned.get(a).is_some_and(|c| *c > d && *c <= d + horizon))
                .collect();
            out.push((table, labels));
        }
    }
    Ok(out)
}
