//! The account page: header facts, health and churn with their drivers, score history,
//! usage, the timeline, contacts, and the forms to act; and the timeline alone for htmx.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_htmx::HxRequest;
use serde::Deserialize;
use time::Duration;
use uuid::Uuid;

use super::db;
use super::lists::{self, Lists};
use super::reading::{ScoreView, code_words, score_view};
use super::timeline::{self, Timeline, TimelineFragment};
use super::{charts, scope_for};
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::money;
use crate::reasons::db::ReasonCode;
use crate::segment::{self};
use crate::state::AppState;
use crate::web::format::{dollars, grouped};
use crate::web::layout::Chrome;

pub struct Line {
    cells: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/show.html")]
pub struct ShowPage {
    chrome: Chrome,
    name: String,
    score: Option<ScoreView>,
    facts: Vec<(&'static str, String)>,
    usage_charts: Vec<charts::UsageChart>,
    usage_summary: String,
    subscriptions: Vec<Line>,
    contacts: Vec<Line>,
    id: Uuid,
    history_chart: Option<crate::web::charts::DatedChart>,
    /// Inline when the address asks for a kind of entry (a bookmark, or the page opened without
    /// htmx); otherwise it loads when scrolled into view, so the page's first answer carries what
    /// is read first and skips the account's history of entries, its costliest read.
    timeline: Option<Timeline>,
    can_act: bool,
    /// The day it churned, for a former customer: no renewal, no scores, no prediction to
    /// judge, nothing to snooze.
    churned: Option<String>,
    /// For admins: each contact's CRM id and name, to export or erase their personal data.
    personal: Vec<(String, String)>,
    open_tasks: Vec<(i64, String)>,
    feedback_reasons: Vec<ReasonCode>,
    snooze_reasons: Vec<ReasonCode>,
    today: String,
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Path(id): Path<Uuid>,
    Query(q): Query<TimelineQuery>,
) -> Result<ShowPage> {
    // One connection for the page's reads: each checkout from the pool costs two round trips
    // (sqlx pings a connection as it hands it out and as it takes it back).
    let mut conn = state.db.acquire().await?;
    // Not visible and not existing look the same, so accounts cannot be enumerated.
    let (a, score) = db::find_scored(&mut *conn, scope_for(&user), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = state.clock.now().date();
    let Lists {
        contacts,
        subscriptions,
        open_tasks,
        usage,
        history,
        feedback_reasons,
        snooze_reasons,
    } = lists::lists(
        &mut *conn,
        id,
        today - Duration::days(90),
        today - Duration::days(180),
    )
    .await?;
    let renewal = match (a.churned_on, a.renewal_date) {
        (Some(_), _) => "none: no longer a customer".to_owned(),
        (None, Some(d)) => format!("{d} ({} days)", (d - today).whole_days()),
        (None, None) => String::new(),
    };
    let churned = a.churned_on.map(|d| d.to_string());
    let facts = vec![
        ("External id", a.external_id),
        ("Segment", segment::label_of(&a.segment).to_owned()),
        ("Plan", code_words(&a.plan)),
        ("Seats", a.seats.to_string()),
        ("ARR", dollars(money::arr_cents(a.mrr_cents))),
        ("Renewal", renewal),
        ("Customer since", a.customer_since.to_string()),
        (
            "Status",
            a.churned_on.map_or(code_words(&a.status), |d| {
                format!("{} on {d}", code_words(&a.status))
            }),
        ),
        ("CSM", a.owner_name.unwrap_or_else(|| "unassigned".into())),
        ("Executive sponsor", a.executive_sponsor.unwrap_or_default()),
    ];
    let recent: Vec<&lists::UsageDay> = usage.iter().rev().take(30).collect();
    let usage_summary = if recent.is_empty() {
        "No product usage in the last 90 days.".to_owned()
    } else {
        let avg = recent.iter().map(|d| d.active_users as f64).sum::<f64>() / 30.0;
        let core: i32 = recent.iter().map(|d| d.core_actions).sum();
        let features = recent.iter().map(|d| d.features).max().unwrap_or(0);
        format!(
            "Last 30 days: {avg:.1} active users a day, {} core actions, up to {features} feature areas in a day.",
            grouped(i64::from(core))
        )
    };
    let line = |cells: Vec<String>| Line { cells };
    let timeline = match q.kind {
        Some(_) => Some(timeline::load(&mut conn, id, timeline_kind(&q)?, &history).await?),
        None => None,
    };
    Ok(ShowPage {
        chrome,
        name: a.name,
        score: score.map(score_view),
        facts,
        usage_charts: charts::usage(&usage),
        usage_summary,
        subscriptions: subscriptions
            .into_iter()
            .map(|p| {
                line(vec![
                    p.period_start.to_string(),
                    p.period_end.to_string(),
                    code_words(&p.plan),
                    p.seats.to_string(),
                    dollars(p.mrr_cents),
                ])
            })
            .collect(),
        contacts: contacts
            .iter()
            .cloned()
            .map(|c| {
                line(vec![
                    c.name.unwrap_or_default(),
                    c.title.unwrap_or_default(),
                    c.email.unwrap_or_else(|| "erased".into()),
                    if c.is_champion {
                        "champion".into()
                    } else {
                        String::new()
                    },
                    c.last_active.map_or_else(
                        || "never".into(),
                        |d| {
                            let days = (today - d).whole_days();
                            match days {
                                0 => format!("{d} (today)"),
                                n => format!(
                                    "{d} ({} ago)",
                                    crate::web::format::count(n, "day", "days")
                                ),
                            }
                        },
                    ),
                ])
            })
            .collect(),
        personal: if user.role == Role::Admin {
            contacts
                .iter()
                .map(|c| {
                    (
                        c.external_id.clone(),
                        c.name.clone().unwrap_or_else(|| "erased".into()),
                    )
                })
                .collect()
        } else {
            Vec::new()
        },
        id,
        history_chart: charts::history(&history),
        timeline,
        can_act: matches!(user.role, Role::Csm | Role::Manager),
        churned,
        open_tasks,
        feedback_reasons,
        snooze_reasons,
        today: today.to_string(),
    })
}

#[derive(Deserialize)]
pub struct TimelineQuery {
    kind: Option<String>,
}

/// The timeline kind asked for, if it is one; none for every kind.
fn timeline_kind(q: &TimelineQuery) -> Result<Option<&str>> {
    match q.kind.as_deref().filter(|k| !k.is_empty()) {
        Some(k) if !timeline::KINDS.iter().any(|(v, _)| *v == k) => Err(AppError::BadRequest(
            format!("kind: '{k}' is not a kind of timeline entry"),
        )),
        kind => Ok(kind),
    }
}

/// The timeline alone, filtered by kind (htmx swaps it in place); opened as a page of its
/// own (a new tab, a bookmark), the account page with that filter.
pub async fn timeline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Query(q): Query<TimelineQuery>,
    HxRequest(htmx): HxRequest,
) -> Result<Response> {
    let mut conn = state.db.acquire().await?;
    db::find(&mut *conn, scope_for(&user), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let kind = timeline_kind(&q)?;
    if !htmx {
        let kind = kind.unwrap_or_default();
        return Ok(Redirect::to(&format!("/accounts/{id}?kind={kind}#timeline")).into_response());
    }
    let today = state.clock.now().date();
    let history = db::score_history(&mut *conn, id, today - Duration::days(180)).await?;
    Ok(TimelineFragment {
        timeline: timeline::load(&mut conn, id, kind, &history).await?,
    }
    .into_response())
}
