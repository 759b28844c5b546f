//! The demo company simulator: a deterministic synthetic SaaS business whose churn is
//! driven by a hidden per-account propensity that shows in usage, support, NPS and
//! billing the way the source documents describe — with enough noise that a good model
//! reaches an AUC near 0.8, not 1.0.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use time::{Date, Duration};

use super::seeds::{Profile, SegmentSeed};

mod events;
mod exports;
pub mod trial;

/// One simulated account, with the hidden truth behind its data.
pub struct Account {
    pub external_id: String,
    pub name: String,
    pub segment: usize,
    pub plan: String,
    pub seats: i64,
    pub mrr_cents: i64,
    pub since: Date,
    pub renewal: Date,
    pub trial: bool,
    pub churn_on: Option<Date>,
    /// The hidden churn propensity (standard normal; higher = riskier).
    pub risk: f64,
    /// The hidden expansion propensity (standard normal, leaning against churn risk):
    /// higher means broader use, more people, rising NPS and feature requests.
    pub grow: f64,
    /// When the account buys more (seats or a higher tier), if it does; up to 90 days past
    /// the end of the history, so today's signals point at expansions still to come.
    pub expand_on: Option<Date>,
    /// What the expansion adds to MRR and seats (0.25 = a quarter more).
    pub uplift: f64,
    /// Land and expand: a second step 90–200 days after the first, for some, adding half as
    /// much again.
    pub expand_again: Option<Date>,
    /// How a churn shows beforehand (if the account churns).
    pub fate: Fate,
    /// A 45-day slump that passes (noise: not every dip ends in churn).
    pub dip: Option<Date>,
    pub users: Vec<User>,
    pub owner: usize,
}

/// How an upcoming churn shows in the data. Not every churn is foreseeable, and not every
/// warning sign points the same way, which keeps the demo honest for models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Usage and the champion fade, tickets pile up, a downgrade, low NPS (half of churns).
    Decline,
    /// A burst of activity (exports, clean-up) before leaving (a fifth).
    Spike,
    /// Nothing visible (the rest).
    Silent,
}

pub struct User {
    pub id: String,
    pub activity: f64,
    pub breadth: usize,
    pub champion: bool,
    pub joined: i64,
}

pub struct Company {
    pub as_of: Date,
    pub days: i64,
    pub accounts: Vec<Account>,
    /// The finished experiment planted a year back.
    pub trial: trial::Trial,
    /// The segments, events and names it was simulated from (`seeds/demo_company.toml`).
    pub profile: Profile,
    seed: u64,
}

impl Company {
    /// Simulates `paying` accounts (plus about 7 % more in trial) with history ending `as_of`.
    pub fn simulate(
        seed: u64,
        paying: usize,
        as_of: Date,
        owners: usize,
        profile: Profile,
    ) -> Company {
        let segments = &profile.segments;
        let events = profile.events.len() as i64;
        let trial_segments = profile.trial_segments();
        let (first, second) = (&profile.names.first, &profile.names.second);
        let mut rng = StdRng::seed_from_u64(seed);
        // Thirteen months: the trailing twelve always have a month before them to start from.
        let days = 395;
        let total_share: u32 = segments.iter().map(|s| s.share).sum();
        let trials = paying * 7 / 100;
        let normal = Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!());
        let mut accounts = Vec::with_capacity(paying + trials);
        for i in 0..paying + trials {
            let trial = i >= paying;
            let segment = if trial {
                trial_segments[rng.random_range(0..trial_segments.len())]
            } else {
                let mut pick = (i as u64 * total_share as u64 / paying.max(1) as u64) as u32;
                segments
                    .iter()
                    .position(|s| {
                        let hit = pick < s.share;
                        pick = pick.saturating_sub(s.share);
                        hit
                    })
                    .unwrap_or(segments.len() - 1)
            };
            let seg = &segments[segment];
            let risk: f64 = normal.sample(&mut rng);
            let grow = -0.45 * risk + 0.89 * normal.sample(&mut rng);
            // Larger accounts expand more often: the ARR-weighted expansion lands near the
            // 15–35 % a year of the sources' benchmarks.
            let offset = seg.expansion_offset;
            let p_expand = 1.0 / (1.0 + (-(1.5 * grow + offset)).exp());
            let expand_day = rng.random_range(0..days + 90);
            let uplift = rng.random_range(0.25..0.8);
            let again = rng.random_range(90..200);
            let expand_again = (grow > 0.0 && rng.random_bool(0.5)).then_some(again);
            let expand_on = (!trial && rng.random_bool(p_expand))
                .then(|| as_of - Duration::days(days) + Duration::days(expand_day));
            let mrr = rng.random_range(seg.mrr.0..=seg.mrr.1);
            let seats = rng.random_range(seg.seats.0..=seg.seats.1);
            let age_days = if trial {
                rng.random_range(3..28)
            } else {
                rng.random_range(30..1500)
            };
            let since = as_of - Duration::days(age_days);
            let renewal = {
                let mut r = since + Duration::days(365);
                while r <= as_of {
                    r += Duration::days(365);
                }
                r
            };
            // Logistic hazard on the hidden risk: calibrated so the segment's annual churn holds.
            let p_year = (seg.annual_churn * (1.35 * risk - 0.91).exp()).min(0.9);
            let churn_on = if trial || !rng.random_bool(p_year) {
                None
            } else {
                let day = rng.random_range(0..days + 45);
                let date = as_of - Duration::days(days) + Duration::days(day);
                (date > since + Duration::days(20)).then_some(date)
            };
            let fate = match rng.random_range(0..10) {
                0..5 => Fate::Decline,
                5..7 => Fate::Spike,
                _ => Fate::Silent,
            };
            let dip = (churn_on.is_none() && rng.random_bool(0.15))
                .then(|| as_of - Duration::days(rng.random_range(0..days)));
            let n_users = (seats.min(seg.max_users) as f64 * rng.random_range(0.55..1.0))
                .ceil()
                .max(1.0) as usize;
            let users = (0..n_users)
                .map(|u| User {
                    id: format!("u{i:05}x{u:03}"),
                    activity: (rng.random_range(0.15..0.9) - 0.08 * risk).clamp(0.05, 0.95),
                    breadth: (rng.random_range(2..events) + (3.0 * grow) as i64).clamp(2, events)
                        as usize,
                    champion: u == 0,
                    // People beyond the first 60 % join in the run-up to an expansion.
                    joined: match expand_on {
                        Some(d) if u * 10 > n_users * 6 => {
                            (d - (as_of - Duration::days(days))).whole_days()
                                - rng.random_range(30..120)
                        }
                        _ => -1,
                    },
                })
                .collect();
            let plan = seg.plans[rng.random_range(0..seg.plans.len())].clone();
            let name = format!(
                "{} {} {}",
                first[i % first.len()],
                second[(i / first.len()) % second.len()],
                i / (first.len() * second.len()) + 1
            );
            accounts.push(Account {
                external_id: format!("ACC-{i:06}"),
                name,
                segment,
                plan: if trial { "trial".into() } else { plan },
                seats,
                mrr_cents: if trial { 0 } else { mrr * 100 },
                since,
                renewal,
                trial,
                churn_on,
                risk,
                grow,
                expand_on: expand_on.filter(|d| churn_on.is_none_or(|c| *d < c)),
                uplift,
                expand_again: expand_on
                    .zip(expand_again)
                    .map(|(d, later)| d + Duration::days(later))
                    .filter(|d| churn_on.is_none_or(|c| *d < c)),
                fate,
                dip,
                users,
                owner: i % owners.max(1),
            });
        }
        let trial = trial::plant(&mut accounts, as_of, seed, segments);
        Company {
            as_of,
            days,
            accounts,
            trial,
            profile,
            seed,
        }
    }

    /// First day of the simulated history.
    pub fn start(&self) -> Date {
        self.as_of - Duration::days(self.days - 1)
    }

    /// How engaged the account is on `day` (0..1 multiplier), given its fate.
    fn engagement(&self, a: &Account, day: Date) -> f64 {
        let mut e = (1.0 - 0.12 * a.risk).clamp(0.4, 1.4);
        if let Some(churn) = a.churn_on {
            if day >= churn {
                return 0.0;
            }
            let left = (churn - day).whole_days();
            match a.fate {
                // The decline the sources describe, starting 30–120 days before churn.
                Fate::Decline => {
                    let lead =
                        30 + (a.external_id.len() as i64 * 7 + (a.risk * 31.0).abs() as i64) % 90;
                    if left < lead {
                        e *= 0.25 + 0.75 * left as f64 / lead as f64;
                    }
                }
                Fate::Spike if left < 30 => e *= 1.8,
                Fate::Spike | Fate::Silent => {}
            }
        }
        if a.dip
            .is_some_and(|d| day >= d && (day - d).whole_days() < 45)
        {
            e *= 0.4;
        }
        e * (1.0 + 0.3 * Self::ramp(a, day))
    }

    /// How strongly the account shows an expansion coming: rising over the 150 days before
    /// each step to 1, fading over the 120 days after it (0 without one).
    pub fn ramp(a: &Account, day: Date) -> f64 {
        let one = |d: Date| {
            let gap = (d - day).whole_days() as f64;
            let r = if gap >= 0.0 {
                1.0 - gap / 150.0
            } else {
                1.0 + gap / 120.0
            };
            r.clamp(0.0, 1.0)
        };
        [a.expand_on, a.expand_again]
            .into_iter()
            .flatten()
            .map(one)
            .fold(0.0, f64::max)
    }

    /// Whether the account is in the visible run-up to its churn.
    fn warning(a: &Account, day: Date, days: i64) -> bool {
        a.fate != Fate::Silent && a.churn_on.is_some_and(|c| (c - day).whole_days() < days)
    }
}
