//! The demo's finished experiment, planted in the simulation: a year before the end of the
//! history, the company's high-risk accounts were split at random (stratified by segment,
//! with Keel's own permuted blocks) between no outreach, risk-personalised outreach and a
//! value demo, and each strategy has a hidden true effect: the share of the accounts that
//! would have churned within 90 days that it keeps. The results page should recover them.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::{Date, Duration};

use super::{Account, Fate, SegmentSeed};
use crate::stats::randomise;

/// Each strategy: name, description, allocation, the hidden share of would-be churners it
/// keeps, and the CSM minutes it takes per account.
pub const STRATEGIES: [(&str, &str, u32, f64, i32); 3] = [
    ("Control", "No outreach: business as usual", 33, 0.0, 0),
    (
        "Risk-personalised outreach",
        "A call about the account's own risk drivers, then a tailored plan",
        34,
        0.45,
        40,
    ),
    (
        "Value demo",
        "A demo of the value the account is not yet getting",
        33,
        0.15,
        75,
    ),
];

/// The experiment's seed (stored with it, so the assignment can be checked).
pub const SEED: u64 = 20_251_201;

/// The planted test as the loader needs it: its day, and (external id, variant, stratum,
/// slot) per account.
pub type Planted = (Option<Date>, Vec<(String, usize, String, i32)>);

/// Who was assigned what, by account index.
#[derive(Clone, Debug, Default)]
pub struct Trial {
    pub day: Option<Date>,
    /// (account index, variant, stratum, slot)
    pub assigned: Vec<(usize, usize, String, i32)>,
}

/// Assigns the high-risk accounts active a year before `as_of` (those the model would have
/// flagged: high hidden risk, or a visible churn within 90 days) and applies each
/// strategy's effect to their churn.
pub fn plant(accounts: &mut [Account], as_of: Date, seed: u64, segments: &[SegmentSeed]) -> Trial {
    let day = as_of - Duration::days(365);
    let mut rng = StdRng::seed_from_u64(seed ^ SEED);
    let allocation: Vec<u32> = STRATEGIES.iter().map(|s| s.2).collect();
    let mut slots: HashMap<String, i32> = HashMap::new();
    let mut assigned = Vec::new();
    for (i, a) in accounts.iter_mut().enumerate() {
        let churn_in = a.churn_on.map(|c| (c - day).whole_days());
        if a.trial || a.since > day - Duration::days(30) || churn_in.is_some_and(|d| d <= 0) {
            continue;
        }
        let soon = churn_in.is_some_and(|d| d <= 90) && a.fate != Fate::Silent;
        if a.risk <= 1.2 && !soon {
            continue;
        }
        let stratum = format!("{}/high", segments[a.segment].name);
        let slot = slots.entry(stratum.clone()).or_default();
        let Some(v) = randomise::variant(SEED, &stratum, *slot as u64, &allocation) else {
            continue;
        };
        let kept = rng.random_bool(STRATEGIES[v].3);
        if churn_in.is_some_and(|d| d <= 90) && kept {
            a.churn_on = None;
        }
        assigned.push((i, v, stratum, *slot));
        *slot += 1;
    }
    Trial {
        day: Some(day),
        assigned,
    }
}
