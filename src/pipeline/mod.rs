//! The daily pipeline: extract features → quality gate → score → flag at-risk → experiments →
//! open plays → expansion propensity → revenue facts → event catalogue → monitor, recorded stage by stage like
//! a build log. A failed critical check aborts the run and leaves the
//! previous scores in place; re-running a day replaces that day's scores.

pub mod db;
mod gate;
mod plays;
pub use plays::open_plays;
pub mod rescore;
mod routes;
mod score;

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime};

use crate::auth::Role;
use crate::auth::access::{Access, Route};
use crate::auth::audit::{self, Actor};
use crate::features::{self, FEATURES};
use crate::health::config;
use crate::ingest;
use crate::model::{alerts, registry, watch};
use crate::scores;
use crate::statuses::RunStatus;

const ANALYSTS: Access = Access::Roles(&[Role::Analyst]);

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/pipeline/runs", ANALYSTS, routes::list),
        Route::post("/pipeline/runs", ANALYSTS, routes::start),
        Route::get("/pipeline/runs/{id}", ANALYSTS, routes::show),
    ]
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Newest event older than this fails the freshness check (critical).
    pub max_event_age: Duration,
    /// A back-fill of history that a run of a later day follows at once (the demo's weekly
    /// runs): the read models only the newest day's figures show (expansion propensity,
    /// revenue facts) are left to that run, which replaces them whole.
    pub history: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_event_age: Duration::hours(2),
            history: false,
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
        self.push(name, status, detail, millis);
    }
    /// A stage that ran beside others, with its own time (theirs overlap): what it said, or
    /// its error as a warning.
    fn beside<E: std::fmt::Display>(
        &mut self,
        name: &'static str,
        said: Result<String, E>,
        millis: u128,
    ) {
        match said {
            Ok(detail) => self.push(name, "ok", detail, millis),
            Err(e) => self.push(name, "warning", format!("{e:#}"), millis),
        }
    }
    fn push(
        &mut self,
        name: &'static str,
        status: &'static str,
        detail: impl Into<String>,
        millis: u128,
    ) {
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

/// A live process is running this day's pipeline.
#[derive(Debug, thiserror::Error)]
#[error("the pipeline for {0} is already running")]
pub struct AlreadyRunning(pub Date);

/// Runs the pipeline for `day`, holding the day's lease throughout. Refuses with
/// [`AlreadyRunning`] if a live process is running that day; a run whose process died is
/// marked abandoned and this one goes ahead.
pub async fn run(
    pool: &PgPool,
    day: Date,
    trigger: &str,
    actor: &Actor,
    options: &Options,
) -> anyhow::Result<Outcome> {
    let (run_id, lease) = db::start_run(pool, day, trigger)
        .await?
        .ok_or(AlreadyRunning(day))?;
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
        let alert = alerts::Alert {
            kind: gate.name,
            subject: "pipeline".to_owned(),
            message: gate.detail.clone(),
            value: None,
            threshold: None,
        };
        alerts::record(pool, day, &alert).await?;
    }
    let status = if succeeded {
        RunStatus::Succeeded
    } else {
        RunStatus::Failed
    };
    let stages_json = serde_json::to_value(&log.stages)?;
    db::finish_run(pool, run_id, status, &stages_json, error.as_deref()).await?;
    lease.release().await?;
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
    // Steps 1–5 score the day; the event catalogue (7b), which reads only usage, is counted
    // beside them: they leave a core idle while one statement or the model's scoring runs
    // (at 50,000 accounts the catalogue is 10 s of the daily run). It is awaited whatever
    // happens to them, so nothing of a run outlives it.
    let scoring = async {
        // 1. Extract features. Accounts queued for re-scoring before now are covered by this run.
        // The production model's own event-type candidates are computed beside the fixed ones.
        let started = OffsetDateTime::now_utc();
        let model = registry::production(pool)
            .await?
            .map(|(id, m)| (id, Arc::new(m)));
        let candidates = model
            .as_ref()
            .map(|m| m.1.candidates.clone())
            .unwrap_or_default();
        let indexed = features::db::summarize_usage_days(pool).await?;
        let table = features::compute(pool, day, &candidates).await?;
        log.stage(
            "extract features",
            "ok",
            format!(
                "{} accounts × {} features as of {day}{}{}",
                table.accounts.len(),
                FEATURES.len(),
                match candidates.len() {
                    0 => String::new(),
                    n => format!(" and {n} of the model's event-type candidates"),
                },
                match indexed {
                    0 => String::new(),
                    n => format!("; {n} new ranges of usage days indexed first"),
                }
            ),
        );

        // 2. Quality gate.
        gate::check(pool, day, &table, options, log).await?;
        if log.failed().is_some() {
            return Ok(None);
        }

        // 3. Score, and 4. flag at-risk and write the day's scores in one transaction.
        let settings = config::settings(pool).await?;
        let table = Arc::new(table);
        let score::Written {
            rows,
            mut tx,
            written,
        } = score::score_and_write(
            pool,
            (day, run_id),
            table.clone(),
            &settings,
            model.as_ref(),
            log,
        )
        .await?;
        let flagged = rows.at_risk.iter().filter(|f| **f).count();
        ingest::queue::clear_queue(&mut *tx, started).await?;
        tx.commit().await?;
        log.stage(
            "flag at-risk",
            "ok",
            format!(
                "{flagged} accounts at or above {:.2}; {written} scores written for {day}",
                settings.thresholds.at_risk
            ),
        );

        // 5. Experiments and playbooks open the day's plays.
        plays::open_and_log(pool, day, log).await?;

        Ok::<_, anyhow::Error>(Some((model, table, rows, written)))
    };
    let (scored, (catalogue, c_ms)) = tokio::join!(
        scoring,
        timed(crate::taxonomy::catalog::refresh_for(pool, day))
    );
    let Some((model, table, rows, written)) = scored? else {
        log.beside("event catalogue", catalogue, c_ms);
        return Ok(0);
    };

    // 6–7. Two independent read models of the day, computed at once (each on its own
    // connections; they write different tables): expansion propensity for every paying
    // account, ranked within its segment; and revenue facts for the executive's dashboard
    // (MRR movements, retention, cohorts). Beside them ran 7b, the event catalogue's figures
    // up to the newest day of data (a back-fill of an earlier day leaves them). A failure of
    // any is a warning: the churn scores stand, and the last good figures stay.
    let history = options.history;
    let ((expansion, e_ms), (revenue, r_ms)) = tokio::join!(
        timed(unless_history(history, async {
            let n = expansion_stage(pool, day).await?;
            Ok(format!("{n} accounts' propensity to expand as of {day}"))
        })),
        timed(unless_history(history, async {
            let r = crate::revenue::facts::refresh(pool, day).await?;
            Ok(format!(
                "{} accounts, {} account-months of MRR movements as of {}",
                r.accounts, r.account_months, r.as_of
            ))
        })),
    );
    log.beside("expansion propensity", expansion, e_ms);
    log.beside("revenue facts", revenue, r_ms);
    log.beside("event catalogue", catalogue, c_ms);

    // 8. Monitor the model: drift, AUC on matured labels by week, the spread of predictions.
    let probabilities: Vec<f64> = rows
        .probability
        .iter()
        .flatten()
        .map(|p| f64::from(*p))
        .collect();
    let matured = scores::db::matured_scores(pool, day).await?;
    let model_id = model.as_ref().map(|m| m.0);
    let (status, detail) = watch::record(
        pool,
        day,
        run_id,
        &table,
        &probabilities,
        model_id,
        &matured,
    )
    .await?;
    log.stage("monitor", status, detail);
    Ok(written)
}

/// What `work` returned, and how long it took in milliseconds.
async fn timed<T>(work: impl Future<Output = T>) -> (T, u128) {
    let start = Instant::now();
    let out = work.await;
    (out, start.elapsed().as_millis())
}

/// What `work` said, or in a run of history, that the newest run computes it instead.
async fn unless_history(
    history: bool,
    work: impl Future<Output = anyhow::Result<String>>,
) -> anyhow::Result<String> {
    if history {
        Ok("left to the newest day's run: this run back-fills history".to_owned())
    } else {
        work.await
    }
}

/// The day's propensities, written in one transaction.
async fn expansion_stage(pool: &PgPool, day: Date) -> anyhow::Result<u64> {
    crate::features::months::catch_up(pool).await?;
    let mut tx = pool.begin().await?;
    let n = crate::expansion::refresh(&mut tx, (day, day), OffsetDateTime::now_utc(), None).await?;
    tx.commit().await?;
    Ok(n)
}
