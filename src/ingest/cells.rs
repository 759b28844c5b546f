//! Reading typed values out of a batch's text cells, recording what is wrong with each.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::schema::{Entity, Kind};
use super::table::{Errors, Table};

pub struct Reader<'a> {
    pub table: &'a Table,
    pub entity: Entity,
    pub errors: &'a mut Errors,
}

impl Reader<'_> {
    /// The trimmed cell, `None` when empty or absent; records an error if required.
    fn raw(&mut self, name: &'static str, row: usize) -> Option<&str> {
        let value = self
            .table
            .column(name)
            .and_then(|c| c.get(row))
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if value.is_none() && self.spec(name).1 {
            self.errors.add(row + 1, name, "required but empty");
        }
        value
    }

    /// Whether the row has a value in the column (valid or not).
    pub fn given(&self, name: &str, row: usize) -> bool {
        self.table
            .column(name)
            .and_then(|c| c.get(row))
            .is_some_and(|s| !s.trim().is_empty())
    }

    fn spec(&self, name: &str) -> (Kind, bool) {
        self.entity
            .columns()
            .iter()
            .find(|c| c.name == name)
            .map_or((Kind::Text, false), |c| (c.kind, c.required))
    }

    pub fn fail<T>(&mut self, row: usize, name: &str, message: String) -> Option<T> {
        self.errors.add(row + 1, name, message);
        None
    }

    pub fn text(&mut self, name: &'static str, row: usize) -> Option<String> {
        let value = self.raw(name, row)?.to_owned();
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return self.fail(row, name, "contains control characters".into());
        }
        if value.chars().count() > MAX_TEXT {
            return self.fail(row, name, format!("longer than {MAX_TEXT} characters"));
        }
        Some(value)
    }

    /// An address mail can be sent to (checked as lettre, the sender, will parse it).
    pub fn email(&mut self, name: &'static str, row: usize) -> Option<String> {
        let value = self.text(name, row)?;
        match value.parse::<lettre::Address>() {
            Ok(_) => Some(value),
            Err(_) => self.fail(row, name, format!("'{value}' is not an email address")),
        }
    }

    pub fn int(&mut self, name: &'static str, row: usize) -> Option<i64> {
        let raw = self.raw(name, row)?.to_owned();
        let Kind::Int(min, max) = self.spec(name).0 else {
            return self.fail(row, name, "not a number column".into());
        };
        match raw.parse::<i64>() {
            Ok(v) if (min..=max).contains(&v) => Some(v),
            Ok(v) => self.fail(row, name, format!("{v} is outside {min}..{max}")),
            Err(_) => self.fail(row, name, format!("'{raw}' is not a whole number")),
        }
    }

    /// Dollars with up to two decimals, returned in cents.
    pub fn money(&mut self, name: &'static str, row: usize) -> Option<i64> {
        let raw = self.raw(name, row)?.to_owned();
        match parse_cents(&raw) {
            Ok(cents) => Some(cents),
            Err(m) => self.fail(row, name, m),
        }
    }

    /// `YYYY-MM-DD`, or a timestamp (as CRM and billing exports give dates), read as its
    /// UTC day.
    pub fn date(&mut self, name: &'static str, row: usize) -> Option<Date> {
        let raw = self.raw(name, row)?.to_owned();
        let day = Date::parse(&raw, format_description!("[year]-[month]-[day]"))
            .ok()
            .or_else(|| parse_timestamp(&raw).map(|t| t.to_offset(time::UtcOffset::UTC).date()));
        match day {
            Some(d) if YEARS.contains(&d.year()) => Some(d),
            Some(_) => self.fail(row, name, format!("'{raw}' is not between 1970 and 2100")),
            None => self.fail(
                row,
                name,
                format!("'{raw}' is not a date (YYYY-MM-DD, or a timestamp)"),
            ),
        }
    }

    pub fn timestamp(&mut self, name: &'static str, row: usize) -> Option<OffsetDateTime> {
        let raw = self.raw(name, row)?.to_owned();
        match parse_timestamp(&raw) {
            Some(t) if YEARS.contains(&t.year()) => Some(t),
            Some(_) => self.fail(row, name, format!("'{raw}' is not between 1970 and 2100")),
            None => self.fail(
                row,
                name,
                format!("'{raw}' is not a timestamp (RFC 3339 or YYYY-MM-DD HH:MM:SS UTC)"),
            ),
        }
    }

    pub fn bool(&mut self, name: &'static str, row: usize) -> Option<bool> {
        let raw = self.raw(name, row)?.to_ascii_lowercase();
        match raw.as_str() {
            "true" | "yes" | "1" | "y" | "t" => Some(true),
            "false" | "no" | "0" | "n" | "f" => Some(false),
            _ => self.fail(row, name, format!("'{raw}' is not true or false")),
        }
    }

    pub fn choice(&mut self, name: &'static str, row: usize) -> Option<&'static str> {
        let raw = self.raw(name, row)?.to_ascii_lowercase();
        let Kind::Choice(options) = self.spec(name).0 else {
            return self.fail(row, name, "not a choice column".into());
        };
        match options.iter().find(|o| **o == raw) {
            Some(o) => Some(o),
            None => self.fail(
                row,
                name,
                format!("'{raw}' is not one of {}", options.join(", ")),
            ),
        }
    }
}

/// Dollars as billing exports write them: `1250`, `1250.5`, `$1,250.00` (a leading `$`
/// and thousands separators in threes are allowed; other currencies are not dollars).
pub fn parse_cents(raw: &str) -> Result<i64, String> {
    let s = raw.trim();
    if s.starts_with('-') || s.starts_with("$-") {
        return Err(format!("negative amount {s}"));
    }
    let bare = s.strip_prefix('$').unwrap_or(s).trim_start();
    let (grouped, frac) = bare.split_once('.').unwrap_or((bare, ""));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let mut groups = grouped.split(',');
    let first = groups.next().unwrap_or_default();
    let in_threes = groups.all(|g| g.len() == 3 && digits(g));
    let whole: String = grouped.chars().filter(|c| *c != ',').collect();
    let grouping_ok = !grouped.contains(',') || (first.len() <= 3 && in_threes);
    if !digits(first) || !grouping_ok || (bare.contains('.') && !digits(frac)) || frac.len() > 2 {
        return Err(format!("'{s}' is not an amount in dollars (e.g. 1250.00)"));
    }
    let whole = whole.as_str();
    let whole: i64 = whole.parse().map_err(|_| format!("'{s}' is too large"))?;
    let frac: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    whole
        .checked_mul(100)
        .and_then(|c| c.checked_add(frac))
        .filter(|c| *c <= MAX_CENTS)
        .ok_or_else(|| format!("'{s}' is more than $1,000,000,000"))
}

/// The largest amount a cell may hold: a billion dollars.
const MAX_CENTS: i64 = 100_000_000_000;
/// The longest text a cell may hold, in characters.
const MAX_TEXT: usize = 2_000;
/// Dates outside these years are typing errors, not history.
const YEARS: std::ops::RangeInclusive<i32> = 1970..=2100;

/// RFC 3339, `YYYY-MM-DD HH:MM:SS[.fraction]` in UTC, or Unix time in seconds (10 digits)
/// or milliseconds (13 digits), as analytics exports give it.
pub fn parse_timestamp(raw: &str) -> Option<OffsetDateTime> {
    if let Some(t) = parse_utc_fast(raw.as_bytes()) {
        return Some(t);
    }
    if raw.bytes().all(|b| b.is_ascii_digit()) && matches!(raw.len(), 10 | 13) {
        let n: i128 = raw.parse().ok()?;
        let nanos = if raw.len() == 10 {
            n * 1_000_000_000
        } else {
            n * 1_000_000
        };
        return OffsetDateTime::from_unix_timestamp_nanos(nanos).ok();
    }
    OffsetDateTime::parse(raw, &Rfc3339).ok().or_else(|| {
        PrimitiveDateTime::parse(
            raw,
            format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        )
        .or_else(|_| {
            PrimitiveDateTime::parse(
                raw,
                format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]"),
            )
        })
        .ok()
        .map(PrimitiveDateTime::assume_utc)
    })
}

/// The two UTC shapes event feeds send most, `YYYY-MM-DD HH:MM:SS` and
/// `YYYY-MM-DDTHH:MM:SSZ`, read without the general parser (it dominates event ingestion).
fn parse_utc_fast(b: &[u8]) -> Option<OffsetDateTime> {
    let utc_shape = b.len() == 19 || (b.len() == 20 && b[19] == b'Z');
    if !utc_shape
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b' ' | b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let month = time::Month::try_from(u8::try_from(num(5, 7)?).ok()?).ok()?;
    let date = Date::from_calendar_date(
        i32::try_from(num(0, 4)?).ok()?,
        month,
        u8::try_from(num(8, 10)?).ok()?,
    )
    .ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(num(11, 13)?).ok()?,
        u8::try_from(num(14, 16)?).ok()?,
        u8::try_from(num(17, 19)?).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, clock).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_to_cents() {
        assert_eq!(parse_cents("1250"), Ok(125_000));
        assert_eq!(parse_cents("1250.5"), Ok(125_050));
        assert_eq!(parse_cents("0.07"), Ok(7));
        assert!(parse_cents("-5.00").unwrap_err().contains("negative"));
        // As billing exports format them.
        assert_eq!(parse_cents("$1,250.00"), Ok(125_000));
        assert_eq!(parse_cents("1,234,567"), Ok(123_456_700));
        assert_eq!(parse_cents("$ 99"), Ok(9_900));
        for bad in [
            "",
            "12.345",
            "1,00",
            "12,3456",
            ",100",
            "€5",
            "abc",
            "1.",
            ".5",
            "$",
            "1,000.5.5",
        ] {
            assert!(parse_cents(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_take_rfc3339_or_plain_utc() {
        let a = parse_timestamp("2026-11-20T14:03:00Z").unwrap();
        let b = parse_timestamp("2026-11-20 14:03:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(parse_timestamp("2026-11-20T15:03:00+01:00"), Some(a));
        assert!(parse_timestamp("20/11/2026").is_none());
        assert_eq!(
            parse_timestamp("2026-11-20 14:03:00.250000").map(|t| t.millisecond()),
            Some(250)
        );
        // 1795701780 s after 1970-01-01T00:00:00Z is 2026-11-26T14:03:00Z.
        let unix = parse_timestamp("1795701780").unwrap();
        assert_eq!(unix, parse_timestamp("2026-11-26T14:03:00Z").unwrap());
        assert_eq!(parse_timestamp("1795701780000"), Some(unix));
        assert!(
            parse_timestamp("2026-02-30 10:00:00").is_none(),
            "no such day"
        );
        assert!(
            parse_timestamp("2026-11-20 25:00:00").is_none(),
            "no such hour"
        );
        assert_eq!(
            parse_timestamp("2026-11-20T14:03:00Z"),
            parse_timestamp("2026-11-20T14:03:00.000+00:00")
        );
    }
}
