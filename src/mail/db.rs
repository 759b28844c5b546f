//! SQL for the outbox: what the pages list, the customer emails plays open, and the CSM's
//! review of them. (Sending is `mail::send_due`; queuing Keel's own emails is
//! `mail::compose::queue`.)

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::statuses::{Audience, OutboxStatus};

pub struct OutboxRow {
    pub id: i64,
    pub audience: Audience,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

pub async fn outbox(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<OutboxRow>> {
    sqlx::query_as!(
        OutboxRow,
        r#"select id, audience as "audience: Audience", recipient, subject, body,
                  status as "status: OutboxStatus", attempts, last_error, created_at, sent_at
           from outbox order by id desc limit $1"#,
        limit
    )
    .fetch_all(db)
    .await
}

/// Customer emails opened by plays: (account, recipient, subject, body), waiting for review
/// or ready to send.
pub async fn queue_customer_emails(
    conn: &mut PgConnection,
    emails: &[(Uuid, String, String, String)],
    review: bool,
) -> sqlx::Result<u64> {
    let account: Vec<Uuid> = emails.iter().map(|e| e.0).collect();
    let recipient: Vec<&str> = emails.iter().map(|e| e.1.as_str()).collect();
    let subject: Vec<&str> = emails.iter().map(|e| e.2.as_str()).collect();
    let body: Vec<&str> = emails.iter().map(|e| e.3.as_str()).collect();
    let done = sqlx::query!(
        r#"insert into outbox (audience, account_id, recipient, subject, body, status)
           select 'customer', a, r, s, b,
                  (case when $5 then 'review' else 'pending' end)::outbox_status
           from unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) as x(a, r, s, b)"#,
        &account,
        &recipient as &[&str],
        &subject as &[&str],
        &body as &[&str],
        review
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub struct ReviewRow {
    pub id: i64,
    pub account_id: Uuid,
    pub account: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

/// Customer emails waiting for review on the accounts of `owner` (a CSM) or of `manager`'s team.
pub async fn review_queue(
    db: impl PgExecutor<'_>,
    owner: Option<Uuid>,
    manager: Option<Uuid>,
) -> sqlx::Result<Vec<ReviewRow>> {
    sqlx::query_as!(
        ReviewRow,
        r#"select o.id, a.id as account_id, a.name as account, o.recipient, o.subject, o.body
           from outbox o join accounts a on a.id = o.account_id left join users u on u.id = a.owner_id
           where o.status = 'review' and ($1::uuid is null or a.owner_id = $1) and ($2::uuid is null or u.manager_id = $2)
           order by o.id limit 200"#,
        owner,
        manager
    )
    .fetch_all(db)
    .await
}

/// Approves, as written, the emails among `ids` still waiting for review that the user may
/// see; returns the ids approved.
pub async fn approve_as_written(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    owner: Option<Uuid>,
    manager: Option<Uuid>,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        r#"update outbox o set status = 'pending', next_attempt_at = now()
           from accounts a left join users u on u.id = a.owner_id
           where o.id = any($1) and o.status = 'review' and a.id = o.account_id
             and ($2::uuid is null or a.owner_id = $2) and ($3::uuid is null or u.manager_id = $3)
           returning o.id"#,
        ids,
        owner,
        manager
    )
    .fetch_all(db)
    .await
}

/// Approves (with the reviewer's edits) or discards a reviewable email the user may see.
pub async fn review(
    db: impl PgExecutor<'_>,
    id: i64,
    owner: Option<Uuid>,
    manager: Option<Uuid>,
    decision: Option<(&str, &str)>,
) -> sqlx::Result<bool> {
    let (subject, body) = decision.unzip();
    let done = sqlx::query!(
        r#"update outbox o set status = (case when $4::text is null then 'discarded' else 'pending' end)::outbox_status,
                  subject = coalesce($4, o.subject), body = coalesce($5, o.body), next_attempt_at = now()
           from accounts a left join users u on u.id = a.owner_id
           where o.id = $1 and o.status = 'review' and a.id = o.account_id
             and ($2::uuid is null or a.owner_id = $2) and ($3::uuid is null or u.manager_id = $3)"#,
        id,
        owner,
        manager,
        subject,
        body
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
