//! Sales works an opportunity: accept or reject (with a reason) the hand-off, make first
//! contact, then win (with the closed ARR) or lose (with a reason). Each step checks the
//! opportunity is the user's and in the right state, and writes its event and audit row in
//! one transaction.

use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::db::{self, Outcome, Row};
use super::handoff::parse_dollars;
use super::{Status, Viewer};
use crate::auth::CurrentUser;
use crate::auth::audit::{self, Actor};
use crate::error::{AppError, Result};

#[derive(Deserialize, Default)]
pub struct StepForm {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub closed_arr: String,
}

/// A step, from the URL: accept, reject, contact, win, lose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Accept,
    Reject,
    Contact,
    Win,
    Lose,
}

impl Step {
    pub fn parse(s: &str) -> Option<Step> {
        Some(match s {
            "accept" => Step::Accept,
            "reject" => Step::Reject,
            "contact" => Step::Contact,
            "win" => Step::Win,
            "lose" => Step::Lose,
            _ => return None,
        })
    }

    /// The states it may start from, and where it leads.
    fn transition(self) -> (&'static [Status], Status) {
        match self {
            Step::Accept => (&[Status::Handed], Status::Accepted),
            Step::Reject => (&[Status::Handed], Status::Rejected),
            Step::Contact => (&[Status::Accepted], Status::Contacted),
            Step::Win => (&[Status::Accepted, Status::Contacted], Status::Won),
            Step::Lose => (&[Status::Accepted, Status::Contacted], Status::Lost),
        }
    }

    /// The reason-code kind the step requires, if any.
    fn reason_kind(self) -> Option<&'static str> {
        match self {
            Step::Reject => Some("rejection"),
            Step::Lose => Some("loss"),
            Step::Accept | Step::Contact | Step::Win => None,
        }
    }
}

/// Takes `step` on opportunity `id` for `user`; returns the opportunity as it now is.
pub async fn take(
    pool: &PgPool,
    user: &CurrentUser,
    id: i64,
    step: Step,
    form: &StepForm,
    now: OffsetDateTime,
) -> Result<Row> {
    let viewer = Viewer::of(user);
    let o = db::find(pool, viewer, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let reason = form.reason.trim();
    if let Some(kind) = step.reason_kind()
        && (reason.is_empty() || !db::reason_exists(pool, reason, kind).await?)
    {
        return Err(AppError::BadRequest(format!(
            "reason: pick why from the list (a {kind} reason)"
        )));
    }
    let closed_arr = match step {
        Step::Win => Some(parse_dollars(&form.closed_arr, "closed ARR")?),
        _ => None,
    };
    let note = form.note.trim();
    let (from, to) = step.transition();
    let mut tx = pool.begin().await?;
    let moved = db::advance(
        &mut tx,
        id,
        from,
        to,
        now,
        &Outcome {
            reason: step.reason_kind().map(|_| reason),
            note: (!note.is_empty()).then_some(note),
            closed_arr_cents: closed_arr,
        },
    )
    .await?;
    if !moved {
        return Err(AppError::Conflict(format!(
            "this opportunity is {}: it cannot be {}",
            o.status.label().to_lowercase(),
            to.label().to_lowercase()
        )));
    }
    let actor = Actor::from(user);
    let detail = [reason, note]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    db::event(&mut tx, id, now, to.as_str(), &actor.label(), &detail).await?;
    audit::record(
        &mut *tx,
        &actor,
        &format!("opportunity.{}", to.as_str()),
        Some(format!("opportunity:{id}")),
        json!({"account": o.account_id, "reason": reason, "note": note, "closed_arr_cents": closed_arr}),
    )
    .await?;
    tx.commit().await?;
    super::changed();
    db::find(pool, viewer, id).await?.ok_or(AppError::NotFound)
}
