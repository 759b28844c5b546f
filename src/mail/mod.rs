//! Sending the outbox over SMTP. Every email is written to the outbox in the transaction of
//! the change that caused it. The worker sends due ones [`SENDERS`] at a time over pooled SMTP
//! connections, each email in its own transaction under a row lock (`for update skip
//! locked`), so no two senders (in one worker or several) send the same email and an email's
//! send and its state change commit together: one email's failure never undoes another's
//! success. A transient failure (server down, 4xx) retries that email alone with exponential
//! backoff (30 s doubling, at most an hour apart); a permanent one (an invalid address, a 5xx
//! refusal) marks it failed with its reason. Nothing is lost while the mail server is down.
//! (If the process dies between the server accepting a message and the commit, that one
//! message is sent again, with the same Message-ID so mail clients show it once.)

pub mod compose;
pub mod db;
pub mod transport;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

/// Emails sent per call at most, each in its own transaction.
const BATCH: u64 = 2_000;
/// Emails in flight at once, each on its own pooled SMTP connection and database transaction.
pub const SENDERS: u64 = 8;

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for `server` (see [`transport`]) sending as `from`.
    pub fn new(server: &str, from: &str) -> anyhow::Result<Mailer> {
        Mailer::with_ca(server, from, None)
    }

    /// The same, also trusting a private CA's certificate (PEM).
    pub fn with_ca(server: &str, from: &str, ca: Option<&[u8]>) -> anyhow::Result<Mailer> {
        Ok(Mailer {
            transport: transport::build(server, ca)?,
            from: from
                .parse()
                .map_err(|e| anyhow::anyhow!("KEEL_MAIL_FROM: '{from}' is not an address: {e}"))?,
        })
    }
}

/// The wait before attempt `attempts + 1`.
pub fn backoff(attempts: i32) -> Duration {
    Duration::seconds((30_i64 << attempts.clamp(0, 7)).min(3600))
}

#[derive(Debug, Default, PartialEq)]
pub struct Sent {
    pub sent: u64,
    /// Failed for now; tried again after a backoff.
    pub retrying: u64,
    /// Undeliverable; marked failed with the reason.
    pub failed: u64,
}

/// What became of one attempt to send an email.
enum Delivery {
    Sent,
    /// Worth retrying later: the server is down or asked us to come back.
    Retry(String),
    /// Never deliverable as it stands: the address is invalid, or the server refused it.
    Failed(String),
}

struct Email {
    id: i64,
    recipient: String,
    subject: String,
    body: String,
    html: Option<String>,
}

impl Mailer {
    async fn deliver(&self, email: Email) -> Delivery {
        let to = match email.recipient.parse::<Mailbox>() {
            Ok(to) => to,
            Err(e) => return Delivery::Failed(format!("recipient '{}': {e}", email.recipient)),
        };
        // The same id on every attempt, so a message re-sent after a crash reads as one.
        let domain = self.from.email.domain();
        let message = Message::builder()
            .message_id(Some(format!("<outbox-{}@{domain}>", email.id)))
            .from(self.from.clone())
            .to(to)
            .subject(email.subject);
        let built = match email.html {
            Some(html) => message.multipart(MultiPart::alternative_plain_html(email.body, html)),
            None => message.body(email.body),
        };
        let message = match built {
            Ok(message) => message,
            Err(e) => return Delivery::Failed(e.to_string()),
        };
        match self.transport.send(message).await {
            Ok(_) => Delivery::Sent,
            Err(e) if e.is_permanent() => Delivery::Failed(e.to_string()),
            Err(e) => Delivery::Retry(e.to_string()),
        }
    }
}

/// Sends the outbox's due emails, up to one batch, [`SENDERS`] at a time, each in its own
/// transaction. `now` is a parameter so tests move the clock.
pub async fn send_due(pool: &PgPool, mailer: &Mailer, now: OffsetDateTime) -> anyhow::Result<Sent> {
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..SENDERS {
        senders.spawn(send_some(
            pool.clone(),
            mailer.clone(),
            now,
            BATCH / SENDERS,
        ));
    }
    let mut out = Sent::default();
    while let Some(done) = senders.join_next().await {
        let s = done??;
        out.sent += s.sent;
        out.retrying += s.retrying;
        out.failed += s.failed;
    }
    Ok(out)
}

/// One sender: takes due emails one by one (skipping those another sender holds) until
/// none is due or it has sent `quota`.
async fn send_some(
    pool: PgPool,
    mailer: Mailer,
    now: OffsetDateTime,
    quota: u64,
) -> anyhow::Result<Sent> {
    let pool = &pool;
    let mut out = Sent::default();
    for _ in 0..quota {
        let mut tx = pool.begin().await?;
        let Some(due) = sqlx::query!(
            "select id, recipient, subject, body, html, attempts from outbox
             where status = 'pending' and next_attempt_at <= $1
             order by id limit 1 for update skip locked",
            now
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            break;
        };
        let email = Email {
            id: due.id,
            recipient: due.recipient,
            subject: due.subject,
            body: due.body,
            html: due.html,
        };
        match mailer.deliver(email).await {
            Delivery::Sent => {
                sqlx::query!(
                    "update outbox set status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = null where id = $1",
                    due.id,
                    now
                )
                .execute(&mut *tx)
                .await?;
                out.sent += 1;
            }
            Delivery::Retry(error) => {
                sqlx::query!(
                    "update outbox set attempts = attempts + 1, next_attempt_at = $2, last_error = $3 where id = $1",
                    due.id,
                    now + backoff(due.attempts),
                    error
                )
                .execute(&mut *tx)
                .await?;
                out.retrying += 1;
            }
            Delivery::Failed(error) => {
                sqlx::query!(
                    "update outbox set status = 'failed', attempts = attempts + 1, last_error = $2 where id = $1",
                    due.id,
                    error
                )
                .execute(&mut *tx)
                .await?;
                out.failed += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let secs: Vec<i64> = (0..9).map(|a| super::backoff(a).whole_seconds()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }
}
