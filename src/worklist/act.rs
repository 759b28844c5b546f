//! What a CSM does to an account, as domain functions the handlers call: each takes a typed
//! form, validates it (a refusal names the field), and writes in one transaction with its
//! audit row. Handlers only check that the user may act on the account and render.

use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::db::{self, NewFeedback, NewIntervention, NewTask};
use crate::accounts::db::Account;
use crate::auth::CurrentUser;
use crate::auth::audit::{self, Actor};
use crate::error::{AppError, Result};
use crate::reasons;
use crate::statuses::{InterventionKind, Outcome, Verdict};
use crate::web::format::parse_date;

/// A whole number of days within 1–90, or a refusal naming the field.
fn days(field: &str, raw: &str) -> Result<i64> {
    match raw.trim().parse() {
        Ok(n) if (1..=90).contains(&n) => Ok(n),
        _ => Err(AppError::BadRequest(format!(
            "{field}: '{raw}' is not 1–90 days"
        ))),
    }
}

/// The active reason code `code` of `kind`, or a refusal naming it.
async fn known_reason(pool: &PgPool, kind: &str, code: &str) -> Result<reasons::db::ReasonCode> {
    reasons::db::reason_codes(pool, kind)
        .await?
        .into_iter()
        .find(|c| c.code == code)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "reason: pick one of the listed reasons ('{code}' is not one)"
            ))
        })
}

/// Completes an open task: a CSM their own, a manager their team's. Returns its account.
pub async fn complete_task(pool: &PgPool, user: &CurrentUser, task: i64) -> Result<Uuid> {
    let assignee = db::task_assignee(pool, task, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = pool.begin().await?;
    let account = db::complete_task(&mut *tx, task, assignee, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &mut *tx,
        &Actor::from(user),
        "task.complete",
        Some(format!("task:{task}")),
        json!({"account": account}),
    )
    .await?;
    tx.commit().await?;
    Ok(account)
}

/// Records how a task the user completed (or, as manager, their team's) went.
pub async fn task_outcome(
    pool: &PgPool,
    user: &CurrentUser,
    task: i64,
    outcome: &str,
) -> Result<Outcome> {
    let outcome = Outcome::parse("outcome", outcome.trim()).map_err(AppError::BadRequest)?;
    let assignee = db::task_assignee(pool, task, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = pool.begin().await?;
    let account = db::set_task_outcome(&mut *tx, task, assignee, outcome)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &mut *tx,
        &Actor::from(user),
        "task.outcome",
        Some(format!("task:{task}")),
        json!({"account": account, "outcome": outcome}),
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// How a task or intervention kind reads.
pub fn kind_label(kind: &str) -> &str {
    match kind {
        "in_app" => "in-app message",
        "qbr" => "QBR",
        "remediation" => "technical remediation",
        other => other,
    }
}

#[derive(Deserialize)]
pub struct InterventionForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    happened_on: String,
    #[serde(default)]
    task_id: String,
    #[serde(default)]
    follow_up_days: String,
    #[serde(default)]
    minutes_spent: String,
    #[serde(default)]
    notes: String,
}

/// Logs an intervention on `account` (closing the task it answers, if any); an optional
/// follow-up opens a task for the account's owner due in that many days. Returns what was
/// done, in words.
pub async fn log_intervention(
    pool: &PgPool,
    user: &CurrentUser,
    account: &Account,
    form: &InterventionForm,
    now: OffsetDateTime,
) -> Result<String> {
    let kind = InterventionKind::parse("kind", form.kind.trim()).map_err(AppError::BadRequest)?;
    let outcome = Outcome::parse("outcome", form.outcome.trim()).map_err(AppError::BadRequest)?;
    let today = now.date();
    let happened_on = match form.happened_on.trim() {
        "" => today,
        raw => parse_date(raw, "happened_on")?,
    };
    if happened_on > today {
        return Err(AppError::BadRequest(
            "happened_on: an intervention cannot be in the future".into(),
        ));
    }
    let task = match form.task_id.trim() {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::BadRequest(format!("task_id: '{raw}' is not a task")))?,
        ),
    };
    let follow_up = match form.follow_up_days.trim() {
        "" => None,
        raw => Some(days("follow_up_days", raw)?),
    };
    let minutes = match form.minutes_spent.trim() {
        "" => None,
        raw => match raw.parse::<i32>() {
            Ok(m) if (0..=1440).contains(&m) => Some(m),
            _ => {
                return Err(AppError::BadRequest(format!(
                    "minutes_spent: '{raw}' is not 0–1440 minutes"
                )));
            }
        },
    };
    let mut tx = pool.begin().await?;
    if let Some(t) = task
        && !db::close_task_on(&mut *tx, t, account.id, user.id).await?
    {
        return Err(AppError::BadRequest(format!(
            "task_id: {t} is not an open task of yours on this account"
        )));
    }
    let intervention = db::insert_intervention(
        &mut *tx,
        &NewIntervention {
            account: account.id,
            user: user.id,
            task,
            kind,
            happened_on,
            outcome,
            minutes,
            notes: form.notes.trim(),
        },
    )
    .await?;
    let mut message = format!(
        "Logged {} ({}) on {happened_on}.",
        kind.as_str().replace('_', " "),
        outcome.label()
    );
    if let Some(days) = follow_up {
        let reason = format!("follow-up of intervention {intervention}");
        db::insert_task(
            &mut *tx,
            &NewTask {
                account: account.id,
                assignee: account.owner_id.unwrap_or(user.id),
                title: &format!("Follow up with {}", account.name),
                kind: "follow_up",
                due_at: now + Duration::days(days),
                reason: &reason,
            },
        )
        .await?;
        message.push_str(&format!(" Follow-up due in {days} days."));
    }
    audit::record(
        &mut *tx,
        &Actor::from(user),
        "intervention.log",
        Some(format!("account:{}", account.id)),
        json!({"intervention": intervention, "kind": kind, "outcome": outcome, "task": task, "follow_up_days": follow_up}),
    )
    .await?;
    tx.commit().await?;
    Ok(message)
}

#[derive(Deserialize)]
pub struct SnoozeForm {
    #[serde(default)]
    days: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

/// Hides `account` from the worklist until a date, with a reason. Returns what was done.
pub async fn snooze(
    pool: &PgPool,
    user: &CurrentUser,
    account: Uuid,
    form: &SnoozeForm,
    today: Date,
) -> Result<String> {
    let days = days("days", &form.days)?;
    let reason = form.reason.trim();
    let code = known_reason(pool, "snooze", reason).await?;
    let until = today + Duration::days(days);
    let mut tx = pool.begin().await?;
    db::insert_snooze(&mut *tx, account, user.id, until, reason, form.note.trim()).await?;
    audit::record(
        &mut *tx,
        &Actor::from(user),
        "account.snooze",
        Some(format!("account:{account}")),
        json!({"until": until.to_string(), "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(format!("Snoozed until {until}: {}.", code.label))
}

#[derive(Deserialize)]
pub struct FeedbackForm {
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

/// Feedback on `account`'s latest prediction: agree, false positive or missed churn.
/// Returns what was recorded, in words.
pub async fn feedback(
    pool: &PgPool,
    user: &CurrentUser,
    account: Uuid,
    form: &FeedbackForm,
) -> Result<String> {
    let verdict = Verdict::parse("verdict", form.verdict.trim()).map_err(AppError::BadRequest)?;
    let reason = form.reason.trim();
    known_reason(pool, "feedback", reason).await?;
    let mut tx = pool.begin().await?;
    let recorded = db::insert_feedback(
        &mut *tx,
        &NewFeedback {
            account,
            user: user.id,
            verdict,
            reason,
            note: form.note.trim(),
        },
    )
    .await?
    .ok_or_else(|| {
        AppError::Conflict("This account has no score yet to give feedback on.".into())
    })?;
    audit::record(
        &mut *tx,
        &Actor::from(user),
        "prediction.feedback",
        Some(format!("account:{account}")),
        json!({"feedback": recorded, "verdict": verdict, "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(format!(
        "Thanks: feedback recorded ({}).",
        verdict.as_str().replace('_', " ")
    ))
}
