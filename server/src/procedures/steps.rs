//! The steps of each kind of case and who signs them (000 §六, 002 §三(五)–(七),
//! 003 §一(一), 004 §二): 农户申请 → 入户核实 → 比对 → 民主评议 → 村级公示 →
//! 村民代表会决议 → 乡镇审核 → 乡镇公示 → 县级复审 → 公告, and who answers the
//! objections to each notice. What this module must never do: touch the database.

use crate::auth::Role;

/// 002 §二(二)9 "死亡人员、失踪人员、与户主不共享开支或收入的人员": the removal reason
/// that names persons, so its case names the member (`member_id`) and removes only them.
pub const MEMBER_REMOVAL_REASON: &str = "dead_missing_or_separate";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseKind {
    Identify,
    Relapse,
    Exit,
    Remove,
    ExitReversal,
    MemberChange,
}

impl CaseKind {
    pub const ALL: [CaseKind; 6] = [
        CaseKind::Identify,
        CaseKind::Relapse,
        CaseKind::Exit,
        CaseKind::Remove,
        CaseKind::ExitReversal,
        CaseKind::MemberChange,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CaseKind::Identify => "identify",
            CaseKind::Relapse => "relapse",
            CaseKind::Exit => "exit",
            CaseKind::Remove => "remove",
            CaseKind::ExitReversal => "exit_reversal",
            CaseKind::MemberChange => "member_change",
        }
    }

    pub fn parse(code: &str) -> Option<CaseKind> {
        CaseKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The steps in order.
    pub fn steps(self) -> &'static [Step] {
        use Step::*;
        match self {
            // Identification, relapse, removal and reversal run the full "两公示一比对一公告";
            // they are 002's 纳入, 剔除 and 重新纳入, whose village notice is followed by
            // "没有举报，提交村民代表会作出决议，上报街道审定" (002 §三(七)). A relapse is a
            // household taken back into the register like a 重新纳入, by the same 逐级审定.
            CaseKind::Identify | CaseKind::Relapse | CaseKind::Remove | CaseKind::ExitReversal => &[
                Application,
                HomeVerification,
                Comparison,
                VillageAssessment,
                VillageNotice,
                VillageResolution,
                TownshipReview,
                TownshipNotice,
                CountyReview,
                Announcement,
            ],
            // 003 §一(一): 民主评议、核实认可、乡镇审核、公示公告; no department comparison,
            // and no 村民代表会决议: 003 does not ask for one.
            CaseKind::Exit => &[
                Application,
                HomeVerification,
                VillageAssessment,
                VillageNotice,
                TownshipReview,
                TownshipNotice,
                CountyReview,
                Announcement,
            ],
            // 004: the village team records the change, the township checks, the county enters it.
            CaseKind::MemberChange => &[Application, HomeVerification, TownshipReview, CountyReview],
        }
    }

    /// The code tables a case's `reason` must come from; empty: the kind takes no reason.
    pub fn reason_tables(self) -> Vec<&'static jingzhun_mobile_api::codes::CodeTable> {
        use jingzhun_mobile_api::codes::{
            MEMBER_DECREASE_REASON, MEMBER_INCREASE_REASON, RELAPSE_CAUSE, REMOVAL_REASON,
        };
        match self {
            CaseKind::Remove => vec![&REMOVAL_REASON],
            CaseKind::Relapse => vec![&RELAPSE_CAUSE],
            CaseKind::MemberChange => vec![&MEMBER_INCREASE_REASON, &MEMBER_DECREASE_REASON],
            CaseKind::Identify | CaseKind::Exit | CaseKind::ExitReversal => vec![],
        }
    }

    /// The household statuses a case of this kind may be opened for.
    pub fn applies_to(self, status: &str) -> bool {
        match self {
            CaseKind::Identify => matches!(status, "applicant" | "rejected" | "removed"),
            CaseKind::Relapse | CaseKind::ExitReversal => status == "exited",
            CaseKind::Exit => status == "registered",
            CaseKind::Remove => matches!(status, "registered" | "exited"),
            CaseKind::MemberChange => matches!(status, "registered" | "exited" | "applicant"),
        }
    }

    /// The household status once a case of this kind completes, if it changes.
    pub fn completed_status(self) -> Option<&'static str> {
        match self {
            CaseKind::Identify | CaseKind::Relapse | CaseKind::ExitReversal => Some("registered"),
            CaseKind::Exit => Some("exited"),
            CaseKind::Remove => Some("removed"),
            CaseKind::MemberChange => None,
        }
    }

    /// The household status once a case of this kind, filed with this reason, completes:
    /// a removal on 002 §二(二)9 takes a person off the register, never the household.
    pub fn completed_status_for(self, reason: Option<&str>) -> Option<&'static str> {
        if self == CaseKind::Remove && reason == Some(MEMBER_REMOVAL_REASON) { None } else { self.completed_status() }
    }

    /// Whether completing this case takes its named member off the household: a member
    /// change on a decrease reason (004 附件4), or a removal on 002 §二(二)9.
    pub fn removes_member(self, reason: Option<&str>) -> bool {
        match self {
            CaseKind::MemberChange => {
                reason.is_some_and(|r| jingzhun_mobile_api::codes::MEMBER_DECREASE_REASON.contains(r))
            }
            CaseKind::Remove => reason == Some(MEMBER_REMOVAL_REASON),
            _ => false,
        }
    }

    /// The status a rejected identification leaves; other kinds leave the household as it was.
    pub fn rejected_status(self) -> Option<&'static str> {
        match self {
            CaseKind::Identify => Some("rejected"),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Application,
    HomeVerification,
    Comparison,
    VillageAssessment,
    VillageNotice,
    /// 村民代表会决议 (002 §三(七)): after the village notice, the village team records
    /// the representatives' meeting (day, members, present, agreeing) for the notice's
    /// list; approving passes only through that record (`notices::resolution`).
    VillageResolution,
    TownshipReview,
    TownshipNotice,
    CountyReview,
    Announcement,
}

impl Step {
    const ALL: [Step; 10] = [
        Step::Application,
        Step::HomeVerification,
        Step::Comparison,
        Step::VillageAssessment,
        Step::VillageNotice,
        Step::VillageResolution,
        Step::TownshipReview,
        Step::TownshipNotice,
        Step::CountyReview,
        Step::Announcement,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Step::Application => "application",
            Step::HomeVerification => "home_verification",
            Step::Comparison => "comparison",
            Step::VillageAssessment => "village_assessment",
            Step::VillageNotice => "village_notice",
            Step::VillageResolution => "village_resolution",
            Step::TownshipReview => "township_review",
            Step::TownshipNotice => "township_notice",
            Step::CountyReview => "county_review",
            Step::Announcement => "announcement",
        }
    }

    pub fn parse(code: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Steps passed by publishing a notice for a period (公示 / 公告), not by a sign-off.
    pub fn is_notice(self) -> bool {
        matches!(self, Step::VillageNotice | Step::TownshipNotice | Step::Announcement)
    }

    /// The roles that may sign this step (over the household's region; officers only
    /// for households assigned to them).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Step::Application | Step::HomeVerification => &[Role::Officer, Role::Village],
            Step::Comparison => &[Role::Township, Role::County],
            Step::VillageAssessment | Step::VillageNotice | Step::VillageResolution => &[Role::Village],
            Step::TownshipReview | Step::TownshipNotice => &[Role::Township],
            Step::CountyReview | Step::Announcement => &[Role::County],
        }
    }

    /// Who investigates and answers the objections to a notice of this step (002 §三(七)):
    /// a village notice's by the 动态管理工作核查组 ("若有举报，由动态管理工作核查组组织调查
    /// 核实"), never by the village team whose list it is; a township notice's by the
    /// township ("若有举报，由街道组织核实"); the announcement's by the county.
    pub fn objections_answered_by(self) -> Role {
        match self {
            Step::VillageNotice => Role::Verifier,
            Step::TownshipNotice => Role::Township,
            _ => Role::County,
        }
    }
}

/// Levels of government, for freezing: a case signed at a level is closed to the levels below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Officer,
    Village,
    Township,
    County,
}

impl Level {
    pub fn of(role: Role) -> Option<Level> {
        match role {
            Role::Officer => Some(Level::Officer),
            Role::Village => Some(Level::Village),
            Role::Township => Some(Level::Township),
            Role::County | Role::Admin => Some(Level::County),
            Role::Supervisor | Role::Verifier => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Level::Officer => "officer",
            Level::Village => "village",
            Level::Township => "township",
            Level::County => "county",
        }
    }

    pub fn parse(code: &str) -> Option<Level> {
        [Level::Officer, Level::Village, Level::Township, Level::County].into_iter().find(|l| l.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_starts_with_the_application_and_ends_at_the_county() {
        for kind in CaseKind::ALL {
            let steps = kind.steps();
            assert_eq!(steps[0], Step::Application, "{kind:?}");
            assert_eq!(
                steps.last().copied(),
                Some(if kind == CaseKind::MemberChange { Step::CountyReview } else { Step::Announcement })
            );
        }
    }

    #[test]
    fn notices_follow_their_level_review_in_order() {
        let steps = CaseKind::Identify.steps();
        let at = |s| steps.iter().position(|x| *x == s).expect("present");
        assert!(at(Step::VillageAssessment) < at(Step::VillageNotice));
        assert!(at(Step::VillageNotice) < at(Step::VillageResolution), "公示 then 村民代表会决议 (002 §三(七))");
        assert!(at(Step::VillageResolution) < at(Step::TownshipReview), "决议 then 上报街道审定");
        assert!(!CaseKind::Exit.steps().contains(&Step::VillageResolution), "003 asks for no 决议");
        assert_eq!(Step::VillageNotice.objections_answered_by(), Role::Verifier);
        assert_eq!(Step::TownshipNotice.objections_answered_by(), Role::Township);
        assert!(at(Step::TownshipReview) < at(Step::TownshipNotice));
        assert!(at(Step::TownshipNotice) < at(Step::CountyReview));
        assert!(at(Step::Comparison) < at(Step::VillageAssessment), "比对 before 评议 (000 §四(三))");
    }

    #[test]
    fn reason_nine_removes_a_person_and_other_removals_the_household() {
        let nine = Some(MEMBER_REMOVAL_REASON);
        assert_eq!(CaseKind::Remove.completed_status_for(nine), None);
        assert!(CaseKind::Remove.removes_member(nine));
        assert_eq!(CaseKind::Remove.completed_status_for(Some("vehicle")), Some("removed"));
        assert!(!CaseKind::Remove.removes_member(Some("vehicle")));
        assert!(CaseKind::MemberChange.removes_member(Some("death")));
        assert!(!CaseKind::MemberChange.removes_member(Some("newborn")));
        assert!(jingzhun_mobile_api::codes::REMOVAL_REASON.contains(MEMBER_REMOVAL_REASON));
    }

    #[test]
    fn codes_match_the_phone_code_tables() {
        for kind in CaseKind::ALL {
            assert!(jingzhun_mobile_api::codes::CASE_KIND.contains(kind.code()));
        }
        for step in Step::ALL {
            assert!(jingzhun_mobile_api::codes::CASE_STEP.contains(step.code()));
        }
    }
}
