//! A signed-in user changing their own password: the current one proves it is them, the new
//! one must be long enough, every other session of theirs ends, this one stays signed in.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use tower_sessions::Session;

use super::audit::{self, Actor};
use super::users::FormErrors;
use super::{CurrentUser, db, password, session};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::layout::Chrome;

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// Changes `user`'s password if `form` is right; the field errors otherwise. Returns the
/// session epoch that stays valid (every other session of theirs is voided).
pub async fn change(
    pool: &PgPool,
    user: &CurrentUser,
    form: &PasswordForm,
) -> Result<std::result::Result<i32, FormErrors>> {
    let mut errors = FormErrors::default();
    let creds = db::find_credentials(pool, &user.email)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if !password::verify(form.current.clone(), Some(creds.password_hash)).await? {
        errors.add("current", "That is not your current password.");
    }
    if form.new.chars().count() < password::MIN_LENGTH {
        errors.add(
            "new",
            format!("Use at least {} characters.", password::MIN_LENGTH),
        );
    } else if form.new != form.repeat {
        errors.add("repeat", "The two new passwords differ.");
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let hash = password::hash(form.new.clone()).await?;
    let mut tx = pool.begin().await?;
    db::set_password(&mut tx, user.id, &hash).await?;
    audit::record(
        &mut *tx,
        &Actor::from(user),
        "user.change_password",
        Some(format!("user:{}", user.id)),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    let epoch = db::find_user(pool, user.id)
        .await?
        .ok_or(AppError::Unauthenticated)?
        .session_epoch;
    Ok(Ok(epoch))
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/password.html")]
pub struct PasswordPage {
    chrome: Chrome,
    errors: FormErrors,
    done: bool,
}

pub async fn form(chrome: Chrome) -> PasswordPage {
    PasswordPage {
        chrome,
        errors: FormErrors::default(),
        done: false,
    }
}

pub async fn save(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    session: Session,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    Ok(match change(&state.db, &user, &form).await? {
        Ok(epoch) => {
            // This session stays signed in under the new epoch, with a fresh id.
            session::sign_in(&session, user.id, epoch).await?;
            PasswordPage {
                chrome,
                errors: FormErrors::default(),
                done: true,
            }
            .into_response()
        }
        Err(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            PasswordPage {
                chrome,
                errors,
                done: false,
            },
        )
            .into_response(),
    })
}
