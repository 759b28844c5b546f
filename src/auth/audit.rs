//! The audit log: every write in Keel records who did what to which target, and when.

use serde_json::Value;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::CurrentUser;

/// Who performed an action.
#[derive(Clone, Debug)]
pub enum Actor {
    User {
        id: Uuid,
        email: String,
    },
    /// Someone not signed in, known only by what they typed (failed sign-ins).
    Anonymous(String),
    /// The `keel` command line.
    Cli,
    /// The background worker (scheduled runs, re-scoring, sweeps).
    Worker,
    /// A client of the batch API, by its token's name.
    Token {
        name: String,
    },
}

impl From<&CurrentUser> for Actor {
    fn from(u: &CurrentUser) -> Self {
        Actor::User {
            id: u.id,
            email: u.email.clone(),
        }
    }
}

impl Actor {
    /// How the actor is shown in logs and records.
    pub fn label(&self) -> String {
        self.parts().1
    }

    fn parts(&self) -> (Option<Uuid>, String) {
        match self {
            Actor::User { id, email } => (Some(*id), email.clone()),
            Actor::Anonymous(label) => (None, format!("anonymous ({label})")),
            Actor::Cli => (None, "cli".to_owned()),
            Actor::Worker => (None, "worker".to_owned()),
            Actor::Token { name } => (None, format!("token:{name}")),
        }
    }
}

/// Records one action. Call it inside the transaction of the write it describes.
pub async fn record(
    db: impl PgExecutor<'_>,
    actor: &Actor,
    action: &str,
    target: Option<String>,
    details: Value,
) -> sqlx::Result<()> {
    let (actor_id, label) = actor.parts();
    sqlx::query!(
        r#"insert into audit_log (actor_id, actor_label, action, target, details)
           values ($1, $2, $3, $4, $5)"#,
        actor_id,
        label,
        action,
        target,
        details
    )
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor_label: String,
    pub action: String,
    pub target: Option<String>,
    pub details: Value,
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    /// Keyset pagination: only entries older than this id.
    pub before: Option<i64>,
}

pub async fn list(db: impl PgExecutor<'_>, f: &Filter, limit: i64) -> sqlx::Result<Vec<Entry>> {
    sqlx::query_as!(
        Entry,
        r#"select id, at, actor_label, action, target, details
           from audit_log
           where ($1::uuid is null or actor_id = $1)
             and ($2::text is null or action = $2)
             and ($3::bigint is null or id < $3)
           order by id desc
           limit $4"#,
        f.actor_id,
        f.action,
        f.before,
        limit
    )
    .fetch_all(db)
    .await
}

/// The distinct actions recorded so far, for the filter.
pub async fn actions(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(r#"select distinct action as "action!" from audit_log order by 1"#)
        .fetch_all(db)
        .await
}
