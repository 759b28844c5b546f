//! The time as the application sees it: the system clock in production, a clock a test sets
//! and moves. Handlers read it from the application state; domain functions take `now`.

use std::sync::{Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until moved.
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    pub fn new(at: OffsetDateTime) -> Self {
        FixedClock(Mutex::new(at))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let at = time::macros::datetime!(2026-11-30 06:00 UTC);
        let clock = FixedClock::new(at);
        assert_eq!(clock.now(), at);
        clock.advance(Duration::hours(49));
        assert_eq!(clock.now(), time::macros::datetime!(2026-12-02 07:00 UTC));
    }
}
