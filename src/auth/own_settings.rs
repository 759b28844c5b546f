//! A signed-in user's own settings: the time zone Keel shows their times in (their
//! browser's unless they choose one) and, for CSMs, the daily digest of what changed in
//! their book.

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
use super::{CurrentUser, Role, db};
use crate::error::Result;
use crate::state::AppState;
use crate::web::layout::Chrome;
use crate::web::zone;

#[derive(Deserialize)]
pub struct SettingsForm {
    /// An IANA zone name, or empty for the browser's.
    #[serde(default)]
    pub time_zone: String,
    /// Present when the digest box is ticked (CSMs only).
    #[serde(default)]
    pub digest: Option<String>,
}

/// Saves `user`'s settings if the zone exists (empty: their browser's); the field error
/// otherwise. Returns the zone saved.
pub async fn save_settings(
    pool: &PgPool,
    user: &CurrentUser,
    form: &SettingsForm,
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
    let digest = form.digest.is_some() && user.role == Role::Csm;
    let mut tx = pool.begin().await?;
    db::set_settings(&mut *tx, user.id, zone.as_deref(), digest).await?;
    audit::record(
        &mut *tx,
        &Actor::from(user),
        "user.settings",
        Some(format!("user:{}", user.id)),
        json!({ "time_zone": zone, "digest": digest }),
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
    /// Whether the user may have the digest (CSMs), and whether they do.
    digest_offered: bool,
    digest: bool,
    /// When this page was shown, in the zone in force.
    now: String,
    errors: FormErrors,
    saved: bool,
}

impl SettingsPage {
    async fn new(
        chrome: Chrome,
        state: &AppState,
        user: &CurrentUser,
        headers: &HeaderMap,
        chosen: Option<String>,
    ) -> Result<Self> {
        Ok(SettingsPage {
            digest_offered: user.role == Role::Csm,
            digest: db::wants_digest(&state.db, user.id).await?,
            chrome,
            chosen: chosen.unwrap_or_default(),
            browser: zone::browser(headers),
            zones: zone::names(),
            now: crate::web::format::timestamp(state.clock.now()),
            errors: FormErrors::default(),
            saved: false,
        })
    }
}

pub async fn show(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    headers: HeaderMap,
) -> Result<SettingsPage> {
    let chosen = user.time_zone.clone();
    SettingsPage::new(chrome, &state, &user, &headers, chosen).await
}

pub async fn save(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> Result<Response> {
    Ok(match save_settings(&state.db, &user, &form).await? {
        Ok(zone) => {
            // This response was begun in the old zone; show the new one's time.
            let shown = zone
                .clone()
                .or_else(|| zone::browser(&headers))
                .and_then(|n| zone::parse(&n))
                .unwrap_or(jiff::tz::TimeZone::UTC);
            let now = state.clock.now();
            let mut page = SettingsPage::new(chrome, &state, &user, &headers, zone).await?;
            page.now = zone::scope(shown, async { crate::web::format::timestamp(now) }).await;
            page.saved = true;
            page.into_response()
        }
        Err(errors) => {
            let chosen = user.time_zone.clone();
            let mut page = SettingsPage::new(chrome, &state, &user, &headers, chosen).await?;
            page.chosen = form.time_zone;
            page.errors = errors;
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
    })
}
