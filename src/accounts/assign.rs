//! The unassigned accounts page: managers (to their own CSMs) and admins tick the live
//! accounts nobody owns and hand them to a CSM in bulk, through htmx.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use axum_htmx::HxRequest;
use serde::Deserialize;
use uuid::Uuid;

use super::owners::{SHOWN, assign, csms, unowned};
use crate::auth::CurrentUser;
use crate::error::{AppError, Result};
use crate::money;
use crate::segment;
use crate::state::AppState;
use crate::web::format::{count, dollars};
use crate::web::layout::Chrome;

pub struct Row {
    id: Uuid,
    external_id: String,
    name: String,
    segment: &'static str,
    arr: String,
    renewal: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/_unassigned.html")]
pub struct Listing {
    rows: Vec<Row>,
    total: i64,
    /// More are unassigned than are listed.
    truncated: bool,
    csms: Vec<(Uuid, String)>,
    notice: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/unassigned.html")]
pub struct Page {
    chrome: Chrome,
    listing: Listing,
}

async fn listing(state: &AppState, user: &CurrentUser, notice: Option<String>) -> Result<Listing> {
    let found = unowned(&state.db).await?;
    let total = found.first().map_or(0, |a| a.total);
    let rows = found
        .into_iter()
        .map(|a| Row {
            id: a.id,
            external_id: a.external_id,
            name: a.name,
            segment: segment::label_of(&a.segment),
            arr: dollars(money::arr_cents(a.mrr_cents)),
            renewal: a.renewal_date.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    Ok(Listing {
        truncated: total > SHOWN,
        rows,
        total,
        csms: csms(&state.db, user).await?,
        notice,
    })
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
) -> Result<Page> {
    Ok(Page {
        chrome,
        listing: listing(&state, &user, None).await?,
    })
}

/// Repeated `account` fields (one a ticked box) and the chosen `csm`.
#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    account: Vec<Uuid>,
    csm: Option<Uuid>,
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    HxRequest(htmx): HxRequest,
    Form(form): Form<AssignForm>,
) -> Result<Response> {
    let csm = form
        .csm
        .ok_or_else(|| AppError::BadRequest("Choose the CSM to assign them to.".into()))?;
    let (done, name) = assign(&state.db, &user, &form.account, csm).await?;
    let notice = Some(format!(
        "Assigned {} to {name}.",
        count(done as i64, "account", "accounts")
    ));
    let listing = listing(&state, &user, notice).await?;
    Ok(if htmx {
        listing.into_response()
    } else {
        Page { chrome, listing }.into_response()
    })
}
