//! The daily run's monitoring stage: what `monitor` measures, stored with the run's day, and
//! the alerts it raises (recorded once, emailed to analysts through the outbox).

use serde_json::json;
use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use super::db;
use super::{alerts, monitor, registry};
use crate::features::{FEATURES, FeatureTable};

/// Measures drift, matured-label AUC by week and the spread of today's `probabilities`,
/// stores it for run `run_id`, records alerts, and returns the stage's status and summary.
/// `matured`: (ISO week, probability, churned within the horizon, label seen in training).
pub async fn record(
    pool: &PgPool,
    day: Date,
    run_id: i64,
    table: &FeatureTable,
    probabilities: &[f64],
    model: Option<Uuid>,
    matured: &[(String, f64, bool, bool)],
) -> anyhow::Result<(&'static str, String)> {
    let mut alerts = Vec::new();
    let reference = match model {
        Some(id) => registry::reference(pool, id).await?,
        None => None,
    };
    let drift: Vec<(&str, f64)> = reference
        .unwrap_or_default()
        .iter()
        .zip(FEATURES)
        .enumerate()
        .map(|(j, (bins, feature))| {
            let column: Vec<f64> = table.rows.iter().map(|r| r[j]).collect();
            (feature, bins.psi(&column))
        })
        .collect();
    for (feature, psi) in &drift {
        if *psi > monitor::PSI_ALERT {
            alerts.push(alerts::Alert {
                kind: "drift",
                subject: (*feature).to_owned(),
                message: format!(
                    "{} has drifted from its training distribution: PSI {psi:.3} (alert above {})",
                    crate::features::label(feature),
                    monitor::PSI_ALERT
                ),
                value: Some(*psi),
                threshold: Some(monitor::PSI_ALERT),
            });
        }
    }
    let mut weeks: Vec<monitor::Week> = Vec::new();
    for chunk in matured.chunk_by(|a, b| a.0 == b.0) {
        let p: Vec<f64> = chunk.iter().map(|r| r.1).collect();
        let y: Vec<bool> = chunk.iter().map(|r| r.2).collect();
        let in_sample = chunk.iter().any(|r| r.3);
        weeks.push(monitor::week(chunk[0].0.clone(), &p, &y, in_sample));
    }
    if monitor::auc_alert(&weeks) {
        alerts.push(alerts::Alert {
            kind: "auc",
            subject: "model".to_owned(),
            message: format!(
                "AUC on matured labels has been below {} for two weeks running",
                monitor::AUC_ALERT
            ),
            value: weeks.last().and_then(|w| w.auc),
            threshold: Some(monitor::AUC_ALERT),
        });
    }
    let monitoring = json!({
        "model": model,
        "drift": drift.iter().map(|(f, psi)| json!({"feature": f, "psi": psi})).collect::<Vec<_>>(),
        "weeks": weeks,
        "histogram": monitor::histogram(probabilities),
        "predictions": probabilities.len(),
    });
    db::save_monitoring(pool, run_id, day, &monitoring).await?;
    for a in &alerts {
        alerts::record(pool, day, a).await?;
    }
    let drifting = drift.iter().filter(|d| d.1 > monitor::PSI_ALERT).count();
    Ok((
        if alerts.is_empty() { "ok" } else { "warning" },
        if drift.is_empty() {
            format!(
                "{} predictions; no training distribution to compare with",
                probabilities.len()
            )
        } else {
            format!(
                "{drifting} of {} features drifting (PSI > {}); {} of matured labels; {}",
                drift.len(),
                monitor::PSI_ALERT,
                crate::web::format::count(weeks.len() as i64, "week", "weeks"),
                crate::web::format::count(alerts.len() as i64, "alert", "alerts")
            )
        },
    ))
}
