//! Net and gross revenue retention over a window of whole months, for the accounts paying
//! at its start (new business and reactivations are outside NRR, as investors read it):
//!
//! NRR = (starting MRR + expansion − contraction − churn) / starting MRR
//! GRR = (starting MRR − contraction − churn) / starting MRR, at most 100 %
//!
//! Also logo churn: of the accounts paying at the start, those paying nothing at the end.
//! And cohorts: accounts by the month they first paid, and how many (and how much MRR) are
//! still paying k months later.

use std::collections::HashMap;

use time::Date;
use uuid::Uuid;

use super::movements::{MonthFacts, next_month};
use crate::segment::Segment;

/// One account's monthly facts, and the team it belongs to (its owner's manager).
pub struct History {
    pub manager: Option<Uuid>,
    pub months: Vec<MonthFacts>,
}

impl History {
    fn at(&self, month: Date) -> Option<&MonthFacts> {
        self.months.iter().find(|f| f.month == Some(month))
    }

    /// MRR in force at the start of `month` (the previous month's end).
    fn start_of(&self, month: Date) -> i64 {
        match self.at(month) {
            Some(f) => f.start,
            // No facts that month: whatever the latest earlier month ended with.
            None => self
                .months
                .iter()
                .rev()
                .find(|f| f.month.is_some_and(|m| m < month))
                .map_or(0, |f| f.end),
        }
    }

    fn end_of(&self, month: Date) -> i64 {
        match self.at(month) {
            Some(f) => f.end,
            None => self.start_of(month),
        }
    }
}

/// Sums over the accounts paying at a window's start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    pub accounts: i64,
    /// Of those, paying nothing at the window's end.
    pub churned_accounts: i64,
    pub starting: i64,
    pub expansion: i64,
    pub contraction: i64,
    pub churn: i64,
}

impl Retention {
    pub fn add(&mut self, o: &Retention) {
        self.accounts += o.accounts;
        self.churned_accounts += o.churned_accounts;
        self.starting += o.starting;
        self.expansion += o.expansion;
        self.contraction += o.contraction;
        self.churn += o.churn;
    }

    pub fn nrr(&self) -> Option<f64> {
        (self.starting > 0).then(|| {
            (self.starting + self.expansion - self.contraction - self.churn) as f64
                / self.starting as f64
        })
    }

    pub fn grr(&self) -> Option<f64> {
        (self.starting > 0).then(|| {
            ((self.starting - self.contraction - self.churn) as f64 / self.starting as f64).min(1.0)
        })
    }

    pub fn logo_churn(&self) -> Option<f64> {
        (self.accounts > 0).then(|| self.churned_accounts as f64 / self.accounts as f64)
    }

    pub fn revenue_churn(&self) -> Option<f64> {
        (self.starting > 0).then(|| self.churn as f64 / self.starting as f64)
    }
}

/// A window of `months` whole months ending with `end` (its first day), for one segment
/// (the account's at the window's start) and team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WindowKey {
    pub months: i32,
    pub end: Date,
    pub segment: Segment,
    pub manager: Option<Uuid>,
}

/// `month`'s first day `n` months earlier.
pub fn months_before(month: Date, n: i32) -> Date {
    let index = month.year() * 12 + i32::from(u8::from(month.month())) - 1 - n;
    let month_number = u8::try_from(index.rem_euclid(12) + 1).unwrap_or(1);
    time::Month::try_from(month_number)
        .ok()
        .and_then(|m| Date::from_calendar_date(index.div_euclid(12), m, 1).ok())
        .unwrap_or(month)
}

/// Retention for each window length in `lengths` ending at each of `ends`.
pub fn windows(
    histories: &[History],
    ends: &[Date],
    lengths: &[i32],
) -> HashMap<WindowKey, Retention> {
    let mut out: HashMap<WindowKey, Retention> = HashMap::new();
    for h in histories {
        for &end in ends {
            for &months in lengths {
                let first = months_before(end, months - 1);
                let starting = h.start_of(first);
                if starting <= 0 {
                    continue;
                }
                let mut r = Retention {
                    accounts: 1,
                    churned_accounts: i64::from(h.end_of(end) == 0),
                    starting,
                    ..Retention::default()
                };
                let mut m = first;
                while m <= end {
                    if let Some(f) = h.at(m) {
                        r.expansion += f.expansion;
                        r.contraction += f.contraction;
                        r.churn += f.churn;
                    }
                    m = next_month(m);
                }
                let key = WindowKey {
                    months,
                    end,
                    segment: Segment::from_mrr(starting as f64 / 100.0),
                    manager: h.manager,
                };
                out.entry(key).or_default().add(&r);
            }
        }
    }
    out
}

/// The book's movements in one month, for one segment and team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MonthKey {
    pub month: Date,
    pub segment: Segment,
    pub manager: Option<Uuid>,
}

/// Sums of accounts' monthly facts (and how many accounts paid at the start and end).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonthSums {
    pub accounts_start: i64,
    pub accounts_end: i64,
    pub facts: MonthFacts,
}

/// Every month's movements, by segment (at the month's start, else its end) and team.
pub fn monthly_sums(histories: &[History]) -> HashMap<MonthKey, MonthSums> {
    let mut out: HashMap<MonthKey, MonthSums> = HashMap::new();
    for h in histories {
        for f in &h.months {
            let Some(month) = f.month else { continue };
            let basis = if f.start > 0 {
                f.start
            } else {
                f.end.max(f.new + f.reactivation)
            };
            let s = out
                .entry(MonthKey {
                    month,
                    segment: Segment::from_mrr(basis as f64 / 100.0),
                    manager: h.manager,
                })
                .or_default();
            s.accounts_start += i64::from(f.start > 0);
            s.accounts_end += i64::from(f.end > 0);
            let t = &mut s.facts;
            t.start += f.start;
            t.new += f.new;
            t.expansion += f.expansion;
            t.contraction += f.contraction;
            t.churn += f.churn;
            t.reactivation += f.reactivation;
            t.end += f.end;
        }
    }
    out
}

/// Accounts by the month they first paid and their segment then, `age` months on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CohortKey {
    pub cohort: Date,
    pub age: i32,
    pub segment: Segment,
    pub manager: Option<Uuid>,
}

/// Of a cohort: how many accounts, how many still paying, their MRR then and now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CohortCell {
    pub accounts: i64,
    pub retained: i64,
    pub base_mrr: i64,
    pub mrr: i64,
}

impl CohortCell {
    pub fn add(&mut self, o: &CohortCell) {
        self.accounts += o.accounts;
        self.retained += o.retained;
        self.base_mrr += o.base_mrr;
        self.mrr += o.mrr;
    }
}

/// Every cohort's retention at each age up to `last` (a month's first day).
pub fn cohorts(histories: &[History], last: Date) -> HashMap<CohortKey, CohortCell> {
    let mut out: HashMap<CohortKey, CohortCell> = HashMap::new();
    for h in histories {
        let Some(first) = h.months.iter().find(|f| f.new > 0) else {
            continue;
        };
        let Some(cohort) = first.month else { continue };
        let base = first.end.max(first.new);
        let segment = Segment::from_mrr(base as f64 / 100.0);
        let (mut month, mut age) = (cohort, 0);
        while month <= last {
            let mrr = h.end_of(month);
            let cell = out
                .entry(CohortKey {
                    cohort,
                    age,
                    segment,
                    manager: h.manager,
                })
                .or_default();
            cell.accounts += 1;
            cell.retained += i64::from(mrr > 0);
            cell.base_mrr += base;
            cell.mrr += mrr;
            month = next_month(month);
            age += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::revenue::movements::{Line, monthly};

    fn history(lines: &[(Date, Date, i64)]) -> History {
        let lines: Vec<Line> = lines
            .iter()
            .map(|&(start, end, dollars)| Line {
                start,
                end,
                mrr_cents: dollars * 100,
            })
            .collect();
        History {
            manager: None,
            months: monthly(&lines, date!(2026 - 06 - 30)),
        }
    }

    #[test]
    fn nrr_and_grr_count_only_the_accounts_paying_at_the_start() {
        let far = date!(2027 - 01 - 01);
        let book = [
            // $100, expands to $150 in May.
            history(&[
                (date!(2025 - 12 - 01), date!(2026 - 05 - 01), 100),
                (date!(2026 - 05 - 01), far, 150),
            ]),
            // $200, contracts to $150 in April.
            history(&[
                (date!(2025 - 11 - 01), date!(2026 - 04 - 10), 200),
                (date!(2026 - 04 - 10), far, 150),
            ]),
            // $100, churns in June.
            history(&[(date!(2026 - 01 - 01), date!(2026 - 06 - 01), 100)]),
            // New in May: outside NRR.
            history(&[(date!(2026 - 05 - 01), far, 500)]),
        ];
        let june = date!(2026 - 06 - 01);
        let w = windows(&book, &[june], &[3]);
        let mut total = Retention::default();
        for r in w.values() {
            total.add(r);
        }
        assert_eq!(
            total,
            Retention {
                accounts: 3,
                churned_accounts: 1,
                starting: 40_000,
                expansion: 5_000,
                contraction: 5_000,
                churn: 10_000,
            }
        );
        assert_eq!(total.nrr(), Some(0.75));
        assert_eq!(total.grr(), Some(0.625));
        assert_eq!(total.logo_churn(), Some(1.0 / 3.0));
        assert_eq!(total.revenue_churn(), Some(0.25));
        // By segment at the window's start: all three were SMB-sized ($100–$200).
        assert!(
            w.keys()
                .all(|k| k.segment == Segment::SelfServe || k.segment == Segment::Smb)
        );
    }

    #[test]
    fn cohorts_follow_accounts_from_their_first_month() {
        let far = date!(2027 - 01 - 01);
        let book = [
            history(&[(date!(2026 - 01 - 15), far, 300)]),
            history(&[(date!(2026 - 01 - 02), date!(2026 - 03 - 01), 300)]),
        ];
        let c = cohorts(&book, date!(2026 - 04 - 01));
        let cell = |age| {
            c.iter()
                .filter(|(k, _)| k.cohort == date!(2026 - 01 - 01) && k.age == age)
                .fold(CohortCell::default(), |mut acc, (_, v)| {
                    acc.add(v);
                    acc
                })
        };
        assert_eq!(
            cell(0),
            CohortCell {
                accounts: 2,
                retained: 2,
                base_mrr: 60_000,
                mrr: 60_000
            }
        );
        assert_eq!(cell(1).retained, 2);
        assert_eq!(
            cell(2),
            CohortCell {
                accounts: 2,
                retained: 1,
                base_mrr: 60_000,
                mrr: 30_000
            }
        );
        assert_eq!(cell(3).retained, 1);
    }

    #[test]
    fn months_before_crosses_years() {
        assert_eq!(
            months_before(date!(2026 - 02 - 01), 11),
            date!(2025 - 03 - 01)
        );
        assert_eq!(
            months_before(date!(2026 - 01 - 01), 1),
            date!(2025 - 12 - 01)
        );
        assert_eq!(
            months_before(date!(2026 - 06 - 01), 0),
            date!(2026 - 06 - 01)
        );
    }
}
