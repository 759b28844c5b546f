//! Emails on their way out: the admin's outbox, and the CSM's review queue of customer
//! emails opened by plays (edit, approve or discard).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::scope_for;
use crate::auth::CurrentUser;
use crate::auth::audit::{self, Actor};
use crate::error::{AppError, Result};
use crate::mail;
use crate::state::AppState;
use crate::web::format::timestamp;
use crate::web::layout::Chrome;
use crate::worklist::Done;

pub struct OutboxView {
    id: i64,
    audience: String,
    recipient: String,
    subject: String,
    body: String,
    status: String,
    detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "playbooks/outbox.html")]
pub struct OutboxPage {
    chrome: Chrome,
    emails: Vec<OutboxView>,
}

/// Every email Keel has queued or sent, newest first (readable here when no SMTP is set).
pub async fn outbox(State(state): State<AppState>, chrome: Chrome) -> Result<OutboxPage> {
    Ok(OutboxPage {
        chrome,
        emails: mail::db::outbox(&state.db, 200)
            .await?
            .into_iter()
            .map(|o| OutboxView {
                id: o.id,
                audience: o.audience.to_string(),
                recipient: o.recipient,
                subject: o.subject,
                body: o.body,
                detail: match (o.sent_at, o.last_error) {
                    (Some(t), _) => format!("sent {}", timestamp(t)),
                    (None, Some(e)) => format!("{} attempts; last error: {e}", o.attempts),
                    (None, None) => format!("queued {}", timestamp(o.created_at)),
                },
                status: o.status.to_string(),
            })
            .collect(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "playbooks/review.html")]
pub struct ReviewPage {
    chrome: Chrome,
    emails: Vec<mail::db::ReviewRow>,
    notice: Option<String>,
}

/// Customer emails opened by plays, waiting for the CSM: edit, approve or discard.
pub async fn review_queue(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
) -> Result<ReviewPage> {
    review_page(&state, chrome, &user, None).await
}

async fn review_page(
    state: &AppState,
    chrome: Chrome,
    user: &CurrentUser,
    notice: Option<String>,
) -> Result<ReviewPage> {
    let (owner, manager) = scope_for(user).params();
    Ok(ReviewPage {
        chrome,
        emails: mail::db::review_queue(&state.db, owner, manager).await?,
        notice,
    })
}

/// The ticked emails, approved as written.
#[derive(Deserialize)]
pub struct Ticked {
    #[serde(default)]
    email: Vec<i64>,
}

/// Approves every ticked email the user may review, as written, in one transaction with an
/// audit row each; the queue comes back with what was done (htmx swaps the list).
pub async fn approve_ticked(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    axum_extra::extract::Form(form): axum_extra::extract::Form<Ticked>,
) -> Result<ReviewPage> {
    if form.email.is_empty() {
        return Err(AppError::BadRequest(
            "Tick the emails to approve first.".into(),
        ));
    }
    let (owner, manager) = scope_for(&user).params();
    let mut tx = state.db.begin().await?;
    let approved = mail::db::approve_as_written(&mut *tx, &form.email, owner, manager).await?;
    for id in &approved {
        audit::record(
            &mut *tx,
            &Actor::from(&user),
            "email.approve",
            Some(format!("email:{id}")),
            json!({"bulk": true}),
        )
        .await?;
    }
    tx.commit().await?;
    let notice = format!(
        "Approved {} as written: {} with the next send.",
        crate::web::format::count(approved.len() as i64, "email", "emails"),
        if approved.len() == 1 {
            "it goes out"
        } else {
            "they go out"
        }
    );
    review_page(&state, chrome, &user, Some(notice)).await
}

async fn decide(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    decision: Option<(&str, &str)>,
) -> Result<Done> {
    let (owner, manager) = scope_for(user).params();
    let mut tx = state.db.begin().await?;
    if !mail::db::review(&mut *tx, id, owner, manager, decision).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut *tx,
        &Actor::from(user),
        if decision.is_some() {
            "email.approve"
        } else {
            "email.discard"
        },
        Some(format!("email:{id}")),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Done {
        message: if decision.is_some() {
            "Approved: it goes out with the next send.".into()
        } else {
            "Discarded.".into()
        },
        colspan: 1,
    })
}

/// The email as the CSM edited it.
#[derive(Deserialize)]
pub struct Approval {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

pub async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<Approval>,
) -> Result<Done> {
    let (subject, body) = (form.subject.trim(), form.body.trim());
    if subject.is_empty() || body.is_empty() {
        return Err(AppError::BadRequest(
            "subject and body: an email needs both".into(),
        ));
    }
    decide(&state, &user, id, Some((subject, body))).await
}

pub async fn discard(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Done> {
    decide(&state, &user, id, None).await
}
