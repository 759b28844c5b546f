//! Who may use which route, declared in one enumerable table and enforced by the same
//! declaration: a route cannot be registered without saying who may use it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use tower_sessions::Session;

use super::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::layout::{NavLink, NavUser};
use crate::web::zone;

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in page, health checks, static files).
    Public,
    /// Any signed-in user.
    SignedIn,
    /// Signed-in users holding one of these roles.
    Roles(&'static [Role]),
    /// Clients presenting a live API token (`Authorization: Bearer …`); the handler checks
    /// the token's scope. Sessions never grant this.
    ApiToken,
}

impl Access {
    /// Whether a visitor with this role (`None`: anonymous) may use the route.
    pub fn allows(self, role: Option<Role>) -> bool {
        match (self, role) {
            (Access::Public, _) => true,
            (Access::ApiToken, _) => false,
            (_, None) => false,
            (Access::SignedIn, Some(_)) => true,
            (Access::Roles(roles), Some(r)) => roles.contains(&r),
        }
    }
}

pub const ADMIN: Access = Access::Roles(&[Role::Admin]);

/// One registered route: its method, path, access rule and handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    /// Takes bodies up to the batch limit (uploads, API batches); others up to 1 MB.
    large_body: bool,
    handler: MethodRouter<AppState>,
}

/// The largest body any other route accepts: forms and fragments are small.
const SMALL_BODY: usize = 1024 * 1024;

impl Route {
    pub fn get<H, T>(path: &'static str, access: Access, handler: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        Route::new(Method::GET, path, access, get(handler))
    }

    pub fn post<H, T>(path: &'static str, access: Access, handler: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        Route::new(Method::POST, path, access, post(handler))
    }

    fn new(
        method: Method,
        path: &'static str,
        access: Access,
        handler: MethodRouter<AppState>,
    ) -> Self {
        Route {
            method,
            path,
            access,
            large_body: false,
            handler,
        }
    }

    /// Lets this route take a batch-sized body (`KEEL_MAX_BATCH_MB`).
    pub fn large_body(mut self) -> Self {
        self.large_body = true;
        self
    }
}

/// Builds a router from the table, wrapping every route in its access check, which also
/// gives signed-in users the navigation their role may open.
pub fn router(routes: Vec<Route>, state: &AppState) -> Router<AppState> {
    let table: Vec<_> = routes
        .iter()
        .map(|r| (r.method.clone(), r.path, r.access))
        .collect();
    let nav = Arc::new(Nav::from_table(&table));
    let batch = state.config.max_batch_mb * 1024 * 1024;
    routes.into_iter().fold(Router::new(), |router, r| {
        let guard = Guard {
            access: r.access,
            state: state.clone(),
            nav: nav.clone(),
        };
        let limit = if r.large_body { batch } else { SMALL_BODY };
        router.route(
            r.path,
            r.handler
                .layer(DefaultBodyLimit::max(limit))
                .route_layer(middleware::from_fn_with_state(guard, enforce)),
        )
    })
}

#[derive(Clone)]
struct Guard {
    access: Access,
    state: AppState,
    nav: Arc<Nav>,
}

async fn enforce(State(guard): State<Guard>, mut req: Request, next: Next) -> Result<Response> {
    match guard.access {
        Access::Public => return Ok(next.run(req).await),
        Access::ApiToken => {
            let secret = req
                .headers()
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, secret)| secret)
                .ok_or(AppError::Unauthenticated)?;
            let token = super::tokens::verify(&guard.state.db, secret.trim())
                .await?
                .ok_or(AppError::Unauthenticated)?;
            req.extensions_mut().insert(token);
            return Ok(next.run(req).await);
        }
        Access::SignedIn | Access::Roles(_) => {}
    }
    let session = req
        .extensions()
        .get::<Session>()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("session layer missing"))?;
    let user = super::session::current_user(&guard.state.db, &session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    super::session::touch(&session, guard.state.clock.now()).await?;
    if !guard.access.allows(Some(user.role)) {
        return Err(AppError::Forbidden);
    }
    let nav = guard.nav.for_user(&user, req.uri().path());
    let zone = user
        .time_zone
        .clone()
        .or_else(|| zone::browser(req.headers()))
        .and_then(|name| zone::parse(&name))
        .unwrap_or(jiff::tz::TimeZone::UTC);
    req.extensions_mut().insert(nav.clone());
    req.extensions_mut().insert(user);
    let mut resp = zone::scope(zone, next.run(req)).await;
    // So an error page rendered further out keeps the signed-in navigation.
    resp.extensions_mut().insert(nav);
    Ok(resp)
}

/// Every navigation entry, in display order; shown to the roles its route admits.
pub const NAV_LINKS: [(&str, &str); 20] = [
    ("Worklist", "/worklist"),
    ("Emails to review", "/emails/review"),
    ("Team", "/team"),
    ("Playbooks", "/playbooks"),
    ("Opportunities", "/opportunities"),
    ("Dashboard", "/dashboard"),
    ("Expansion", "/expansion"),
    ("Experiments", "/experiments"),
    ("Models", "/models"),
    ("Model health", "/models/health"),
    ("Scoring", "/admin/scoring"),
    ("Accounts", "/accounts"),
    ("Unassigned", "/accounts/unassigned"),
    ("Ingestion", "/ingest"),
    ("Event types", "/event-types"),
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

    /// The badge and navigation of `user` on the page at `path`.
    fn for_user(&self, user: &CurrentUser, path: &str) -> NavUser {
        let links = self.links(user.role);
        let under = |href: &str| path == href || path.starts_with(&format!("{href}/"));
        // The most specific entry the page is under is the active one (Unassigned, not
        // also Accounts, on /accounts/unassigned).
        let active = links
            .iter()
            .filter(|(_, href)| under(href))
            .max_by_key(|(_, href)| href.len())
            .map(|(_, href)| *href);
        let links = links
            .iter()
            .map(|&(label, href)| NavLink {
                label,
                href,
                active: active == Some(href),
            })
            .collect();
        NavUser {
            name: user.name.clone(),
            role: user.role.as_str(),
            role_label: user.role.label(),
            links,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_admits_everyone_and_roles_only_their_members() {
        assert!(Access::Public.allows(None));
        assert!(!Access::SignedIn.allows(None));
        for role in Role::ALL {
            assert!(Access::SignedIn.allows(Some(role)));
            assert_eq!(ADMIN.allows(Some(role)), role == Role::Admin);
        }
        assert!(!ADMIN.allows(None));
    }

    #[test]
    fn the_most_specific_navigation_entry_is_the_active_one() {
        let managers = Access::Roles(&[Role::Manager]);
        let nav = Nav::from_table(&[
            (Method::GET, "/accounts", managers),
            (Method::GET, "/accounts/unassigned", managers),
        ]);
        let user = CurrentUser {
            id: uuid::Uuid::nil(),
            email: "m@example.com".into(),
            name: "M".into(),
            role: Role::Manager,
            time_zone: None,
        };
        let active = |path: &str| -> Vec<&str> {
            nav.for_user(&user, path)
                .links
                .iter()
                .filter(|l| l.active)
                .map(|l| l.label)
                .collect()
        };
        assert_eq!(active("/accounts/unassigned"), ["Unassigned"]);
        assert_eq!(active("/accounts/0b5e"), ["Accounts"]);
        assert_eq!(active("/accounts"), ["Accounts"]);
        assert!(active("/accountsx").is_empty());
    }
}
