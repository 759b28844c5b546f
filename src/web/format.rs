//! Display helpers shared by pages: times, money.

use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::error::AppError;

pub fn timestamp(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC"
    ))
    .unwrap_or_default()
}

/// A `YYYY-MM-DD` date a user typed into `field`, or a refusal naming both.
pub fn parse_date(raw: &str, field: &str) -> Result<Date, AppError> {
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .map_err(|_| AppError::BadRequest(format!("{field}: '{raw}' is not a date (YYYY-MM-DD)")))
}

/// Whole dollars with thousands separators: `$12,345`.
pub fn dollars(cents: i64) -> String {
    let whole = (cents / 100).abs();
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}${out}", if cents < 0 { "-" } else { "" })
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
    fn dollars_group_thousands() {
        assert_eq!(super::dollars(123_456_789), "$1,234,567");
        assert_eq!(super::dollars(99), "$0");
        assert_eq!(super::dollars(-250_000), "-$2,500");
    }
}
