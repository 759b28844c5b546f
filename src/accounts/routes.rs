//! The account list: search, segment and status filters, paged.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::db::{self, Filter, Sort};
use super::scope_for;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::auth::audit::Actor;
use crate::error::Result;
use crate::money;
use crate::segment::{self, Segment};
use crate::state::AppState;
use crate::web::errors::urlencode;
use crate::web::format::{Choice, choices, count, dollars};
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
    sort: Sort,
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
    health: String,
    band: String,
    churn: String,
}

/// A column heading that sorts the list by it (keeping the filters), marked when in force.
pub struct Heading {
    href: String,
    active: bool,
}

/// The sortable columns' headings.
pub struct Headings {
    name: Heading,
    arr: Heading,
    health: Heading,
    churn: Heading,
    renewal: Heading,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/index.html")]
pub struct ListPage {
    chrome: Chrome,
    q: String,
    segments: Vec<Choice>,
    statuses: Vec<Choice>,
    rows: Vec<Row>,
    total: String,
    sort: &'static str,
    headings: Headings,
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
        q.sort,
        PAGE_SIZE + 1,
        page * PAGE_SIZE,
    )
    .await?;
    let more = found.len() as i64 > PAGE_SIZE;
    let total = found.first().map_or(0, |a| a.total);
    let url = |sort: Sort, p: i64| {
        format!(
            "/accounts?q={}&segment={}&status={}&sort={}&page={p}",
            urlencode(&q.q),
            urlencode(&q.segment),
            urlencode(&q.status),
            sort.as_str()
        )
    };
    let heading = |s: Sort| Heading {
        href: url(s, 0),
        active: s == q.sort,
    };
    let headings = Headings {
        name: heading(Sort::Name),
        arr: heading(Sort::Arr),
        health: heading(Sort::Health),
        churn: heading(Sort::Churn),
        renewal: heading(Sort::Renewal),
    };
    let rows = found
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|a| Row {
            id: a.id.to_string(),
            external_id: a.external_id,
            name: a.name,
            segment: segment::label_of(&a.segment),
            plan: super::reading::code_words(&a.plan),
            arr: dollars(money::arr_cents(a.mrr_cents)),
            seats: a.seats,
            status: super::reading::code_words(&a.status),
            renewal: a.renewal_date.map(|d| d.to_string()).unwrap_or_default(),
            owner: a.owner_name.unwrap_or_default(),
            health: a
                .health_score
                .map_or_else(String::new, |h| format!("{h:.0}")),
            band: a.band.unwrap_or_default(),
            churn: a
                .churn_probability
                .map_or_else(String::new, |p| format!("{:.1} %", p * 100.0)),
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
        total: if page == 0 && total == 0 {
            String::new()
        } else {
            count(total, "account", "accounts")
        },
        sort: q.sort.as_str(),
        headings,
        prev: (page > 0).then(|| url(q.sort, page - 1)),
        next: more.then(|| url(q.sort, page + 1)),
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
