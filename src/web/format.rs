//! Display helpers shared by pages: times, money.

use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::error::AppError;

/// `t` in the viewer's time zone (see [`super::zone`]): `2026-01-02 11:30 IST`.
pub fn timestamp(t: OffsetDateTime) -> String {
    super::zone::local(t)
}

/// A `YYYY-MM-DD` date a user typed into `field`, or a refusal naming both.
pub fn parse_date(raw: &str, field: &str) -> Result<Date, AppError> {
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .map_err(|_| AppError::BadRequest(format!("{field}: '{raw}' is not a date (YYYY-MM-DD)")))
}

/// A whole number with thousands separators: `12,345`.
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::from(if n < 0 { "-" } else { "" });
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Whole dollars with thousands separators: `$12,345`.
pub fn dollars(cents: i64) -> String {
    let whole = grouped((cents / 100).abs());
    format!("{}${whole}", if cents < 0 { "-" } else { "" })
}

/// Money as people read it on a dashboard: $1.2M, $45.3K, $950.
pub fn money_short(cents: i64) -> String {
    let dollars = cents as f64 / 100.0;
    let (sign, v) = if dollars < 0.0 {
        ("-", -dollars)
    } else {
        ("", dollars)
    };
    if v >= 1_000_000.0 {
        format!("{sign}${:.1}M", v / 1_000_000.0)
    } else if v >= 1_000.0 {
        format!("{sign}${:.1}K", v / 1_000.0)
    } else {
        format!("{sign}${v:.0}")
    }
}

/// A count with its noun in the right number: "1 point", "3 points".
pub fn count(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A share as a percentage with one decimal: 104.3 %; a dash for none.
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |s| format!("{:.1} %", s * 100.0))
}

/// A month as people say it: Mar 2026.
pub fn month_label(month: Date) -> String {
    month
        .format(format_description!("[month repr:short] [year]"))
        .unwrap_or_default()
}

/// One option of a filter's select, as a template shows it.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The options `(value, label)` of a select, with `selected` marked.
pub fn choices(options: &[(&str, &str)], selected: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|&(value, label)| Choice {
            value: value.to_owned(),
            label: label.to_owned(),
            selected: value == selected,
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn counts_take_the_noun_in_the_right_number() {
        assert_eq!(count(1, "point", "points"), "1 point");
        assert_eq!(count(0, "point", "points"), "0 points");
        assert_eq!(count(14, "account", "accounts"), "14 accounts");
    }

    use super::*;

    #[test]
    fn dashboard_numbers_read_like_a_report() {
        assert_eq!(money_short(123_456_789), "$1.2M");
        assert_eq!(money_short(4_530_000), "$45.3K");
        assert_eq!(money_short(95_000), "$950");
        assert_eq!(money_short(-250_000_000), "-$2.5M");
        assert_eq!(percent(Some(1.0432)), "104.3 %");
        assert_eq!(percent(None), "—");
        assert_eq!(month_label(time::macros::date!(2026 - 03 - 01)), "Mar 2026");
    }

    #[test]
    fn dollars_group_thousands() {
        assert_eq!(dollars(123_456_789), "$1,234,567");
        assert_eq!(dollars(99), "$0");
        assert_eq!(dollars(-250_000), "-$2,500");
    }
}
