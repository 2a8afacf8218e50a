//! The server's idea of "now". Deadlines, notice periods, quiet hours and schedules all
//! read it, so tests move time forward instead of sleeping.
//!
//! Which times follow it: anything a rule or a reminder is decided by (a notice's end,
//! an objection's answer deadline, a case's grace for a former officer, a milestone, a
//! scheduled job's slot, the outbox's next attempt). Which do not: when something was
//! written (audit entries, receipts, record and change-log timestamps) and token expiry
//! use the wall clock, because they record or protect the real world, not the rules.

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Wall-clock time plus an offset that only tests change. Cheap to clone; clones share
/// the offset, so advancing the test's copy advances the server's.
#[derive(Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone) forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }

    /// Sets the clock so that `now()` is about `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        self.offset_ms.store((at - Utc::now()).num_milliseconds(), Ordering::Relaxed);
    }
}

/// The Beijing date of a moment: the day a village, a notice or a deadline counts in.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_dates_turn_at_sixteen_utc() {
        let before = DateTime::parse_from_rfc3339("2026-03-01T15:59:59Z").expect("time").with_timezone(&Utc);
        let after = DateTime::parse_from_rfc3339("2026-03-01T16:00:00Z").expect("time").with_timezone(&Utc);
        assert_eq!(china_date(before), NaiveDate::from_ymd_opt(2026, 3, 1).expect("date"));
        assert_eq!(china_date(after), NaiveDate::from_ymd_opt(2026, 3, 2).expect("date"));
    }

    #[test]
    fn clones_share_the_offset() {
        let clock = Clock::default();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(chrono::Duration::days(6));
        assert!(copy.now() - before >= chrono::Duration::days(6));
        let at = DateTime::parse_from_rfc3339("2026-12-01T15:00:00Z").expect("date").with_timezone(&Utc);
        clock.set(at);
        assert!((copy.now() - at).num_seconds().abs() < 2);
    }
}
