//! Every setting Keel reads, from flags or the environment, with its default.
//! The README's configuration table mirrors this file.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The address Keel falls back to when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/keel";

#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// PostgreSQL connection string; the database is created if missing.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Largest number of pooled database connections.
    #[arg(long, env = "KEEL_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// How long a request waits for a database connection before answering 503.
    #[arg(long, env = "KEEL_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 2000)]
    pub db_acquire_timeout_ms: u64,

    /// Where a private PostgreSQL is kept when no server answers at the default address.
    #[arg(long, env = "KEEL_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Address and port the web server listens on.
    #[arg(long, env = "KEEL_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Mark session cookies `Secure` (set when Keel is served over https).
    #[arg(long, env = "KEEL_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Seconds of inactivity after which a session expires (default: 8 hours).
    #[arg(long, env = "KEEL_SESSION_IDLE_SECS", default_value_t = 28_800)]
    pub session_idle_secs: i64,

    /// How long per-user daily roll-ups (and the ids of events counted) are kept, in days;
    /// older ones are folded into the account roll-ups already and deleted by the worker.
    /// The default is 13 months, the sources' figure.
    #[arg(long, env = "KEEL_USER_RETENTION_DAYS", default_value_t = 396)]
    pub user_retention_days: i64,

    /// Failed sign-ins for one email before each further try must wait (2 s, doubling with
    /// every failure, at most the window).
    #[arg(long, env = "KEEL_LOGIN_MAX_FAILURES", default_value_t = 5)]
    pub login_max_failures: i64,

    /// Failed sign-ins from one address within the window before further tries are refused.
    #[arg(long, env = "KEEL_LOGIN_MAX_FAILURES_PER_IP", default_value_t = 50)]
    pub login_max_failures_per_ip: i64,

    /// Length of the sign-in throttling window, in minutes.
    #[arg(long, env = "KEEL_LOGIN_WINDOW_MINUTES", default_value_t = 15)]
    pub login_window_minutes: i64,

    /// Proxies in front of Keel that append the client's address to `X-Forwarded-For`
    /// (0: take the connection's address; 1: one load balancer; …). Never more than you run.
    #[arg(long, env = "KEEL_TRUSTED_PROXIES", default_value_t = 0)]
    pub trusted_proxies: usize,

    /// Largest request body (API batch or CSV upload), in MB; larger ones are answered 413.
    #[arg(long, env = "KEEL_MAX_BATCH_MB", default_value_t = 64)]
    pub max_batch_mb: usize,

    /// When the daily pipeline runs (UTC, HH:MM), in `keel worker` and in `serve --worker`.
    #[arg(long, env = "KEEL_PIPELINE_AT", default_value = "06:00", value_parser = parse_time)]
    pub pipeline_at: time::Time,

    /// SMTP server for outgoing email: host:port (plain SMTP to a local relay), or
    /// smtps://user:password@host:465 or smtp://user:password@host:587?tls=required for a
    /// real provider. Without it, emails wait in the outbox, readable by admins.
    #[arg(long, env = "KEEL_SMTP", default_value = None)]
    pub smtp: Option<String>,

    /// A private CA's certificate (PEM file) to trust for the mail server's TLS.
    #[arg(long, env = "KEEL_SMTP_CA", default_value = None)]
    pub smtp_ca: Option<std::path::PathBuf>,

    /// The sender address of Keel's emails.
    #[arg(long, env = "KEEL_MAIL_FROM", default_value = "Keel <keel@localhost>")]
    pub mail_from: String,

    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "KEEL_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
}

impl Config {
    /// Settings for tests and embedding: every default, with the given database.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Config {
            database_url: database_url.into(),
            db_max_connections: 16,
            db_acquire_timeout_ms: 2000,
            data_dir: PathBuf::from("./data"),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            secure_cookies: false,
            session_idle_secs: 28_800,
            user_retention_days: 396,
            login_max_failures: 5,
            login_max_failures_per_ip: 50,
            login_window_minutes: 15,
            trusted_proxies: 0,
            request_timeout_secs: 30,
            max_batch_mb: 64,
            pipeline_at: time::macros::time!(06:00),
            smtp: None,
            smtp_ca: None,
            mail_from: "Keel <keel@localhost>".into(),
        }
    }
}

fn parse_time(raw: &str) -> Result<time::Time, String> {
    time::Time::parse(raw, time::macros::format_description!("[hour]:[minute]"))
        .map_err(|_| format!("'{raw}' is not a time of day (HH:MM)"))
}
