//! The reason codes CSMs pick when they give feedback on a prediction or snooze an account,
//! kept by admins. Codes are never deleted (feedback refers to them); retired ones leave the
//! pickers.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::auth::CurrentUser;
use crate::auth::audit::{self, Actor};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::layout::Chrome;

pub struct CodeRow {
    code: String,
    kind: String,
    label: String,
    active: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "reasons/index.html")]
pub struct ReasonsPage {
    chrome: Chrome,
    codes: Vec<CodeRow>,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "worklist/reason_row.html")]
pub struct RowFragment {
    r: CodeRow,
}

async fn rows(state: &AppState) -> Result<Vec<CodeRow>> {
    Ok(sqlx::query_as!(
        CodeRow,
        "select code, kind, label, active from reason_codes order by kind, label"
    )
    .fetch_all(&state.db)
    .await?)
}

pub async fn index(State(state): State<AppState>, chrome: Chrome) -> Result<ReasonsPage> {
    Ok(ReasonsPage {
        chrome,
        codes: rows(&state).await?,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct NewCode {
    code: String,
    kind: String,
    label: String,
}

pub async fn create(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    Form(form): Form<NewCode>,
) -> Result<Response> {
    let code = form.code.trim().to_lowercase();
    let label = form.label.trim();
    let problem = if code.is_empty()
        || !code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Some("code: use lower-case letters, digits and underscores".to_owned())
    } else if !["feedback", "snooze"].contains(&form.kind.as_str()) {
        Some(format!("kind: '{}' is not feedback or snooze", form.kind))
    } else if label.is_empty() {
        Some("label: say what the reason means".to_owned())
    } else {
        None
    };
    let mut tx = state.db.begin().await?;
    let inserted = match problem {
        Some(_) => false,
        None => sqlx::query!(
            "insert into reason_codes (code, kind, label) values ($1, $2, $3) on conflict (code) do nothing",
            code,
            form.kind,
            label
        )
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1,
    };
    let problem = problem.or_else(|| (!inserted).then(|| format!("code: '{code}' exists already")));
    if let Some(error) = problem {
        let page = ReasonsPage {
            chrome,
            codes: rows(&state).await?,
            error: Some(error),
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    audit::record(
        &mut *tx,
        &Actor::from(&user),
        "reason_code.create",
        Some(format!("reason_code:{code}")),
        json!({"kind": form.kind, "label": label}),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::response::Redirect::to("/admin/reason-codes").into_response())
}

/// Retires an active code or brings back a retired one (an htmx row swap).
pub async fn toggle(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> Result<RowFragment> {
    let mut tx = state.db.begin().await?;
    let r = sqlx::query_as!(
        CodeRow,
        "update reason_codes set active = not active where code = $1 returning code, kind, label, active",
        code
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    audit::record(
        &mut *tx,
        &Actor::from(&user),
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
    Ok(RowFragment { r })
}
