//! The daily digest: each CSM who asked for it is emailed what changed in their book (the
//! worklist's "what changed" card) once a day, after the day's scores, through the outbox.

use sqlx::PgPool;
use time::OffsetDateTime;

use super::changes::{self, Group};
use crate::auth;
use crate::mail::compose::{Audience, Compose, OutboxStatus, Outgoing, email, queue};

/// Lines each group of the email shows.
const SHOWN: usize = 8;

/// What a digest email says.
struct Digest {
    name: String,
    since: String,
    latest: String,
    groups: Vec<Group>,
}
email!(
    Digest,
    "emails/digest/subject.txt",
    "emails/digest/body.txt",
    "emails/digest/body.html"
);

/// Queues today's digest for every CSM who asked for it and has not had it, once today's
/// scores exist. A user's row is claimed in the same transaction that queues their email,
/// so however many workers sweep, each day's digest is queued once; a book with nothing new
/// gets no email. Returns how many were queued.
pub async fn sweep(pool: &PgPool, now: OffsetDateTime) -> anyhow::Result<u64> {
    let today = now.date();
    if changes::scored_days(pool)
        .await?
        .is_none_or(|(_, latest)| latest < today)
    {
        return Ok(0);
    }
    let mut queued = 0;
    for csm in auth::db::digest_due(pool, today).await? {
        let Some(c) = changes::load(pool, csm, now).await? else {
            continue;
        };
        let mut tx = pool.begin().await?;
        let Some((recipient, name)) = auth::db::claim_digest(&mut *tx, csm, today).await? else {
            continue;
        };
        let (since, latest) = (c.since.to_string(), c.latest.to_string());
        let groups = c.groups(SHOWN);
        if !groups.is_empty() {
            let email = Digest {
                name,
                since,
                latest,
                groups,
            }
            .compose()?;
            let outgoing = Outgoing {
                audience: Audience::Internal,
                status: OutboxStatus::Pending,
                recipient,
                email,
                account: None,
                task: None,
            };
            queued += queue(&mut tx, &[outgoing]).await?;
        }
        tx.commit().await?;
    }
    Ok(queued)
}
