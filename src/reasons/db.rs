//! SQL for the admin-kept reason codes (`reason_codes`).

use sqlx::PgExecutor;

pub struct ReasonCode {
    pub code: String,
    pub label: String,
}

pub async fn reason_codes(db: impl PgExecutor<'_>, kind: &str) -> sqlx::Result<Vec<ReasonCode>> {
    sqlx::query_as!(
        ReasonCode,
        "select code, label from reason_codes where kind = $1 and active order by label",
        kind
    )
    .fetch_all(db)
    .await
}
