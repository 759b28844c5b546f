//! Hand-offs sales has not accepted or rejected within the SLA escalate to the CSM's
//! manager, once, through the outbox: the worker's minute sweep, beside late tasks.

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::db;
use crate::auth::audit::{self, Actor};
use crate::mail::compose::{Audience, Compose, OutboxStatus, Outgoing, email, queue};
use crate::web::format::timestamp;

/// What the manager is told.
struct Breach {
    account: String,
    csm: String,
    seller: String,
    due: String,
}
email!(
    Breach,
    "emails/handoff_breach/subject.txt",
    "emails/handoff_breach/body.txt",
    "emails/handoff_breach/body.html"
);

/// Escalates every breached hand-off not yet escalated, in one transaction. Returns how many.
pub async fn sweep(pool: &PgPool, now: OffsetDateTime) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    let breaches = db::escalate_breaches(&mut tx, now).await?;
    let mut emails = Vec::with_capacity(breaches.len());
    for b in &breaches {
        db::event(
            &mut tx,
            b.id,
            now,
            "escalated",
            "worker",
            &format!("acceptance SLA breached; {} notified", b.manager_email),
        )
        .await?;
        emails.push(Outgoing {
            audience: Audience::Internal,
            status: OutboxStatus::Pending,
            recipient: b.manager_email.clone(),
            email: Breach {
                account: b.account.clone(),
                csm: b.csm.clone(),
                seller: b.seller.clone(),
                due: timestamp(b.sla_due_at),
            }
            .compose()?,
            account: Some(b.account_id),
            task: None,
        });
    }
    if !breaches.is_empty() {
        queue(&mut tx, &emails).await?;
        audit::record(
            &mut *tx,
            &Actor::Worker,
            "opportunity.escalate",
            None,
            json!({"opportunities": breaches.iter().map(|b| b.id).collect::<Vec<_>>(), "at": now.to_string()}),
        )
        .await?;
    }
    tx.commit().await?;
    super::changed();
    Ok(breaches.len() as u64)
}
