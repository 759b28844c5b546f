//! Keeping the reason codes: adding one (validated, refusing a code that exists) and
//! retiring or restoring one, each with its audit row in one transaction.

use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;

use super::db::{self, CodeRow};
use crate::auth::audit::{self, Actor};
use crate::error::{AppError, Result};

/// The kinds of reason, as (value, label): what CSMs say about a prediction or a snooze,
/// and what sales say rejecting a hand-off or losing a deal.
pub const KINDS: [(&str, &str); 4] = [
    ("feedback", "Feedback"),
    ("snooze", "Snooze"),
    ("rejection", "Hand-off rejected"),
    ("loss", "Deal lost"),
];

#[derive(Deserialize)]
pub struct NewCode {
    code: String,
    kind: String,
    label: String,
}

/// Adds a code; `Ok(Err(problem))` names the field that is wrong.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    form: &NewCode,
) -> Result<std::result::Result<(), String>> {
    let code = form.code.trim().to_lowercase();
    let label = form.label.trim();
    if code.is_empty()
        || !code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Ok(Err(
            "code: use lower-case letters, digits and underscores".to_owned()
        ));
    }
    if !KINDS.iter().any(|(k, _)| *k == form.kind) {
        return Ok(Err(format!(
            "kind: '{}' is not feedback, snooze, rejection or loss",
            form.kind
        )));
    }
    if label.is_empty() {
        return Ok(Err("label: say what the reason means".to_owned()));
    }
    let mut tx = pool.begin().await?;
    if !db::insert(&mut *tx, &code, &form.kind, label).await? {
        return Ok(Err(format!("code: '{code}' exists already")));
    }
    audit::record(
        &mut *tx,
        actor,
        "reason_code.create",
        Some(format!("reason_code:{code}")),
        json!({"kind": form.kind, "label": label}),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Retires an active code or brings back a retired one.
pub async fn toggle(pool: &PgPool, actor: &Actor, code: &str) -> Result<CodeRow> {
    let mut tx = pool.begin().await?;
    let r = db::toggle(&mut *tx, code)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &mut *tx,
        actor,
        if r.active {
            "reason_code.restore"
        } else {
            "reason_code.retire"
        },
        Some(format!("reason_code:{code}")),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}
