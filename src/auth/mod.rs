//! Users, roles, signing in and out, sessions, and the audit log.

pub mod access;
mod admin;
mod admin_tokens;
mod admin_views;
pub mod audit;
pub mod db;
mod login;
mod own_password;
pub mod own_settings;
pub mod password;
mod rbac;
mod routes;
pub mod session;
pub mod tokens;
pub mod users;
mod views;

pub use rbac::Role;
pub use session::CurrentUser;

use crate::auth::access::{ADMIN, Access, Route};

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/", Access::SignedIn, routes::home),
        Route::get("/login", Access::Public, routes::login_form),
        Route::post("/login", Access::Public, routes::login),
        Route::post("/logout", Access::SignedIn, routes::logout),
        Route::get("/account/password", Access::SignedIn, own_password::form),
        Route::post("/account/password", Access::SignedIn, own_password::save),
        Route::get("/account/settings", Access::SignedIn, own_settings::show),
        Route::post("/account/settings", Access::SignedIn, own_settings::save),
        Route::get("/admin/audit", ADMIN, admin::audit_log),
        Route::get("/admin/users", ADMIN, admin::list),
        Route::post("/admin/users", ADMIN, admin::create),
        Route::get("/admin/users/{id}", ADMIN, admin::show),
        Route::post("/admin/users/{id}", ADMIN, admin::update),
        Route::post("/admin/users/{id}/activate", ADMIN, admin::activate),
        Route::post("/admin/users/{id}/deactivate", ADMIN, admin::deactivate),
        Route::post("/admin/users/{id}/password", ADMIN, admin::reset_password),
        Route::get("/admin/tokens", ADMIN, admin_tokens::list),
        Route::post("/admin/tokens", ADMIN, admin_tokens::create),
        Route::post("/admin/tokens/{id}/revoke", ADMIN, admin_tokens::revoke),
    ]
}
