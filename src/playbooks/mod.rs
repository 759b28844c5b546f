//! Playbooks: trigger rules plus sequences of tasks with SLAs. The daily pipeline opens plays
//! on matching accounts; a sweep escalates late tasks to managers through the outbox; the
//! manager's team page shows SLA adherence and the alert → task → contact → resolved funnel.

mod builder;
pub mod db;
pub mod edit;
mod editor;
mod emails;
mod escalate;
pub mod merge;
mod routes;
pub mod rules;
mod team;
mod words;

use std::collections::{HashMap, HashSet};

use sqlx::{PgConnection, PgPool};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::auth::Role;
use crate::auth::access::{Access, Route};

pub use escalate::sweep;
use rules::{Candidate, Rule, Step};

const EDITORS: Access = Access::Roles(&[Role::Manager, Role::Admin]);
/// Who reviews customer emails before they go: the account's CSM, or their manager.
const REVIEWERS: Access = Access::Roles(&[Role::Csm, Role::Manager]);

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/playbooks", EDITORS, routes::index),
        Route::get("/playbooks/new", EDITORS, editor::new),
        Route::post("/playbooks", EDITORS, editor::create),
        Route::get("/playbooks/{id}", EDITORS, editor::edit),
        Route::post("/playbooks/{id}", EDITORS, editor::update),
        Route::post("/playbooks/{id}/toggle", EDITORS, routes::toggle),
        Route::post("/playbooks/preview", EDITORS, editor::preview),
        Route::get("/team", Access::Roles(&[Role::Manager]), team::team),
        Route::get(
            "/admin/outbox",
            Access::Roles(&[Role::Admin]),
            emails::outbox,
        ),
        Route::get("/emails/review", REVIEWERS, emails::review_queue),
        Route::post("/emails/approve", REVIEWERS, emails::approve_ticked),
        Route::post("/emails/{id}/approve", REVIEWERS, emails::approve),
        Route::post("/emails/{id}/discard", REVIEWERS, emails::discard),
    ]
}

/// A stored playbook, parsed.
pub struct Parsed {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
    pub review_emails: bool,
    /// The share of matching accounts held out at random (0 for none).
    pub holdout_pct: i16,
    pub rule: Rule,
    pub steps: Vec<Step>,
}

/// Every playbook whose rule and steps parse (a broken one is skipped and logged), enabled
/// or not: an experiment's variant runs its playbook whether or not it is a default.
pub async fn parsed(pool: &PgPool) -> sqlx::Result<Vec<Parsed>> {
    Ok(db::list(pool)
        .await?
        .into_iter()
        .filter_map(|p| {
            let parsed = serde_json::from_value(p.rule.clone())
                .and_then(|rule| Ok((rule, serde_json::from_value(p.steps.clone())?)));
            match parsed {
                Ok((rule, steps)) => Some(Parsed {
                    id: p.id,
                    name: p.name,
                    enabled: p.enabled,
                    review_emails: p.review_emails,
                    holdout_pct: p.holdout_pct,
                    rule,
                    steps,
                }),
                Err(e) => {
                    tracing::error!(playbook = p.id, error = %e, "playbook skipped: its rule or steps do not parse");
                    None
                }
            }
        })
        .collect())
}

/// The candidates a rule matches on `day`, with why.
pub fn matching<'a>(
    rule: &Rule,
    candidates: &'a [Candidate],
    day: Date,
) -> Vec<(&'a Candidate, String)> {
    candidates
        .iter()
        .filter_map(|c| rule.matches(c, day).map(|why| (c, why)))
        .collect()
}

/// What a day's plays opened.
#[derive(Debug, Default, PartialEq)]
pub struct Opened {
    pub plays: usize,
    pub tasks: u64,
    /// Customer emails queued (for review, or to send).
    pub emails: u64,
    pub by_playbook: Vec<(String, usize)>,
}

/// The accounts the default playbooks leave alone today: those inside an experiment's
/// window (everywhere), and per playbook those held out of it or assigned to another
/// variant of an experiment it runs in.
#[derive(Debug, Default)]
pub struct StandAside {
    pub everywhere: HashSet<Uuid>,
    pub from: HashMap<i64, HashSet<Uuid>>,
}

impl StandAside {
    pub fn allows(&self, playbook: i64, account: Uuid) -> bool {
        !self.everywhere.contains(&account)
            && !self
                .from
                .get(&playbook)
                .is_some_and(|s| s.contains(&account))
    }
}

/// Opens plays for every enabled playbook on the accounts its rule matches on `day` and
/// `aside` allows (never a second open play of the same playbook on an account). In the
/// caller's transaction.
pub async fn open_plays(
    conn: &mut PgConnection,
    day: Date,
    candidates: &[Candidate],
    playbooks: &[Parsed],
    now: OffsetDateTime,
    aside: &StandAside,
) -> anyhow::Result<Opened> {
    let mut opened = Opened::default();
    for p in playbooks.iter().filter(|p| p.enabled) {
        let matched: Vec<_> = matching(&p.rule, candidates, day)
            .into_iter()
            .filter(|(c, _)| aside.allows(p.id, c.account))
            .map(|(c, why)| (c, format!("{}: {why}", p.name)))
            .collect();
        open_for(conn, p, &matched, now, &mut opened).await?;
    }
    Ok(opened)
}

/// Opens `p`'s play on each matched account (with why), its tasks assigned to the account's
/// CSM or that CSM's manager, due `sla_hours` after `now`, and its emails queued.
pub async fn open_for(
    conn: &mut PgConnection,
    p: &Parsed,
    matched: &[(&Candidate, String)],
    now: OffsetDateTime,
    opened: &mut Opened,
) -> anyhow::Result<()> {
    let accounts: Vec<Uuid> = matched.iter().map(|(c, _)| c.account).collect();
    let reasons: Vec<String> = matched.iter().map(|(_, why)| why.clone()).collect();
    let plays = db::open_plays(&mut *conn, p.id, &accounts, &reasons, now).await?;
    let by_account: HashMap<Uuid, &(&Candidate, String)> =
        matched.iter().map(|m| (m.0.account, m)).collect();
    let mut tasks = db::NewTasks::default();
    let mut emails = Vec::new();
    for (play, account) in &plays {
        let Some((c, reason)) = by_account.get(account).map(|m| (m.0, &m.1)) else {
            continue;
        };
        for step in &p.steps {
            if let (Some(template), Some((_, address))) = (&step.email, &c.contact) {
                let (subject, body) = template
                    .render(&|f| c.merge_field(f))
                    .map_err(|e| anyhow::anyhow!("playbook {}: {e}", p.name))?;
                emails.push((*account, address.clone(), subject, body));
            }
            let assignee = match step.owner_role.as_str() {
                "manager" => c.manager.or(c.owner),
                _ => c.owner,
            };
            let Some(assignee) = assignee else { continue };
            tasks.play.push(*play);
            tasks.account.push(*account);
            tasks.assignee.push(assignee);
            tasks.title.push(step.title.clone());
            tasks.kind.push(step.kind.clone());
            tasks.due_at.push(now + Duration::hours(step.sla_hours));
            tasks.reason.push(reason.clone());
        }
    }
    opened.tasks += db::insert_tasks(&mut *conn, &tasks, now).await?;
    opened.emails +=
        crate::mail::db::queue_customer_emails(&mut *conn, &emails, p.review_emails).await?;
    opened.plays += plays.len();
    opened.by_playbook.push((p.name.clone(), plays.len()));
    Ok(())
}
