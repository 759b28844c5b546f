//! Builds the application: state, the route table, middleware, and the listener.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{HeaderName, Method, StatusCode};
use axum::{Router, middleware};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use crate::auth::access::{self, Access, Route};
use crate::config::Config;
use crate::state::AppState;
use crate::{
    accounts, auth, expansion, experiments, health, ingest, model, opportunities, pipeline,
    playbooks, reasons, revenue, scores, taxonomy, web, worklist,
};

const SESSION_COOKIE: &str = "keel_session";

/// Every route of the application, each with its access rule.
pub fn routes() -> Vec<Route> {
    [
        vec![
            Route::get("/healthz", Access::Public, web::ops::healthz),
            Route::get("/readyz", Access::Public, web::ops::readyz),
            Route::get("/static/{file}", Access::Public, web::asset),
        ],
        auth::routes(),
        ingest::routes(),
        accounts::routes(),
        health::routes(),
        worklist::routes(),
        playbooks::routes(),
        model::routes(),
        pipeline::routes(),
        scores::routes(),
        revenue::routes(),
        reasons::routes(),
        expansion::routes(),
        opportunities::routes(),
        experiments::routes(),
        taxonomy::routes(),
        crate::jobs::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The route table as data: method, path and who may use it.
pub fn route_table() -> Vec<(Method, &'static str, Access)> {
    routes()
        .into_iter()
        .map(|r| (r.method, r.path, r.access))
        .collect()
}

pub fn router(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(PostgresStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            state.config.session_idle_secs,
        )));
    let request_id = HeaderName::from_static("x-request-id");
    let timeout = Duration::from_secs(state.config.request_timeout_secs);

    access::router(routes(), &state)
        .fallback(web::errors::not_found)
        .layer(sessions)
        .layer(CsrfLayer::new())
        .layer(middleware::from_fn(web::errors::render))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(
            state.config.secure_cookies,
            web::security::headers,
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// A bound listener and the app that will serve on it.
pub struct App {
    listener: TcpListener,
    router: Router,
}

impl App {
    /// Binds first (port 0 picks a free port), so callers know the address before serving.
    pub async fn build(db: PgPool, config: Config) -> anyhow::Result<App> {
        App::build_with(AppState::new(db, config)).await
    }

    /// An app over this state (tests give it a clock of their own).
    pub async fn build_with(state: AppState) -> anyhow::Result<App> {
        let listener = TcpListener::bind(state.config.bind).await?;
        Ok(App {
            listener,
            router: router(state),
        })
    }

    pub fn addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn serve(self) -> anyhow::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await?;
        Ok(())
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
