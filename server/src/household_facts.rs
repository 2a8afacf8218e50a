//! Household facts written from the office (issue 11 item 2: every fact a rule reads is
//! recordable "through sync and the admin API"): fields of a household and of a member,
//! a year's income, and the possessions 002 §二(二) 3, 4, 6 ask about (vehicle, urban
//! property, business), created, changed and deleted; and what a confirmed comparison
//! lead found (a possession, a member's post or death), recorded in the same
//! transaction as the decision.
//!
//! Every write takes the road a pushed change takes: the field catalogue and its
//! validators, the entity's cross-record rules and the sign-off freeze
//! (`sync::entity_rules`, with the village team free at its own assessment,
//! `procedures::signing::households_frozen_levels`), a new version with a change-log row
//! so phones pull it, an audit entry per changed field, one transaction. A value already
//! stored is not written again, so a retry with the same body changes nothing.
//!
//! It sits above the procedures and beside sync because it uses both. What it must never
//! do: write a field the catalogue keeps read-only or create-only, change a person's
//! identity or relation (those go through sync's head and duplicate checks or a
//! member-change procedure), or let anyone write wider than their grant — officers keep
//! using sync; here the village team and the levels above write within their regions.

use crate::audit::Actor;
use crate::auth::Caller;
use crate::comparison::{self, Source};
use crate::db::{Db, WriteTxn, is_unique_violation, sql};
use crate::error::Refusal;
use crate::procedures::signing;
use crate::records::changelog::{LogEntry, LogOp};
use crate::records::server_edit::{self, Editor, Written};
use crate::records::{self, Record, scope};
use crate::sync::conflicts;
use crate::sync::entity_rules::{self, Checker, Proposed};
use chrono::Utc;
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use jingzhun_mobile_api::fields::{self, EntitySpec, FieldSpec, Policy};
use jingzhun_mobile_api::validate::{self, FieldValue};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Deserialize;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A body of field values by catalogue name.
pub type Fields = Map<String, Json>;

/// The things a household owns that a removal reason asks about, as the paths name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Possession {
    Vehicles,
    UrbanProperties,
    Businesses,
}

impl Possession {
    pub fn entity(self) -> &'static EntitySpec {
        match self {
            Possession::Vehicles => &fields::VEHICLE,
            Possession::UrbanProperties => &fields::URBAN_PROPERTY,
            Possession::Businesses => &fields::BUSINESS,
        }
    }

    /// The possession a department list's match is about, if it is about one.
    pub fn of_source(source: Source) -> Option<Possession> {
        match source {
            Source::Vehicles => Some(Possession::Vehicles),
            Source::UrbanProperty => Some(Possession::UrbanProperties),
            Source::Business => Some(Possession::Businesses),
            Source::PublicServants | Source::VillageCadres | Source::Deaths => None,
        }
    }
}

/// Fields that say who a person is or where they stand in the household: a change needs
/// sync's duplicate and one-head checks or a member-change procedure, not a form.
const NOT_EDITABLE_HERE: &[(&str, &str)] =
    &[("member", "id_number"), ("member", "id_type"), ("member", "no_id_reason"), ("member", "relation")];

/// A household as a write needs it.
struct Household {
    id: String,
    region_code: String,
}

/// Who may write: the caller's region grant covers the household (`office`), or — for a
/// lead decision, which an assigned officer may make too — the online edit right.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Right {
    Office,
    Online,
}

async fn household(txn: &WriteTxn, caller: &Caller, id: &str, right: Right) -> Result<Household, Refusal> {
    let region_code = scope::household_region(&**txn, id).await?.ok_or_else(Refusal::not_found)?;
    match right {
        Right::Office if !caller.edits_region(&region_code) => return Err(Refusal::out_of_scope()),
        Right::Office => {}
        Right::Online => scope::may_edit_online(&**txn, caller, id, &region_code).await?,
    }
    Ok(Household { id: id.to_owned(), region_code })
}

/// Whether a sign-off above the caller's level holds the household (a case at its village
/// assessment holds it at most at the village level).
async fn frozen(conn: &impl ConnectionTrait, caller: &Caller, id: &str, region_code: &str) -> Result<bool, Refusal> {
    let levels = signing::households_frozen_levels(conn, &[id.to_owned()]).await?;
    let mine = signing::caller_level(caller, region_code);
    Ok(levels.get(id).is_some_and(|level| mine < Some(*level)))
}

/// The field errors as one refusal: the freeze is a conflict with what was signed (409),
/// anything else a value the rules refuse (422), each error naming its field.
fn refusal(errors: Vec<FieldError>) -> Refusal {
    if errors.iter().any(|e| e.code == ErrorCode::CaseFrozen.code()) {
        return Refusal::conflict(ErrorCode::CaseFrozen);
    }
    let code = errors.first().and_then(|e| ErrorCode::from_code(&e.code)).unwrap_or(ErrorCode::InvalidRequest);
    Refusal::rejected(code).with_fields(errors)
}

/// The body's values through the catalogue's validators. `given` are fields the path
/// decides (household, year): the body may repeat them, never contradict them.
fn validated(
    entity: &'static EntitySpec,
    body: &Fields,
    creating: bool,
    given: &BTreeMap<&'static str, FieldValue>,
) -> Result<BTreeMap<&'static str, FieldValue>, Refusal> {
    let mut values = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, raw) in body {
        // The record's own id and version, echoed back from a read, are not fields.
        if name == "id" || name == "version" {
            continue;
        }
        let Some(field) = entity.field(name) else {
            errors.push(FieldError::new(name.as_str(), ErrorCode::UnknownField));
            continue;
        };
        if NOT_EDITABLE_HERE.contains(&(entity.name, field.name)) {
            errors.push(FieldError::new(field.name, ErrorCode::NotEditableHere));
            continue;
        }
        let value = match validate::field(field, raw) {
            Ok(value) => value,
            Err(code) => {
                errors.push(FieldError::new(field.name, code));
                continue;
            }
        };
        if let Some(fixed) = given.get(field.name) {
            if *fixed != value {
                errors.push(FieldError::new(field.name, ErrorCode::ReadOnlyField));
            }
            continue;
        }
        let writable = match field.policy {
            Policy::ReadOnly => false,
            Policy::CreateOnly => creating,
            Policy::Lww | Policy::Manual => true,
        };
        if !writable {
            errors.push(FieldError::new(field.name, ErrorCode::ReadOnlyField));
            continue;
        }
        values.insert(field.name, value);
    }
    if errors.is_empty() { Ok(values) } else { Err(refusal(errors)) }
}

fn field_of(entity: &'static EntitySpec, name: &str) -> Result<&'static FieldSpec, Refusal> {
    entity.field(name).ok_or_else(|| Refusal::internal(format!("{}.{name} is not catalogued", entity.name)))
}

/// Writes `values` over a stored record: the entity's rules and the freeze first, then
/// only the values that differ, as a new version with its log row, audit entries, and
/// the open conflicts on those fields closed as superseded.
async fn update_in(
    txn: &WriteTxn,
    caller: &Caller,
    entity: &'static EntitySpec,
    household: &Household,
    mut record: Record,
    values: BTreeMap<&'static str, FieldValue>,
) -> Result<Record, Refusal> {
    let rules = entity_rules::of(entity);
    let frozen = frozen(&**txn, caller, &household.id, &household.region_code).await?;
    let proposed =
        Proposed { id: &record.id, household_id: &household.id, frozen, values: &values, current: Some(&record) };
    let errors = Checker::new(caller, Utc::now()).check(&**txn, &rules, proposed).await?;
    if !errors.is_empty() {
        return Err(refusal(errors));
    }
    let changed: Vec<&'static str> =
        values.iter().filter(|(name, value)| record.value(name) != *value).map(|(name, _)| *name).collect();
    let mut changes = Vec::with_capacity(values.len());
    for (name, value) in values {
        changes.push((field_of(entity, name)?, value));
    }
    let editor = Editor {
        user_id: &caller.user_id,
        device_id: Some(&caller.device_id),
        action: "update",
        note: "recorded in the office (admin API)".into(),
    };
    let mut written =
        server_edit::update_fields(&**txn, &editor, entity, &mut record, changes, Some(&household.region_code)).await?;
    if !changed.is_empty() {
        for conflict_id in
            conflicts::close_superseded(&**txn, entity.name, &record.id, &changed, &caller.user_id).await?
        {
            written.log.push(conflicts::log_entry(conflict_id, &household.id, Some(household.region_code.clone()), 2));
        }
    }
    signing::record_written(txn, written).await?;
    Ok(record)
}

/// Creates a record of `entity` under the household: required fields, the entity's
/// rules and the freeze, the server-filled fields, then version 1 with its log row and
/// its audit entry (the whole record, as a pushed create has).
async fn create_in(
    txn: &WriteTxn,
    caller: &Caller,
    entity: &'static EntitySpec,
    household: &Household,
    id: &str,
    mut values: BTreeMap<&'static str, FieldValue>,
) -> Result<Record, Refusal> {
    values.insert("household_id", FieldValue::Uuid(household.id.clone()));
    let missing: Vec<FieldError> = entity
        .fields
        .iter()
        .filter(|f| f.required && !values.contains_key(f.name))
        .map(|f| FieldError::new(f.name, ErrorCode::Required))
        .collect();
    if !missing.is_empty() {
        return Err(refusal(missing));
    }
    let rules = entity_rules::of(entity);
    let frozen = frozen(&**txn, caller, &household.id, &household.region_code).await?;
    let proposed = Proposed { id, household_id: &household.id, frozen, values: &values, current: None };
    let errors = Checker::new(caller, Utc::now()).check(&**txn, &rules, proposed).await?;
    if !errors.is_empty() {
        return Err(refusal(errors));
    }
    for (name, filled) in rules.filled_on_create {
        values.insert(name, filled.value(caller));
    }
    let record = Record {
        id: id.to_owned(),
        version: 1,
        field_versions: values.keys().map(|k| ((*k).to_owned(), 1)).collect(),
        values,
    };
    if let Err(err) = records::insert(&**txn, entity, &record).await {
        if is_unique_violation(&err) {
            let (field, code) = rules.on_unique;
            return Err(Refusal::conflict(code).on_field(field));
        }
        return Err(err.into());
    }
    let mut written = Written::default();
    written.log.push(LogEntry {
        entity: entity.name,
        entity_id: record.id.clone(),
        household_id: Some(household.id.clone()),
        region_code: Some(household.region_code.clone()),
        target_user: None,
        op: LogOp::Upsert,
        version: 1,
    });
    let mut entry = Actor::of(caller).audit_household("create", entity.name, &record.id, &household.id);
    entry.new_value = Some(record.to_json(entity).to_string());
    entry.version = Some(1);
    entry.note = Some("recorded in the office (admin API)".into());
    written.audit.push(entry);
    signing::record_written(txn, written).await?;
    Ok(record)
}

/// What the caller may do to a household from the office, as the writes below will judge
/// it: the console shows its edit and 增人/减人 buttons by this answer, never by grants
/// of its own.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HouseholdRights {
    /// The caller's region grant covers the household (the office writes here accept them).
    pub edit: bool,
    /// A sign-off above the caller's level holds the household: writes answer `case_frozen`.
    pub frozen: bool,
    /// The caller may file a case for it (增人/减人 as member-change cases).
    pub open_case: bool,
    /// Fields (`entity.field`) that never change here: who a person is or their place in
    /// the household goes through sync or a member-change case.
    pub not_editable_here: Vec<String>,
}

/// The caller's rights over a household they may read; 404 for an unknown one,
/// `out_of_scope` for one outside every grant. Reads only.
pub async fn rights(db: &Db, caller: &Caller, id: &str) -> Result<HouseholdRights, Refusal> {
    let conn = &db.conn;
    let region_code = scope::household_region(conn, id).await?.ok_or_else(Refusal::not_found)?;
    let access = scope::household_access(conn, caller, id, &region_code).await?;
    if matches!(access, scope::Access::None) {
        return Err(Refusal::out_of_scope());
    }
    let edit = caller.edits_region(&region_code);
    let frozen = frozen(conn, caller, id, &region_code).await?;
    let files_cases = caller.grants.iter().any(|g| g.role.edits_households());
    Ok(HouseholdRights {
        edit,
        frozen: edit && frozen,
        open_case: files_cases && access.may_edit_online(),
        not_editable_here: NOT_EDITABLE_HERE.iter().map(|(entity, field)| format!("{entity}.{field}")).collect(),
    })
}

/// Sets fields of a household. Answers the household as stored after the write.
pub async fn update_household(db: &Db, caller: &Caller, id: &str, body: &Fields) -> Result<Json, Refusal> {
    let txn = db.begin_write().await?;
    let household = household(&txn, caller, id, Right::Office).await?;
    let values = validated(&fields::HOUSEHOLD, body, false, &BTreeMap::new())?;
    let record = records::load(&*txn, &fields::HOUSEHOLD, id, true).await?.ok_or_else(Refusal::not_found)?;
    let record = update_in(&txn, caller, &fields::HOUSEHOLD, &household, record, values).await?;
    txn.commit().await?;
    Ok(record.to_json(&fields::HOUSEHOLD))
}

/// Sets fields of a member (not who they are: see `NOT_EDITABLE_HERE`).
pub async fn update_member(db: &Db, caller: &Caller, id: &str, body: &Fields) -> Result<Json, Refusal> {
    let txn = db.begin_write().await?;
    let record = records::load(&*txn, &fields::MEMBER, id, true).await?.ok_or_else(Refusal::not_found)?;
    let household_id = record.text("household_id").unwrap_or_default().to_owned();
    let household = household(&txn, caller, &household_id, Right::Office).await?;
    let values = validated(&fields::MEMBER, body, false, &BTreeMap::new())?;
    let record = update_in(&txn, caller, &fields::MEMBER, &household, record, values).await?;
    txn.commit().await?;
    Ok(record.to_json(&fields::MEMBER))
}

#[derive(FromQueryResult)]
struct IdRow {
    id: String,
}

/// Sets the household's income of `year`, creating the year's record if there is none.
/// Answers the record and whether it was created.
pub async fn put_income(
    db: &Db,
    caller: &Caller,
    household_id: &str,
    year: i64,
    body: &Fields,
) -> Result<(Json, bool), Refusal> {
    let txn = db.begin_write().await?;
    let household = household(&txn, caller, household_id, Right::Office).await?;
    let year_field = field_of(&fields::INCOME, "year")?;
    let year_value =
        validate::field(year_field, &Json::from(year)).map_err(|code| Refusal::rejected(code).on_field("year"))?;
    let given =
        BTreeMap::from([("household_id", FieldValue::Uuid(household.id.clone())), ("year", year_value.clone())]);
    let existing = IdRow::find_by_statement(sql(
        txn.get_database_backend(),
        "SELECT id FROM income_record WHERE household_id = ? AND year = ?",
        vec![household.id.as_str().into(), year.into()],
    ))
    .one(&*txn)
    .await?;
    let (record, created) = match existing {
        Some(row) => {
            let values = validated(&fields::INCOME, body, false, &given)?;
            let record = records::load(&*txn, &fields::INCOME, &row.id, true).await?.ok_or_else(Refusal::not_found)?;
            (update_in(&txn, caller, &fields::INCOME, &household, record, values).await?, false)
        }
        None => {
            let mut values = validated(&fields::INCOME, body, true, &given)?;
            values.insert("year", year_value);
            let id = Uuid::new_v4().to_string();
            (create_in(&txn, caller, &fields::INCOME, &household, &id, values).await?, true)
        }
    };
    txn.commit().await?;
    Ok((record.to_json(&fields::INCOME), created))
}

/// A possession record of the household, or 404 (one of another household too).
async fn possession_record(
    txn: &WriteTxn,
    entity: &'static EntitySpec,
    household: &Household,
    id: &str,
) -> Result<Option<Record>, Refusal> {
    let record = records::load(&**txn, entity, id, true).await?;
    match record {
        Some(r) if r.text("household_id") == Some(household.id.as_str()) => Ok(Some(r)),
        Some(_) => Err(Refusal::conflict(ErrorCode::AlreadyExists).on_field("id")),
        None => Ok(None),
    }
}

/// Records a possession. The body may carry the record's `id` (a UUID the client made):
/// sent again, the same body changes nothing and answers the record. Answers the record
/// and whether it was created.
pub async fn create_possession(
    db: &Db,
    caller: &Caller,
    household_id: &str,
    kind: Possession,
    body: &Fields,
) -> Result<(Json, bool), Refusal> {
    let entity = kind.entity();
    let id = match body.get("id") {
        None | Some(Json::Null) => Uuid::new_v4().to_string(),
        Some(raw) => raw
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .map(|u| u.to_string())
            .ok_or_else(|| Refusal::rejected(ErrorCode::InvalidType).on_field("id"))?,
    };
    let txn = db.begin_write().await?;
    let household = household(&txn, caller, household_id, Right::Office).await?;
    let given = BTreeMap::from([("household_id", FieldValue::Uuid(household.id.clone()))]);
    let (record, created) = match possession_record(&txn, entity, &household, &id).await? {
        Some(record) => {
            let values = validated(entity, body, false, &given)?;
            (update_in(&txn, caller, entity, &household, record, values).await?, false)
        }
        None => {
            let values = validated(entity, body, true, &given)?;
            (create_in(&txn, caller, entity, &household, &id, values).await?, true)
        }
    };
    txn.commit().await?;
    Ok((record.to_json(entity), created))
}

/// Sets fields of a possession of the household.
pub async fn update_possession(
    db: &Db,
    caller: &Caller,
    household_id: &str,
    kind: Possession,
    id: &str,
    body: &Fields,
) -> Result<Json, Refusal> {
    let entity = kind.entity();
    let txn = db.begin_write().await?;
    let household = household(&txn, caller, household_id, Right::Office).await?;
    let record = possession_record(&txn, entity, &household, id).await?.ok_or_else(Refusal::not_found)?;
    let given = BTreeMap::from([("household_id", FieldValue::Uuid(household.id.clone()))]);
    let values = validated(entity, body, false, &given)?;
    let record = update_in(&txn, caller, entity, &household, record, values).await?;
    txn.commit().await?;
    Ok(record.to_json(entity))
}

/// Deletes a possession (sold, or never there). One already gone is no error: the wish
/// holds, as for a phone's delete.
pub async fn delete_possession(
    db: &Db,
    caller: &Caller,
    household_id: &str,
    kind: Possession,
    id: &str,
) -> Result<(), Refusal> {
    let entity = kind.entity();
    let txn = db.begin_write().await?;
    let household = household(&txn, caller, household_id, Right::Office).await?;
    let Some(record) = possession_record(&txn, entity, &household, id).await? else {
        return Ok(());
    };
    if entity_rules::of(entity).frozen_by_signoff
        && frozen(&*txn, caller, &household.id, &household.region_code).await?
    {
        return Err(Refusal::conflict(ErrorCode::CaseFrozen));
    }
    records::delete(&*txn, entity, id).await?;
    let version = record.version + 1;
    let mut written = Written::default();
    written.log.push(LogEntry {
        entity: entity.name,
        entity_id: id.to_owned(),
        household_id: Some(household.id.clone()),
        region_code: Some(household.region_code.clone()),
        target_user: None,
        op: LogOp::Delete,
        version,
    });
    let mut entry = Actor::of(caller).audit_household("delete", entity.name, id, &household.id);
    entry.old_value = Some(record.to_json(entity).to_string());
    entry.version = Some(version);
    entry.note = Some("recorded in the office (admin API)".into());
    written.audit.push(entry);
    signing::record_written(&txn, written).await?;
    txn.commit().await?;
    Ok(())
}

/// A decision on a comparison lead.
pub struct LeadDecision {
    pub confirm: bool,
    pub note: String,
    /// Fields of what a confirmed lead records, over what the department's row says (its
    /// date, its price): of the possession for a vehicle, property or business lead, where
    /// what the row cannot say (`as_exit_measure`, a property's kind) must be given; of
    /// the member for a post or a death.
    pub record: Fields,
}

/// Decides a lead; a confirmed one records what it found in the same transaction, with
/// the department's date, so the removal findings and review flags read it: a vehicle,
/// town house or business as a new possession of the household; a public post, a
/// village cadre's post or a death on the member the list named. Answers the entity
/// and the record written, if one was.
pub async fn decide_lead(
    db: &Db,
    caller: &Caller,
    lead_id: &str,
    decision: LeadDecision,
) -> Result<Option<(&'static str, Json)>, Refusal> {
    let txn = db.begin_write().await?;
    let lead = comparison::import::decide_in(&txn, caller, lead_id, decision.confirm, &decision.note).await?;
    if !decision.confirm {
        txn.commit().await?;
        return Ok(None);
    }
    let household = household(&txn, caller, &lead.household_id, Right::Online).await?;
    let recorded = match Possession::of_source(lead.source) {
        Some(kind) => {
            let entity = kind.entity();
            let given = BTreeMap::from([("household_id", FieldValue::Uuid(household.id.clone()))]);
            let mut body = from_lead(kind, &lead, lead_id, &decision.note);
            body.extend(decision.record);
            let values = validated(entity, &body, true, &given)?;
            let id = Uuid::new_v4().to_string();
            let record = create_in(&txn, caller, entity, &household, &id, values).await?;
            (entity.name, record.to_json(entity))
        }
        None => {
            let member = records::load(&*txn, &fields::MEMBER, &lead.member_id, true)
                .await?
                .filter(|m| m.text("household_id") == Some(household.id.as_str()))
                .ok_or_else(Refusal::not_found)?;
            let mut body = member_facts(&lead);
            body.extend(decision.record);
            let values = validated(&fields::MEMBER, &body, false, &BTreeMap::new())?;
            let record = update_in(&txn, caller, &fields::MEMBER, &household, member, values).await?;
            (fields::MEMBER.name, record.to_json(&fields::MEMBER))
        }
    };
    txn.commit().await?;
    Ok(Some(recorded))
}

/// What a confirmed list of persons says about the member it named (002 §二(二) 1, 2, 9):
/// a post paid from public funds or a village cadre's post since the list's date (the
/// date decides 002's exception for a post taken after registration), or a death.
fn member_facts(lead: &comparison::import::DecidedLead) -> Fields {
    let mut body = Fields::new();
    let date = comparison::parse::date_in(&lead.details).map(|d| Json::from(d.format("%Y-%m-%d").to_string()));
    let (flag, since) = match lead.source {
        Source::PublicServants => ("public_servant", Some("public_servant_since")),
        Source::VillageCadres => ("village_cadre", Some("village_cadre_since")),
        Source::Deaths => ("deceased", None),
        // Possessions are recorded as records of their own.
        Source::Vehicles | Source::UrbanProperty | Source::Business => return body,
    };
    body.insert(flag.into(), Json::Bool(true));
    if let (Some(since), Some(date)) = (since, date) {
        body.insert(since.into(), date);
    }
    body
}

/// What a department's row says about the possession: when it was acquired (the date
/// that decides 002's exception for things bought after registration as an exit
/// measure), a vehicle's price, that the member on the list owns it, and a note naming
/// the lead.
fn from_lead(kind: Possession, lead: &comparison::import::DecidedLead, lead_id: &str, note: &str) -> Fields {
    let mut body = Fields::new();
    let date = comparison::parse::date_in(&lead.details).map(|d| Json::from(d.format("%Y-%m-%d").to_string()));
    let date_field = match kind {
        Possession::Vehicles | Possession::UrbanProperties => "acquired_on",
        Possession::Businesses => "registered_on",
    };
    if let Some(date) = date {
        body.insert(date_field.into(), date);
    }
    let why: String = format!("比对线索 {lead_id} 核实确认：{note}").chars().take(200).collect();
    match kind {
        Possession::Vehicles => {
            // 公安交警's register lists motor vehicles, each under its registered owner.
            body.insert("kind".into(), Json::from("motor_vehicle"));
            body.insert("owned".into(), Json::Bool(true));
            if let Some(price) = comparison::parse::value_in(&lead.details) {
                body.insert("price".into(), price);
            }
            body.insert("note".into(), Json::from(why));
        }
        Possession::UrbanProperties => {
            body.insert("note".into(), Json::from(why));
        }
        Possession::Businesses => {}
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Json) -> Fields {
        value.as_object().cloned().unwrap_or_default()
    }

    fn refused(result: Result<BTreeMap<&'static str, FieldValue>, Refusal>) -> Vec<(String, String)> {
        match result {
            Ok(values) => panic!("accepted: {values:?}"),
            Err(refusal) => refusal.fields.into_iter().map(|e| (e.field, e.code)).collect(),
        }
    }

    #[test]
    fn the_catalogue_decides_what_the_office_may_write() {
        let none = BTreeMap::new();
        let values = validated(&fields::HOUSEHOLD, &body(json!({"id": "x", "nominal_hukou": true})), false, &none);
        assert_eq!(values.expect("valid").get("nominal_hukou"), Some(&FieldValue::Bool(true)));
        let errors = refused(validated(
            &fields::HOUSEHOLD,
            &body(json!({"status": "exited", "region_code": "320703001002", "nominal_hukou": 1, "x": 1})),
            false,
            &none,
        ));
        assert_eq!(
            errors,
            [
                ("nominal_hukou".into(), "invalid_type".into()),
                ("region_code".into(), "read_only_field".into()),
                ("status".into(), "read_only_field".into()),
                ("x".into(), "unknown_field".into()),
            ]
        );
        let errors = refused(validated(&fields::MEMBER, &body(json!({"relation": "head"})), false, &none));
        assert_eq!(errors, [("relation".into(), "not_editable_here".into())]);
    }

    #[test]
    fn the_path_decides_household_and_year() {
        let household = "2f1d4a8e-8c1b-4b53-9a4e-2d5b8f0c1a11";
        let given =
            BTreeMap::from([("household_id", FieldValue::Uuid(household.into())), ("year", FieldValue::Int(2026))]);
        let same = body(json!({"household_id": household, "year": 2026, "wage": 100}));
        let values = validated(&fields::INCOME, &same, true, &given).expect("the path repeated");
        assert_eq!(values.keys().copied().collect::<Vec<_>>(), ["wage"]);
        let other = body(json!({"year": 2025}));
        assert_eq!(
            refused(validated(&fields::INCOME, &other, true, &given)),
            [("year".into(), "read_only_field".into())]
        );
    }

    #[test]
    fn a_frozen_household_is_a_conflict_not_a_bad_value() {
        let frozen = refusal(vec![FieldError::new("", ErrorCode::CaseFrozen)]);
        assert_eq!((frozen.kind, frozen.code), (crate::error::Kind::Conflict, ErrorCode::CaseFrozen));
        let bad = refusal(vec![FieldError::new("price", ErrorCode::InvalidMoney)]);
        assert_eq!((bad.kind, bad.code, bad.fields.len()), (crate::error::Kind::Rejected, ErrorCode::InvalidMoney, 1));
    }

    #[test]
    fn every_possession_is_a_deletable_entity_of_the_catalogue() {
        for kind in [Possession::Vehicles, Possession::UrbanProperties, Possession::Businesses] {
            let entity = kind.entity();
            assert!(entity.deletable && fields::entity(entity.name).is_some(), "{}", entity.name);
        }
    }
}
