//! Numbers, dates and ids appended to text without the formatting machinery: ingestion
//! writes millions of them a batch (COPY lines), and the demo as many into its event CSV.

use std::fmt::Write as _;

use time::Date;
use uuid::Uuid;

/// `n` in decimal.
pub fn int(buf: &mut String, n: impl itoa::Integer) {
    buf.push_str(itoa::Buffer::new().format(n));
}

/// `n` (0–99) as two digits.
pub fn two(buf: &mut String, n: u8) {
    buf.push(char::from(b'0' + n / 10 % 10));
    buf.push(char::from(b'0' + n % 10));
}

/// `YYYY-MM-DD`, as `Date`'s own `Display` writes it.
pub fn date(buf: &mut String, d: Date) {
    match u16::try_from(d.year()) {
        Ok(year @ 1000..=9999) => int(buf, year),
        _ => {
            let _ = write!(buf, "{d}");
            return;
        }
    }
    buf.push('-');
    two(buf, u8::from(d.month()));
    buf.push('-');
    two(buf, d.day());
}

/// The hyphenated lower-case form, as `Uuid`'s own `Display` writes it.
pub fn uuid(buf: &mut String, id: Uuid) {
    buf.push_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
}

#[cfg(test)]
mod tests {
    use time::{Duration, Month};

    use super::*;

    #[test]
    fn dates_ids_and_numbers_read_as_their_display_forms() {
        let mut day = Date::from_calendar_date(1999, Month::December, 25).unwrap();
        let mut out = String::new();
        let mut expected = String::new();
        for _ in 0..800 {
            date(&mut out, day);
            write!(expected, "{day}").unwrap();
            day += Duration::days(17);
        }
        for y in [-5, 0, 7, 999, 9999] {
            let d = Date::from_calendar_date(y, Month::March, 1).unwrap();
            date(&mut out, d);
            write!(expected, "{d}").unwrap();
        }
        for n in [0_i64, 7, -12, 1_000_000, i64::MIN] {
            int(&mut out, n);
            write!(expected, "{n}").unwrap();
        }
        for n in [0, 5, 10, 59, 99] {
            two(&mut out, n);
            write!(expected, "{n:02}").unwrap();
        }
        let id = Uuid::new_v4();
        uuid(&mut out, id);
        write!(expected, "{id}").unwrap();
        assert_eq!(out, expected);
    }
}
