//! What a milestone measures, as a stable code stored with it, and its Chinese label.
//! Each measure is a share of households or cases in a village, so a lag can be named
//! where it is; `super::progress` counts them.
//!
//! What this module must never do: read the database. Codes once stored are never
//! renamed or given another meaning (milestones in the database carry them).

use crate::procedures::steps::Step;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    /// Share of the households in scope (neither removed nor rejected) with a visit log
    /// dated inside the milestone's window.
    HouseholdsVisited,
    /// Share of this year's cases (rejected ones aside) that are completed or stand at
    /// a step after this one.
    CasesPastStep(Step),
    /// Share of this year's cases, of every kind, whose procedure has run to its end:
    /// completed, or rejected (a refused identification is a finished procedure too).
    /// 004 §二(二) asks by 11/10 that the procedures of 脱贫退出、新识别和返贫纳入 be
    /// done, not merely under way.
    CasesCompleted,
    /// Share of the households in scope whose collection is in: visited this campaign
    /// year (by the due day) and with no case still open. What a township can summarise
    /// and enter into the national system (004 §二(三)); the paper report and the entry
    /// itself happen outside this system.
    HouseholdsCollected,
    /// Share of the households in scope without an R8 data-quality problem.
    QualityProblemsLeft,
    /// Share of the households in scope with no missing item (an empty required field,
    /// a member without an ID number, no head): 查漏补缺 (004 §二(三)), the omissions a
    /// record cannot be entered with.
    HouseholdsComplete,
    /// Share of registered (and pre-exit) households with a help plan for the year.
    HelpPlansEntered,
}

impl Measure {
    pub fn parse(code: &str) -> Option<Measure> {
        match code {
            "households_visited" => Some(Measure::HouseholdsVisited),
            "cases_completed" => Some(Measure::CasesCompleted),
            "households_collected" => Some(Measure::HouseholdsCollected),
            "quality_problems_left" => Some(Measure::QualityProblemsLeft),
            "households_complete" => Some(Measure::HouseholdsComplete),
            "help_plans_entered" => Some(Measure::HelpPlansEntered),
            _ => code.strip_prefix("cases_past_step:").and_then(Step::parse).map(Measure::CasesPastStep),
        }
    }

    pub fn code(&self) -> String {
        match self {
            Measure::HouseholdsVisited => "households_visited".into(),
            Measure::CasesPastStep(step) => format!("cases_past_step:{}", step.code()),
            Measure::CasesCompleted => "cases_completed".into(),
            Measure::HouseholdsCollected => "households_collected".into(),
            Measure::QualityProblemsLeft => "quality_problems_left".into(),
            Measure::HouseholdsComplete => "households_complete".into(),
            Measure::HelpPlansEntered => "help_plans_entered".into(),
        }
    }

    /// In Chinese, for reminders.
    pub fn label_zh(&self) -> String {
        match self {
            Measure::HouseholdsVisited => "入户走访".into(),
            Measure::CasesPastStep(step) => format!("程序过“{}”环节", step.code()),
            Measure::CasesCompleted => "本年度程序办结".into(),
            Measure::HouseholdsCollected => "已入户采集且无未办结程序".into(),
            Measure::QualityProblemsLeft => "数据质量问题清零".into(),
            Measure::HouseholdsComplete => "无漏项（必填项、身份证号码、户主）".into(),
            Measure::HelpPlansEntered => "帮扶计划录入".into(),
        }
    }
}

/// The R8 problem codes that are omissions rather than errors: what 查漏补缺 fills.
pub const MISSING_ITEMS: [&str; 3] = ["field_empty", "id_number_missing", "head_missing"];

/// Step codes in the order cases move through them (every kind follows this order,
/// skipping the steps it has not).
pub const STEP_ORDER: [&str; 10] = [
    "application",
    "home_verification",
    "comparison",
    "village_assessment",
    "village_notice",
    "village_resolution",
    "township_review",
    "township_notice",
    "county_review",
    "announcement",
];

pub fn step_rank(code: &str) -> Option<usize> {
    STEP_ORDER.iter().position(|s| *s == code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::quality::ProblemCode;

    #[test]
    fn codes_round_trip() {
        for code in [
            "households_visited",
            "cases_past_step:village_notice",
            "cases_completed",
            "households_collected",
            "quality_problems_left",
            "households_complete",
            "help_plans_entered",
        ] {
            assert_eq!(Measure::parse(code).map(|m| m.code()), Some(code.to_owned()));
        }
        assert_eq!(Measure::parse("cases_past_step:nowhere"), None);
        assert_eq!(Measure::parse("visits"), None);
        for code in STEP_ORDER {
            assert!(Step::parse(code).is_some(), "{code}");
        }
    }

    #[test]
    fn missing_items_are_problem_codes_the_quality_check_gives() {
        let known: Vec<String> = ProblemCode::ALL.iter().map(|c| c.code().to_owned()).collect();
        for code in MISSING_ITEMS {
            assert!(known.iter().any(|k| k == code), "{code}");
        }
    }
}
