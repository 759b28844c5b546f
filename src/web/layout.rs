//! The page shell: navigation (derived from the access table, so each role sees only what
//! it may open) and the signed-in user's badge.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;

use super::access::Access;
use crate::app::AppState;
use crate::auth::{CurrentUser, Role};
use crate::error::AppError;

/// Cache-buster for `/static` URLs.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every navigation entry, in display order; shown to the roles its route admits.
pub const NAV_LINKS: [(&str, &str); 16] = [
    ("Worklist", "/worklist"),
    ("Emails to review", "/emails/review"),
    ("Team", "/team"),
    ("Playbooks", "/playbooks"),
    ("Pipeline", "/pipeline"),
    ("Dashboard", "/dashboard"),
    ("Models", "/models"),
    ("Model health", "/models/health"),
    ("Scoring", "/admin/scoring"),
    ("Accounts", "/accounts"),
    ("Ingestion", "/ingest"),
    ("Users", "/admin/users"),
    ("API tokens", "/admin/tokens"),
    ("Audit log", "/admin/audit"),
    ("Outbox", "/admin/outbox"),
    ("Reason codes", "/admin/reason-codes"),
];

/// The navigation each role sees, computed once from the route table.
#[derive(Debug, Default)]
pub struct Nav(HashMap<Role, Vec<(&'static str, &'static str)>>);

impl Nav {
    pub fn from_table(table: &[(Method, &'static str, Access)]) -> Self {
        let links = |role: Role| {
            NAV_LINKS
                .into_iter()
                .filter(|(_, href)| {
                    table.iter().any(|(m, p, access)| {
                        m == Method::GET && p == href && access.allows(Some(role))
                    })
                })
                .collect()
        };
        Nav(Role::ALL.into_iter().map(|r| (r, links(r))).collect())
    }

    pub fn links(&self, role: Role) -> &[(&'static str, &'static str)] {
        self.0.get(&role).map_or(&[], Vec::as_slice)
    }
}

pub struct NavLink {
    pub label: &'static str,
    pub href: &'static str,
    pub active: bool,
}

pub struct NavUser {
    pub name: String,
    pub role: &'static str,
    pub role_label: &'static str,
    pub links: Vec<NavLink>,
}

/// The one-line notice a page shows after a redirect (`?notice=`).
#[derive(serde::Deserialize)]
pub struct Notice {
    pub notice: Option<String>,
}

/// What every page's shell needs. Extract it in a handler to render a page.
pub struct Chrome {
    pub version: &'static str,
    pub user: Option<NavUser>,
}

impl Chrome {
    /// The shell for visitors who are not signed in.
    pub fn anonymous() -> Self {
        Chrome {
            version: ASSET_VERSION,
            user: None,
        }
    }

    pub fn for_user(nav: &Nav, user: &CurrentUser, path: &str) -> Self {
        let links = nav
            .links(user.role)
            .iter()
            .map(|&(label, href)| NavLink {
                label,
                href,
                active: path == href || path.starts_with(&format!("{href}/")),
            })
            .collect();
        Chrome {
            version: ASSET_VERSION,
            user: Some(NavUser {
                name: user.name.clone(),
                role: user.role.as_str(),
                role_label: user.role.label(),
                links,
            }),
        }
    }
}

impl FromRequestParts<AppState> for Chrome {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(match parts.extensions.get::<CurrentUser>() {
            Some(user) => Chrome::for_user(&state.nav, user, parts.uri.path()),
            None => Chrome::anonymous(),
        })
    }
}

/// Shared, immutable navigation for the app state.
pub type SharedNav = Arc<Nav>;
