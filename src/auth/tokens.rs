//! API tokens for the batch API: created by an admin with scopes, shown once, stored as a
//! SHA-256 hash, revocable.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::Rng;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::{self, Actor};
use crate::error::{AppError, Result};

/// What a token may be scoped to: one per batch endpoint, `score` for churn scores,
/// `scores` for the score export and `opportunities` for the sales pipeline.
pub const SCOPES: [&str; 10] = [
    "accounts",
    "contacts",
    "subscriptions",
    "events",
    "tickets",
    "nps",
    "notes",
    "score",
    "scores",
    "opportunities",
];

/// The token behind an API request, put in the extensions by the access check.
#[derive(Clone, Debug)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
}

impl ApiToken {
    /// Refuses (403) unless the token carries `scope`.
    pub fn require(&self, scope: &str) -> Result<()> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::Token {
            name: self.name.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        parts
            .extensions
            .get::<ApiToken>()
            .cloned()
            .ok_or(AppError::Unauthenticated)
    }
}

fn digest(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// Creates a token and returns its secret, which is not kept.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    creator: Uuid,
    name: &str,
    scopes: &[String],
) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::BadRequest("Give the token a name.".into()));
    }
    if scopes.is_empty() {
        return Err(AppError::BadRequest("Choose at least one scope.".into()));
    }
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(AppError::BadRequest(format!("unknown scope '{bad}'")));
    }
    let secret: String = {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut rng = rand::rng();
        (0..40)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    };
    let secret = format!("keel_{secret}");
    let id = Uuid::new_v4();
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into api_tokens (id, name, token_hash, scopes, created_by) values ($1, $2, $3, $4, $5)",
        id,
        name,
        digest(&secret),
        scopes,
        creator
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        "token.create",
        Some(format!("token:{id}")),
        json!({"name": name, "scopes": scopes}),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

pub async fn revoke(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query!(
        "update api_tokens set revoked_at = now() where id = $1 and revoked_at is null",
        id
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut *tx,
        actor,
        "token.revoke",
        Some(format!("token:{id}")),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as!(
        TokenRow,
        "select id, name, scopes, created_at, last_used_at, revoked_at from api_tokens order by created_at desc"
    )
    .fetch_all(db)
    .await
}

/// The live token with this secret, if any: not revoked, not expired, its creator still
/// active. Notes its use to the minute (so that a busy client does not queue every request
/// on one row's lock).
pub async fn verify(db: impl PgExecutor<'_>, secret: &str) -> sqlx::Result<Option<ApiToken>> {
    let row = sqlx::query!(
        r#"with token as (
               select t.id, t.name, t.scopes, t.last_used_at from api_tokens t
               join users u on u.id = t.created_by
               where t.token_hash = $1 and t.revoked_at is null and t.expires_at > now() and u.active
           ), used as (
               update api_tokens set last_used_at = now()
               where id in (select id from token
                            where last_used_at is null or last_used_at < now() - interval '1 minute')
           )
           select id as "id!", name as "name!", scopes as "scopes!" from token"#,
        digest(secret)
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| ApiToken {
        id: r.id,
        name: r.name,
        scopes: r.scopes,
    }))
}
