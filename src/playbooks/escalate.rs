//! The escalation sweep: breached and long-unresolved tasks notify the CSM's manager, and an
//! email with no customer reply in 72 hours the account's executive sponsor (after the CSM's
//! review), each once, through the outbox, with the emails of `templates/emails/`. A manager
//! gets one email per sweep: the escalation's own, or a digest of several.

use std::collections::BTreeMap;

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::db::{self, Escalated};
use crate::auth::audit::{self, Actor};
use crate::mail::compose::{Audience, Compose, OutboxStatus, Outgoing, email, queue};
use crate::web::format::timestamp;

/// What an escalation email says.
struct Escalation {
    /// What happened, in words ([`label`]).
    label: &'static str,
    csm: String,
    title: String,
    account: String,
    due: String,
}
email!(
    Escalation,
    "emails/escalation/subject.txt",
    "emails/escalation/body.txt",
    "emails/escalation/body.html"
);

/// What the customer's executive sponsor is asked when an outreach got no reply.
struct NoReply {
    account: String,
    csm: String,
}
email!(
    NoReply,
    "emails/no_reply/subject.txt",
    "emails/no_reply/body.txt",
    "emails/no_reply/body.html"
);

/// What a manager's digest says when a sweep finds more than one escalation for them.
struct Escalations {
    total: usize,
    breached: usize,
    unresolved: usize,
    lines: Vec<Line>,
    more: usize,
}
email!(
    Escalations,
    "emails/escalations/subject.txt",
    "emails/escalations/body.txt",
    "emails/escalations/body.html"
);

/// One escalated task in a manager's digest.
struct Line {
    label: &'static str,
    title: String,
    account: String,
    csm: String,
    due: String,
}

/// A manager's escalation in words, as a subject and a digest line say it.
fn label(kind: &str) -> &'static str {
    if kind == "breach" {
        "SLA breached"
    } else {
        "Unresolved for 3 days"
    }
}

/// Tasks a digest lists before "and N more".
const DIGEST_LINES: usize = 50;

/// The sponsor's email about an outreach with no reply: a customer email, so the CSM
/// reviews it first.
fn no_reply(e: Escalated) -> anyhow::Result<Outgoing> {
    Ok(Outgoing {
        audience: Audience::Customer,
        status: OutboxStatus::Review,
        email: NoReply {
            account: e.account,
            csm: e.csm,
        }
        .compose()?,
        recipient: e.recipient,
        account: Some(e.account_id),
        task: Some(e.task),
    })
}

/// A manager's email about one escalated task.
fn single(e: Escalated) -> anyhow::Result<Outgoing> {
    Ok(Outgoing {
        audience: Audience::Internal,
        status: OutboxStatus::Pending,
        email: Escalation {
            label: label(&e.kind),
            csm: e.csm,
            title: e.title,
            account: e.account,
            due: timestamp(e.due_at),
        }
        .compose()?,
        recipient: e.recipient,
        account: Some(e.account_id),
        task: Some(e.task),
    })
}

/// A manager's one email about several escalated tasks, soonest due first.
fn digest(recipient: String, mut all: Vec<Escalated>) -> anyhow::Result<Outgoing> {
    all.sort_by_key(|e| (e.due_at, e.task));
    let breached = all.iter().filter(|e| e.kind == "breach").count();
    let total = all.len();
    let lines = all
        .into_iter()
        .take(DIGEST_LINES)
        .map(|e| Line {
            label: label(&e.kind),
            due: timestamp(e.due_at),
            title: e.title,
            account: e.account,
            csm: e.csm,
        })
        .collect::<Vec<_>>();
    Ok(Outgoing {
        audience: Audience::Internal,
        status: OutboxStatus::Pending,
        email: Escalations {
            total,
            breached,
            unresolved: total - breached,
            more: total - lines.len(),
            lines,
        }
        .compose()?,
        recipient,
        account: None,
        task: None,
    })
}

/// The emails of the escalations a sweep recorded: each sponsor's own, and one per manager
/// (the escalation's own email, or a digest when there are several), so a backlog of late
/// tasks is one email to read, not thousands.
fn emails(escalated: Vec<Escalated>) -> anyhow::Result<Vec<Outgoing>> {
    let mut out = Vec::new();
    let mut managers: BTreeMap<String, Vec<Escalated>> = BTreeMap::new();
    for e in escalated {
        if e.kind == "no_reply" {
            out.push(no_reply(e)?);
        } else {
            managers.entry(e.recipient.clone()).or_default().push(e);
        }
    }
    for (recipient, group) in managers {
        out.push(match <[Escalated; 1]>::try_from(group) {
            Ok([one]) => single(one)?,
            Err(several) => digest(recipient, several)?,
        });
    }
    Ok(out)
}

/// Records due escalations and queues their emails, in one transaction. `now` is a parameter
/// so tests move the clock. Returns how many escalations were recorded.
pub async fn sweep(pool: &PgPool, now: OffsetDateTime) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    // One sweep at a time: the next finds what this one recorded (each statement reads what
    // was committed before it began), so each escalation is recorded and sent once.
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('playbooks.sweep', 0))")
        .execute(&mut *tx)
        .await?;
    let mut escalated = db::escalate(&mut tx, now).await?;
    escalated.extend(db::escalate_no_reply(&mut tx, now).await?);
    let count = escalated.len() as u64;
    if count > 0 {
        queue(&mut tx, &emails(escalated)?).await?;
        audit::record(
            &mut *tx,
            &Actor::Worker,
            "task.escalate",
            None,
            json!({"escalations": count, "at": now.to_string()}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(count)
}
