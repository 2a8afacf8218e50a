//! Stored records → the facts the rules read (`crate::domain::facts`): the one place
//! that knows which catalogue field feeds which fact, so R1 and R6 see a household the
//! same way wherever they are asked.
//!
//! What this must never do: fill a gap with a guess. A field nobody recorded stays
//! `None` (or 0 for an income stream nobody reported, which is what the form means by
//! an empty box), and facts the catalogue does not hold keep their defaults.

use super::{flag_of, list_of};
use crate::domain::facts::{
    Guarantees, Health, HouseholdFacts, HouseholdStatus, HousingGrade, IncomeFacts, Kind, MemberFacts, PovertyCause,
    Relation, SchoolStage, Sex, Standard,
};
use crate::domain::main_measure::MainMeasure;
use crate::sync::records::Record;
use jingzhun_mobile_api::validate::FieldValue;

fn fen(record: &Record, field: &str) -> i64 {
    match record.value(field) {
        FieldValue::Money(fen) => *fen,
        _ => 0,
    }
}

/// One `income` record (A28–A32 and their parts) as the rules count it.
///
/// Not on the phone form, so left at 0: the ecological-post part of the wage, rigid
/// expenses and the educated member's earnings (001 附件2 categories 4 and 5 then
/// judge by what is recorded).
pub fn income_facts(income: &Record) -> IncomeFacts {
    IncomeFacts {
        wage: fen(income, "wage"),
        business: fen(income, "business"),
        property: fen(income, "property"),
        transfer: fen(income, "transfer"),
        dibao: fen(income, "dibao"),
        wubao: fen(income, "wubao"),
        pension: fen(income, "pension"),
        ecological_compensation: fen(income, "ecological_compensation"),
        business_expense: fen(income, "business_expense"),
        ..IncomeFacts::default()
    }
}

fn member_facts(member: &Record) -> MemberFacts {
    let text = |field: &str| member.text(field);
    let school_stage = text("school_status").and_then(SchoolStage::from_code);
    MemberFacts {
        name: text("name").unwrap_or_default().to_owned(),
        sex: text("sex").and_then(Sex::from_code),
        id_number: text("id_number").map(str::to_owned),
        relation: text("relation").and_then(Relation::from_code),
        health: text("health").and_then(Health::from_code),
        // `not_in_school` is the one school status that is no stage.
        is_student: school_stage.is_some(),
        school_stage,
        // An age needs a reference date; the rules that read it take facts built with one.
        age: None,
        ..MemberFacts::default()
    }
}

/// A household as the rules see it for one year: its record, its members (those no
/// longer in the household are left out; the rest are the residents R1 divides by),
/// that year's income if recorded, and its help measures (pass those up to that year:
/// an 易地扶贫搬迁 project among them makes it a relocation household for R6).
pub fn facts_from_records(
    household: &Record,
    members: &[Record],
    income: Option<&Record>,
    measures: &[Record],
) -> HouseholdFacts {
    let text = |field: &str| household.text(field);
    let residents: Vec<MemberFacts> =
        members.iter().filter(|m| flag_of(m, "active") != Some(false)).map(member_facts).collect();
    HouseholdFacts {
        region_code: text("region_code").unwrap_or_default().to_owned(),
        standard: text("standard").and_then(Standard::from_code),
        kind: text("kind").and_then(Kind::from_code),
        status: text("status").and_then(HouseholdStatus::from_code),
        // Main cause first (A27a), as the phone sends them.
        poverty_causes: list_of(household, "poverty_causes")
            .iter()
            .filter_map(|c| PovertyCause::from_code(c))
            .collect(),
        guarantees: Guarantees {
            food_clothing: flag_of(household, "food_clothing_secure"),
            education: flag_of(household, "education_secure"),
            medical: flag_of(household, "medical_secure"),
            housing: flag_of(household, "housing_secure"),
            water: flag_of(household, "water_secure"),
        },
        housing_grade: text("housing_grade").and_then(HousingGrade::from_code),
        resident_members: u32::try_from(residents.len()).unwrap_or(u32::MAX),
        members: residents,
        income: income.map(income_facts).unwrap_or_default(),
        has_relocation_project: measures
            .iter()
            .any(|m| m.text("category").and_then(MainMeasure::from_code) == Some(MainMeasure::Relocation)),
        ..HouseholdFacts::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn record(id: &str, values: Vec<(&'static str, FieldValue)>) -> Record {
        Record { id: id.into(), version: 1, field_versions: BTreeMap::new(), values: values.into_iter().collect() }
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
    }

    #[test]
    fn stored_fields_become_facts_and_gaps_stay_unknown() {
        let household = record(
            "h",
            vec![
                ("region_code", text("320703001001")),
                ("standard", text("national")),
                ("kind", text("dibao")),
                ("status", text("registered")),
                ("poverty_causes", FieldValue::List(vec!["schooling".into(), "illness".into(), "bogus".into()])),
                ("housing_secure", FieldValue::Bool(false)),
                ("housing_grade", text("c")),
            ],
        );
        let members = [
            record("m1", vec![("name", text("张三")), ("relation", text("head")), ("active", FieldValue::Bool(true))]),
            record(
                "m2",
                vec![("name", text("张小")), ("school_status", text("primary")), ("active", FieldValue::Bool(true))],
            ),
            record("m3", vec![("name", text("李四")), ("active", FieldValue::Bool(false))]),
        ];
        let income = record(
            "i",
            vec![
                ("year", FieldValue::Int(2026)),
                ("wage", FieldValue::Money(600_000)),
                ("transfer", FieldValue::Money(200_000)),
                ("dibao", FieldValue::Money(150_000)),
                ("business_expense", FieldValue::Money(10_000)),
            ],
        );
        let measures = [record("x", vec![("category", text("relocation"))])];
        let facts = facts_from_records(&household, &members, Some(&income), &measures);
        assert_eq!(facts.kind, Some(Kind::Dibao));
        assert_eq!(facts.status, Some(HouseholdStatus::Registered));
        assert_eq!(facts.poverty_causes, vec![PovertyCause::Schooling, PovertyCause::Illness]);
        assert_eq!(facts.main_poverty_cause(), Some(PovertyCause::Schooling));
        assert_eq!(facts.guarantees.housing, Some(false));
        assert_eq!(facts.guarantees.water, None, "unrecorded is unknown, not secure");
        assert_eq!(facts.housing_grade, Some(HousingGrade::C));
        assert_eq!(facts.resident_members, 2, "a member who left is no resident");
        assert!(facts.members[1].is_student);
        assert_eq!(facts.members[1].school_stage, Some(SchoolStage::Primary));
        assert_eq!(facts.income.wage, 600_000);
        assert_eq!(facts.income.dibao, 150_000);
        assert_eq!(facts.income.business, 0);
        assert!(facts.has_relocation_project);

        let bare = facts_from_records(&household, &members, None, &[]);
        assert_eq!(bare.income, IncomeFacts::default());
        assert!(!bare.has_relocation_project);
    }
}
