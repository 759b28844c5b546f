//! Column mappings: a source's own headers ("Account Name", "Amount") mapped to Keel's
//! columns, saved under a name per source ("Salesforce accounts") and applied by the upload
//! page, the JSON API (`?mapping=NAME`) and `keel import --mapping NAME`. Columns the
//! mapping does not name are left out.

use std::collections::BTreeMap;

use sqlx::{FromRow, PgExecutor};
use time::OffsetDateTime;

use super::schema::Entity;
use crate::error::AppError;

/// A saved mapping: Keel's column → the source's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnMap {
    pub name: String,
    pub entity: Entity,
    pub columns: BTreeMap<String, String>,
}

impl ColumnMap {
    /// Checks a mapping against its entity: known Keel columns, every required one mapped,
    /// no source header used twice. Errors name the column.
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.len() > 80 {
            errors.push("name: give the mapping a name of 1 to 80 characters".to_owned());
        }
        for keel in self.columns.keys() {
            if !self.entity.columns().iter().any(|c| c.name == keel) {
                errors.push(format!("{keel}: not a column of {}", self.entity));
            }
        }
        for c in self.entity.columns().iter().filter(|c| c.required) {
            if !self.columns.contains_key(c.name) {
                errors.push(format!(
                    "{}: required, choose the file's column for it",
                    c.name
                ));
            }
        }
        let mut seen = BTreeMap::new();
        for (keel, source) in &self.columns {
            if let Some(other) = seen.insert(source, keel) {
                errors.push(format!(
                    "{keel}: the file's column '{source}' is already used for {other}"
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The Keel column a source header maps to.
    pub fn keel_name(&self, source: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(_, s)| s.as_str() == source)
            .map(|(k, _)| k.as_str())
    }
}

#[derive(FromRow)]
struct Row {
    name: String,
    entity: String,
    columns: serde_json::Value,
}

impl Row {
    fn into_map(self) -> Option<ColumnMap> {
        Some(ColumnMap {
            name: self.name,
            entity: self.entity.parse().ok()?,
            columns: serde_json::from_value(self.columns).ok()?,
        })
    }
}

pub async fn find(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Option<ColumnMap>> {
    let row: Option<Row> =
        sqlx::query_as("select name, entity, columns from column_mappings where name = $1")
            .bind(name)
            .fetch_optional(db)
            .await?;
    Ok(row.and_then(Row::into_map))
}

/// The saved mapping `name` for `entity`, or an error that says what is wrong.
pub async fn named(
    db: impl PgExecutor<'_>,
    name: &str,
    entity: Entity,
) -> crate::error::Result<ColumnMap> {
    match find(db, name).await? {
        None => Err(AppError::BadRequest(format!(
            "There is no column mapping named '{name}'; save one on the upload page first."
        ))),
        Some(m) if m.entity != entity => Err(AppError::BadRequest(format!(
            "The column mapping '{name}' is for {}, not {entity}.",
            m.entity
        ))),
        Some(m) => Ok(m),
    }
}

/// Every saved mapping, by name.
pub async fn all(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<ColumnMap>> {
    let rows: Vec<Row> =
        sqlx::query_as("select name, entity, columns from column_mappings order by name")
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().filter_map(Row::into_map).collect())
}

/// Saves (or replaces) a mapping under its name.
pub async fn upsert(db: impl PgExecutor<'_>, m: &ColumnMap, by: &str) -> sqlx::Result<()> {
    sqlx::query(
        r#"insert into column_mappings (name, entity, columns, created_by, updated_at)
           values ($1, $2, $3, $4, $5)
           on conflict (name) do update set entity = excluded.entity, columns = excluded.columns,
               created_by = excluded.created_by, updated_at = excluded.updated_at"#,
    )
    .bind(m.name.trim())
    .bind(m.entity.as_str())
    .bind(serde_json::to_value(&m.columns).unwrap_or_default())
    .bind(by)
    .bind(OffsetDateTime::now_utc())
    .execute(db)
    .await?;
    Ok(())
}

/// What exports commonly call some of Keel's columns (squashed: lowercase, no spaces).
const SYNONYMS: &[(&str, &[&str])] = &[
    ("externalid", &["accountid", "customerid", "id"]),
    (
        "accountid",
        &["customerid", "customer", "groupid", "companyid"],
    ),
    (
        "customersince",
        &["createddate", "startdate", "since", "signupdate"],
    ),
    (
        "churnedon",
        &["churndate", "canceledat", "cancelledat", "enddate"],
    ),
    ("userid", &["user", "anonymousid", "distinctid"]),
    ("eventtype", &["event", "eventname", "action"]),
    (
        "timestamp",
        &["time", "occurredat", "createdat", "eventtime"],
    ),
];

fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The file's column most likely meant for a Keel column: the same name ignoring case,
/// spaces and punctuation, else a common synonym ("Account ID" for `external_id`), else one
/// containing it ("Account MRR" for `mrr`).
pub fn guess<'a>(keel: &str, headers: &'a [String]) -> Option<&'a str> {
    let want = squash(keel);
    let synonyms = SYNONYMS
        .iter()
        .find(|(k, _)| *k == want)
        .map_or(&[][..], |(_, s)| *s);
    headers
        .iter()
        .find(|h| squash(h) == want)
        .or_else(|| {
            synonyms
                .iter()
                .find_map(|s| headers.iter().find(|h| squash(h) == *s))
        })
        .or_else(|| headers.iter().find(|h| squash(h).contains(&want)))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> ColumnMap {
        ColumnMap {
            name: "Stripe subscriptions".into(),
            entity: Entity::Subscriptions,
            columns: pairs
                .iter()
                .map(|(k, s)| ((*k).to_owned(), (*s).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn a_mapping_names_every_required_column_once() {
        let errors = map(&[
            ("account_id", "Customer"),
            ("mrr", "Customer"),
            ("seat", "Qty"),
        ])
        .check()
        .unwrap_err();
        assert!(
            errors.contains(&"seat: not a column of subscriptions".to_owned()),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("period_start: required"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("'Customer' is already used"))
        );
    }

    #[test]
    fn guesses_match_names_loosely() {
        let headers: Vec<String> = ["Account ID", "Account MRR", "Start Date"]
            .map(String::from)
            .to_vec();
        assert_eq!(guess("account_id", &headers), Some("Account ID"));
        assert_eq!(guess("external_id", &headers), Some("Account ID"));
        assert_eq!(guess("mrr", &headers), Some("Account MRR"));
        assert_eq!(guess("period_end", &headers), None);
    }
}
