//! An experiment's results as the pages show them: rows per variant and per comparison,
//! the survival chart, and the decision rule in words.

use super::db::Experiment;
use super::results::{INTERIM_P, Results};
use crate::stats::survival::Step;
use crate::web::charts::revenue::{self as charts, SurvivalChart};
use crate::web::format::{dollars, percent};

/// One variant's row of results, as shown.
pub struct ArmRow {
    pub name: String,
    pub playbook: String,
    pub allocation: i32,
    pub cells: Vec<String>,
}

/// One comparison with control, as shown.
pub struct VersusRow {
    pub name: String,
    pub cells: Vec<String>,
    pub significant: bool,
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

fn interval(i: Option<(f64, f64)>, points: bool) -> String {
    match i {
        Some((lo, hi)) if points => format!("{:+.1} to {:+.1} pts", lo * 100.0, hi * 100.0),
        Some((lo, hi)) => format!("{:.1}–{:.1} %", lo * 100.0, hi * 100.0),
        None => "—".into(),
    }
}

/// The results as rows, chart and words.
pub struct ResultsView {
    pub arms: Vec<ArmRow>,
    pub versus: Vec<VersusRow>,
    pub chart: Option<SurvivalChart>,
    pub log_rank: String,
    pub verdict: String,
    pub rule: String,
}

pub fn results_view(e: &Experiment, r: &Results) -> ResultsView {
    let arms = r
        .arms
        .iter()
        .map(|a| ArmRow {
            name: a.variant.name.clone(),
            playbook: a
                .variant
                .playbook
                .clone()
                .unwrap_or_else(|| "no play".into()),
            allocation: a.variant.allocation,
            cells: vec![
                a.assigned.to_string(),
                a.matured.to_string(),
                a.retained.to_string(),
                percent(a.retention),
                interval(a.interval, false),
                dollars(a.expansion_cents),
                a.nps_change
                    .map_or("—".into(), |(c, n)| format!("{c:+.1} ({n} answered)")),
                a.minutes_per_account
                    .map_or("—".into(), |m| format!("{m:.0} min")),
            ],
        })
        .collect();
    let versus = r
        .comparisons
        .iter()
        .map(|c| VersusRow {
            name: c.variant.clone(),
            significant: c.significant,
            cells: vec![
                c.difference
                    .map_or("—".into(), |d| format!("{:+.1} pts", d * 100.0)),
                interval(c.interval, true),
                c.test.map_or("too few for a test".into(), |(x, p)| {
                    format!("χ² = {x:.2}, p = {}", p_value(p))
                }),
                c.stratified.map_or("—".into(), |s| {
                    format!("OR {:.2}, p = {}", s.odds_ratio, p_value(s.p))
                }),
            ],
        })
        .collect();
    let classes = ["v0", "v1", "v2", "v3"];
    let data: Vec<charts::CurveData> = r
        .arms
        .iter()
        .enumerate()
        .filter(|(_, a)| a.assigned > 0)
        .map(|(i, a)| {
            (
                format!("{} ({})", a.variant.name, a.assigned),
                classes[i % classes.len()],
                a.curve.iter().map(Step::point).collect(),
            )
        })
        .collect();
    let days = r
        .arms
        .iter()
        .flat_map(|a| a.curve.iter().map(|s| s.time))
        .fold(f64::from(e.horizon_days), f64::max);
    let rule = if e.holdout_of.is_some() {
        format!(
            "A standing holdout is looked at continuously, so a difference counts only at p < {INTERIM_P} (the Haybittle–Peto boundary); the interval is shown either way."
        )
    } else {
        format!(
            "Fixed horizon with interim looks: before every account has had {} days after the end date, results are interim and count only at p < {INTERIM_P} (Haybittle–Peto); the final analysis tests each variant against control at α 0.05 shared equally among the variants (Bonferroni). This look: {}, threshold p < {}.",
            e.horizon_days,
            if r.final_look { "final" } else { "interim" },
            r.threshold
        )
    };
    ResultsView {
        arms,
        versus,
        chart: (!data.is_empty()).then(|| {
            charts::survival(
                "Share of accounts still customers, days after assignment, by variant",
                days,
                &data,
            )
        }),
        log_rank: r.log_rank.as_ref().map_or(String::new(), |t| {
            format!(
                "Log-rank across variants: χ² = {:.2} on {} df, p = {}.",
                t.chi_squared,
                t.df,
                p_value(t.p_value)
            )
        }),
        verdict: r.verdict.clone(),
        rule,
    }
}
