//! A batch as a table of text cells, whether it came as CSV (parsed with polars) or as a
//! JSON array of objects, plus the errors found while reading it.

use std::io::Cursor;

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mapping::ColumnMap;
use super::schema::Entity;

/// At most this many errors are reported for one batch.
pub const MAX_ERRORS: usize = 100;

/// One problem with a batch. Row 0 means the header (CSV) or the batch as a whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Errors {
    pub list: Vec<RowError>,
    pub truncated: bool,
}

impl Errors {
    pub fn add(&mut self, row: usize, column: &str, message: impl Into<String>) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(RowError {
                row,
                column: column.to_owned(),
                message: message.into(),
            });
        } else {
            self.truncated = true;
        }
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    pub fn is_full(&self) -> bool {
        self.truncated
    }
}

/// Text cells by column, for the columns the entity defines. Rows are 1-based in errors.
/// Cloning is cheap: the columns are shared.
#[derive(Clone)]
pub struct Table {
    columns: Vec<(&'static str, StringChunked)>,
    len: usize,
}

impl Table {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The column's cells, if the batch has the column.
    pub fn column(&self, name: &str) -> Option<&StringChunked> {
        self.columns
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| c)
    }

    /// The column names and the first `n` rows, for a preview.
    pub fn preview(&self, n: usize) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let names = self.columns.iter().map(|(name, _)| *name).collect();
        let rows = (0..self.len.min(n))
            .map(|i| {
                self.columns
                    .iter()
                    .map(|(_, c)| c.get(i).unwrap_or("").to_owned())
                    .collect()
            })
            .collect();
        (names, rows)
    }

    /// Parses CSV text; every cell stays text until the entity's rules read it.
    /// (A file polars cannot read is described in plain words, see `csv_problem`.)
    /// With a column mapping, the file's headers are read through it and the columns it
    /// does not name are left out.
    pub fn from_csv(
        entity: Entity,
        bytes: Vec<u8>,
        mapping: Option<&ColumnMap>,
        errors: &mut Errors,
    ) -> Option<Table> {
        let parsed = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(Cursor::new(bytes))
            .finish();
        let df = match parsed {
            Ok(df) => df,
            Err(e) => {
                errors.add(0, "", csv_problem(&e.to_string()));
                return None;
            }
        };
        let df = match mapping {
            Some(m) => through(df, m, errors)?,
            None => df,
        };
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        check_header(entity, &names, errors);
        if !errors.is_empty() {
            return None;
        }
        let columns = entity
            .columns()
            .iter()
            .filter_map(|c| {
                let series = df.column(c.name).ok()?.as_materialized_series().rechunk();
                series.str().ok().map(|s| (c.name, s.clone()))
            })
            .collect();
        Some(Table {
            columns,
            len: df.height(),
        })
    }

    /// Reads a JSON array of objects keyed by column name.
    pub fn from_json(entity: Entity, rows: &[Value], errors: &mut Errors) -> Option<Table> {
        let mut cells: Vec<Vec<Option<String>>> =
            vec![Vec::with_capacity(rows.len()); entity.columns().len()];
        let mut present = vec![false; entity.columns().len()];
        for (i, row) in rows.iter().enumerate() {
            let Value::Object(map) = row else {
                errors.add(i + 1, "", "each row must be a JSON object");
                continue;
            };
            for key in map.keys() {
                if !entity.columns().iter().any(|c| c.name == key) {
                    errors.add(i + 1, key, format!("unknown column '{key}' for {entity}"));
                }
            }
            for (j, c) in entity.columns().iter().enumerate() {
                let cell = match map.get(c.name) {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Bool(b)) => Some(b.to_string()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    Some(other) => {
                        errors.add(
                            i + 1,
                            c.name,
                            format!("expected text or a number, got {other}"),
                        );
                        None
                    }
                };
                present[j] |= cell.is_some();
                cells[j].push(cell);
            }
        }
        if !errors.is_empty() {
            return None;
        }
        let columns = entity
            .columns()
            .iter()
            .zip(cells)
            .map(|(c, values)| {
                (
                    c.name,
                    StringChunked::from_iter_options(c.name.into(), values.into_iter()),
                )
            })
            .collect();
        Some(Table {
            columns,
            len: rows.len(),
        })
    }
}

/// The file's columns renamed to Keel's by the mapping; the others left out.
fn through(df: DataFrame, m: &ColumnMap, errors: &mut Errors) -> Option<DataFrame> {
    let mut columns = Vec::with_capacity(m.columns.len());
    for (keel, source) in &m.columns {
        match df.column(source) {
            Ok(c) => {
                let mut c = c.clone();
                c.rename(keel.as_str().into());
                columns.push(c);
            }
            Err(_) => errors.add(
                0,
                keel,
                format!(
                    "the mapping '{}' takes {keel} from the column '{source}', which the file does not have",
                    m.name
                ),
            ),
        }
    }
    if !errors.is_empty() {
        return None;
    }
    DataFrame::new(df.height(), columns).ok()
}

/// JSON rows with their keys renamed to Keel's by the mapping; other keys left out.
pub fn rename_json(rows: Vec<Value>, m: &ColumnMap) -> Vec<Value> {
    rows.into_iter()
        .map(|row| match row {
            Value::Object(mut obj) => Value::Object(
                m.columns
                    .iter()
                    .filter_map(|(keel, source)| Some((keel.clone(), obj.remove(source)?)))
                    .collect(),
            ),
            other => other,
        })
        .collect()
}

fn check_header(entity: Entity, names: &[String], errors: &mut Errors) {
    for name in names {
        if !entity.columns().iter().any(|c| c.name == name) {
            let expected: Vec<&str> = entity.columns().iter().map(|c| c.name).collect();
            errors.add(
                0,
                name,
                format!(
                    "unknown column '{name}' for {entity} (expected {})",
                    expected.join(", ")
                ),
            );
        }
    }
    for c in entity.columns().iter().filter(|c| c.required) {
        if !names.iter().any(|n| n == c.name) {
            errors.add(0, c.name, format!("missing required column '{}'", c.name));
        }
    }
}
/// What is wrong with a file the CSV reader refused, in the user's words rather than the
/// reader's (whose messages name its own options).
fn csv_problem(reader: &str) -> String {
    let what = if reader.contains("more fields") {
        "a row has more cells than the header has columns"
    } else if reader.to_lowercase().contains("utf-8") || reader.to_lowercase().contains("utf8") {
        "the file is not UTF-8 text"
    } else {
        "the file could not be read as CSV: check that cells are separated by commas, quotes are balanced and every row has as many cells as the header"
    };
    format!("not a readable CSV file: {what}")
}
