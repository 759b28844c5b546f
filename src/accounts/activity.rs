//! SQL for what happened on an account, as its timeline shows it (what it sent, what the team
//! did, and the workflow: plays, emails, snoozes, escalations, opportunities), and its open
//! tasks.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

/// The account's open tasks (id, title), newest first, for the "answers task" picker.
pub async fn open_tasks(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Vec<(i64, String)>> {
    let rows = sqlx::query!(
        "select id, title from tasks where account_id = $1 and status = 'open'
         order by created_at desc limit 50",
        id
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.title)).collect())
}

/// One timeline entry as read: when, its kind, its title, and its detail as text around an
/// optional moment the page shows in the viewer's own time zone.
pub struct Happening {
    pub at: OffsetDateTime,
    pub kind: String,
    pub title: String,
    pub before: String,
    pub moment: Option<OffsetDateTime>,
    pub after: String,
}

/// Everything that happened on the account, newest of each source first, in one read (see
/// migrations/20261209000100_account_timeline.sql for what each source gives): only entries
/// of `kind` when one is given ("" for every kind). An intervention sits at the moment it was
/// logged if that was the day it happened, else at noon of that day; a task where it last
/// changed: done when it was completed, else when opened.
pub async fn happenings(
    db: impl PgExecutor<'_>,
    id: Uuid,
    kind: &str,
) -> sqlx::Result<Vec<Happening>> {
    sqlx::query_as!(
        Happening,
        r#"select at as "at!", kind as "kind!", title as "title!", before as "before!",
                  moment as "moment?", after as "after!"
           from account_timeline($1, $2)"#,
        id,
        kind
    )
    .fetch_all(db)
    .await
}
