//! The one application error, and how each kind becomes an HTTP answer.
//!
//! `AppError::into_response` only sets the status and stashes an [`ErrorInfo`] in the
//! response extensions; `web::errors::render` turns that into a full page or an htmx toast
//! carrying the request id, and logs internal errors once.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    #[error("invalid input: {0}")]
    BadRequest(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("the database is unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// Errors that mean the database cannot be reached (rather than that a query is wrong).
fn unreachable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
    )
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => AppError::NotFound,
            e if unreachable(&e) => AppError::Unavailable,
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    /// The session store is the database: when its backend fails, the database is out of
    /// reach (logged, since the cause is otherwise lost), and the answer is a quick 503.
    fn from(e: tower_sessions::session::Error) -> Self {
        use tower_sessions::session::Error;
        use tower_sessions::session_store::Error as Store;
        match e {
            Error::Store(Store::Backend(cause)) => {
                tracing::warn!(%cause, "session store unavailable");
                AppError::Unavailable
            }
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        if e.chain()
            .filter_map(|c| c.downcast_ref::<sqlx::Error>())
            .any(unreachable)
        {
            AppError::Unavailable
        } else {
            AppError::Internal(e)
        }
    }
}

/// What went wrong, for the error renderer. Internal causes stay server-side.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub message: String,
    pub internal: Option<Arc<anyhow::Error>>,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a user may read: never the internal cause.
    pub fn public_message(&self) -> String {
        match self {
            AppError::NotFound => "That page does not exist, or you cannot see it.".into(),
            AppError::Unauthenticated => "Please sign in.".into(),
            AppError::Forbidden => "Your role does not allow this.".into(),
            AppError::TooManyRequests(m)
            | AppError::BadRequest(m)
            | AppError::Conflict(m)
            | AppError::TooLarge(m) => m.clone(),
            AppError::Unavailable => {
                "Keel cannot reach its database just now. Please try again in a moment.".into()
            }
            AppError::Internal(_) => "Something went wrong on our side.".into(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.public_message();
        let internal = match self {
            AppError::Internal(e) => Some(Arc::new(e)),
            _ => None,
        };
        let mut resp = status.into_response();
        resp.extensions_mut().insert(ErrorInfo {
            status,
            message,
            internal,
        });
        resp
    }
}
