//! Walks every registered route as every role and as an anonymous visitor, and checks the
//! answer against the route's declared access. Routes added later are covered by this
//! test without touching it.

use keel::app::route_table;
use keel::auth::Role;
use keel::auth::access::Access;
use reqwest::{Method, StatusCode};
use sqlx::PgPool;

use crate::helpers::{Client, TestApp, location};

/// Fills path parameters with values that exist, so allowed requests reach the handler.
fn concrete(path: &str, user_id: &str) -> String {
    path.replace("{id}", user_id)
        .replace("{file}", "app.css")
        .replace("{entity}", "accounts")
}

async fn check(client: &Client, role: Option<Role>, method: &Method, path: &str, access: Access) {
    let resp = client.send(method.clone(), path).await;
    let status = resp.status();
    // Refused for want of a session: sent to sign in, with the way back.
    let to_login = status == StatusCode::SEE_OTHER && location(&resp).starts_with("/login?next=");
    let who = role.map_or("anonymous", Role::as_str);
    if access == Access::ApiToken {
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{who} {method} {path} without a token"
        );
    } else if access.allows(role) {
        assert!(
            status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED && !to_login,
            "{who} should be allowed {method} {path}, got {status}"
        );
        assert!(
            !status.is_server_error(),
            "{who} {method} {path} failed: {status}"
        );
    } else if role.is_none() {
        assert!(
            to_login,
            "anonymous {method} {path} should redirect to sign-in, got {status}"
        );
    } else {
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{who} must be refused {method} {path}"
        );
    }
}

#[sqlx::test]
async fn every_route_admits_exactly_its_declared_roles(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    // A user the admin routes can act on without signing anyone in this test out.
    let target = app.create_user(Role::Csm).await.id.to_string();
    let mut table = route_table();
    assert!(
        table.len() >= 15,
        "route table looks incomplete: {}",
        table.len()
    );
    // Signing out ends the session, so it goes last.
    table.sort_by_key(|(m, p, _)| (*p == "/logout", *m != Method::GET, *p));

    let mut visitors = vec![(None, app.client())];
    for role in Role::ALL {
        visitors.push((Some(role), app.login_as(role).await.0));
    }
    for (method, path, access) in &table {
        let path = concrete(path, &target);
        for (role, client) in &visitors {
            check(client, *role, method, &path, *access).await;
        }
    }
}

#[sqlx::test]
async fn navigation_shows_each_role_only_what_it_may_open(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let table = route_table();
    for role in Role::ALL {
        let (client, _) = app.login_as(role).await;
        let html = client.get(role.home()).await.text().await.unwrap();
        for (_, href) in keel::auth::access::NAV_LINKS {
            let allowed = table
                .iter()
                .any(|(m, p, a)| m == Method::GET && *p == href && a.allows(Some(role)));
            let shown = html.contains(&format!("href=\"{href}\""));
            assert_eq!(
                shown, allowed,
                "{role}: nav link {href} shown={shown} allowed={allowed}"
            );
        }
    }
}

#[test]
fn every_navigation_link_is_a_registered_page() {
    let table = route_table();
    for (label, href) in keel::auth::access::NAV_LINKS {
        assert!(
            table.iter().any(|(m, p, _)| m == Method::GET && *p == href),
            "nav link {label} points at unregistered {href}"
        );
    }
}

#[test]
fn routes_are_declared_once() {
    let table = route_table();
    for (i, (m, p, _)) in table.iter().enumerate() {
        assert!(
            !table[i + 1..].iter().any(|(m2, p2, _)| m2 == m && p2 == p),
            "{m} {p} declared twice"
        );
    }
}
