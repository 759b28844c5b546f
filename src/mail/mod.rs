//! Sending the outbox over SMTP. Every email is written to the outbox in the transaction of
//! the change that caused it. The worker sends due ones [`SENDERS`] at a time over pooled SMTP
//! connections. A sender claims a few due emails at once under a lease (`for update skip
//! locked`, then not due again for [`LEASE`]), so no two senders, in one worker or several,
//! send the same email, and no database connection waits on an SMTP conversation. Each
//! email's fate is written on its own as soon as it is known: one email's failure never undoes
//! another's success. A transient failure (server down, 4xx) retries that email alone with
//! exponential backoff (30 s doubling, at most an hour apart); a permanent one (an invalid
//! address, a 5xx refusal) marks it failed with its reason. Nothing is lost while the mail
//! server is down. (If the process dies between the server accepting a message and its
//! being marked sent, that message is sent again once its lease lapses, with the same
//! Message-ID so mail clients show it once.)

pub mod compose;
pub mod db;
mod sending;
pub mod transport;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

/// Emails sent per call at most.
const BATCH: u64 = 4_000;
/// SMTP conversations at once, each on its own pooled connection.
pub const SENDERS: u64 = 32;
/// Emails a sender claims at a time.
const CLAIM: u64 = 16;
/// How long a claim keeps other senders off an email: far longer than [`CLAIM`] emails take
/// (each conversation times out after [`transport::TIMEOUT`]); a sender that runs short
/// releases the rest, and a claim left by a killed process lapses on its own.
const LEASE: Duration = Duration::minutes(10);

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

/// A claimed email.
struct Email {
    id: i64,
    recipient: String,
    subject: String,
    body: String,
    html: Option<String>,
    /// Attempts before this one.
    attempts: i32,
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

/// Sends the outbox's due emails, up to one batch, [`SENDERS`] at a time. `now` is a
/// parameter so tests move the clock.
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

/// One sender: claims a few due emails at a time until none is due or it has taken `quota`,
/// and sends them over its SMTP connection.
async fn send_some(
    pool: PgPool,
    mailer: Mailer,
    now: OffsetDateTime,
    quota: u64,
) -> anyhow::Result<Sent> {
    let mut out = Sent::default();
    let mut taken = 0;
    while taken < quota {
        let claimed = std::time::Instant::now();
        let emails = sending::claim(&pool, now, now + LEASE, CLAIM.min(quota - taken)).await?;
        if emails.is_empty() {
            break;
        }
        taken += emails.len() as u64;
        let mut emails = emails.into_iter();
        while let Some(email) = emails.next() {
            // Never send under a lease that may lapse mid-conversation: another sender could
            // claim the email by then. What is left goes back.
            if claimed.elapsed() + transport::TIMEOUT >= LEASE.unsigned_abs() {
                let left: Vec<i64> = std::iter::once(email.id)
                    .chain(emails.map(|e| e.id))
                    .collect();
                sending::release(&pool, &left, now).await?;
                break;
            }
            let (id, attempts) = (email.id, email.attempts);
            match mailer.deliver(email).await {
                Delivery::Sent => {
                    sending::mark_sent(&pool, id, now).await?;
                    out.sent += 1;
                }
                Delivery::Retry(error) => {
                    sending::mark_retry(&pool, id, attempts, now, &error).await?;
                    out.retrying += 1;
                }
                Delivery::Failed(error) => {
                    sending::mark_failed(&pool, id, &error).await?;
                    out.failed += 1;
                }
            }
        }
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
