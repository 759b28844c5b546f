//! An experiment's results: per variant, retention at the horizon with its Wilson interval
//! and the secondary metrics; against control, the difference with Newcombe's interval, the
//! 'N−1' chi-squared test and the Cochran–Mantel–Haenszel test over the strata; Kaplan–Meier
//! curves per variant with the log-rank test; and the decision rule applied.

use std::collections::BTreeMap;

use time::Date;

use super::db::{Experiment, Outcome, Variant};
use crate::stats::proportions::{Cmh, Table, Z95, cmh, n_minus_1_chi2, newcombe, wilson};
use crate::stats::survival::{LogRank, Step, Subject, kaplan_meier, log_rank};

/// An interim look counts only below this p (Haybittle–Peto); the final one at α 0.05,
/// shared (Bonferroni) among the comparisons with control.
pub const INTERIM_P: f64 = 0.001;
pub const ALPHA: f64 = 0.05;

/// Curves follow accounts this many days at most.
const FOLLOW_DAYS: i64 = 180;

#[derive(Debug)]
pub struct Arm {
    pub variant: Variant,
    pub assigned: u64,
    pub matured: u64,
    pub retained: u64,
    pub retention: Option<f64>,
    pub interval: Option<(f64, f64)>,
    /// MRR added by matured, retained accounts over the horizon, in cents.
    pub expansion_cents: i64,
    /// Mean NPS change and how many accounts answered before and after.
    pub nps_change: Option<(f64, usize)>,
    pub minutes_per_account: Option<f64>,
    pub curve: Vec<Step>,
}

#[derive(Debug)]
pub struct Comparison {
    pub variant: String,
    /// The variant's retention minus control's, once both have matured accounts.
    pub difference: Option<f64>,
    pub interval: Option<(f64, f64)>,
    /// The N−1 chi-squared statistic and p; `None` when an expected count is below 1
    /// (Campbell 2007: too few for any large-sample test).
    pub test: Option<(f64, f64)>,
    pub stratified: Option<Cmh>,
    pub significant: bool,
}

#[derive(Debug)]
pub struct Results {
    pub arms: Vec<Arm>,
    pub comparisons: Vec<Comparison>,
    pub log_rank: Option<LogRank>,
    /// Whether every assigned account has matured past an ended assignment window.
    pub final_look: bool,
    /// The p a comparison must beat at this look.
    pub threshold: f64,
    pub minimum_reached: bool,
    pub verdict: String,
}

fn retained(o: &Outcome, horizon: i64) -> bool {
    o.churned_on
        .is_none_or(|c| (c - o.assigned_on).whole_days() > horizon)
}

fn matured(o: &Outcome, horizon: i64, today: Date) -> bool {
    (today - o.assigned_on).whole_days() >= horizon
}

/// The results of `e` as of `today`.
pub fn analyse(e: &Experiment, variants: &[Variant], outcomes: &[Outcome], today: Date) -> Results {
    let horizon = i64::from(e.horizon_days);
    let arms: Vec<Arm> = variants
        .iter()
        .map(|v| arm(v, outcomes, horizon, today))
        .collect();
    let final_look = e.holdout_of.is_none()
        && e.end_date
            .is_some_and(|end| (today - end).whole_days() >= horizon);
    let treatments = arms.len().saturating_sub(1).max(1) as f64;
    let threshold = if final_look {
        ALPHA / treatments
    } else {
        INTERIM_P
    };
    let comparisons: Vec<Comparison> = match arms.split_first() {
        Some((control, rest)) => rest
            .iter()
            .map(|t| compare(control, t, outcomes, horizon, today, threshold))
            .collect(),
        None => Vec::new(),
    };
    let groups: Vec<Vec<Subject>> = variants
        .iter()
        .map(|v| {
            outcomes
                .iter()
                .filter(|o| o.variant_id == v.id)
                .map(|o| subject(o, today))
                .collect()
        })
        .collect();
    let log_rank = (groups.iter().filter(|g| !g.is_empty()).count() > 1).then(|| log_rank(&groups));
    let minimum_reached = arms
        .iter()
        .all(|a| a.matured >= e.min_per_variant.max(0) as u64);
    let verdict = verdict(
        e,
        &arms,
        &comparisons,
        final_look,
        threshold,
        minimum_reached,
    );
    Results {
        arms,
        comparisons,
        log_rank,
        final_look,
        threshold,
        minimum_reached,
        verdict,
    }
}

fn subject(o: &Outcome, today: Date) -> Subject {
    let followed = (today - o.assigned_on).whole_days().min(FOLLOW_DAYS);
    match o.churned_on.map(|c| (c - o.assigned_on).whole_days()) {
        Some(t) if t <= followed => Subject {
            time: t.max(0) as f64,
            event: true,
        },
        _ => Subject {
            time: followed.max(0) as f64,
            event: false,
        },
    }
}

fn arm(v: &Variant, outcomes: &[Outcome], horizon: i64, today: Date) -> Arm {
    let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.variant_id == v.id).collect();
    let ripe: Vec<&&Outcome> = mine.iter().filter(|o| matured(o, horizon, today)).collect();
    let kept = ripe.iter().filter(|o| retained(o, horizon)).count() as u64;
    let (matured_n, assigned) = (ripe.len() as u64, mine.len() as u64);
    let expansion_cents = ripe
        .iter()
        .filter(|o| retained(o, horizon))
        .filter_map(|o| Some((o.mrr_after? - o.mrr_before?).max(0)))
        .sum();
    let changes: Vec<f64> = mine
        .iter()
        .filter_map(|o| Some(o.nps_after? - o.nps_before?))
        .collect();
    let minutes: i64 = mine.iter().map(|o| o.minutes).sum();
    Arm {
        variant: v.clone(),
        assigned,
        matured: matured_n,
        retained: kept,
        retention: (matured_n > 0).then(|| kept as f64 / matured_n as f64),
        interval: wilson(kept, matured_n, Z95),
        expansion_cents,
        nps_change: (!changes.is_empty()).then(|| {
            (
                changes.iter().sum::<f64>() / changes.len() as f64,
                changes.len(),
            )
        }),
        minutes_per_account: (assigned > 0).then(|| minutes as f64 / assigned as f64),
        curve: kaplan_meier(&mine.iter().map(|o| subject(o, today)).collect::<Vec<_>>()),
    }
}

fn compare(
    control: &Arm,
    t: &Arm,
    outcomes: &[Outcome],
    horizon: i64,
    today: Date,
    threshold: f64,
) -> Comparison {
    let (x1, n1, x2, n2) = (t.retained, t.matured, control.retained, control.matured);
    let table = Table::of(x1, n1, x2, n2);
    let n = (n1 + n2) as f64;
    let (kept, lost) = ((x1 + x2) as f64, (n1 + n2 - x1 - x2) as f64);
    let smallest_expected = [n1 as f64, n2 as f64]
        .iter()
        .flat_map(|row| [row * kept / n, row * lost / n])
        .fold(f64::INFINITY, f64::min);
    let test = (smallest_expected >= 1.0)
        .then(|| n_minus_1_chi2(table))
        .flatten();
    // Per stratum: this variant against control, matured accounts only.
    let mut strata: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
    for o in outcomes.iter().filter(|o| matured(o, horizon, today)) {
        let k = if o.variant_id == t.variant.id {
            0
        } else if o.variant_id == control.variant.id {
            2
        } else {
            continue;
        };
        let cell = strata.entry(o.stratum.as_str()).or_default();
        cell[k + 1] += 1;
        if retained(o, horizon) {
            cell[k] += 1;
        }
    }
    let tables: Vec<Table> = strata
        .values()
        .map(|c| Table::of(c[0], c[1], c[2], c[3]))
        .collect();
    let difference = t.retention.zip(control.retention).map(|(a, b)| a - b);
    Comparison {
        variant: t.variant.name.clone(),
        difference,
        interval: newcombe(x1, n1, x2, n2, Z95),
        test,
        stratified: cmh(&tables, false),
        significant: test.is_some_and(|(_, p)| p < threshold),
    }
}

fn verdict(
    e: &Experiment,
    arms: &[Arm],
    comparisons: &[Comparison],
    final_look: bool,
    threshold: f64,
    minimum_reached: bool,
) -> String {
    let winners: Vec<String> = comparisons
        .iter()
        .filter(|c| c.significant)
        .map(|c| {
            let d = c.difference.unwrap_or(0.0);
            format!(
                "'{}' {} retention by {:.1} points",
                c.variant,
                if d > 0.0 { "raises" } else { "lowers" },
                d.abs() * 100.0
            )
        })
        .collect();
    let matured: u64 = arms.iter().map(|a| a.matured).sum();
    let look = if final_look {
        "Final analysis"
    } else {
        "Interim look"
    };
    if matured == 0 {
        return format!(
            "No account has reached {} days yet: nothing to compare.",
            e.horizon_days
        );
    }
    let mut out = if winners.is_empty() {
        format!(
            "{look}: no difference from control passes p < {threshold}. {}",
            if final_look {
                "The experiment found no effect it could detect."
            } else {
                "Keep going."
            }
        )
    } else {
        format!("{look}: {} (p < {threshold}).", winners.join("; "))
    };
    if !minimum_reached {
        out.push_str(&format!(
            " The minimum of {} matured accounts per variant is not reached yet.",
            e.min_per_variant
        ));
    }
    out
}
