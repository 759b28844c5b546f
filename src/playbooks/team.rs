//! The manager's team page: SLA adherence per CSM and for the team, open and breached
//! tasks, escalations, playbook engagement and the funnel.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;
use time::Duration;

use super::db::{self};
use crate::auth::CurrentUser;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::charts;
use crate::web::layout::Chrome;

pub struct AdherenceRow {
    /// The CSM (none for the team's total), whose worklist the name opens.
    id: Option<uuid::Uuid>,
    name: String,
    due: i64,
    on_time: i64,
    rate: String,
    breached: i64,
    open: i64,
    escalations: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "playbooks/team.html")]
pub struct TeamPage {
    chrome: Chrome,
    days: i64,
    rows: Vec<AdherenceRow>,
    team: AdherenceRow,
    engagement: String,
    funnel: charts::BarChart,
}

#[derive(Deserialize)]
pub struct Period {
    days: Option<i64>,
}

fn rate(on_time: i64, due: i64) -> String {
    if due == 0 {
        "—".into()
    } else {
        format!("{:.0} %", 100.0 * on_time as f64 / due as f64)
    }
}

/// The manager's team: SLA adherence per CSM and for the team over a period, open and
/// breached tasks, escalations, playbook engagement, and the funnel.
pub async fn team(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    Query(q): Query<Period>,
) -> Result<TeamPage> {
    let days = q.days.unwrap_or(30);
    if !(1..=365).contains(&days) {
        return Err(AppError::BadRequest(format!("days: {days} is not 1–365")));
    }
    let now = state.clock.now();
    let from = now - Duration::days(days);
    let csms = db::adherence(&state.db, Some(user.id), from, now).await?;
    let sum = |f: fn(&db::Adherence) -> i64| csms.iter().map(f).sum::<i64>();
    let (due, on_time) = (sum(|a| a.due), sum(|a| a.on_time));
    let team = AdherenceRow {
        id: None,
        name: "Team".into(),
        due,
        on_time,
        rate: rate(on_time, due),
        breached: sum(|a| a.breached),
        open: sum(|a| a.open),
        escalations: sum(|a| a.escalations),
    };
    let f = db::funnel(&state.db, Some(user.id), from).await?;
    let engagement = if f.alerts == 0 {
        "no plays opened in the period".to_owned()
    } else {
        format!(
            "{:.0} % ({} of {} plays led to contact; target above 70 %)",
            100.0 * f.contacted as f64 / f.alerts as f64,
            f.contacted,
            f.alerts
        )
    };
    let funnel = charts::bars(
        "Funnel: alerts, tasks, contact, resolved",
        &[
            ("alerts".into(), f.alerts as f64),
            ("tasks".into(), f.tasks as f64),
            ("contact".into(), f.contacted as f64),
            ("resolved".into(), f.resolved as f64),
        ],
        |v| format!("{v:.0} plays"),
    );
    Ok(TeamPage {
        chrome,
        days,
        rows: csms
            .into_iter()
            .map(|a| AdherenceRow {
                rate: rate(a.on_time, a.due),
                id: Some(a.id),
                name: a.name,
                due: a.due,
                on_time: a.on_time,
                breached: a.breached,
                open: a.open,
                escalations: a.escalations,
            })
            .collect(),
        team,
        engagement,
        funnel,
    })
}
