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

use std::sync::LazyLock;

use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::IntoResponse;

use sha2::{Digest, Sha256};

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

/// Each vendored file's address carries a digest of its content (`/static/app.css?v=…`), so
/// a browser keeps it for a year and fetches it again exactly when a deployment changes it.
pub struct AssetUrls {
    pub css: String,
    pub js: String,
    pub icon: String,
}

/// The first twelve hex digits of each file's SHA-256, in `ASSETS` order, computed once.
fn digests() -> &'static [String] {
    static DIGESTS: LazyLock<Vec<String>> = LazyLock::new(|| {
        ASSETS
            .iter()
            .map(|(_, _, body)| format!("{:x}", Sha256::digest(body))[..12].to_owned())
            .collect()
    });
    &DIGESTS
}

fn versioned(name: &str) -> String {
    let digest = ASSETS
        .iter()
        .position(|(n, _, _)| *n == name)
        .map_or("", |i| digests()[i].as_str());
    format!("/static/{name}?v={digest}")
}

pub fn asset_urls() -> &'static AssetUrls {
    static URLS: LazyLock<AssetUrls> = LazyLock::new(|| AssetUrls {
        css: versioned("app.css"),
        js: versioned("app.js"),
        icon: versioned("favicon.svg"),
    });
    &URLS
}

#[derive(serde::Deserialize)]
pub struct AssetQuery {
    v: Option<String>,
}

/// A vendored file by name: kept a year when asked for by its current digest, a day
/// otherwise (an old page's address, or none).
pub async fn asset(
    Path(file): Path<String>,
    Query(q): Query<AssetQuery>,
) -> Result<impl IntoResponse, AppError> {
    let i = ASSETS
        .iter()
        .position(|(name, _, _)| *name == file)
        .ok_or(AppError::NotFound)?;
    let (_, mime, body) = ASSETS[i];
    let cache = if q.v.as_deref() == Some(digests()[i].as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=86400"
    };
    Ok((
        [(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, cache)],
        body,
    ))
}
