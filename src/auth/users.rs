//! Managing users: validation, the write, and its audit entry, in one transaction each.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::audit::{self, Actor};
use super::{Role, db, password};
use crate::error::{AppError, Result};

/// Field-level problems with a submitted form, in the order of the form's fields.
#[derive(Clone, Debug, Default)]
pub struct FormErrors(pub Vec<(&'static str, String)>);

impl FormErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// Why a user change was refused.
#[derive(Debug)]
pub enum UserError {
    Invalid(FormErrors),
    App(AppError),
}

impl From<AppError> for UserError {
    fn from(e: AppError) -> Self {
        UserError::App(e)
    }
}

impl From<sqlx::Error> for UserError {
    fn from(e: sqlx::Error) -> Self {
        UserError::App(e.into())
    }
}

/// A lower-cased email address of the shape `local@domain.tld`.
pub fn parse_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        }
        None => false,
    };
    if !valid || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(format!("'{}' is not an email address", raw.trim()));
    }
    Ok(email)
}

pub struct UserInput {
    pub email: String,
    pub name: String,
    pub role: String,
    pub manager_id: Option<Uuid>,
    pub password: String,
}

pub struct ProfileInput {
    pub name: String,
    pub role: String,
    pub manager_id: Option<Uuid>,
}

async fn check_profile(
    pool: &PgPool,
    errors: &mut FormErrors,
    name: &str,
    role: &str,
    manager_id: Option<Uuid>,
) -> Result<Option<Role>> {
    if name.trim().is_empty() {
        errors.add("name", "A name is required.");
    }
    let role = match role.parse::<Role>() {
        Ok(r) => Some(r),
        Err(e) => {
            errors.add("role", e.to_string());
            None
        }
    };
    if let Some(manager_id) = manager_id {
        if role != Some(Role::Csm) {
            errors.add(
                "manager_id",
                "Only customer success managers report to a manager.",
            );
        } else {
            let manager = db::find_user(pool, manager_id).await?;
            if !manager.is_some_and(|m| m.role == Role::Manager && m.active) {
                errors.add(
                    "manager_id",
                    "The chosen manager is not an active CS manager.",
                );
            }
        }
    }
    Ok(role)
}

pub async fn create(pool: &PgPool, actor: &Actor, input: &UserInput) -> Result<Uuid, UserError> {
    let mut errors = FormErrors::default();
    let email = match parse_email(&input.email) {
        Ok(e) => Some(e),
        Err(m) => {
            errors.add("email", m);
            None
        }
    };
    let role = check_profile(
        pool,
        &mut errors,
        &input.name,
        &input.role,
        input.manager_id,
    )
    .await?;
    if input.password.chars().count() < password::MIN_LENGTH {
        errors.add(
            "password",
            format!("Use at least {} characters.", password::MIN_LENGTH),
        );
    }
    if let Some(email) = &email
        && db::email_taken(pool, email).await?
    {
        errors.add("email", format!("{email} already has an account."));
    }
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        return Err(UserError::Invalid(errors));
    };
    let hash = password::hash(input.password.clone()).await?;
    let mut tx = pool.begin().await?;
    let name = input.name.trim();
    let id = db::insert_user(
        &mut tx,
        &db::NewUser {
            email: &email,
            name,
            role,
            manager_id: input.manager_id,
            password_hash: &hash,
        },
    )
    .await?;
    let details =
        json!({"email": email, "name": name, "role": role, "manager_id": input.manager_id});
    audit::record(&mut *tx, actor, "user.create", Some(target(id)), details).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_profile(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    input: &ProfileInput,
) -> Result<(), UserError> {
    let before = db::find_user(pool, id).await?.ok_or(AppError::NotFound)?;
    let mut errors = FormErrors::default();
    let role = check_profile(
        pool,
        &mut errors,
        &input.name,
        &input.role,
        input.manager_id,
    )
    .await?;
    if is_self(actor, id) && role.is_some_and(|r| r != Role::Admin) {
        errors.add("role", "You cannot remove your own admin role.");
    }
    let (Some(role), true) = (role, errors.is_empty()) else {
        return Err(UserError::Invalid(errors));
    };
    let mut tx = pool.begin().await?;
    db::update_profile(&mut tx, id, input.name.trim(), role, input.manager_id).await?;
    let detached = if before.role == Role::Manager && role != Role::Manager {
        db::clear_reports(&mut tx, id).await?
    } else {
        0
    };
    let details = json!({
        "before": {"name": before.name, "role": before.role, "manager_id": before.manager_id},
        "after": {"name": input.name.trim(), "role": role, "manager_id": input.manager_id},
        "reports_detached": detached,
    });
    audit::record(&mut *tx, actor, "user.update", Some(target(id)), details).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_active(pool: &PgPool, actor: &Actor, id: Uuid, active: bool) -> Result<()> {
    if !active && is_self(actor, id) {
        return Err(AppError::Conflict(
            "You cannot deactivate your own account.".into(),
        ));
    }
    let mut tx = pool.begin().await?;
    db::find_user(&mut *tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    db::set_active(&mut tx, id, active).await?;
    let action = if active {
        "user.activate"
    } else {
        "user.deactivate"
    };
    audit::record(&mut *tx, actor, action, Some(target(id)), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives the user a new random password (returned, to be shown once) and signs them out.
pub async fn reset_password(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<String> {
    db::find_user(pool, id).await?.ok_or(AppError::NotFound)?;
    let new_password = password::generate();
    let hash = password::hash(new_password.clone()).await?;
    let mut tx = pool.begin().await?;
    db::set_password(&mut tx, id, &hash).await?;
    audit::record(
        &mut *tx,
        actor,
        "user.reset_password",
        Some(target(id)),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(new_password)
}

fn is_self(actor: &Actor, id: Uuid) -> bool {
    matches!(actor, Actor::User { id: me, .. } if *me == id)
}

fn target(id: Uuid) -> String {
    format!("user:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            parse_email("  Ada@Example.COM ").as_deref(),
            Ok("ada@example.com")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "ada@.com",
        ] {
            assert!(parse_email(bad).is_err(), "{bad} should be refused");
        }
    }
}
