//! Accounts: the list a user may browse and each account's page with its subscriptions,
//! usage, tickets, NPS, notes and contacts.

pub mod activity;
mod assign;
mod charts;
pub mod db;
mod lists;
pub mod owners;
pub mod privacy;
mod reading;
mod routes;
mod show;
mod timeline;

use crate::auth::access::{ADMIN, Access, Route};
use crate::auth::{CurrentUser, Role};
use db::Scope;

/// Everyone who works with accounts; sales see opportunities, not the book. The account
/// page's fragments served by other domains admit the same.
pub const READERS: Access = Access::Roles(&[
    Role::Csm,
    Role::Manager,
    Role::Executive,
    Role::Analyst,
    Role::Admin,
]);

/// Who hands unowned accounts to CSMs.
const ASSIGNERS: Access = Access::Roles(&[Role::Manager, Role::Admin]);

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/accounts", READERS, routes::list),
        Route::get("/accounts/unassigned", ASSIGNERS, assign::show),
        Route::post("/accounts/unassigned", ASSIGNERS, assign::submit),
        Route::get("/accounts/{id}", READERS, show::show),
        Route::get("/accounts/{id}/timeline", READERS, show::timeline),
        Route::get(
            "/accounts/{id}/contacts/{contact}/export.json",
            ADMIN,
            routes::export_contact,
        ),
        Route::post(
            "/accounts/{id}/contacts/{contact}/erase",
            ADMIN,
            routes::erase_contact,
        ),
    ]
}

/// A CSM sees their book, a manager their team's, the others everything.
pub fn scope_for(user: &CurrentUser) -> Scope {
    match user.role {
        Role::Csm => Scope::Owner(user.id),
        Role::Manager => Scope::Team(user.id),
        Role::Admin | Role::Analyst | Role::Executive | Role::Sales => Scope::All,
    }
}
