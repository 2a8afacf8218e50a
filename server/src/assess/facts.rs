//! Stored records → the facts the rules read (`crate::domain::facts`): the one place
//! that knows which catalogue field feeds which fact, so every rule sees a household the
//! same way wherever it is asked (assessments, exit checks, plan outcomes).
//!
//! What this must never do: fill a gap with a guess. A field nobody recorded stays
//! `None` (or 0 for an income stream nobody reported, which is what the form means by
//! an empty box), and facts the catalogue does not hold keep their defaults.

use crate::db::{placeholders, sql};
use crate::domain::facts::{
    Business, Guarantees, Health, HouseholdFacts, HouseholdStatus, HousingGrade, IncomeFacts, Kind, MemberFacts, Post,
    PovertyCause, Relation, Risk, SchoolStage, Sex, Standard, UrbanProperty, UrbanPropertyKind, Vehicle, VehicleKind,
};
use crate::domain::main_measure::MainMeasure;
use crate::records::{self, Record};
use chrono::{Datelike, NaiveDate, Utc};
use jingzhun_mobile_api::fields::{BUSINESS, HELP_MEASURE, HOUSEHOLD, INCOME, MEMBER, URBAN_PROPERTY, VEHICLE};
use jingzhun_mobile_api::validate::id_birth_date;
use sea_orm::{ConnectionTrait, DbErr, Value};
use std::collections::HashSet;

/// A household read for the rules, with what they compare it against.
pub struct Read {
    pub facts: HouseholdFacts,
    /// The year before's income, for comparisons (R6).
    pub last_year: Option<IncomeFacts>,
    /// The income year the facts are for.
    pub year: i64,
    /// Members' ID numbers found active in another household (R8).
    pub ids_elsewhere: HashSet<String>,
}

/// One `income` record (A28–A32 and their parts, the ecological-post wage and the
/// educated member's earnings of 001 附件2, the rigid expenses of 000 §四(一)) as the
/// rules count it. An empty box is 0, as on the form.
pub fn income_facts(income: &Record) -> IncomeFacts {
    IncomeFacts {
        wage: income.money("wage").unwrap_or(0),
        business: income.money("business").unwrap_or(0),
        property: income.money("property").unwrap_or(0),
        transfer: income.money("transfer").unwrap_or(0),
        dibao: income.money("dibao").unwrap_or(0),
        wubao: income.money("wubao").unwrap_or(0),
        pension: income.money("pension").unwrap_or(0),
        ecological_compensation: income.money("ecological_compensation").unwrap_or(0),
        business_expense: income.money("business_expense").unwrap_or(0),
        ecological_post_wage: income.money("ecological_post_wage").unwrap_or(0),
        educated_member_wage: income.money("educated_member_wage").unwrap_or(0),
        educated_member_business: income.money("educated_member_business").unwrap_or(0),
        education_expense: income.money("education_expense").unwrap_or(0),
        medical_expense: income.money("medical_expense").unwrap_or(0),
    }
}

fn member_facts(member: &Record) -> MemberFacts {
    let text = |field: &str| member.text(field);
    let school_stage = text("school_status").and_then(SchoolStage::from_code);
    MemberFacts {
        name: text("name").unwrap_or_default().to_owned(),
        sex: text("sex").and_then(Sex::from_code),
        id_number: text("id_number").map(str::to_owned),
        no_id_reason: text("no_id_reason").map(str::to_owned),
        relation: text("relation").and_then(Relation::from_code),
        health: text("health").and_then(Health::from_code),
        // `not_in_school` is the one school status that is no stage.
        is_student: school_stage.is_some(),
        school_stage,
        // An age needs a reference date; the rules that read it take facts built with one.
        age: None,
        // 002 §二(二)1–2: a post held, with the date that decides "建档立卡后…考入".
        public_servant: (member.flag("public_servant") == Some(true))
            .then(|| Post { since: member.date("public_servant_since") }),
        village_cadre: (member.flag("village_cadre") == Some(true))
            .then(|| Post { since: member.date("village_cadre_since") }),
        deceased: member.flag("deceased") == Some(true),
        missing: member.flag("missing") == Some(true),
        shares_budget_with_head: member.flag("shares_budget_with_head"),
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
        members.iter().filter(|m| m.flag("active") != Some(false)).map(member_facts).collect();
    HouseholdFacts {
        region_code: text("region_code").unwrap_or_default().to_owned(),
        outside_national_system: household.flag("outside_national_system") == Some(true),
        standard: text("standard").and_then(Standard::from_code),
        kind: text("kind").and_then(Kind::from_code),
        status: text("status").and_then(HouseholdStatus::from_code),
        // Main cause first (A27a), as the phone sends them.
        poverty_causes: household.list("poverty_causes").iter().filter_map(|c| PovertyCause::from_code(c)).collect(),
        // 004 §一(四): 重点关注因病、因灾、因学等支出较大的农户家庭 — the causes recorded
        // for the household are its risks of (re)falling into poverty (R5), with those the
        // officer records beside them (突发事件 is no cause).
        risks: risks(household),
        schooling_burden_heavy: household.flag("schooling_burden_heavy"),
        guarantees: Guarantees {
            food_clothing: household.flag("food_clothing_secure"),
            education: household.flag("education_secure"),
            medical: household.flag("medical_secure"),
            housing: household.flag("housing_secure"),
            water: household.flag("water_secure"),
        },
        housing_grade: text("housing_grade").and_then(HousingGrade::from_code),
        resident_members: u32::try_from(residents.len()).unwrap_or(u32::MAX),
        members: residents,
        income: income.map(income_facts).unwrap_or_default(),
        has_relocation_project: measures
            .iter()
            .any(|m| m.text("category").and_then(MainMeasure::from_code) == Some(MainMeasure::Relocation)),
        // 两不退 (003 §五(二)); `domain::exit` reads `relocation_moved_in` only for a
        // household with a relocation measure.
        long_term_stable_income: household.flag("long_term_stable_income"),
        help_effective: household.flag("help_effective"),
        relocation_moved_in: household.flag("relocation_moved_in"),
        // 002 §二(二) 5, 7, 8, 10 and 000 §四(一)'s cases: recorded as found, unrecorded
        // is not found (these only ever raise a finding or a flag, never clear one).
        hires_workers_long_term: household.flag("hires_workers_long_term") == Some(true),
        split_or_merged_for_benefits: household.flag("split_or_merged_for_benefits") == Some(true),
        nominal_hukou: household.flag("nominal_hukou") == Some(true),
        favouritism_or_falsification: household.flag("favouritism_or_falsification") == Some(true),
        high_standard_renovation: household.flag("high_standard_renovation") == Some(true),
        living_costs_clearly_high: household.flag("living_costs_clearly_high") == Some(true),
        absent_unreachable: household.flag("absent_unreachable") == Some(true),
        split_household: household.flag("split_household") == Some(true),
        able_but_idle: household.flag("able_but_idle") == Some(true),
        wedding_debt: household.flag("wedding_debt") == Some(true),
        ..HouseholdFacts::default()
    }
}

fn risks(household: &Record) -> Vec<Risk> {
    let mut risks: Vec<Risk> = household
        .list("poverty_causes")
        .iter()
        .chain(household.list("risks").iter())
        .filter_map(|c| Risk::from_code(c))
        .collect();
    risks.sort();
    risks.dedup();
    risks
}

/// What the household owns (002 §二(二) 3, 4, 6; 000 §四(一) 一, 三, 四), one fact per
/// record. A record whose required kind is missing or unknown is left out rather than
/// guessed; the catalogue requires it, so only a code table shrinking could do that.
pub fn add_possessions(facts: &mut HouseholdFacts, vehicles: &[Record], properties: &[Record], businesses: &[Record]) {
    facts.vehicles = vehicles
        .iter()
        .filter_map(|v| {
            Some(Vehicle {
                kind: v.text("kind").and_then(VehicleKind::from_code)?,
                value_fen: v.money("price")?,
                acquired: v.date("acquired_on"),
                as_exit_measure: v.flag("as_exit_measure")?,
                borrowed: !v.flag("owned")?,
            })
        })
        .collect();
    facts.urban_properties = properties
        .iter()
        .filter_map(|p| {
            Some(UrbanProperty {
                kind: p.text("kind").and_then(UrbanPropertyKind::from_code)?,
                acquired: p.date("acquired_on"),
                as_exit_measure: p.flag("as_exit_measure")?,
                relocation_resettlement: p.flag("relocation_resettlement")?,
            })
        })
        .collect();
    facts.businesses = businesses
        .iter()
        .filter_map(|b| {
            Some(Business {
                registered: b.date("registered_on"),
                operating: b.flag("operating")?,
                as_exit_measure: b.flag("as_exit_measure")?,
            })
        })
        .collect();
}

/// The household's facts for `year` (default: its latest income year, else this year),
/// with members' ages as of today and the date it entered the register.
pub async fn household_facts(
    conn: &impl ConnectionTrait,
    household_id: &str,
    year: Option<i64>,
) -> Result<Option<Read>, DbErr> {
    let Some(household) = records::load(conn, &HOUSEHOLD, household_id, false).await? else { return Ok(None) };
    let ids = [household_id.to_owned()];
    let today = Utc::now().date_naive();
    let members = records::load_by_households(conn, &MEMBER, &ids).await?;
    let incomes = records::load_by_households(conn, &INCOME, &ids).await?;
    let measures = records::load_by_households(conn, &HELP_MEASURE, &ids).await?;
    let year = year.or_else(|| incomes.iter().filter_map(|r| r.int("year")).max()).unwrap_or(i64::from(today.year()));
    let income_of = |y: i64| incomes.iter().find(|r| r.int("year") == Some(y));
    let measures: Vec<Record> = measures.into_iter().filter(|m| m.int("year").is_none_or(|y| y <= year)).collect();
    let mut facts = facts_from_records(&household, &members, income_of(year), &measures);
    add_possessions(
        &mut facts,
        &records::load_by_households(conn, &VEHICLE, &ids).await?,
        &records::load_by_households(conn, &URBAN_PROPERTY, &ids).await?,
        &records::load_by_households(conn, &BUSINESS, &ids).await?,
    );
    for member in &mut facts.members {
        member.age = member.id_number.as_deref().and_then(id_birth_date).map(|birth| age_on(birth, today));
    }
    facts.registered_on = registered_on(conn, household_id).await?;
    let active: Vec<Record> = members.into_iter().filter(|m| m.flag("active") != Some(false)).collect();
    let ids_elsewhere = ids_in_other_households(conn, household_id, &active).await?;
    Ok(Some(Read { facts, last_year: income_of(year - 1).map(income_facts), year, ids_elsewhere }))
}

fn age_on(birth: NaiveDate, day: NaiveDate) -> u32 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    u32::try_from(age).unwrap_or(0)
}

/// The household's 建档立卡 date: the one stored (the register import sets it for
/// households registered before the system), else the day its identification completed
/// here. 002's exceptions turn on this date, so a stored one always wins.
pub async fn registered_on(conn: &impl ConnectionTrait, household_id: &str) -> Result<Option<NaiveDate>, DbErr> {
    let row = conn
        .query_one_raw(sql(
            conn.get_database_backend(),
            "SELECT registered_on FROM household WHERE id = ?",
            vec![household_id.into()],
        ))
        .await?;
    let stored: Option<String> = row.map(|r| r.try_get("", "registered_on")).transpose()?.flatten();
    match stored.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
        Some(date) => Ok(Some(date)),
        None => identified_on(conn, household_id).await,
    }
}

/// When the household's identification completed, if it went through the system.
async fn identified_on(conn: &impl ConnectionTrait, household_id: &str) -> Result<Option<NaiveDate>, DbErr> {
    let row = conn
        .query_one_raw(sql(
            conn.get_database_backend(),
            "SELECT MAX(closed_at) AS closed_at FROM procedure_case \
             WHERE household_id = ? AND kind = 'identify' AND status = 'completed'",
            vec![household_id.into()],
        ))
        .await?;
    let at: Option<chrono::DateTime<Utc>> = row.map(|r| r.try_get("", "closed_at")).transpose()?.flatten();
    Ok(at.map(|t| t.date_naive()))
}

async fn ids_in_other_households(
    conn: &impl ConnectionTrait,
    household_id: &str,
    members: &[Record],
) -> Result<HashSet<String>, DbErr> {
    // Persons, not numbers: a 残疾人证 number elsewhere names the same person as the ID
    // card here. Members without a number share nothing.
    let ids: Vec<String> = members
        .iter()
        .filter_map(|m| m.text("id_number"))
        .flat_map(jingzhun_mobile_api::validate::numbers_of_person)
        .collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let text = format!(
        "SELECT id_number FROM member WHERE active AND household_id <> ? AND id_number IN ({})",
        placeholders(ids.len())
    );
    let mut values: Vec<Value> = vec![household_id.into()];
    values.extend(ids.iter().map(|i| Value::from(i.as_str())));
    let rows = conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await?;
    rows.iter()
        .map(|r| r.try_get::<String>("", "id_number").map(|n| jingzhun_mobile_api::validate::person_id(&n).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jingzhun_mobile_api::validate::FieldValue;
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
                ("long_term_stable_income", FieldValue::Bool(true)),
                ("help_effective", FieldValue::Bool(false)),
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
        assert_eq!(facts.long_term_stable_income, Some(true));
        assert_eq!(facts.help_effective, Some(false));
        assert_eq!(facts.relocation_moved_in, None, "unrecorded is unknown, not moved in");

        let bare = facts_from_records(&household, &members, None, &[]);
        assert_eq!(bare.income, IncomeFacts::default());
        assert!(!bare.has_relocation_project);
    }

    #[test]
    fn removal_and_review_facts_come_from_their_fields() {
        let date = |d: &str| FieldValue::Date(d.into());
        let household = record(
            "h",
            vec![
                ("poverty_causes", FieldValue::List(vec!["illness".into()])),
                ("risks", FieldValue::List(vec!["emergency".into(), "illness".into()])),
                ("schooling_burden_heavy", FieldValue::Bool(true)),
                ("nominal_hukou", FieldValue::Bool(true)),
                ("wedding_debt", FieldValue::Bool(false)),
            ],
        );
        let members = [record(
            "m1",
            vec![
                ("name", text("张三")),
                ("public_servant", FieldValue::Bool(true)),
                ("public_servant_since", date("2018-09-01")),
                ("village_cadre", FieldValue::Bool(false)),
                ("village_cadre_since", date("2015-01-01")),
                ("deceased", FieldValue::Bool(true)),
            ],
        )];
        let income = record(
            "i",
            vec![
                ("wage", FieldValue::Money(900_000)),
                ("ecological_post_wage", FieldValue::Money(600_000)),
                ("education_expense", FieldValue::Money(300_000)),
                ("medical_expense", FieldValue::Money(500_000)),
            ],
        );
        let mut facts = facts_from_records(&household, &members, Some(&income), &[]);
        assert_eq!(facts.risks, vec![Risk::Illness, Risk::Emergency], "causes and recorded risks, once each");
        assert_eq!(facts.schooling_burden_heavy, Some(true));
        assert!(facts.nominal_hukou && !facts.wedding_debt && !facts.able_but_idle);
        let member = &facts.members[0];
        assert_eq!(member.public_servant, Some(Post { since: NaiveDate::from_ymd_opt(2018, 9, 1) }));
        assert_eq!(member.village_cadre, None, "a date without the post is no post");
        assert!(member.deceased && !member.missing);
        assert_eq!(member.shares_budget_with_head, None);
        assert_eq!(
            (facts.income.ecological_post_wage, facts.income.education_expense, facts.income.medical_expense),
            (600_000, 300_000, 500_000)
        );

        let vehicle = record(
            "v",
            vec![
                ("kind", text("motor_vehicle")),
                ("price", FieldValue::Money(4_000_000)),
                ("owned", FieldValue::Bool(true)),
                ("acquired_on", date("2019-03-01")),
                ("as_exit_measure", FieldValue::Bool(true)),
            ],
        );
        let property = record(
            "p",
            vec![
                ("kind", text("shopfront")),
                ("as_exit_measure", FieldValue::Bool(false)),
                ("relocation_resettlement", FieldValue::Bool(false)),
            ],
        );
        let business =
            record("b", vec![("operating", FieldValue::Bool(true)), ("as_exit_measure", FieldValue::Bool(true))]);
        let unknown_kind = record("x", vec![("kind", text("tractor")), ("price", FieldValue::Money(1))]);
        add_possessions(&mut facts, &[vehicle, unknown_kind], &[property], &[business]);
        assert_eq!(
            facts.vehicles,
            vec![Vehicle {
                kind: VehicleKind::MotorVehicle,
                value_fen: 4_000_000,
                acquired: NaiveDate::from_ymd_opt(2019, 3, 1),
                as_exit_measure: true,
                borrowed: false,
            }]
        );
        assert_eq!(facts.urban_properties[0].kind, UrbanPropertyKind::Shopfront);
        assert_eq!(facts.urban_properties[0].acquired, None);
        assert_eq!(facts.businesses, vec![Business { registered: None, operating: true, as_exit_measure: true }]);
    }
}
