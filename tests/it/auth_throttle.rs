//! Sign-in throttling over HTTP: failures counted one by one, per account and per address,
//! behind a trusted proxy, and what a sign-in refuses to read.

use keel::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, TestApp};

#[sqlx::test]
async fn repeated_failures_are_throttled_even_with_the_right_password(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let user = app.create_user(Role::Manager).await;
    let client = app.client();
    for _ in 0..5 {
        let resp = client.login(&user.email, "guessing-wrong").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = client.login(&user.email, PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Too many failed sign-ins")
    );
    // Another account is not locked by the first one's failures.
    let other = app.create_user(Role::Manager).await;
    assert_eq!(
        client.login(&other.email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test]
async fn throttling_also_applies_per_address(pool: PgPool) {
    let app = TestApp::spawn_with(pool, |c| c.login_max_failures_per_ip = 3).await;
    let client = app.client();
    for i in 0..3 {
        let resp = client.login(&format!("guess{i}@example.com"), "x").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let user = app.create_user(Role::Csm).await;
    let resp = client.login(&user.email, PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test]
async fn an_absurdly_long_email_is_just_a_wrong_sign_in(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let email = format!("{}@example.com", "a".repeat(20_000));
    let resp = app.client().login(&email, PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn a_burst_of_guesses_is_counted_one_by_one(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let user = app.create_user(Role::Manager).await;
    let http = app.client().http;
    let guesses: Vec<_> = (0..30)
        .map(|_| {
            let request = http.post(app.url("/login")).form(&[
                ("email", user.email.as_str()),
                ("password", "guessing-wrong"),
            ]);
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for g in guesses {
        statuses.push(g.await.unwrap());
    }
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let slowed = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (checked, slowed),
        (5, 25),
        "only the free failures are checked"
    );
}

#[sqlx::test]
async fn the_owner_is_slowed_not_locked_out(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let user = app.create_user(Role::Csm).await;
    let client = app.client();
    for _ in 0..5 {
        client.login(&user.email, "guessing-wrong").await;
    }
    // Five failures: the next try waits 2 s, then 4 s after a sixth.
    let early = client.login(&user.email, PASSWORD).await;
    assert_eq!(early.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        early
            .text()
            .await
            .unwrap()
            .contains("Try again in 2 seconds")
    );
    app.clock.advance(time::Duration::seconds(3));
    assert_eq!(
        client.login(&user.email, "guessing-wrong").await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.clock.advance(time::Duration::seconds(1));
    assert_eq!(
        client.login(&user.email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.clock.advance(time::Duration::seconds(4));
    assert_eq!(
        client.login(&user.email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER,
        "the owner gets in once the wait is over"
    );
}

#[sqlx::test]
async fn behind_a_trusted_proxy_each_client_is_throttled_apart(pool: PgPool) {
    let app = TestApp::spawn_with(pool, |c| {
        c.login_max_failures_per_ip = 3;
        c.trusted_proxies = 1;
    })
    .await;
    let user = app.create_user(Role::Csm).await;
    let from = |client_ip: &'static str| {
        let http = app.client().http;
        let url = app.url("/login");
        async move {
            http.post(url)
                .header("x-forwarded-for", client_ip)
                .form(&[("email", "nobody@example.com"), ("password", "x")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for _ in 0..3 {
        assert_eq!(from("198.51.100.1").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(from("198.51.100.1").await, StatusCode::TOO_MANY_REQUESTS);
    // Everyone else behind the same balancer still signs in.
    let other = app
        .client()
        .http
        .post(app.url("/login"))
        .header("x-forwarded-for", "198.51.100.2")
        .form(&[("email", user.email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::SEE_OTHER);
}

#[sqlx::test]
async fn sign_in_takes_no_batch_sized_body(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let resp = app
        .client()
        .post_form(
            "/login",
            &[("email", "a@example.com"), ("password", huge.as_str())],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
