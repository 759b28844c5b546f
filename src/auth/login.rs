//! Signing in and out, with throttling of repeated failures.

use serde_json::json;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use tower_sessions::Session;

use super::audit::{self, Actor};
use super::{Role, db, password, session};
use crate::config::Config;
use crate::error::Result;

pub enum Outcome {
    SignedIn(Role),
    /// Wrong email or password (deliberately indistinguishable), or a deactivated account.
    Refused,
    /// Too many recent failures for this email or address.
    Throttled {
        minutes: i64,
    },
}

pub async fn sign_in(
    pool: &PgPool,
    config: &Config,
    session: &Session,
    email: &str,
    password_given: String,
    ip: Option<&str>,
) -> Result<Outcome> {
    let email = email.trim().to_lowercase();
    let since = OffsetDateTime::now_utc() - Duration::minutes(config.login_window_minutes);
    let (by_email, by_ip) = db::recent_failures(pool, &email, ip, since).await?;
    if by_email >= config.login_max_failures || by_ip >= config.login_max_failures_per_ip {
        return Ok(Outcome::Throttled {
            minutes: config.login_window_minutes,
        });
    }

    let creds = db::find_credentials(pool, &email).await?;
    let hash = creds.as_ref().map(|c| c.password_hash.clone());
    let matches = password::verify(password_given, hash).await?;
    let mut tx = pool.begin().await?;
    let outcome = match creds {
        Some(c) if matches && c.active => {
            session::sign_in(session, c.id, c.session_epoch).await?;
            let actor = Actor::User {
                id: c.id,
                email: email.clone(),
            };
            audit::record(&mut *tx, &actor, "auth.login", None, json!({"ip": ip})).await?;
            Outcome::SignedIn(c.role)
        }
        _ => {
            let reason = match creds {
                None => "unknown email",
                Some(c) if !c.active => "deactivated account",
                Some(_) => "wrong password",
            };
            let actor = Actor::Anonymous(email.clone());
            let details = json!({"ip": ip, "reason": reason});
            audit::record(&mut *tx, &actor, "auth.login_failed", None, details).await?;
            Outcome::Refused
        }
    };
    let succeeded = matches!(outcome, Outcome::SignedIn(_));
    db::record_attempt(&mut *tx, &email, ip, succeeded).await?;
    tx.commit().await?;
    Ok(outcome)
}

pub async fn sign_out(pool: &PgPool, session: &Session, actor: &Actor) -> Result<()> {
    audit::record(pool, actor, "auth.logout", None, json!({})).await?;
    session::sign_out(session).await
}

/// Where to go after signing in: the requested path on this site, or the role's home.
/// Only a plain local path is followed: browsers drop tabs and newlines from a URL and read
/// a backslash as a slash, so `/<tab>/evil.example` would leave the site. Anything but
/// visible ASCII, a backslash, or a second leading slash sends the user home instead.
pub fn destination(next: Option<&str>, role: Role) -> String {
    match next {
        Some(n)
            if n.strip_prefix('/')
                .is_some_and(|rest| !rest.starts_with('/'))
                && n.chars().all(|c| c.is_ascii_graphic() && c != '\\') =>
        {
            n.to_owned()
        }
        _ => role.home().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            destination(Some("/admin/audit?x=1"), Role::Admin),
            "/admin/audit?x=1"
        );
        assert_eq!(destination(Some("//evil.example"), Role::Csm), "/worklist");
        assert_eq!(
            destination(Some("https://evil.example"), Role::Csm),
            "/worklist"
        );
        assert_eq!(destination(Some("/\\evil.example"), Role::Csm), "/worklist");
        for sneaky in [
            "/\t/evil.example/phish",
            "/\n/evil.example",
            "/ /evil.example",
            "/\u{3000}/x",
        ] {
            assert_eq!(
                destination(Some(sneaky), Role::Csm),
                "/worklist",
                "{sneaky:?}"
            );
        }
        assert_eq!(destination(None, Role::Sales), "/pipeline");
    }
}
