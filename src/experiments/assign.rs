//! The daily assignment: every running experiment (and every playbook holdout) assigns the
//! accounts that qualify for the first time, stratified by segment × risk tier with permuted
//! blocks (`stats::randomise`), opens the variant's playbook on them, and says which
//! accounts the default playbooks must leave alone.

use std::collections::{HashMap, HashSet};

use serde_json::json;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::db::{self, Assignment, Draft, Experiment, NewVariant, Variant};
use crate::auth::audit::{self, Actor};
use crate::playbooks::rules::{Candidate, Rule};
use crate::playbooks::{self, Opened, Parsed, StandAside};
use crate::stats::randomise;

/// What a day's assignment did.
#[derive(Debug, Default)]
pub struct Assigned {
    pub accounts: usize,
    pub by_experiment: Vec<(String, usize)>,
    pub plays: Opened,
}

/// The stratum an account is assigned in.
pub fn stratum(c: &Candidate) -> String {
    format!("{}/{}", c.segment, c.tier.as_deref().unwrap_or("unscored"))
}

/// Assigns the day's newly eligible accounts and opens their variants' plays, in the
/// caller's transaction; returns what the default playbooks must leave alone.
pub async fn assign(
    conn: &mut PgConnection,
    day: Date,
    candidates: &[Candidate],
    playbooks: &[Parsed],
    now: OffsetDateTime,
) -> anyhow::Result<(Assigned, StandAside)> {
    ensure_holdouts(conn, playbooks, day).await?;
    let running = db::running(&mut *conn, day).await?;
    let ids: Vec<i64> = running.iter().map(|e| e.id).collect();
    let variants = db::variants(&mut *conn, &ids).await?;
    let mut existing = db::assignments(&mut *conn, &ids).await?;
    let mut aside = StandAside {
        everywhere: db::in_window(&mut *conn, day).await?.into_iter().collect(),
        ..StandAside::default()
    };
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    sorted.sort_by_key(|c| c.account);
    let mut assigned = Assigned::default();
    let mut fresh = Vec::new();
    let mut active = HashSet::new();
    for e in &running {
        let of: Vec<&Variant> = variants
            .iter()
            .filter(|v| v.experiment_id == e.id)
            .collect();
        let rule = match e.holdout_of {
            // A holdout follows its playbook: its rule, and only while it holds accounts out.
            Some(p) => match playbooks
                .iter()
                .find(|x| x.id == p && x.enabled && x.holdout_pct > 0)
            {
                Some(x) => x.rule.clone(),
                None => continue,
            },
            None => match serde_json::from_value::<Rule>(e.rule.clone()) {
                Ok(r) => r,
                Err(err) => {
                    tracing::error!(experiment = e.id, error = %err, "experiment skipped: its rule does not parse");
                    continue;
                }
            },
        };
        active.insert(e.id);
        let new = assign_one(e, &of, &rule, &sorted, &existing, &aside.everywhere, day);
        if e.holdout_of.is_none() {
            aside.everywhere.extend(new.iter().map(|a| a.account_id));
            open_variant_plays(
                conn,
                e,
                &of,
                playbooks,
                &new,
                candidates,
                now,
                &mut assigned.plays,
            )
            .await?;
        }
        assigned.accounts += new.len();
        assigned.by_experiment.push((e.name.clone(), new.len()));
        fresh.extend(new.iter().cloned());
        existing.extend(new);
    }
    db::insert_assignments(&mut *conn, &fresh).await?;
    // Per playbook: the accounts of its experiments assigned elsewhere, and its held-out ones.
    let variant_of: HashMap<i64, &Variant> = variants.iter().map(|v| (v.id, v)).collect();
    for a in existing
        .iter()
        .filter(|a| active.contains(&a.experiment_id))
    {
        let Some(mine) = variant_of.get(&a.variant_id) else {
            continue;
        };
        for v in variants
            .iter()
            .filter(|v| v.experiment_id == a.experiment_id && v.id != mine.id)
        {
            if let Some(p) = v.playbook_id {
                aside.from.entry(p).or_default().insert(a.account_id);
            }
        }
    }
    Ok((assigned, aside))
}

/// The accounts `e` assigns on `day`: those its rule matches that it has not assigned before
/// and no other experiment holds, in account order, each to the variant of its stratum's
/// next slot.
fn assign_one(
    e: &Experiment,
    variants: &[&Variant],
    rule: &Rule,
    candidates: &[&Candidate],
    existing: &[Assignment],
    busy: &HashSet<Uuid>,
    day: Date,
) -> Vec<Assignment> {
    let allocation: Vec<u32> = variants
        .iter()
        .map(|v| v.allocation.max(0) as u32)
        .collect();
    let mine: Vec<&Assignment> = existing
        .iter()
        .filter(|a| a.experiment_id == e.id)
        .collect();
    let taken: HashSet<Uuid> = mine.iter().map(|a| a.account_id).collect();
    let mut next: HashMap<String, i32> = HashMap::new();
    for a in &mine {
        let n = next.entry(a.stratum.clone()).or_default();
        *n = (*n).max(a.slot + 1);
    }
    let mut out = Vec::new();
    for c in candidates {
        if taken.contains(&c.account) || busy.contains(&c.account) || rule.matches(c, day).is_none()
        {
            continue;
        }
        let stratum = stratum(c);
        let slot = next.entry(stratum.clone()).or_default();
        let Some(v) = randomise::variant(e.seed as u64, &stratum, *slot as u64, &allocation) else {
            continue;
        };
        out.push(Assignment {
            experiment_id: e.id,
            account_id: c.account,
            variant_id: variants[v].id,
            stratum,
            slot: *slot,
            assigned_on: day,
        });
        *slot += 1;
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn open_variant_plays(
    conn: &mut PgConnection,
    e: &Experiment,
    variants: &[&Variant],
    playbooks: &[Parsed],
    new: &[Assignment],
    candidates: &[Candidate],
    now: OffsetDateTime,
    opened: &mut Opened,
) -> anyhow::Result<()> {
    let by_account: HashMap<Uuid, &Candidate> = candidates.iter().map(|c| (c.account, c)).collect();
    for v in variants {
        let Some(p) = v
            .playbook_id
            .and_then(|id| playbooks.iter().find(|p| p.id == id))
        else {
            continue;
        };
        let matched: Vec<(&Candidate, String)> = new
            .iter()
            .filter(|a| a.variant_id == v.id)
            .filter_map(|a| by_account.get(&a.account_id).copied())
            .map(|c| (c, format!("Experiment '{}', variant '{}'", e.name, v.name)))
            .collect();
        playbooks::open_for(conn, p, &matched, now, opened).await?;
    }
    Ok(())
}

/// Every enabled playbook holding accounts out has its holdout experiment, split as the
/// playbook says today.
async fn ensure_holdouts(
    conn: &mut PgConnection,
    playbooks: &[Parsed],
    day: Date,
) -> anyhow::Result<()> {
    for p in playbooks.iter().filter(|p| p.enabled && p.holdout_pct > 0) {
        let pct = i32::from(p.holdout_pct);
        match db::holdout_of(&mut *conn, p.id).await? {
            Some(e) => db::set_holdout_split(conn, e.id, pct).await?,
            None => {
                let variants = [
                    NewVariant {
                        name: "Held out".into(),
                        description: "No play from this playbook".into(),
                        allocation: pct,
                        playbook: None,
                    },
                    NewVariant {
                        name: "Play".into(),
                        description: format!("The '{}' play", p.name),
                        allocation: 100 - pct,
                        playbook: Some(p.id),
                    },
                ];
                let draft = Draft {
                    name: &format!("Holdout: {}", p.name),
                    hypothesis: &format!("The '{}' play keeps more accounts than no play.", p.name),
                    rule: &json!(p.rule),
                    seed: rand::random::<i64>(),
                    duration_days: 365,
                    min_per_variant: 100,
                    holdout_of: Some(p.id),
                    variants: &variants,
                };
                let id = db::create(conn, &draft, "keel").await?;
                sqlx::query(
                    "update experiments set status = 'running', start_date = $2 where id = $1",
                )
                .bind(id)
                .bind(day)
                .execute(&mut *conn)
                .await?;
                audit::record(
                    &mut *conn,
                    &Actor::Worker,
                    "experiment.holdout_start",
                    Some(format!("experiment:{id}")),
                    json!({"playbook": p.id, "holdout_pct": pct}),
                )
                .await?;
            }
        }
    }
    Ok(())
}
