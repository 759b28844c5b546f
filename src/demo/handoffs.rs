//! A past year of hand-offs for the demo, so the sales home, the pipeline metrics and the
//! propensity's back-test have content from the first login: each month the CSMs handed
//! over their top-ranked accounts; sales accepted most (a few late), rejected some, and won
//! those that went on to expand (at the ARR billing shows) and lost the rest. A dozen
//! hand-offs are open now, a couple of them past their acceptance SLA.

use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::json;
use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime, Time};
use uuid::Uuid;

use crate::expansion::propensity::{Tier, Weights};
use crate::expansion::{self, words};

const REJECT: [&str; 4] = [
    "not_ready",
    "no_budget",
    "in_sales_cycle",
    "resolve_risk_first",
];
const LOSE: [&str; 4] = [
    "lost_competitor",
    "lost_budget",
    "lost_timing",
    "lost_no_need",
];

struct Pick {
    account: Uuid,
    owner: Uuid,
    mrr_cents: i64,
    propensity: f64,
    signals: serde_json::Value,
}

/// The `keep` highest-ranked owned accounts on `day`, best first.
async fn ranked(pool: &PgPool, day: Date, keep: usize) -> anyhow::Result<Vec<Pick>> {
    let mut conn = pool.acquire().await?;
    let scored = expansion::score(&mut conn, day, &Weights::RUBRIC).await?;
    let owners: std::collections::HashMap<Uuid, Uuid> = sqlx::query_as::<_, (Uuid, Uuid)>(
        "select id, owner_id from accounts where owner_id is not null",
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let mut order: Vec<usize> = (0..scored.rows.len()).collect();
    order.sort_by(|&a, &b| scored.propensity[b].total_cmp(&scored.propensity[a]));
    Ok(order
        .into_iter()
        .filter_map(|i| {
            let r = &scored.rows[i];
            Some(Pick {
                account: r.account,
                owner: *owners.get(&r.account)?,
                mrr_cents: r.mrr_cents,
                propensity: scored.propensity[i],
                signals: expansion::signals_json(&r.raw, &scored.normalised[i], scored.areas),
            })
        })
        .take(keep)
        .collect())
}

/// The first `n` of a ranking not already picked.
fn pick(ranking: Vec<Pick>, n: usize, taken: &[Uuid]) -> Vec<Pick> {
    ranking
        .into_iter()
        .filter(|p| !taken.contains(&p.account))
        .take(n)
        .collect()
}

/// When billing first shows the account paying more than on `day`, within 150 days, and how
/// much more MRR.
async fn expansion_after(
    pool: &PgPool,
    account: Uuid,
    day: Date,
) -> sqlx::Result<Option<(Date, i64)>> {
    sqlx::query_as(
        r#"with base as (select coalesce(sum(mrr_cents), 0) as m from subscription_periods
                         where account_id = $1 and period_start <= $2 and period_end > $2)
           select p.period_start, (p.mrr_cents - base.m)::int8 from subscription_periods p, base
           where p.account_id = $1 and p.period_start > $2 and p.period_start <= $2 + 150 and p.mrr_cents > base.m
           order by p.period_start limit 1"#,
    )
    .bind(account)
    .bind(day)
    .fetch_optional(pool)
    .await
}

fn at(day: Date, hours: i64) -> OffsetDateTime {
    day.with_time(Time::from_hms(9, 0, 0).unwrap_or(Time::MIDNIGHT))
        .assume_utc()
        + Duration::hours(hours)
}

async fn event(
    pool: &PgPool,
    id: i64,
    when: OffsetDateTime,
    step: &str,
    actor: &str,
    note: &str,
) -> sqlx::Result<()> {
    let mut conn = pool.acquire().await?;
    crate::opportunities::db::event(&mut conn, id, when, step, actor, note).await
}

/// Inserts the hand-off history and today's open hand-offs. Returns (past, open).
pub async fn load(
    pool: &PgPool,
    as_of: Date,
    accounts: usize,
    now: OffsetDateTime,
) -> anyhow::Result<(usize, usize)> {
    let sellers: Vec<Uuid> =
        sqlx::query_scalar("select id from users where role = 'sales' and active order by email")
            .fetch_all(pool)
            .await?;
    anyhow::ensure!(!sellers.is_empty(), "the demo needs a sales user");
    crate::features::months::catch_up(pool).await?;
    let per_month = (accounts / 150).max(6);
    let open_now = (accounts / 350).max(8);
    let months: Vec<Date> = (2..=11)
        .rev()
        .map(|m| as_of - Duration::days(30 * m))
        .collect();
    // Each month's ranking and today's, two at a time: enough of each to pick from after
    // the months before took theirs.
    let keep = per_month * months.len() + open_now;
    let mut rankings: Vec<Vec<Pick>> = stream::iter(
        months
            .iter()
            .chain([&as_of])
            .map(|&d| ranked(pool, d, keep)),
    )
    .buffered(2)
    .try_collect()
    .await?;
    let today = rankings.pop().unwrap_or_default();
    let mut taken = Vec::new();
    let mut past = 0;
    for (day, ranking) in months.into_iter().zip(rankings) {
        for p in pick(ranking, per_month, &taken) {
            taken.push(p.account);
            let h = (p.account.as_u128() % 100) as i64;
            let seller = sellers[past % sellers.len()];
            let tier = Tier::of(p.propensity);
            let created = at(day, (h % 6) + 1);
            let expanded = expansion_after(pool, p.account, day)
                .await?
                .filter(|(d, _)| *d <= as_of);
            let late = h % 17 == 0;
            let decided = created + Duration::hours(if late { 60 } else { 2 + h % 40 });
            let (status, reason, closed_arr, closed_at, contacted) = match expanded {
                None if h < 22 => (
                    "rejected",
                    Some(REJECT[(h % 4) as usize]),
                    None,
                    Some(decided),
                    None,
                ),
                Some((d, gain)) => (
                    "won",
                    None,
                    Some(12 * gain),
                    Some(at(d, 6)),
                    Some(decided + Duration::days(1 + h % 6)),
                ),
                None if day + Duration::days(60) < as_of => (
                    "lost",
                    Some(LOSE[(h % 4) as usize]),
                    None,
                    Some(created + Duration::days(60 + h % 40)),
                    (h % 11 != 0).then(|| decided + Duration::days(1 + h % 6)),
                ),
                None => (
                    "contacted",
                    None,
                    None,
                    None,
                    Some(decided + Duration::days(1 + h % 6)),
                ),
            };
            let reasons = words::top_reasons(&p.signals, &Weights::RUBRIC);
            let id: i64 = sqlx::query_scalar(
                r#"insert into opportunities (account_id, kind, status, estimated_arr_cents, propensity, tier, reasons, note,
                       at_risk, csm_id, sales_owner_id, created_at, sla_due_at, accepted_at, contacted_at, closed_at,
                       reason_code, closed_arr_cents, escalated_at)
                   values ($1, $2::opportunity_kind, $3::opportunity_status, $4, $5, $6, $7, $8, false, $9, $10, $11, $12,
                           $13, $14, $15, $16, $17, $18) returning id"#,
            )
            .bind(p.account)
            .bind(["seats", "tier_upgrade", "cross_sell"][(h % 3) as usize])
            .bind(status)
            .bind((crate::money::arr_cents(p.mrr_cents) as f64 * (tier.uplift() - 1.0)) as i64)
            .bind(p.propensity as f32)
            .bind(tier)
            .bind(json!(reasons))
            .bind("Usage is broadening and the team asked about more seats at the last check-in.")
            .bind(p.owner)
            .bind(seller)
            .bind(created)
            .bind(created + crate::opportunities::ACCEPT_SLA)
            .bind((status != "rejected").then_some(decided))
            .bind(contacted)
            .bind(closed_at)
            .bind(reason)
            .bind(closed_arr)
            .bind(late.then_some(created + crate::opportunities::ACCEPT_SLA))
            .fetch_one(pool)
            .await?;
            event(pool, id, created, "handed", "csm", "").await?;
            if late {
                event(
                    pool,
                    id,
                    created + crate::opportunities::ACCEPT_SLA,
                    "escalated",
                    "worker",
                    "acceptance SLA breached",
                )
                .await?;
            }
            if status == "rejected" {
                event(
                    pool,
                    id,
                    decided,
                    "rejected",
                    "sales",
                    reason.unwrap_or_default(),
                )
                .await?;
            } else {
                event(pool, id, decided, "accepted", "sales", "").await?;
            }
            if let Some(c) = contacted {
                event(pool, id, c, "contacted", "sales", "").await?;
            }
            if let (Some(c), "won" | "lost") = (closed_at, status) {
                event(pool, id, c, status, "sales", reason.unwrap_or_default()).await?;
            }
            past += 1;
        }
    }
    // Open now: the top of today's ranking, handed in the last 60 hours.
    let open = pick(today, open_now, &taken);
    for (k, p) in open.iter().enumerate() {
        let tier = Tier::of(p.propensity);
        let created = now - Duration::hours(2 + (k as i64 * 7) % 58);
        let id: i64 = sqlx::query_scalar(
            r#"insert into opportunities (account_id, kind, estimated_arr_cents, propensity, tier, reasons, note, at_risk,
                   csm_id, sales_owner_id, created_at, sla_due_at)
               values ($1, $2::opportunity_kind, $3, $4, $5, $6, $7, false, $8, $9, $10, $11) returning id"#,
        )
        .bind(p.account)
        .bind(["seats", "tier_upgrade", "cross_sell"][k % 3])
        .bind((crate::money::arr_cents(p.mrr_cents) as f64 * (tier.uplift() - 1.0)) as i64)
        .bind(p.propensity as f32)
        .bind(tier)
        .bind(json!(words::top_reasons(&p.signals, &Weights::RUBRIC)))
        .bind("New teams are onboarding; the sponsor asked for a quote for more seats.")
        .bind(p.owner)
        .bind(sellers[k % sellers.len()])
        .bind(created)
        .bind(created + crate::opportunities::ACCEPT_SLA)
        .fetch_one(pool)
        .await?;
        event(pool, id, created, "handed", "csm", "").await?;
    }
    // The propensities of today, with this history's win rates as probabilities of close.
    let mut tx = pool.begin().await?;
    expansion::refresh(&mut tx, (as_of, as_of), now, None).await?;
    tx.commit().await?;
    crate::opportunities::escalate::sweep(pool, now).await?;
    Ok((past, open.len()))
}
