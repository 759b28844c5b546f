//! The reason codes CSMs pick when they give feedback on a prediction or snooze an account,
//! kept by admins. Codes are never deleted (feedback refers to them); retired ones leave the
//! pickers.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::codes;
use super::db::{self, CodeRow};
use crate::auth::CurrentUser;
use crate::auth::audit::Actor;
use crate::error::Result;
use crate::state::AppState;
use crate::web::layout::Chrome;

#[derive(Template, WebTemplate)]
#[template(path = "reasons/index.html")]
pub struct ReasonsPage {
    chrome: Chrome,
    codes: Vec<CodeRow>,
    error: Option<String>,
    kinds: &'static [(&'static str, &'static str)],
}

#[derive(Template, WebTemplate)]
#[template(path = "worklist/reason_row.html")]
pub struct RowFragment {
    r: CodeRow,
}

pub async fn index(State(state): State<AppState>, chrome: Chrome) -> Result<ReasonsPage> {
    Ok(ReasonsPage {
        chrome,
        codes: db::all(&state.db).await?,
        error: None,
        kinds: &codes::KINDS,
    })
}

pub async fn create(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    Form(form): Form<codes::NewCode>,
) -> Result<Response> {
    if let Err(error) = codes::create(&state.db, &Actor::from(&user), &form).await? {
        let page = ReasonsPage {
            chrome,
            codes: db::all(&state.db).await?,
            error: Some(error),
            kinds: &codes::KINDS,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    Ok(axum::response::Redirect::to("/admin/reason-codes").into_response())
}

/// Retires an active code or brings back a retired one (an htmx row swap).
pub async fn toggle(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> Result<RowFragment> {
    Ok(RowFragment {
        r: codes::toggle(&state.db, &Actor::from(&user), &code).await?,
    })
}
