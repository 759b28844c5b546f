//! Experiments: randomised tests of CS strategies. An analyst or manager designs one
//! (hypothesis, variants each running a playbook or none, eligibility in the playbook rule
//! language, duration, minimum sample), sees what it can detect, and starts it; the daily
//! run assigns newly eligible accounts once, stratified by segment × risk tier, and opens
//! their variant's play while the default playbooks stand aside; the results page applies
//! the stated decision rule. Every playbook can keep a standing random holdout, run as an
//! experiment of its own, so its page shows the play's measured uplift. Owns `experiments`,
//! `experiment_variants` and `experiment_assignments`.

pub mod assign;
pub mod db;
pub mod design;
pub mod results;
mod routes;
mod view;

use serde_json::json;
use sqlx::PgPool;
use time::Date;

use crate::auth::Role;
use crate::auth::access::{Access, Route};
use crate::auth::audit::{self, Actor};
use crate::error::{AppError, Result};
use design::Checked;

/// Who designs, starts and concludes experiments.
const DESIGNERS: Access = Access::Roles(&[Role::Analyst, Role::Manager]);
/// Who reads them (CSMs only see that an account is under test, on the account page).
const READERS: Access =
    Access::Roles(&[Role::Analyst, Role::Manager, Role::Executive, Role::Admin]);

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/experiments", READERS, routes::index),
        Route::get("/experiments/new", DESIGNERS, routes::new),
        Route::post("/experiments/preview", DESIGNERS, routes::preview),
        Route::post("/experiments", DESIGNERS, routes::create),
        Route::get("/experiments/{id}", READERS, routes::show),
        Route::post("/experiments/{id}/start", DESIGNERS, routes::start),
        Route::post("/experiments/{id}/conclude", DESIGNERS, routes::conclude),
        Route::get(
            "/accounts/{id}/experiments",
            crate::accounts::READERS,
            routes::account_note,
        ),
        Route::get(
            "/playbooks/{id}/uplift",
            Access::Roles(&[Role::Manager, Role::Admin]),
            routes::uplift,
        ),
    ]
}

/// Measured evidence of what a play saves: the retention gained over control (points as a
/// share) and its 95 % Newcombe interval, from the latest concluded experiment with a
/// winner, else from the playbook holdout with the most matured accounts.
#[derive(Clone)]
pub struct Evidence {
    pub id: i64,
    pub name: String,
    pub gain: f64,
    pub interval: (f64, f64),
}

pub async fn evidence(
    pool: &PgPool,
    all: &[db::Experiment],
    today: Date,
) -> Result<Option<Evidence>> {
    let winners = all
        .iter()
        .filter(|e| e.status == "concluded" && e.winner_variant_id.is_some());
    let holdouts = all.iter().filter(|e| e.holdout_of.is_some());
    let mut best: Option<(u64, Evidence)> = None;
    for e in winners.chain(holdouts) {
        let variants = db::variants(pool, &[e.id]).await?;
        let outcomes = db::outcomes(pool, e.id).await?;
        let r = results::analyse(e, &variants, &outcomes, today);
        let winner = e
            .winner_variant_id
            .and_then(|w| variants.iter().find(|v| v.id == w))
            .or_else(|| variants.get(1))
            .map(|v| v.name.clone());
        let found = r
            .comparisons
            .iter()
            .find(|c| Some(&c.variant) == winner.as_ref());
        let matured: u64 = r.arms.iter().map(|a| a.matured).sum();
        if let Some((gain, interval)) = found.and_then(|c| c.difference.zip(c.interval)) {
            let evidence = Evidence {
                id: e.id,
                name: e.name.clone(),
                gain,
                interval,
            };
            if e.holdout_of.is_none() {
                return Ok(Some(evidence));
            }
            if best.as_ref().is_none_or(|b| matured > b.0) {
                best = Some((matured, evidence));
            }
        }
    }
    Ok(best.map(|b| b.1))
}

/// Saves a checked design as a draft, with its audit row; `Conflict` when the name is taken.
pub async fn create(pool: &PgPool, actor: &Actor, d: &Checked) -> Result<i64> {
    let rule = json!(d.rule);
    let draft = db::Draft {
        name: &d.name,
        hypothesis: &d.hypothesis,
        rule: &rule,
        seed: rand::random::<i64>(),
        duration_days: d.duration_days,
        min_per_variant: d.min_per_variant,
        holdout_of: None,
        variants: &d.variants,
    };
    let mut tx = pool.begin().await?;
    let id = match db::create(&mut tx, &draft, &actor.label()).await {
        Ok(id) => id,
        Err(e) if db::name_taken(&e) => {
            return Err(AppError::Conflict(format!(
                "an experiment called '{}' exists already",
                d.name
            )));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &mut *tx,
        actor,
        "experiment.create",
        Some(format!("experiment:{id}")),
        json!({"name": d.name, "rule": rule, "variants": d.variants.iter().map(|v| json!({
            "name": v.name, "allocation": v.allocation, "playbook": v.playbook})).collect::<Vec<_>>()}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Starts a draft on `day`: assignment begins with the next daily run.
pub async fn start(pool: &PgPool, actor: &Actor, id: i64, day: Date) -> Result<()> {
    let mut tx = pool.begin().await?;
    if !db::start(&mut *tx, id, day).await? {
        return Err(AppError::Conflict("only a draft can be started".into()));
    }
    audit::record(
        &mut *tx,
        actor,
        "experiment.start",
        Some(format!("experiment:{id}")),
        json!({"day": day}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The decision on a running experiment.
pub struct Decision {
    pub text: String,
    pub winner: Option<i64>,
    /// Make the winner's playbook the default for the experiment's cohort: its rule becomes
    /// the experiment's eligibility, and it is enabled.
    pub make_default: bool,
}

pub async fn conclude(pool: &PgPool, actor: &Actor, id: i64, d: &Decision) -> Result<()> {
    if d.text.trim().is_empty() {
        return Err(AppError::BadRequest(
            "decision: say what was decided and why".into(),
        ));
    }
    let e = db::find(pool, id).await?.ok_or(AppError::NotFound)?;
    let variants = db::variants(pool, &[id]).await?;
    let winner = match d.winner {
        Some(w) => Some(variants.iter().find(|v| v.id == w).ok_or_else(|| {
            AppError::BadRequest("winner: not a variant of this experiment".into())
        })?),
        None => None,
    };
    let mut tx = pool.begin().await?;
    if !db::conclude(&mut *tx, id, d.text.trim(), d.winner, &actor.label()).await? {
        return Err(AppError::Conflict(
            "only a running experiment can be concluded".into(),
        ));
    }
    let promoted = match (d.make_default, winner.and_then(|w| w.playbook_id)) {
        (true, Some(p)) => {
            sqlx::query(
                "update playbooks set rule = $2, enabled = true, updated_at = now() where id = $1",
            )
            .bind(p)
            .bind(&e.rule)
            .execute(&mut *tx)
            .await?;
            Some(p)
        }
        (true, None) => {
            return Err(AppError::BadRequest(
                "make default: the winner runs no playbook".into(),
            ));
        }
        _ => None,
    };
    audit::record(
        &mut *tx,
        actor,
        "experiment.conclude",
        Some(format!("experiment:{id}")),
        json!({"decision": d.text.trim(), "winner": d.winner, "default_playbook": promoted}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
