//! Which reminders a milestone calls for on a given day, and where an overdue lag
//! escalates. Pure: the job in [`super::jobs`] reads the data and enqueues.
//!
//! - N days before the due day (each of the milestone's `remind_days_before`, default
//!   3 and 1), and on the day itself: to the township teams whose villages have not
//!   reached the target, naming those villages;
//! - overdue (the day after, then weekly for a month): to the supervisor ONE level up
//!   from each lagging township (the county's, or the city's above it) and to the
//!   township team, naming the lagging villages.

use super::campaign::Milestone;
use super::progress::RegionProgress;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Overdue reminders stop this many days after the due day; by then the lag is a
/// matter for the county's own follow-up, not a daily message.
pub const OVERDUE_FOR_DAYS: i64 = 29;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderKind {
    Approaching { days_left: i64 },
    DueToday,
    Overdue { days_late: i64 },
}

impl ReminderKind {
    /// The word in dedup keys.
    pub fn code(self) -> &'static str {
        match self {
            ReminderKind::Approaching { .. } => "approaching",
            ReminderKind::DueToday => "due",
            ReminderKind::Overdue { .. } => "overdue",
        }
    }
}

/// The reminder (if any) `m` calls for on `today` (a Beijing date).
pub fn plan_reminders(m: &Milestone, today: NaiveDate) -> Option<ReminderKind> {
    let days_left = (m.due_on - today).num_days();
    if days_left == 0 {
        return Some(ReminderKind::DueToday);
    }
    if days_left > 0 {
        return m.remind_days_before.contains(&days_left).then_some(ReminderKind::Approaching { days_left });
    }
    let days_late = -days_left;
    // The first day late, then once a week.
    (days_late <= OVERDUE_FOR_DAYS && days_late % 7 == 1).then_some(ReminderKind::Overdue { days_late })
}

/// Whether a milestone's progress is worth recomputing on `today`: from a week before
/// its window opens (a month before the due day when it has no start) until overdue
/// reminders stop. Outside it nobody is reminded of it, so its snapshot may rest.
pub fn in_window(m: &Milestone, today: NaiveDate) -> bool {
    let opens = m.starts_on.unwrap_or(m.due_on - chrono::Duration::days(30)) - chrono::Duration::days(7);
    opens <= today && today <= m.due_on + chrono::Duration::days(OVERDUE_FOR_DAYS)
}

/// A reminder's reach: a township and its villages short of the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub kind: ReminderKind,
    /// The township (or the campaign's region when it has no townships below it).
    pub region_code: String,
    pub region_name: String,
    /// Where an overdue lag escalates: the region one level above `region_code`.
    pub escalate_to: Option<String>,
    /// (code, name) of the villages short of the target.
    pub lagging_villages: Vec<(String, String)>,
    /// The township's share, per mille.
    pub share_permille: i32,
}

/// Groups the villages short of the target by township: one reminder per township with
/// at least one such village. Overdue ones carry the region one level up from the
/// township as where they escalate.
pub fn plan_reach(kind: ReminderKind, lines: &[RegionProgress]) -> Vec<Reminder> {
    let mut by_parent: BTreeMap<&str, Vec<&RegionProgress>> = BTreeMap::new();
    for v in lines.iter().filter(|l| l.level == "village" && l.total > 0 && !l.reached) {
        if let Some(parent) = v.parent_code.as_deref() {
            by_parent.entry(parent).or_default().push(v);
        }
    }
    let mut out = Vec::new();
    for (parent, villages) in by_parent {
        let Some(township) = lines.iter().find(|l| l.region_code == parent) else { continue };
        out.push(Reminder {
            kind,
            region_code: township.region_code.clone(),
            region_name: township.name.clone(),
            escalate_to: matches!(kind, ReminderKind::Overdue { .. }).then(|| township.parent_code.clone()).flatten(),
            lagging_villages: villages.iter().map(|v| (v.region_code.clone(), v.name.clone())).collect(),
            share_permille: township.share_permille,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        crate::campaigns::parse_date(s).expect("date")
    }

    fn milestone(due: &str) -> Milestone {
        Milestone {
            id: "m".into(),
            campaign_id: "c".into(),
            position: 1,
            name: "数据录入和系统操作".into(),
            starts_on: None,
            due_on: date(due),
            measure: "households_visited".into(),
            target_percent: 100,
            remind_days_before: vec![3, 1],
        }
    }

    #[test]
    fn three_and_one_days_before_on_the_day_and_overdue_weekly() {
        let m = milestone("2026-11-28");
        let on = |d: &str| plan_reminders(&m, date(d));
        assert_eq!(on("2026-11-24"), None);
        assert_eq!(on("2026-11-25"), Some(ReminderKind::Approaching { days_left: 3 }));
        assert_eq!(on("2026-11-26"), None);
        assert_eq!(on("2026-11-27"), Some(ReminderKind::Approaching { days_left: 1 }));
        assert_eq!(on("2026-11-28"), Some(ReminderKind::DueToday));
        assert_eq!(on("2026-11-29"), Some(ReminderKind::Overdue { days_late: 1 }));
        assert_eq!(on("2026-11-30"), None);
        assert_eq!(on("2026-12-06"), Some(ReminderKind::Overdue { days_late: 8 }));
        assert_eq!(on("2026-12-27"), Some(ReminderKind::Overdue { days_late: 29 }));
        assert_eq!(on("2027-01-03"), None);
        let custom = Milestone { remind_days_before: vec![7], ..milestone("2026-11-28") };
        assert_eq!(plan_reminders(&custom, date("2026-11-21")), Some(ReminderKind::Approaching { days_left: 7 }));
        assert_eq!(plan_reminders(&custom, date("2026-11-25")), None);
    }

    #[test]
    fn progress_is_recomputed_from_a_week_before_the_window_until_reminders_stop() {
        let m = Milestone { starts_on: Some(date("2026-10-10")), ..milestone("2026-11-10") };
        assert!(!in_window(&m, date("2026-10-02")));
        assert!(in_window(&m, date("2026-10-03")));
        assert!(in_window(&m, date("2026-12-09")));
        assert!(!in_window(&m, date("2026-12-10")));
        let undated = milestone("2026-11-28");
        assert!(!in_window(&undated, date("2026-10-21")));
        assert!(in_window(&undated, date("2026-10-22")));
    }

    fn line(code: &str, level: &str, parent: &str, done: i64, total: i64) -> RegionProgress {
        crate::campaigns::progress::line(
            &crate::campaigns::progress::RegionInfo {
                code: code.into(),
                name: format!("{code}名"),
                level: level.into(),
                parent_code: Some(parent.into()),
            },
            done,
            total,
            1000,
            1000,
        )
    }

    #[test]
    fn an_overdue_township_escalates_one_level_up_naming_its_lagging_villages() {
        let lines = vec![
            line("320703000000", "county", "320700000000", 3, 6),
            line("320703001000", "township", "320703000000", 3, 6),
            line("320703001001", "village", "320703001000", 2, 2),
            line("320703001002", "village", "320703001000", 1, 4),
            line("320703002000", "township", "320703000000", 1, 1),
            line("320703002001", "village", "320703002000", 1, 1),
            line("320703002002", "village", "320703002000", 0, 0),
        ];
        let overdue = plan_reach(ReminderKind::Overdue { days_late: 1 }, &lines);
        assert_eq!(overdue.len(), 1, "only the township with a lagging village");
        assert_eq!(overdue[0].region_code, "320703001000");
        // One level up from the township: its county.
        assert_eq!(overdue[0].escalate_to.as_deref(), Some("320703000000"));
        assert_eq!(overdue[0].lagging_villages, vec![("320703001002".to_owned(), "320703001002名".to_owned())]);
        assert_eq!(overdue[0].share_permille, 500);
        // Reminders before the day do not escalate.
        let before = plan_reach(ReminderKind::Approaching { days_left: 3 }, &lines);
        assert_eq!(before.len(), 1);
        assert_eq!(before[0].escalate_to, None);
    }
}
