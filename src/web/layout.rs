//! The page shell: the signed-in user's badge and navigation (which `auth::access` derives
//! from the route table), rendered around every page.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{AssetUrls, asset_urls};
use crate::error::AppError;

#[derive(Clone)]
pub struct NavLink {
    pub label: &'static str,
    pub href: &'static str,
    pub active: bool,
}

#[derive(Clone)]
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
    /// The addresses of the stylesheet, script and icon, with their content's digest.
    pub assets: &'static AssetUrls,
    pub user: Option<NavUser>,
}

impl Chrome {
    /// The shell for visitors who are not signed in.
    pub fn anonymous() -> Self {
        Chrome {
            assets: asset_urls(),
            user: None,
        }
    }
}

/// The shell of the page being served: the signed-in user's badge and navigation, which the
/// access check left in the request, or the anonymous shell.
impl<S: Send + Sync> FromRequestParts<S> for Chrome {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        Ok(Chrome {
            assets: asset_urls(),
            user: parts.extensions.get::<NavUser>().cloned(),
        })
    }
}
