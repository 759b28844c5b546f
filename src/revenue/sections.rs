//! The dashboard's sections that need more than a sum: what the bands predicted, the
//! cohort heatmap, and survival curves by band.

use std::collections::{BTreeMap, HashMap};

use sqlx::PgPool;
use time::Date;

use super::dashboard::{BandRow, HeatRow};
use super::db::Filter;
use crate::stats::survival::{LogRank, Subject, kaplan_meier, log_rank};
use crate::web::charts::revenue::{self as charts, SurvivalChart};
use crate::web::format::{month_label, percent};
use crate::{accounts, scores};

pub(super) fn band_rows(
    outcomes: &[(i32, Date, String, String, i64, i64)],
) -> (Vec<BandRow>, Vec<String>) {
    let mut naive: BTreeMap<i32, (Date, i64, i64)> = BTreeMap::new();
    let rows = outcomes
        .iter()
        .map(|(h, day, grouping, value, n, churned)| {
            if grouping == "band" {
                let e = naive.entry(*h).or_insert((*day, 0, 0));
                e.1 += n;
                e.2 += churned;
            }
            BandRow {
                horizon: *h,
                day: day.to_string(),
                grouping: if grouping == "band" {
                    "Health band"
                } else {
                    "Risk tier"
                }
                .into(),
                value: value.clone(),
                accounts: *n,
                churned: *churned,
                rate: percent((*n > 0).then(|| *churned as f64 / *n as f64)),
            }
        })
        .collect();
    let naive = naive
        .into_iter()
        .map(|(h, (day, n, c))| {
            format!(
                "{h} days (scores of {day}): {} of all {n} accounts churned since, the naive rate every band is measured against",
                percent((n > 0).then(|| c as f64 / n as f64))
            )
        })
        .collect();
    (rows, naive)
}

/// Cohort rows (first paid month) by age, as logo or revenue retention, with the weighted
/// average row first.
pub(super) fn heatmap(
    cells: &[(Date, i32, super::windows::CohortCell)],
    revenue: bool,
) -> (Vec<HeatRow>, Vec<i32>) {
    let ages: Vec<i32> = {
        let max = cells.iter().map(|c| c.1).max().unwrap_or(-1);
        (0..=max).collect()
    };
    let share = |c: &super::windows::CohortCell| {
        if revenue {
            (c.base_mrr > 0).then(|| c.mrr as f64 / c.base_mrr as f64)
        } else {
            (c.accounts > 0).then(|| c.retained as f64 / c.accounts as f64)
        }
    };
    let cell = |s: Option<f64>| match s {
        Some(v) => (
            format!("{:.0} %", v * 100.0),
            format!("heat-{}", ((v.clamp(0.5, 1.0) - 0.5) * 20.0).round() as i32),
        ),
        None => (String::new(), String::new()),
    };
    let mut by_cohort: BTreeMap<Date, HashMap<i32, super::windows::CohortCell>> = BTreeMap::new();
    let mut by_age: HashMap<i32, super::windows::CohortCell> = HashMap::new();
    for (cohort, age, c) in cells {
        by_cohort.entry(*cohort).or_default().insert(*age, *c);
        let a = by_age.entry(*age).or_default();
        a.accounts += c.accounts;
        a.retained += c.retained;
        a.base_mrr += c.base_mrr;
        a.mrr += c.mrr;
    }
    let mut rows = vec![HeatRow {
        cohort: "All cohorts (weighted)".into(),
        size: by_age.get(&0).map_or(0, |c| c.accounts),
        cells: ages
            .iter()
            .map(|a| cell(by_age.get(a).and_then(share)))
            .collect(),
    }];
    rows.extend(by_cohort.iter().rev().map(|(cohort, ages_of)| {
        HeatRow {
            cohort: month_label(*cohort),
            size: ages_of.get(&0).map_or(0, |c| c.accounts),
            cells: ages
                .iter()
                .map(|a| cell(ages_of.get(a).and_then(share)))
                .collect(),
        }
    }));
    (rows, ages)
}

/// Kaplan–Meier by health band, from the scores of about 90 days ago (or the oldest kept):
/// days to churn, censored at the refresh day.
pub(super) async fn survival_chart(
    pool: &PgPool,
    as_of: Date,
    f: &Filter,
) -> anyhow::Result<(Option<SurvivalChart>, String)> {
    let target = as_of - time::Duration::days(90);
    let day = match scores::db::scored_on_or_before(pool, target).await? {
        Some(d) => Some(d),
        None => scores::db::earliest_day_since(pool, as_of - time::Duration::days(365)).await?,
    };
    let Some(day) = day.filter(|d| *d < as_of) else {
        return Ok((None, "No scores old enough to follow yet.".into()));
    };
    let (bands, teams, churned) = tokio::try_join!(
        scores::db::day_bands(pool, day),
        accounts::db::teams(pool),
        accounts::db::churn_dates(pool)
    )?;
    let horizon = (as_of - day).whole_days() as f64;
    let mut groups: BTreeMap<&str, Vec<Subject>> = BTreeMap::new();
    for (account, segment, band, _) in &bands {
        if f.segment.as_deref().is_some_and(|s| s != segment)
            || f.manager
                .is_some_and(|m| teams.get(account).copied().flatten() != Some(m))
        {
            continue;
        }
        let Some(key) = ["red", "yellow", "green"].into_iter().find(|b| b == band) else {
            continue;
        };
        let subject = match churned.get(account).filter(|d| **d > day && **d <= as_of) {
            Some(d) => Subject {
                time: (*d - day).whole_days() as f64,
                event: true,
            },
            None => Subject {
                time: horizon,
                event: false,
            },
        };
        groups.entry(key).or_default().push(subject);
    }
    let order = ["red", "yellow", "green"];
    let curves: Vec<charts::CurveData> = order
        .iter()
        .filter_map(|b| groups.get(b).map(|g| (*b, g)))
        .map(|(b, g)| {
            let steps = kaplan_meier(g)
                .iter()
                .map(|s| {
                    (
                        s.time,
                        s.survival,
                        s.lower.unwrap_or(s.survival),
                        s.upper.unwrap_or(s.survival),
                    )
                })
                .collect();
            (format!("{b} ({} accounts)", g.len()), b, steps)
        })
        .collect();
    let test: LogRank = log_rank(
        &order
            .iter()
            .filter_map(|b| groups.get(b).cloned())
            .collect::<Vec<_>>(),
    );
    let note = format!(
        "Accounts by the health band they were given on {day}, followed {horizon:.0} days. Log-rank across bands: χ² = {:.1} on {} df, p {}.",
        test.chi_squared,
        test.df,
        if test.p_value < 0.001 {
            "< 0.001".to_owned()
        } else {
            format!("= {:.3}", test.p_value)
        }
    );
    Ok((
        (!curves.is_empty()).then(|| {
            charts::survival(
                "Share of accounts still customers, by health band",
                horizon,
                &curves,
            )
        }),
        note,
    ))
}

/// The production model's lift in each tenth of accounts ranked by predicted risk, against
/// the base rate, from its walk-forward validation.
pub(super) async fn lift_chart(
    pool: &PgPool,
) -> anyhow::Result<(Option<crate::web::charts::BarChart>, String)> {
    let Some(report) = crate::model::registry::production_report(pool).await? else {
        return Ok((None, "No churn model in production yet.".into()));
    };
    if report.lift.is_empty() {
        return Ok((None, "The production model has no lift figures.".into()));
    }
    let deciles: Vec<(String, f64)> = report
        .lift
        .iter()
        .enumerate()
        .map(|(i, l)| (format!("{}", i + 1), *l))
        .collect();
    let note = format!(
        "The riskiest tenth churned at {:.1}× the base rate of {} (1× is no better than chance), on the model's walk-forward test folds.",
        report.lift[0],
        percent(Some(report.baseline_rate))
    );
    Ok((
        Some(crate::web::charts::bars(
            "Lift by decile of predicted risk (1 = riskiest tenth)",
            &deciles,
            |v| format!("{v:.1}× the base rate"),
        )),
        note,
    ))
}

/// Of the accounts flagged at risk 60 to 240 days ago, the share still customers 60 days
/// after their flag, against the sources' 35 % target.
pub(super) async fn save_rate(pool: &PgPool, as_of: Date, f: &Filter) -> anyhow::Result<String> {
    let r = crate::worklist::db::save_rate(pool, None, f.manager, as_of).await?;
    Ok(if r.flagged == 0 {
        "No account flagged at risk 60 to 240 days ago yet.".into()
    } else {
        format!(
            "Save rate: {} of {} accounts flagged at risk 60 to 240 days ago were still customers 60 days later ({}; the sources' target is 35 %); {} were contacted within 14 days of their flag.",
            r.retained,
            r.flagged,
            percent(Some(r.retained as f64 / r.flagged as f64)),
            r.contacted
        )
    })
}
