//! The signed-in user: what the session holds and how a request finds its user.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tower_sessions::Session;
use uuid::Uuid;

use super::Role;
use super::db;
use crate::error::{AppError, Result};

const SIGNED_IN_KEY: &str = "signed_in";
/// The minute the session was last used, so it is saved (and its idle expiry pushed back)
/// at most once a minute.
const SEEN_KEY: &str = "seen_minute";

/// What the session stores about its user. The epoch voids sessions after a password
/// reset or deactivation.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct SignedIn {
    user_id: Uuid,
    epoch: i32,
}

/// The user behind the current request, put in the request extensions by the access check.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Their own time zone (IANA name); none means their browser's.
    pub time_zone: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or(AppError::Unauthenticated)
    }
}

/// Starts a signed-in session under a fresh id (no session fixation).
pub async fn sign_in(session: &Session, user_id: Uuid, epoch: i32) -> Result<()> {
    session.cycle_id().await?;
    session
        .insert(SIGNED_IN_KEY, SignedIn { user_id, epoch })
        .await?;
    Ok(())
}

pub async fn sign_out(session: &Session) -> Result<()> {
    session.flush().await?;
    Ok(())
}

/// Keeps an active session alive: the idle timeout counts from the last request, not from
/// sign-in. Writes at most once a minute per session.
pub async fn touch(session: &Session, now: time::OffsetDateTime) -> Result<()> {
    let minute = now.unix_timestamp() / 60;
    let seen = session.get::<i64>(SEEN_KEY).await?;
    if seen != Some(minute) {
        session.insert(SEEN_KEY, minute).await?;
    }
    Ok(())
}

/// The active user this session belongs to, if any.
pub async fn current_user(db: &PgPool, session: &Session) -> Result<Option<CurrentUser>> {
    let Some(signed_in) = session.get::<SignedIn>(SIGNED_IN_KEY).await? else {
        return Ok(None);
    };
    let user = db::find_user(db, signed_in.user_id).await?;
    Ok(user
        .filter(|u| u.active && u.session_epoch == signed_in.epoch)
        .map(|u| CurrentUser {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            time_zone: u.time_zone,
        }))
}
