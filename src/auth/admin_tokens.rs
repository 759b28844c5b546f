//! Admin handlers for API tokens: list, create (secret shown once), revoke.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Redirect;
use uuid::Uuid;

use super::CurrentUser;
use super::admin_views::timestamp;
use super::audit::Actor;
use super::tokens::{self, SCOPES};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::layout::Chrome;

pub struct TokenView {
    id: String,
    name: String,
    scopes: String,
    created: String,
    last_used: String,
    revoked: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/tokens.html")]
pub struct TokensPage {
    chrome: Chrome,
    tokens: Vec<TokenView>,
    scopes: &'static [&'static str],
    new_secret: Option<String>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    chrome: Chrome,
    new_secret: Option<String>,
    error: Option<String>,
) -> Result<TokensPage> {
    let tokens = tokens::list(&state.db)
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id.to_string(),
            name: t.name,
            scopes: t.scopes.join(", "),
            created: timestamp(t.created_at),
            last_used: t
                .last_used_at
                .map(timestamp)
                .unwrap_or_else(|| "never".into()),
            revoked: t.revoked_at.map(timestamp),
        })
        .collect();
    Ok(TokensPage {
        chrome,
        tokens,
        scopes: &SCOPES,
        new_secret,
        error,
    })
}

pub async fn list(State(state): State<AppState>, chrome: Chrome) -> Result<TokensPage> {
    page(&state, chrome, None, None).await
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    body: Bytes,
) -> Result<(axum::http::StatusCode, TokensPage)> {
    // The scope checkboxes repeat their key, which serde_urlencoded cannot collect.
    let mut name = String::new();
    let mut scopes = Vec::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "name" => name = value.into_owned(),
            "scope" => scopes.push(value.into_owned()),
            _ => {}
        }
    }
    match tokens::create(&state.db, &Actor::from(&user), user.id, &name, &scopes).await {
        Ok(secret) => Ok((
            axum::http::StatusCode::CREATED,
            page(&state, chrome, Some(secret), None).await?,
        )),
        Err(AppError::BadRequest(message)) => Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, chrome, None, Some(message)).await?,
        )),
        Err(e) => Err(e),
    }
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, token = %id))]
pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Redirect> {
    tokens::revoke(&state.db, &Actor::from(&user), id).await?;
    Ok(Redirect::to("/admin/tokens"))
}
