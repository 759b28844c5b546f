//! The manager's team page: SLA adherence per CSM and for the team, open and breached
//! tasks, escalations, playbook engagement and the funnel.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::db::{self};
use crate::auth::CurrentUser;
use crate::error::{AppError, Result};
use crate::state::{AppState, Memo};
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

/// A team's figures over a period: each CSM's adherence and the plays funnel.
struct Figures {
    csms: Vec<db::Adherence>,
    funnel: db::Funnel,
}

/// Figures read by (manager, period in days, minute), each with the team's version read
/// before them: a team page reads the version (one indexed row) and the figures only when a
/// write moved it or the minute turned, so a manager's page costs what their team's changes
/// cost, not a count over every task and play of the period.
#[derive(Default)]
struct Teams(Memo<(Uuid, i64, OffsetDateTime), (i64, Arc<Figures>)>);

/// Figures stand as of the minute they are read in: a task falls due, or out of the
/// period, at the next minute's page.
const KEPT: std::time::Duration = std::time::Duration::from_secs(120);

async fn figures(state: &AppState, manager: Uuid, days: i64) -> Result<Arc<Figures>> {
    let now = state.clock.now();
    let now = now
        - Duration::seconds(now.second().into())
        - Duration::nanoseconds(now.nanosecond().into());
    let version = db::team_version(&state.db, manager).await?;
    let from = now - Duration::days(days);
    let count = async {
        let (csms, funnel) = tokio::try_join!(
            db::adherence(&state.db, manager, from, now),
            db::funnel(&state.db, manager, from)
        )?;
        Ok(Arc::new(Figures { csms, funnel }))
    };
    let teams = state.caches.get::<Teams>();
    teams
        .0
        .current_or((manager, days, now), version, KEPT, count)
        .await
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
    let figures = figures(&state, user.id, days).await?;
    let csms = &figures.csms;
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
    let f = &figures.funnel;
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
            .iter()
            .map(|a| AdherenceRow {
                rate: rate(a.on_time, a.due),
                id: Some(a.id),
                name: a.name.clone(),
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
