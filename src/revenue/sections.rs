//! The dashboard's sections that need more than a sum: what the bands predicted, the
//! cohort heatmap, and survival curves by band.

use std::collections::{BTreeMap, HashMap};

use sqlx::PgPool;
use time::Date;

use super::dashboard::{BandRow, HeatRow};
use super::views::{BANDS, Curve, Test};
use crate::web::charts::revenue::{self as charts, SurvivalChart};
use crate::web::format::{month_label, percent};

pub(super) fn band_rows(
    outcomes: &[(i32, Date, String, String, i64, i64)],
) -> (Vec<BandRow>, Vec<String>) {
    let mut naive: BTreeMap<i32, (Date, i64, i64)> = BTreeMap::new();
    // Worst first within each horizon and grouping: red, yellow, green; high, medium, low.
    let rank = |v: &str| match v {
        "red" | "high" => 0,
        "yellow" | "medium" => 1,
        _ => 2,
    };
    let mut outcomes = outcomes.to_vec();
    outcomes.sort_by_key(|(h, _, g, v, _, _)| (*h, g.clone(), rank(v)));
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
                value: {
                    let mut chars = value.chars();
                    chars
                        .next()
                        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
                },
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
        by_age.entry(*age).or_default().add(c);
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

/// Kaplan–Meier by health band, as the refresh prepared it for this view.
pub(super) fn survival_chart(
    view: Option<&super::read::ViewRow>,
) -> (Option<SurvivalChart>, String, Vec<[String; 5]>) {
    let Some(v) = view else {
        return (
            None,
            "No scores old enough to follow yet.".into(),
            Vec::new(),
        );
    };
    let curves: Vec<Curve> = serde_json::from_value(v.curves.clone()).unwrap_or_default();
    let (Some(day), Some(horizon)) = (v.score_day, v.horizon_days) else {
        return (
            None,
            "No scores old enough to follow yet.".into(),
            Vec::new(),
        );
    };
    let rows = curves
        .iter()
        .flat_map(|c| {
            c.steps.iter().map(|(t, s, lo, hi)| {
                [
                    c.band.clone(),
                    format!("{t:.0}"),
                    format!("{s:.4}"),
                    format!("{lo:.4}"),
                    format!("{hi:.4}"),
                ]
            })
        })
        .collect();
    let test: Option<Test> = v
        .log_rank
        .clone()
        .and_then(|t| serde_json::from_value(t).ok());
    let mut note =
        format!("Accounts by the health band they were given on {day}, followed {horizon} days.");
    if let Some(t) = test {
        note.push_str(&format!(
            " Log-rank across bands: χ² = {:.1} on {} df, p {}.",
            t.chi_squared,
            t.df,
            if t.p_value < 0.001 {
                "< 0.001".to_owned()
            } else {
                format!("= {:.3}", t.p_value)
            }
        ));
    }
    let data: Vec<charts::CurveData> = curves
        .iter()
        .filter_map(|c| {
            let class = BANDS.iter().find(|b| **b == c.band)?;
            Some((
                format!("{} ({} accounts)", c.band, c.accounts),
                *class,
                c.steps.clone(),
            ))
        })
        .collect();
    (
        (!data.is_empty()).then(|| {
            charts::survival(
                "Share of accounts still customers, by health band",
                f64::from(horizon),
                &data,
            )
        }),
        note,
        rows,
    )
}

/// The production model's lift in each tenth of accounts ranked by predicted risk, against
/// the base rate, from its walk-forward validation.
pub(super) async fn lift_chart(
    pool: &PgPool,
) -> anyhow::Result<(
    Option<crate::web::charts::BarChart>,
    String,
    Vec<[String; 2]>,
)> {
    let Some(report) = crate::model::registry::production_report(pool).await? else {
        return Ok((None, "No churn model in production yet.".into(), Vec::new()));
    };
    if report.lift.is_empty() {
        return Ok((
            None,
            "The production model has no lift figures.".into(),
            Vec::new(),
        ));
    }
    let rows = report
        .lift
        .iter()
        .enumerate()
        .map(|(i, l)| [format!("{}", i + 1), format!("{l:.2}")])
        .collect();
    let note = format!(
        "The riskiest tenth churned at {:.1}× the base rate of {} (1× is no better than chance), on the model's walk-forward test folds.",
        report.lift[0],
        percent(Some(report.baseline_rate))
    );
    Ok((
        Some(crate::web::charts::lift(
            "Lift by decile of predicted risk (1 = riskiest tenth)",
            &report.lift,
        )),
        note,
        rows,
    ))
}

/// Of the accounts flagged at risk 60 to 240 days before the refresh, the share still
/// customers 60 days after their flag, against the sources' 35 % target.
pub(super) fn save_rate(view: Option<&super::read::ViewRow>) -> String {
    match view {
        Some(v) if v.saves_flagged > 0 => format!(
            "Save rate: {} of {} accounts flagged at risk 60 to 240 days ago were still customers 60 days later ({}; the sources' target is 35 %); {} were contacted within 14 days of their flag.",
            v.saves_retained,
            v.saves_flagged,
            percent(Some(v.saves_retained as f64 / v.saves_flagged as f64)),
            v.saves_contacted
        ),
        _ => "No account flagged at risk 60 to 240 days ago yet.".into(),
    }
}
