//! What `keel train`, `keel model evaluate` and `keel pipeline run` print.

use std::io::Write;

use crate::model::evaluate::Evaluation;
use crate::model::metrics::Report;
use crate::model::screen::Verdict;
use crate::model::train::Algorithm;

pub(super) fn print_training(t: &crate::model::training::Trained) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Trained on {} snapshot rows from {} dates in {:.1} s (walk-forward, pooled test folds):",
        t.rows, t.dates, t.seconds
    )?;
    for (id, algorithm, r, objections) in &t.versions {
        writeln!(out, "{}  [{id}]", algorithm_line(*algorithm, r))?;
        for o in objections {
            writeln!(out, "      not fit for production: {o}")?;
        }
    }
    for (feature, why) in &t.unused {
        writeln!(
            out,
            "  left out {feature}: {why}, it adds nothing to either model"
        )?;
    }
    let kept: Vec<&str> = t
        .screened
        .iter()
        .filter(|s| s.verdict == Verdict::Kept)
        .map(|s| s.feature.as_str())
        .collect();
    writeln!(
        out,
        "  event-type candidates: {} of {} kept{}{}",
        kept.len(),
        t.screened.len(),
        if kept.is_empty() { "" } else { ": " },
        kept.join(", ")
    )?;
    writeln!(out, "  {}", t.outcome())?;
    Ok(())
}

pub(super) fn print_evaluation(e: &Evaluation) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} rows, {} feature columns ({} numeric, {} categorical), churn rate {:.3}; {}",
        e.rows,
        e.numeric + e.categorical,
        e.numeric,
        e.categorical,
        e.churn_rate,
        e.mode
    )?;
    writeln!(
        out,
        "  {} model inputs: {}",
        e.features.len(),
        e.features.join(", ")
    )?;
    for (algorithm, v) in &e.results {
        writeln!(out, "{}", algorithm_line(*algorithm, &v.overall))?;
        for fold in &v.folds {
            writeln!(out, "      {}", fold.summary())?;
        }
    }
    Ok(())
}

/// One model's validation, as `keel train` and `keel model evaluate` print it.
fn algorithm_line(algorithm: Algorithm, report: &Report) -> String {
    format!("  {:<24} {}", algorithm.as_str(), report.summary())
}

pub(super) fn print_run(o: &crate::pipeline::Outcome) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Pipeline run {}: {}",
        o.run_id,
        if o.succeeded { "succeeded" } else { "FAILED" }
    )?;
    for s in &o.stages {
        writeln!(
            out,
            "  [{:<7}] {:<16} {:>6} ms  {}",
            s.status, s.name, s.millis, s.detail
        )?;
    }
    Ok(())
}
