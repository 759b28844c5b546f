//! The CSM's worklist: open tasks with SLA countdowns, accounts ranked by priority (churn
//! probability × ARR, raised as renewal nears), and the actions taken on them.

pub mod act;
mod actions;
mod book;
pub mod db;
mod routes;

pub use actions::Done;

use time::{Date, OffsetDateTime};

use crate::auth::Role;
use crate::auth::access::{Access, Route};

/// Who may see a worklist: CSMs their own, managers their team's, executives any (read-only).
const VIEWERS: Access = Access::Roles(&[Role::Csm, Role::Manager, Role::Executive]);
/// Who may act on accounts and tasks.
const ACTORS: Access = Access::Roles(&[Role::Csm, Role::Manager]);

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/worklist", VIEWERS, routes::index),
        Route::post("/tasks/{id}/complete", ACTORS, actions::complete_task),
        Route::post(
            "/accounts/{id}/interventions",
            ACTORS,
            actions::log_intervention,
        ),
        Route::post("/accounts/{id}/snooze", ACTORS, actions::snooze),
        Route::get(
            "/accounts/{id}/actions/{kind}",
            ACTORS,
            actions::action_form,
        ),
        Route::post("/accounts/{id}/feedback", ACTORS, actions::feedback),
    ]
}

/// Expected ARR at risk, raised up to double as the renewal date nears (within 90 days).
pub fn priority(r: &db::BookRow, today: Date) -> f64 {
    let p = r.churn_probability.map_or(0.0, f64::from);
    let arr = crate::money::arr_cents(r.mrr_cents) as f64 / 100.0;
    let boost = r.renewal_date.map_or(1.0, |d| {
        let days = (d - today).whole_days();
        if (0..=90).contains(&days) {
            1.0 + (90 - days) as f64 / 90.0
        } else {
            1.0
        }
    });
    p * arr * boost
}

/// An SLA countdown as the server renders it; `static/app.js` keeps it ticking.
pub struct Countdown {
    /// RFC 3339, for the script.
    pub due: String,
    pub text: String,
    /// ok, amber (under 4 hours left) or red (overdue)
    pub level: &'static str,
}

impl Countdown {
    pub fn new(due: OffsetDateTime, now: OffsetDateTime) -> Countdown {
        let left = due - now;
        let minutes = left.whole_minutes().abs();
        let span = if minutes >= 48 * 60 {
            format!("{} d {} h", minutes / (24 * 60), minutes % (24 * 60) / 60)
        } else {
            format!("{} h {} min", minutes / 60, minutes % 60)
        };
        Countdown {
            due: due
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            text: if left.is_negative() {
                format!("overdue by {span}")
            } else {
                format!("due in {span}")
            },
            level: if left.is_negative() {
                "red"
            } else if left.whole_hours() < 4 {
                "amber"
            } else {
                "ok"
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn row(p: Option<f32>, mrr_cents: i64, renewal: Option<Date>) -> db::BookRow {
        db::BookRow {
            id: uuid::Uuid::nil(),
            name: String::new(),
            segment: "smb".into(),
            mrr_cents,
            renewal_date: renewal,
            health_score: None,
            band: None,
            trajectory: None,
            churn_probability: p,
            risk_tier: None,
            at_risk: None,
            drivers: None,
            anomaly: None,
            champion_loss: None,
            snoozed_until: None,
        }
    }

    #[test]
    fn priority_is_arr_at_risk_raised_near_renewal() {
        let today = date!(2026 - 11 - 23);
        let far = row(Some(0.5), 100_000, Some(date!(2027 - 06 - 01)));
        let near = row(Some(0.5), 100_000, Some(date!(2026 - 11 - 24)));
        assert_eq!(priority(&far, today), 0.5 * 12_000.0);
        assert!(priority(&near, today) > 1.9 * priority(&far, today));
        assert_eq!(priority(&row(None, 100_000, None), today), 0.0);
    }

    #[test]
    fn countdowns_turn_amber_then_red() {
        let now = datetime!(2026-11-23 10:00 UTC);
        let c = Countdown::new(datetime!(2026-11-24 12:30 UTC), now);
        assert_eq!((c.text.as_str(), c.level), ("due in 26 h 30 min", "ok"));
        let c = Countdown::new(datetime!(2026-11-23 13:00 UTC), now);
        assert_eq!(c.level, "amber");
        let c = Countdown::new(datetime!(2026-11-23 09:15 UTC), now);
        assert_eq!((c.text.as_str(), c.level), ("overdue by 0 h 45 min", "red"));
        let c = Countdown::new(datetime!(2026-11-27 10:00 UTC), now);
        assert_eq!(c.text, "due in 4 d 0 h");
    }
}
