//! Revenue retention: monthly MRR movements per account (new, expansion, contraction,
//! churn, reactivation) derived from the subscription lines, NRR and GRR over windows,
//! logo and revenue churn by segment, cohorts, survival by risk band, and the ROI of the
//! CS programme: the executive's dashboard.

pub mod dashboard;
pub mod db;
pub mod facts;
pub mod movements;
pub mod read;
pub mod roi;
mod routes;
mod sections;
pub mod views;
pub mod windows;

use crate::auth::Role;
use crate::auth::access::{Access, Route};

/// Who reads the dashboard: the whole book, or (managers) their team's.
const READERS: Access =
    Access::Roles(&[Role::Executive, Role::Admin, Role::Analyst, Role::Manager]);

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/dashboard", READERS, routes::show),
        Route::get("/dashboard/roi", READERS, routes::roi),
        Route::get("/dashboard/{table}", READERS, routes::csv),
    ]
}
