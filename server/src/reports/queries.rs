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
use jingzhun_mobile_api::codes::{POLITICAL_STATUS, SEX};
use jingzhun_mobile_api::fields::{
    BUSINESS, HELP_MEASURE, HELP_PLAN, HOUSEHOLD, INCOME, MEMBER, URBAN_PROPERTY, VEHICLE,
};
use jingzhun_mobile_api::validate::FieldValue;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use std::collections::HashMap;

type Scope = (String, Vec<Value>);

pub async fn region(conn: &impl ConnectionTrait, code: &str) -> Result<Option<Region>, DbErr> {
    let stmt = sql(
        conn.get_database_backend(),
        "SELECT code, name, level, parent_code FROM region WHERE code = ?",
        vec![code.into()],
    );
    Region::find_by_statement(stmt).one(conn).await
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
    for child in Region::find_by_statement(stmt).all(conn).await? {
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

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

/// How many households a report of `unit` for this scope covers.
pub async fn count_households(conn: &impl ConnectionTrait, unit: &Region, scope: &Scope) -> Result<u64, DbErr> {
    let (cond, values) = in_unit(unit, scope);
    let text = format!("SELECT COUNT(*) AS n FROM household h WHERE {cond}");
    let count = Count::find_by_statement(sql(conn.get_database_backend(), &text, values)).one(conn).await?;
    Ok(count.map_or(0, |c| c.n).max(0) as u64)
}

#[derive(FromQueryResult)]
struct Id {
    id: String,
}

async fn household_ids(conn: &impl ConnectionTrait, unit: &Region, scope: &Scope) -> Result<Vec<String>, DbErr> {
    let (cond, values) = in_unit(unit, scope);
    let text = format!("SELECT h.id FROM household h WHERE {cond} ORDER BY h.region_code, h.id");
    let rows = Id::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
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

#[derive(FromQueryResult)]
struct CompletedCase {
    household_id: String,
    kind: String,
    reason: Option<String>,
    closed_at: DateTime<Utc>,
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
    for case in CompletedCase::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await? {
        let Some(kind) = CaseKind::parse(&case.kind) else { continue };
        out.entry(case.household_id).or_default().push(CaseEvent {
            kind,
            reason: case.reason,
            closed_at: case.closed_at,
        });
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
    let vehicles = by_household(records::load_by_households(conn, &VEHICLE, &ids).await?);
    let properties = by_household(records::load_by_households(conn, &URBAN_PROPERTY, &ids).await?);
    let businesses = by_household(records::load_by_households(conn, &BUSINESS, &ids).await?);
    let exit_years = exit_years(conn, unit, scope).await?;
    let none = Vec::new();
    Ok(households
        .into_iter()
        .map(|h| {
            fn of<'a>(by: &'a HashMap<String, Vec<Record>>, id: &str) -> &'a [Record] {
                by.get(id).map_or(&[], Vec::as_slice)
            }
            // 000 附件3 counts a removed household under every review case its facts show,
            // read as the assessment reads them.
            let mut facts =
                crate::assess::facts::facts_from_records(&h, of(&members, &h.id), None, of(&measures, &h.id));
            crate::assess::facts::add_possessions(
                &mut facts,
                of(&vehicles, &h.id),
                of(&properties, &h.id),
                of(&businesses, &h.id),
            );
            let review_flags = crate::domain::removal::review_flags(&facts).into_iter().map(|f| f.code()).collect();
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
                review_flags,
                exit_year: exit_years.get(&h.id).copied(),
                cases: cases.remove(&h.id).unwrap_or_default(),
                id: h.id,
            }
        })
        .collect())
}

#[derive(FromQueryResult)]
struct ExitYear {
    id: String,
    exit_year: i64,
}

/// The exit years the register import stored (not a catalogue field), by household.
async fn exit_years(conn: &impl ConnectionTrait, unit: &Region, scope: &Scope) -> Result<HashMap<String, i64>, DbErr> {
    let (cond, values) = in_unit(unit, scope);
    let text = format!("SELECT h.id, h.exit_year FROM household h WHERE {cond} AND h.exit_year IS NOT NULL");
    let rows = ExitYear::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.id, r.exit_year)).collect())
}

#[derive(FromQueryResult)]
struct AssignedOfficer {
    household_id: String,
    name: String,
    phone: Option<String>,
    sex: Option<String>,
    political_status: Option<String>,
    work_unit: Option<String>,
    start_date: NaiveDate,
    end_date: Option<NaiveDate>,
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
        "SELECT a.household_id, u.name, u.phone, u.sex, u.political_status, u.work_unit, a.start_date, a.end_date FROM assignment a \
         JOIN app_user u ON u.id = a.officer_id JOIN household h ON h.id = a.household_id \
         WHERE {cond} AND a.start_date <= ? AND (a.end_date IS NULL OR a.end_date >= ?) \
         ORDER BY a.household_id, a.start_date, u.name"
    );
    values.push(to.into());
    values.push(from.into());
    let mut out: HashMap<String, Vec<Officer>> = HashMap::new();
    for row in AssignedOfficer::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await? {
        out.entry(row.household_id).or_default().push(Officer {
            name: row.name,
            phone: row.phone,
            sex: row.sex.map(|c| SEX.label_of(&c).map_or(c.clone(), str::to_owned)),
            political_status: row
                .political_status
                .map(|c| POLITICAL_STATUS.label_of(&c).map_or(c.clone(), str::to_owned)),
            work_unit: row.work_unit,
            start_date: row.start_date,
            end_date: row.end_date,
        });
    }
    Ok(out)
}

/// A region's code and name.
#[derive(FromQueryResult)]
struct RegionName {
    code: String,
    name: String,
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
        for region in RegionName::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await? {
            names.insert(region.code, region.name);
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
    let mut policies = HashMap::new();
    for village in &villages {
        policies.insert(village.clone(), crate::assess::policy::for_region(conn, village).await?);
    }
    Ok(RegisterInput {
        members: by_household(records::load_by_households(conn, &MEMBER, &ids).await?),
        incomes: by_household(records::load_by_households(conn, &INCOME, &ids).await?),
        measures: by_household(records::load_by_households(conn, &HELP_MEASURE, &ids).await?),
        plans: by_household(records::load_by_households(conn, &HELP_PLAN, &ids).await?),
        officers: officers(conn, unit, scope, period.from, period.to).await?,
        locations: locations(conn, &villages).await?,
        policies,
        households,
    })
}

/// The names of the unit's regions, by code, for the data-quality list.
pub async fn region_names(conn: &impl ConnectionTrait, unit: &Region) -> Result<HashMap<String, String>, DbErr> {
    let rows = RegionName::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT code, name FROM region WHERE code LIKE ?",
        vec![format!("{}%", unit.prefix()).into()],
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.code, r.name)).collect())
}

#[derive(FromQueryResult)]
struct Name {
    name: String,
}

/// The name of the household's active head, if it has one.
pub async fn head_name(conn: &impl ConnectionTrait, household_id: &str) -> Result<Option<String>, DbErr> {
    let head = Name::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT name FROM member WHERE household_id = ? AND relation = 'head' AND active",
        vec![household_id.into()],
    ))
    .one(conn)
    .await?;
    Ok(head.map(|h| h.name))
}

#[derive(FromQueryResult)]
struct MemberChangeRow {
    household_id: String,
    member_id: Option<String>,
    reason: Option<String>,
    region_code: String,
}

/// Member changes (004 附件3–4) completed in the period, of the unit's households in
/// scope, with every member of the households concerned and their villages' names.
pub async fn member_changes(
    conn: &impl ConnectionTrait,
    unit: &Region,
    scope: &Scope,
    period: &super::Period,
) -> Result<super::paper::ChangeInput, DbErr> {
    let (cond, mut values) = in_unit(unit, scope);
    let text = format!(
        "SELECT c.household_id, c.member_id, c.reason, h.region_code FROM procedure_case c \
         JOIN household h ON h.id = c.household_id \
         WHERE {cond} AND c.kind = 'member_change' AND c.status = 'completed' \
         AND c.closed_at >= ? AND c.closed_at < ? ORDER BY h.region_code, c.household_id, c.closed_at, c.id"
    );
    values.push(period.start().into());
    values.push(period.end().into());
    let rows = MemberChangeRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    let mut input = super::paper::ChangeInput::default();
    let mut ids: Vec<String> = Vec::new();
    for row in rows {
        let (Some(member_id), Some(reason)) = (row.member_id, row.reason) else { continue };
        if !ids.contains(&row.household_id) {
            ids.push(row.household_id.clone());
        }
        input.household_village.insert(row.household_id.clone(), row.region_code);
        input.changes.push(super::paper::MemberChange { household_id: row.household_id, member_id, reason });
    }
    input.members = by_household(records::load_by_households(conn, &MEMBER, &ids).await?);
    let names = region_names(conn, unit).await?;
    input.villages =
        input.household_village.values().filter_map(|v| names.get(v).map(|n| (v.clone(), n.clone()))).collect();
    Ok(input)
}

/// Households of the unit whose identification or relapse (新识别、返贫) completed in
/// the period: 001's quarterly 系统外人员 list is of those only.
pub async fn newly_registered(
    conn: &impl ConnectionTrait,
    unit: &Region,
    scope: &Scope,
    period: &super::Period,
) -> Result<std::collections::HashSet<String>, DbErr> {
    let (cond, mut values) = in_unit(unit, scope);
    let text = format!(
        "SELECT DISTINCT c.household_id AS id FROM procedure_case c JOIN household h ON h.id = c.household_id \
         WHERE {cond} AND c.kind IN ('identify', 'relapse') AND c.status = 'completed' \
         AND c.closed_at >= ? AND c.closed_at < ?"
    );
    values.push(period.start().into());
    values.push(period.end().into());
    let rows = Id::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
