//! The ingestion pages: upload a CSV, preview and check it, confirm; batches and freshness.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use uuid::Uuid;

use super::schema::{Column, Entity, Kind};
use super::table::RowError;
use super::{Payload, Status, pages};
use crate::auth::CurrentUser;
use crate::auth::audit::{self, Actor};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::layout::Chrome;

pub struct BatchView {
    id: i64,
    entity: String,
    source: String,
    status: String,
    rows: i32,
    problems: Vec<String>,
    more_problems: usize,
    who: String,
    when: String,
}

pub struct FreshnessView {
    entity: &'static str,
    newest: String,
    expected: String,
    stale: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "ingest/index.html")]
pub struct IngestPage {
    chrome: Chrome,
    entities: Vec<&'static str>,
    batches: Vec<BatchView>,
    freshness: Vec<FreshnessView>,
    /// Saved column mappings: (name, entity).
    mappings: Vec<(String, &'static str)>,
    error: Option<String>,
}

pub(super) fn describe(e: &RowError) -> String {
    match (e.row, e.column.as_str()) {
        (0, "") => e.message.clone(),
        (0, col) => format!("header, column {col}: {}", e.message),
        (row, "") => format!("row {row}: {}", e.message),
        (row, col) => format!("row {row}, column {col}: {}", e.message),
    }
}

fn minutes_label(m: i64) -> String {
    if m % (24 * 60) == 0 {
        format!("{} day", m / (24 * 60))
    } else if m % 60 == 0 {
        format!("{} h", m / 60)
    } else {
        format!("{m} min")
    }
}

async fn index_page(state: &AppState, chrome: Chrome, error: Option<String>) -> Result<IngestPage> {
    let batches = pages::recent_batches(&state.db, 50)
        .await?
        .into_iter()
        .map(|b| {
            let errors: Vec<RowError> = serde_json::from_value(b.errors).unwrap_or_default();
            BatchView {
                id: b.id,
                entity: b.entity,
                source: b.source,
                status: b.status.to_string(),
                rows: b.rows,
                problems: errors.iter().take(3).map(describe).collect(),
                more_problems: errors.len().saturating_sub(3),
                who: b.actor_label,
                when: crate::web::format::timestamp(b.created_at),
            }
        })
        .collect();
    let newest = pages::newest_records(&state.db).await?;
    let now = state.clock.now();
    let freshness = Entity::ALL
        .into_iter()
        .map(|e| {
            let at = newest
                .iter()
                .find(|(n, _)| n == e.as_str())
                .and_then(|(_, t)| *t);
            let expected = e.freshness_minutes().unwrap_or(60);
            FreshnessView {
                entity: e.as_str(),
                newest: at
                    .map(crate::web::format::timestamp)
                    .unwrap_or_else(|| "no data".into()),
                expected: minutes_label(expected),
                stale: at.is_none_or(|t| (now - t).whole_minutes() > expected),
            }
        })
        .collect();
    let mappings = super::mapping::all(&state.db)
        .await?
        .into_iter()
        .map(|m| (m.name, m.entity.as_str()))
        .collect();
    Ok(IngestPage {
        chrome,
        entities: Entity::ALL.iter().map(|e| e.as_str()).collect(),
        batches,
        freshness,
        mappings,
        error,
    })
}

pub async fn index(State(state): State<AppState>, chrome: Chrome) -> Result<IngestPage> {
    index_page(&state, chrome, None).await
}

/// Receives a CSV, stages it, and shows what ingesting it would do.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    mut form: Multipart,
) -> Result<Response> {
    let mut entity = None;
    let mut mapping_name = None;
    let mut file = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| upload_error(&state, e))?
    {
        match field.name() {
            Some("entity") => {
                entity = Some(field.text().await.map_err(|e| upload_error(&state, e))?)
            }
            Some("mapping") => {
                let name = field.text().await.map_err(|e| upload_error(&state, e))?;
                mapping_name = Some(name).filter(|n| !n.trim().is_empty());
            }
            Some("file") => {
                let name = field.file_name().unwrap_or("upload.csv").to_owned();
                file = Some((
                    name,
                    field.bytes().await.map_err(|e| upload_error(&state, e))?,
                ));
            }
            _ => {}
        }
    }
    let entity: Option<Entity> = entity.and_then(|e| e.parse().ok());
    let (Some(entity), Some((filename, bytes))) = (entity, file) else {
        let page = index_page(
            &state,
            chrome,
            Some("Choose what the file holds and a CSV file.".into()),
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let mapping = match &mapping_name {
        Some(name) => Some(super::mapping::named(&state.db, name, entity).await?),
        None => None,
    };
    let actor = Actor::from(&user);
    let mut tx = state.db.begin().await?;
    let id = pages::stage_upload(
        &mut *tx,
        entity.as_str(),
        &filename,
        &bytes,
        mapping_name.as_deref(),
        user.id,
    )
    .await?;
    let details = json!({"entity": entity.as_str(), "filename": filename, "bytes": bytes.len()});
    audit::record(
        &mut *tx,
        &actor,
        "ingest.upload",
        Some(format!("upload:{id}")),
        details,
    )
    .await?;
    tx.commit().await?;
    // A file that cannot be ingested is recorded as a refused batch, with its reasons;
    // one whose headers are not Keel's waits for its columns to be mapped.
    let m = mapping.as_ref();
    let checked = super::check(&state.db, entity, Payload::Csv(bytes.to_vec()), m, &actor).await?;
    if checked.status == Status::Rejected && !super::check_page::headers_only(&checked.errors) {
        let payload = Payload::Csv(bytes.to_vec());
        super::ingest(&state.db, entity, payload, m, "csv", &actor).await?;
    }
    Ok(Redirect::to(&format!("/ingest/uploads/{id}")).into_response())
}

fn upload_error(state: &AppState, e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge(format!(
            "The file is larger than {} MB; split it.",
            state.config.max_batch_mb
        ))
    } else {
        AppError::BadRequest(format!("The upload could not be read: {}", e.body_text()))
    }
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, upload = %id))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Redirect> {
    let upload = pages::find_upload(&state.db, id, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let entity: Entity = upload.entity.parse().map_err(|_| AppError::NotFound)?;
    let mapping = match &upload.mapping {
        Some(name) => Some(super::mapping::named(&state.db, name, entity).await?),
        None => None,
    };
    let outcome = super::ingest(
        &state.db,
        entity,
        Payload::Csv(upload.content),
        mapping.as_ref(),
        "csv",
        &Actor::from(&user),
    )
    .await?;
    pages::delete_upload(&state.db, id).await?;
    Ok(Redirect::to(&format!("/ingest#batch-{}", outcome.batch_id)))
}

pub struct EntityDoc {
    name: &'static str,
    columns: &'static [Column],
}

#[derive(Template, WebTemplate)]
#[template(path = "ingest/formats.html")]
pub struct FormatsPage {
    chrome: Chrome,
    entities: Vec<EntityDoc>,
}

impl Column {
    pub(super) fn kind_label(&self) -> String {
        match self.kind {
            Kind::Text => "text".into(),
            Kind::Email => "email address".into(),
            Kind::Int(min, max) => format!("whole number {min}–{max}"),
            Kind::Money => "dollars (e.g. 1250.00)".into(),
            Kind::Date => "date YYYY-MM-DD".into(),
            Kind::Timestamp => "timestamp, UTC".into(),
            Kind::Bool => "true / false".into(),
            Kind::Choice(options) => options.join(" | "),
        }
    }
}

pub async fn formats(chrome: Chrome) -> FormatsPage {
    FormatsPage {
        chrome,
        entities: Entity::ALL
            .into_iter()
            .map(|e| EntityDoc {
                name: e.as_str(),
                columns: e.columns(),
            })
            .collect(),
    }
}
