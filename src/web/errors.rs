//! Turns failed responses into what the caller can use: a full error page, an htmx toast,
//! a JSON body for the API, or a redirect to sign in. Every one carries the request id;
//! none carries internals, which are logged here once.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_htmx::{HxRedirect, HxReswap, SwapOption};
use tower_http::csrf::ProtectionError;

use super::layout::{Chrome, NavUser};
use crate::error::{AppError, ErrorInfo};

#[derive(Template, WebTemplate)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    title: &'static str,
    message: String,
    request_id: String,
}

#[derive(Template)]
#[template(path = "partials/toast.html")]
pub struct Toast<'a> {
    pub kind: &'a str,
    pub message: &'a str,
    pub request_id: Option<&'a str>,
}

/// Routes that answer JSON rather than HTML.
fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// A request the framework refused before a handler ran (a malformed id in the path, a
/// query or form it could not read) answers in plain text; it gets the same treatment as
/// Keel's own refusals. Any other response passes through.
async fn rejection(resp: Response) -> Result<ErrorInfo, Response> {
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if !resp.status().is_client_error() || !plain {
        return Err(resp);
    }
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .unwrap_or_default();
    let detail: String = String::from_utf8_lossy(&body).chars().take(300).collect();
    Ok(ErrorInfo {
        status,
        message: format!("This request could not be read: {}", detail.trim()),
        internal: None,
    })
}

pub async fn render(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let is_htmx = req.headers().contains_key("hx-request");
    // Where to come back to after signing in: this page, or for a form sent from a page
    // (htmx or not), that page, since the form's own address only takes a POST.
    let path_and_query = if req.method() == axum::http::Method::GET {
        req.uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), ToString::to_string)
    } else {
        req.headers()
            .get("hx-current-url")
            .or_else(|| req.headers().get(header::REFERER))
            .and_then(|v| v.to_str().ok())
            .and_then(|url| url.parse::<axum::http::Uri>().ok())
            .and_then(|uri| uri.path_and_query().map(ToString::to_string))
            .unwrap_or_else(|| "/".to_owned())
    };
    let api = is_api(req.uri().path());

    let mut resp = next.run(req).await;
    let nav = resp.extensions().get::<NavUser>().cloned();
    let info = match resp.extensions_mut().remove::<ErrorInfo>() {
        Some(info) => info,
        None if resp.extensions().get::<ProtectionError>().is_some() => ErrorInfo {
            status: StatusCode::FORBIDDEN,
            message: "Cross-site request refused: this form was not sent from Keel.".into(),
            internal: None,
        },
        None => match rejection(resp).await {
            Ok(info) => info,
            Err(resp) => return resp,
        },
    };
    if let Some(cause) = &info.internal {
        tracing::error!(request_id, error = ?cause, "request failed");
    }

    if api {
        let message = if info.status == StatusCode::UNAUTHORIZED {
            "A live API token is required: send `Authorization: Bearer <token>`.".to_owned()
        } else {
            info.message
        };
        let body = serde_json::json!({"error": message, "request_id": request_id});
        return (info.status, axum::Json(body)).into_response();
    }
    if info.status == StatusCode::UNAUTHORIZED {
        let login = format!("/login?next={}", urlencode(&path_and_query));
        return if is_htmx {
            (HxRedirect(login), StatusCode::NO_CONTENT).into_response()
        } else {
            Redirect::to(&login).into_response()
        };
    }
    if is_htmx {
        let toast = Toast {
            kind: "error",
            message: &info.message,
            request_id: Some(&request_id),
        };
        return match toast.render() {
            Ok(html) => (info.status, HxReswap(SwapOption::None), html_body(html)).into_response(),
            Err(e) => plain_failure(e.into()),
        };
    }
    let page = ErrorPage {
        chrome: Chrome {
            user: nav,
            ..Chrome::anonymous()
        },
        status: info.status.as_u16(),
        title: info.status.canonical_reason().unwrap_or("Error"),
        message: info.message,
        request_id,
    };
    (info.status, page).into_response()
}

/// The 404 for paths no route matches.
pub async fn not_found() -> AppError {
    AppError::NotFound
}

fn html_body(html: String) -> ([(header::HeaderName, HeaderValue); 1], String) {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
}

fn plain_failure(e: anyhow::Error) -> Response {
    tracing::error!(error = ?e, "rendering an error response failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// Percent-encodes a path for use as a query value.
pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
