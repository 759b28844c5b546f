//! The actions a CSM takes from the worklist or from an account page: complete a task, log an
//! intervention, snooze an account, leave feedback on a prediction. Each answers htmx with
//! the fragment that changed.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use time::Duration;
use uuid::Uuid;

use super::db::{self, NewFeedback, NewIntervention, NewTask};
use crate::accounts::{self, scope_for};
use crate::auth::CurrentUser;
use crate::auth::audit::{self, Actor};
use crate::error::{AppError, Result};
use crate::reasons;
use crate::state::AppState;
use crate::web::format::parse_date;

/// Tells an open account page to reload its timeline.
const TIMELINE_CHANGED: [(HeaderName, HeaderValue); 1] = [(
    HeaderName::from_static("hx-trigger"),
    HeaderValue::from_static("timeline-changed"),
)];

/// The account, if the user may act on it; 404 otherwise (accounts are not enumerable).
async fn actionable(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<accounts::db::Account> {
    accounts::db::find(&state.db, scope_for(user), id)
        .await?
        .ok_or(AppError::NotFound)
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", |v| v.trim())
}

/// What an action did, in words: a table row spanning `colspan` cells, or a notice.
#[derive(Template, WebTemplate)]
#[template(path = "worklist/done.html")]
pub struct Done {
    pub message: String,
    pub colspan: u8,
}

/// Completes one of the viewed CSM's open tasks.
pub async fn complete_task(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Done> {
    let assignee = task_assignee(&state, &user, id).await?;
    let mut tx = state.db.begin().await?;
    let account = db::complete_task(&mut *tx, id, assignee, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &mut *tx,
        &Actor::from(&user),
        "task.complete",
        Some(format!("task:{id}")),
        json!({"account": account}),
    )
    .await?;
    tx.commit().await?;
    Ok(Done {
        message: "Done.".into(),
        colspan: 5,
    })
}

/// A CSM completes their own tasks; a manager their team's.
async fn task_assignee(state: &AppState, user: &CurrentUser, task: i64) -> Result<Uuid> {
    let assignee: Option<Uuid> = sqlx::query_scalar!(
        r#"select t.assignee_id from tasks t join users u on u.id = t.assignee_id
           where t.id = $1 and (t.assignee_id = $2 or u.manager_id = $2)"#,
        task,
        user.id
    )
    .fetch_optional(&state.db)
    .await?;
    assignee.ok_or(AppError::NotFound)
}

const KINDS: [&str; 7] = [
    "call",
    "email",
    "meeting",
    "in_app",
    "qbr",
    "remediation",
    "other",
];
const OUTCOMES: [&str; 4] = ["positive", "neutral", "negative", "no_response"];

/// Logs an intervention (closing the task it answers, if any); an optional follow-up opens
/// a task due in that many days.
pub async fn log_intervention(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response> {
    let account = actionable(&state, &user, id).await?;
    let kind = field(&form, "kind");
    if !KINDS.contains(&kind) {
        return Err(AppError::BadRequest(format!(
            "kind: '{kind}' is not one of {}",
            KINDS.join(", ")
        )));
    }
    let outcome = field(&form, "outcome");
    if !OUTCOMES.contains(&outcome) {
        return Err(AppError::BadRequest(format!(
            "outcome: '{outcome}' is not one of {}",
            OUTCOMES.join(", ")
        )));
    }
    let today = state.clock.now().date();
    let happened_on = match field(&form, "happened_on") {
        "" => today,
        raw => parse_date(raw, "happened_on")?,
    };
    if happened_on > today {
        return Err(AppError::BadRequest(
            "happened_on: an intervention cannot be in the future".into(),
        ));
    }
    let task = match field(&form, "task_id") {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::BadRequest(format!("task_id: '{raw}' is not a task")))?,
        ),
    };
    let follow_up: Option<i64> = match field(&form, "follow_up_days") {
        "" => None,
        raw => match raw.parse() {
            Ok(n) if (1..=90).contains(&n) => Some(n),
            _ => {
                return Err(AppError::BadRequest(format!(
                    "follow_up_days: '{raw}' is not 1–90 days"
                )));
            }
        },
    };
    let notes = field(&form, "notes");
    let mut tx = state.db.begin().await?;
    if let Some(t) = task
        && !db::close_task_on(&mut *tx, t, id, user.id).await?
    {
        return Err(AppError::BadRequest(format!(
            "task_id: {t} is not an open task on this account"
        )));
    }
    let intervention = db::insert_intervention(
        &mut *tx,
        &NewIntervention {
            account: id,
            user: user.id,
            task,
            kind,
            happened_on,
            outcome,
            notes,
        },
    )
    .await?;
    let mut message = format!(
        "Logged {} ({}) on {happened_on}.",
        kind.replace('_', " "),
        outcome.replace('_', " ")
    );
    if let Some(days) = follow_up {
        let owner = account.owner_id.unwrap_or(user.id);
        let reason = format!("follow-up of intervention {intervention}");
        db::insert_task(
            &mut *tx,
            &NewTask {
                account: id,
                assignee: owner,
                title: &format!("Follow up with {}", account.name),
                kind: "follow_up",
                due_at: state.clock.now() + Duration::days(days),
                reason: &reason,
            },
        )
        .await?;
        message.push_str(&format!(" Follow-up due in {days} days."));
    }
    audit::record(
        &mut *tx,
        &Actor::from(&user),
        "intervention.log",
        Some(format!("account:{id}")),
        json!({"intervention": intervention, "kind": kind, "outcome": outcome, "task": task, "follow_up_days": follow_up}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        TIMELINE_CHANGED,
        Done {
            message,
            colspan: 1,
        },
    )
        .into_response())
}

/// Hides an account from the worklist until a date, with a reason.
pub async fn snooze(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Done> {
    actionable(&state, &user, id).await?;
    let days: i64 = match field(&form, "days").parse() {
        Ok(n) if (1..=90).contains(&n) => n,
        _ => {
            return Err(AppError::BadRequest(format!(
                "days: '{}' is not 1–90 days",
                field(&form, "days")
            )));
        }
    };
    let reason = field(&form, "reason");
    let code = known_reason(&state, "snooze", reason).await?;
    let until = state.clock.now().date() + Duration::days(days);
    let mut tx = state.db.begin().await?;
    db::insert_snooze(&mut *tx, id, user.id, until, reason, field(&form, "note")).await?;
    audit::record(
        &mut *tx,
        &Actor::from(&user),
        "account.snooze",
        Some(format!("account:{id}")),
        json!({"until": until.to_string(), "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(Done {
        message: format!("Snoozed until {until}: {}.", code.label),
        colspan: 10,
    })
}

/// The active reason code `code` of `kind`, or a refusal naming it.
async fn known_reason(state: &AppState, kind: &str, code: &str) -> Result<reasons::db::ReasonCode> {
    reasons::db::reason_codes(&state.db, kind)
        .await?
        .into_iter()
        .find(|c| c.code == code)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "reason: pick one of the listed reasons ('{code}' is not one)"
            ))
        })
}

const VERDICTS: [&str; 3] = ["agree", "false_positive", "missed_churn"];

/// Feedback on the account's latest prediction: agree, false positive or missed churn.
pub async fn feedback(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response> {
    actionable(&state, &user, id).await?;
    let verdict = field(&form, "verdict");
    if !VERDICTS.contains(&verdict) {
        return Err(AppError::BadRequest(format!(
            "verdict: '{verdict}' is not one of agree, false_positive, missed_churn"
        )));
    }
    let reason = field(&form, "reason");
    known_reason(&state, "feedback", reason).await?;
    let mut tx = state.db.begin().await?;
    let recorded = db::insert_feedback(
        &mut *tx,
        &NewFeedback {
            account: id,
            user: user.id,
            verdict,
            reason,
            note: field(&form, "note"),
        },
    )
    .await?
    .ok_or_else(|| {
        AppError::Conflict("This account has no score yet to give feedback on.".into())
    })?;
    audit::record(
        &mut *tx,
        &Actor::from(&user),
        "prediction.feedback",
        Some(format!("account:{id}")),
        json!({"feedback": recorded, "verdict": verdict, "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        TIMELINE_CHANGED,
        Done {
            message: format!("Thanks: feedback recorded ({}).", verdict.replace('_', " ")),
            colspan: 1,
        },
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "worklist/action_form.html")]
pub struct ActionForm {
    id: Uuid,
    kind: String,
    today: String,
    reasons: Vec<reasons::db::ReasonCode>,
}

/// A row's log or snooze form, fetched when the CSM opens it (the list stays light).
pub async fn action_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, kind)): Path<(Uuid, String)>,
) -> Result<ActionForm> {
    actionable(&state, &user, id).await?;
    let reasons = match kind.as_str() {
        "log" => Vec::new(),
        "snooze" => reasons::db::reason_codes(&state.db, "snooze").await?,
        _ => return Err(AppError::NotFound),
    };
    Ok(ActionForm {
        id,
        kind,
        today: state.clock.now().date().to_string(),
        reasons,
    })
}
