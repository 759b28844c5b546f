//! Liveness and readiness probes for load balancers and orchestrators.

use axum::extract::State;
use axum::http::StatusCode;
use sqlx::PgPool;

/// The process is up and serving.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers within a second.
pub async fn readyz(State(db): State<PgPool>) -> (StatusCode, &'static str) {
    let ping = sqlx::query_scalar!("select 1 as \"one!\"").fetch_one(&db);
    match tokio::time::timeout(std::time::Duration::from_secs(1), ping).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
        Err(_) => {
            tracing::warn!("readiness check timed out after 1 s");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
