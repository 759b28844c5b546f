//! Model alerts (drift, AUC, a failed quality gate): raised once and emailed to the active
//! analysts through the outbox; while open, the same alert seen again only updates it. An
//! analyst acknowledges an alert (the next occurrence is news again) or mutes its kind and
//! subject for a while.

pub mod db;
pub(super) mod routes;

use serde_json::json;
use sqlx::PgPool;
use time::{Date, Duration};

use crate::auth::audit::{self, Actor};
use crate::auth::{self, CurrentUser};
use crate::error::{AppError, Result};
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

/// Records `alert` as seen on `day`, and emails the analysts in the same transaction if it is
/// new (not a repeat of an open alert, not muted).
pub async fn record(pool: &PgPool, day: Date, alert: &Alert) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    if db::raise(&mut tx, day, alert).await? == db::Raised::New {
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

/// What an analyst does with an alert.
#[derive(Clone, Copy, Debug)]
pub enum Decision {
    /// Seen and in hand: the next occurrence is a new alert.
    Acknowledge,
    /// Acknowledged, and its kind and subject silent for this many days.
    Mute(i64),
    /// Its kind and subject raise alerts again.
    Unmute,
}

/// Longest mute, in days.
pub const MAX_MUTE_DAYS: i64 = 90;

/// Carries out `decision` on alert `id` with its audit row, in one transaction.
pub async fn decide(
    pool: &PgPool,
    user: &CurrentUser,
    id: i64,
    decision: Decision,
    today: Date,
) -> Result<String> {
    let mut tx = pool.begin().await?;
    let (kind, subject) = db::find(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    let (action, said) = match decision {
        Decision::Acknowledge => {
            db::acknowledge(&mut *tx, id, user.id).await?;
            ("model_alert.acknowledge", "Acknowledged.".to_owned())
        }
        Decision::Mute(days) => {
            if !(1..=MAX_MUTE_DAYS).contains(&days) {
                return Err(AppError::BadRequest(format!(
                    "days: {days} is not 1–{MAX_MUTE_DAYS}"
                )));
            }
            let until = today + Duration::days(days);
            db::acknowledge(&mut *tx, id, user.id).await?;
            db::mute(&mut *tx, &kind, &subject, until, user.id).await?;
            ("model_alert.mute", format!("Muted until {until}."))
        }
        Decision::Unmute => {
            db::unmute(&mut *tx, &kind, &subject).await?;
            ("model_alert.unmute", "Unmuted.".to_owned())
        }
    };
    audit::record(
        &mut *tx,
        &Actor::from(user),
        action,
        Some(format!("model_alert:{id}")),
        json!({"kind": kind, "subject": subject}),
    )
    .await?;
    tx.commit().await?;
    Ok(said)
}
