//! A notice's period in whole days, Beijing time. The day it is published does not
//! count (as with any period in days under the Civil Code, art. 201: 按照日计算期间的，
//! 开始的当日不计入): a 5-day notice published on 11月22日 runs 23日–27日 and ends at
//! 28日 00:00 Asia/Shanghai. Villagers read dates, not hours, so the page shows those days.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

/// Seeded default (002 §三(七)): 公示5天.
pub const DEFAULT_DAYS: u32 = 5;
/// Longer notices are not what the documents ask for and would stall the procedure.
pub const MAX_DAYS: u32 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First and last day counted, Beijing dates.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// The instants the period starts and ends (midnight Beijing time).
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The period of a notice of `days` days published at `published_at`.
pub fn period(published_at: DateTime<Utc>, days: u32) -> Period {
    let published_on = published_at.with_timezone(&Shanghai).date_naive();
    let first_day = published_on + Days::new(1);
    let last_day = published_on + Days::new(u64::from(days.max(1)));
    Period { first_day, last_day, starts_at: midnight(first_day), ends_at: midnight(last_day + Days::new(1)) }
}

/// Midnight at the start of a Beijing date, as UTC (China has no daylight saving).
pub fn midnight(day: NaiveDate) -> DateTime<Utc> {
    Shanghai
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map_or_else(|| DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
}

/// Whole days left to object, counting today, at most the period's `days` (the
/// publishing day itself is extra time); 0 once it has ended.
pub fn days_left(ends_at: DateTime<Utc>, days: u32, now: DateTime<Utc>) -> i64 {
    if now >= ends_at {
        return 0;
    }
    let today = now.with_timezone(&Shanghai).date_naive();
    let last = (ends_at - chrono::Duration::seconds(1)).with_timezone(&Shanghai).date_naive();
    ((last - today).num_days() + 1).min(i64::from(days))
}

/// A Beijing date as villagers write it: 2026年11月23日.
pub fn chinese_date(day: NaiveDate) -> String {
    day.format("%Y年%-m月%-d日").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
    }

    #[test]
    fn the_publishing_day_does_not_count() {
        // 10:00 Beijing on 22 November.
        let p = period(at("2026-11-22T02:00:00Z"), 5);
        assert_eq!(p.first_day, NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"));
        assert_eq!(p.last_day, NaiveDate::from_ymd_opt(2026, 11, 27).expect("date"));
        assert_eq!(p.ends_at, at("2026-11-27T16:00:00Z"), "28日 00:00 Beijing");
        assert_eq!(p.starts_at, at("2026-11-22T16:00:00Z"));
    }

    #[test]
    fn late_evening_utc_is_already_the_next_beijing_day() {
        // 23:30 UTC on the 21st is 07:30 on the 22nd in Beijing.
        let p = period(at("2026-11-21T23:30:00Z"), 5);
        assert_eq!(p.first_day, NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"));
    }

    #[test]
    fn days_left_counts_today_and_stops_at_zero() {
        let p = period(at("2026-11-22T02:00:00Z"), 5);
        assert_eq!(days_left(p.ends_at, 5, at("2026-11-22T03:00:00Z")), 5, "publishing day: all five ahead");
        assert_eq!(days_left(p.ends_at, 5, at("2026-11-24T03:00:00Z")), 4, "second day");
        assert_eq!(days_left(p.ends_at, 5, at("2026-11-27T10:00:00Z")), 1, "last day");
        assert_eq!(days_left(p.ends_at, 5, p.ends_at), 0);
        assert_eq!(days_left(p.ends_at, 5, at("2026-12-30T00:00:00Z")), 0);
    }

    #[test]
    fn dates_read_as_written_in_chinese() {
        assert_eq!(chinese_date(NaiveDate::from_ymd_opt(2026, 1, 5).expect("date")), "2026年1月5日");
    }
}
