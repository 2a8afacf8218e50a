//! Cron schedules for reminders and digests, read in Beijing time.
//!
//! One parser only (the `cron` crate): its day-of-week numbers start at Sunday = 1, while
//! other libraries read `1-5` as Monday–Friday, so the same string would mean different
//! days. Numeric days of the week are therefore refused; write `Mon-Fri`. Schedules
//! never fire from process memory: the dispatcher stores the next due time in the
//! database, so a restart catches up instead of skipping.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Asia::Shanghai;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("a schedule has 6 or 7 fields (seconds first): `sec min hour day month weekday [year]`, got {0}")]
    FieldCount(usize),
    #[error("write days of the week by name (Mon-Fri), not number: numbering differs between cron libraries")]
    NumericDayOfWeek,
    #[error("invalid cron expression: {0}")]
    Invalid(String),
}

/// A parsed cron expression whose times are Asia/Shanghai local times.
#[derive(Clone, Debug)]
pub struct CronSchedule {
    expression: String,
    schedule: cron::Schedule,
}

impl FromStr for CronSchedule {
    type Err = ScheduleError;

    fn from_str(expression: &str) -> Result<Self, Self::Err> {
        let fields: Vec<&str> = expression.split_whitespace().collect();
        if !(6..=7).contains(&fields.len()) {
            return Err(ScheduleError::FieldCount(fields.len()));
        }
        if fields[5].chars().any(|c| c.is_ascii_digit()) {
            return Err(ScheduleError::NumericDayOfWeek);
        }
        let schedule =
            cron::Schedule::from_str(expression).map_err(|error| ScheduleError::Invalid(error.to_string()))?;
        Ok(Self { expression: expression.to_string(), schedule })
    }
}

impl CronSchedule {
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The first firing strictly after `after`, as a UTC instant.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.after(&after.with_timezone(&Shanghai)).next().map(|next| next.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn beijing(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Shanghai.with_ymd_and_hms(2026, 11, day, hour, minute, 0).single().expect("valid").with_timezone(&Utc)
    }

    #[test]
    fn weekday_mornings_are_beijing_mornings() {
        let digest: CronSchedule = "0 30 8 * * Mon-Fri".parse().expect("parses");
        // 2026-11-20 is a Friday; the next firing after Friday 09:00 is Monday 08:30.
        assert_eq!(digest.next_after(beijing(20, 9, 0)), Some(beijing(23, 8, 30)));
        assert_eq!(digest.next_after(beijing(23, 8, 0)), Some(beijing(23, 8, 30)));
        // Strictly after: firing at 08:30 schedules the next day's.
        assert_eq!(digest.next_after(beijing(23, 8, 30)), Some(beijing(24, 8, 30)));
        // 08:30 Beijing is 00:30 UTC.
        assert_eq!(digest.next_after(beijing(23, 8, 0)).map(|t| t.format("%H:%M").to_string()), Some("00:30".into()));
    }

    #[test]
    fn traps_are_refused() {
        assert_eq!("30 8 * * 1-5".parse::<CronSchedule>().err(), Some(ScheduleError::FieldCount(5)));
        assert_eq!("0 30 8 * * 1-5".parse::<CronSchedule>().err(), Some(ScheduleError::NumericDayOfWeek));
        assert!(matches!("0 61 8 * * *".parse::<CronSchedule>(), Err(ScheduleError::Invalid(_))));
    }
}
