//! Reading a stored household into the facts the rules take (`crate::domain::facts`).
//! Unrecorded values stay `None`, so a rule says "unknown" rather than guessing.

use crate::db::{placeholders, sql};
use crate::domain::facts::{
    Guarantees, Health, HouseholdFacts, HouseholdStatus, HousingGrade, IncomeFacts, Kind, MemberFacts, PovertyCause,
    Relation, SchoolStage, Sex, Standard,
};
use crate::sync::records::{self, Record};
use chrono::{Datelike, NaiveDate, Utc};
use jingzhun_mobile_api::fields::{HOUSEHOLD, INCOME, MEMBER};
use jingzhun_mobile_api::validate::{FieldValue, id_birth_date};
use sea_orm::{ConnectionTrait, DbErr, Value};
use std::collections::HashSet;

pub struct Read {
    pub facts: HouseholdFacts,
    /// The year before's income, for comparisons (R6).
    pub last_year: Option<IncomeFacts>,
    /// The income year the facts are for.
    pub year: i64,
    /// Members' ID numbers found active in another household (R8).
    pub ids_elsewhere: HashSet<String>,
}

fn text<'a>(record: &'a Record, field: &str) -> Option<&'a str> {
    record.text(field)
}

fn flag(record: &Record, field: &str) -> Option<bool> {
    match record.value(field) {
        FieldValue::Bool(b) => Some(*b),
        _ => None,
    }
}

fn fen(record: &Record, field: &str) -> i64 {
    match record.value(field) {
        FieldValue::Money(f) | FieldValue::Int(f) => *f,
        _ => 0,
    }
}

fn list(record: &Record, field: &str) -> Vec<String> {
    match record.value(field) {
        FieldValue::List(items) => items.clone(),
        _ => Vec::new(),
    }
}

pub fn income_facts(record: &Record) -> IncomeFacts {
    IncomeFacts {
        wage: fen(record, "wage"),
        business: fen(record, "business"),
        property: fen(record, "property"),
        transfer: fen(record, "transfer"),
        dibao: fen(record, "dibao"),
        wubao: fen(record, "wubao"),
        pension: fen(record, "pension"),
        ecological_compensation: fen(record, "ecological_compensation"),
        business_expense: fen(record, "business_expense"),
        ..IncomeFacts::default()
    }
}

fn member_facts(record: &Record, today: NaiveDate) -> MemberFacts {
    let id_number = text(record, "id_number").map(str::to_owned);
    let age = id_number.as_deref().and_then(id_birth_date).map(|birth| {
        let mut age = today.year() - birth.year();
        if (today.month(), today.day()) < (birth.month(), birth.day()) {
            age -= 1;
        }
        age.max(0) as u32
    });
    let school_stage = text(record, "school_status").and_then(SchoolStage::from_code);
    MemberFacts {
        name: text(record, "name").unwrap_or_default().to_owned(),
        sex: text(record, "sex").and_then(Sex::from_code),
        id_number,
        relation: text(record, "relation").and_then(Relation::from_code),
        health: text(record, "health").and_then(Health::from_code),
        is_student: school_stage.is_some(),
        school_stage,
        age,
        ..MemberFacts::default()
    }
}

/// The household's facts for `year` (default: its latest income year, else this year).
pub async fn household_facts(
    conn: &impl ConnectionTrait,
    household_id: &str,
    year: Option<i64>,
) -> Result<Option<Read>, DbErr> {
    let Some(household) = records::load(conn, &HOUSEHOLD, household_id, false).await? else { return Ok(None) };
    let ids = [household_id.to_owned()];
    let today = Utc::now().date_naive();
    let members: Vec<Record> = records::load_by_households(conn, &MEMBER, &ids)
        .await?
        .into_iter()
        .filter(|m| flag(m, "active") != Some(false))
        .collect();
    let incomes = records::load_by_households(conn, &INCOME, &ids).await?;
    let year_of = |r: &Record| match r.value("year") {
        FieldValue::Int(y) => *y,
        _ => 0,
    };
    let year = year.or_else(|| incomes.iter().map(year_of).max()).unwrap_or(today.year() as i64);
    let income = incomes.iter().find(|r| year_of(r) == year).map(income_facts).unwrap_or_default();
    let last_year = incomes.iter().find(|r| year_of(r) == year - 1).map(income_facts);

    let facts = HouseholdFacts {
        region_code: text(&household, "region_code").unwrap_or_default().to_owned(),
        standard: text(&household, "standard").and_then(Standard::from_code),
        kind: text(&household, "kind").and_then(Kind::from_code),
        status: text(&household, "status").and_then(HouseholdStatus::from_code),
        registered_on: identified_on(conn, household_id).await?,
        poverty_causes: list(&household, "poverty_causes").iter().filter_map(|c| PovertyCause::from_code(c)).collect(),
        guarantees: Guarantees {
            food_clothing: flag(&household, "food_clothing_secure"),
            education: flag(&household, "education_secure"),
            medical: flag(&household, "medical_secure"),
            housing: flag(&household, "housing_secure"),
            water: flag(&household, "water_secure"),
        },
        housing_grade: text(&household, "housing_grade").and_then(HousingGrade::from_code),
        members: members.iter().map(|m| member_facts(m, today)).collect(),
        resident_members: members.len() as u32,
        income,
        ..HouseholdFacts::default()
    };
    let ids_elsewhere = ids_in_other_households(conn, household_id, &members).await?;
    Ok(Some(Read { facts, last_year, year, ids_elsewhere }))
}

/// When the household's identification completed, if it went through the system.
async fn identified_on(conn: &impl ConnectionTrait, household_id: &str) -> Result<Option<NaiveDate>, DbErr> {
    let row = conn
        .query_one_raw(sql(
            conn.get_database_backend(),
            "SELECT MAX(closed_at) FROM procedure_case WHERE household_id = ? AND kind = 'identify' AND status = 'completed'",
            vec![household_id.into()],
        ))
        .await?;
    let at: Option<chrono::DateTime<Utc>> = row.map(|r| r.try_get_by_index(0)).transpose()?.flatten();
    Ok(at.map(|t| t.date_naive()))
}

async fn ids_in_other_households(
    conn: &impl ConnectionTrait,
    household_id: &str,
    members: &[Record],
) -> Result<HashSet<String>, DbErr> {
    let ids: Vec<String> = members.iter().filter_map(|m| text(m, "id_number")).map(str::to_owned).collect();
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
    rows.iter().map(|r| r.try_get_by_index::<String>(0)).collect()
}
