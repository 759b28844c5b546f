//! Account owners: a customer's CRM often arrives without them. The live accounts nobody
//! owns, largest first, and their bulk assignment to a CSM, audited.

use serde_json::json;
use sqlx::{FromRow, PgExecutor, PgPool};
use time::Date;
use uuid::Uuid;

use crate::auth::audit::{self, Actor};
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};

/// At most this many are listed at once (largest ARR first).
pub const SHOWN: i64 = 500;

#[derive(FromRow)]
pub struct Unowned {
    /// How many are unassigned in all.
    pub total: i64,
    pub id: Uuid,
    pub external_id: String,
    pub name: String,
    pub segment: String,
    pub mrr_cents: i64,
    pub renewal_date: Option<Date>,
}

pub async fn unowned(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Unowned>> {
    sqlx::query_as(
        r#"select count(*) over () as total, id, external_id, name, segment, mrr_cents, renewal_date
           from accounts where owner_id is null and status <> 'churned'
           order by mrr_cents desc, name limit $1"#,
    )
    .bind(SHOWN)
    .fetch_all(db)
    .await
}

/// The CSMs `user` may hand accounts to: a manager's team, or every active CSM for an admin.
pub async fn csms(
    db: impl PgExecutor<'_>,
    user: &CurrentUser,
) -> sqlx::Result<Vec<(Uuid, String)>> {
    let manager = (user.role == Role::Manager).then_some(user.id);
    crate::auth::db::csms(db, manager).await
}

/// Gives the still-unowned accounts among `accounts` to `csm`, in one transaction with its
/// audit row. Returns how many were assigned (an account someone took meanwhile is left).
pub async fn assign(
    pool: &PgPool,
    user: &CurrentUser,
    accounts: &[Uuid],
    csm: Uuid,
) -> Result<(u64, String)> {
    if accounts.is_empty() {
        return Err(AppError::BadRequest("Tick the accounts to assign.".into()));
    }
    let Some((_, name)) = csms(pool, user).await?.into_iter().find(|c| c.0 == csm) else {
        return Err(AppError::BadRequest(
            "Choose one of your active CSMs to assign them to.".into(),
        ));
    };
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "update accounts set owner_id = $2 where id = any($1) and owner_id is null and status <> 'churned'",
    )
    .bind(accounts)
    .bind(csm)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    audit::record(
        &mut *tx,
        &Actor::from(user),
        "account.assign",
        Some(format!("user:{csm}")),
        json!({"accounts": accounts, "assigned": done}),
    )
    .await?;
    tx.commit().await?;
    Ok((done, name))
}
