//! The event types page: what the data holds, the mapping in force with its past versions,
//! a preview of the features under a proposed mapping (htmx), and saving it.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::catalog::{self, Profile};
use super::preview::{self, MEASURES, Spread};
use super::rules::{self, Compiled};
use super::{db, save as save_mapping};
use crate::auth::CurrentUser;
use crate::auth::audit::Actor;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::format::{count, grouped};
use crate::web::layout::Chrome;

/// A catalogue row: the profile and what the mapping in force makes of the type.
pub struct Row {
    p: Profile,
    counts_as: String,
    /// 7 / 30 / 90-day figures, grouped for reading.
    events: String,
    accounts: String,
    people: String,
}

fn windows(a: i64, b: i64, c: i64) -> String {
    format!("{} / {} / {}", grouped(a), grouped(b), grouped(c))
}

pub struct Version {
    id: i64,
    note: String,
    by: String,
    when: String,
    rules: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "taxonomy/index.html")]
pub struct Page {
    chrome: Chrome,
    /// The day the figures end on, once computed.
    day: Option<String>,
    /// Whether any event type has been seen.
    seen: bool,
    summary: String,
    sort: String,
    sorts: [(&'static str, &'static str); 6],
    rows: Vec<Row>,
    text: String,
    note: String,
    errors: Vec<String>,
    saved: Option<i64>,
    /// A mapping is still being applied in the background.
    applying: bool,
    /// The figures are still being recomputed in the background.
    refreshing: bool,
    versions: Vec<Version>,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    sort: String,
    saved: Option<i64>,
    #[serde(default)]
    applying: bool,
    #[serde(default)]
    refreshing: bool,
}

async fn page(state: &AppState, chrome: Chrome, sort: &str) -> Result<Page> {
    let mapping = super::current(&state.db).await?;
    let (mut profiles, day) = catalog::profiles(&state.db).await?;
    catalog::sort(&mut profiles, sort);
    let rows: Vec<Row> = profiles
        .into_iter()
        .map(|p| Row {
            counts_as: mapping.describe(&p.name),
            events: windows(p.events_7d, p.events_30d, p.events_90d),
            accounts: windows(p.accounts_7d, p.accounts_30d, p.accounts_90d),
            people: windows(p.users_7d, p.users_30d, p.users_90d),
            p,
        })
        .collect();
    let unmapped = rows
        .iter()
        .filter(|r| r.counts_as == "activity only")
        .count();
    let versions = db::versions(&state.db)
        .await?
        .into_iter()
        .map(|v| Version {
            id: v.id,
            note: v.note,
            by: v.created_by,
            when: crate::web::format::timestamp(v.created_at),
            rules: serde_json::from_value(v.rules)
                .map(|r: Vec<rules::Rule>| rules::text(&r))
                .unwrap_or_default(),
        })
        .collect::<Vec<_>>();
    let summary = format!(
        "{} seen; {} count as activity only (no rule matches them); the mapping names {}.",
        count(rows.len() as i64, "event type", "event types"),
        count(unmapped as i64, "type", "types"),
        count(
            mapping.modules.len() as i64,
            "feature area",
            "feature areas"
        ),
    );
    Ok(Page {
        chrome,
        day: day.map(|d| d.to_string()),
        seen: !rows.is_empty(),
        summary,
        sort: if catalog::SORTS.iter().any(|s| s.0 == sort) {
            sort.to_owned()
        } else {
            "events_30d".to_owned()
        },
        sorts: catalog::SORTS,
        rows,
        text: rules::text(&mapping.rules),
        note: String::new(),
        errors: Vec::new(),
        saved: None,
        applying: false,
        refreshing: false,
        versions,
    })
}

pub async fn show(
    State(state): State<AppState>,
    chrome: Chrome,
    Query(q): Query<ShowQuery>,
) -> Result<Page> {
    let mut page = page(&state, chrome, &q.sort).await?;
    page.saved = q.saved;
    page.applying = q.applying;
    page.refreshing = q.refreshing;
    Ok(page)
}

#[derive(Deserialize)]
pub struct MappingForm {
    rules: String,
    #[serde(default)]
    note: String,
}

/// One measure under the mapping in force and under the proposal.
pub struct Compared {
    measure: &'static str,
    now: Spread,
    proposed: Spread,
}

#[derive(Template, WebTemplate)]
#[template(path = "taxonomy/_preview.html")]
pub struct PreviewFragment {
    errors: Vec<String>,
    day: String,
    accounts: usize,
    compared: Vec<Compared>,
    changes: Vec<(String, String, String)>,
}

pub async fn preview(
    State(state): State<AppState>,
    Form(form): Form<MappingForm>,
) -> Result<PreviewFragment> {
    let mut fragment = PreviewFragment {
        errors: Vec::new(),
        day: String::new(),
        accounts: 0,
        compared: Vec::new(),
        changes: Vec::new(),
    };
    let proposed = match rules::parse(&form.rules) {
        Ok(r) => Compiled::new(r),
        Err(errors) => {
            fragment.errors = errors;
            return Ok(fragment);
        }
    };
    let Some(day) = catalog::newest_day(&state.db).await? else {
        fragment.errors = vec!["no events have been loaded yet".into()];
        return Ok(fragment);
    };
    let current = super::current(&state.db).await?;
    let usage = preview::usage(&state.db, day).await?;
    let (now, next) = (usage.measure(&current), usage.measure(&proposed));
    fragment.day = day.to_string();
    fragment.accounts = now.len();
    fragment.compared = MEASURES
        .iter()
        .zip(
            preview::spreads(&now)
                .into_iter()
                .zip(preview::spreads(&next)),
        )
        .map(|(measure, (now, proposed))| Compared {
            measure,
            now,
            proposed,
        })
        .collect();
    fragment.changes = usage.changes(&current, &proposed);
    Ok(fragment)
}

/// Runs `work` in its own task, so it completes (or rolls back whole) whether or not the
/// browser waits: its result if it ends within a few seconds, `None` while it still runs.
async fn within_moments<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<Option<T>> {
    match tokio::time::timeout(std::time::Duration::from_secs(5), tokio::spawn(work)).await {
        Ok(joined) => Ok(Some(joined.map_err(anyhow::Error::from)?)),
        Err(_) => Ok(None),
    }
}

/// Recomputes the catalogue's figures up to the newest day of data (the daily run does
/// this too); at scale that outlasts a request, and the page then says it is under way.
pub async fn refresh(State(state): State<AppState>) -> Result<Redirect> {
    let db = state.db.clone();
    let done = within_moments(async move {
        let refreshed = match catalog::newest_day(&db).await {
            Ok(Some(day)) => catalog::refresh(&db, day).await.map(|_| ()),
            other => other.map(|_| ()),
        };
        if let Err(e) = &refreshed {
            tracing::error!(error = %e, "event figures not recomputed");
        }
        refreshed
    })
    .await?;
    match done {
        Some(refreshed) => {
            refreshed?;
            Ok(Redirect::to("/event-types"))
        }
        None => Ok(Redirect::to("/event-types?refreshing=true")),
    }
}

pub async fn save(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    Form(form): Form<MappingForm>,
) -> Result<Response> {
    if let Err(errors) = rules::parse(&form.rules) {
        let mut page = page(&state, chrome, "").await?;
        page.errors = errors;
        page.text = form.rules;
        page.note = form.note;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let actor = Actor::from(&user);
    let db = state.db.clone();
    let done = within_moments(async move {
        let started = std::time::Instant::now();
        let saved = save_mapping(&db, &actor, &form.rules, &form.note).await;
        match &saved {
            Ok(Ok(id)) => tracing::info!(
                id,
                ms = started.elapsed().as_millis(),
                "event mapping applied"
            ),
            Ok(Err(_)) => {}
            Err(e) => tracing::error!(error = %e, "event mapping not applied"),
        }
        saved
    })
    .await?;
    let to = match done {
        Some(saved) => match saved? {
            Ok(id) => format!("/event-types?saved={id}"),
            Err(errors) => return Err(AppError::BadRequest(errors.join("; "))),
        },
        None => "/event-types?applying=true".to_owned(),
    };
    Ok(Redirect::to(&to).into_response())
}
