//! R6: the main help measure (主导帮扶措施) of an exited household — which of the six
//! categories of 001 附件2 (2017年度脱贫贫困户主导帮扶措施分类规则) its exit came from.
//!
//! The six tests, as 附件2 words them, comparing with last year's income:
//! 1. 发展生产脱贫: 生产经营性收入与上一年相比有明显增加，并成为家庭主要收入且无易地扶贫
//!    搬迁项目.
//! 2. 促进就业脱贫: 工资性收入（从事生态保护公益性岗位获得的收入除外）与上一年相比有明显
//!    增加，成为家庭主要收入，且无易地扶贫搬迁项目.
//! 3. 易地扶贫搬迁脱贫: 有易地扶贫搬迁项目，且低保金与五保金之和小于其它收入之和.
//! 4. 发展教育脱贫: 主要致贫原因为“因学”，且 (1) 教育支出减少 或 (2) 受教育人的工资性收入
//!    或生产经营性收入有明显增加，并成为家庭主要收入.
//! 5. 生态补偿脱贫: 从事生态保护公益性岗位收入和生态补偿金收入为家庭主要收入.
//! 6. 社会保障兜底脱贫: 列为低保户或五保户，低保金、五保金等转移性收入为家庭主要收入.
//!
//! 附件2 quantifies neither "明显增加" nor "主要收入": both are region data
//! ([`RulePolicy::clear_increase_percent`], [`RulePolicy::main_income`]). "Main" is judged
//! over income streams that do not overlap: wage (without ecological posts), ecological
//! (post wage + compensation), business, property and the other transfers — "低保金、五保金
//! 等转移性收入" read as transfer income other than ecological compensation.
//!
//! What this module must never do: pick a category the officer has not confirmed when
//! several tests pass (001 §三 has the officer tick it: 逐户梳理归类…进行相应勾选); it
//! suggests the first by 序号 and lists the others.

use super::Tri;
use super::error::RuleError;
use super::facts::{HouseholdFacts, IncomeFacts, Kind, PovertyCause, coded};
use super::policy::{MainIncomeReading, RulePolicy};
use serde::Serialize;

coded! {
    /// 001 附件2, in its 序号 order; codes of the `main_measure` code table.
    MainMeasure {
        Industry => "industry", "发展生产脱贫";
        Employment => "employment", "促进就业脱贫";
        Relocation => "relocation", "易地扶贫搬迁脱贫";
        Education => "education", "发展教育脱贫";
        EcologicalCompensation => "ecological_compensation", "生态补偿脱贫";
        SocialSecurity => "social_security", "社会保障兜底脱贫";
    }
}

coded! {
    /// One condition of 附件2's tests.
    Condition {
        BusinessClearlyIncreased => "business_clearly_increased", "生产经营性收入与上一年相比有明显增加";
        BusinessIsMain => "business_is_main", "生产经营性收入成为家庭主要收入";
        NoRelocationProject => "no_relocation_project", "无易地扶贫搬迁项目";
        WageClearlyIncreased => "wage_clearly_increased", "工资性收入（生态公益性岗位除外）与上一年相比有明显增加";
        WageIsMain => "wage_is_main", "工资性收入（生态公益性岗位除外）成为家庭主要收入";
        HasRelocationProject => "has_relocation_project", "有易地扶贫搬迁项目";
        AssistanceBelowOtherIncome => "assistance_below_other_income", "低保金与五保金之和小于其它收入之和";
        MainCauseSchooling => "main_cause_schooling", "主要致贫原因为因学";
        EducationExpenseReduced => "education_expense_reduced", "教育支出减少";
        EducatedEarningsClearlyIncreased => "educated_earnings_clearly_increased", "受教育人的工资性或生产经营性收入明显增加";
        EducatedEarningsIsMain => "educated_earnings_is_main", "受教育人的收入成为家庭主要收入";
        EcologicalIsMain => "ecological_is_main", "生态公益性岗位收入和生态补偿金为家庭主要收入";
        DibaoOrWubaoHousehold => "dibao_or_wubao_household", "列为低保户或五保户";
        SocialTransferIsMain => "social_transfer_is_main", "低保金、五保金等转移性收入为家庭主要收入";
    }
}

/// One category's test: each condition with its answer, and the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryTest {
    pub measure: MainMeasure,
    pub conditions: Vec<(Condition, Tri)>,
    pub matched: Tri,
}

/// The outcome of R6 for one household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeasureClassification {
    /// The suggestion: the first matching category by 序号, if any.
    pub category: Option<MainMeasure>,
    /// Every matching category; more than one means the officer chooses.
    pub matched: Vec<MainMeasure>,
    /// Categories the facts cannot decide (e.g. no last-year income to compare with).
    pub undetermined: Vec<MainMeasure>,
    /// All six tests, in 序号 order.
    pub tests: Vec<CategoryTest>,
}

/// Income split into streams that do not overlap, to judge which is "main".
#[derive(Debug, Clone, Copy)]
struct Streams {
    /// Wage less ecological-post wage.
    wage: i64,
    /// Ecological-post wage plus ecological compensation.
    ecological: i64,
    business: i64,
    property: i64,
    /// Transfer income less ecological compensation (and less the pension where it is not counted).
    social_transfer: i64,
}

impl Streams {
    fn of(income: &IncomeFacts, policy: &RulePolicy) -> Result<Self, RuleError> {
        income.check()?;
        let pension_left_out = if policy.pension_counted { 0 } else { income.pension };
        Ok(Streams {
            wage: income.wage - income.ecological_post_wage,
            ecological: income.ecological_post_wage + income.ecological_compensation,
            business: income.business,
            property: income.property,
            social_transfer: income.transfer - income.ecological_compensation - pension_left_out,
        })
    }

    fn all(&self) -> [i64; 5] {
        [self.wage, self.ecological, self.business, self.property, self.social_transfer]
    }
}

/// Whether `candidate` is the main income among `candidate` and `others` (together the whole).
fn is_main(candidate: i64, others: &[i64], reading: MainIncomeReading) -> bool {
    if candidate <= 0 {
        return false;
    }
    match reading {
        MainIncomeReading::LargestStream => others.iter().all(|o| candidate > *o),
        MainIncomeReading::MoreThanHalf => {
            let rest: i128 = others.iter().map(|o| i128::from(*o)).sum();
            i128::from(candidate) > rest
        }
    }
}

/// 明显增加: more than `percent`% above last year.
fn clearly_increased(this_year: i64, last_year: i64, percent: u32) -> bool {
    i128::from(this_year) * 100 > i128::from(last_year) * (100 + i128::from(percent))
}

/// R6: which of the six categories the household's income change fits.
pub fn classify_main_measure(
    facts: &HouseholdFacts,
    last_year: Option<&IncomeFacts>,
    policy: &RulePolicy,
) -> Result<MeasureClassification, RuleError> {
    let income = &facts.income;
    let now = Streams::of(income, policy)?;
    let before = last_year.map(|l| Streams::of(l, policy)).transpose()?;
    let reading = policy.main_income;
    let pct = policy.clear_increase_percent;
    let increased = |pick: fn(&Streams) -> i64| {
        before.as_ref().map_or(Tri::Unknown, |b| Tri::from_bool(clearly_increased(pick(&now), pick(b), pct)))
    };
    let main_of = |pick: fn(&Streams) -> i64| {
        let all = now.all();
        let candidate = pick(&now);
        // The candidate is one of the five streams; compare it with the other four.
        let mut others: Vec<i64> = all.to_vec();
        if let Some(i) = others.iter().position(|v| *v == candidate) {
            others.remove(i);
        }
        Tri::from_bool(is_main(candidate, &others, reading))
    };
    let relocation = Tri::from_bool(facts.has_relocation_project);

    let industry = vec![
        (Condition::BusinessClearlyIncreased, increased(|s| s.business)),
        (Condition::BusinessIsMain, main_of(|s| s.business)),
        (Condition::NoRelocationProject, !relocation),
    ];
    let employment = vec![
        (Condition::WageClearlyIncreased, increased(|s| s.wage)),
        (Condition::WageIsMain, main_of(|s| s.wage)),
        (Condition::NoRelocationProject, !relocation),
    ];
    let assistance = income.dibao + income.wubao;
    let other_income = income.counted_gross(policy)? - assistance;
    let relocation_test = vec![
        (Condition::HasRelocationProject, relocation),
        (Condition::AssistanceBelowOtherIncome, Tri::from_bool(assistance < other_income)),
    ];

    // Category 4: the educated member's earnings are a part of wage and business.
    let educated_now = income.educated_member_wage + income.educated_member_business;
    let educated_before = last_year.map(|l| l.educated_member_wage + l.educated_member_business);
    let educated_others = [
        (now.wage - income.educated_member_wage).max(0),
        now.ecological,
        now.business - income.educated_member_business,
        now.property,
        now.social_transfer,
    ];
    let cause_schooling = match facts.main_poverty_cause() {
        Some(cause) => Tri::from_bool(cause == PovertyCause::Schooling),
        None => Tri::Unknown,
    };
    let expense_reduced =
        last_year.map_or(Tri::Unknown, |l| Tri::from_bool(income.education_expense < l.education_expense));
    let educated_increased =
        educated_before.map_or(Tri::Unknown, |b| Tri::from_bool(clearly_increased(educated_now, b, pct)));
    let educated_main = Tri::from_bool(is_main(educated_now, &educated_others, reading));
    let education = vec![
        (Condition::MainCauseSchooling, cause_schooling),
        (Condition::EducationExpenseReduced, expense_reduced),
        (Condition::EducatedEarningsClearlyIncreased, educated_increased),
        (Condition::EducatedEarningsIsMain, educated_main),
    ];
    let education_matched = cause_schooling.and(expense_reduced.or(educated_increased.and(educated_main)));

    let ecological = vec![(Condition::EcologicalIsMain, main_of(|s| s.ecological))];
    let dibao_or_wubao = facts.kind.map_or(Tri::Unknown, |k| Tri::from_bool(matches!(k, Kind::Dibao | Kind::Wubao)));
    let social_security = vec![
        (Condition::DibaoOrWubaoHousehold, dibao_or_wubao),
        (Condition::SocialTransferIsMain, main_of(|s| s.social_transfer)),
    ];

    let all_of = |conditions: &[(Condition, Tri)]| Tri::all(conditions.iter().map(|(_, t)| *t));
    let tests = vec![
        CategoryTest { measure: MainMeasure::Industry, matched: all_of(&industry), conditions: industry },
        CategoryTest { measure: MainMeasure::Employment, matched: all_of(&employment), conditions: employment },
        CategoryTest {
            measure: MainMeasure::Relocation,
            matched: all_of(&relocation_test),
            conditions: relocation_test,
        },
        CategoryTest { measure: MainMeasure::Education, matched: education_matched, conditions: education },
        CategoryTest {
            measure: MainMeasure::EcologicalCompensation,
            matched: all_of(&ecological),
            conditions: ecological,
        },
        CategoryTest {
            measure: MainMeasure::SocialSecurity,
            matched: all_of(&social_security),
            conditions: social_security,
        },
    ];
    let matched: Vec<MainMeasure> = tests.iter().filter(|t| t.matched == Tri::Yes).map(|t| t.measure).collect();
    let undetermined = tests.iter().filter(|t| t.matched == Tri::Unknown).map(|t| t.measure).collect();
    Ok(MeasureClassification { category: matched.first().copied(), matched, undetermined, tests })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jingzhun_mobile_api::codes;

    const YUAN: i64 = 100;

    fn household(kind: Kind, income: IncomeFacts) -> HouseholdFacts {
        HouseholdFacts { kind: Some(kind), resident_members: 3, income, ..Default::default() }
    }

    fn classify(facts: &HouseholdFacts, last: &IncomeFacts) -> MeasureClassification {
        classify_main_measure(facts, Some(last), &RulePolicy::baseline()).expect("classified")
    }

    #[test]
    fn the_categories_are_the_phones() {
        let ours: Vec<_> = MainMeasure::ALL.iter().map(|m| (m.code(), m.label())).collect();
        let theirs: Vec<_> = codes::MAIN_MEASURE.codes.iter().map(|c| (c.code, c.label)).collect();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn each_category_of_001_annex_2() {
        let last =
            IncomeFacts { wage: 3_000 * YUAN, business: 3_000 * YUAN, transfer: 1_000 * YUAN, ..Default::default() };
        let general = |income| household(Kind::General, income);
        let table = [
            (
                "1 industry: business up and main, no relocation",
                general(IncomeFacts { business: 9_000 * YUAN, ..last }),
                MainMeasure::Industry,
            ),
            (
                "2 employment: wage up and main, no relocation",
                general(IncomeFacts { wage: 9_000 * YUAN, ..last }),
                MainMeasure::Employment,
            ),
            (
                "3 relocation: project, dibao + wubao below the rest",
                HouseholdFacts {
                    has_relocation_project: true,
                    ..household(Kind::Dibao, IncomeFacts { transfer: 2_000 * YUAN, dibao: 2_000 * YUAN, ..last })
                },
                MainMeasure::Relocation,
            ),
            (
                "4 education: 因学 and education spending down",
                HouseholdFacts {
                    poverty_causes: vec![PovertyCause::Schooling, PovertyCause::LackOfFunds],
                    ..general(IncomeFacts { education_expense: 1_000 * YUAN, ..last })
                },
                MainMeasure::Education,
            ),
            (
                "5 ecological: post wage + compensation is main",
                general(IncomeFacts {
                    wage: 6_000 * YUAN,
                    ecological_post_wage: 5_000 * YUAN,
                    transfer: 3_000 * YUAN,
                    ecological_compensation: 2_000 * YUAN,
                    ..last
                }),
                MainMeasure::EcologicalCompensation,
            ),
            (
                "6 social security: wubao household living on its transfers",
                household(
                    Kind::Wubao,
                    IncomeFacts { wage: 0, business: 500 * YUAN, transfer: 6_000 * YUAN, wubao: 5_000 * YUAN, ..last },
                ),
                MainMeasure::SocialSecurity,
            ),
        ];
        let last_with_school = IncomeFacts { education_expense: 4_000 * YUAN, ..last };
        for (case, facts, expected) in table {
            let r = classify(&facts, &last_with_school);
            assert_eq!(r.category, Some(expected), "{case}: {:?}", r.matched);
        }
    }

    #[test]
    fn the_conditions_say_why_not() {
        let last = IncomeFacts { wage: 3_000 * YUAN, business: 3_000 * YUAN, ..Default::default() };
        // Business up and main, but a relocation project: not industry.
        let facts = HouseholdFacts {
            has_relocation_project: true,
            ..household(Kind::General, IncomeFacts { business: 9_000 * YUAN, ..last })
        };
        let r = classify(&facts, &last);
        let industry = &r.tests[0];
        assert_eq!(industry.matched, Tri::No);
        assert_eq!(
            industry.conditions,
            vec![
                (Condition::BusinessClearlyIncreased, Tri::Yes),
                (Condition::BusinessIsMain, Tri::Yes),
                (Condition::NoRelocationProject, Tri::No),
            ]
        );
        // …it is relocation instead (no dibao or wubao at all).
        assert_eq!(r.category, Some(MainMeasure::Relocation));
    }

    #[test]
    fn ecological_post_wage_does_not_count_as_employment() {
        let last = IncomeFacts { wage: 2_000 * YUAN, business: 3_000 * YUAN, ..Default::default() };
        // Wage rose only through an ecological post.
        let now = IncomeFacts { wage: 8_000 * YUAN, ecological_post_wage: 6_000 * YUAN, ..last };
        let r = classify(&household(Kind::General, now), &last);
        assert_eq!(r.tests[1].matched, Tri::No);
        assert_eq!(r.category, Some(MainMeasure::EcologicalCompensation));
    }

    #[test]
    fn education_through_the_educated_members_earnings() {
        let last = IncomeFacts {
            wage: 2_000 * YUAN,
            business: 3_000 * YUAN,
            education_expense: 2_000 * YUAN,
            ..Default::default()
        };
        let now = IncomeFacts {
            wage: 9_000 * YUAN,
            educated_member_wage: 7_000 * YUAN,
            education_expense: 2_500 * YUAN,
            ..last
        };
        let facts = HouseholdFacts { poverty_causes: vec![PovertyCause::Schooling], ..household(Kind::General, now) };
        let r = classify(&facts, &last);
        // Both employment (wage up and main) and education match: the officer chooses.
        assert_eq!(r.matched, vec![MainMeasure::Employment, MainMeasure::Education]);
        assert_eq!(r.category, Some(MainMeasure::Employment));
        // Without 因学 as the main cause, education does not match.
        let facts =
            HouseholdFacts { poverty_causes: vec![PovertyCause::LackOfSkills, PovertyCause::Schooling], ..facts };
        assert_eq!(classify(&facts, &last).matched, vec![MainMeasure::Employment]);
    }

    #[test]
    fn without_last_years_income_the_comparisons_are_undetermined() {
        let facts = household(Kind::General, IncomeFacts { business: 9_000 * YUAN, ..Default::default() });
        let r = classify_main_measure(&facts, None, &RulePolicy::baseline()).expect("classified");
        assert_eq!(r.category, None);
        assert!(r.undetermined.contains(&MainMeasure::Industry));
    }

    #[test]
    fn clear_increase_and_main_income_are_region_data() {
        let last = IncomeFacts { business: 5_000 * YUAN, wage: 1_000 * YUAN, ..Default::default() };
        let now = IncomeFacts { business: 5_400 * YUAN, ..last };
        let facts = household(Kind::General, now);
        let any_increase = RulePolicy::baseline();
        let ten_percent = RulePolicy { clear_increase_percent: 10, ..RulePolicy::baseline() };
        let category = |p: &RulePolicy| classify_main_measure(&facts, Some(&last), p).expect("classified").category;
        assert_eq!(category(&any_increase), Some(MainMeasure::Industry));
        assert_eq!(category(&ten_percent), None);
        // Business 40% of income: the largest stream, but not more than half.
        let now =
            IncomeFacts { business: 4_000 * YUAN, wage: 3_000 * YUAN, property: 3_000 * YUAN, ..Default::default() };
        let last = IncomeFacts { business: 2_000 * YUAN, ..now };
        let facts = household(Kind::General, now);
        let largest = classify_main_measure(&facts, Some(&last), &RulePolicy::baseline()).expect("classified");
        let half = RulePolicy { main_income: MainIncomeReading::MoreThanHalf, ..RulePolicy::baseline() };
        let majority = classify_main_measure(&facts, Some(&last), &half).expect("classified");
        assert_eq!((largest.category, majority.category), (Some(MainMeasure::Industry), None));
    }
}
