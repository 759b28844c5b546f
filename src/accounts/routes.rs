//! The account list: search, segment and status filters, paged.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::db::{self, Filter};
use super::scope_for;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::auth::audit::Actor;
use crate::error::Result;
use crate::money;
use crate::segment::{self, Segment};
use crate::state::AppState;
use crate::web::errors::urlencode;
use crate::web::format::{Choice, choices, dollars};
use crate::web::layout::Chrome;

const PAGE_SIZE: i64 = 50;
#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    segment: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: i64,
}

pub struct Row {
    id: String,
    external_id: String,
    name: String,
    segment: &'static str,
    plan: String,
    arr: String,
    seats: i32,
    status: String,
    renewal: String,
    owner: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/index.html")]
pub struct ListPage {
    chrome: Chrome,
    q: String,
    segments: Vec<Choice>,
    statuses: Vec<Choice>,
    rows: Vec<Row>,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Query(q): Query<ListQuery>,
) -> Result<ListPage> {
    let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let filter = Filter {
        search: non_empty(&q.q),
        segment: non_empty(&q.segment),
        status: non_empty(&q.status),
    };
    // Far past the last page is just an empty page, never an overflow.
    let page = q.page.clamp(0, 1_000_000);
    let found = db::list(
        &state.db,
        scope_for(&user),
        &filter,
        PAGE_SIZE + 1,
        page * PAGE_SIZE,
    )
    .await?;
    let more = found.len() as i64 > PAGE_SIZE;
    let url = |p: i64| {
        format!(
            "/accounts?q={}&segment={}&status={}&page={p}",
            urlencode(&q.q),
            urlencode(&q.segment),
            urlencode(&q.status)
        )
    };
    let rows = found
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|a| Row {
            id: a.id.to_string(),
            external_id: a.external_id,
            name: a.name,
            segment: segment::label_of(&a.segment),
            plan: a.plan,
            arr: dollars(money::arr_cents(a.mrr_cents)),
            seats: a.seats,
            status: a.status,
            renewal: a.renewal_date.map(|d| d.to_string()).unwrap_or_default(),
            owner: a.owner_name.unwrap_or_default(),
        })
        .collect();
    Ok(ListPage {
        chrome,
        segments: choices(&Segment::options(), &q.segment),
        statuses: choices(
            &[
                ("trial", "Trial"),
                ("active", "Active"),
                ("churned", "Churned"),
            ],
            &q.status,
        ),
        q: q.q.clone(),
        rows,
        prev: (page > 0).then(|| url(page - 1)),
        next: more.then(|| url(page + 1)),
    })
}

/// Everything Keel holds about one contact, as a JSON download (right of access).
pub async fn export_contact(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, contact)): Path<(Uuid, String)>,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let data = super::privacy::export(&state.db, &Actor::from(&user), id, &contact).await?;
    Ok((
        [(
            axum::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"contact-{contact}.json\""),
        )],
        axum::Json(data),
    )
        .into_response())
}

/// Erases one contact's personal data (GDPR); the aggregates stay.
pub async fn erase_contact(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, contact)): Path<(Uuid, String)>,
) -> Result<axum::response::Redirect> {
    super::privacy::erase(&state.db, &Actor::from(&user), id, &contact).await?;
    Ok(axum::response::Redirect::to(&format!(
        "/accounts/{id}?notice=Contact%20erased"
    )))
}
