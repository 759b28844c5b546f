use keel::auth::Role;
use reqwest::StatusCode;
use sha2::Digest;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, TestApp, location};

#[sqlx::test]
async fn each_role_lands_on_its_home_after_signing_in(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for role in Role::ALL {
        let user = app.create_user(role).await;
        let client = app.client();
        let resp = client.login(&user.email, PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&resp), role.home());
        let home = client.get(role.home()).await;
        assert_eq!(home.status(), StatusCode::OK, "{role} home");
        assert!(home.text().await.unwrap().contains("Sign out"));
    }
    assert_eq!(app.audit_count("auth.login").await, Role::ALL.len() as i64);
}

#[sqlx::test]
async fn sign_in_returns_to_the_page_first_asked_for(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.create_user(Role::Admin).await;
    let client = app.client();
    let resp = client.get("/admin/audit?action=user.create").await;
    assert_eq!(
        location(&resp),
        "/login?next=%2Fadmin%2Faudit%3Faction%3Duser.create"
    );
    let form = client.get(&location(&resp)).await.text().await.unwrap();
    assert!(form.contains(r#"name="next" value="/admin/audit?action=user.create""#));
    let resp = client
        .post_form(
            "/login",
            &[
                ("email", &admin.email),
                ("password", PASSWORD),
                ("next", "/admin/audit?action=user.create"),
            ],
        )
        .await;
    assert_eq!(location(&resp), "/admin/audit?action=user.create");
}

#[sqlx::test]
async fn a_session_that_expires_during_an_htmx_post_returns_to_its_page(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (client, _) = app.login_as(Role::Csm).await;
    sqlx::query("delete from tower_sessions.session")
        .execute(&app.db)
        .await
        .unwrap();
    let resp = client
        .http
        .post(app.url("/accounts/00000000-0000-0000-0000-000000000001/interventions"))
        .header("hx-request", "true")
        .header("hx-current-url", app.url("/worklist?band=red"))
        .form(&[("kind", "call")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["hx-redirect"].to_str().unwrap(),
        "/login?next=%2Fworklist%3Fband%3Dred",
        "back to the page the form was on, not to an address that only takes a POST"
    );
}

#[sqlx::test]
async fn wrong_email_and_wrong_password_look_the_same(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let user = app.create_user(Role::Csm).await;
    let client = app.client();
    let wrong_password = client.login(&user.email, "not-the-password").await;
    let wrong_email = client.login("nobody@example.com", PASSWORD).await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_email.status(), StatusCode::UNAUTHORIZED);
    let a = wrong_password.text().await.unwrap();
    let b = wrong_email.text().await.unwrap();
    assert!(a.contains("Wrong email or password."));
    assert!(b.contains("Wrong email or password."));
    assert!(
        client.session_cookie().is_none(),
        "a refused sign-in must not start a session"
    );
    assert_eq!(app.audit_count("auth.login_failed").await, 2);
}

#[sqlx::test]
async fn passwords_are_stored_as_argon2id_hashes(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let user = app.create_user(Role::Sales).await;
    let hash: String = sqlx::query_scalar("select password_hash from users where id = $1")
        .bind(user.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}

#[sqlx::test]
async fn session_id_changes_at_sign_in_and_the_old_one_is_void(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let user = app.create_user(Role::Analyst).await;
    let client = app.client();
    client.login(&user.email, PASSWORD).await;
    let first = client
        .session_cookie()
        .expect("session cookie after sign-in");
    client.login(&user.email, PASSWORD).await;
    let second = client
        .session_cookie()
        .expect("session cookie after second sign-in");
    assert_ne!(first, second, "the session id must change at sign-in");

    let stale = app.client();
    let resp = stale
        .http
        .get(app.url("/models"))
        .header("cookie", format!("keel_session={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "old session id still works"
    );
    assert_eq!(client.get("/models").await.status(), StatusCode::OK);
}

#[sqlx::test]
async fn session_cookie_is_http_only_and_same_site_lax(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let user = app.create_user(Role::Csm).await;
    let resp = app.client().login(&user.email, PASSWORD).await;
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("keel_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain-http default must not set Secure: {cookie}"
    );
}

#[sqlx::test]
async fn session_cookie_is_secure_when_configured_for_https(pool: PgPool) {
    let app = TestApp::spawn_with(pool, |c| c.secure_cookies = true).await;
    let user = app.create_user(Role::Csm).await;
    let resp = app.client().login(&user.email, PASSWORD).await;
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[sqlx::test]
async fn signing_out_ends_the_session(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (client, _) = app.login_as(Role::Executive).await;
    assert_eq!(client.get("/dashboard").await.status(), StatusCode::OK);
    let resp = client.post_form("/logout", &[]).await;
    assert_eq!(location(&resp), "/login");
    let after = client.get("/dashboard").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert!(location(&after).starts_with("/login"));
    assert_eq!(app.audit_count("auth.logout").await, 1);
}

#[sqlx::test]
async fn sessions_expire_after_inactivity(pool: PgPool) {
    let app = TestApp::spawn_with(pool, |c| c.session_idle_secs = 60).await;
    let (client, _) = app.login_as(Role::Sales).await;
    assert_eq!(client.get("/opportunities").await.status(), StatusCode::OK);
    let expires: time::OffsetDateTime =
        sqlx::query_scalar("select max(expiry_date) from tower_sessions.session")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let left = expires - time::OffsetDateTime::now_utc();
    assert!(
        left <= time::Duration::seconds(60) && left > time::Duration::seconds(50),
        "the session expires one idle timeout after its last save: {left}"
    );
    // The idle timeout passes (the store's clock is the database's).
    sqlx::query("update tower_sessions.session set expiry_date = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let resp = client.get("/opportunities").await;
    assert!(
        location(&resp).starts_with("/login"),
        "session outlived its idle timeout"
    );
}

#[sqlx::test]
async fn cross_site_writes_are_refused_and_change_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (admin, _) = app.login_as(Role::Admin).await;
    let form = [
        ("email", "forged@example.com"),
        ("name", "Forged"),
        ("role", "admin"),
        ("password", "forged-password-1"),
    ];
    let url = app.url("/admin/users");
    let by_fetch_metadata = admin
        .http
        .post(&url)
        .header("sec-fetch-site", "cross-site")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(by_fetch_metadata.status(), StatusCode::FORBIDDEN);
    assert!(
        by_fetch_metadata
            .text()
            .await
            .unwrap()
            .contains("Cross-site request refused")
    );
    let by_origin = admin
        .http
        .post(&url)
        .header("origin", "http://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(by_origin.status(), StatusCode::FORBIDDEN);
    let forged: i64 =
        sqlx::query_scalar("select count(*) from users where email = 'forged@example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(forged, 0);
    // The same request from the same origin goes through.
    let same_origin = admin.post_form("/admin/users", &form).await;
    assert_eq!(same_origin.status(), StatusCode::SEE_OTHER);
}

#[sqlx::test]
async fn every_response_carries_the_security_headers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (client, _) = app.login_as(Role::Admin).await;
    for resp in [
        app.client().get("/login").await,
        client.get("/admin/tokens").await,
        client.get("/no/such/page").await,
    ] {
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["cache-control"], "no-store", "pages are not cached");
        assert!(h.get("strict-transport-security").is_none(), "plain http");
    }
}

/// A page names its stylesheet, script and icon by a digest of their content, so a browser
/// keeps each a year and fetches it again exactly when a deployment changes it.
#[sqlx::test]
async fn assets_are_addressed_by_their_content(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let client = app.client();
    let page = client.get("/login").await.text().await.unwrap();
    for file in ["app.css", "app.js", "favicon.svg"] {
        let prefix = format!("/static/{file}?v=");
        let at = page
            .find(&prefix)
            .unwrap_or_else(|| panic!("{file} linked"));
        let url = &page[at..at + prefix.len() + 12];
        let resp = client.get(url).await;
        let cache = resp.headers()["cache-control"].to_str().unwrap().to_owned();
        let body = resp.bytes().await.unwrap();
        let digest = format!("{:x}", sha2::Sha256::digest(&body));
        assert_eq!(&url[prefix.len()..], &digest[..12], "{file}'s address");
        assert_eq!(cache, "public, max-age=31536000, immutable", "{file}");
    }
    // An address without the current digest (an old page's) is kept a day only.
    let old = client.get("/static/app.css?v=0.1.0").await;
    assert_eq!(old.headers()["cache-control"], "public, max-age=86400");
}

#[sqlx::test]
async fn sign_in_never_leaves_the_site(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let user = app.create_user(Role::Csm).await;
    let resp = app
        .client()
        .post_form(
            "/login",
            &[
                ("email", user.email.as_str()),
                ("password", PASSWORD),
                ("next", "/\t/evil.example/phish"),
            ],
        )
        .await;
    assert_eq!(location(&resp), "/worklist");
}

#[sqlx::test]
async fn an_active_session_stays_signed_in_past_the_idle_timeout_from_sign_in(pool: PgPool) {
    let app = TestApp::spawn_with(pool, |c| c.session_idle_secs = 600).await;
    let (client, _) = app.login_as(Role::Sales).await;
    // Nine minutes after sign-in the session has a minute left…
    sqlx::query("update tower_sessions.session set expiry_date = now() + interval '60 seconds'")
        .execute(&app.db)
        .await
        .unwrap();
    // …and the user is still at work: a request a few minutes on.
    app.clock.advance(time::Duration::minutes(4));
    assert_eq!(client.get("/opportunities").await.status(), StatusCode::OK);
    let expires: time::OffsetDateTime =
        sqlx::query_scalar("select max(expiry_date) from tower_sessions.session")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let left = expires - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::seconds(590),
        "the last request pushed the expiry back: {left}"
    );
}

#[sqlx::test]
async fn users_change_their_own_password_and_their_other_sessions_end(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (here, user) = app.login_as(Role::Csm).await;
    let elsewhere = app.client();
    elsewhere.login(&user.email, PASSWORD).await;
    let wrong = here
        .post_form(
            "/account/password",
            &[
                ("current", "not-it"),
                ("new", "a-much-longer-secret"),
                ("repeat", "a-much-longer-secret"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("not your current password")
    );
    let short = here
        .post_form(
            "/account/password",
            &[("current", PASSWORD), ("new", "short"), ("repeat", "short")],
        )
        .await;
    assert!(short.text().await.unwrap().contains("Use at least"));
    let ok = here
        .post_form(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("new", "a-much-longer-secret"),
                ("repeat", "a-much-longer-secret"),
            ],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(ok.text().await.unwrap().contains("Password changed"));
    assert_eq!(
        here.get("/worklist").await.status(),
        StatusCode::OK,
        "this session stays"
    );
    assert!(
        location(&elsewhere.get("/worklist").await).starts_with("/login"),
        "others end"
    );
    assert_eq!(app.audit_count("user.change_password").await, 1);
    let fresh = app.client();
    assert_eq!(
        fresh
            .login(&user.email, "a-much-longer-secret")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}
