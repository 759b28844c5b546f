//! Sending the outbox over SMTP. Every email is written to the outbox in the transaction of
//! the change that caused it; the worker sends due ones, each under a row lock so two workers
//! never send the same email, marks them sent in the same transaction, and on failure retries
//! with exponential backoff (30 s doubling, at most an hour apart). Nothing is lost while the
//! mail server is down. (If the process dies between the server accepting a message and the
//! commit, that one message is sent again: at-least-once, the only honest promise over SMTP.)

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

/// Emails sent per transaction.
const BATCH: i64 = 100;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A plain-SMTP mailer for `host:port` (a local relay or a test server).
    pub fn new(server: &str, from: &str) -> anyhow::Result<Mailer> {
        let (host, port) = match server.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse()
                    .map_err(|_| anyhow::anyhow!("KEEL_SMTP: '{p}' is not a port"))?,
            ),
            None => (server, 25),
        };
        Ok(Mailer {
            transport: AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(port)
                .timeout(Some(std::time::Duration::from_secs(10)))
                .build(),
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
    pub failed: u64,
}

/// Sends the outbox's due emails (one batch). `now` is a parameter so tests move the clock.
pub async fn send_due(pool: &PgPool, mailer: &Mailer, now: OffsetDateTime) -> anyhow::Result<Sent> {
    let mut tx = pool.begin().await?;
    let due = sqlx::query!(
        "select id, recipient, subject, body, attempts from outbox
         where status = 'pending' and next_attempt_at <= $1
         order by id limit $2 for update skip locked",
        now,
        BATCH
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Sent::default();
    for email in due {
        let result = match Message::builder()
            .from(mailer.from.clone())
            .to(email
                .recipient
                .parse()
                .map_err(|e| anyhow::anyhow!("recipient '{}': {e}", email.recipient))?)
            .subject(email.subject)
            .body(email.body)
        {
            Ok(message) => mailer
                .transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(()) => {
                sqlx::query!(
                    "update outbox set status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = null where id = $1",
                    email.id,
                    now
                )
                .execute(&mut *tx)
                .await?;
                out.sent += 1;
            }
            Err(error) => {
                sqlx::query!(
                    "update outbox set attempts = attempts + 1, next_attempt_at = $2, last_error = $3 where id = $1",
                    email.id,
                    now + backoff(email.attempts),
                    error
                )
                .execute(&mut *tx)
                .await?;
                out.failed += 1;
            }
        }
    }
    tx.commit().await?;
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
