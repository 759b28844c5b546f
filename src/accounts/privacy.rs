//! A contact's personal data on request (GDPR): everything Keel holds about them as JSON
//! (right of access), and erasure (name, email and title removed; their pseudonymous user
//! id replaced by an unlinkable one in the usage roll-ups; their NPS comments removed).
//! Aggregates stay: usage counts and NPS scores still count for the account. Both are
//! audited by the contact's CRM id only, never with the data itself.

use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::audit::{self, Actor};
use crate::error::{AppError, Result};

/// What Keel holds about the contact `external` of `account`.
pub async fn export(pool: &PgPool, actor: &Actor, account: Uuid, external: &str) -> Result<Value> {
    let c = sqlx::query!(
        "select external_id, name, email, title, is_champion, user_ref, erased_at, created_at
         from contacts where account_id = $1 and external_id = $2",
        account,
        external
    )
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let nps = match &c.user_ref {
        Some(user) => sqlx::query!(
            "select responded_at, score, comment from nps_responses
             where account_id = $1 and user_ref = $2 order by responded_at",
            account,
            user
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| json!({"responded_at": r.responded_at.to_string(), "score": r.score, "comment": r.comment}))
        .collect(),
        None => Vec::new(),
    };
    let usage = match &c.user_ref {
        Some(user) => sqlx::query!(
            "select day, events, core_actions, comments, invites from usage_user_daily
             where account_id = $1 and user_ref = $2 order by day",
            account,
            user
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| {
            json!({"day": r.day.to_string(), "events": r.events, "core_actions": r.core_actions,
                        "comments": r.comments, "invites": r.invites})
        })
        .collect(),
        None => Vec::new(),
    };
    audit::record(
        pool,
        actor,
        "contact.export",
        Some(target(account, external)),
        json!({}),
    )
    .await?;
    Ok(json!({
        "contact": {
            "external_id": c.external_id,
            "name": c.name,
            "email": c.email,
            "title": c.title,
            "champion": c.is_champion,
            "product_user_id": c.user_ref,
            "erased_at": c.erased_at.map(|t| t.to_string()),
            "known_since": c.created_at.to_string(),
        },
        "nps_responses": nps,
        "product_usage_by_day": usage,
    }))
}

/// Erases the contact's personal data and unlinks them from the usage roll-ups, keeping
/// every aggregate. Erasing twice changes nothing more.
pub async fn erase(pool: &PgPool, actor: &Actor, account: Uuid, external: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    crate::features::months::lock(&mut tx).await?;
    let user_ref = sqlx::query_scalar!(
        "select user_ref from contacts where account_id = $1 and external_id = $2 for update",
        account,
        external
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    sqlx::query!(
        "update contacts set name = null, email = null, title = null, user_ref = null,
                             erased_at = coalesce(erased_at, now()), updated_at = now()
         where account_id = $1 and external_id = $2",
        account,
        external
    )
    .execute(&mut *tx)
    .await?;
    if let Some(user) = user_ref {
        // One fresh random id for all their days, so per-user counts stay whole but no
        // row leads back to the person.
        let anonymous = format!("erased-{}", Uuid::new_v4().simple());
        for table in ["usage_user_daily", "usage_user_months", "event_type_people"] {
            sqlx::query(&format!(
                "update {table} set user_ref = $3 where account_id = $1 and user_ref = $2"
            ))
            .bind(account)
            .bind(&user)
            .bind(&anonymous)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query!(
            "update nps_responses set comment = null, user_ref = null where account_id = $1 and user_ref = $2",
            account,
            user
        )
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut *tx,
        actor,
        "contact.erase",
        Some(target(account, external)),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn target(account: Uuid, external: &str) -> String {
    format!("contact:{account}/{external}")
}
