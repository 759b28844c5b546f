//! Model alerts (drift, AUC, a failed quality gate): recorded once per kind, subject and
//! day, and emailed to the active analysts through the outbox when new.

use sqlx::PgPool;
use time::Date;

use super::db;
use crate::auth;
use crate::mail::compose::{Audience, Compose, OutboxStatus, Outgoing, email, queue};

pub struct Alert {
    pub kind: &'static str,
    pub subject: String,
    pub message: String,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
}
email!(
    Alert,
    "emails/model_alert/subject.txt",
    "emails/model_alert/body.txt",
    "emails/model_alert/body.html"
);

/// Records `alert` for `day`, and emails the analysts in the same transaction if it is new.
pub async fn record(pool: &PgPool, day: Date, alert: &Alert) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    if db::insert_alert(&mut *tx, day, alert).await? {
        let composed = alert.compose()?;
        let emails: Vec<Outgoing> = auth::db::active_emails(&mut *tx, auth::Role::Analyst)
            .await?
            .into_iter()
            .map(|recipient| Outgoing {
                audience: Audience::Internal,
                status: OutboxStatus::Pending,
                recipient,
                email: composed.clone(),
                account: None,
                task: None,
            })
            .collect();
        queue(&mut tx, &emails).await?;
    }
    tx.commit().await?;
    Ok(())
}
