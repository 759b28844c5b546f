//! The banner admins and analysts see on every page (fetched over htmx) when no worker has
//! been seen lately, or none can send the email that is waiting.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use super::heartbeat::warning;
use crate::error::Result;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "partials/worker_banner.html")]
pub struct Banner {
    warning: Option<String>,
}

/// The banner fragment (empty when all is well).
pub async fn banner(State(state): State<AppState>) -> Result<Banner> {
    Ok(Banner {
        warning: warning(&state.db, state.clock.now()).await?,
    })
}
