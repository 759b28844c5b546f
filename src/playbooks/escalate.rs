//! The escalation sweep: breached and long-unresolved tasks notify the CSM's manager, and an
//! email with no customer reply in 72 hours the account's executive sponsor (after the CSM's
//! review), each once, through the outbox, with the emails of `templates/emails/`.

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::db::{self, Escalated};
use crate::auth::audit::{self, Actor};
use crate::mail::compose::{Audience, Compose, OutboxStatus, Outgoing, email, queue};
use crate::web::format::timestamp;

/// What an escalation email says.
struct Escalation {
    breach: bool,
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

fn outgoing(e: Escalated) -> anyhow::Result<Outgoing> {
    let (audience, status, email) = if e.kind == "no_reply" {
        let email = NoReply {
            account: e.account,
            csm: e.csm,
        }
        .compose()?;
        // A customer email: the CSM reviews it first.
        (Audience::Customer, OutboxStatus::Review, email)
    } else {
        let email = Escalation {
            breach: e.kind == "breach",
            csm: e.csm,
            title: e.title,
            account: e.account,
            due: timestamp(e.due_at),
        }
        .compose()?;
        (Audience::Internal, OutboxStatus::Pending, email)
    };
    Ok(Outgoing {
        audience,
        status,
        recipient: e.recipient,
        email,
        account: Some(e.account_id),
        task: Some(e.task),
    })
}

/// Records due escalations and queues their emails, in one transaction. `now` is a parameter
/// so tests move the clock. Returns how many escalations were recorded.
pub async fn sweep(pool: &PgPool, now: OffsetDateTime) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    let mut escalated = db::escalate(&mut tx, now).await?;
    escalated.extend(db::escalate_no_reply(&mut tx, now).await?);
    let count = escalated.len() as u64;
    if count > 0 {
        let emails = escalated
            .into_iter()
            .map(outgoing)
            .collect::<anyhow::Result<Vec<_>>>()?;
        queue(&mut tx, &emails).await?;
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
