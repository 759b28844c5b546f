//! The time zone a request's times are shown in: the user's own setting, else their
//! browser's (the `tz` cookie `app.js` keeps), else UTC. The access check resolves it once
//! per signed-in request and runs the handler inside [`scope`], so [`super::format::timestamp`]
//! reads it without every handler passing it along; work outside a request (emails, the
//! worker) shows UTC.

use std::future::Future;

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use jiff::tz::TimeZone;
use time::OffsetDateTime;

tokio::task_local! {
    static ZONE: TimeZone;
}

/// The name of the cookie holding the browser's IANA time zone.
pub const COOKIE_NAME: &str = "tz";

/// The zone named `name` (an IANA name such as `Europe/Berlin`), if the database knows it.
pub fn parse(name: &str) -> Option<TimeZone> {
    TimeZone::get(name).ok()
}

/// The browser's time zone, as its `tz` cookie names it.
pub fn browser(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
        .filter(|value| parse(value).is_some())
}

/// Runs `f` with its times shown in `zone`.
pub async fn scope<F: Future>(zone: TimeZone, f: F) -> F::Output {
    ZONE.scope(zone, f).await
}

/// `t` as a local date, time and zone abbreviation: `2026-01-02 11:30 IST`.
pub fn local(t: OffsetDateTime) -> String {
    let zone = ZONE.try_with(TimeZone::clone).unwrap_or(TimeZone::UTC);
    match jiff::Timestamp::from_second(t.unix_timestamp()) {
        Ok(ts) => ts.to_zoned(zone).strftime("%Y-%m-%d %H:%M %Z").to_string(),
        Err(_) => String::new(),
    }
}

/// Every zone name the database knows, sorted, for a picker.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_owned())
        .filter(|n| {
            n.contains('/')
                && !n.starts_with("Etc/")
                && !n.starts_with("posix/")
                && !n.starts_with("right/")
        })
        .collect();
    names.sort();
    names.push("UTC".to_owned());
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    }

    #[tokio::test]
    async fn times_read_in_the_zone_of_the_request() {
        let t = at("2026-01-02T06:00:00Z");
        assert_eq!(local(t), "2026-01-02 06:00 UTC");
        // India is 5 h 30 min ahead all year; New York 5 h behind in winter, 4 h in summer.
        let kolkata = scope(parse("Asia/Kolkata").unwrap(), async { local(t) }).await;
        assert_eq!(kolkata, "2026-01-02 11:30 IST");
        let ny = parse("America/New_York").unwrap();
        assert_eq!(
            scope(ny.clone(), async { local(t) }).await,
            "2026-01-02 01:00 EST"
        );
        let july = at("2026-07-02T06:00:00Z");
        assert_eq!(
            scope(ny, async { local(july) }).await,
            "2026-07-02 02:00 EDT"
        );
    }

    #[test]
    fn the_browser_zone_comes_from_its_cookie_and_must_be_a_zone() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "id=abc; tz=Europe/Berlin".parse().unwrap());
        assert_eq!(browser(&headers).as_deref(), Some("Europe/Berlin"));
        headers.insert(COOKIE, "tz=Mars/Olympus".parse().unwrap());
        assert_eq!(browser(&headers), None);
        assert!(names().iter().any(|n| n == "Asia/Kolkata"));
    }
}
