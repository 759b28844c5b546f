//! The daily pipeline: extract features → quality gate → score → flag at-risk → open plays →
//! monitor, recorded
//! stage by stage like a build log. A failed critical check aborts the run and leaves the
//! previous scores in place; re-running a day replaces that day's scores.

pub mod db;
mod export;
pub mod rescore;
mod routes;
pub mod scoring;

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::auth::Role;
use crate::auth::audit::{self, Actor};
use crate::features::{self, FEATURES, FeatureTable};
use crate::model::{monitor, registry};
use crate::web::access::{Access, Route};

const ANALYSTS: Access = Access::Roles(&[Role::Analyst]);
/// Everyone who sees every account (a manager's or CSM's export would leak other books).
const SCORE_READERS: Access = Access::Roles(&[Role::Analyst, Role::Admin, Role::Executive]);

pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/pipeline/runs", ANALYSTS, routes::start),
        Route::get("/pipeline/runs/{id}", ANALYSTS, routes::show),
        Route::get("/scores/export.csv", SCORE_READERS, export::csv),
        Route::get("/api/v1/scores", Access::ApiToken, export::json),
    ]
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Newest event older than this fails the freshness check (critical).
    pub max_event_age: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_event_age: Duration::hours(2),
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Stage {
    pub name: &'static str,
    /// ok, warning or failed
    pub status: &'static str,
    pub millis: u128,
    pub detail: String,
}

#[derive(Debug)]
pub struct Outcome {
    pub run_id: i64,
    pub succeeded: bool,
    pub stages: Vec<Stage>,
    pub scored: u64,
}

struct Log {
    stages: Vec<Stage>,
    clock: Instant,
}

impl Log {
    fn stage(&mut self, name: &'static str, status: &'static str, detail: impl Into<String>) {
        let millis = self.clock.elapsed().as_millis();
        self.clock = Instant::now();
        self.stages.push(Stage {
            name,
            status,
            millis,
            detail: detail.into(),
        });
    }
    fn failed(&self) -> Option<&Stage> {
        self.stages.iter().find(|s| s.status == "failed")
    }
}

/// Runs the pipeline for `day`. Refuses if that day's pipeline is already running.
pub async fn run(
    pool: &PgPool,
    day: Date,
    trigger: &str,
    actor: &Actor,
    options: &Options,
) -> anyhow::Result<Outcome> {
    let run_id = db::start_run(pool, day, trigger)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the pipeline for {day} is already running"))?;
    let mut log = Log {
        stages: Vec::new(),
        clock: Instant::now(),
    };
    let result = stages(pool, day, run_id, options, &mut log).await;
    let (succeeded, scored, error) = match result {
        Ok(scored) if log.failed().is_none() => (true, scored, None),
        Ok(_) => (
            false,
            0,
            log.failed().map(|s| format!("{}: {}", s.name, s.detail)),
        ),
        Err(e) => {
            log.stage("error", "failed", format!("{e:#}"));
            (false, 0, Some(format!("{e:#}")))
        }
    };
    if let Some(gate) = log
        .failed()
        .filter(|s| ["freshness", "volume"].contains(&s.name))
    {
        let alert = db::Alert {
            kind: gate.name,
            subject: "pipeline".to_owned(),
            message: gate.detail.clone(),
            value: None,
            threshold: None,
        };
        db::record_alert(pool, day, &alert).await?;
    }
    let status = if succeeded { "succeeded" } else { "failed" };
    let stages_json = serde_json::to_value(&log.stages)?;
    db::finish_run(pool, run_id, status, &stages_json, error.as_deref()).await?;
    audit::record(
        pool,
        actor,
        "pipeline.run",
        Some(format!("run:{run_id}")),
        json!({"day": day.to_string(), "status": status, "scored": scored}),
    )
    .await?;
    Ok(Outcome {
        run_id,
        succeeded,
        stages: log.stages,
        scored,
    })
}

async fn stages(
    pool: &PgPool,
    day: Date,
    run_id: i64,
    options: &Options,
    log: &mut Log,
) -> anyhow::Result<u64> {
    // 1. Extract features. Accounts queued for re-scoring before now are covered by this run.
    let started = OffsetDateTime::now_utc();
    let table = features::compute(pool, day).await?;
    log.stage(
        "extract features",
        "ok",
        format!(
            "{} accounts × {} features as of {day}",
            table.accounts.len(),
            FEATURES.len()
        ),
    );

    // 2. Quality gate. A past day is judged as of its own end, so history can be re-run.
    let day_end = (day + Duration::days(1)).midnight().assume_utc();
    let now = OffsetDateTime::now_utc().min(day_end);
    match db::newest_event(pool).await? {
        Some(t) if now - t <= options.max_event_age => log.stage(
            "freshness",
            "ok",
            format!("newest event {} min old", (now - t).whole_minutes().max(0)),
        ),
        Some(t) => log.stage(
            "freshness",
            "failed",
            format!(
                "newest event is {} h old (limit {} h): ingestion looks stalled",
                (now - t).whole_hours(),
                options.max_event_age.whole_hours()
            ),
        ),
        None => log.stage("freshness", "failed", "no product events ingested yet"),
    }
    let key_columns = [
        "avg_dau_30d",
        "seat_utilization",
        "features_adopted",
        "days_since_last_login",
        "mrr",
    ];
    let rows = table.rows.len().max(1) as f64;
    let worst = key_columns
        .iter()
        .filter_map(|c| {
            FEATURES.iter().position(|f| f == c).map(|i| {
                (
                    c,
                    table.rows.iter().filter(|r| !r[i].is_finite()).count() as f64 / rows,
                )
            })
        })
        .max_by(|a, b| a.1.total_cmp(&b.1));
    match worst {
        Some((c, share)) if share > 0.05 => log.stage(
            "completeness",
            "warning",
            format!("{c}: {:.1} % missing (limit 5 %)", share * 100.0),
        ),
        _ => log.stage("completeness", "ok", "key columns ≤ 5 % missing"),
    }
    let volume = table.accounts.len() as i64;
    match db::previous_volume(pool, day).await? {
        _ if volume == 0 => log.stage("volume", "failed", "no accounts to score"),
        Some(prev) if (volume as f64) < prev as f64 * 0.8 => log.stage(
            "volume",
            "failed",
            format!("{volume} accounts against {prev} last run: a drop over 20 % suggests an ingestion failure"),
        ),
        Some(prev) => log.stage("volume", "ok", format!("{volume} accounts (last run {prev})")),
        None => log.stage("volume", "ok", format!("{volume} accounts (first run)")),
    }
    if log.failed().is_some() {
        return Ok(0);
    }

    // 3. Score.
    let settings = scoring::settings(pool).await?;
    let model = registry::production(pool)
        .await?
        .map(|(id, m)| (id, Arc::new(m)));
    let table = Arc::new(table);
    let rows = scoring::score_population(
        table.clone(),
        settings.clone(),
        model.as_ref().map(|m| m.1.clone()),
    )
    .await?;
    log.stage(
        "score",
        if model.is_some() { "ok" } else { "warning" },
        match &model {
            Some((id, m)) => format!(
                "health and churn probability for {} accounts (model {} {id})",
                rows.account.len(),
                m.algorithm.as_str()
            ),
            None => format!(
                "health for {} accounts; no model in production, so no churn probability (train one)",
                rows.account.len()
            ),
        },
    );

    // 4. Flag at-risk, and write the day's scores in one transaction.
    let flagged = rows.at_risk.iter().filter(|f| **f).count();
    let mut tx = pool.begin().await?;
    let by = db::Provenance {
        run: run_id,
        model: model.as_ref().map(|m| m.0),
        config: settings.id,
    };
    let written = db::replace_scores(&mut tx, day, by, &rows).await?;
    db::clear_queue(&mut *tx, started).await?;
    tx.commit().await?;
    log.stage(
        "flag at-risk",
        "ok",
        format!(
            "{flagged} accounts at or above {:.2}; {written} scores written for {day}",
            settings.thresholds.at_risk
        ),
    );

    // 5. Open plays on the accounts the enabled playbooks match.
    let mut tx = pool.begin().await?;
    // A past day's plays open as of that day's end, so re-running history keeps its timing.
    let opened_at = OffsetDateTime::now_utc().min(day_end);
    let opened = crate::playbooks::open_plays(pool, &mut tx, day, opened_at).await?;
    tx.commit().await?;
    log.stage(
        "open plays",
        "ok",
        format!(
            "{} plays, {} tasks and {} customer emails opened ({})",
            opened.plays,
            opened.tasks,
            opened.emails,
            opened
                .by_playbook
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(name, n)| format!("{name}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );

    // 6. Monitor the model: drift, AUC on matured labels by week, the spread of predictions.
    let model_id = model.as_ref().map(|m| m.0);
    monitor(pool, day, run_id, &table, &rows, model_id, log).await?;
    Ok(written)
}

async fn monitor(
    pool: &PgPool,
    day: Date,
    run_id: i64,
    table: &FeatureTable,
    rows: &db::ScoreRows,
    model: Option<Uuid>,
    log: &mut Log,
) -> anyhow::Result<()> {
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
            alerts.push(db::Alert {
                kind: "drift",
                subject: (*feature).to_owned(),
                message: format!(
                    "{feature} has drifted from its training distribution: PSI {psi:.3} (alert above {})",
                    monitor::PSI_ALERT
                ),
                value: Some(*psi),
                threshold: Some(monitor::PSI_ALERT),
            });
        }
    }
    let mut weeks: Vec<monitor::Week> = Vec::new();
    for chunk in db::matured_scores(pool, day)
        .await?
        .chunk_by(|a, b| a.0 == b.0)
    {
        let p: Vec<f64> = chunk.iter().map(|r| r.1).collect();
        let y: Vec<bool> = chunk.iter().map(|r| r.2).collect();
        let in_sample = chunk.iter().any(|r| r.3);
        weeks.push(monitor::week(chunk[0].0.clone(), &p, &y, in_sample));
    }
    if monitor::auc_alert(&weeks) {
        alerts.push(db::Alert {
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
    let probabilities: Vec<f64> = rows
        .probability
        .iter()
        .flatten()
        .map(|p| f64::from(*p))
        .collect();
    let monitoring = json!({
        "model": model,
        "drift": drift.iter().map(|(f, psi)| json!({"feature": f, "psi": psi})).collect::<Vec<_>>(),
        "weeks": weeks,
        "histogram": monitor::histogram(&probabilities),
        "predictions": probabilities.len(),
    });
    db::save_monitoring(pool, run_id, &monitoring).await?;
    for a in &alerts {
        db::record_alert(pool, day, a).await?;
    }
    let drifting = drift.iter().filter(|d| d.1 > monitor::PSI_ALERT).count();
    log.stage(
        "monitor",
        if alerts.is_empty() { "ok" } else { "warning" },
        if drift.is_empty() {
            format!("{} predictions; no training distribution to compare with", probabilities.len())
        } else {
            format!(
                "{drifting} of {} features drifting (PSI > {}); {} weeks of matured labels; {} alerts",
                drift.len(),
                monitor::PSI_ALERT,
                weeks.len(),
                alerts.len()
            )
        },
    );
    Ok(())
}
