//! A CSM hands an account to sales: validated, guarded against handing over an account at
//! churn risk without context, assigned to the account's rep (else round robin), recorded
//! with its event and audit row in one transaction.

use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ACCEPT_SLA, Kind, db};
use crate::accounts;
use crate::auth::CurrentUser;
use crate::auth::audit::{self, Actor};
use crate::error::{AppError, Result};
use crate::expansion;

#[derive(Deserialize, Default)]
pub struct HandOff {
    pub kind: String,
    /// Estimated expansion ARR, in dollars.
    pub estimated_arr: String,
    pub note: String,
    #[serde(default)]
    pub context_note: String,
}

fn bad(message: impl Into<String>) -> AppError {
    AppError::BadRequest(message.into())
}

/// Dollars as typed ("12,500", "$12500.50") into cents, refusing negatives and nonsense.
pub fn parse_dollars(raw: &str, field: &str) -> Result<i64> {
    let cleaned: String = raw
        .trim()
        .trim_start_matches('$')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    let v: f64 = cleaned.parse().map_err(|_| {
        bad(format!(
            "{field}: '{}' is not an amount in dollars",
            raw.trim()
        ))
    })?;
    if !v.is_finite() || !(0.0..=1e10).contains(&v) {
        return Err(bad(format!(
            "{field}: give an amount between 0 and 10,000,000,000"
        )));
    }
    Ok((v * 100.0).round() as i64)
}

/// Hands `account` to sales; refuses (404) an account outside the user's book.
pub async fn hand_off(
    pool: &PgPool,
    user: &CurrentUser,
    account: Uuid,
    form: &HandOff,
    now: OffsetDateTime,
) -> Result<i64> {
    let (a, latest_score) = accounts::db::find_scored(pool, accounts::scope_for(user), account)
        .await?
        .ok_or(AppError::NotFound)?;
    let kind = Kind::ALL
        .into_iter()
        .find(|k| k.as_str() == form.kind)
        .ok_or_else(|| {
            bad(format!(
                "type: '{}' is not seats, tier_upgrade or cross_sell",
                form.kind
            ))
        })?;
    let estimate = parse_dollars(&form.estimated_arr, "estimated ARR")?;
    let note = form.note.trim();
    if note.is_empty() {
        return Err(bad("note: tell sales what the customer said or needs"));
    }
    let score = expansion::db::latest(pool, account).await?.ok_or_else(|| {
        bad("this account has no expansion propensity yet: it is scored in the next daily run")
    })?;
    let at_risk = latest_score.is_some_and(|s| s.at_risk);
    let context = form.context_note.trim();
    if at_risk && context.is_empty() {
        return Err(bad(
            "context note: this account is at churn risk; say what must be resolved first (expansion readiness after resolution)",
        ));
    }
    let (_, weights, _) = expansion::db::config(pool).await?;
    let reasons = expansion::words::top_reasons(&score.signals, &weights);
    let mut tx = pool.begin().await?;
    let seller = db::pick_seller(&mut tx, account)
        .await?
        .ok_or_else(|| bad("there is no active sales user to hand over to"))?;
    let id = db::insert(
        &mut tx,
        &db::New {
            account,
            kind,
            estimated_arr_cents: estimate,
            propensity: score.propensity,
            tier: score.tier,
            reasons: json!(reasons),
            note,
            context_note: (!context.is_empty()).then_some(context),
            at_risk,
            csm: a.owner_id.unwrap_or(user.id),
            seller,
            at: now,
            sla_due_at: now + ACCEPT_SLA,
        },
    )
    .await?
    .ok_or_else(|| AppError::Conflict(format!("{} already has an open opportunity", a.name)))?;
    let actor = Actor::from(user);
    db::event(&mut tx, id, now, "handed", &actor.label(), note).await?;
    audit::record(
        &mut *tx,
        &actor,
        "opportunity.hand_off",
        Some(format!("opportunity:{id}")),
        json!({"account": account, "kind": kind.as_str(), "estimated_arr_cents": estimate,
               "propensity": score.propensity, "at_risk": at_risk, "sales_owner": seller}),
    )
    .await?;
    tx.commit().await?;
    super::changed();
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_as_people_type_them() {
        assert_eq!(parse_dollars("12,500", "x").ok(), Some(1_250_000));
        assert_eq!(parse_dollars(" $99.5 ", "x").ok(), Some(9_950));
        assert!(parse_dollars("-5", "x").is_err());
        assert!(parse_dollars("lots", "x").is_err());
    }
}
