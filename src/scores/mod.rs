//! Scores: each account's health score, churn probability, risk tier, at-risk flag and top
//! drivers per day. Computed here from features (`scoring`), stored here (`db`, the one owner
//! of the `scores` table), and served from here: the CSV and JSON exports and the
//! single-account `POST /api/v1/churn-score`.

mod api;
pub mod db;
mod export;
pub mod notes;
pub mod reads;
pub mod scoring;

use crate::auth::Role;
use crate::auth::access::{Access, Route};

/// Everyone who sees every account (a manager's or CSM's export would leak other books).
const SCORE_READERS: Access = Access::Roles(&[Role::Analyst, Role::Admin, Role::Executive]);

pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/v1/churn-score", Access::ApiToken, api::churn_score),
        Route::get("/scores/export.csv", SCORE_READERS, export::csv),
        Route::get("/api/v1/scores", Access::ApiToken, export::json),
    ]
}
