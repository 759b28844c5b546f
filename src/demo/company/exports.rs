//! The demo company's CSV exports (accounts, contacts, subscriptions, tickets, NPS, notes),
//! shaped like a CRM, billing and support export, loaded through the ingestion path.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Poisson};
use time::{Date, Duration};

use super::{Account, Company, Fate};

impl Company {
    pub fn accounts_csv(&self, owner_emails: &[String]) -> Vec<u8> {
        let first = &self.profile.names.first;
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
                    first[a.segment * 5 % first.len()],
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
        let downgrade_at = a
            .churn_on
            .filter(|_| a.fate == Fate::Decline)
            .map(|c| c - Duration::days(45));
        let mut out = Vec::new();
        while start < end {
            let next = (start + Duration::days(30)).min(end + Duration::days(1));
            let (mut mrr, mut seats) = (a.mrr_cents, a.seats);
            let steps = [a.expand_on, a.expand_again]
                .iter()
                .filter(|d| d.is_some_and(|d| start >= d))
                .count();
            if steps > 0 {
                let grown = 1.0 + a.uplift * if steps == 2 { 1.5 } else { 1.0 };
                mrr = (a.mrr_cents as f64 * grown).round() as i64;
                seats = (a.seats as f64 * grown).round() as i64;
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
                    let feature = rng.random_bool(0.04 + 0.4 * Self::ramp(a, day));
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
                let trend = 2.0 * Self::ramp(a, day) + 0.3 * a.grow;
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
                } else if Self::ramp(a, day) > 0.0 {
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
