//! Emails Keel writes itself, as askama templates under `templates/emails/<kind>/`
//! (`subject.txt`, `body.txt`, `body.html`), queued in the outbox with both bodies and sent
//! as a multipart/alternative message.

use sqlx::PgConnection;
use uuid::Uuid;

pub use crate::statuses::{Audience, OutboxStatus};

/// A rendered email.
#[derive(Clone)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// An email kind: data that renders through its three templates.
pub trait Compose {
    fn compose(&self) -> askama::Result<Composed>;
}

/// Declares the templates of an email kind: `email!(Type, "emails/kind/subject.txt",
/// "emails/kind/body.txt", "emails/kind/body.html")` renders `Type` (named `e` in the
/// templates) through them. (askama takes each path as a literal.)
macro_rules! email {
    ($ty:ty, $subject:literal, $text:literal, $html:literal) => {
        const _: () = {
            #[derive(askama::Template)]
            #[template(path = $subject)]
            struct Subject<'a> {
                e: &'a $ty,
            }
            #[derive(askama::Template)]
            #[template(path = $text)]
            struct Text<'a> {
                e: &'a $ty,
            }
            #[derive(askama::Template)]
            #[template(path = $html)]
            struct Html<'a> {
                e: &'a $ty,
            }
            impl $crate::mail::compose::Compose for $ty {
                fn compose(&self) -> askama::Result<$crate::mail::compose::Composed> {
                    use askama::Template as _;
                    Ok($crate::mail::compose::Composed {
                        subject: Subject { e: self }.render()?.trim().to_owned(),
                        text: Text { e: self }.render()?,
                        html: Html { e: self }.render()?,
                    })
                }
            }
        };
    };
}
pub(crate) use email;

/// Who an email is for, what it says, and what it concerns.
pub struct Outgoing {
    /// `internal` (staff) or `customer`.
    pub audience: Audience,
    /// `pending` (send) or `review` (a CSM approves first).
    pub status: OutboxStatus,
    pub recipient: String,
    pub email: Composed,
    pub account: Option<Uuid>,
    pub task: Option<i64>,
}

/// Puts emails in the outbox, in the caller's transaction. Returns how many.
pub async fn queue(conn: &mut PgConnection, emails: &[Outgoing]) -> sqlx::Result<u64> {
    if emails.is_empty() {
        return Ok(0);
    }
    let col = |f: fn(&Outgoing) -> &str| emails.iter().map(f).collect::<Vec<&str>>();
    // Enum values travel as their stored names and are cast back in SQL.
    let done = sqlx::query!(
        r#"insert into outbox (audience, status, recipient, subject, body, html, account_id, task_id)
           select a::outbox_audience, s::outbox_status, r, subj, body, html, acc, task
           from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::uuid[], $8::bigint[]) x(a, s, r, subj, body, html, acc, task)"#,
        &col(|o| o.audience.as_str()) as &[&str],
        &col(|o| o.status.as_str()) as &[&str],
        &col(|o| &o.recipient) as &[&str],
        &col(|o| &o.email.subject) as &[&str],
        &col(|o| &o.email.text) as &[&str],
        &col(|o| &o.email.html) as &[&str],
        &emails.iter().map(|o| o.account).collect::<Vec<_>>() as &[Option<Uuid>],
        &emails.iter().map(|o| o.task).collect::<Vec<_>>() as &[Option<i64>],
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
