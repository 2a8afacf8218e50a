//! What reports read from the database: regions, households with their members, help
//! measures and completed cases, officers. Every household query is limited to the
//! unit's prefix and to the caller's scope condition.

use super::Region;
use super::history::{CaseEvent, Guarantees, HouseholdFacts};
use super::register::{Officer, RegisterInput};
use super::statistics::RowGroup;
use crate::db::{placeholders, sql};
use crate::procedures::CaseKind;
use crate::records::{self, Record};
use chrono::{DateTime, NaiveDate, Utc};
use jingzhun_mobile_api::fields::{HELP_MEASURE, HOUSEHOLD, INCOME, MEMBER};
use jingzhun_mobile_api::validate::FieldValue;
use sea_orm::{ConnectionTrait, DbErr, Value};
use std::collections::HashMap;

type Scope = (String, Vec<Value>);

fn region_of(row: &sea_orm::QueryResult) -> Result<Region, DbErr> {
    Ok(Region {
        code: row.try_get_by_index(0)?,
        name: row.try_get_by_index(1)?,
        level: row.try_get_by_index(2)?,
        parent_code: row.try_get_by_index(3)?,
    })
}

pub async fn region(conn: &impl ConnectionTrait, code: &str) -> Result<Option<Region>, DbErr> {
    let stmt = sql(
        conn.get_database_backend(),
        "SELECT code, name, level, parent_code FROM region WHERE code = ?",
        vec![code.into()],
    );
    conn.query_one_raw(stmt).await?.map(|row| region_of(&row)).transpose()
}

/// The rows of a statistics table: the unit's child regions, or the unit itself when
/// it is a village (households hang off villages).
pub async fn row_groups(conn: &impl ConnectionTrait, unit: &Region) -> Result<Vec<RowGroup>, DbErr> {
    if unit.is_leaf() {
        return Ok(vec![RowGroup {
            code: Some(unit.code.clone()),
            name: unit.name.clone(),
            prefix: unit.prefix().to_owned(),
        }]);
    }
    let stmt = sql(
        conn.get_database_backend(),
        "SELECT code, name, level, parent_code FROM region WHERE parent_code = ? ORDER BY code",
        vec![unit.code.as_str().into()],
    );
    let mut groups = Vec::new();
    for row in conn.query_all_raw(stmt).await? {
        let child = region_of(&row)?;
        groups.push(RowGroup { prefix: child.prefix().to_owned(), code: Some(child.code), name: child.name });
    }
    Ok(groups)
}

/// `h.region_code LIKE 'prefix%' AND <scope>` with its values, in placeholder order.
fn in_unit(unit: &Region, scope: &Scope) -> (String, Vec<Value>) {
    let mut values: Vec<Value> = vec![format!("{}%", unit.prefix()).into()];
    values.extend(scope.1.iter().cloned());
    (format!("h.region_code LIKE ? AND {}", scope.0), values)
}

/// How many households a report of `unit` for this scope covers.
pub async fn count_households(conn: &impl ConnectionTrait, unit: &Region, scope: &Scope) -> Result<u64, DbErr> {
    let (cond, values) = in_unit(unit, scope);
    let text = format!("SELECT COUNT(*) FROM household h WHERE {cond}");
    let row = conn.query_one_raw(sql(conn.get_database_backend(), &text, values)).await?;
    let count: i64 = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(count.max(0) as u64)
}

async fn household_ids(conn: &impl ConnectionTrait, unit: &Region, scope: &Scope) -> Result<Vec<String>, DbErr> {
    let (cond, values) = in_unit(unit, scope);
    let text = format!("SELECT h.id FROM household h WHERE {cond} ORDER BY h.region_code, h.id");
    let rows = conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await?;
    rows.iter().map(|r| r.try_get_by_index(0)).collect()
}

fn by_household(records: Vec<Record>) -> HashMap<String, Vec<Record>> {
    let mut out: HashMap<String, Vec<Record>> = HashMap::new();
    for record in records {
        if let Some(household) = record.text("household_id").map(str::to_owned) {
            out.entry(household).or_default().push(record);
        }
    }
    out
}

/// Completed cases of the unit's households, oldest first, by household.
async fn completed_cases(
    conn: &impl ConnectionTrait,
    unit: &Region,
    scope: &Scope,
) -> Result<HashMap<String, Vec<CaseEvent>>, DbErr> {
    let (cond, values) = in_unit(unit, scope);
    let text = format!(
        "SELECT c.household_id, c.kind, c.reason, c.closed_at FROM procedure_case c JOIN household h ON h.id = c.household_id \
         WHERE {cond} AND c.status = 'completed' AND c.closed_at IS NOT NULL ORDER BY c.household_id, c.closed_at, c.id"
    );
    let mut out: HashMap<String, Vec<CaseEvent>> = HashMap::new();
    for row in conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await? {
        let household: String = row.try_get_by_index(0)?;
        let kind: String = row.try_get_by_index(1)?;
        let Some(kind) = CaseKind::parse(&kind) else { continue };
        let closed_at: DateTime<Utc> = row.try_get_by_index(3)?;
        out.entry(household).or_default().push(CaseEvent { kind, reason: row.try_get_by_index(2)?, closed_at });
    }
    Ok(out)
}

fn flag(record: &Record, field: &str) -> Option<bool> {
    match record.value(field) {
        FieldValue::Bool(b) => Some(*b),
        _ => None,
    }
}

/// Everything the statistics tables count, for every household of the unit.
pub async fn household_facts(
    conn: &impl ConnectionTrait,
    unit: &Region,
    scope: &Scope,
) -> Result<Vec<HouseholdFacts>, DbErr> {
    let ids = household_ids(conn, unit, scope).await?;
    let households = records::load_many(conn, &HOUSEHOLD, &ids).await?;
    let members = by_household(records::load_by_households(conn, &MEMBER, &ids).await?);
    let measures = by_household(records::load_by_households(conn, &HELP_MEASURE, &ids).await?);
    let mut cases = completed_cases(conn, unit, scope).await?;
    let none = Vec::new();
    Ok(households
        .into_iter()
        .map(|h| {
            let active: Vec<&Record> = members
                .get(&h.id)
                .unwrap_or(&none)
                .iter()
                .filter(|m| m.value("active") != &FieldValue::Bool(false))
                .collect();
            let category =
                |c: &str| measures.get(&h.id).is_some_and(|ms| ms.iter().any(|m| m.text("category") == Some(c)));
            HouseholdFacts {
                region_code: h.text("region_code").unwrap_or_default().to_owned(),
                status: h.text("status").unwrap_or("applicant").to_owned(),
                kind: h.text("kind").unwrap_or_default().to_owned(),
                guarantees: Guarantees {
                    food_clothing: flag(&h, "food_clothing_secure"),
                    education: flag(&h, "education_secure"),
                    medical: flag(&h, "medical_secure"),
                    housing: flag(&h, "housing_secure"),
                    water: flag(&h, "water_secure"),
                },
                active_members: active.len() as i64,
                disabled_member: active
                    .iter()
                    .any(|m| m.text("health") == Some("disabled") || m.text("id_type") == Some("disability_card")),
                migrant_worker: active
                    .iter()
                    .any(|m| matches!(m.text("work_area"), Some("within_province" | "outside_province"))),
                relocation_measure: category("relocation"),
                social_security_measure: category("social_security"),
                cases: cases.remove(&h.id).unwrap_or_default(),
                id: h.id,
            }
        })
        .collect())
}

/// Officers assigned to the unit's households at some time during `[from, to]`.
async fn officers(
    conn: &impl ConnectionTrait,
    unit: &Region,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<String, Vec<Officer>>, DbErr> {
    let (cond, mut values) = in_unit(unit, scope);
    let text = format!(
        "SELECT a.household_id, u.name, u.phone, a.start_date, a.end_date FROM assignment a \
         JOIN app_user u ON u.id = a.officer_id JOIN household h ON h.id = a.household_id \
         WHERE {cond} AND a.start_date <= ? AND (a.end_date IS NULL OR a.end_date >= ?) \
         ORDER BY a.household_id, a.start_date, u.name"
    );
    values.push(to.into());
    values.push(from.into());
    let mut out: HashMap<String, Vec<Officer>> = HashMap::new();
    for row in conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await? {
        let household: String = row.try_get_by_index(0)?;
        out.entry(household).or_default().push(Officer {
            name: row.try_get_by_index(1)?,
            phone: row.try_get_by_index(2)?,
            start_date: row.try_get_by_index(3)?,
            end_date: row.try_get_by_index(4)?,
        });
    }
    Ok(out)
}

/// 所在地 of each village: the names of its county, township and village.
async fn locations(conn: &impl ConnectionTrait, villages: &[String]) -> Result<HashMap<String, String>, DbErr> {
    let mut codes: Vec<String> = villages
        .iter()
        .filter(|v| v.len() == 12)
        .flat_map(|v| [format!("{}000000", &v[..6]), format!("{}000", &v[..9]), v.clone()])
        .collect();
    codes.sort();
    codes.dedup();
    let mut names: HashMap<String, String> = HashMap::new();
    for chunk in codes.chunks(500) {
        let text = format!("SELECT code, name FROM region WHERE code IN ({})", placeholders(chunk.len()));
        let values = chunk.iter().map(|c| Value::from(c.as_str())).collect();
        for row in conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await? {
            names.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        }
    }
    Ok(villages
        .iter()
        .map(|v| {
            let mut path: Vec<&str> = Vec::new();
            if v.len() == 12 {
                for code in [format!("{}000000", &v[..6]), format!("{}000", &v[..9]), v.clone()] {
                    if let Some(name) = names.get(&code)
                        && path.last() != Some(&name.as_str())
                    {
                        path.push(name);
                    }
                }
            }
            let location = if path.is_empty() { v.clone() } else { path.join(" ") };
            (v.clone(), location)
        })
        .collect())
}

/// The households of the unit that `include` keeps, with what the register prints.
pub async fn register_input(
    conn: &impl ConnectionTrait,
    unit: &Region,
    scope: &Scope,
    period: &super::Period,
    include: fn(&Record) -> bool,
) -> Result<RegisterInput, DbErr> {
    let ids = household_ids(conn, unit, scope).await?;
    let mut households: Vec<Record> = records::load_many(conn, &HOUSEHOLD, &ids).await?;
    households.retain(include);
    households.sort_by(|a, b| (a.text("region_code"), &a.id).cmp(&(b.text("region_code"), &b.id)));
    let ids: Vec<String> = households.iter().map(|h| h.id.clone()).collect();
    let mut villages: Vec<String> =
        households.iter().filter_map(|h| h.text("region_code").map(str::to_owned)).collect();
    villages.sort();
    villages.dedup();
    Ok(RegisterInput {
        members: by_household(records::load_by_households(conn, &MEMBER, &ids).await?),
        incomes: by_household(records::load_by_households(conn, &INCOME, &ids).await?),
        measures: by_household(records::load_by_households(conn, &HELP_MEASURE, &ids).await?),
        officers: officers(conn, unit, scope, period.from, period.to).await?,
        locations: locations(conn, &villages).await?,
        households,
    })
}
