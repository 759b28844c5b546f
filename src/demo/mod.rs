//! `keel demo`: the demo company's staff and data, loaded through the same ingestion
//! functions as real data.

mod bulk;
pub mod company;
pub mod seeds;

pub use bulk::restore_usage_keys;
pub use seeds::{Profile, Seeds};
pub mod experiments;
pub mod handoffs;

use std::time::Instant;

use anyhow::{Context, bail};
use sqlx::PgPool;
use time::{Date, Duration};

use crate::auth::audit::{self, Actor};
use crate::auth::users::{self, UserError, UserInput};
use crate::auth::{Role, db as users_db};
use crate::ingest::{self, Entity, Payload, Status};
use crate::pipeline;
use company::Company;

/// The password every demo login uses.
pub const DEMO_PASSWORD: &str = "keel-demo-2026";

pub struct Staff {
    /// One login per role, for the console.
    pub logins: Vec<(Role, String)>,
    /// CSM emails and names, in book order.
    pub csms: Vec<(String, String)>,
}

/// Creates the demo staff that do not exist yet: an admin, an analyst, an executive, sales
/// reps, and managers with CSMs under them (one CSM per 300 accounts).
pub async fn seed_staff(
    pool: &PgPool,
    accounts: usize,
    profile: &Profile,
) -> anyhow::Result<Staff> {
    let n_csms = accounts.div_ceil(profile.book_size).max(2);
    let n_managers = n_csms.div_ceil(profile.csms_per_manager).max(2);
    let mut logins = Vec::new();
    let mut plan: Vec<(String, String, Role, Option<usize>)> = profile
        .staff
        .iter()
        .map(|l| (l.email.clone(), l.name.clone(), l.role, None))
        .collect();
    for m in 0..n_managers {
        let email = if m == 0 {
            "manager@keel.demo".to_owned()
        } else {
            format!("manager{}@keel.demo", m + 1)
        };
        plan.push((email, format!("Manager {}", m + 1), Role::Manager, None));
    }
    let first_manager = plan.len() - n_managers;
    for c in 0..n_csms {
        let email = if c == 0 {
            "csm@keel.demo".to_owned()
        } else {
            format!("csm{}@keel.demo", c + 1)
        };
        plan.push((
            email,
            format!("CSM {}", c + 1),
            Role::Csm,
            Some(first_manager + c % n_managers),
        ));
    }
    let mut ids = Vec::with_capacity(plan.len());
    for (email, name, role, manager) in &plan {
        let id = match users_db::find_credentials(pool, email).await? {
            Some(existing) => existing.id,
            None => {
                let input = UserInput {
                    email: email.clone(),
                    name: name.clone(),
                    role: role.as_str().to_owned(),
                    manager_id: manager.map(|m| ids[m]),
                    password: DEMO_PASSWORD.to_owned(),
                };
                match users::create(pool, &Actor::Cli, &input).await {
                    Ok(id) => id,
                    Err(UserError::Invalid(e)) => bail!("demo user {email} refused: {:?}", e.0),
                    Err(UserError::App(e)) => return Err(anyhow::anyhow!(e)),
                }
            }
        };
        ids.push(id);
        if !logins.iter().any(|(r, _)| r == role) {
            logins.push((*role, email.clone()));
        }
    }
    let csms = plan
        .iter()
        .filter(|p| p.2 == Role::Csm)
        .map(|p| (p.0.clone(), p.1.clone()))
        .collect();
    Ok(Staff { logins, csms })
}

pub struct Loaded {
    pub accounts: usize,
    pub events: u64,
    pub seconds: f64,
    /// The planted experiment: its day and (external id, variant, stratum, slot).
    pub trial: company::trial::Planted,
}

/// Whether customer data is already there (the demo loads once).
pub async fn has_data(pool: &PgPool) -> anyhow::Result<bool> {
    let any: Option<i32> = sqlx::query_scalar("select 1 from accounts limit 1")
        .fetch_optional(pool)
        .await?;
    Ok(any.is_some())
}

/// Told how far a long step has come: (batches or runs done, out of).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// Simulates the company and loads every entity through ingestion.
pub async fn load(
    pool: &PgPool,
    seed: u64,
    accounts: usize,
    as_of: Date,
    staff: &Staff,
    seeds: &Seeds,
    progress: Progress<'_>,
) -> anyhow::Result<Loaded> {
    let started = Instant::now();
    // The demo product's taxonomy is data, saved as the first mapping version.
    crate::taxonomy::install_demo(pool, &Actor::Cli, &seeds.mapping)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let owners: Vec<String> = staff.csms.iter().map(|c| c.0.clone()).collect();
    let authors: Vec<String> = staff.csms.iter().map(|c| c.1.clone()).collect();
    let books = owners.len();
    let profile = seeds.company.clone();
    let company = tokio::task::spawn_blocking(move || {
        Company::simulate(seed, accounts, as_of, books, profile)
    })
    .await?;
    let batches = [
        (Entity::Accounts, company.accounts_csv(&owners)),
        (Entity::Contacts, company.contacts_csv()),
        (Entity::Subscriptions, company.subscriptions_csv()),
        (Entity::Tickets, company.tickets_csv()),
        (Entity::Nps, company.nps_csv()),
        (Entity::Notes, company.notes_csv(&authors)),
    ];
    // About 63,000 account-days of events per batch (two weeks of 4,200 accounts, a day of
    // 50,000), so memory stays the same whatever the company's size.
    let days = (63_000 / company.accounts.len().max(1)).clamp(1, 14) as i64;
    let mut windows = Vec::new();
    let mut from = company.start();
    while from <= as_of {
        let to = (from + Duration::days(days - 1)).min(as_of);
        windows.push((from, to));
        from = to + Duration::days(1);
    }
    let total = (batches.len() + windows.len()) as u64;
    let mut done = 0;
    for (entity, csv) in batches {
        submit(pool, entity, csv).await?;
        done += 1;
        progress(done, total);
    }
    let trial = (
        company.trial.day,
        company
            .trial
            .assigned
            .iter()
            .map(|(i, v, s, slot)| {
                (
                    company.accounts[*i].external_id.clone(),
                    *v,
                    s.clone(),
                    *slot,
                )
            })
            .collect(),
    );
    let accounts = company.accounts.len();
    let company = std::sync::Arc::new(company);
    // Three windows at a time, each simulated then ingested in its own transaction: while
    // one batch's rows are written (PostgreSQL's core), the others are simulated and rolled
    // up. With two, a core idled whenever both batches waited on the database.
    let events = bulk::without_usage_keys(pool, async {
        let mut running = tokio::task::JoinSet::new();
        let mut events = 0;
        for (from, to) in windows {
            if running.len() == 3 {
                events += next_loaded(&mut running).await?;
                done += 1;
                progress(done, total);
            }
            let (c, pool) = (company.clone(), pool.clone());
            running.spawn(async move {
                let csv = tokio::task::spawn_blocking(move || c.events_csv(from, to)).await?;
                submit(&pool, Entity::Events, csv).await
            });
        }
        while !running.is_empty() {
            events += next_loaded(&mut running).await?;
            done += 1;
            progress(done, total);
        }
        Ok(events)
    })
    .await?;
    Ok(Loaded {
        accounts,
        events,
        seconds: started.elapsed().as_secs_f64(),
        trial,
    })
}

/// The events of the next event batch to finish loading.
async fn next_loaded(
    running: &mut tokio::task::JoinSet<anyhow::Result<u64>>,
) -> anyhow::Result<u64> {
    match running.join_next().await {
        Some(loaded) => loaded?,
        None => Ok(0),
    }
}

async fn submit(pool: &PgPool, entity: Entity, csv: Vec<u8>) -> anyhow::Result<u64> {
    let outcome = ingest::ingest(pool, entity, Payload::Csv(csv), None, "demo", &Actor::Cli)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("loading demo {entity}"))?;
    if outcome.status == Status::Rejected {
        bail!(
            "demo {entity} rejected: {:?}",
            &outcome.errors[..outcome.errors.len().min(5)]
        );
    }
    tracing::info!(%entity, rows = outcome.rows, written = outcome.written, "demo batch loaded");
    Ok(outcome.events)
}

/// Scores the demo's last `weeks` weeks, one run a week and then `as_of`, so trajectories,
/// decrements and score-history charts have a past. The production model was trained on
/// that past: the model-health page marks those weeks as seen in training.
///
/// `beside` runs alongside the weekly runs, which mostly leave the second core idle (one
/// statement at a time), and is done before `as_of` is scored: the work of the demo that
/// reads no score (the sales history).
pub async fn score_history<T>(
    pool: &PgPool,
    as_of: Date,
    weeks: i64,
    progress: Progress<'_>,
    beside: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<(pipeline::Outcome, T)> {
    // The simulation ends with yesterday's business hours, so its newest event is up to a
    // day and a half old: the demo's runs allow for that.
    // The weeks before `as_of` leave the read models of the newest day to its run.
    let options = pipeline::Options {
        max_event_age: Duration::hours(40),
        history: false,
    };
    let history = pipeline::Options {
        history: true,
        ..options.clone()
    };
    let total = weeks as u64 + 1;
    let weekly = async {
        for k in (1..=weeks).rev() {
            let day = as_of - Duration::weeks(k);
            let outcome = pipeline::run(pool, day, "demo", &Actor::Cli, &history).await?;
            if !outcome.succeeded {
                bail!(
                    "the demo's scoring of {day} failed: {:?}",
                    outcome.stages.iter().find(|s| s.status == "failed")
                );
            }
            progress((weeks - k + 1) as u64, total);
        }
        Ok(())
    };
    let ((), beside) = tokio::try_join!(weekly, beside)?;
    let last = pipeline::run(pool, as_of, "demo", &Actor::Cli, &options).await?;
    progress(total, total);
    Ok((last, beside))
}

/// What the demo's CSMs did with the plays of the scored weeks: most tasks done (most on
/// time, some late), a contact logged on most plays, the rest left open; then the sweep
/// escalates what is late, so the team page, timelines and the outbox have a past.
/// Deterministic (by task and play id).
pub async fn simulate_work(pool: &PgPool) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "update tasks set status = 'done', completed_by = assignee_id,
                completed_at = case when (id * 7919) % 100 < 75
                                    then greatest(due_at - interval '2 hours', created_at + (due_at - created_at) / 2)
                                    else due_at + interval '9 hours' end
         where status = 'open' and due_at + interval '9 hours' < now() and (id * 7919) % 100 < 88",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Nobody leaves a task open for weeks: what is still open from before last week was
    // done, late.
    let done = done
        + sqlx::query(
            "update tasks set status = 'done', completed_by = assignee_id,
                    completed_at = due_at + interval '2 days'
             where status = 'open' and due_at < now() - interval '7 days'",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query(
        "insert into interventions (account_id, user_id, kind, happened_on, outcome, notes, created_at)
         select p.account_id, a.owner_id, 'call', (p.opened_at + interval '1 day')::date,
                (case when p.id % 5 = 0 then 'no_response' else 'positive' end)::intervention_outcome, 'Reached the account about the play',
                p.opened_at + interval '1 day'
         from plays p join accounts a on a.id = p.account_id
         where a.owner_id is not null and (p.id * 31) % 100 < 72 and p.opened_at + interval '1 day' < now()",
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        &Actor::Cli,
        "demo.simulate_work",
        None,
        serde_json::json!({"tasks_done": done}),
    )
    .await?;
    tx.commit().await?;
    crate::playbooks::sweep(pool, time::OffsetDateTime::now_utc()).await
}
