//! Admin handlers: users (create, edit, deactivate, reset password) and the audit log.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_htmx::HxRequest;
use serde::Deserialize;
use uuid::Uuid;

use super::admin_views::{
    AuditEntries, AuditPage, FilterOption, NewUserValues, PasswordReset, UserPage, UserRowFragment,
    UserRowView, UsersPage, manager_options, role_options,
};
use super::audit::{self, Actor};
use super::users::{self, FormErrors, ProfileInput, UserError, UserInput};
use super::{CurrentUser, db};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::errors::urlencode;
use crate::web::layout::Chrome;

const AUDIT_PAGE_SIZE: i64 = 100;

#[derive(Deserialize)]
pub struct Notice {
    created: Option<String>,
    saved: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    chrome: Chrome,
    Query(notice): Query<Notice>,
) -> Result<UsersPage> {
    let notice = notice.created.map(|email| format!("Added {email}."));
    users_page(
        &state,
        chrome,
        NewUserValues::default(),
        FormErrors::default(),
        notice,
    )
    .await
}

async fn users_page(
    state: &AppState,
    chrome: Chrome,
    values: NewUserValues,
    errors: FormErrors,
    notice: Option<String>,
) -> Result<UsersPage> {
    let users = db::list_users(&state.db, None).await?;
    let managers = db::list_managers(&state.db).await?;
    Ok(UsersPage {
        chrome,
        users: users.into_iter().map(UserRowView::from).collect(),
        roles: role_options(if values.role.is_empty() {
            "csm"
        } else {
            &values.role
        }),
        managers: manager_options(managers, None),
        values,
        errors,
        notice,
    })
}

#[derive(Deserialize)]
pub struct NewUserForm {
    email: String,
    name: String,
    role: String,
    #[serde(default)]
    manager_id: String,
    password: String,
}

/// An empty choice is "none"; anything else must be an id.
fn parse_manager(raw: &str, errors: &mut FormErrors) -> Option<Uuid> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    Uuid::parse_str(raw)
        .map_err(|_| errors.add("manager_id", format!("'{raw}' is not a user id.")))
        .ok()
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Form(form): Form<NewUserForm>,
) -> Result<Response> {
    let mut errors = FormErrors::default();
    let manager_id = parse_manager(&form.manager_id, &mut errors);
    let input = UserInput {
        email: form.email.clone(),
        name: form.name.clone(),
        role: form.role.clone(),
        manager_id,
        password: form.password,
    };
    let result = if errors.is_empty() {
        users::create(&state.db, &Actor::from(&user), &input).await
    } else {
        Err(UserError::Invalid(errors))
    };
    match result {
        Ok(_) => {
            let email = users::parse_email(&form.email).unwrap_or(form.email);
            Ok(
                Redirect::to(&format!("/admin/users?created={}", urlencode(&email)))
                    .into_response(),
            )
        }
        Err(UserError::Invalid(errors)) => {
            let values = NewUserValues {
                email: form.email,
                name: form.name,
                role: form.role,
            };
            let page = users_page(&state, chrome, values, errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(UserError::App(e)) => Err(e),
    }
}

pub async fn show(
    State(state): State<AppState>,
    chrome: Chrome,
    Path(id): Path<Uuid>,
    Query(notice): Query<Notice>,
) -> Result<UserPage> {
    let found = db::find_user(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let managers = db::list_managers(&state.db).await?;
    let mut page = UserPage::new(chrome, found, managers);
    page.notice = notice.saved.map(|_| "Saved.".to_owned());
    Ok(page)
}

#[derive(Deserialize)]
pub struct ProfileForm {
    name: String,
    role: String,
    #[serde(default)]
    manager_id: String,
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, target = %id))]
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Path(id): Path<Uuid>,
    Form(form): Form<ProfileForm>,
) -> Result<Response> {
    let mut errors = FormErrors::default();
    let manager_id = parse_manager(&form.manager_id, &mut errors);
    let input = ProfileInput {
        name: form.name.clone(),
        role: form.role.clone(),
        manager_id,
    };
    let result = if errors.is_empty() {
        users::update_profile(&state.db, &Actor::from(&user), id, &input).await
    } else {
        Err(UserError::Invalid(errors))
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response()),
        Err(UserError::Invalid(errors)) => {
            let found = db::find_user(&state.db, id)
                .await?
                .ok_or(AppError::NotFound)?;
            let managers = db::list_managers(&state.db).await?;
            let mut page = UserPage::new(chrome, found, managers.clone());
            page.name = form.name;
            page.roles = role_options(&form.role);
            page.managers = manager_options(managers, manager_id);
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(UserError::App(e)) => Err(e),
    }
}

pub async fn activate(
    state: State<AppState>,
    user: CurrentUser,
    htmx: HxRequest,
    id: Path<Uuid>,
) -> Result<Response> {
    toggle(state, user, htmx, id, true).await
}

pub async fn deactivate(
    state: State<AppState>,
    user: CurrentUser,
    htmx: HxRequest,
    id: Path<Uuid>,
) -> Result<Response> {
    toggle(state, user, htmx, id, false).await
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, target = %id, active))]
async fn toggle(
    State(state): State<AppState>,
    user: CurrentUser,
    HxRequest(is_htmx): HxRequest,
    Path(id): Path<Uuid>,
    active: bool,
) -> Result<Response> {
    users::set_active(&state.db, &Actor::from(&user), id, active).await?;
    if !is_htmx {
        return Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response());
    }
    let row = db::list_users(&state.db, Some(id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok(UserRowFragment {
        u: UserRowView::from(row),
    }
    .into_response())
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, target = %id))]
pub async fn reset_password(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    HxRequest(is_htmx): HxRequest,
    Path(id): Path<Uuid>,
) -> Result<Response> {
    let new_password = users::reset_password(&state.db, &Actor::from(&user), id).await?;
    let target = db::find_user(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if is_htmx {
        return Ok(PasswordReset {
            id: id.to_string(),
            email: target.email,
            new_password: Some(new_password),
        }
        .into_response());
    }
    let managers = db::list_managers(&state.db).await?;
    let mut page = UserPage::new(chrome, target, managers);
    page.new_password = Some(new_password);
    Ok(page.into_response())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    action: String,
    before: Option<i64>,
}

pub async fn audit_log(
    State(state): State<AppState>,
    chrome: Chrome,
    HxRequest(is_htmx): HxRequest,
    Query(q): Query<AuditQuery>,
) -> Result<Response> {
    let actor_id = match q.user.trim() {
        "" => None,
        raw => Some(
            Uuid::parse_str(raw)
                .map_err(|_| AppError::BadRequest(format!("user: '{raw}' is not a user id")))?,
        ),
    };
    let filter = audit::Filter {
        actor_id,
        action: Some(q.action.trim().to_owned()).filter(|a| !a.is_empty()),
        before: q.before,
    };
    let entries = audit::list(&state.db, &filter, AUDIT_PAGE_SIZE).await?;
    let next_page = (entries.len() as i64 == AUDIT_PAGE_SIZE)
        .then(|| entries.last().map(|e| e.id))
        .flatten()
        .map(|before| {
            format!(
                "/admin/audit?user={}&action={}&before={before}",
                urlencode(&q.user),
                urlencode(&q.action)
            )
        });
    let entries = entries.into_iter().map(Into::into).collect();
    // The same URL answers a fragment to htmx and a page to the browser: caches must not mix them.
    let vary = [(axum::http::header::VARY, "HX-Request")];
    if is_htmx {
        return Ok((vary, AuditEntries { entries, next_page }).into_response());
    }
    let users = db::list_users(&state.db, None)
        .await?
        .into_iter()
        .map(|u| FilterOption {
            selected: Some(u.id) == actor_id,
            value: u.id.to_string(),
            label: format!("{} ({})", u.name, u.email),
        })
        .collect();
    let actions = audit::actions(&state.db)
        .await?
        .into_iter()
        .map(|a| FilterOption {
            selected: a == q.action,
            label: a.clone(),
            value: a,
        })
        .collect();
    Ok((
        vary,
        AuditPage {
            chrome,
            users,
            actions,
            entries,
            next_page,
        },
    )
        .into_response())
}
