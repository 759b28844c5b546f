//! Monthly recurring revenue per account, and what moved it.
//!
//! An account's MRR on a day is the sum of its subscription lines in force that day (a line
//! runs from `period_start` up to, not including, `period_end`), so add-ons add up and a
//! mid-month change takes effect on its day. Every change of an account's MRR is one
//! movement on its day:
//! - from nothing to something: **new** the first time, **reactivation** after a churn;
//! - from something to nothing: **churn** (the whole MRR lost);
//! - up: **expansion**; down: **contraction** (by the difference).
//!
//! A month's facts are its starting MRR (in force the day before its first day), its
//! movements (changes on its days, up to `as_of` for the current month) and its ending MRR,
//! so that start + new + expansion + reactivation − contraction − churn = end, exactly.

use std::collections::BTreeMap;

use time::{Date, Month};

/// One subscription line: MRR in cents from `start` up to `end` (exclusive).
#[derive(Clone, Copy, Debug)]
pub struct Line {
    pub start: Date,
    pub end: Date,
    pub mrr_cents: i64,
}

/// One account-month of revenue, in cents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonthFacts {
    /// First day of the month.
    pub month: Option<Date>,
    pub start: i64,
    pub new: i64,
    pub expansion: i64,
    pub contraction: i64,
    pub churn: i64,
    pub reactivation: i64,
    pub end: i64,
}

impl MonthFacts {
    /// Whether start + movements = end (always true for what `monthly` returns).
    pub fn reconciles(&self) -> bool {
        self.start + self.new + self.expansion + self.reactivation - self.contraction - self.churn
            == self.end
    }
}

/// The first day of `d`'s month.
pub fn month_of(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

/// The first day of the month after `month`'s.
pub fn next_month(month: Date) -> Date {
    let (y, m) = match month.month() {
        Month::December => (month.year() + 1, Month::January),
        m => (month.year(), m.next()),
    };
    Date::from_calendar_date(y, m, 1).unwrap_or(month)
}

/// The account's MRR changes up to and including `as_of`: (day, MRR from that day on).
fn changes(lines: &[Line], as_of: Date) -> Vec<(Date, i64)> {
    let mut deltas: BTreeMap<Date, i64> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.end > l.start) {
        *deltas.entry(l.start).or_default() += l.mrr_cents;
        *deltas.entry(l.end).or_default() -= l.mrr_cents;
    }
    let mut mrr = 0;
    let mut out = Vec::new();
    for (day, delta) in deltas.range(..=as_of) {
        if *delta != 0 {
            mrr += delta;
            out.push((*day, mrr));
        }
    }
    out
}

/// The account's facts for every month from its first change up to `as_of`'s month, the
/// months it had no MRR and no movement left out.
pub fn monthly(lines: &[Line], as_of: Date) -> Vec<MonthFacts> {
    let changes = changes(lines, as_of);
    let Some(&(first, _)) = changes.first() else {
        return Vec::new();
    };
    let last = month_of(as_of);
    let mut out = Vec::new();
    let mut month = month_of(first);
    let mut mrr = 0;
    let mut ever = false;
    let mut i = 0;
    while month <= last {
        let mut f = MonthFacts {
            month: Some(month),
            start: mrr,
            ..MonthFacts::default()
        };
        let next = next_month(month);
        while let Some(&(day, now)) = changes.get(i).filter(|c| c.0 < next) {
            debug_assert!(day >= month);
            match (mrr, now) {
                (0, n) if n > 0 && ever => f.reactivation += n,
                (0, n) if n > 0 => f.new += n,
                (p, 0) => f.churn += p,
                (p, n) if n > p => f.expansion += n - p,
                (p, n) => f.contraction += p - n,
            }
            ever |= now > 0;
            mrr = now;
            i += 1;
        }
        f.end = mrr;
        if f != (MonthFacts {
            month: Some(month),
            ..MonthFacts::default()
        }) {
            out.push(f);
        }
        month = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn line(start: Date, end: Date, dollars: i64) -> Line {
        Line {
            start,
            end,
            mrr_cents: dollars * 100,
        }
    }

    fn facts(f: &MonthFacts) -> [i64; 7] {
        [
            f.start,
            f.new,
            f.expansion,
            f.contraction,
            f.churn,
            f.reactivation,
            f.end,
        ]
        .map(|c| c / 100)
    }

    #[test]
    fn every_kind_of_movement_on_a_hand_built_history() {
        let as_of = date!(2026 - 06 - 20);
        // New on 10 January at $100; upgraded mid-February to $150 (a new line from the
        // 15th); an add-on of $20 from March; downgraded in April to one line of $120;
        // churned at the end of April; back on 5 June at $80.
        let lines = [
            line(date!(2026 - 01 - 10), date!(2026 - 02 - 15), 100),
            line(date!(2026 - 02 - 15), date!(2026 - 04 - 01), 150),
            line(date!(2026 - 03 - 01), date!(2026 - 04 - 01), 20),
            line(date!(2026 - 04 - 01), date!(2026 - 05 - 01), 120),
            line(date!(2026 - 06 - 05), date!(2026 - 07 - 05), 80),
        ];
        let months = monthly(&lines, as_of);
        let got: Vec<(Date, [i64; 7])> = months
            .iter()
            .map(|f| (f.month.unwrap(), facts(f)))
            .collect();
        //                         start new exp con churn react end
        assert_eq!(
            got,
            vec![
                (date!(2026 - 01 - 01), [0, 100, 0, 0, 0, 0, 100]),
                (date!(2026 - 02 - 01), [100, 0, 50, 0, 0, 0, 150]),
                (date!(2026 - 03 - 01), [150, 0, 20, 0, 0, 0, 170]),
                (date!(2026 - 04 - 01), [170, 0, 0, 50, 0, 0, 120]),
                (date!(2026 - 05 - 01), [120, 0, 0, 0, 120, 0, 0]),
                (date!(2026 - 06 - 01), [0, 0, 0, 0, 0, 80, 80]),
            ]
        );
        assert!(months.iter().all(MonthFacts::reconciles));
    }

    #[test]
    fn an_account_that_churns_in_its_first_month_is_new_and_churned_that_month() {
        let lines = [line(date!(2026 - 03 - 03), date!(2026 - 03 - 20), 40)];
        let months = monthly(&lines, date!(2026 - 05 - 01));
        assert_eq!(months.len(), 1, "nothing after March: {months:?}");
        assert_eq!(facts(&months[0]), [0, 40, 0, 0, 40, 0, 0]);
    }

    #[test]
    fn contiguous_renewals_and_annual_terms_are_no_movement() {
        // Monthly renewals at the same price, then an annual term at the same MRR.
        let lines = [
            line(date!(2026 - 01 - 01), date!(2026 - 02 - 01), 300),
            line(date!(2026 - 02 - 01), date!(2026 - 03 - 01), 300),
            line(date!(2026 - 03 - 01), date!(2027 - 03 - 01), 300),
        ];
        let months = monthly(&lines, date!(2026 - 05 - 31));
        assert_eq!(months.len(), 5);
        assert_eq!(facts(&months[0]), [0, 300, 0, 0, 0, 0, 300]);
        for f in &months[1..] {
            assert_eq!(facts(f), [300, 0, 0, 0, 0, 0, 300]);
        }
    }

    #[test]
    fn nothing_after_as_of_counts() {
        let lines = [
            line(date!(2026 - 01 - 01), date!(2026 - 06 - 01), 100),
            // Booked ahead: an upgrade from July.
            line(date!(2026 - 07 - 01), date!(2026 - 08 - 01), 200),
        ];
        let months = monthly(&lines, date!(2026 - 06 - 15));
        let last = months.last().unwrap();
        assert_eq!(last.month, Some(date!(2026 - 06 - 01)));
        assert_eq!(facts(last), [100, 0, 0, 0, 100, 0, 0]);
        assert!(months.iter().all(MonthFacts::reconciles));
    }

    #[test]
    fn months_roll_over_the_year() {
        assert_eq!(next_month(date!(2026 - 12 - 01)), date!(2027 - 01 - 01));
        assert_eq!(month_of(date!(2026 - 12 - 31)), date!(2026 - 12 - 01));
    }
}
