//! The demo county's register loaded the way a county loads its own (issue 11 item 1):
//! the generated households written out as a 对照表 file (docs/register-import.md) and
//! read back through `jingzhun::imports::register`, the service `jingzhun import
//! register` calls, inside the demo's one transaction. What the register does not carry
//! is written as before: households a register cannot hold (applicants, rejected),
//! members who left, the catalogue fields outside the layout (两不愁三保障, 两不退,
//! phones), and everything that hangs off a household (incomes, cases, leads…), with
//! the ids the import gave.
//!
//! What this must never do: write a household or member the import refused, or leave a
//! generated record pointing at an id the import did not give.

use super::history::History;
use super::households::DemoHousehold;
use super::{HISTORY_YEAR, officer_username};
use anyhow::{Context, bail};
use chrono::{Datelike, NaiveDate};
use jingzhun::config::Config;
use jingzhun::db::{placeholders, sql};
use jingzhun::imports::register::{self, ImportRequest};
use jingzhun::records::{self, Record};
use jingzhun::registry::Actor;
use jingzhun_mobile_api::fields::{self, EntitySpec};
use jingzhun_mobile_api::validate::FieldValue;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use std::collections::HashMap;

/// The statuses a register holds; other households are written directly.
const REGISTER_STATUSES: [&str; 3] = ["registered", "exited", "removed"];

const HEADER: &str = "户编号,行政区划代码,家庭住址,联系电话,户状态,建档立卡日期,脱贫年度,帮扶责任人账号,\
                      A23,A24,A26,A27a,A27b,A27c,A1,A2,A3,A4,无证件原因,A5,A10";

/// Whether the register carries this household.
pub(super) fn in_register(household: &DemoHousehold) -> bool {
    household.record.text("status").is_some_and(|s| REGISTER_STATUSES.contains(&s))
}

/// Whether a member is in the household (the register lists those; one who left is
/// written directly).
pub(super) fn present(member: &Record) -> bool {
    member.value("active") != &FieldValue::Bool(false)
}

fn cell(value: &FieldValue) -> String {
    match value {
        FieldValue::Text(s) | FieldValue::Uuid(s) | FieldValue::Date(s) => s.clone(),
        FieldValue::Int(n) => n.to_string(),
        FieldValue::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
        _ => String::new(),
    }
}

/// The 户编号 of the `n`th household: its village's code and a six-digit number.
fn household_number(household: &DemoHousehold, n: usize) -> String {
    format!("{}{n:06}", household.record.text("region_code").unwrap_or_default())
}

/// The 建档立卡 date: for a household identified in the demo's year, the day its case
/// closed; otherwise a day of the 2014–2016 建档立卡 drive, spread by household.
fn registered_on(n: usize, identified: &HashMap<String, NaiveDate>, household: &DemoHousehold) -> NaiveDate {
    if let Some(day) = identified.get(&household.record.id) {
        return *day;
    }
    let start = NaiveDate::from_ymd_opt(2014, 4, 1).unwrap_or_default();
    start + chrono::Days::new((n * 37 % 900) as u64)
}

/// The register file of the households it can hold: one row per present member.
pub(super) fn register_csv(households: &[DemoHousehold], history: &History) -> String {
    let identified: HashMap<String, NaiveDate> = history
        .cases
        .iter()
        .filter(|c| c.kind() == "identify" && c.status() == "completed")
        .filter_map(|c| Some((c.record.text("household_id")?.to_owned(), c.closed_at?.date_naive())))
        .filter(|(_, day)| day.year() == HISTORY_YEAR)
        .collect();
    let mut csv = String::from(HEADER);
    csv.push('\n');
    for (n, household) in households.iter().enumerate().filter(|(_, h)| in_register(h)) {
        let h = &household.record;
        let status = h.text("status").unwrap_or_default();
        // A household that relapsed this year keeps the year it had exited in.
        let exit_year = match history.earlier_exit.get(&h.id) {
            _ if status == "exited" => cell(h.value("planned_exit_year")),
            Some(year) => year.to_string(),
            None => String::new(),
        };
        let officers: Vec<String> = household.officers.iter().map(|o| officer_username(o + 1)).collect();
        let causes: Vec<String> = match h.value("poverty_causes") {
            FieldValue::List(list) => list.clone(),
            _ => Vec::new(),
        };
        let cause = |i: usize| causes.get(i).cloned().unwrap_or_default();
        let planned = if status == "registered" { cell(h.value("planned_exit_year")) } else { String::new() };
        for member in household.members.iter().filter(|m| present(m)) {
            let row = [
                household_number(household, n),
                cell(h.value("region_code")),
                cell(h.value("address")),
                cell(h.value("phone")),
                status.to_owned(),
                registered_on(n, &identified, household).to_string(),
                exit_year.clone(),
                officers.join("、"),
                cell(h.value("standard")),
                cell(h.value("kind")),
                planned.clone(),
                cause(0),
                cause(1),
                cause(2),
                cell(member.value("name")),
                cell(member.value("sex")),
                cell(member.value("id_type")),
                cell(member.value("id_number")),
                cell(member.value("no_id_reason")),
                cell(member.value("relation")),
                cell(member.value("health")),
            ];
            csv.push_str(&row.join(","));
            csv.push('\n');
        }
    }
    csv
}

#[derive(FromQueryResult)]
struct NumberRow {
    id: String,
    household_number: String,
}

#[derive(FromQueryResult)]
struct MemberRow {
    id: String,
    household_id: String,
    name: String,
    relation: Option<String>,
    id_number: Option<String>,
}

/// How the import's member is found again: by ID number, or, for a person without one,
/// by household, name and relation to the head, as the import itself matches them.
#[derive(PartialEq, Eq, Hash, Debug)]
enum MemberKey {
    Number(String),
    Person { household_id: String, name: String, relation: String },
}

fn member_key(household_id: &str, name: &str, relation: Option<&str>, id_number: Option<&str>) -> MemberKey {
    match id_number.filter(|n| !n.is_empty()) {
        Some(number) => MemberKey::Number(number.to_owned()),
        None => MemberKey::Person {
            household_id: household_id.to_owned(),
            name: name.to_owned(),
            relation: relation.unwrap_or_default().to_owned(),
        },
    }
}

/// Imports the register inside `conn`'s transaction, then gives every generated record
/// the ids the import chose and writes the fields the register does not carry.
pub(super) async fn load_register(
    conn: &impl ConnectionTrait,
    households: &mut [DemoHousehold],
    history: &mut History,
) -> anyhow::Result<register::ImportReport> {
    let csv = register_csv(households, history);
    let caps = register::caps(&Config::defaults().context("the default configuration")?.uploads);
    let request =
        ImportRequest { file_name: "演示县建档立卡台账.csv".into(), bytes: csv.into_bytes(), dry_run: false };
    let report = register::run_in(conn, &Actor::CLI, request, caps, &|_| {})
        .await
        .map_err(|r| anyhow::anyhow!("{}: {}", r.code.code(), r.code.message_zh()))?;
    if !report.written || report.errors_total > 0 {
        let first: Vec<String> = report.errors.iter().take(5).map(|e| e.message_zh.clone()).collect();
        bail!("the demo register did not import ({} errors): {}", report.errors_total, first.join("; "));
    }

    // The import's ids, by household number and by member (ID number, or person).
    let backend = conn.get_database_backend();
    let by_number: HashMap<String, String> = NumberRow::find_by_statement(sql(
        backend,
        "SELECT id, household_number FROM household WHERE household_number IS NOT NULL AND region_code LIKE ?",
        vec![format!("{}%", super::ID_AREA).into()],
    ))
    .all(conn)
    .await?
    .into_iter()
    .map(|r| (r.household_number, r.id))
    .collect();
    let new_ids: Vec<String> = by_number.values().cloned().collect();
    let mut by_member: HashMap<MemberKey, String> = HashMap::new();
    for chunk in new_ids.chunks(500) {
        let text = format!(
            "SELECT id, household_id, name, relation, id_number FROM member WHERE household_id IN ({})",
            placeholders(chunk.len())
        );
        let values: Vec<Value> = chunk.iter().map(|id| id.as_str().into()).collect();
        for row in MemberRow::find_by_statement(sql(backend, &text, values)).all(conn).await? {
            let key = member_key(&row.household_id, &row.name, row.relation.as_deref(), row.id_number.as_deref());
            by_member.insert(key, row.id);
        }
    }

    let mut renamed: HashMap<String, String> = HashMap::new();
    for (n, household) in households.iter_mut().enumerate().filter(|(_, h)| in_register(h)) {
        let number = household_number(household, n);
        let new = by_number.get(&number).with_context(|| format!("household {number} not imported"))?;
        renamed.insert(household.record.id.clone(), new.clone());
        household.record.id = new.clone();
        for member in household.members.iter_mut().filter(|m| present(m)) {
            let key = member_key(
                new,
                member.text("name").unwrap_or_default(),
                member.text("relation"),
                member.text("id_number"),
            );
            let new = by_member.get(&key).with_context(|| format!("member {key:?} not imported"))?;
            renamed.insert(member.id.clone(), new.clone());
            member.id = new.clone();
        }
    }
    let rename = |record: &mut Record| {
        for value in record.values.values_mut() {
            if let FieldValue::Uuid(id) = value
                && let Some(new) = renamed.get(id.as_str())
            {
                *id = new.clone();
            }
        }
    };
    for household in households.iter_mut() {
        let records = household.members.iter_mut().chain(household.incomes.iter_mut());
        let records = records.chain(household.measures.iter_mut()).chain(household.plans.iter_mut());
        for record in records.chain(household.tasks.iter_mut()).chain(household.visits.iter_mut()) {
            rename(record);
        }
    }
    for case in &mut history.cases {
        rename(&mut case.record);
    }
    for lead in &mut history.leads {
        if let Some(new) = renamed.get(&lead.member_id) {
            lead.member_id = new.clone();
        }
    }

    // What the register does not carry, on the imported records, at version 1 as the
    // rest of the demo.
    for household in households.iter().filter(|h| in_register(h)) {
        rewrite(conn, &fields::HOUSEHOLD, &household.record).await?;
        for member in household.members.iter().filter(|m| present(m)) {
            rewrite(conn, &fields::MEMBER, member).await?;
        }
    }
    Ok(report)
}

/// Writes every field of a generated record over the imported one.
async fn rewrite(conn: &impl ConnectionTrait, entity: &'static EntitySpec, record: &Record) -> anyhow::Result<()> {
    let changed: Vec<&'static fields::FieldSpec> =
        entity.fields.iter().filter(|f| record.values.contains_key(f.name)).collect();
    records::update(conn, entity, record, &changed).await?;
    Ok(())
}
