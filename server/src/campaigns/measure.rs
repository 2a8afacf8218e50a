//! What a milestone measures, as a stable code stored with it.

use crate::procedures::steps::Step;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    /// Share of the households in scope (neither removed nor rejected) with a visit log
    /// dated inside the milestone's window.
    HouseholdsVisited,
    /// Share of this year's cases (rejected ones aside) that are completed or stand at
    /// a step after this one.
    CasesPastStep(Step),
    /// Share of the households in scope without an R8 data-quality problem.
    QualityProblemsLeft,
    /// Share of registered (and pre-exit) households with a help plan for the year.
    HelpPlansEntered,
}

impl Measure {
    pub fn parse(code: &str) -> Option<Measure> {
        match code {
            "households_visited" => Some(Measure::HouseholdsVisited),
            "quality_problems_left" => Some(Measure::QualityProblemsLeft),
            "help_plans_entered" => Some(Measure::HelpPlansEntered),
            _ => code.strip_prefix("cases_past_step:").and_then(Step::parse).map(Measure::CasesPastStep),
        }
    }

    pub fn code(&self) -> String {
        match self {
            Measure::HouseholdsVisited => "households_visited".into(),
            Measure::CasesPastStep(step) => format!("cases_past_step:{}", step.code()),
            Measure::QualityProblemsLeft => "quality_problems_left".into(),
            Measure::HelpPlansEntered => "help_plans_entered".into(),
        }
    }

    /// In Chinese, for reminders.
    pub fn label_zh(&self) -> String {
        match self {
            Measure::HouseholdsVisited => "入户走访".into(),
            Measure::CasesPastStep(step) => format!("程序过“{}”环节", step.code()),
            Measure::QualityProblemsLeft => "数据质量问题清零".into(),
            Measure::HelpPlansEntered => "帮扶计划录入".into(),
        }
    }
}

/// Step codes in the order cases move through them (every kind follows this order,
/// skipping the steps it has not).
pub const STEP_ORDER: [&str; 9] = [
    "application",
    "home_verification",
    "comparison",
    "village_assessment",
    "village_notice",
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

    #[test]
    fn codes_round_trip() {
        for code in
            ["households_visited", "cases_past_step:village_notice", "quality_problems_left", "help_plans_entered"]
        {
            assert_eq!(Measure::parse(code).map(|m| m.code()), Some(code.to_owned()));
        }
        assert_eq!(Measure::parse("cases_past_step:nowhere"), None);
        assert_eq!(Measure::parse("visits"), None);
        for code in STEP_ORDER {
            assert!(Step::parse(code).is_some(), "{code}");
        }
    }
}
