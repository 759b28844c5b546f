//! Cross-cutting web plumbing with no domain knowledge: the page shell, error rendering,
//! static assets and health probes. Who may use which route is `auth::access`.

pub mod charts;
pub mod countdown;
pub mod csv;
pub mod errors;
pub mod format;
pub mod layout;
pub mod ops;
pub mod security;
pub mod zone;

use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;

use crate::error::AppError;

/// Vendored front-end files, embedded so the binary is all a deployment needs.
const ASSETS: [(&str, &str, &[u8]); 4] = [
    (
        "htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/htmx-2.0.11.min.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/favicon.svg"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/app.css"),
    ),
];

/// A vendored file by name.
pub async fn asset(Path(file): Path<String>) -> Result<impl IntoResponse, AppError> {
    let (_, mime, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or(AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, *mime),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        *body,
    ))
}
