//! A household's past, read back from its completed cases.
//!
//! A household's status changes only when a case completes (C4), so the completed
//! cases in order are its status history: the status at any moment is the one the
//! last case before it left. Membership is read back the same way: each completed
//! member change added (increase reason) or took away (decrease reason) one member,
//! so the members at a moment are today's active members less the additions after it
//! plus the departures after it. Members recorded without a case (the household's
//! first registration, corrections) count as present throughout.
//!
//! Pure: no I/O. What it must never do: count a household twice for one moment, or
//! give a negative number of people.

use crate::procedures::CaseKind;
use chrono::{DateTime, Utc};
use jingzhun_mobile_api::codes::{MEMBER_DECREASE_REASON, MEMBER_INCREASE_REASON};

/// The statuses of a household whose people are 贫困人口 (registered and not exited).
pub fn is_poor(status: &str) -> bool {
    matches!(status, "registered" | "pre_exit")
}

/// One completed case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEvent {
    pub kind: CaseKind,
    /// Removal reason, relapse cause, or member increase/decrease reason.
    pub reason: Option<String>,
    pub closed_at: DateTime<Utc>,
}

impl CaseEvent {
    /// +1 for a member who joined, −1 for one who left, 0 for anything else.
    pub fn member_delta(&self) -> i64 {
        if self.kind != CaseKind::MemberChange {
            // A removal on 002 §二(二)9 takes one person off, as a decrease does.
            return if self.kind.removes_member(self.reason.as_deref()) { -1 } else { 0 };
        }
        match self.reason.as_deref() {
            Some(r) if MEMBER_INCREASE_REASON.contains(r) => 1,
            Some(r) if MEMBER_DECREASE_REASON.contains(r) => -1,
            _ => 0,
        }
    }
}

/// The 两不愁三保障 of a household as recorded now; `None` is "not recorded".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Guarantees {
    pub food_clothing: Option<bool>,
    pub education: Option<bool>,
    pub medical: Option<bool>,
    pub housing: Option<bool>,
    pub water: Option<bool>,
}

impl Guarantees {
    /// 三保障 (compulsory education, basic medical care, safe housing) all recorded as met.
    /// Unknown counts as unmet, as in the exit check.
    pub fn three_secured(&self) -> bool {
        [self.education, self.medical, self.housing].iter().all(|g| *g == Some(true))
    }

    /// 两不愁三保障 including safe drinking water (000 附件4) all recorded as met.
    pub fn all_secured(&self) -> bool {
        self.three_secured() && self.food_clothing == Some(true) && self.water == Some(true)
    }
}

/// What the reports know about one household.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HouseholdFacts {
    pub id: String,
    /// The village's 12-digit code.
    pub region_code: String,
    /// The status now.
    pub status: String,
    /// 贫困户属性 now: general, dibao, wubao.
    pub kind: String,
    pub guarantees: Guarantees,
    /// Active members now.
    pub active_members: i64,
    /// An active member is disabled (健康状况 残疾, or holds a disability card).
    pub disabled_member: bool,
    /// An active member works outside the county (务工区域 县外省内 or 省外).
    pub migrant_worker: bool,
    /// A help measure of the relocation category (易地扶贫搬迁).
    pub relocation_measure: bool,
    /// A help measure of the social-security category (社会保障兜底).
    pub social_security_measure: bool,
    /// The 000 §四(一) review cases its facts show as recorded now (`REVIEW_FLAG` codes).
    pub review_flags: Vec<&'static str>,
    /// The year it left poverty before the system, as the register import stored it.
    pub exit_year: Option<i64>,
    /// Completed cases, oldest first.
    pub cases: Vec<CaseEvent>,
}

/// The status a household had before its first status-changing case, read from what
/// that case may be opened for (`CaseKind::applies_to`). A removal may be opened for a
/// registered or an exited household: registered is assumed, which only matters for a
/// household whose earlier status was set outside the procedures (bulk loading).
fn status_before_first(kind: CaseKind) -> &'static str {
    match kind {
        CaseKind::Identify => "applicant",
        CaseKind::Relapse | CaseKind::ExitReversal => "exited",
        CaseKind::Exit | CaseKind::Remove | CaseKind::MemberChange => "registered",
    }
}

impl HouseholdFacts {
    /// How many cases closed before `at`.
    pub fn cases_before(&self, at: DateTime<Utc>) -> usize {
        self.cases.partition_point(|c| c.closed_at < at)
    }

    /// The status once the first `n` cases had completed.
    pub fn status_after(&self, n: usize) -> &str {
        let n = n.min(self.cases.len());
        if let Some(status) =
            self.cases[..n].iter().rev().find_map(|c| c.kind.completed_status_for(c.reason.as_deref()))
        {
            return status;
        }
        match self.cases[n..].iter().find(|c| c.kind.completed_status_for(c.reason.as_deref()).is_some()) {
            Some(first) => status_before_first(first.kind),
            None => &self.status,
        }
    }

    /// The status at a moment.
    pub fn status_at(&self, at: DateTime<Utc>) -> &str {
        self.status_after(self.cases_before(at))
    }

    /// Members once the first `n` cases had completed.
    pub fn members_after(&self, n: usize) -> i64 {
        let n = n.min(self.cases.len());
        let later: i64 = self.cases[n..].iter().map(CaseEvent::member_delta).sum();
        (self.active_members - later).max(0)
    }

    /// Members at a moment.
    pub fn members_at(&self, at: DateTime<Utc>) -> i64 {
        self.members_after(self.cases_before(at))
    }

    /// 贫困人口 of this household at a moment: its members if it was poor then, else 0.
    pub fn poor_people_at(&self, at: DateTime<Utc>) -> i64 {
        let n = self.cases_before(at);
        if is_poor(self.status_after(n)) { self.members_after(n) } else { 0 }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 4, 0, 0).single().expect("date")
    }

    pub fn event(kind: CaseKind, reason: Option<&str>, day: u32) -> CaseEvent {
        CaseEvent { kind, reason: reason.map(str::to_owned), closed_at: at(day) }
    }

    #[test]
    fn status_is_read_back_from_the_completed_cases() {
        let h = HouseholdFacts {
            status: "removed".into(),
            active_members: 3,
            cases: vec![
                event(CaseKind::Identify, None, 2),
                event(CaseKind::Exit, None, 5),
                event(CaseKind::Relapse, Some("illness"), 8),
                event(CaseKind::Remove, Some("vehicle"), 12),
            ],
            ..Default::default()
        };
        assert_eq!(h.status_at(at(1)), "applicant");
        assert_eq!(h.status_at(at(3)), "registered");
        assert_eq!(h.status_at(at(6)), "exited");
        assert_eq!(h.status_at(at(9)), "registered");
        assert_eq!(h.status_at(at(20)), "removed");
        // A case closing exactly at the moment has not happened yet.
        assert_eq!(h.status_at(at(2)), "applicant");
    }

    #[test]
    fn a_household_without_cases_keeps_its_status() {
        let h = HouseholdFacts { status: "registered".into(), active_members: 4, ..Default::default() };
        assert_eq!(h.status_at(at(1)), "registered");
        assert_eq!(h.poor_people_at(at(1)), 4);
    }

    #[test]
    fn members_are_read_back_from_member_changes() {
        let h = HouseholdFacts {
            status: "registered".into(),
            // Now: 3 = 3 before, + newborn, − death.
            active_members: 3,
            cases: vec![
                event(CaseKind::MemberChange, Some("newborn"), 4),
                event(CaseKind::MemberChange, Some("death"), 6),
                event(CaseKind::MemberChange, Some("unknown"), 7),
            ],
            ..Default::default()
        };
        assert_eq!(h.members_at(at(1)), 3);
        assert_eq!(h.members_at(at(5)), 4);
        assert_eq!(h.members_at(at(10)), 3);
        // Never negative, whatever the records say.
        let odd =
            HouseholdFacts { active_members: 0, cases: vec![event(CaseKind::MemberChange, Some("newborn"), 4)], ..h };
        assert_eq!(odd.members_at(at(1)), 0);
    }

    #[test]
    fn a_reason_nine_removal_takes_a_person_not_the_household() {
        let h = HouseholdFacts {
            status: "registered".into(),
            active_members: 2,
            cases: vec![
                event(CaseKind::Identify, None, 2),
                event(CaseKind::Remove, Some("dead_missing_or_separate"), 6),
            ],
            ..Default::default()
        };
        assert_eq!(h.status_at(at(10)), "registered");
        assert_eq!(h.members_at(at(4)), 3);
        assert_eq!(h.members_at(at(10)), 2);
    }

    #[test]
    fn guarantees_count_unknown_as_unmet() {
        let mut g =
            Guarantees { education: Some(true), medical: Some(true), housing: Some(true), ..Default::default() };
        assert!(g.three_secured());
        assert!(!g.all_secured());
        g.food_clothing = Some(true);
        g.water = Some(true);
        assert!(g.all_secured());
        g.housing = None;
        assert!(!g.three_secured());
    }
}
