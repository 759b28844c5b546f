//! The test harness: the real app over a fresh database, and cookie-keeping clients.

use std::sync::Arc;

use keel::app::App;
use keel::auth::Role;
use keel::auth::audit::Actor;
use keel::auth::users::{self, UserInput};
use keel::clock::FixedClock;
use keel::config::Config;
use keel::ingest::{Entity, Payload, Status};
use keel::state::AppState;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, Response, StatusCode};
use sqlx::PgPool;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

pub const PASSWORD: &str = "test-password-123";

pub struct TestApp {
    pub base: String,
    pub db: PgPool,
    /// The app's clock: it stands still until a test moves it.
    pub clock: Arc<FixedClock>,
}

pub struct TestUser {
    pub id: Uuid,
    pub email: String,
}

impl TestApp {
    pub async fn spawn(pool: PgPool) -> TestApp {
        Self::spawn_with(pool, |_| {}).await
    }

    pub async fn spawn_with(pool: PgPool, configure: impl FnOnce(&mut Config)) -> TestApp {
        migrate(&pool).await;
        let mut config = Config::for_database("postgres://unused");
        configure(&mut config);
        let clock = Arc::new(FixedClock::new(OffsetDateTime::now_utc()));
        let state = AppState::with_clock(pool.clone(), config, clock.clone());
        let app = App::build_with(state).await.unwrap();
        let base = format!("http://{}", app.addr().unwrap());
        tokio::spawn(app.serve());
        TestApp {
            base,
            db: pool,
            clock,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client: keeps cookies, sends a same-origin `Origin`, follows no redirects.
    pub fn client(&self) -> Client {
        let jar = Arc::new(Jar::default());
        let mut headers = HeaderMap::new();
        headers.insert("origin", HeaderValue::from_str(&self.base).unwrap());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Client {
            http,
            jar,
            base: self.base.clone(),
        }
    }

    /// Loads a CSV of `entity` through ingestion, which must accept all of it.
    pub async fn load_csv(&self, entity: Entity, csv: String) {
        let out = keel::ingest::ingest(
            &self.db,
            entity,
            Payload::Csv(csv.into_bytes()),
            None,
            "test",
            &Actor::Cli,
        )
        .await
        .unwrap();
        assert_eq!(out.status, Status::Accepted, "{:?}", out.errors);
    }

    /// A succeeded pipeline run on `day`, for the scores a test writes itself; its id.
    pub async fn test_run(&self, day: Date) -> i64 {
        sqlx::query_scalar(
            "insert into pipeline_runs (day, trigger, status) values ($1, 'test', 'succeeded') returning id",
        )
        .bind(day)
        .fetch_one(&self.db)
        .await
        .unwrap()
    }

    pub async fn create_user(&self, role: Role) -> TestUser {
        let email = format!("{}-{}@example.com", role.as_str(), Uuid::new_v4().simple());
        let input = UserInput {
            email: email.clone(),
            name: format!("Test {}", role.label()),
            role: role.as_str().to_owned(),
            manager_id: None,
            password: PASSWORD.to_owned(),
        };
        let id = match users::create(&self.db, &Actor::Cli, &input).await {
            Ok(id) => id,
            Err(_) => panic!("creating test user {email}"),
        };
        TestUser { id, email }
    }

    /// A new user of `role`, signed in on a fresh client.
    pub async fn login_as(&self, role: Role) -> (Client, TestUser) {
        let user = self.create_user(role).await;
        let client = self.client();
        let resp = client.login(&user.email, PASSWORD).await;
        assert_eq!(
            resp.status(),
            StatusCode::SEE_OTHER,
            "login as {role} failed"
        );
        (client, user)
    }

    pub async fn audit_count(&self, action: &str) -> i64 {
        sqlx::query_scalar("select count(*) from audit_log where action = $1")
            .bind(action)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }
}

pub struct Client {
    pub http: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
}

impl Client {
    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// The body of a GET of `path`, as text.
    pub async fn text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    pub async fn hx_get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("hx-request", "true")
            .send()
            .await
            .unwrap()
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn hx_post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("hx-request", "true")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn send(&self, method: Method, path: &str) -> Response {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_form("/login", &[("email", email), ("password", password)])
            .await
    }

    /// Creates an API token with these scopes through the admin page (the client must be
    /// an admin) and returns its secret, shown once on the page.
    pub async fn api_token(&self, scopes: &[&str]) -> String {
        let mut form: Vec<(&str, &str)> = vec![("name", "test client")];
        form.extend(scopes.iter().map(|s| ("scope", *s)));
        let resp = self.post_form("/admin/tokens", &form).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let html = resp.text().await.unwrap();
        html.split("<code id=\"new-token\">")
            .nth(1)
            .and_then(|rest| rest.split("</code>").next())
            .expect("the new token is shown")
            .to_owned()
    }

    /// Sets a cookie as the browser's script would (`name=value`, for every path).
    pub fn set_cookie(&self, cookie: &str) {
        let url = self.base.parse().unwrap();
        self.jar.add_cookie_str(&format!("{cookie}; Path=/"), &url);
    }

    /// The session cookie's value, if the client holds one.
    pub fn session_cookie(&self) -> Option<String> {
        let url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|c| c.strip_prefix("keel_session="))
            .map(str::to_owned)
    }
}

pub fn location(resp: &Response) -> String {
    resp.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Migrates a test database and installs the demo product's event mapping, which the tests'
/// events (task_created, board_viewed, ...) follow.
pub async fn migrate(pool: &PgPool) {
    keel::db::migrate(pool).await.unwrap();
    keel::taxonomy::install_demo(
        pool,
        &keel::auth::audit::Actor::Cli,
        keel::taxonomy::DEMO_MAPPING,
    )
    .await
    .unwrap();
}
