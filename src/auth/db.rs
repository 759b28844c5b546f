//! SQL for users and sign-in attempts.

use sqlx::{PgConnection, PgExecutor};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::Role;

#[derive(Clone, Debug)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub manager_id: Option<Uuid>,
    pub active: bool,
    pub session_epoch: i32,
    /// Their own time zone (IANA name); none means their browser's.
    pub time_zone: Option<String>,
}

#[derive(Clone, Debug)]
pub struct UserListRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub manager_name: Option<String>,
    pub active: bool,
    pub created_at: OffsetDateTime,
}

pub struct Credentials {
    pub id: Uuid,
    pub password_hash: String,
    pub active: bool,
    pub session_epoch: i32,
    pub role: Role,
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub manager_id: Option<Uuid>,
    pub password_hash: &'a str,
}

pub async fn find_user(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"select id, email, name, role as "role: Role", manager_id, active, session_epoch, time_zone
           from users where id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

pub async fn find_credentials(
    db: impl PgExecutor<'_>,
    email: &str,
) -> sqlx::Result<Option<Credentials>> {
    sqlx::query_as!(
        Credentials,
        r#"select id, password_hash, active, session_epoch, role as "role: Role"
           from users where email = $1"#,
        email
    )
    .fetch_optional(db)
    .await
}

pub async fn email_taken(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<bool> {
    let taken = sqlx::query_scalar!(
        r#"select exists(select 1 from users where email = $1) as "taken!""#,
        email
    )
    .fetch_one(db)
    .await?;
    Ok(taken)
}

/// Every user (`only: None`) or just one, as the users table shows them.
pub async fn list_users(
    db: impl PgExecutor<'_>,
    only: Option<Uuid>,
) -> sqlx::Result<Vec<UserListRow>> {
    sqlx::query_as!(
        UserListRow,
        r#"select u.id, u.email, u.name, u.role as "role: Role", m.name as "manager_name?",
                  u.active, u.created_at
           from users u left join users m on m.id = u.manager_id
           where ($1::uuid is null or u.id = $1)
           order by u.active desc, u.role, u.name"#,
        only
    )
    .fetch_all(db)
    .await
}

/// Active managers, for the "reports to" choice.
/// Email addresses of the active users holding `role`.
pub async fn active_emails(db: impl PgExecutor<'_>, role: Role) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "select email from users where role = $1 and active order by email",
        role as Role
    )
    .fetch_all(db)
    .await
}

pub async fn list_managers(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(Uuid, String)>> {
    let rows = sqlx::query!(
        r#"select id, name from users where role = 'manager' and active order by name"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// Active CSMs, by name: a manager's team (`Some(manager)`), or every one.
pub async fn csms(
    db: impl PgExecutor<'_>,
    manager: Option<Uuid>,
) -> sqlx::Result<Vec<(Uuid, String)>> {
    let rows = sqlx::query!(
        "select id, name from users where role = 'csm' and active and ($1::uuid is null or manager_id = $1)",
        manager
    )
    .fetch_all(db)
    .await?;
    let mut csms: Vec<_> = rows.into_iter().map(|r| (r.id, r.name)).collect();
    csms.sort_by(|a, b| natord::compare(&a.1, &b.1));
    Ok(csms)
}

pub async fn insert_user(conn: &mut PgConnection, new: &NewUser<'_>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        r#"insert into users (id, email, name, role, manager_id, password_hash)
           values ($1, $2, $3, $4, $5, $6) returning id"#,
        Uuid::new_v4(),
        new.email,
        new.name,
        new.role as Role,
        new.manager_id,
        new.password_hash
    )
    .fetch_one(conn)
    .await
}

pub async fn update_profile(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    role: Role,
    manager_id: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set name = $2, role = $3, manager_id = $4 where id = $1",
        id,
        name,
        role as Role,
        manager_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deactivating also voids the user's sessions.
pub async fn set_active(conn: &mut PgConnection, id: Uuid, active: bool) -> sqlx::Result<()> {
    sqlx::query!(
        r#"update users set active = $2,
                  session_epoch = session_epoch + case when $2 then 0 else 1 end
           where id = $1"#,
        id,
        active
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A new password voids the user's sessions.
pub async fn set_password(conn: &mut PgConnection, id: Uuid, hash: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set password_hash = $2, session_epoch = session_epoch + 1 where id = $1",
        id,
        hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets a user's own settings: the time zone their times are shown in (none: their
/// browser's) and whether they get the daily digest.
pub async fn set_settings(
    db: impl PgExecutor<'_>,
    id: Uuid,
    zone: Option<&str>,
    digest: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set time_zone = $2, digest = $3 where id = $1",
        id,
        zone,
        digest
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether the user asked for the daily digest.
pub async fn wants_digest(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!("select digest from users where id = $1", id)
        .fetch_optional(db)
        .await
        .map(|d| d.unwrap_or(false))
}

/// Active CSMs who asked for the digest and have not had `day`'s.
pub async fn digest_due(db: impl PgExecutor<'_>, day: Date) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "select id from users where digest and active and role = 'csm'
           and (digest_queued_on is null or digest_queued_on < $1)",
        day
    )
    .fetch_all(db)
    .await
}

/// Marks `day`'s digest as queued for the user, if it was not (their row is locked until
/// the caller's transaction ends); their email and name, or none if it was.
pub async fn claim_digest(
    db: impl PgExecutor<'_>,
    id: Uuid,
    day: Date,
) -> sqlx::Result<Option<(String, String)>> {
    let row = sqlx::query!(
        "update users set digest_queued_on = $2
         where id = $1 and digest and (digest_queued_on is null or digest_queued_on < $2)
         returning email, name",
        id,
        day
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.email, r.name)))
}

/// Detaches the reports of a user who stops being a manager.
pub async fn clear_reports(conn: &mut PgConnection, manager_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "update users set manager_id = null where manager_id = $1",
        manager_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn record_attempt(
    db: impl PgExecutor<'_>,
    email: &str,
    ip: Option<&str>,
    succeeded: bool,
    at: OffsetDateTime,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into login_attempts (email, ip, succeeded, at) values ($1, $2, $3, $4)",
        email,
        ip,
        succeeded,
        at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Holds sign-in attempts for `email` to one at a time until the transaction ends, so a
/// burst of guesses is counted one by one.
pub async fn lock_email(conn: &mut PgConnection, email: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended($1, 7))",
        email
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Recent failures: for the email since its last success, and for the address.
pub struct Failures {
    pub by_email: i64,
    pub by_ip: i64,
    pub last_for_email: Option<OffsetDateTime>,
}

/// Failed attempts since `since` for the email (after its last success) and the address.
pub async fn recent_failures(
    db: impl PgExecutor<'_>,
    email: &str,
    ip: Option<&str>,
    since: OffsetDateTime,
) -> sqlx::Result<Failures> {
    sqlx::query_as!(
        Failures,
        r#"with last_ok as (select max(at) as at from login_attempts where email = $1 and succeeded)
           select count(*) filter (where email = $1 and at > coalesce((select at from last_ok), '-infinity'))
                      as "by_email!",
                  count(*) filter (where ip = $2) as "by_ip!",
                  max(at) filter (where email = $1) as last_for_email
           from login_attempts
           where not succeeded and at >= $3 and (email = $1 or ip = $2)"#,
        email,
        ip,
        since
    )
    .fetch_one(db)
    .await
}
