//! The worklist page and the actions a CSM takes from it or from an account page: complete a
//! task, log an intervention, snooze an account, leave feedback on a prediction. Each action
//! answers htmx with the fragment that changed.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_htmx::HxRequest;
use serde::Deserialize;
use serde_json::json;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::db::{self, BookRow, NewFeedback, NewIntervention, NewTask};
use super::{Countdown, priority};
use crate::accounts::{self, scope_for};
use crate::auth::audit::{self, Actor};
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::reasons;
use crate::state::AppState;
use crate::web::format::{dollars, parse_date};
use crate::web::layout::Chrome;

const PAGE_SIZE: usize = 50;

/// Tells an open account page to reload its timeline.
const TIMELINE_CHANGED: [(HeaderName, HeaderValue); 1] = [(
    HeaderName::from_static("hx-trigger"),
    HeaderValue::from_static("timeline-changed"),
)];

/// The worklist's filters, sort and page, all in the URL so a view can be bookmarked.
#[derive(Deserialize, Default, Clone)]
pub struct WorklistQuery {
    csm: Option<String>,
    band: Option<String>,
    tier: Option<String>,
    segment: Option<String>,
    renewal: Option<String>,
    flagged: Option<String>,
    snoozed: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    page: Option<usize>,
}

impl WorklistQuery {
    fn value(v: &Option<String>) -> &str {
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
    id: Uuid,
    name: String,
    segment: String,
    band: String,
    health: String,
    trend: &'static str,
    trend_label: String,
    tier: String,
    probability: String,
    driver: String,
    arr: String,
    renewal: String,
    flags: Vec<Flag>,
    priority: String,
    snoozed_until: Option<String>,
}

/// A flag on a worklist row: a badge with its detail as a tooltip.
pub struct Flag {
    level: &'static str,
    label: &'static str,
    detail: String,
}

pub struct TaskView {
    id: i64,
    account_id: Uuid,
    account_name: String,
    title: String,
    kind: String,
    reason: String,
    countdown: Countdown,
}

pub struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choices(options: &[(&str, &str)], selected: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).to_owned(),
            label: (*label).to_owned(),
            selected: *value == selected,
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "worklist/index.html")]
pub struct WorklistPage {
    chrome: Chrome,
    book: BookView,
    csms: Vec<Choice>,
    viewing: String,
    tasks: Vec<TaskView>,
    save_rate: String,
    filters: Filters,
}

pub struct Filters {
    band: Vec<Choice>,
    tier: Vec<Choice>,
    segment: Vec<Choice>,
    renewal: Vec<Choice>,
    sort: Vec<Choice>,
    flagged: bool,
    snoozed: bool,
    q: String,
    csm: String,
}

/// The ranked accounts: the part a filter change replaces.
#[derive(Template, WebTemplate)]
#[template(path = "worklist/book.html")]
pub struct BookView {
    rows: Vec<AccountRow>,
    total: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
    can_act: bool,
}

fn trend(t: Option<&str>) -> (&'static str, String) {
    match t {
        Some("improving") => ("↑", "improving".into()),
        Some("declining") => ("↓", "declining".into()),
        Some(other) => ("→", other.to_owned()),
        None => ("", "no history".into()),
    }
}

fn row_view(r: BookRow, today: Date) -> AccountRow {
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
    let days = r.renewal_date.map(|d| (d - today).whole_days());
    AccountRow {
        id: r.id,
        segment: crate::accounts::segment_label(&r.segment).to_owned(),
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
        driver: r
            .drivers
            .as_ref()
            .and_then(|d| d.get(0))
            .and_then(|d| d.get("text"))
            .and_then(|t| t.as_str())
            .unwrap_or("")
            .to_owned(),
        arr: dollars(r.mrr_cents * 12),
        renewal: match (r.renewal_date, days) {
            (Some(d), Some(n)) => format!("{d} ({n} d)"),
            _ => "—".into(),
        },
        flags,
        priority: format!("{:.0}", priority(&r, today)),
        snoozed_until: r.snoozed_until.map(|d| d.to_string()),
        name: r.name,
    }
}

/// Whose book is shown: a CSM's own; a manager's pick among their team; an executive's pick
/// among all CSMs (read-only).
async fn viewed_csm(
    state: &AppState,
    user: &CurrentUser,
    requested: &str,
) -> Result<(Uuid, Vec<(Uuid, String)>)> {
    let team = match user.role {
        Role::Csm => return Ok((user.id, Vec::new())),
        Role::Manager => db::csms(&state.db, Some(user.id)).await?,
        _ => db::csms(&state.db, None).await?,
    };
    let chosen = match requested.parse::<Uuid>() {
        Ok(id) => team
            .iter()
            .find(|c| c.0 == id)
            .map(|c| c.0)
            .ok_or(AppError::NotFound)?,
        Err(_) => team.first().map_or(user.id, |c| c.0),
    };
    Ok((chosen, team))
}

fn can_act(user: &CurrentUser) -> bool {
    matches!(user.role, Role::Csm | Role::Manager)
}

pub async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    HxRequest(htmx): HxRequest,
    Query(q): Query<WorklistQuery>,
) -> Result<Response> {
    let today = OffsetDateTime::now_utc().date();
    let (csm, team) = viewed_csm(&state, &user, WorklistQuery::value(&q.csm)).await?;
    let book = book_view(&state, csm, &q, today, can_act(&user)).await?;
    let vary = [(
        HeaderName::from_static("vary"),
        HeaderValue::from_static("HX-Request"),
    )];
    if htmx {
        return Ok((vary, book).into_response());
    }
    let rate = db::save_rate(&state.db, Some(csm), None, today).await?;
    let team_rate = match user.role {
        Role::Manager => Some(db::save_rate(&state.db, None, Some(user.id), today).await?),
        _ => None,
    };
    let describe = |r: &db::SaveRate| {
        format!(
            "{} flagged, {} contacted within 14 days, {} retained ({})",
            r.flagged,
            r.contacted,
            r.retained,
            if r.flagged > 0 {
                format!(
                    "{:.0} % saved",
                    100.0 * r.retained as f64 / r.flagged as f64
                )
            } else {
                "no flags with a known outcome yet".to_owned()
            }
        )
    };
    let mut save_rate = describe(&rate);
    if let Some(t) = &team_rate {
        save_rate.push_str(&format!("; your team: {}", describe(t)));
    }
    let now = OffsetDateTime::now_utc();
    let tasks = db::open_tasks(&state.db, csm)
        .await?
        .into_iter()
        .map(|t| TaskView {
            id: t.id,
            account_id: t.account_id,
            account_name: t.account_name,
            title: t.title,
            kind: t.kind,
            reason: t.reason,
            countdown: Countdown::new(t.due_at, now),
        })
        .collect();
    let v = |o: &Option<String>| WorklistQuery::value(o).to_owned();
    let filters = Filters {
        band: choices(
            &[
                ("", "Any band"),
                ("red", "Red"),
                ("yellow", "Yellow"),
                ("green", "Green"),
            ],
            &v(&q.band),
        ),
        tier: choices(
            &[
                ("", "Any tier"),
                ("high", "High"),
                ("medium", "Medium"),
                ("low", "Low"),
            ],
            &v(&q.tier),
        ),
        segment: choices(
            &[
                ("", "Any segment"),
                ("enterprise", "Enterprise"),
                ("mid_market", "Mid-market"),
                ("smb", "SMB"),
                ("self_serve", "Self-serve"),
            ],
            &v(&q.segment),
        ),
        renewal: choices(
            &[
                ("", "Any renewal"),
                ("30", "Within 30 days"),
                ("60", "Within 60 days"),
                ("90", "Within 90 days"),
            ],
            &v(&q.renewal),
        ),
        sort: choices(
            &[
                ("priority", "Priority"),
                ("arr", "ARR"),
                ("renewal", "Renewal date"),
                ("health", "Health (worst first)"),
                ("name", "Name"),
            ],
            &v(&q.sort),
        ),
        flagged: !v(&q.flagged).is_empty(),
        snoozed: !v(&q.snoozed).is_empty(),
        q: v(&q.q),
        csm: csm.to_string(),
    };
    let viewing = team
        .iter()
        .find(|c| c.0 == csm)
        .map_or_else(|| user.name.clone(), |c| c.1.clone());
    Ok((
        vary,
        WorklistPage {
            chrome,
            book,
            csms: team
                .iter()
                .map(|(id, name)| Choice {
                    value: id.to_string(),
                    label: name.clone(),
                    selected: *id == csm,
                })
                .collect(),
            viewing,
            tasks,
            save_rate,
            filters,
        },
    )
        .into_response())
}

async fn book_view(
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
    let mut rows: Vec<BookRow> = db::book(&state.db, csm, today)
        .await?
        .into_iter()
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

/// The account, if the user may act on it; 404 otherwise (accounts are not enumerable).
async fn actionable(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<accounts::db::Account> {
    accounts::db::find(&state.db, scope_for(user), id)
        .await?
        .ok_or(AppError::NotFound)
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", |v| v.trim())
}

/// What an action did, in words: a table row spanning `colspan` cells, or a notice.
#[derive(Template, WebTemplate)]
#[template(path = "worklist/done.html")]
pub struct Done {
    pub message: String,
    pub colspan: u8,
}

/// Completes one of the viewed CSM's open tasks.
pub async fn complete_task(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Done> {
    let assignee = task_assignee(&state, &user, id).await?;
    let mut tx = state.db.begin().await?;
    let account = db::complete_task(&mut *tx, id, assignee, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &mut *tx,
        &Actor::from(&user),
        "task.complete",
        Some(format!("task:{id}")),
        json!({"account": account}),
    )
    .await?;
    tx.commit().await?;
    Ok(Done {
        message: "Done.".into(),
        colspan: 5,
    })
}

/// A CSM completes their own tasks; a manager their team's.
async fn task_assignee(state: &AppState, user: &CurrentUser, task: i64) -> Result<Uuid> {
    let assignee: Option<Uuid> = sqlx::query_scalar!(
        r#"select t.assignee_id from tasks t join users u on u.id = t.assignee_id
           where t.id = $1 and (t.assignee_id = $2 or u.manager_id = $2)"#,
        task,
        user.id
    )
    .fetch_optional(&state.db)
    .await?;
    assignee.ok_or(AppError::NotFound)
}

const KINDS: [&str; 7] = [
    "call",
    "email",
    "meeting",
    "in_app",
    "qbr",
    "remediation",
    "other",
];
const OUTCOMES: [&str; 4] = ["positive", "neutral", "negative", "no_response"];

/// Logs an intervention (closing the task it answers, if any); an optional follow-up opens
/// a task due in that many days.
pub async fn log_intervention(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response> {
    let account = actionable(&state, &user, id).await?;
    let kind = field(&form, "kind");
    if !KINDS.contains(&kind) {
        return Err(AppError::BadRequest(format!(
            "kind: '{kind}' is not one of {}",
            KINDS.join(", ")
        )));
    }
    let outcome = field(&form, "outcome");
    if !OUTCOMES.contains(&outcome) {
        return Err(AppError::BadRequest(format!(
            "outcome: '{outcome}' is not one of {}",
            OUTCOMES.join(", ")
        )));
    }
    let today = OffsetDateTime::now_utc().date();
    let happened_on = match field(&form, "happened_on") {
        "" => today,
        raw => parse_date(raw, "happened_on")?,
    };
    if happened_on > today {
        return Err(AppError::BadRequest(
            "happened_on: an intervention cannot be in the future".into(),
        ));
    }
    let task = match field(&form, "task_id") {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::BadRequest(format!("task_id: '{raw}' is not a task")))?,
        ),
    };
    let follow_up: Option<i64> = match field(&form, "follow_up_days") {
        "" => None,
        raw => match raw.parse() {
            Ok(n) if (1..=90).contains(&n) => Some(n),
            _ => {
                return Err(AppError::BadRequest(format!(
                    "follow_up_days: '{raw}' is not 1–90 days"
                )));
            }
        },
    };
    let notes = field(&form, "notes");
    let mut tx = state.db.begin().await?;
    if let Some(t) = task
        && !db::close_task_on(&mut *tx, t, id, user.id).await?
    {
        return Err(AppError::BadRequest(format!(
            "task_id: {t} is not an open task on this account"
        )));
    }
    let intervention = db::insert_intervention(
        &mut *tx,
        &NewIntervention {
            account: id,
            user: user.id,
            task,
            kind,
            happened_on,
            outcome,
            notes,
        },
    )
    .await?;
    let mut message = format!(
        "Logged {} ({}) on {happened_on}.",
        kind.replace('_', " "),
        outcome.replace('_', " ")
    );
    if let Some(days) = follow_up {
        let owner = account.owner_id.unwrap_or(user.id);
        let reason = format!("follow-up of intervention {intervention}");
        db::insert_task(
            &mut *tx,
            &NewTask {
                account: id,
                assignee: owner,
                title: &format!("Follow up with {}", account.name),
                kind: "follow_up",
                due_at: OffsetDateTime::now_utc() + Duration::days(days),
                reason: &reason,
            },
        )
        .await?;
        message.push_str(&format!(" Follow-up due in {days} days."));
    }
    audit::record(
        &mut *tx,
        &Actor::from(&user),
        "intervention.log",
        Some(format!("account:{id}")),
        json!({"intervention": intervention, "kind": kind, "outcome": outcome, "task": task, "follow_up_days": follow_up}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        TIMELINE_CHANGED,
        Done {
            message,
            colspan: 1,
        },
    )
        .into_response())
}

/// Hides an account from the worklist until a date, with a reason.
pub async fn snooze(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Done> {
    actionable(&state, &user, id).await?;
    let days: i64 = match field(&form, "days").parse() {
        Ok(n) if (1..=90).contains(&n) => n,
        _ => {
            return Err(AppError::BadRequest(format!(
                "days: '{}' is not 1–90 days",
                field(&form, "days")
            )));
        }
    };
    let reason = field(&form, "reason");
    let code = known_reason(&state, "snooze", reason).await?;
    let until = OffsetDateTime::now_utc().date() + Duration::days(days);
    let mut tx = state.db.begin().await?;
    db::insert_snooze(&mut *tx, id, user.id, until, reason, field(&form, "note")).await?;
    audit::record(
        &mut *tx,
        &Actor::from(&user),
        "account.snooze",
        Some(format!("account:{id}")),
        json!({"until": until.to_string(), "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(Done {
        message: format!("Snoozed until {until}: {}.", code.label),
        colspan: 10,
    })
}

/// The active reason code `code` of `kind`, or a refusal naming it.
async fn known_reason(state: &AppState, kind: &str, code: &str) -> Result<reasons::db::ReasonCode> {
    reasons::db::reason_codes(&state.db, kind)
        .await?
        .into_iter()
        .find(|c| c.code == code)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "reason: pick one of the listed reasons ('{code}' is not one)"
            ))
        })
}

const VERDICTS: [&str; 3] = ["agree", "false_positive", "missed_churn"];

/// Feedback on the account's latest prediction: agree, false positive or missed churn.
pub async fn feedback(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response> {
    actionable(&state, &user, id).await?;
    let verdict = field(&form, "verdict");
    if !VERDICTS.contains(&verdict) {
        return Err(AppError::BadRequest(format!(
            "verdict: '{verdict}' is not one of agree, false_positive, missed_churn"
        )));
    }
    let reason = field(&form, "reason");
    known_reason(&state, "feedback", reason).await?;
    let mut tx = state.db.begin().await?;
    let recorded = db::insert_feedback(
        &mut *tx,
        &NewFeedback {
            account: id,
            user: user.id,
            verdict,
            reason,
            note: field(&form, "note"),
        },
    )
    .await?
    .ok_or_else(|| {
        AppError::Conflict("This account has no score yet to give feedback on.".into())
    })?;
    audit::record(
        &mut *tx,
        &Actor::from(&user),
        "prediction.feedback",
        Some(format!("account:{id}")),
        json!({"feedback": recorded, "verdict": verdict, "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        TIMELINE_CHANGED,
        Done {
            message: format!("Thanks: feedback recorded ({}).", verdict.replace('_', " ")),
            colspan: 1,
        },
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "worklist/action_form.html")]
pub struct ActionForm {
    id: Uuid,
    kind: String,
    today: String,
    reasons: Vec<reasons::db::ReasonCode>,
}

/// A row's log or snooze form, fetched when the CSM opens it (the list stays light).
pub async fn action_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, kind)): Path<(Uuid, String)>,
) -> Result<ActionForm> {
    actionable(&state, &user, id).await?;
    let reasons = match kind.as_str() {
        "log" => Vec::new(),
        "snooze" => reasons::db::reason_codes(&state.db, "snooze").await?,
        _ => return Err(AppError::NotFound),
    };
    Ok(ActionForm {
        id,
        kind,
        today: OffsetDateTime::now_utc().date().to_string(),
        reasons,
    })
}
