//! Each role's home page. Until the domains behind them land, the non-admin homes say
//! what they will hold; the navigation already shows each role only its own.

use askama::Template;
use askama_web::WebTemplate;

use crate::auth::access::{Access, Route};
use crate::auth::{CurrentUser, Role};
use crate::web::layout::Chrome;

#[derive(Template, WebTemplate)]
#[template(path = "home/placeholder.html")]
pub struct Placeholder {
    chrome: Chrome,
    title: &'static str,
    purpose: &'static str,
    user_name: String,
}

macro_rules! home {
    ($fn_name:ident, $title:literal, $purpose:literal) => {
        async fn $fn_name(chrome: Chrome, user: CurrentUser) -> Placeholder {
            Placeholder {
                chrome,
                title: $title,
                purpose: $purpose,
                user_name: user.name,
            }
        }
    };
}

home!(
    pipeline,
    "Expansion pipeline",
    "Expansion opportunities handed over by Customer Success, to accept or reject within the hand-off SLA."
);

pub fn routes() -> Vec<Route> {
    vec![Route::get(
        "/pipeline",
        Access::Roles(&[Role::Sales]),
        pipeline,
    )]
}
