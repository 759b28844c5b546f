//! SLA countdowns, as the server renders them; `static/app.js` keeps them ticking.

use time::OffsetDateTime;

/// An SLA countdown (tasks, hand-offs).
pub struct Countdown {
    /// RFC 3339, for the script.
    pub due: String,
    pub text: String,
    /// ok, amber (under 4 hours left) or red (overdue)
    pub level: &'static str,
}

impl Countdown {
    pub fn new(due: OffsetDateTime, now: OffsetDateTime) -> Countdown {
        let left = due - now;
        let minutes = left.whole_minutes().abs();
        let span = if minutes >= 48 * 60 {
            format!("{} d {} h", minutes / (24 * 60), minutes % (24 * 60) / 60)
        } else {
            format!("{} h {} min", minutes / 60, minutes % 60)
        };
        Countdown {
            due: due
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            text: if left.is_negative() {
                format!("overdue by {span}")
            } else {
                format!("due in {span}")
            },
            level: if left.is_negative() {
                "red"
            } else if left.whole_hours() < 4 {
                "amber"
            } else {
                "ok"
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn countdowns_turn_amber_then_red() {
        let now = datetime!(2026-11-23 10:00 UTC);
        let c = Countdown::new(datetime!(2026-11-24 12:30 UTC), now);
        assert_eq!((c.text.as_str(), c.level), ("due in 26 h 30 min", "ok"));
        let c = Countdown::new(datetime!(2026-11-23 13:00 UTC), now);
        assert_eq!(c.level, "amber");
        let c = Countdown::new(datetime!(2026-11-23 09:15 UTC), now);
        assert_eq!((c.text.as_str(), c.level), ("overdue by 0 h 45 min", "red"));
        let c = Countdown::new(datetime!(2026-11-27 10:00 UTC), now);
        assert_eq!(c.text, "due in 4 d 0 h");
    }
}
