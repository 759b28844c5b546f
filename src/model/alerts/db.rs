//! Model alerts in the database: raised once while open, acknowledged, muted.

use sqlx::PgExecutor;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::Alert;

/// What became of an alert seen on a run day.
#[derive(Debug, PartialEq, Eq)]
pub enum Raised {
    /// A new alert: the analysts are told.
    New,
    /// The open alert of the same kind and subject was brought up to date.
    Repeated,
    /// Muted until the day given: nothing recorded.
    Muted,
}

/// Records `a` as seen on `day`: muted ones not at all, a repeat of an open (unacknowledged)
/// alert of the same kind and subject as an update of it, anything else as a new alert (once
/// per kind, subject and day).
pub async fn raise(conn: &mut sqlx::PgConnection, day: Date, a: &Alert) -> sqlx::Result<Raised> {
    let muted = sqlx::query_scalar!(
        r#"select exists (select 1 from model_alert_mutes where kind = $1 and subject = $2 and until >= $3) as "muted!""#,
        a.kind,
        a.subject,
        day
    )
    .fetch_one(&mut *conn)
    .await?;
    if muted {
        return Ok(Raised::Muted);
    }
    let repeated = sqlx::query_scalar!(
        r#"update model_alerts
           set seen = seen + (last_seen < $3)::int, last_seen = greatest(last_seen, $3),
               message = $4, value = $5, threshold = $6
           where id = (select max(id) from model_alerts
                       where kind = $1 and subject = $2 and acknowledged_at is null)
           returning id"#,
        a.kind,
        a.subject,
        day,
        a.message,
        a.value.map(|v| v as f32),
        a.threshold.map(|v| v as f32),
    )
    .fetch_optional(&mut *conn)
    .await?;
    if repeated.is_some() {
        return Ok(Raised::Repeated);
    }
    let new = sqlx::query_scalar!(
        "insert into model_alerts (kind, subject, message, value, threshold, day, last_seen)
         values ($1, $2, $3, $4, $5, $6, $6)
         on conflict (kind, subject, day) do nothing returning id",
        a.kind,
        a.subject,
        a.message,
        a.value.map(|v| v as f32),
        a.threshold.map(|v| v as f32),
        day
    )
    .fetch_optional(&mut *conn)
    .await?;
    // Acknowledged today already: not raised again the same day.
    Ok(if new.is_some() {
        Raised::New
    } else {
        Raised::Repeated
    })
}

pub struct AlertRow {
    pub id: i64,
    pub kind: String,
    pub subject: String,
    pub message: String,
    pub day: Date,
    pub last_seen: Date,
    pub seen: i32,
    pub created_at: OffsetDateTime,
    pub acknowledged_at: Option<OffsetDateTime>,
    pub acknowledged_by: Option<String>,
    pub muted_until: Option<Date>,
}

/// The newest alerts, open ones first.
pub async fn recent(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<AlertRow>> {
    sqlx::query_as!(
        AlertRow,
        r#"select a.id, a.kind, a.subject, a.message, a.day, a.last_seen, a.seen, a.created_at,
                  a.acknowledged_at, u.name as "acknowledged_by?", m.until as "muted_until?"
           from model_alerts a left join users u on u.id = a.acknowledged_by
           left join model_alert_mutes m on m.kind = a.kind and m.subject = a.subject
           order by a.acknowledged_at is not null, a.last_seen desc, a.id desc limit $1"#,
        limit
    )
    .fetch_all(db)
    .await
}

/// Marks an open alert acknowledged; its kind and subject when it was open.
pub async fn acknowledge(
    db: impl PgExecutor<'_>,
    id: i64,
    by: Uuid,
) -> sqlx::Result<Option<(String, String)>> {
    let row = sqlx::query!(
        "update model_alerts set acknowledged_at = now(), acknowledged_by = $2
         where id = $1 and acknowledged_at is null returning kind, subject",
        id,
        by
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.kind, r.subject)))
}

/// The kind and subject of an alert.
pub async fn find(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<(String, String)>> {
    let row = sqlx::query!("select kind, subject from model_alerts where id = $1", id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| (r.kind, r.subject)))
}

/// Silences a kind and subject up to and including `until`.
pub async fn mute(
    db: impl PgExecutor<'_>,
    kind: &str,
    subject: &str,
    until: Date,
    by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into model_alert_mutes (kind, subject, until, muted_by) values ($1, $2, $3, $4)
         on conflict (kind, subject) do update set until = excluded.until, muted_by = excluded.muted_by,
                                                   created_at = now()",
        kind,
        subject,
        until,
        by
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Lifts a mute; whether there was one.
pub async fn unmute(db: impl PgExecutor<'_>, kind: &str, subject: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from model_alert_mutes where kind = $1 and subject = $2",
        kind,
        subject
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
