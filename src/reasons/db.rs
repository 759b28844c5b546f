//! SQL for the admin-kept reason codes (`reason_codes`).

use sqlx::PgExecutor;

pub struct ReasonCode {
    pub code: String,
    pub label: String,
}

/// The active codes of one kind, ordered by label.
pub async fn reason_codes(db: impl PgExecutor<'_>, kind: &str) -> sqlx::Result<Vec<ReasonCode>> {
    let [codes] = of_kinds(db, [kind]).await?;
    Ok(codes)
}

/// The active codes of each of `kinds` in one read, each ordered by label.
pub async fn of_kinds<const N: usize>(
    db: impl PgExecutor<'_>,
    kinds: [&str; N],
) -> sqlx::Result<[Vec<ReasonCode>; N]> {
    let rows = sqlx::query!(
        "select kind, code, label from reason_codes where kind = any($1) and active order by label",
        &kinds[..] as &[&str]
    )
    .fetch_all(db)
    .await?;
    Ok(by_kind(
        kinds,
        rows.into_iter().map(|r| (r.kind, r.code, r.label)),
    ))
}

/// (kind, code, label) rows, in label order, sorted into the lists of each of `kinds`
/// (rows of other kinds are left out).
pub fn by_kind<const N: usize>(
    kinds: [&str; N],
    rows: impl IntoIterator<Item = (String, String, String)>,
) -> [Vec<ReasonCode>; N] {
    let mut out: [Vec<ReasonCode>; N] = std::array::from_fn(|_| Vec::new());
    for (kind, code, label) in rows {
        if let Some(i) = kinds.iter().position(|k| *k == kind) {
            out[i].push(ReasonCode { code, label });
        }
    }
    out
}

/// A code as the admin page lists it.
pub struct CodeRow {
    pub code: String,
    pub kind: String,
    pub label: String,
    pub active: bool,
}

/// Every code, active or retired.
pub async fn all(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<CodeRow>> {
    sqlx::query_as!(
        CodeRow,
        "select code, kind, label, active from reason_codes order by kind, label"
    )
    .fetch_all(db)
    .await
}

/// Adds a code; false if it exists already.
pub async fn insert(
    db: impl PgExecutor<'_>,
    code: &str,
    kind: &str,
    label: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "insert into reason_codes (code, kind, label) values ($1, $2, $3) on conflict (code) do nothing",
        code,
        kind,
        label
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Flips a code between active and retired.
pub async fn toggle(db: impl PgExecutor<'_>, code: &str) -> sqlx::Result<Option<CodeRow>> {
    sqlx::query_as!(
        CodeRow,
        "update reason_codes set active = not active where code = $1 returning code, kind, label, active",
        code
    )
    .fetch_optional(db)
    .await
}
