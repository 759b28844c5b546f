//! An account's story, newest first: tickets, NPS answers, CRM notes, interventions, plays,
//! tasks, emails, escalations, prediction feedback, snoozes, band changes and anomalies —
//! filterable by kind. Each entry sits at the moment its event happened (a task when it was
//! done, an email when it was sent), not when its row was written.

use askama::Template;
use askama_web::WebTemplate;
use sqlx::PgPool;
use time::{Date, OffsetDateTime, Time};
use uuid::Uuid;

use super::{activity, db};
use crate::error::Result;
use crate::web::format::timestamp;

/// Every kind of entry, as (value, label) for the filter.
pub const KINDS: [(&str, &str); 13] = [
    ("ticket", "Tickets"),
    ("nps", "NPS"),
    ("note", "Notes"),
    ("intervention", "Interventions"),
    ("play", "Plays"),
    ("task", "Tasks"),
    ("email", "Emails"),
    ("escalation", "Escalations"),
    ("opportunity", "Opportunities"),
    ("feedback", "Feedback"),
    ("snooze", "Snoozes"),
    ("score", "Score changes"),
    ("anomaly", "Anomalies"),
];

pub struct Entry {
    at: OffsetDateTime,
    pub when: String,
    pub kind: &'static str,
    pub title: String,
    pub detail: String,
}

fn entry(at: OffsetDateTime, kind: &'static str, title: String, detail: String) -> Entry {
    Entry {
        at,
        when: timestamp(at),
        kind,
        title,
        detail,
    }
}

/// Where a day without a time sits among the entries: its start, so that whatever happened
/// during it sorts above.
fn day_start(d: Date) -> OffsetDateTime {
    d.with_time(Time::MIDNIGHT).assume_utc()
}

/// When an intervention happened: the moment it was logged if that was the day it happened
/// (so "just now" sorts above this morning's task), else noon of the day it happened.
fn happened(on: Date, logged: OffsetDateTime) -> OffsetDateTime {
    if logged.date() == on {
        logged
    } else {
        on.with_time(Time::MIDNIGHT + time::Duration::hours(12))
            .assume_utc()
    }
}

/// An account's timeline, shown by the account page and swapped in alone by htmx (as
/// [`TimelineFragment`]); both draw `templates/accounts/timeline.html`.
pub struct Timeline {
    pub account: Uuid,
    pub entries: Vec<Entry>,
    pub kinds: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Template, WebTemplate)]
#[template(source = r#"{% include "accounts/timeline.html" %}"#, ext = "html")]
pub struct TimelineFragment {
    pub timeline: Timeline,
}

/// The account's timeline, only `kind` entries when one is given.
pub async fn load(
    pool: &PgPool,
    id: Uuid,
    kind: Option<&str>,
    history: &[db::ScorePoint],
) -> Result<Timeline> {
    let wanted = |k: &str| kind.is_none_or(|w| w == k);
    let mut entries = Vec::new();
    if wanted("ticket") {
        for t in db::tickets(pool, id).await? {
            let state = t.resolved_at.map_or_else(
                || "open".to_owned(),
                |r| format!("resolved {}", timestamp(r)),
            );
            let csat = t.csat.map(|c| format!(", CSAT {c}")).unwrap_or_default();
            entries.push(entry(
                t.opened_at,
                "ticket",
                format!("{} ticket: {}", t.priority, t.subject),
                format!("{} · {state}{csat}", t.external_id),
            ));
        }
    }
    if wanted("nps") {
        for n in db::nps(pool, id).await? {
            entries.push(entry(
                n.responded_at,
                "nps",
                format!("NPS {}", n.score),
                n.comment.unwrap_or_default(),
            ));
        }
    }
    if wanted("note") {
        for n in db::notes(pool, id).await? {
            entries.push(entry(
                n.noted_at,
                "note",
                format!("Note by {}", n.author),
                n.body,
            ));
        }
    }
    if wanted("intervention") {
        for i in activity::interventions(pool, id).await? {
            entries.push(entry(
                happened(i.happened_on, i.created_at),
                "intervention",
                format!(
                    "{} by {}: {}",
                    i.kind.as_str().replace('_', " "),
                    i.by,
                    i.outcome.label()
                ),
                i.notes,
            ));
        }
    }
    if wanted("task") {
        // A task sits where it last changed: done when it was completed, else when opened.
        for t in activity::tasks(pool, id).await? {
            let (at, title, state) = match t.completed_at {
                Some(done) => (
                    done,
                    match t.outcome {
                        Some(o) => format!("Task done: {} ({})", t.title, o.label()),
                        None => format!("Task done: {}", t.title),
                    },
                    format!("opened {}", timestamp(t.created_at)),
                ),
                None => (
                    t.created_at,
                    format!("Task opened: {}", t.title),
                    format!("{}, due {}", t.status, timestamp(t.due_at)),
                ),
            };
            entries.push(entry(at, "task", title, format!("{state} · {}", t.reason)));
        }
    }
    if wanted("feedback") {
        for f in activity::feedback(pool, id).await? {
            let p = f
                .churn_probability
                .map(|p| format!(" on a churn probability of {:.0} %", p * 100.0))
                .unwrap_or_default();
            entries.push(entry(
                f.created_at,
                "feedback",
                format!(
                    "Feedback by {}: {}{p}",
                    f.by,
                    f.verdict.as_str().replace('_', " ")
                ),
                format!("{} {}", f.reason, f.note),
            ));
        }
    }
    for (at, kind, title, detail) in activity::workflow_events(pool, id).await? {
        let Some(kind) = KINDS.iter().map(|k| k.0).find(|k| *k == kind) else {
            continue;
        };
        if wanted(kind) {
            entries.push(entry(at, kind, title, detail));
        }
    }
    for pair in history.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        if wanted("score") && before.band != after.band {
            entries.push(entry(
                day_start(after.day),
                "score",
                format!("Band {} → {}", before.band, after.band),
                format!(
                    "health {:.0} → {:.0}",
                    before.health_score, after.health_score
                ),
            ));
        }
        if wanted("anomaly") {
            if let Some(a) = after.anomaly.as_ref().filter(|_| before.anomaly.is_none()) {
                entries.push(entry(
                    day_start(after.day),
                    "anomaly",
                    "Usage anomaly".into(),
                    a.clone(),
                ));
            }
            if let Some(c) = after
                .champion_loss
                .as_ref()
                .filter(|_| before.champion_loss.is_none())
            {
                entries.push(entry(
                    day_start(after.day),
                    "anomaly",
                    "Champion watch".into(),
                    c.clone(),
                ));
            }
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    Ok(Timeline {
        account: id,
        entries,
        kinds: KINDS
            .iter()
            .map(|(v, l)| (*v, *l, kind == Some(*v)))
            .collect(),
    })
}
