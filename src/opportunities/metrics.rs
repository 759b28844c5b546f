//! How the hand-off works, for sales and CS leaders: acceptance, speed to accept and to first
//! contact (accepted but never contacted is the classic failure), win rate, won and
//! influenced ARR, the propensity's precision@10 over the last quarter, and the funnel.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use tokio::sync::Mutex;

use super::Viewer;

/// How long a viewer's metrics are reused: they summarise a year, so a minute's lag is
/// invisible, and the sales home stays fast with thousands of opportunities.
const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// Each viewer's metrics, computed at most once a minute per process.
#[derive(Default)]
pub struct Cache(Mutex<HashMap<String, (Instant, Arc<Metrics>)>>);

impl Cache {
    pub async fn get(
        &self,
        pool: &PgPool,
        viewer: Viewer,
        now: OffsetDateTime,
    ) -> sqlx::Result<Arc<Metrics>> {
        let key = format!("{viewer:?}");
        let mut cached = self.0.lock().await;
        if let Some((at, m)) = cached.get(&key)
            && at.elapsed() < FRESH_FOR
        {
            return Ok(m.clone());
        }
        let m = Arc::new(metrics(pool, viewer, now).await?);
        cached.insert(key, (Instant::now(), m.clone()));
        Ok(m)
    }
}

/// Accepted this long ago and never contacted: stalled.
pub const STALLED_AFTER: Duration = Duration::days(7);

#[derive(sqlx::FromRow, Default)]
pub struct Metrics {
    pub handed: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub contacted: i64,
    pub won: i64,
    pub lost: i64,
    pub hours_to_accept: Option<f64>,
    pub days_to_contact: Option<f64>,
    pub stalled: i64,
    pub breached: i64,
    pub won_arr_cents: i64,
    /// Billed expansion ARR within 180 days of a hand-off (not rejected).
    pub billed_after_cents: i64,
}

impl Metrics {
    pub fn acceptance_rate(&self) -> Option<f64> {
        let decided = self.accepted + self.rejected;
        (decided > 0).then(|| self.accepted as f64 / decided as f64)
    }
    pub fn win_rate(&self) -> Option<f64> {
        let closed = self.won + self.lost;
        (closed > 0).then(|| self.won as f64 / closed as f64)
    }
}

/// The metrics over hand-offs made in the year to `now`.
pub async fn metrics(pool: &PgPool, viewer: Viewer, now: OffsetDateTime) -> sqlx::Result<Metrics> {
    let (seller, manager, csm) = viewer.params();
    sqlx::query_as(
        r#"with o as (
               select o.* from opportunities o join users c on c.id = o.csm_id
               where o.created_at >= $4
                 and ($1::uuid is null or o.sales_owner_id = $1)
                 and ($2::uuid is null or c.manager_id = $2)
                 and ($3::uuid is null or o.csm_id = $3)),
           billed as (
               select greatest(0, coalesce(after.m, 0) - coalesce(before.m, 0)) as gain
               from o
               left join lateral (select sum(p.mrr_cents) as m from subscription_periods p
                                  where p.account_id = o.account_id and p.period_start <= o.created_at::date
                                    and p.period_end > o.created_at::date) before on true
               left join lateral (select sum(p.mrr_cents) as m from subscription_periods p
                                  where p.account_id = o.account_id
                                    and p.period_start <= least(o.created_at::date + 180, $5::date)
                                    and p.period_end > least(o.created_at::date + 180, $5::date)) after on true
               where o.status <> 'rejected')
           select count(*) as handed,
                  count(*) filter (where accepted_at is not null) as accepted,
                  count(*) filter (where status = 'rejected') as rejected,
                  count(*) filter (where contacted_at is not null) as contacted,
                  count(*) filter (where status = 'won') as won,
                  count(*) filter (where status = 'lost') as lost,
                  (percentile_cont(0.5) within group (order by extract(epoch from accepted_at - created_at) / 3600))::float8 as hours_to_accept,
                  (percentile_cont(0.5) within group (order by extract(epoch from contacted_at - accepted_at) / 86400))::float8 as days_to_contact,
                  count(*) filter (where status = 'accepted' and accepted_at < $6) as stalled,
                  count(*) filter (where escalated_at is not null) as breached,
                  coalesce(sum(closed_arr_cents) filter (where status = 'won'), 0)::int8 as won_arr_cents,
                  (select coalesce(sum(gain), 0) * 12 from billed)::int8 as billed_after_cents
           from o"#,
    )
    .bind(seller)
    .bind(manager)
    .bind(csm)
    .bind(now - Duration::days(365))
    .bind(now.date())
    .bind(now - STALLED_AFTER)
    .fetch_one(pool)
    .await
}
