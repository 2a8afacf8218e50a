//! When a message may go out: quiet hours for SMS, per-recipient rate limits, and the
//! backoff between attempts. Pure functions over times the dispatcher reads from the
//! database, so every rule is testable without a clock or a provider.
//!
//! These rules only ever delay a message; they never drop one.

use std::time::Duration;

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

use crate::{Delivery, SendError};

/// Hours during which non-urgent SMS wait, in Beijing time (default 21:00–08:00, C6).
/// Marketing texts are only allowed 08:00–22:00 and a reminder at 23:00 is unwelcome, so
/// reminders wait too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for QuietHours {
    fn default() -> Self {
        Self {
            start: NaiveTime::from_hms_opt(21, 0, 0).unwrap_or(NaiveTime::MIN),
            end: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }
}

impl QuietHours {
    fn is_quiet(&self, local: NaiveTime) -> bool {
        if self.start <= self.end {
            self.start <= local && local < self.end
        } else {
            // The window wraps midnight (22:00–08:00).
            local >= self.start || local < self.end
        }
    }

    /// `None` when a message may go now; otherwise the instant the quiet hours end.
    pub fn held_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&Shanghai);
        if !self.is_quiet(local.time()) {
            return None;
        }
        let mut day = local.date_naive();
        if local.time() >= self.end {
            day = day.checked_add_days(Days::new(1))?;
        }
        // Shanghai has no DST, so the local time always exists exactly once.
        Shanghai.from_local_datetime(&day.and_time(self.end)).single().map(|end| end.with_timezone(&Utc))
    }
}

/// Per-recipient limits, applied before the provider's (typically 1 a minute, 5 an hour,
/// 10 a day per number): hitting the provider's limit costs an attempt and an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: usize,
    pub per_hour: usize,
    pub per_day: usize,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { per_minute: 1, per_hour: 5, per_day: 10 }
    }
}

impl RateLimit {
    /// `None` when one more message may go to this recipient now, else the earliest
    /// instant it may. A limit of 0 means no limit for that window. `sent` are the recipient's earlier sends (any order). Windows are
    /// rolling, which is never looser than the providers' calendar windows.
    pub fn next_allowed(&self, sent: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut sent: Vec<DateTime<Utc>> = sent.iter().copied().filter(|time| *time <= now).collect();
        sent.sort_unstable_by(|a, b| b.cmp(a));
        [
            (self.per_minute, chrono::Duration::minutes(1)),
            (self.per_hour, chrono::Duration::hours(1)),
            (self.per_day, chrono::Duration::days(1)),
        ]
        .into_iter()
        .filter(|(limit, _)| *limit > 0)
        .filter_map(|(limit, window)| {
            let recent = sent.iter().take_while(|time| now - **time < window).count();
            // Newest first: once the `limit`-th newest send leaves the window, fewer
            // than `limit` remain in it.
            (recent >= limit).then(|| sent.get(limit - 1).map_or(now, |time| *time + window))
        })
        .max()
    }
}

/// Exponential backoff for transient failures, capped, with a bounded number of tries
/// after which the message is handed to a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { first: Duration::from_secs(60), max: Duration::from_secs(6 * 3600), max_attempts: 8 }
    }
}

impl Backoff {
    /// The wait after failed attempt number `attempt` (1-based), or `None` when no try is
    /// left.
    pub fn delay(&self, attempt: u32) -> Option<Duration> {
        if attempt == 0 || attempt >= self.max_attempts {
            return None;
        }
        let factor = 2u32.checked_pow(attempt - 1).unwrap_or(u32::MAX);
        Some(self.first.checked_mul(factor).map_or(self.max, |delay| delay.min(self.max)))
    }
}

/// What the outbox does with a message after one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterAttempt {
    /// Delivered: record the provider's id and code.
    Sent(Delivery),
    /// Try again at this instant.
    RetryAt(DateTime<Utc>),
    /// Stop: a permanent refusal, or transient failures past the last try. A person
    /// sees the provider's code.
    Failed(SendError),
    /// The provider may have the message: never resend automatically (no idempotency
    /// key on SMS); a person or a delivery-report check decides.
    Review(SendError),
}

/// Decides the next step after attempt number `attempt` (1-based) ended in `result`.
pub fn after_attempt(
    result: Result<Delivery, SendError>,
    attempt: u32,
    backoff: &Backoff,
    now: DateTime<Utc>,
) -> AfterAttempt {
    match result {
        Ok(delivery) => AfterAttempt::Sent(delivery),
        Err(error @ SendError::Transient { .. }) => match backoff.delay(attempt) {
            Some(delay) => chrono::Duration::from_std(delay)
                .ok()
                .and_then(|delay| now.checked_add_signed(delay))
                .map_or(AfterAttempt::Failed(error), AfterAttempt::RetryAt),
            None => AfterAttempt::Failed(error),
        },
        Err(error @ SendError::Permanent { .. }) => AfterAttempt::Failed(error),
        Err(error @ SendError::Indeterminate { .. }) => AfterAttempt::Review(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beijing(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Shanghai.with_ymd_and_hms(2026, 11, day, hour, minute, 0).single().expect("valid").with_timezone(&Utc)
    }

    #[test]
    fn sms_waits_for_the_morning_in_beijing_time() {
        let quiet = QuietHours::default();
        assert_eq!(quiet.held_until(beijing(22, 20, 59)), None);
        assert_eq!(quiet.held_until(beijing(22, 21, 0)), Some(beijing(23, 8, 0)));
        assert_eq!(quiet.held_until(beijing(23, 3, 30)), Some(beijing(23, 8, 0)));
        assert_eq!(quiet.held_until(beijing(23, 8, 0)), None);
        // 23:30 UTC is 07:30 the next day in Beijing: the UTC date must not be used.
        let utc = Utc.with_ymd_and_hms(2026, 11, 22, 23, 30, 0).single().expect("valid");
        assert_eq!(quiet.held_until(utc), Some(beijing(23, 8, 0)));
    }

    #[test]
    fn rate_limits_hold_the_next_message() {
        let limit = RateLimit::default();
        let now = beijing(22, 12, 0);
        let ago = |minutes: i64| now - chrono::Duration::minutes(minutes);
        assert_eq!(limit.next_allowed(&[], now), None);
        assert_eq!(limit.next_allowed(&[ago(2)], now), None);
        // One in the last minute: wait until it is a minute old.
        let recent = now - chrono::Duration::seconds(20);
        assert_eq!(limit.next_allowed(&[recent], now), Some(recent + chrono::Duration::minutes(1)));
        // Five in the hour: the oldest of them must leave the hour.
        let five = [ago(50), ago(40), ago(30), ago(20), ago(10)];
        assert_eq!(limit.next_allowed(&five, now), Some(ago(50) + chrono::Duration::hours(1)));
        // Ten in the day, spread so no hour holds five.
        let ten: Vec<_> = (1..=10).map(|hours| now - chrono::Duration::hours(hours * 2)).collect();
        assert_eq!(limit.next_allowed(&ten, now), Some(ten[9] + chrono::Duration::days(1)));
    }

    #[test]
    fn each_classification_has_its_next_step() {
        let now = beijing(22, 12, 0);
        let backoff = Backoff::default();
        let delivery = Delivery { provider_message_id: Some("1".into()), provider_code: "OK".into() };
        assert_eq!(after_attempt(Ok(delivery.clone()), 1, &backoff, now), AfterAttempt::Sent(delivery));
        let throttled = SendError::transient("isv.BUSINESS_LIMIT_CONTROL", "");
        assert_eq!(
            after_attempt(Err(throttled.clone()), 2, &backoff, now),
            AfterAttempt::RetryAt(now + chrono::Duration::minutes(2))
        );
        assert_eq!(after_attempt(Err(throttled.clone()), 8, &backoff, now), AfterAttempt::Failed(throttled));
        let refused = SendError::permanent("isv.MOBILE_NUMBER_ILLEGAL", "");
        assert_eq!(after_attempt(Err(refused.clone()), 1, &backoff, now), AfterAttempt::Failed(refused));
        let unknown = SendError::indeterminate("timeout", "");
        assert_eq!(after_attempt(Err(unknown.clone()), 1, &backoff, now), AfterAttempt::Review(unknown));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_then_gives_up() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(1), Some(Duration::from_secs(60)));
        assert_eq!(backoff.delay(2), Some(Duration::from_secs(120)));
        assert_eq!(backoff.delay(7), Some(Duration::from_secs(64 * 60)));
        assert_eq!(backoff.delay(8), None);
        assert_eq!(backoff.delay(0), None);
        let patient = Backoff { max_attempts: 100, ..backoff };
        assert_eq!(patient.delay(10), Some(Duration::from_secs(6 * 3600)));
        assert_eq!(patient.delay(99), Some(Duration::from_secs(6 * 3600)));
    }
}
