//! A signed-in user's own settings: the time zone Keel shows their times in (their
//! browser's unless they choose one).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;

use super::audit::{self, Actor};
use super::users::FormErrors;
use super::{CurrentUser, db};
use crate::error::Result;
use crate::state::AppState;
use crate::web::layout::Chrome;
use crate::web::zone;

#[derive(Deserialize)]
pub struct TimeZoneForm {
    /// An IANA zone name, or empty for the browser's.
    #[serde(default)]
    pub time_zone: String,
}

/// Saves `user`'s time zone (none: their browser's) if the zone exists; the field error
/// otherwise.
pub async fn set_time_zone(
    pool: &PgPool,
    user: &CurrentUser,
    form: &TimeZoneForm,
) -> Result<std::result::Result<Option<String>, FormErrors>> {
    let name = form.time_zone.trim();
    let zone = (!name.is_empty()).then(|| name.to_owned());
    if let Some(name) = &zone
        && zone::parse(name).is_none()
    {
        let mut errors = FormErrors::default();
        errors.add(
            "time_zone",
            format!("{name} is not a time zone Keel knows; pick one from the list."),
        );
        return Ok(Err(errors));
    }
    let mut tx = pool.begin().await?;
    db::set_time_zone(&mut *tx, user.id, zone.as_deref()).await?;
    audit::record(
        &mut *tx,
        &Actor::from(user),
        "user.time_zone",
        Some(format!("user:{}", user.id)),
        json!({ "time_zone": zone }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(zone))
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/settings.html")]
pub struct SettingsPage {
    chrome: Chrome,
    /// The zone the user chose, empty for their browser's.
    chosen: String,
    /// What their browser said, if it said.
    browser: Option<String>,
    zones: Vec<String>,
    /// When this page was shown, in the zone in force.
    now: String,
    errors: FormErrors,
    saved: bool,
}

impl SettingsPage {
    fn new(chrome: Chrome, state: &AppState, headers: &HeaderMap, chosen: Option<String>) -> Self {
        SettingsPage {
            chrome,
            chosen: chosen.unwrap_or_default(),
            browser: zone::browser(headers),
            zones: zone::names(),
            now: crate::web::format::timestamp(state.clock.now()),
            errors: FormErrors::default(),
            saved: false,
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    headers: HeaderMap,
) -> SettingsPage {
    SettingsPage::new(chrome, &state, &headers, user.time_zone)
}

pub async fn save(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    headers: HeaderMap,
    Form(form): Form<TimeZoneForm>,
) -> Result<Response> {
    Ok(match set_time_zone(&state.db, &user, &form).await? {
        Ok(zone) => {
            // This response was begun in the old zone; show the new one's time.
            let shown = zone
                .clone()
                .or_else(|| zone::browser(&headers))
                .and_then(|n| zone::parse(&n))
                .unwrap_or(jiff::tz::TimeZone::UTC);
            let now = state.clock.now();
            let mut page = SettingsPage::new(chrome, &state, &headers, zone);
            page.now = zone::scope(shown, async { crate::web::format::timestamp(now) }).await;
            page.saved = true;
            page.into_response()
        }
        Err(errors) => {
            let mut page = SettingsPage::new(chrome, &state, &headers, user.time_zone);
            page.chosen = form.time_zone;
            page.errors = errors;
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
    })
}
