//! SQL for browsing accounts and the data they sent (usage, billing, tickets, NPS, notes, scores).

use serde::Deserialize;
use sqlx::PgExecutor;
use time::Date;
use uuid::Uuid;

use crate::scores::db::LatestScore;

// Days as PostgreSQL writes them in JSON (2026-12-05).
time::serde::format_description!(pub(super) iso_day, Date, "[year]-[month]-[day]");

/// Whose accounts a user may see.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    All,
    /// A CSM's own book.
    Owner(Uuid),
    /// A manager's team: the books of the CSMs reporting to them.
    Team(Uuid),
}

impl Scope {
    /// (owner, manager) as the queries take them.
    pub fn params(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Scope::All => (None, None),
            Scope::Owner(id) => (Some(id), None),
            Scope::Team(id) => (None, Some(id)),
        }
    }
}

pub struct Filter {
    pub search: Option<String>,
    pub segment: Option<String>,
    pub status: Option<String>,
}

/// The orders the account list offers; each ends on the name, then the id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    Name,
    /// Largest ARR first.
    Arr,
    /// Lowest health first.
    Health,
    /// Highest churn probability first.
    Churn,
    /// Soonest renewal first.
    Renewal,
}

impl Sort {
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::Arr => "arr",
            Sort::Health => "health",
            Sort::Churn => "churn",
            Sort::Renewal => "renewal",
        }
    }
}

pub struct ListRow {
    pub id: Uuid,
    pub external_id: String,
    pub name: String,
    pub segment: String,
    pub plan: String,
    pub mrr_cents: i64,
    pub seats: i32,
    pub status: String,
    pub renewal_date: Option<Date>,
    pub owner_name: Option<String>,
    /// The latest score (none: never scored).
    pub health_score: Option<f32>,
    pub band: Option<String>,
    pub churn_probability: Option<f32>,
    /// Accounts matching the filter, over all pages.
    pub total: i64,
}

/// One page of the accounts the scope shows that match `f`, in `sort` order, with their
/// latest scores.
pub async fn list(
    db: impl PgExecutor<'_>,
    scope: Scope,
    f: &Filter,
    sort: Sort,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<ListRow>> {
    let (owner, manager) = scope.params();
    let pattern = f
        .search
        .as_ref()
        .map(|s| format!("%{}%", s.replace('%', "\\%").replace('_', "\\_")));
    sqlx::query_as!(
        ListRow,
        r#"select a.id, a.external_id, a.name, a.segment, a.plan, a.mrr_cents, a.seats,
                  a.status::text as "status!",
                  (case when a.status <> 'churned' then a.renewal_date end) as renewal_date,
                  u.name as "owner_name?", s.health_score as "health_score?", s.band as "band?",
                  s.churn_probability as "churn_probability?", count(*) over () as "total!"
           from accounts a left join users u on u.id = a.owner_id
           left join lateral (select x.health_score, x.band, x.churn_probability from scores x
                              where x.account_id = a.id order by x.day desc limit 1) s
                  on a.status <> 'churned' -- a former customer has no risk and no renewal
           where ($1::uuid is null or a.owner_id = $1)
             and ($2::uuid is null or u.manager_id = $2)
             and ($3::text is null or a.name ilike $3 or a.external_id ilike $3)
             and ($4::text is null or a.segment = $4)
             and ($5::text is null or a.status::text = $5)
           order by case when $8 = 'arr' then a.mrr_cents end desc,
                    case when $8 = 'health' then s.health_score end asc nulls last,
                    case when $8 = 'churn' then s.churn_probability end desc nulls last,
                    case when $8 = 'renewal' and a.status <> 'churned' then a.renewal_date end asc nulls last,
                    a.name, a.id
           limit $6 offset $7"#,
        owner,
        manager,
        pattern,
        f.segment,
        f.status,
        limit,
        offset,
        sort.as_str()
    )
    .fetch_all(db)
    .await
}

pub struct Account {
    pub id: Uuid,
    pub external_id: String,
    pub name: String,
    pub segment: String,
    pub plan: String,
    pub seats: i32,
    pub mrr_cents: i64,
    pub status: String,
    pub customer_since: Date,
    pub renewal_date: Option<Date>,
    pub churned_on: Option<Date>,
    pub executive_sponsor: Option<String>,
    pub owner_id: Option<Uuid>,
    pub owner_name: Option<String>,
}

/// The account, if `scope` may see it.
pub async fn find(
    db: impl PgExecutor<'_>,
    scope: Scope,
    id: Uuid,
) -> sqlx::Result<Option<Account>> {
    Ok(read(db, scope, id, false).await?.map(|(a, _)| a))
}

/// The account, if `scope` may see it, with its most recent score: the account page's
/// first read, one round trip for both.
pub async fn find_scored(
    db: impl PgExecutor<'_>,
    scope: Scope,
    id: Uuid,
) -> sqlx::Result<Option<(Account, Option<LatestScore>)>> {
    read(db, scope, id, true).await
}

/// The account, if `scope` may see it, and its latest score only when `scored` (otherwise
/// the score's row is not read).
async fn read(
    db: impl PgExecutor<'_>,
    scope: Scope,
    id: Uuid,
    scored: bool,
) -> sqlx::Result<Option<(Account, Option<LatestScore>)>> {
    let (owner, manager) = scope.params();
    let row = sqlx::query!(
        r#"select a.id, a.external_id, a.name, a.segment, a.plan, a.seats, a.mrr_cents,
                  a.status::text as "status!", a.customer_since, a.renewal_date, a.churned_on,
                  a.executive_sponsor, a.owner_id, u.name as "owner_name?",
                  s.day as "day?", s.health_score as "health_score?", s.band as "band?",
                  s.signals as "signals?", s.churn_probability, s.risk_tier,
                  s.at_risk as "at_risk?", s.drivers as "drivers?", s.trajectory, s.decrement,
                  s.anomaly, s.champion_loss, s.rescored_at
           from accounts a left join users u on u.id = a.owner_id
           left join lateral (select * from scores s where $4 and s.account_id = a.id
                              order by s.day desc limit 1) s on true
           where a.id = $1
             and ($2::uuid is null or a.owner_id = $2)
             and ($3::uuid is null or u.manager_id = $3)"#,
        id,
        owner,
        manager,
        scored
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        let score = (|| {
            Some(LatestScore {
                day: r.day?,
                health_score: r.health_score?,
                band: r.band?,
                signals: r.signals?,
                churn_probability: r.churn_probability,
                risk_tier: r.risk_tier,
                at_risk: r.at_risk?,
                drivers: r.drivers?,
                trajectory: r.trajectory,
                decrement: r.decrement,
                anomaly: r.anomaly,
                champion_loss: r.champion_loss,
                rescored_at: r.rescored_at,
            })
        })();
        let account = Account {
            id: r.id,
            external_id: r.external_id,
            name: r.name,
            segment: r.segment,
            plan: r.plan,
            seats: r.seats,
            mrr_cents: r.mrr_cents,
            status: r.status,
            customer_since: r.customer_since,
            renewal_date: r.renewal_date,
            churned_on: r.churned_on,
            executive_sponsor: r.executive_sponsor,
            owner_id: r.owner_id,
            owner_name: r.owner_name,
        };
        (account, score)
    }))
}

/// Each account's team: its owner's manager (none when unowned or the owner has none).
pub async fn teams(
    db: impl PgExecutor<'_>,
) -> sqlx::Result<std::collections::HashMap<Uuid, Option<Uuid>>> {
    let rows = sqlx::query!(
        "select a.id, u.manager_id as \"manager?\" from accounts a left join users u on u.id = a.owner_id"
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.manager)).collect())
}

/// The day each churned account churned.
pub async fn churn_dates(
    db: impl PgExecutor<'_>,
) -> sqlx::Result<std::collections::HashMap<Uuid, Date>> {
    let rows = sqlx::query!(
        r#"select id, churned_on as "churned_on!" from accounts where churned_on is not null"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.churned_on)).collect())
}

/// One day of the account's score history.
#[derive(Debug, Deserialize)]
pub struct ScorePoint {
    #[serde(with = "iso_day")]
    pub day: Date,
    pub health_score: f32,
    pub band: String,
    pub churn_probability: Option<f32>,
    pub health_config_id: Option<i64>,
    pub anomaly: Option<String>,
    pub champion_loss: Option<String>,
}

pub async fn score_history(
    db: impl PgExecutor<'_>,
    id: Uuid,
    since: Date,
) -> sqlx::Result<Vec<ScorePoint>> {
    sqlx::query_as!(
        ScorePoint,
        "select day, health_score, band, churn_probability, health_config_id, anomaly, champion_loss
         from scores where account_id = $1 and day >= $2 order by day",
        id,
        since
    )
    .fetch_all(db)
    .await
}
