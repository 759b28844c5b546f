//! Reason codes: the admin-kept lists CSMs pick from when they snooze an account or give
//! feedback on a prediction. Codes are never deleted (what was recorded refers to them);
//! retired ones leave the pickers.

pub mod codes;
pub mod db;
mod routes;

use crate::auth::Role;
use crate::auth::access::{Access, Route};

const ADMINS: Access = Access::Roles(&[Role::Admin]);

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/reason-codes", ADMINS, routes::index),
        Route::post("/admin/reason-codes", ADMINS, routes::create),
        Route::post("/admin/reason-codes/{code}/toggle", ADMINS, routes::toggle),
    ]
}
