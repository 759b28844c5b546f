//! Structured logs: `KEEL_LOG` sets the filter (default: the command's, `info` for the
//! server), `KEEL_LOG_FORMAT=json` switches to one JSON object per line; colours only on a
//! terminal.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_env("KEEL_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if std::env::var("KEEL_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
