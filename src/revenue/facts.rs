//! Preparing the revenue facts: every account's monthly movements from its subscription
//! lines, retention over 1-, 3- and 12-month windows ending in each of the last 24 months,
//! and cohorts, written in one transaction so the dashboard reads a consistent set.

use std::collections::HashMap;

use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use super::db;
use super::movements::{Line, MonthFacts, month_of, monthly};
use super::windows::{
    CohortCell, CohortKey, History, cohorts, monthly_sums, months_before, windows,
};
use crate::{accounts, ingest, scores};

/// How long after a score the dashboard looks at what became of its accounts.
pub const HORIZONS: [i64; 2] = [crate::features::HORIZON_DAYS, 90];

/// Months of window ends kept (two years).
const ENDS: i32 = 24;

/// What a refresh prepared.
#[derive(Debug)]
pub struct Refreshed {
    /// The day the facts stand on: the day asked for, or the export's last billed day if
    /// billing ends before it.
    pub as_of: Date,
    pub accounts: usize,
    pub account_months: usize,
}

/// Recomputes every revenue fact as of `as_of` (the last day whose billing counts), or as of
/// the export's last billed day if billing ends earlier: a day past the export is a day the
/// billing system has not yet told, not a day every customer left.
pub async fn refresh(pool: &PgPool, as_of: Date) -> anyhow::Result<Refreshed> {
    let (lines, teams, churned) = tokio::try_join!(
        ingest::db::subscription_lines(pool),
        accounts::db::teams(pool),
        accounts::db::churn_dates(pool)
    )?;
    let as_of = billed_through(lines.iter().map(|l| (l.1, l.2)), as_of);
    // Both read the scores: what became of past bands, and every view's curves and rates.
    let (outcomes, views) = tokio::try_join!(
        band_outcomes(pool, as_of, &teams, &churned),
        super::views::prepare(pool, as_of, &teams, &churned)
    )?;
    let (months, sums, windows, cohorts, accounts) = tokio::task::spawn_blocking(move || {
        let mut by_account: HashMap<Uuid, Vec<Line>> = HashMap::new();
        for (account, start, end, mrr_cents) in lines {
            by_account.entry(account).or_default().push(Line {
                start,
                end,
                mrr_cents,
            });
        }
        let mut rows: Vec<(Uuid, MonthFacts)> = Vec::new();
        let mut histories = Vec::with_capacity(by_account.len());
        for (account, lines) in &by_account {
            let months = monthly(lines, as_of);
            rows.extend(months.iter().map(|m| (*account, *m)));
            histories.push(History {
                manager: teams.get(account).copied().flatten(),
                months,
            });
        }
        let last = month_of(as_of);
        let ends: Vec<Date> = (0..ENDS).map(|n| months_before(last, n)).collect();
        // The window lengths the dashboard offers (its monthly trend is the 1-month one).
        let lengths = super::dashboard::WINDOWS.map(|w| w.1);
        let windows: Vec<_> = windows(&histories, &ends, &lengths).into_iter().collect();
        let cohorts = with_every_team(cohorts(&histories, last));
        let sums: Vec<_> = monthly_sums(&histories).into_iter().collect();
        (rows, sums, windows, cohorts, by_account.len())
    })
    .await?;
    let mut tx = pool.begin().await?;
    db::replace_months(&mut tx, &months).await?;
    db::replace_monthly(&mut tx, &sums).await?;
    db::replace_band_outcomes(&mut tx, &outcomes).await?;
    db::replace_views(&mut tx, &views).await?;
    db::replace_windows(&mut tx, &windows).await?;
    db::replace_cohorts(&mut tx, &cohorts).await?;
    db::record_refresh(&mut *tx, as_of, accounts as i64).await?;
    tx.commit().await?;
    db::compact(pool).await?;
    Ok(Refreshed {
        as_of,
        accounts,
        account_months: months.len(),
    })
}

/// `as_of`, or the day before the last line's end (ends are exclusive) if no line runs on it.
fn billed_through(lines: impl Iterator<Item = (Date, Date)>, as_of: Date) -> Date {
    lines
        .filter(|(start, end)| end > start)
        .map(|(_, end)| end.previous_day().unwrap_or(end))
        .max()
        .map_or(as_of, |last| last.min(as_of))
}

/// One row of `revenue_band_outcomes`: horizon, score day, grouping, value, segment, team,
/// accounts, churned.
pub type BandOutcome = (
    i64,
    Date,
    &'static str,
    String,
    String,
    Option<Uuid>,
    i64,
    i64,
);

/// Grouping ("band" or "tier"), its value, segment, team.
type OutcomeKey = (&'static str, String, String, Option<Uuid>);

/// What became of the accounts scored 60 and 90 days before `as_of`, by band and tier.
async fn band_outcomes(
    pool: &PgPool,
    as_of: Date,
    teams: &HashMap<Uuid, Option<Uuid>>,
    churned: &HashMap<Uuid, Date>,
) -> anyhow::Result<Vec<BandOutcome>> {
    let mut out = Vec::new();
    for horizon in HORIZONS {
        let target = as_of - time::Duration::days(horizon);
        let Some(day) = scores::reads::scored_on_or_before(pool, target).await? else {
            continue;
        };
        let mut sums: HashMap<OutcomeKey, (i64, i64)> = HashMap::new();
        for (account, segment, band, tier) in scores::reads::day_bands(pool, day).await? {
            let lost = churned
                .get(&account)
                .is_some_and(|d| *d > day && *d <= as_of);
            let team = teams.get(&account).copied().flatten();
            let groups = [("band", Some(band)), ("tier", tier)];
            for (grouping, value) in groups {
                let Some(value) = value else { continue };
                let s = sums
                    .entry((grouping, value, segment.clone(), team))
                    .or_default();
                s.0 += 1;
                s.1 += i64::from(lost);
            }
        }
        out.extend(
            sums.into_iter()
                .map(|((g, v, seg, team), (n, c))| (horizon, day, g, v, seg, team, n, c)),
        );
    }
    Ok(out)
}

/// The cohort cells per team, then the same summed over every team (per segment).
fn with_every_team(cells: HashMap<CohortKey, CohortCell>) -> Vec<(CohortKey, CohortCell, bool)> {
    let mut every: HashMap<CohortKey, CohortCell> = HashMap::new();
    for (k, c) in &cells {
        every
            .entry(CohortKey {
                manager: None,
                ..*k
            })
            .or_default()
            .add(c);
    }
    cells
        .into_iter()
        .map(|(k, c)| (k, c, false))
        .chain(every.into_iter().map(|(k, c)| (k, c, true)))
        .collect()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::billed_through;

    #[test]
    fn a_day_past_the_export_reads_as_its_last_billed_day() {
        let lines = [
            (date!(2026 - 01 - 01), date!(2026 - 07 - 01)),
            (date!(2026 - 03 - 01), date!(2026 - 06 - 01)),
        ];
        let through = |day| billed_through(lines.into_iter(), day);
        assert_eq!(through(date!(2026 - 07 - 01)), date!(2026 - 06 - 30));
        assert_eq!(through(date!(2026 - 09 - 15)), date!(2026 - 06 - 30));
        assert_eq!(through(date!(2026 - 06 - 30)), date!(2026 - 06 - 30));
        assert_eq!(through(date!(2026 - 05 - 10)), date!(2026 - 05 - 10));
        assert_eq!(
            billed_through(std::iter::empty(), date!(2026 - 05 - 10)),
            date!(2026 - 05 - 10),
            "no billing at all: the day asked for"
        );
    }
}
