//! An account's story, newest first: tickets, NPS answers, CRM notes, interventions, plays,
//! tasks, emails, escalations, prediction feedback, snoozes, band changes and anomalies —
//! filterable by kind. Each entry sits at the moment its event happened (a task when it was
//! done, an email when it was sent), not when its row was written.

use askama::Template;
use askama_web::WebTemplate;
use sqlx::PgConnection;
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
    conn: &mut PgConnection,
    id: Uuid,
    kind: Option<&str>,
    history: &[db::ScorePoint],
) -> Result<Timeline> {
    let wanted = |k: &str| kind.is_none_or(|w| w == k);
    let mut entries: Vec<Entry> = activity::happenings(conn, id, kind.unwrap_or(""))
        .await?
        .into_iter()
        .filter_map(|h| {
            let kind = KINDS.iter().map(|k| k.0).find(|k| *k == h.kind)?;
            let moment = h.moment.map(timestamp).unwrap_or_default();
            let detail = format!("{}{moment}{}", h.before, h.after);
            Some(entry(h.at, kind, h.title, detail))
        })
        .collect();
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
