//! Who may use which route, declared in one enumerable table and enforced by the same
//! declaration: a route cannot be registered without saying who may use it.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use tower_sessions::Session;

use crate::app::AppState;
use crate::auth::{self, Role};
use crate::error::{AppError, Result};

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
    handler: MethodRouter<AppState>,
}

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
            handler,
        }
    }
}

/// Builds a router from the table, wrapping every route in its access check.
pub fn router(routes: Vec<Route>, state: &AppState) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, r| {
        let guard = Guard {
            access: r.access,
            state: state.clone(),
        };
        router.route(
            r.path,
            r.handler
                .route_layer(middleware::from_fn_with_state(guard, enforce)),
        )
    })
}

#[derive(Clone)]
struct Guard {
    access: Access,
    state: AppState,
}

async fn enforce(State(guard): State<Guard>, mut req: Request, next: Next) -> Result<Response> {
    match guard.access {
        Access::Public => return Ok(next.run(req).await),
        Access::ApiToken => {
            let secret = req
                .headers()
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(AppError::Unauthenticated)?;
            let token = auth::tokens::verify(&guard.state.db, secret.trim())
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
    let user = auth::session::current_user(&guard.state.db, &session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if !guard.access.allows(Some(user.role)) {
        return Err(AppError::Forbidden);
    }
    req.extensions_mut().insert(user);
    Ok(next.run(req).await)
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
}
