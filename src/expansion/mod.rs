//! Expansion propensity: which accounts are ready to buy more, scored daily (and after
//! ingestion) from depth of use, co-usage, seat growth, NPS trend and feature requests, with
//! the rubric's weights back-tested against weights learned from past expansions. Owns
//! `expansion_configs` and `expansion_scores`; the hand-off to sales is `opportunities`.

pub mod backtest;
pub mod db;
pub mod propensity;
mod routes;
pub mod words;

use std::collections::{HashMap, HashSet};

use serde_json::json;
use sqlx::PgConnection;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::auth::Role;
use crate::auth::access::{Access, Route};
use crate::segment::Segment;
use propensity::{Tier, Weights};

/// Closed opportunities a tier needs (in the last year) before its win rate replaces the
/// rubric's probability of close.
pub const POC_HISTORY: i64 = 20;

pub fn routes() -> Vec<Route> {
    const READERS: Access = Access::Roles(&[Role::Analyst, Role::Admin]);
    vec![
        Route::get("/expansion", READERS, routes::page),
        Route::post(
            "/expansion/weights",
            crate::auth::access::ADMIN,
            routes::choose,
        ),
    ]
}

/// The probability of close per tier, and whether it came from history.
#[derive(Clone, Debug, PartialEq)]
pub struct Poc(pub HashMap<Tier, (f64, bool)>);

impl Poc {
    pub fn of(&self, tier: Tier) -> f64 {
        self.0.get(&tier).map_or(tier.default_poc(), |p| p.0)
    }
}

/// The tier's win rate once it has [`POC_HISTORY`] closed opportunities in the year to
/// `now`, else the rubric's default.
pub async fn poc(conn: &mut PgConnection, now: OffsetDateTime) -> sqlx::Result<Poc> {
    let closed = db::closed_by_tier(&mut *conn, now - Duration::days(365)).await?;
    Ok(Poc(Tier::ALL
        .into_iter()
        .map(|t| {
            let (won, lost) = closed
                .iter()
                .find(|c| c.0 == t)
                .map_or((0, 0), |c| (c.1, c.2));
            let p = if won + lost >= POC_HISTORY {
                (won as f64 / (won + lost) as f64, true)
            } else {
                (t.default_poc(), false)
            };
            (t, p)
        })
        .collect()))
}

/// One day's propensities for every paying account live then.
pub struct Scored {
    pub rows: Vec<db::SignalRow>,
    pub normalised: Vec<[f64; 5]>,
    pub propensity: Vec<f64>,
    /// How many feature areas the event mapping names.
    pub areas: usize,
}

/// Scores the population as of `day` under `weights`.
pub async fn score(conn: &mut PgConnection, day: Date, weights: &Weights) -> sqlx::Result<Scored> {
    let areas = crate::taxonomy::current(&mut *conn)
        .await
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?
        .modules
        .len();
    let rows = db::signals(&mut *conn, day, areas).await?;
    let segments: Vec<Segment> = rows
        .iter()
        .map(|r| Segment::from_mrr(r.mrr_cents as f64 / 100.0))
        .collect();
    let raw: Vec<_> = rows.iter().map(|r| r.raw.clone()).collect();
    let normalised = propensity::normalise(&raw, &segments);
    let propensity = normalised
        .iter()
        .map(|n| propensity::propensity(n, weights))
        .collect();
    Ok(Scored {
        rows,
        normalised,
        propensity,
        areas,
    })
}

/// The signals as stored: each one's raw and normalised value (and for depth, of how many
/// feature areas).
pub fn signals_json(
    raw: &propensity::Raw,
    normalised: &[f64; 5],
    areas: usize,
) -> serde_json::Value {
    let signals: serde_json::Map<String, serde_json::Value> = propensity::SIGNALS
        .iter()
        .zip(raw.values())
        .zip(normalised)
        .map(|((s, raw), norm)| {
            let mut v = json!({"raw": raw, "normalised": norm});
            if *s == "depth" {
                v["areas"] = json!(areas);
            }
            ((*s).to_owned(), v)
        })
        .collect();
    serde_json::Value::Object(signals)
}

/// Scores propensities from data up to `day` and stores them as `store_as`'s (for `only`
/// these accounts, else all, replacing that day), in the caller's transaction, with the
/// win-rate history as of `now`. Re-scoring after ingestion reads today's data into the
/// latest scored day, as the churn re-score does. Returns how many.
pub async fn refresh(
    conn: &mut PgConnection,
    (day, store_as): (Date, Date),
    now: OffsetDateTime,
    only: Option<&[Uuid]>,
) -> sqlx::Result<u64> {
    let (config, weights, _) = db::config(&mut *conn).await?;
    let poc = poc(conn, now).await?;
    let scored = score(conn, day, &weights).await?;
    let only: Option<HashSet<&Uuid>> = only.map(|ids| ids.iter().collect());
    let mut out = db::ScoreRows::default();
    for ((r, n), p) in scored
        .rows
        .iter()
        .zip(&scored.normalised)
        .zip(&scored.propensity)
    {
        if only.as_ref().is_some_and(|ids| !ids.contains(&r.account)) {
            continue;
        }
        let tier = Tier::of(*p);
        let poc = poc.of(tier);
        out.account.push(r.account);
        out.propensity.push(*p as f32);
        out.tier.push(tier);
        out.signals.push(signals_json(&r.raw, n, scored.areas));
        out.poc.push(poc as f32);
        out.projected_arr_cents
            .push(propensity::projected_arr_cents(
                crate::money::arr_cents(r.mrr_cents),
                tier,
                poc,
            ));
    }
    db::write(conn, store_as, config, &out, only.is_none()).await
}
