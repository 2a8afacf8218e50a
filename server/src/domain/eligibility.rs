//! R2: identification (识别) — whether a household meets the criteria to be registered.
//!
//! Two regional wordings, chosen by [`RulePolicy::identification`]:
//! - 000 §四(一): 凡是收入低于扶贫标准且未实现“两不愁、三保障”的，都应纳入建档立卡范围
//!   — income below the threshold AND at least one guarantee (safe water included,
//!   000 §三(四)) not met.
//! - 002 §二(一): 家庭年人均纯收入低于2952元，且居住C级、D级危房或者家庭成员患有重病
//!   或者有义务教育阶段外就读学生且经济负担较重的 — income below the threshold AND (a
//!   C/D-grade house OR a seriously ill member OR a student outside compulsory
//!   education with a heavy burden); and also 符合低保条件并享受低保待遇，但尚未达到脱贫
//!   标准的 — a 低保 household not yet at the exit standard (R3's income and guarantees).
//!
//! "低于" is strictly below: a household exactly at the line is not below it.
//!
//! What this module must never do: read an unrecorded fact as favourable or
//! unfavourable — the answer is then [`Tri::Unknown`] with the criterion named — nor
//! decide the procedure (application, assessment and notices decide; this only says
//! whether the facts meet the wording).

use super::Tri;
use super::error::RuleError;
use super::facts::{Guarantee, Health, HouseholdFacts, Kind, coded};
use super::income::{NetIncome, net_income_per_capita};
use super::policy::{IdentificationVariant, RulePolicy};
use super::thresholds::Threshold;
use serde::Serialize;

coded! {
    /// One condition of an identification rule.
    Criterion {
        /// 收入低于扶贫标准 (000 §四(一); 002 §二(一)).
        IncomeBelowThreshold => "income_below_threshold", "人均纯收入低于扶贫标准";
        /// 未实现“两不愁、三保障” (000 §四(一)).
        GuaranteesNotAllMet => "guarantees_not_all_met", "未实现两不愁三保障";
        /// 居住C级、D级危房 (002 §二(一)).
        DangerousHouse => "dangerous_house", "居住C级、D级危房";
        /// 家庭成员患有重病 (002 §二(一)).
        SeriousIllness => "serious_illness", "家庭成员患有重病";
        /// 有义务教育阶段外就读学生且经济负担较重 (002 §二(一)).
        SchoolingBurden => "schooling_burden", "义务教育阶段外就读学生且经济负担较重";
        /// 享受低保待遇 (002 §二(一)).
        DibaoHousehold => "dibao_household", "符合低保条件并享受低保待遇";
        /// 尚未达到脱贫标准 (002 §二(一)).
        NotAtExitStandard => "not_at_exit_standard", "尚未达到脱贫标准";
    }
}

/// One criterion and how the facts answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CriterionAnswer {
    pub criterion: Criterion,
    pub answer: Tri,
}

/// The outcome of R2 for one household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identification {
    pub variant: IdentificationVariant,
    pub threshold_fen: i64,
    pub net_income: NetIncome,
    /// Every criterion the variant reads, with its answer.
    pub criteria: Vec<CriterionAnswer>,
    /// The guarantees recorded as not met.
    pub unmet_guarantees: Vec<Guarantee>,
    /// The guarantees not recorded.
    pub unrecorded_guarantees: Vec<Guarantee>,
    /// `Yes`: meets the criteria; `No`: does not; `Unknown`: facts are missing.
    pub eligible: Tri,
}

impl Identification {
    pub fn answer(&self, criterion: Criterion) -> Option<Tri> {
        self.criteria.iter().find(|c| c.criterion == criterion).map(|c| c.answer)
    }

    /// Criteria met.
    pub fn met(&self) -> Vec<Criterion> {
        self.with(Tri::Yes)
    }

    /// Criteria not met.
    pub fn unmet(&self) -> Vec<Criterion> {
        self.with(Tri::No)
    }

    /// Criteria the facts cannot answer yet.
    pub fn unknown(&self) -> Vec<Criterion> {
        self.with(Tri::Unknown)
    }

    fn with(&self, answer: Tri) -> Vec<Criterion> {
        self.criteria.iter().filter(|c| c.answer == answer).map(|c| c.criterion).collect()
    }
}

/// R2 under the region's variant.
pub fn assess_identification(
    facts: &HouseholdFacts,
    threshold: &Threshold,
    policy: &RulePolicy,
) -> Result<Identification, RuleError> {
    let net_income = net_income_per_capita(&facts.income, facts.resident_members, policy)?;
    let income_below = Tri::from_bool(net_income.below(threshold.amount_fen));
    let guarantees_not_all_met = guarantees_not_all_met(facts);
    let (criteria, eligible) = match policy.identification {
        IdentificationVariant::IncomeAndGuarantees => (
            vec![
                (Criterion::IncomeBelowThreshold, income_below),
                (Criterion::GuaranteesNotAllMet, guarantees_not_all_met),
            ],
            income_below.and(guarantees_not_all_met),
        ),
        IdentificationVariant::IncomeAndHardship => {
            let house = facts.housing_grade.map_or(Tri::Unknown, |g| Tri::from_bool(g.is_dangerous()));
            let illness = serious_illness(facts);
            let schooling = schooling_burden(facts);
            let dibao = facts.kind.map_or(Tri::Unknown, |k| Tri::from_bool(k == Kind::Dibao));
            // 脱贫标准 is R3's: income above the line and every guarantee met.
            let at_exit_standard =
                Tri::from_bool(net_income.above(threshold.amount_fen)).and(guarantees_all_met(facts));
            let not_at_exit_standard = !at_exit_standard;
            let hardship = Tri::any([house, illness, schooling]);
            (
                vec![
                    (Criterion::IncomeBelowThreshold, income_below),
                    (Criterion::DangerousHouse, house),
                    (Criterion::SeriousIllness, illness),
                    (Criterion::SchoolingBurden, schooling),
                    (Criterion::DibaoHousehold, dibao),
                    (Criterion::NotAtExitStandard, not_at_exit_standard),
                ],
                income_below.and(hardship).or(dibao.and(not_at_exit_standard)),
            )
        }
    };
    Ok(Identification {
        variant: policy.identification,
        threshold_fen: threshold.amount_fen,
        net_income,
        criteria: criteria.into_iter().map(|(criterion, answer)| CriterionAnswer { criterion, answer }).collect(),
        unmet_guarantees: facts.guarantees.unmet(),
        unrecorded_guarantees: facts.guarantees.unrecorded(),
        eligible,
    })
}

/// Some guarantee is recorded as not met (`Unknown` if none is but some are unrecorded).
pub fn guarantees_not_all_met(facts: &HouseholdFacts) -> Tri {
    !guarantees_all_met(facts)
}

/// Every guarantee is recorded as met.
pub fn guarantees_all_met(facts: &HouseholdFacts) -> Tri {
    Tri::all(Guarantee::ALL.iter().map(|g| Tri::from_option(facts.guarantees.get(*g))))
}

/// 家庭成员患有重病: a member with 患有大病. Unknown while a member's health is unrecorded.
pub fn serious_illness(facts: &HouseholdFacts) -> Tri {
    if facts.members.is_empty() {
        return Tri::Unknown;
    }
    Tri::any(
        facts.members.iter().map(|m| m.health.map_or(Tri::Unknown, |h| Tri::from_bool(h == Health::SeriousIllness))),
    )
}

/// 有义务教育阶段外就读学生且经济负担较重.
pub fn schooling_burden(facts: &HouseholdFacts) -> Tri {
    let student_outside_compulsory = Tri::any(
        facts
            .members
            .iter()
            .filter(|m| m.is_student)
            .map(|m| m.school_stage.map_or(Tri::Unknown, |s| Tri::from_bool(!s.is_compulsory()))),
    );
    student_outside_compulsory.and(Tri::from_option(facts.schooling_burden_heavy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::{Guarantees, HousingGrade, IncomeFacts, MemberFacts, SchoolStage, Standard};

    const YUAN: i64 = 100;

    fn line(yuan: i64) -> Threshold {
        Threshold {
            year: 2016,
            region_prefix: String::new(),
            standard: Standard::National,
            amount_fen: yuan * YUAN,
            source: "test".into(),
        }
    }

    fn kunming_line() -> Threshold {
        Threshold::seeded().into_iter().find(|t| t.source == "002 §二(一)").expect("seeded 2952")
    }

    fn jilin_line() -> Threshold {
        Threshold::seeded().into_iter().find(|t| t.source == "000 §四(一)").expect("seeded 3200")
    }

    fn healthy(name: &str) -> MemberFacts {
        MemberFacts { name: name.into(), health: Some(Health::Healthy), ..Default::default() }
    }

    /// A two-person household with `per_capita_yuan` of wage income each.
    fn household(per_capita_yuan: i64) -> HouseholdFacts {
        HouseholdFacts {
            kind: Some(Kind::General),
            members: vec![healthy("甲"), healthy("乙")],
            resident_members: 2,
            income: IncomeFacts { wage: 2 * per_capita_yuan * YUAN, ..Default::default() },
            housing_grade: Some(HousingGrade::A),
            schooling_burden_heavy: Some(false),
            guarantees: Guarantees::all_met(),
            ..Default::default()
        }
    }

    #[test]
    fn kunming_2952_with_a_c_grade_house() {
        let policy = RulePolicy::kunming_002();
        let table = [(2_951, Tri::Yes), (2_952, Tri::No), (2_953, Tri::No)];
        for (yuan, eligible) in table {
            let facts = HouseholdFacts { housing_grade: Some(HousingGrade::C), ..household(yuan) };
            let r = assess_identification(&facts, &kunming_line(), &policy).expect("assessed");
            assert_eq!(r.eligible, eligible, "{yuan} yuan per person");
            assert_eq!(r.answer(Criterion::DangerousHouse), Some(Tri::Yes));
        }
    }

    #[test]
    fn kunming_needs_a_hardship_besides_low_income() {
        let policy = RulePolicy::kunming_002();
        let ill = MemberFacts { health: Some(Health::SeriousIllness), ..healthy("丙") };
        let chronic = MemberFacts { health: Some(Health::ChronicIllness), ..healthy("丙") };
        let in_high_school =
            MemberFacts { is_student: true, school_stage: Some(SchoolStage::SeniorSecondary), ..healthy("丁") };
        let in_primary = MemberFacts { is_student: true, school_stage: Some(SchoolStage::Primary), ..healthy("丁") };
        let with = |extra: MemberFacts, burden: Option<bool>| {
            let mut facts = household(2_000);
            facts.members.push(extra);
            facts.resident_members = 3;
            facts.schooling_burden_heavy = burden;
            facts
        };
        let table = [
            ("no hardship", household(2_000), Tri::No, None),
            (
                "D-grade house",
                HouseholdFacts { housing_grade: Some(HousingGrade::D), ..household(2_000) },
                Tri::Yes,
                Some(Criterion::DangerousHouse),
            ),
            (
                "B-grade house",
                HouseholdFacts { housing_grade: Some(HousingGrade::B), ..household(2_000) },
                Tri::No,
                None,
            ),
            ("house not graded", HouseholdFacts { housing_grade: None, ..household(2_000) }, Tri::Unknown, None),
            // 无 (A40 code `none`): the officer found no dangerous house, a firm no.
            (
                "no dangerous house (无)",
                HouseholdFacts { housing_grade: Some(HousingGrade::NoDangerousHouse), ..household(2_000) },
                Tri::No,
                None,
            ),
            ("serious illness", with(ill, Some(false)), Tri::Yes, Some(Criterion::SeriousIllness)),
            ("chronic illness is not 重病", with(chronic, Some(false)), Tri::No, None),
            (
                "high school, heavy burden",
                with(in_high_school.clone(), Some(true)),
                Tri::Yes,
                Some(Criterion::SchoolingBurden),
            ),
            ("high school, burden bearable", with(in_high_school.clone(), Some(false)), Tri::No, None),
            ("high school, burden unrecorded", with(in_high_school, None), Tri::Unknown, None),
            ("compulsory schooling only", with(in_primary, Some(true)), Tri::No, None),
        ];
        for (case, facts, eligible, because) in table {
            let r = assess_identification(&facts, &kunming_line(), &policy).expect("assessed");
            assert_eq!(r.eligible, eligible, "{case}");
            if let Some(criterion) = because {
                assert!(r.met().contains(&criterion), "{case}: {:?}", r.met());
            }
        }
    }

    #[test]
    fn kunming_dibao_households_not_yet_at_the_exit_standard() {
        let policy = RulePolicy::kunming_002();
        let dibao = |yuan, guarantees| HouseholdFacts { kind: Some(Kind::Dibao), guarantees, ..household(yuan) };
        let no_water = Guarantees { water: Some(false), ..Guarantees::all_met() };
        let table = [
            // Above the line, every guarantee met: at the exit standard, not eligible.
            ("dibao at exit standard", dibao(4_000, Guarantees::all_met()), Tri::No),
            // Above the line but water unsafe: not at the exit standard.
            ("dibao, water unsafe", dibao(4_000, no_water), Tri::Yes),
            // Exactly at the line is not above it.
            ("dibao at the line", dibao(2_952, Guarantees::all_met()), Tri::Yes),
            ("dibao, guarantees unrecorded", dibao(4_000, Guarantees::default()), Tri::Unknown),
            ("general household, water unsafe", HouseholdFacts { guarantees: no_water, ..household(4_000) }, Tri::No),
        ];
        for (case, facts, eligible) in table {
            let r = assess_identification(&facts, &kunming_line(), &policy).expect("assessed");
            assert_eq!(r.eligible, eligible, "{case}");
        }
    }

    #[test]
    fn jilin_3200_with_guarantees() {
        let policy = RulePolicy::jilin_000();
        let no_housing = Guarantees { housing: Some(false), ..Guarantees::all_met() };
        let only_water_unknown = Guarantees { water: None, ..Guarantees::all_met() };
        let table = [
            ("3,199 and housing unsafe", 3_199, no_housing, Tri::Yes),
            ("3,200 and housing unsafe", 3_200, no_housing, Tri::No),
            ("3,199 and all guarantees met", 3_199, Guarantees::all_met(), Tri::No),
            ("3,199 and water unchecked", 3_199, only_water_unknown, Tri::Unknown),
            ("5,000 and water unchecked", 5_000, only_water_unknown, Tri::No),
        ];
        for (case, yuan, guarantees, eligible) in table {
            let facts = HouseholdFacts { guarantees, ..household(yuan) };
            let r = assess_identification(&facts, &jilin_line(), &policy).expect("assessed");
            assert_eq!(r.eligible, eligible, "{case}");
        }
        let facts = HouseholdFacts { guarantees: no_housing, ..household(3_000) };
        let r = assess_identification(&facts, &jilin_line(), &policy).expect("assessed");
        assert_eq!(r.met(), vec![Criterion::IncomeBelowThreshold, Criterion::GuaranteesNotAllMet]);
        assert_eq!(r.unmet_guarantees, vec![Guarantee::Housing]);
    }

    #[test]
    fn the_variant_is_data_not_code() {
        // The same C-grade household with every guarantee met: eligible under 002's
        // hardship test, not under 000's guarantee test.
        let facts = HouseholdFacts { housing_grade: Some(HousingGrade::C), ..household(2_500) };
        let under_002 = assess_identification(&facts, &line(2_952), &RulePolicy::kunming_002()).expect("assessed");
        let under_000 = assess_identification(&facts, &line(2_952), &RulePolicy::jilin_000()).expect("assessed");
        assert_eq!((under_002.eligible, under_000.eligible), (Tri::Yes, Tri::No));
    }

    #[test]
    fn zero_residents_is_an_error() {
        let facts = HouseholdFacts { resident_members: 0, ..household(1_000) };
        let err = assess_identification(&facts, &line(2_952), &RulePolicy::baseline()).expect_err("no residents");
        assert_eq!(err, RuleError::NoResidents);
    }
}
