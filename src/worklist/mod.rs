//! The CSM's worklist: open tasks with SLA countdowns, accounts ranked by priority (churn
//! probability × ARR, raised as renewal nears), and the actions taken on them.

pub mod act;
mod actions;
mod book;
pub mod changes;
pub mod db;
pub mod digest;
mod routes;
mod tasks;

pub use actions::Done;

use time::Date;

use crate::auth::Role;
use crate::auth::access::{Access, Route};

/// Who may see a worklist: CSMs their own, managers their team's, executives any (read-only).
const VIEWERS: Access = Access::Roles(&[Role::Csm, Role::Manager, Role::Executive]);
/// Who may act on accounts and tasks.
const ACTORS: Access = Access::Roles(&[Role::Csm, Role::Manager]);

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/worklist", VIEWERS, routes::index),
        Route::get("/worklist/changes", VIEWERS, routes::changes),
        Route::post("/tasks/{id}/complete", ACTORS, actions::complete_task),
        Route::post("/tasks/{id}/outcome", ACTORS, actions::task_outcome),
        Route::post("/tasks/bulk", ACTORS, tasks::submit),
        Route::post(
            "/accounts/{id}/interventions",
            ACTORS,
            actions::log_intervention,
        ),
        Route::post("/accounts/{id}/snooze", ACTORS, actions::snooze),
        Route::get("/accounts/{id}/task-picker", ACTORS, actions::task_picker),
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

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

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
            driver: None,
            anomaly: None,
            champion_loss: None,
            snoozed_until: None,
            expansion_tier: None,
            propensity: None,
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
}
