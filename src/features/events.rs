//! Candidate features from the product's own event types: each type's events over 30 days
//! and its 7-day pace against the 30-day pace, whatever the mapping makes of it. Training
//! screens the most widespread types (`model::screen`) and a model keeps the ones it was
//! trained with, so scoring computes exactly those.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use time::Date;
use uuid::Uuid;

/// What is measured of an event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Events of the type in the 30 days up to the as-of date.
    Events30d,
    /// The daily pace over 7 days against the pace over 30 (missing without 30-day events).
    Trend7d30d,
}

/// One candidate feature: a measure of one event type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Candidate {
    pub event_type: String,
    pub measure: Measure,
}

impl Candidate {
    pub fn both(event_type: &str) -> [Candidate; 2] {
        [Measure::Events30d, Measure::Trend7d30d].map(|measure| Candidate {
            event_type: event_type.to_owned(),
            measure,
        })
    }

    /// The feature's column name, as the model's importance and the export show it.
    pub fn name(&self) -> String {
        match self.measure {
            Measure::Events30d => format!("events_30d:{}", self.event_type),
            Measure::Trend7d30d => format!("trend_7d_30d:{}", self.event_type),
        }
    }

    /// The value from an account's (7-day, 30-day) event sums.
    fn value(&self, (week, month): (f64, f64)) -> f64 {
        match self.measure {
            Measure::Events30d => month,
            Measure::Trend7d30d => super::ratio(week / 7.0, month / 30.0),
        }
    }

    /// The value in words, for risk drivers.
    pub fn describe(&self, v: f64) -> String {
        let t = &self.event_type;
        match self.measure {
            Measure::Events30d => format!("{v:.0} {t} events in 30 days"),
            Measure::Trend7d30d if v < 1.0 => format!(
                "{t} events down {:.0} % against the 30-day pace",
                100.0 - (v * 100.0).round()
            ),
            Measure::Trend7d30d => {
                format!(
                    "{t} events at {:.0} % of the 30-day pace",
                    (v * 100.0).round()
                )
            }
        }
    }
}

/// (7-day, 30-day) event sums per (account, event type name), for the named types.
pub type Windows = HashMap<(Uuid, String), (f64, f64)>;

pub async fn windows(
    db: impl PgExecutor<'_>,
    as_of: Date,
    only: Option<&[Uuid]>,
    types: &[String],
) -> sqlx::Result<Windows> {
    if types.is_empty() {
        return Ok(Windows::new());
    }
    let rows: Vec<(Uuid, String, f64, f64)> = sqlx::query_as(
        r#"select d.account_id, e.name,
                  coalesce(sum(x.n) filter (where d.day > $1::date - 7), 0)::float8, sum(x.n)::float8
           from usage_daily d
           cross join lateral unnest(d.event_types, d.type_events) x(t, n)
           join event_types e on e.id = x.t
           where d.day > $1::date - 30 and d.day <= $1 and e.name = any($2)
             and ($3::uuid[] is null or d.account_id = any($3))
           group by 1, 2"#,
    )
    .bind(as_of)
    .bind(types)
    .bind(only)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(a, t, week, month)| ((a, t), (week, month)))
        .collect())
}

/// The candidates' values for each account, in `candidates` order (no events: a count of
/// zero and a missing trend).
pub fn values(accounts: &[Uuid], candidates: &[Candidate], windows: &Windows) -> Vec<Vec<f64>> {
    accounts
        .iter()
        .map(|a| {
            candidates
                .iter()
                .map(|c| {
                    let sums = windows
                        .get(&(*a, c.event_type.clone()))
                        .copied()
                        .unwrap_or((0.0, 0.0));
                    c.value(sums)
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_paces_follow_their_definitions() {
        let a = Uuid::from_u128(1);
        let quiet = Uuid::from_u128(2);
        let candidates = Candidate::both("unfriend");
        let windows = Windows::from([((a, "unfriend".to_owned()), (14.0, 30.0))]);
        let v = values(&[a, quiet], &candidates, &windows);
        // 14 in 7 days is 2 a day against 1 a day over 30 days: twice the pace.
        assert_eq!(v[0], vec![30.0, 2.0]);
        assert_eq!(v[1][0], 0.0);
        assert!(v[1][1].is_nan());
        assert_eq!(candidates[1].name(), "trend_7d_30d:unfriend");
        assert_eq!(
            candidates[1].describe(0.25),
            "unfriend events down 75 % against the 30-day pace"
        );
    }
}
