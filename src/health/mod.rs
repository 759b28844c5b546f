//! Health scores: configuration (weights, bands, risk thresholds), computation and
//! breakdown, and the back-test that checks a configuration against what happened.

pub mod backtest;
pub mod config;
pub mod db;
pub mod proposal;
mod routes;
pub mod score;

use crate::auth::Role;
use crate::auth::access::{Access, Route};

const ADMINS: Access = Access::Roles(&[Role::Admin]);

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/scoring", ADMINS, routes::show),
        Route::post("/admin/scoring", ADMINS, routes::save),
        Route::post("/admin/scoring/backtest", ADMINS, routes::backtest),
    ]
}
