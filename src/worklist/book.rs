//! The ranked book: each account's row (priority, score, flags) and the page of rows the
//! worklist shows.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;
use time::Date;
use uuid::Uuid;

use super::db::{self, BookRow};
use super::priority;
use crate::error::{AppError, Result};
use crate::money;
use crate::state::{AppState, Memo};
use crate::web::format::dollars;

const PAGE_SIZE: usize = 50;

/// The worklist's filters, sort and page, all in the URL so a view can be bookmarked.
#[derive(Deserialize, Default, Clone)]
pub struct WorklistQuery {
    pub(super) csm: Option<String>,
    pub(super) band: Option<String>,
    pub(super) tier: Option<String>,
    pub(super) segment: Option<String>,
    pub(super) renewal: Option<String>,
    pub(super) flagged: Option<String>,
    /// Expansion candidates: `high` propensity, or `ready` (medium or high).
    pub(super) expansion: Option<String>,
    pub(super) snoozed: Option<String>,
    pub(super) q: Option<String>,
    pub(super) sort: Option<String>,
    pub(super) page: Option<usize>,
}

impl WorklistQuery {
    pub(super) fn value(v: &Option<String>) -> &str {
        v.as_deref().map(str::trim).unwrap_or("")
    }

    /// The query string of this view with another page (and everything else kept).
    fn with_page(&self, page: usize) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("csm", &self.csm),
            ("band", &self.band),
            ("tier", &self.tier),
            ("segment", &self.segment),
            ("renewal", &self.renewal),
            ("flagged", &self.flagged),
            ("expansion", &self.expansion),
            ("snoozed", &self.snoozed),
            ("q", &self.q),
            ("sort", &self.sort),
        ] {
            if !Self::value(v).is_empty() {
                out.append_pair(k, Self::value(v));
            }
        }
        out.append_pair("page", &page.to_string());
        out.finish()
    }
}

pub struct AccountRow {
    pub(super) id: Uuid,
    pub(super) name: String,
    pub(super) segment: String,
    pub(super) band: String,
    pub(super) health: String,
    pub(super) trend: &'static str,
    pub(super) trend_label: String,
    pub(super) tier: String,
    pub(super) probability: String,
    pub(super) driver: String,
    pub(super) arr: String,
    pub(super) renewal: String,
    pub(super) flags: Vec<Flag>,
    pub(super) priority: String,
    pub(super) snoozed_until: Option<String>,
}

/// A flag on a worklist row: a badge with its detail as a tooltip.
pub struct Flag {
    pub(super) level: &'static str,
    pub(super) label: &'static str,
    pub(super) detail: String,
}

/// The ranked accounts: the part a filter change replaces. The worklist page and
/// [`BookFragment`] both draw it with `templates/worklist/book.html`.
pub struct BookView {
    pub(super) rows: Vec<AccountRow>,
    pub(super) total: usize,
    pub(super) page: usize,
    pub(super) pages: usize,
    pub(super) prev: Option<String>,
    pub(super) next: Option<String>,
    pub(super) can_act: bool,
}

#[derive(Template, WebTemplate)]
#[template(source = r#"{% include "worklist/book.html" %}"#, ext = "html")]
pub struct BookFragment {
    pub(super) book: BookView,
}

fn trend(t: Option<&str>) -> (&'static str, String) {
    match t {
        Some("improving") => ("↑", "improving".into()),
        Some("declining") => ("↓", "declining".into()),
        Some(other) => ("→", other.to_owned()),
        None => ("", "no history".into()),
    }
}

fn row_view(r: &BookRow, today: Date) -> AccountRow {
    let (arrow, trend_label) = trend(r.trajectory.as_deref());
    let mut flags = Vec::new();
    if r.at_risk == Some(true) {
        flags.push(Flag {
            level: "red",
            label: "at risk",
            detail: "churn probability at or above the at-risk threshold".into(),
        });
    }
    if let Some(a) = &r.anomaly {
        flags.push(Flag {
            level: "yellow",
            label: "anomaly",
            detail: a.clone(),
        });
    }
    if let Some(c) = &r.champion_loss {
        flags.push(Flag {
            level: "yellow",
            label: "champion",
            detail: c.clone(),
        });
    }
    if let (Some("high"), Some(p)) = (r.expansion_tier.as_deref(), r.propensity) {
        flags.push(Flag {
            level: "green",
            label: "expand",
            detail: format!("expansion propensity {p:.0} of 100: ready to hand to sales"),
        });
    }
    let days = r.renewal_date.map(|d| (d - today).whole_days());
    AccountRow {
        id: r.id,
        segment: crate::segment::label_of(&r.segment).to_owned(),
        band: r.band.clone().unwrap_or_else(|| "grey".into()),
        health: r
            .health_score
            .map_or_else(|| "—".into(), |h| format!("{h:.0}")),
        trend: arrow,
        trend_label,
        tier: r.risk_tier.clone().unwrap_or_default(),
        probability: r
            .churn_probability
            .map_or_else(|| "—".into(), |p| format!("{:.0} %", p * 100.0)),
        driver: r.driver.clone().unwrap_or_default(),
        arr: dollars(money::arr_cents(r.mrr_cents)),
        renewal: match (r.renewal_date, days) {
            (Some(d), Some(n)) => format!("{d} ({n} d)"),
            _ => "—".into(),
        },
        flags,
        priority: crate::web::format::dollars((priority(r, today) * 100.0).round() as i64),
        snoozed_until: r.snoozed_until.map(|d| d.to_string()),
        name: r.name.clone(),
    }
}

/// Books read by (CSM, day), each with the version read before it: a worklist reads the
/// version (one indexed row) and the book only when it moved, so a CSM's page costs what
/// their own changes cost, not a read of every account's latest scores.
#[derive(Default)]
struct Books(Memo<(Uuid, Date), Versioned>);

/// A book and the version read before it.
type Versioned = (i64, Arc<Vec<BookRow>>);

/// How long a book nobody asks for is kept (the version, not this, keeps it right).
const BOOK_KEPT: std::time::Duration = std::time::Duration::from_secs(3600);

/// The CSM's book as of its current version.
async fn rows(state: &AppState, csm: Uuid, today: Date) -> Result<Arc<Vec<BookRow>>> {
    let version = db::book_version(&state.db, csm).await?;
    let read = async { Ok(Arc::new(db::book(&state.db, csm, today).await?)) };
    let books = state.caches.get::<Books>();
    books
        .0
        .current_or((csm, today), version, BOOK_KEPT, read)
        .await
}

/// Whose book is shown: a CSM's own; a manager's pick among their team; an executive's pick
/// among all CSMs (read-only).
pub(super) async fn book_view(
    state: &AppState,
    csm: Uuid,
    q: &WorklistQuery,
    today: Date,
    can_act: bool,
) -> Result<BookView> {
    let v = |o: &Option<String>| WorklistQuery::value(o).to_lowercase();
    let (band, tier, segment, search) = (v(&q.band), v(&q.tier), v(&q.segment), v(&q.q));
    let renewal: Option<i64> = match v(&q.renewal).as_str() {
        "" => None,
        n => Some(n.parse().map_err(|_| {
            AppError::BadRequest(format!("renewal: '{n}' is not a number of days"))
        })?),
    };
    let (flagged, snoozed) = (!v(&q.flagged).is_empty(), !v(&q.snoozed).is_empty());
    let expansion: &[&str] = match v(&q.expansion).as_str() {
        "" => &[],
        "high" => &["high"],
        "ready" => &["high", "medium"],
        other => {
            return Err(AppError::BadRequest(format!(
                "expansion: '{other}' is not high or ready"
            )));
        }
    };
    let book = rows(state, csm, today).await?;
    let mut rows: Vec<&BookRow> = book
        .iter()
        .filter(|r| band.is_empty() || r.band.as_deref() == Some(band.as_str()))
        .filter(|r| tier.is_empty() || r.risk_tier.as_deref() == Some(tier.as_str()))
        .filter(|r| segment.is_empty() || r.segment == segment)
        .filter(|r| {
            renewal.is_none_or(|n| {
                r.renewal_date
                    .is_some_and(|d| (0..=n).contains(&(d - today).whole_days()))
            })
        })
        .filter(|r| {
            !flagged || r.at_risk == Some(true) || r.anomaly.is_some() || r.champion_loss.is_some()
        })
        .filter(|r| snoozed == r.snoozed_until.is_some())
        .filter(|r| {
            expansion.is_empty()
                || r.expansion_tier
                    .as_deref()
                    .is_some_and(|t| expansion.contains(&t))
        })
        .filter(|r| search.is_empty() || r.name.to_lowercase().contains(&search))
        .collect();
    match v(&q.sort).as_str() {
        "arr" => rows.sort_by_key(|r| std::cmp::Reverse(r.mrr_cents)),
        "renewal" => rows.sort_by_key(|r| r.renewal_date.unwrap_or(Date::MAX)),
        "health" => rows.sort_by(|a, b| {
            a.health_score
                .unwrap_or(f32::MAX)
                .total_cmp(&b.health_score.unwrap_or(f32::MAX))
        }),
        "name" => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        "priority" | "" => rows.sort_by(|a, b| priority(b, today).total_cmp(&priority(a, today))),
        other => {
            return Err(AppError::BadRequest(format!(
                "sort: '{other}' is not one of priority, arr, renewal, health, name"
            )));
        }
    }
    let total = rows.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let rows = rows
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|r| row_view(r, today))
        .collect();
    Ok(BookView {
        rows,
        total,
        page,
        pages,
        prev: (page > 1).then(|| q.with_page(page - 1)),
        next: (page < pages).then(|| q.with_page(page + 1)),
        can_act,
    })
}
