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
    /// Too many recent failures for this email or address: try again in this long.
    Throttled {
        seconds: i64,
    },
}

/// How long after its latest failure an account's next sign-in must wait: nothing for the
/// first `free` failures, then 2 s doubling with each failure, at most `cap` seconds. The
/// owner is slowed like an attacker, never locked out for long.
pub fn delay(failures: i64, free: i64, cap: i64) -> i64 {
    if failures < free {
        0
    } else {
        let doublings = u32::try_from((failures - free + 1).min(30)).unwrap_or(30);
        (1_i64 << doublings).min(cap)
    }
}

/// The client's address: the connection's, or with `trusted` proxies in front, the one the
/// outermost of them saw (`X-Forwarded-For` as those proxies append to it).
pub fn client_address(peer: std::net::IpAddr, forwarded: Option<&str>, trusted: usize) -> String {
    if trusted == 0 {
        return peer.to_string();
    }
    let hops: Vec<&str> = forwarded
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    hops.len()
        .checked_sub(trusted)
        .and_then(|i| hops.get(i))
        .and_then(|h| h.parse::<std::net::IpAddr>().ok())
        .unwrap_or(peer)
        .to_string()
}

pub async fn sign_in(
    pool: &PgPool,
    config: &Config,
    session: &Session,
    email: &str,
    password_given: String,
    ip: Option<&str>,
    now: OffsetDateTime,
) -> Result<Outcome> {
    // No address is longer than 254 characters (RFC 5321); a longer one is nobody's, and is
    // recorded cut short so it cannot overflow an index.
    let email: String = email.trim().to_lowercase().chars().take(254).collect();
    let window = Duration::minutes(config.login_window_minutes);
    // One attempt per account at a time: the count and the record are one unit.
    let mut tx = pool.begin().await?;
    db::lock_email(&mut tx, &email).await?;
    let f = db::recent_failures(&mut *tx, &email, ip, now - window).await?;
    if f.by_ip >= config.login_max_failures_per_ip {
        return Ok(Outcome::Throttled {
            seconds: window.whole_seconds(),
        });
    }
    let wait = delay(
        f.by_email,
        config.login_max_failures,
        window.whole_seconds(),
    );
    if let Some(last) = f.last_for_email {
        let left = wait - (now - last).whole_seconds();
        if left > 0 {
            return Ok(Outcome::Throttled { seconds: left });
        }
    }

    let creds = db::find_credentials(&mut *tx, &email).await?;
    let hash = creds.as_ref().map(|c| c.password_hash.clone());
    let matches = password::verify(password_given, hash).await?;
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
    db::record_attempt(&mut *tx, &email, ip, succeeded, now).await?;
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
    fn the_wait_doubles_after_the_free_failures_up_to_the_window() {
        let waits: Vec<i64> = (0..12).map(|n| delay(n, 5, 900)).collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128]);
        assert_eq!(delay(40, 5, 900), 900);
    }

    #[test]
    fn the_client_address_comes_from_trusted_proxies_only() {
        let peer: std::net::IpAddr = [10, 0, 0, 9].into();
        let xff = Some("1.2.3.4, 203.0.113.7");
        assert_eq!(client_address(peer, xff, 0), "10.0.0.9", "no proxy trusted");
        assert_eq!(
            client_address(peer, xff, 1),
            "203.0.113.7",
            "what our balancer saw"
        );
        assert_eq!(client_address(peer, xff, 2), "1.2.3.4");
        assert_eq!(
            client_address(peer, xff, 3),
            "10.0.0.9",
            "fewer hops than proxies"
        );
        assert_eq!(client_address(peer, Some("junk"), 1), "10.0.0.9");
    }

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
        assert_eq!(destination(None, Role::Sales), "/opportunities");
    }
}
