//! The demo company simulator: a deterministic synthetic SaaS business whose churn is
//! driven by a hidden per-account propensity that shows in usage, support, NPS and
//! billing the way the source documents describe — with enough noise that a good model
//! reaches an AUC near 0.8, not 1.0.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal, Poisson};
use time::{Date, Duration};

/// Segment mix of the default company (4,200 paying accounts) and its MRR and seat ranges.
pub const SEGMENTS: [Segment; 4] = [
    Segment {
        name: "enterprise",
        share: 120,
        mrr: (5_000, 40_000),
        seats: (120, 600),
        max_users: 110,
        annual_churn: 0.12,
        plans: &["enterprise"],
    },
    Segment {
        name: "mid_market",
        share: 480,
        mrr: (1_000, 4_999),
        seats: (30, 150),
        max_users: 40,
        annual_churn: 0.18,
        plans: &["business", "business_plus"],
    },
    Segment {
        name: "smb",
        share: 1_800,
        mrr: (200, 999),
        seats: (6, 30),
        max_users: 12,
        annual_churn: 0.26,
        plans: &["team", "business"],
    },
    Segment {
        name: "self_serve",
        share: 1_800,
        mrr: (30, 199),
        seats: (1, 6),
        max_users: 4,
        annual_churn: 0.30,
        plans: &["starter", "team"],
    },
];

pub struct Segment {
    pub name: &'static str,
    pub share: u32,
    pub mrr: (i64, i64),
    pub seats: (i64, i64),
    pub max_users: i64,
    pub annual_churn: f64,
    pub plans: &'static [&'static str],
}

const EVENT_TYPES: [(&str, f64); 22] = [
    ("page_viewed", 1.0),
    ("task_created", 0.6),
    ("task_completed", 0.5),
    ("comment_added", 0.35),
    ("file_uploaded", 0.2),
    ("invite_sent", 0.02),
    ("integration_connected", 0.01),
    ("export_requested", 0.05),
    ("board_created", 0.08),
    ("board_viewed", 0.3),
    ("gantt_viewed", 0.12),
    ("timeline_viewed", 0.1),
    ("automation_created", 0.04),
    ("automation_run", 0.1),
    ("form_submitted", 0.06),
    ("dashboard_viewed", 0.15),
    ("report_generated", 0.07),
    ("api_call", 0.08),
    ("integration_synced", 0.06),
    ("search_performed", 0.3),
    ("notification_clicked", 0.2),
    ("settings_changed", 0.03),
];

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
    /// Grows (seats, features, NPS) over the year.
    pub expanding: bool,
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
    seed: u64,
}

const NAME_A: [&str; 24] = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Aperture",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Massive",
    "Nimbus",
    "Quantum",
    "Blue Harbor",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Pied Piper",
    "Bluth",
];
const NAME_B: [&str; 12] = [
    "Labs",
    "Systems",
    "Logistics",
    "Health",
    "Foods",
    "Media",
    "Capital",
    "Robotics",
    "Studios",
    "Energy",
    "Retail",
    "Analytics",
];

impl Company {
    /// Simulates `paying` accounts (plus about 7 % more in trial) with history ending `as_of`.
    pub fn simulate(seed: u64, paying: usize, as_of: Date, owners: usize) -> Company {
        let mut rng = StdRng::seed_from_u64(seed);
        let days = 365;
        let total_share: u32 = SEGMENTS.iter().map(|s| s.share).sum();
        let trials = paying * 7 / 100;
        let normal = Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!());
        let mut accounts = Vec::with_capacity(paying + trials);
        for i in 0..paying + trials {
            let trial = i >= paying;
            let segment = if trial {
                rng.random_range(2..4)
            } else {
                let mut pick = (i as u64 * total_share as u64 / paying.max(1) as u64) as u32;
                SEGMENTS
                    .iter()
                    .position(|s| {
                        let hit = pick < s.share;
                        pick = pick.saturating_sub(s.share);
                        hit
                    })
                    .unwrap_or(3)
            };
            let seg = &SEGMENTS[segment];
            let risk: f64 = normal.sample(&mut rng);
            let expanding = !trial && risk < -0.6 && rng.random_bool(0.35);
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
                    breadth: rng.random_range(2..EVENT_TYPES.len()),
                    champion: u == 0,
                    joined: if expanding && u > n_users / 2 {
                        rng.random_range(0..days)
                    } else {
                        -1
                    },
                })
                .collect();
            let plan = seg.plans[rng.random_range(0..seg.plans.len())].to_owned();
            let name = format!(
                "{} {} {}",
                NAME_A[i % NAME_A.len()],
                NAME_B[(i / NAME_A.len()) % NAME_B.len()],
                i / (NAME_A.len() * NAME_B.len()) + 1
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
                expanding,
                fate,
                dip,
                users,
                owner: i % owners.max(1),
            });
        }
        Company {
            as_of,
            days,
            accounts,
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
        if a.expanding {
            e *= 1.0 + 0.4 * (day - self.start()).whole_days() as f64 / self.days as f64;
        }
        e
    }

    /// Whether the account is in the visible run-up to its churn.
    fn warning(a: &Account, day: Date, days: i64) -> bool {
        a.fate != Fate::Silent && a.churn_on.is_some_and(|c| (c - day).whole_days() < days)
    }

    /// Event rows for the days in `from..=to`, as CSV (`account_id,user_id,event_type,timestamp,count`).
    pub fn events_csv(&self, from: Date, to: Date) -> Vec<u8> {
        let mut out = String::from("account_id,user_id,event_type,timestamp,count\n");
        for (ai, a) in self.accounts.iter().enumerate() {
            let mut rng = StdRng::seed_from_u64(
                self.seed ^ ((ai as u64) << 20) ^ (from.to_julian_day() as u64),
            );
            let first = from.max(a.since);
            let mut day = first;
            while day <= to {
                let e = self.engagement(a, day);
                let weekend = matches!(
                    day.weekday(),
                    time::Weekday::Saturday | time::Weekday::Sunday
                );
                for (ui, u) in a.users.iter().enumerate() {
                    if u.joined > (day - self.start()).whole_days() {
                        continue;
                    }
                    let mut p = u.activity * e * if weekend { 0.25 } else { 1.0 };
                    if u.champion
                        && a.fate == Fate::Decline
                        && a.churn_on.is_some_and(|c| (c - day).whole_days() < 60)
                    {
                        p *= 0.2; // the champion goes quiet first
                    }
                    if !rng.random_bool(p.clamp(0.0, 1.0)) {
                        continue;
                    }
                    let hour = 8 + (ui % 9);
                    let breadth = if a.expanding {
                        EVENT_TYPES.len()
                    } else {
                        u.breadth
                    };
                    for (ti, (event, rate)) in EVENT_TYPES.iter().take(breadth).enumerate() {
                        let mean = rate * 6.0 * e.max(0.2);
                        if ti > 0 && !rng.random_bool(rate.min(1.0)) {
                            continue;
                        }
                        let n = 1 + (mean * rng.random_range(0.2..1.5)) as u32;
                        out.push_str(&format!(
                            "{},{},{event},{day} {hour:02}:{:02}:00,{n}\n",
                            a.external_id,
                            u.id,
                            (ti * 7) % 60
                        ));
                    }
                }
                day += Duration::days(1);
            }
        }
        out.into_bytes()
    }

    pub fn accounts_csv(&self, owner_emails: &[String]) -> Vec<u8> {
        let mut out = String::from(
            "external_id,name,plan,seats,mrr,customer_since,renewal_date,status,churned_on,owner_email,executive_sponsor\n",
        );
        for a in &self.accounts {
            let churned = a.churn_on.filter(|d| *d <= self.as_of);
            let status = if churned.is_some() {
                "churned"
            } else if a.trial {
                "trial"
            } else {
                "active"
            };
            let (mrr, seats) = self.current(a);
            out.push_str(&format!(
                "{},{},{},{},{}.{:02},{},{},{},{},{},{}\n",
                a.external_id,
                csv_field(&a.name),
                a.plan,
                seats,
                mrr / 100,
                mrr % 100,
                a.since,
                a.renewal,
                status,
                churned.map(|d| d.to_string()).unwrap_or_default(),
                owner_emails.get(a.owner).map(String::as_str).unwrap_or(""),
                csv_field(&format!(
                    "{} Sponsor <sponsor@{}.example>",
                    NAME_A[a.segment * 5 % NAME_A.len()],
                    a.external_id.to_lowercase()
                )),
            ));
        }
        out.into_bytes()
    }

    /// Risky accounts that stay may cut seats at their last renewal; large accounts do so
    /// more often and deeper, so their revenue churn runs well above their logo churn.
    /// Returns the kept share, in %.
    fn contraction(a: &Account) -> Option<i64> {
        let large = a.segment < 2;
        let contracts = a.churn_on.is_none() && a.risk > if large { 0.4 } else { 0.8 };
        contracts.then_some(if large { 70 } else { 80 })
    }

    /// MRR and seats now: those of the last billing period (trials pay nothing yet).
    fn current(&self, a: &Account) -> (i64, i64) {
        if a.trial {
            return (0, a.seats);
        }
        self.periods(a)
            .last()
            .map_or((a.mrr_cents, a.seats), |p| (p.2, p.3))
    }

    pub fn contacts_csv(&self) -> Vec<u8> {
        let mut out = String::from("account_id,external_id,name,email,title,champion,user_id\n");
        const FIRST: [&str; 10] = [
            "Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jon",
        ];
        const TITLES: [&str; 5] = [
            "Head of Operations",
            "Project Lead",
            "CTO",
            "Team Lead",
            "Program Manager",
        ];
        for a in &self.accounts {
            for (i, u) in a.users.iter().take(6).enumerate() {
                let first = FIRST[(a.name.len() + i) % FIRST.len()];
                out.push_str(&format!(
                    "{},C{i},{first} {},{}.{i}@{}.example,{},{},{}\n",
                    a.external_id,
                    &a.external_id[4..],
                    first.to_lowercase(),
                    a.external_id.to_lowercase(),
                    TITLES[i % TITLES.len()],
                    u.champion,
                    u.id
                ));
            }
        }
        out.into_bytes()
    }

    /// Billing periods `(start, end, mrr_cents, seats)`: monthly from the start of the
    /// history (or the account) to churn or today, with expansions and contractions.
    fn periods(&self, a: &Account) -> Vec<(Date, Date, i64, i64)> {
        let end = a
            .churn_on
            .filter(|d| *d <= self.as_of)
            .unwrap_or(self.as_of);
        let mut start = a.since.max(self.start());
        // Contracts change at renewals, which fall on every day of the year across the
        // book: an expansion half a year before the last renewal, a contraction at it.
        let last_renewal = a.renewal - Duration::days(365);
        let expand_at = last_renewal - Duration::days(182);
        let downgrade_at = a
            .churn_on
            .filter(|_| a.fate == Fate::Decline)
            .map(|c| c - Duration::days(45));
        let mut out = Vec::new();
        while start < end {
            let next = (start + Duration::days(30)).min(end + Duration::days(1));
            let (mut mrr, mut seats) = (a.mrr_cents, a.seats);
            if a.expanding && start >= expand_at {
                mrr = a.mrr_cents * 13 / 10;
                seats += a.seats / 3;
            }
            let kept = match Self::contraction(a) {
                Some(kept) if start >= last_renewal => Some(kept),
                _ => downgrade_at
                    .is_some_and(|d| start >= d && a.risk > 0.3)
                    .then_some(80),
            };
            if let Some(kept) = kept {
                mrr = mrr * kept / 100;
                seats = (seats * kept / 100).max(1);
            }
            out.push((start, next, mrr, seats));
            start = next;
        }
        out
    }

    pub fn subscriptions_csv(&self) -> Vec<u8> {
        let mut out = String::from("account_id,period_start,period_end,plan,seats,mrr\n");
        for a in self.accounts.iter().filter(|a| !a.trial) {
            for (start, next, mrr, seats) in self.periods(a) {
                out.push_str(&format!(
                    "{},{start},{next},{},{seats},{}.{:02}\n",
                    a.external_id,
                    a.plan,
                    mrr / 100,
                    mrr % 100
                ));
            }
        }
        out.into_bytes()
    }

    pub fn tickets_csv(&self) -> Vec<u8> {
        let mut out = String::from(
            "account_id,external_id,priority,subject,opened_at,resolved_at,csat,feature_request\n",
        );
        const SUBJECTS: [&str; 6] = [
            "Export fails",
            "Cannot invite users",
            "Slow dashboard",
            "SSO question",
            "Billing question",
            "Automation not firing",
        ];
        for (ai, a) in self.accounts.iter().enumerate() {
            let mut rng = StdRng::seed_from_u64(self.seed ^ 0x7171 ^ ai as u64);
            let base = [3.0, 1.2, 0.5, 0.2][a.segment] * (1.0 + 0.5 * a.risk.max(0.0));
            let months = (self.days / 30) as usize;
            for m in 0..months {
                let day = self.start() + Duration::days(m as i64 * 30 + rng.random_range(0..30));
                if day < a.since || a.churn_on.is_some_and(|c| day >= c) || day > self.as_of {
                    continue;
                }
                let near_churn = Self::warning(a, day, 90);
                let lambda = base * if near_churn { 2.5 } else { 1.0 };
                let n = Poisson::new(lambda)
                    .map(|p| p.sample(&mut rng) as usize)
                    .unwrap_or(0);
                for t in 0..n {
                    let urgent = rng.random_bool(if near_churn { 0.35 } else { 0.08 });
                    let priority = if urgent {
                        if rng.random_bool(0.5) {
                            "urgent"
                        } else {
                            "high"
                        }
                    } else if rng.random_bool(0.5) {
                        "normal"
                    } else {
                        "low"
                    };
                    let hours = rng.random_range(1..96);
                    let opened = format!("{day} {:02}:15:00", 9 + t % 8);
                    let resolved_day = day + Duration::hours(hours);
                    let resolved = if resolved_day <= self.as_of {
                        format!("{resolved_day} 17:45:00")
                    } else {
                        String::new()
                    };
                    let csat_mean = 4.3 - 0.5 * a.risk - if near_churn { 1.2 } else { 0.0 };
                    let csat = if resolved.is_empty() || !rng.random_bool(0.6) {
                        String::new()
                    } else {
                        ((csat_mean + rng.random_range(-1.0..1.0))
                            .round()
                            .clamp(1.0, 5.0) as i64)
                            .to_string()
                    };
                    let feature = a.expanding && rng.random_bool(0.3);
                    out.push_str(&format!(
                        "{},T{m:02}{t:02},{priority},{},{opened},{resolved},{csat},{feature}\n",
                        a.external_id,
                        SUBJECTS[(ai + t) % SUBJECTS.len()]
                    ));
                }
            }
        }
        out.into_bytes()
    }

    pub fn nps_csv(&self) -> Vec<u8> {
        let mut out = String::from("account_id,external_id,responded_at,score,user_id,comment\n");
        for (ai, a) in self.accounts.iter().enumerate() {
            let mut rng = StdRng::seed_from_u64(self.seed ^ 0x0905 ^ ai as u64);
            for q in 0..4 {
                let day = self.start() + Duration::days(q * 91 + rng.random_range(0..20));
                if day < a.since || a.churn_on.is_some_and(|c| day >= c) {
                    continue;
                }
                let near_churn = a.fate == Fate::Decline && Self::warning(a, day, 120);
                let trend = if a.expanding { 0.5 * q as f64 } else { 0.0 };
                for r in 0..a.users.len().min(1 + rng.random_range(0..3)) {
                    let mean = 8.0 - 1.2 * a.risk - if near_churn { 2.0 } else { 0.0 } + trend;
                    let score = (mean + rng.random_range(-2.5..2.5))
                        .round()
                        .clamp(0.0, 10.0) as i64;
                    let comment = match score {
                        0..=6 => "Too hard to get the team on board",
                        7..=8 => "Does the job",
                        _ => "Our team relies on it daily",
                    };
                    out.push_str(&format!(
                        "{},Q{q}R{r},{day} 10:00:00,{score},{},{comment}\n",
                        a.external_id, a.users[r].id
                    ));
                }
            }
        }
        out.into_bytes()
    }

    pub fn notes_csv(&self, authors: &[String]) -> Vec<u8> {
        let mut out = String::from("account_id,external_id,author,noted_at,body\n");
        for a in self.accounts.iter().filter(|a| !a.trial) {
            let author = authors
                .get(a.owner)
                .map(String::as_str)
                .unwrap_or("CS team");
            for q in 0..4 {
                let day = self.start() + Duration::days(q * 91 + 45);
                if day < a.since || a.churn_on.is_some_and(|c| day >= c) {
                    continue;
                }
                let body = if a.risk > 1.0 {
                    "Quiet quarter; low attendance at the check-in. Asked about contract terms."
                } else if a.expanding {
                    "Great QBR. New teams onboarding; asked about more seats and SSO."
                } else {
                    "Routine check-in. No blockers raised."
                };
                out.push_str(&format!(
                    "{},N{q},{},{day} 15:00:00,{body}\n",
                    a.external_id,
                    csv_field(author)
                ));
            }
        }
        out.into_bytes()
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
