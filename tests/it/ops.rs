use reqwest::StatusCode;
use sqlx::PgPool;

use crate::helpers::TestApp;

#[sqlx::test]
async fn health_and_readiness_answer_without_signing_in(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let client = app.client();
    let health = client.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));
    let ready = client.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.text().await.unwrap(), "ready");
}

#[sqlx::test]
async fn unknown_page_is_a_404_page_with_the_request_id(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let resp = app.client().get("/no/such/page").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = resp.text().await.unwrap();
    assert!(body.contains(&id), "404 page should show request id {id}");
}

#[sqlx::test]
async fn malformed_ids_and_queries_get_the_styled_page_with_navigation(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (csm, _) = app.login_as(keel::auth::Role::Csm).await;
    for path in ["/accounts/not-a-uuid", "/worklist?page=abc"] {
        let resp = csm.get(path).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        let body = resp.text().await.unwrap();
        assert!(
            body.contains("This request could not be read") && body.contains(&id),
            "{path}: {body}"
        );
        assert!(
            body.contains("Sign out"),
            "{path}: the page keeps the navigation"
        );
    }
}

#[sqlx::test]
async fn internal_errors_show_a_request_id_and_no_internals(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (admin, _) = app.login_as(keel::auth::Role::Admin).await;
    sqlx::query("alter table audit_log rename to audit_log_gone")
        .execute(&app.db)
        .await
        .unwrap();
    let resp = admin.get("/admin/audit").await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = resp.text().await.unwrap();
    assert!(body.contains(&id));
    assert!(body.contains("Something went wrong"));
    assert!(!body.contains("audit_log"), "internals leaked: {body}");
    assert!(
        !body.to_lowercase().contains("relation"),
        "internals leaked: {body}"
    );
}

#[sqlx::test]
async fn static_assets_are_served_embedded(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let client = app.client();
    let icon = client.get("/static/favicon.svg").await;
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(
        client
            .get("/login")
            .await
            .text()
            .await
            .unwrap()
            .contains("rel=\"icon\"")
    );
    let js = client.get("/static/htmx-2.0.11.min.js").await;
    assert_eq!(js.status(), StatusCode::OK);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(
        client.get("/static/../Cargo.toml").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        client.get("/static/missing.js").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test]
async fn without_its_database_keel_says_so_at_once_with_a_503(_pool: PgPool) {
    // A database that does not answer: nothing listens on port 1.
    let mut config = keel::config::Config::for_database("postgres://postgres@127.0.0.1:1/none");
    config.db_acquire_timeout_ms = 300;
    let db = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(300))
        .connect_lazy(&config.database_url)
        .unwrap();
    let app = keel::app::App::build_with(keel::state::AppState::new(db, config))
        .await
        .unwrap();
    let base = format!("http://{}", app.addr().unwrap());
    tokio::spawn(app.serve());
    let http = reqwest::Client::new();
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.text().await.unwrap(), "database unreachable");
    let api = http
        .get(format!("{base}/api/v1/scores"))
        .header("authorization", "Bearer keel_anything")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = api.text().await.unwrap();
    assert!(body.contains("cannot reach its database"), "{body}");
}

#[sqlx::test]
async fn a_signed_in_page_answers_503_not_500_when_the_database_goes_away(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (client, _) = app.login_as(keel::auth::Role::Manager).await;
    assert_eq!(client.get("/worklist").await.status(), StatusCode::OK);
    // The session store lives in the database: with the pool gone, loading the session
    // fails before any handler runs.
    app.db.close().await;
    let page = client.get("/worklist").await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = page.text().await.unwrap();
    assert!(body.contains("cannot reach its database"), "{body}");
}

#[sqlx::test]
async fn admins_are_told_when_no_worker_runs_or_none_can_send_mail(pool: PgPool) {
    use keel::clock::Clock;
    use keel::jobs::heartbeat::beat;
    let app = TestApp::spawn(pool.clone()).await;
    let (admin, _) = app.login_as(keel::auth::Role::Admin).await;
    let (csm, _) = app.login_as(keel::auth::Role::Csm).await;
    let page = admin.get("/admin/users").await.text().await.unwrap();
    assert!(
        page.contains("hx-get=\"/worker/banner\""),
        "every admin page asks"
    );
    assert!(
        !csm.get("/worklist")
            .await
            .text()
            .await
            .unwrap()
            .contains("/worker/banner")
    );
    assert_eq!(
        csm.hx_get("/worker/banner").await.status(),
        StatusCode::FORBIDDEN
    );
    let banner = || async { admin.hx_get("/worker/banner").await.text().await.unwrap() };
    assert!(
        banner().await.contains("No worker has run yet"),
        "{}",
        banner().await
    );

    let now = app.clock.now();
    beat(&pool, "w1", now, now - time::Duration::minutes(10), true)
        .await
        .unwrap();
    let text = banner().await;
    assert!(
        text.contains("No worker has been seen for 10 minutes"),
        "{text}"
    );
    assert!(text.contains("keel worker"), "{text}");

    beat(&pool, "w1", now, now, false).await.unwrap();
    assert!(
        banner().await.contains("hidden"),
        "all is well while nothing waits"
    );
    sqlx::query("insert into outbox (audience, recipient, subject, body) values ('internal', 'a@b.test', 'Hi', 'Hello')")
        .execute(&pool)
        .await
        .unwrap();
    let text = banner().await;
    assert!(
        text.contains("no mail server (KEEL_SMTP), so 1 email waits in the outbox"),
        "{text}"
    );
}

#[tokio::test]
async fn keel_gives_its_connections_room_to_sort_unless_the_url_says_otherwise() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let work_mem = |url: String| async move {
        let pool = keel::db::connect(&keel::config::Config::for_database(url))
            .await
            .unwrap();
        let shown: String = sqlx::query_scalar("show work_mem")
            .fetch_one(&pool)
            .await
            .unwrap();
        shown
    };
    assert_eq!(work_mem(url.clone()).await, "64MB");
    let separator = if url.contains('?') { '&' } else { '?' };
    let own = format!("{url}{separator}options=-c%20work_mem%3D8MB");
    assert_eq!(work_mem(own).await, "8MB");
}
