//! Handlers for signing in and out.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::CurrentUser;
use super::audit::Actor;
use super::login::{self, Outcome};
use super::views::LoginPage;
use crate::error::Result;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(Query(q): Query<NextQuery>) -> LoginPage {
    LoginPage::new(q.next.unwrap_or_default(), String::new(), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

#[tracing::instrument(skip_all, fields(email = %form.email))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let ip = login::client_address(addr.ip(), forwarded, state.config.trusted_proxies);
    let outcome = login::sign_in(
        &state.db,
        &state.config,
        &session,
        &form.email,
        form.password,
        Some(&ip),
        state.clock.now(),
    )
    .await?;
    let page = |status, message: String| {
        let page = LoginPage::new(form.next.clone(), form.email.clone(), Some(message));
        (status, page).into_response()
    };
    Ok(match outcome {
        Outcome::SignedIn(role) => {
            let next = Some(form.next.as_str()).filter(|n| !n.is_empty());
            Redirect::to(&login::destination(next, role)).into_response()
        }
        Outcome::Refused => page(
            StatusCode::UNAUTHORIZED,
            "Wrong email or password.".to_owned(),
        ),
        Outcome::Throttled { seconds } => page(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins for this account or from this address. \
                 Try again in {}.",
                if seconds < 120 {
                    format!("{seconds} seconds")
                } else {
                    format!("{} minutes", (seconds + 59) / 60)
                }
            ),
        ),
    })
}

pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
) -> Result<Redirect> {
    login::sign_out(&state.db, &session, &Actor::from(&user)).await?;
    Ok(Redirect::to("/login"))
}

/// `/`: each role's home.
pub async fn home(user: CurrentUser) -> Redirect {
    Redirect::to(user.role.home())
}
