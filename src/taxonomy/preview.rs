//! What the features the mapping drives would look like under a proposed mapping, before it
//! is saved: computed from the events per type the roll-ups keep, with the same definitions
//! as `features` (30 days up to the newest day of data, live accounts only).

use std::collections::{HashMap, HashSet};

use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use super::rules::{Compiled, Roles};
use crate::features::db::live_accounts;

/// The features a mapping drives, per account.
pub const MEASURES: [&str; 6] = [
    "Core actions, 30 days",
    "Action trend (7-day pace ÷ 30-day pace)",
    "Feature areas adopted, 30 days",
    "Invites sent, 30 days",
    "People commenting, 30 days",
    "Active people, 30 days",
];

/// One account's measures, in `MEASURES` order; NaN where undefined (a trend without core
/// actions).
pub type Measured = [f64; MEASURES.len()];

/// The events per type behind the measures.
pub struct Usage {
    pub day: Date,
    live: Vec<Uuid>,
    /// (account, days before `day`, type ids, events of each)
    daily: Vec<(Uuid, i32, Vec<i16>, Vec<i32>)>,
    /// (account, the types one person used in the 30 days)
    people: Vec<(Uuid, Vec<i16>)>,
    names: HashMap<i16, String>,
}

pub async fn usage(pool: &PgPool, day: Date) -> sqlx::Result<Usage> {
    let live = live_accounts(pool, day, None).await?;
    let daily = sqlx::query_as(
        r#"select account_id, ($1::date - day)::int, event_types, type_events from usage_daily
           where day > $1::date - 30 and day <= $1"#,
    )
    .bind(day)
    .fetch_all(pool)
    .await?;
    let people = sqlx::query_as(
        r#"select account_id, array_agg(distinct t) from usage_user_daily u, unnest(u.event_types) t
           where day > $1::date - 30 and day <= $1 group by account_id, user_ref"#,
    )
    .bind(day)
    .fetch_all(pool)
    .await?;
    let names = super::db::all_types(pool)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    Ok(Usage {
        day,
        live: live.into_iter().map(|a| a.id).collect(),
        daily,
        people,
        names,
    })
}

impl Usage {
    fn roles(&self, mapping: &Compiled) -> HashMap<i16, Roles> {
        self.names
            .iter()
            .map(|(id, name)| (*id, mapping.roles(name)))
            .collect()
    }

    /// Every live account's measures under `mapping`.
    pub fn measure(&self, mapping: &Compiled) -> HashMap<Uuid, Measured> {
        let roles = self.roles(mapping);
        let role = |t: &i16| roles.get(t).copied().unwrap_or_default();
        #[derive(Default)]
        struct Sums {
            core7: f64,
            core30: f64,
            areas: i32,
            invites: f64,
            commenting: f64,
            active: f64,
        }
        let live: HashSet<Uuid> = self.live.iter().copied().collect();
        let mut sums: HashMap<Uuid, Sums> = HashMap::new();
        for (account, age, types, counts) in self.daily.iter().filter(|d| live.contains(&d.0)) {
            let s = sums.entry(*account).or_default();
            for (t, n) in types.iter().zip(counts) {
                let (r, n) = (role(t), f64::from(*n));
                if r.core {
                    s.core30 += n;
                    if *age < 7 {
                        s.core7 += n;
                    }
                }
                if r.invite {
                    s.invites += n;
                }
                s.areas |= r.modules;
            }
        }
        for (account, types) in self.people.iter().filter(|p| live.contains(&p.0)) {
            let s = sums.entry(*account).or_default();
            if types.iter().any(|t| role(t).counted) {
                s.active += 1.0;
            }
            if types.iter().any(|t| role(t).collaboration) {
                s.commenting += 1.0;
            }
        }
        self.live
            .iter()
            .map(|a| {
                let s = sums.remove(a).unwrap_or_default();
                let trend = if s.core30 > 0.0 {
                    (s.core7 / 7.0) / (s.core30 / 30.0)
                } else {
                    f64::NAN
                };
                let measured = [
                    s.core30,
                    trend,
                    f64::from(s.areas.count_ones()),
                    s.invites,
                    s.commenting,
                    s.active,
                ];
                (*a, measured)
            })
            .collect()
    }

    /// The types whose part changes between two mappings: (name, before, after).
    pub fn changes(&self, before: &Compiled, after: &Compiled) -> Vec<(String, String, String)> {
        let mut out: Vec<_> = self
            .names
            .values()
            .filter_map(|name| {
                let (b, a) = (before.describe(name), after.describe(name));
                (b != a).then(|| (name.clone(), b, a))
            })
            .collect();
        out.sort();
        out
    }
}

/// How a measure is spread over the accounts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// Share of accounts at zero or without a value.
    pub zero: f64,
    pub median: f64,
    pub p90: f64,
}

/// The spread of each measure, in `MEASURES` order.
pub fn spreads(measured: &HashMap<Uuid, Measured>) -> Vec<Spread> {
    (0..MEASURES.len())
        .map(|i| {
            let mut values: Vec<f64> = measured.values().map(|m| m[i]).collect();
            let n = values.len().max(1) as f64;
            let zero = values.iter().filter(|v| v.is_nan() || **v == 0.0).count() as f64 / n;
            values.retain(|v| !v.is_nan());
            values.sort_by(f64::total_cmp);
            let at = |q: f64| {
                if values.is_empty() {
                    return 0.0;
                }
                values[((values.len() - 1) as f64 * q).round() as usize]
            };
            Spread {
                zero,
                median: at(0.5),
                p90: at(0.9),
            }
        })
        .collect()
}
