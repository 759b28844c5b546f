//! Pages of the sign-in flow.

use askama::Template;
use askama_web::WebTemplate;

use crate::web::layout::Chrome;

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    chrome: Chrome,
    next: String,
    email: String,
    error: Option<String>,
}

impl LoginPage {
    pub fn new(next: String, email: String, error: Option<String>) -> Self {
        LoginPage {
            chrome: Chrome::anonymous(),
            next,
            email,
            error,
        }
    }
}
