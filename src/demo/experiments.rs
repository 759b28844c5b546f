//! The demo's experiments: the finished outreach test planted a year back (its assignments
//! and the CSM time it took), one running on medium-risk accounts that the demo's weekly
//! runs assign, and a 10 % holdout on the at-risk SMB playbook.

use serde_json::json;
use sqlx::PgPool;
use time::{Date, Duration};

use super::company::trial::{Planted, SEED, STRATEGIES};
use crate::auth::audit::{self, Actor};
use crate::experiments::db::{self, Draft, NewVariant};

/// A disabled playbook (it runs only for an experiment's variant); its id.
async fn playbook(
    pool: &PgPool,
    name: &str,
    description: &str,
    steps: serde_json::Value,
) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "insert into playbooks (name, description, enabled, review_emails, rule, steps, created_by)
         values ($1, $2, false, true, '{}', $3, 'demo') returning id",
    )
    .bind(name)
    .bind(description)
    .bind(steps)
    .fetch_one(pool)
    .await?)
}

fn variants(rows: &[(&str, &str, u32, Option<i64>)]) -> Vec<NewVariant> {
    rows.iter()
        .map(|(name, description, allocation, playbook)| NewVariant {
            name: (*name).into(),
            description: (*description).into(),
            allocation: *allocation as i32,
            playbook: *playbook,
        })
        .collect()
}

/// Creates the experiments before the demo's weekly runs, so the running one and the
/// holdout assign accounts as the runs go. `trial` is the planted test: its day and
/// (external id, variant, stratum, slot).
pub async fn load(pool: &PgPool, as_of: Date, trial: &Planted) -> anyhow::Result<usize> {
    let personalised = playbook(
        pool,
        "Risk-personalised outreach",
        "A call about the account's own risk drivers, then a tailored plan.",
        json!([{"title": "Call about the risk drivers", "kind": "call", "owner_role": "csm", "sla_hours": 24},
               {"title": "Send the tailored plan", "kind": "email", "owner_role": "csm", "sla_hours": 72}]),
    )
    .await?;
    let demo = playbook(
        pool,
        "Value demo",
        "A demo of the value the account is not yet getting.",
        json!([{"title": "Run the value demo", "kind": "meeting", "owner_role": "csm", "sla_hours": 120}]),
    )
    .await?;
    let check_in = playbook(
        pool,
        "Renewal check-in",
        "A check-in with the sponsor about the renewal.",
        json!([{"title": "Renewal check-in with the sponsor", "kind": "meeting", "owner_role": "csm", "sla_hours": 72}]),
    )
    .await?;
    let mut tx = pool.begin().await?;
    let mut assigned = 0;
    if let Some(day) = trial.0 {
        let rows: Vec<(&str, &str, u32, Option<i64>)> = STRATEGIES
            .iter()
            .zip([None, Some(personalised), Some(demo)])
            .map(|(s, p)| (s.0, s.1, s.2, p))
            .collect();
        let vs = variants(&rows);
        let id = db::create(
            &mut tx,
            &Draft {
                name: "Outreach strategies for high-risk accounts",
                hypothesis: "Outreach built on the account's own risk drivers keeps more high-risk accounts than a value demo or no outreach.",
                rule: &json!({"tiers": ["high"], "status": "active"}),
                seed: SEED as i64,
                duration_days: 30,
                min_per_variant: 100,
                holdout_of: None,
                variants: &vs,
            },
            "analyst@keel.demo",
        )
        .await?;
        sqlx::query("update experiments set status = 'running', start_date = $2, end_date = $2 + duration_days where id = $1")
            .bind(id)
            .bind(day)
            .execute(&mut *tx)
            .await?;
        let ids: Vec<i64> = db::variants(&mut *tx, &[id])
            .await?
            .iter()
            .map(|v| v.id)
            .collect();
        let (ext, variant, stratum, slot): (Vec<&str>, Vec<i64>, Vec<&str>, Vec<i32>) = trial
            .1
            .iter()
            .fold(Default::default(), |mut acc, (e, v, s, n)| {
                acc.0.push(e);
                acc.1.push(ids[*v]);
                acc.2.push(s);
                acc.3.push(*n);
                acc
            });
        assigned = sqlx::query(
            "insert into experiment_assignments (experiment_id, account_id, variant_id, stratum, slot, assigned_on)
             select $1, a.id, t.variant, t.stratum, t.slot, $6
             from unnest($2::text[], $3::bigint[], $4::text[], $5::int[]) as t(ext, variant, stratum, slot)
             join accounts a on a.external_id = t.ext",
        )
        .bind(id)
        .bind(&ext)
        .bind(&variant)
        .bind(&stratum)
        .bind(&slot)
        .bind(day)
        .execute(&mut *tx)
        .await?
        .rows_affected() as usize;
        // The CSM time each strategy took, logged as interventions two days in.
        sqlx::query(
            "insert into interventions (account_id, user_id, kind, happened_on, outcome, notes, minutes_spent, created_at)
             select x.account_id, a.owner_id, (case v.position when 1 then 'call' else 'meeting' end)::intervention_kind, x.assigned_on + 2,
                    'positive', 'Experiment: ' || v.name, $2[v.position + 1], (x.assigned_on + 2)::timestamptz
             from experiment_assignments x join experiment_variants v on v.id = x.variant_id
                  join accounts a on a.id = x.account_id
             where x.experiment_id = $1 and v.position > 0 and a.owner_id is not null",
        )
        .bind(id)
        .bind(STRATEGIES.iter().map(|s| s.4).collect::<Vec<i32>>())
        .execute(&mut *tx)
        .await?;
        db::conclude(
            &mut *tx,
            id,
            "Roll out risk-personalised outreach to high-risk accounts; drop the value demo, whose smaller gain could not be told from chance at its cost in CSM time.",
            Some(ids[1]),
            "analyst@keel.demo",
        )
        .await?;
    }
    let vs = variants(&[
        ("Control", "No check-in: business as usual", 50, None),
        (
            "Renewal check-in",
            "A check-in with the sponsor",
            50,
            Some(check_in),
        ),
    ]);
    let running = db::create(
        &mut tx,
        &Draft {
            name: "Renewal check-ins for medium-risk accounts",
            hypothesis: "A sponsor check-in keeps more medium-risk accounts than business as usual.",
            rule: &json!({"tiers": ["medium"], "status": "active"}),
            seed: (SEED as i64) + 1,
            duration_days: 60,
            min_per_variant: 100,
            holdout_of: None,
            variants: &vs,
        },
        "analyst@keel.demo",
    )
    .await?;
    db::start(&mut *tx, running, as_of - Duration::days(35)).await?;
    sqlx::query("update playbooks set holdout_pct = 10 where name = 'At-risk SMB'")
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        &Actor::Cli,
        "demo.experiments",
        None,
        json!({"planted_assignments": assigned, "running": running}),
    )
    .await?;
    tx.commit().await?;
    Ok(assigned)
}
