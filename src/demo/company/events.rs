//! The demo company's product events: each user's daily activity, shaped by the account's
//! engagement, the champion's fade before a churn and the broadening before an expansion.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::{Date, Duration};

use super::{Company, Fate};
use crate::digits;

impl Company {
    /// Event rows for the days in `from..=to`, as CSV (`account_id,user_id,event_type,timestamp,count`).
    pub fn events_csv(&self, from: Date, to: Date) -> Vec<u8> {
        let mut out = String::from("account_id,user_id,event_type,timestamp,count\n");
        // The demo's profile writes about ten rows of about 60 bytes an account-day (a 4,200
        // demo's two-week batch: about 600,000 rows): reserve that up front rather than
        // regrow and copy the buffer on the way.
        let span = (to - from).whole_days().max(0) as usize + 1;
        out.reserve(self.accounts.len() * span * 640);
        let mut stamp = String::new();
        for (ai, a) in self.accounts.iter().enumerate() {
            let mut rng = StdRng::seed_from_u64(
                self.seed ^ ((ai as u64) << 20) ^ (from.to_julian_day() as u64),
            );
            let first = from.max(a.since);
            let mut day = first;
            while day <= to {
                stamp.clear();
                digits::date(&mut stamp, day);
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
                    // In the run-up, people take up the product's other areas.
                    let breadth = if Self::ramp(a, day) > 0.3 {
                        self.profile.events.len()
                    } else {
                        u.breadth
                    };
                    for (ti, seed) in self.profile.events.iter().take(breadth).enumerate() {
                        let (event, rate) = (&seed.name, &seed.rate);
                        let mean = rate * 6.0 * e.max(0.2);
                        if ti > 0 && !rng.random_bool(rate.min(1.0)) {
                            continue;
                        }
                        let n = 1 + (mean * rng.random_range(0.2..1.5)) as u32;
                        // `{account},{user},{event},{day} {hour}:{minute}:00,{n}`
                        for field in [&a.external_id, &u.id, event] {
                            out.push_str(field);
                            out.push(',');
                        }
                        out.push_str(&stamp);
                        out.push(' ');
                        digits::two(&mut out, hour as u8);
                        out.push(':');
                        digits::two(&mut out, ((ti * 7) % 60) as u8);
                        out.push_str(":00,");
                        digits::int(&mut out, n);
                        out.push('\n');
                    }
                }
                day += Duration::days(1);
            }
        }
        out.into_bytes()
    }
}
