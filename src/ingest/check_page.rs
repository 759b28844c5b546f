//! A staged upload checked before anything is written: its first rows and every problem;
//! and, when the file's headers are not Keel's, the form that maps its columns (each Keel
//! column with its type and meaning, the file's column for it guessed by name), saved under
//! a name for the next file from the same source.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use uuid::Uuid;

use super::mapping::{self, ColumnMap};
use super::routes::describe;
use super::table::{Errors, RowError, Table};
use super::{Entity, Payload, Status, pages};
use crate::auth::CurrentUser;
use crate::auth::audit::{self, Actor};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::layout::Chrome;

const PREVIEW_ROWS: usize = 10;

/// Whether every problem is with the header: the file may only need its columns mapped.
pub fn headers_only(errors: &[RowError]) -> bool {
    !errors.is_empty() && errors.iter().all(|e| e.row == 0 && !e.column.is_empty())
}

/// One Keel column in the mapping form.
pub struct Field {
    name: &'static str,
    required: bool,
    kind: String,
    meaning: &'static str,
    /// The file's headers, with whether each is the one chosen.
    choices: Vec<(String, bool)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "ingest/preview.html")]
pub struct PreviewPage {
    chrome: Chrome,
    id: String,
    entity: String,
    filename: String,
    rows: usize,
    columns: Vec<&'static str>,
    sample: Vec<Vec<String>>,
    problems: Vec<String>,
    truncated: bool,
    unchanged: bool,
    /// The mapping the file is read through.
    mapping: Option<String>,
    /// The mapping form, when the headers need mapping (or a mapping is being changed).
    fields: Vec<Field>,
    mapping_name: String,
    mapping_errors: Vec<String>,
}

fn headers(content: &[u8]) -> Vec<String> {
    csv::Reader::from_reader(content)
        .headers()
        .map(|h| h.iter().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn fields(entity: Entity, headers: &[String], chosen: Option<&ColumnMap>) -> Vec<Field> {
    entity
        .columns()
        .iter()
        .map(|c| {
            let pick = match chosen {
                Some(m) => m.columns.get(c.name).map(String::as_str),
                None => mapping::guess(c.name, headers),
            };
            Field {
                name: c.name,
                required: c.required,
                kind: c.kind_label(),
                meaning: c.meaning,
                choices: headers
                    .iter()
                    .map(|h| (h.clone(), pick == Some(h.as_str())))
                    .collect(),
            }
        })
        .collect()
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    chrome: Chrome,
    id: Uuid,
    proposed: Option<(ColumnMap, Vec<String>)>,
) -> Result<PreviewPage> {
    let upload = pages::find_upload(&state.db, id, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let entity: Entity = upload.entity.parse().map_err(|_| AppError::NotFound)?;
    let mapping = match &upload.mapping {
        Some(name) => mapping::find(&state.db, name).await?,
        None => None,
    };
    let mut parse_errors = Errors::default();
    let (columns, sample) = Table::from_csv(
        entity,
        upload.content.clone(),
        mapping.as_ref(),
        &mut parse_errors,
    )
    .map(|t| t.preview(PREVIEW_ROWS))
    .unwrap_or_default();
    let file_headers = headers(&upload.content);
    let outcome = super::check(
        &state.db,
        entity,
        Payload::Csv(upload.content),
        mapping.as_ref(),
        &Actor::from(user),
    )
    .await?;
    let stem = upload.filename.trim_end_matches(".csv").to_owned();
    let (fields, mapping_name, mapping_errors) = match proposed {
        Some((m, errors)) => (fields(entity, &file_headers, Some(&m)), m.name, errors),
        None if headers_only(&outcome.errors) => (
            fields(entity, &file_headers, mapping.as_ref()),
            upload
                .mapping
                .clone()
                .unwrap_or(format!("{stem} ({entity})")),
            Vec::new(),
        ),
        None => (Vec::new(), String::new(), Vec::new()),
    };
    Ok(PreviewPage {
        chrome,
        id: id.to_string(),
        entity: upload.entity,
        filename: upload.filename,
        rows: outcome.rows,
        columns,
        sample,
        problems: outcome.errors.iter().map(describe).collect(),
        truncated: outcome.errors_truncated,
        unchanged: outcome.status == Status::Unchanged,
        mapping: upload.mapping,
        fields,
        mapping_name,
        mapping_errors,
    })
}

pub async fn preview(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Path(id): Path<Uuid>,
) -> Result<PreviewPage> {
    page(&state, &user, chrome, id, None).await
}

/// Saves the column mapping the form describes and reads the upload through it.
pub async fn save_mapping(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Path(id): Path<Uuid>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let upload = pages::find_upload(&state.db, id, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let entity: Entity = upload.entity.parse().map_err(|_| AppError::NotFound)?;
    let value = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim());
    let proposed = ColumnMap {
        name: value("mapping_name").unwrap_or_default().to_owned(),
        entity,
        columns: form
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("col.")?.to_owned(), v.clone())))
            .filter(|(_, v)| !v.is_empty())
            .collect(),
    };
    if let Err(errors) = proposed.check() {
        let page = page(&state, &user, chrome, id, Some((proposed, errors))).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let actor = Actor::from(&user);
    let mut tx = state.db.begin().await?;
    mapping::upsert(&mut *tx, &proposed, &actor.label()).await?;
    pages::set_upload_mapping(&mut *tx, id, proposed.name.trim()).await?;
    audit::record(
        &mut *tx,
        &actor,
        "ingest.mapping",
        Some(format!("column_mapping:{}", proposed.name.trim())),
        json!({"entity": entity.as_str(), "columns": proposed.columns}),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/ingest/uploads/{id}")).into_response())
}
