//! Applying pushed change sets (DESIGN §5).
//!
//! Each change set is all-or-nothing in its own transaction and answered once: its
//! first answer is stored with it, and a retry of the same id from the same device gets
//! that answer back without applying anything again. A rejected change set is stored
//! too, for a supervisor, and never stops the change sets after it.
//!
//! Push never changes a household's status: status fields are read-only to phones and
//! move only through procedures.
//!
//! An officer whose assignment has ended may still deliver what the phone recorded
//! offline before the end: updates and creates of ordinary records, within
//! `sync.former_officer_grace_days` after the end date, judged by the change set's
//! `recorded_at`. Anything else from them (a delete, a new case, an edit recorded after
//! the end or arriving after the window) rejects the change set with
//! `assignment_ended`; it is kept for a supervisor like every rejected change set.
//!
//! An ID number already registered in a household the caller cannot read is answered
//! `needs_review`, never `duplicate_person`, so a push cannot tell whether a person is
//! registered elsewhere; such hits are audited and counted, and after
//! [`ID_LOOKUPS_PER_DAY`] a day every ID number from that user is refused with
//! `too_many_attempts` without a look-up.

use crate::records::changelog::{self, LogEntry, LogOp};
use super::conflicts;
use crate::records::{self, Record};
use crate::records::scope::{self, Access};
use crate::audit::{self, AuditEntry};
use crate::auth::{Caller, Role};
use crate::db::{Db, WriteTxn, count, is_unique_violation, query_scalar_i64, sql};
use crate::error::Refusal;
use crate::procedures;
use chrono::{DateTime, NaiveDate, Utc};
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use jingzhun_mobile_api::fields::{self, EntitySpec, FieldSpec, Policy};
use jingzhun_mobile_api::validate::{self, FieldValue};
use jingzhun_mobile_api::wire::{
    Change, ChangeResult, ChangeSet, ChangeSetResult, ChangeSetStatus, ChangeStatus, FieldConflict, Op,
};
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::{BTreeMap, HashMap};

/// How often a change set is tried again after PostgreSQL broke a deadlock with it.
const DEADLOCK_RETRIES: usize = 3;

/// Out-of-scope ID number hits one user may make in a day before every ID number they
/// push is refused unseen.
pub const ID_LOOKUPS_PER_DAY: i64 = 5;

/// What a push is judged against besides the data: the time it arrived and the
/// deployment's grace window for former officers.
#[derive(Debug, Clone)]
pub struct Rules {
    pub now: DateTime<Utc>,
    pub former_officer_grace_days: i64,
}

impl Rules {
    pub fn from_config(sync: &crate::config::SyncConfig, now: DateTime<Utc>) -> Rules {
        Rules { now, former_officer_grace_days: sync.former_officer_grace_days }
    }
}

/// Applies one change set under the deployment's rules, or returns the stored answer
/// of an earlier attempt.
pub async fn apply_changeset(
    db: &Db,
    caller: &Caller,
    changeset: &ChangeSet,
    rules: &Rules,
) -> Result<ChangeSetResult, Refusal> {
    let mut attempt = 0;
    loop {
        match try_apply(db, caller, changeset, rules).await {
            // Two phones locking the same records in opposite orders: PostgreSQL aborts
            // one transaction, which applied nothing, so it is safe to run it again.
            Err(err) if attempt < DEADLOCK_RETRIES && is_deadlock(&err) => {
                attempt += 1;
                tracing::warn!(changeset = %changeset.id, attempt, "deadlock; retrying the change set");
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt as u64)).await;
            }
            Err(err) => return Err(err.into()),
            Ok(result) => return result,
        }
    }
}

fn is_deadlock(err: &DbErr) -> bool {
    let text = err.to_string();
    // SQLSTATE 40P01 deadlock_detected, 40001 serialization_failure.
    text.contains("40P01") || text.contains("40001") || text.contains("deadlock detected")
}

/// One attempt. The outer error is a database failure worth retrying; the inner result
/// is the answer (or a failure that is not).
async fn try_apply(
    db: &Db,
    caller: &Caller,
    changeset: &ChangeSet,
    rules: &Rules,
) -> Result<Result<ChangeSetResult, Refusal>, DbErr> {
    if let Some(stored) = stored_answer(db, caller, changeset).await.transpose() {
        return Ok(stored);
    }
    let txn = db.begin_write().await?;
    let mut work = Work::new(caller, changeset, rules);
    let outcome = work.run(&txn).await;
    Ok(match outcome {
        Ok(()) if work.errors_found() => {
            txn.rollback().await?;
            let result = work.rejected_result();
            store_rejected(db, &work, &result).await
        }
        Ok(()) => {
            let result = work.applied_result();
            match finish(&txn, &work, &result).await {
                Ok(()) => {
                    txn.commit().await?;
                    Ok(result)
                }
                // The same change set arrived twice at once: the other copy won.
                Err(err) if is_unique_violation(&err) => {
                    txn.rollback().await?;
                    stored_answer(db, caller, changeset).await.and_then(|s| s.ok_or_else(|| Refusal::internal(err)))
                }
                Err(err) => return Err(err),
            }
        }
        Err(Failure::Rejected) => {
            txn.rollback().await?;
            let result = work.rejected_result();
            store_rejected(db, &work, &result).await
        }
        Err(Failure::Db(err)) => return Err(err),
    })
}

/// The first answer to this change set from this device, if it came before.
async fn stored_answer(db: &Db, caller: &Caller, changeset: &ChangeSet) -> Result<Option<ChangeSetResult>, Refusal> {
    let backend = db.backend();
    let row = db
        .conn
        .query_one_raw(sql(
            backend,
            "SELECT response FROM changeset_receipt WHERE device_id = ? AND changeset_id = ?",
            vec![caller.device_id.as_str().into(), changeset.id.to_string().into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let text: String = row.try_get_by_index(0)?;
    let mut result: ChangeSetResult = serde_json::from_str(&text).map_err(Refusal::internal)?;
    // An applied change set seen again is a duplicate; a rejected one stays rejected, so
    // the phone keeps it aside rather than dropping it.
    if result.status == ChangeSetStatus::Applied {
        result.status = ChangeSetStatus::Duplicate;
    }
    Ok(Some(result))
}

/// Keeps a rejected change set for review, with the households it touches (who may
/// see it) and the ID number look-ups it made (which must outlive the rollback).
async fn store_rejected(db: &Db, work: &Work<'_>, result: &ChangeSetResult) -> Result<ChangeSetResult, Refusal> {
    let (caller, changeset) = (work.caller, work.changeset);
    let txn = db.begin_write().await?;
    let stored = async {
        insert_receipt(&*txn, caller, changeset, result).await?;
        insert_receipt_households(&*txn, caller, changeset, &work.touched_households()).await?;
        record_id_lookups(&*txn, work).await
    }
    .await;
    match stored {
        Ok(()) => {
            txn.commit().await?;
            Ok(result.clone())
        }
        Err(err) if is_unique_violation(&err) => {
            txn.rollback().await?;
            stored_answer(db, caller, changeset).await?.ok_or_else(|| Refusal::internal(err))
        }
        Err(err) => Err(err.into()),
    }
}

/// The change set as kept for review: secret fields (bank accounts) masked, as every
/// other output shows them.
fn without_secrets(changeset: &ChangeSet) -> ChangeSet {
    let mut kept = changeset.clone();
    for change in &mut kept.changes {
        let Some(entity) = fields::entity(&change.entity) else { continue };
        for (name, value) in change.fields.iter_mut() {
            let secret = entity.field(name).is_some_and(|f| f.kind.is_masked());
            if let (true, Some(text)) = (secret, value.as_str()) {
                *value = serde_json::Value::String(validate::mask_bank_account(text));
            }
        }
    }
    kept
}

async fn insert_receipt(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    changeset: &ChangeSet,
    result: &ChangeSetResult,
) -> Result<(), DbErr> {
    let status = match result.status {
        ChangeSetStatus::Rejected => "rejected",
        _ => "applied",
    };
    // A rejected change set is kept whole for the supervisor who sorts it out. An
    // applied one is in the audit log already: its copy keeps only the shape, so the
    // receipts do not hold every ID number, phone and health value ever pushed (L1).
    let kept = match result.status {
        ChangeSetStatus::Rejected => without_secrets(changeset),
        _ => shape_only(changeset),
    };
    let request = serde_json::to_string(&kept).map_err(|e| DbErr::Custom(e.to_string()))?;
    let response = serde_json::to_string(result).map_err(|e| DbErr::Custom(e.to_string()))?;
    conn.execute_raw(sql(
        conn.get_database_backend(),
        "INSERT INTO changeset_receipt (device_id, changeset_id, user_id, status, request, response, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            caller.device_id.as_str().into(),
            changeset.id.to_string().into(),
            caller.user_id.as_str().into(),
            status.into(),
            request.into(),
            response.into(),
            Utc::now().into(),
        ],
    ))
    .await
    .map(|_| ())
}

/// An applied change set as its receipt keeps it: which records, which fields, no values.
pub fn shape_only(changeset: &ChangeSet) -> ChangeSet {
    let mut kept = changeset.clone();
    for change in &mut kept.changes {
        for value in change.fields.values_mut() {
            *value = serde_json::Value::Null;
        }
    }
    kept
}

/// The households a stored change set touches, with their villages: who may read one
/// of them may see the change set (L1).
async fn insert_receipt_households(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    changeset: &ChangeSet,
    households: &[(String, String)],
) -> Result<(), DbErr> {
    for chunk in households.chunks(500) {
        let text = format!(
            "INSERT INTO changeset_household (device_id, changeset_id, household_id, region_code) VALUES {}",
            vec!["(?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut values = Vec::with_capacity(chunk.len() * 4);
        for (household_id, region_code) in chunk {
            values.push(caller.device_id.as_str().into());
            values.push(changeset.id.to_string().into());
            values.push(household_id.as_str().into());
            values.push(region_code.as_str().into());
        }
        conn.execute_raw(sql(conn.get_database_backend(), &text, values)).await?;
    }
    Ok(())
}

/// Out-of-scope ID number hits: counted for the rate limit and audited.
async fn record_id_lookups(conn: &impl ConnectionTrait, work: &Work<'_>) -> Result<(), DbErr> {
    if work.id_lookups.is_empty() {
        return Ok(());
    }
    let mut entries = Vec::new();
    for lookup in &work.id_lookups {
        conn.execute_raw(sql(
            conn.get_database_backend(),
            "INSERT INTO id_number_lookup (user_id, at, household_id, other_household_id) VALUES (?, ?, ?, ?)",
            vec![
                work.caller.user_id.as_str().into(),
                Utc::now().into(),
                lookup.household_id.as_str().into(),
                lookup.other_household_id.as_str().into(),
            ],
        ))
        .await?;
        let mut entry = work.audit_entry("id_number_lookup", "member", &lookup.member_id, &lookup.household_id);
        entry.field = Some("id_number".into());
        entry.new_value = Some(validate::mask_id_number(&lookup.id_number));
        entry.note = Some(format!(
            "ID number already registered in household {} outside the pusher's scope; answered needs_review",
            lookup.other_household_id
        ));
        entries.push(entry);
    }
    tracing::warn!(user = %work.caller.user_id, hits = work.id_lookups.len(), "ID numbers registered outside the pusher's scope");
    audit::record(conn, &entries).await
}

async fn finish(txn: &WriteTxn, work: &Work<'_>, result: &ChangeSetResult) -> Result<(), DbErr> {
    let tx = changelog::current_tx(&**txn).await?;
    changelog::append(&**txn, tx, &work.log).await?;
    audit::record(&**txn, &work.audit).await?;
    insert_receipt(&**txn, work.caller, work.changeset, result).await
}

enum Failure {
    /// A change cannot go on (its errors are recorded); the set is rejected.
    Rejected,
    Db(DbErr),
}

impl From<DbErr> for Failure {
    fn from(err: DbErr) -> Failure {
        Failure::Db(err)
    }
}

/// The household a change hangs off, as far as scope and logging need it.
#[derive(Clone)]
struct HouseholdRef {
    id: String,
    region_code: String,
    /// An open case was signed at a level above the caller's: its data is closed to them.
    frozen: bool,
}

/// An ID number pushed that is registered in a household the caller cannot read.
struct IdLookup {
    member_id: String,
    household_id: String,
    other_household_id: String,
    id_number: String,
}

/// One change set being applied.
struct Work<'a> {
    caller: &'a Caller,
    changeset: &'a ChangeSet,
    rules: &'a Rules,
    /// When the caller's assignment to each former household ended.
    ended: HashMap<String, NaiveDate>,
    /// Out-of-scope ID number hits, written with the rejected receipt.
    id_lookups: Vec<IdLookup>,
    /// The caller's out-of-scope hits of the last day, counted once per change set.
    id_lookups_today: Option<i64>,
    results: Vec<ChangeResult>,
    log: Vec<LogEntry>,
    audit: Vec<AuditEntry>,
    /// Households whose members changed: checked for one head at the end.
    member_households: BTreeMap<String, usize>,
    /// Households this change set touched, with the caller's access to each.
    households: BTreeMap<String, (HouseholdRef, Access)>,
    /// Records the change set updates or deletes, read (and on PostgreSQL locked) up
    /// front in id order; each is taken out when its change is applied.
    prefetched: BTreeMap<(&'static str, String), Record>,
    /// Records with an open conflict: only their updates look for conflicts to close.
    conflicted: std::collections::BTreeSet<String>,
}

impl<'a> Work<'a> {
    fn new(caller: &'a Caller, changeset: &'a ChangeSet, rules: &'a Rules) -> Work<'a> {
        Work {
            caller,
            changeset,
            rules,
            ended: HashMap::new(),
            id_lookups: Vec::new(),
            id_lookups_today: None,
            results: Vec::with_capacity(changeset.changes.len()),
            log: Vec::new(),
            audit: Vec::new(),
            member_households: BTreeMap::new(),
            households: BTreeMap::new(),
            prefetched: BTreeMap::new(),
            conflicted: std::collections::BTreeSet::new(),
        }
    }

    fn errors_found(&self) -> bool {
        self.results.iter().any(|r| !r.errors.is_empty())
    }

    fn applied_result(&self) -> ChangeSetResult {
        ChangeSetResult { id: self.changeset.id, status: ChangeSetStatus::Applied, changes: self.results.clone() }
    }

    /// Every change rejected; those at fault carry their errors.
    fn rejected_result(&self) -> ChangeSetResult {
        let changes = self
            .changeset
            .changes
            .iter()
            .enumerate()
            .map(|(i, change)| ChangeResult {
                entity: change.entity.clone(),
                id: change.id,
                status: ChangeStatus::Rejected,
                version: 0,
                conflicts: Vec::new(),
                errors: self.results.get(i).map(|r| r.errors.clone()).unwrap_or_default(),
            })
            .collect();
        ChangeSetResult { id: self.changeset.id, status: ChangeSetStatus::Rejected, changes }
    }

    fn audit_entry(&self, action: &str, entity: &str, id: &str, household_id: &str) -> AuditEntry {
        AuditEntry {
            user_id: Some(self.caller.user_id.clone()),
            device_id: Some(self.caller.device_id.clone()),
            changeset_id: Some(self.changeset.id.to_string()),
            action: action.to_owned(),
            entity: entity.to_owned(),
            entity_id: id.to_owned(),
            household_id: Some(household_id.to_owned()),
            ..AuditEntry::default()
        }
    }

    /// The households the change set touches, with their villages (new households with
    /// the village they were pushed into).
    fn touched_households(&self) -> Vec<(String, String)> {
        let mut out: BTreeMap<String, String> =
            self.households.values().map(|(h, _)| (h.id.clone(), h.region_code.clone())).collect();
        for change in &self.changeset.changes {
            if change.entity == fields::HOUSEHOLD.name
                && change.op == Op::Create
                && let Some(region) = change.fields.get("region_code").and_then(|v| v.as_str())
            {
                out.entry(change.id.to_string()).or_insert_with(|| region.chars().take(12).collect());
            }
        }
        out.into_iter().collect()
    }

    /// Why a former officer's change may not go on, if it may not: only updates and
    /// creates of ordinary records recorded before the end and arriving within the
    /// grace window are theirs to make.
    fn former_officer_refusal(&self, household_id: &str, entity: &EntitySpec, op: Op) -> Option<ErrorCode> {
        if op == Op::Delete || (op == Op::Create && entity.name == fields::CASE.name) {
            return Some(ErrorCode::AssignmentEnded);
        }
        let Some(end) = self.ended.get(household_id) else {
            return Some(ErrorCode::AssignmentEnded);
        };
        scope::offline_edit_window(
            *end,
            self.changeset.recorded_at,
            self.rules.now,
            self.rules.former_officer_grace_days,
        )
        .err()
    }

    fn former_officer_note(&self, household_id: &str) -> String {
        let ended = self.ended.get(household_id).map(|d| d.to_string()).unwrap_or_default();
        let recorded = self.changeset.recorded_at.map_or_else(|| "not stated".to_owned(), |t| t.to_rfc3339());
        format!("offline edit from a former assignment (ended {ended}; recorded {recorded})")
    }

    async fn run(&mut self, txn: &WriteTxn) -> Result<(), Failure> {
        if self.caller.grants.iter().all(|g| !g.role.edits_households()) {
            for change in &self.changeset.changes {
                self.results.push(error_result(change, vec![FieldError::new("", ErrorCode::Forbidden)]));
            }
            return Ok(());
        }
        self.prefetch(txn).await?;
        for change in &self.changeset.changes {
            let result = match fields::entity(&change.entity) {
                None => error_result(change, vec![FieldError::new("", ErrorCode::UnknownEntity)]),
                Some(entity) => match change.op {
                    Op::Create => self.create(txn, entity, change).await?,
                    Op::Update => self.update(txn, entity, change).await?,
                    Op::Delete => self.delete(txn, entity, change).await?,
                },
            };
            self.results.push(result);
        }
        if !self.errors_found() {
            self.check_heads(txn).await?;
        }
        Ok(())
    }

    /// Reads what the change set will touch in a few queries instead of a few per
    /// change: the records it updates or deletes (locked in id order, so two change
    /// sets never wait on each other in a cycle), and their households with the
    /// caller's access and any freeze.
    async fn prefetch(&mut self, txn: &WriteTxn) -> Result<(), DbErr> {
        let mut wanted: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        let mut household_ids: Vec<String> = Vec::new();
        for change in &self.changeset.changes {
            let Some(entity) = fields::entity(&change.entity) else { continue };
            if change.op == Op::Create {
                let household = change
                    .fields
                    .get("household_id")
                    .and_then(|v| v.as_str())
                    .and_then(|h| uuid::Uuid::parse_str(h).ok());
                household_ids.extend(household.map(|h| h.to_string()));
            } else {
                wanted.entry(entity.name).or_default().push(change.id.to_string());
            }
        }
        for (name, mut ids) in wanted {
            let Some(entity) = fields::entity(name) else { continue };
            ids.sort();
            ids.dedup();
            for record in records::load_many_locked(&**txn, entity, &ids).await? {
                household_ids.extend(record.household_id(entity).map(str::to_owned));
                self.prefetched.insert((entity.name, record.id.clone()), record);
            }
        }
        let record_ids: Vec<String> = self.prefetched.keys().map(|(_, id)| id.clone()).collect();
        self.conflicted = conflicts::records_with_open_conflicts(&**txn, &record_ids).await?;
        household_ids.sort();
        household_ids.dedup();
        self.load_households(txn, &household_ids).await
    }

    async fn load_households(&mut self, txn: &WriteTxn, ids: &[String]) -> Result<(), DbErr> {
        let ids: Vec<String> = ids.iter().filter(|id| !self.households.contains_key(*id)).cloned().collect();
        if ids.is_empty() {
            return Ok(());
        }
        let found = records::load_many(&**txn, &fields::HOUSEHOLD, &ids).await?;
        let pairs: Vec<(String, String)> =
            found.iter().map(|h| (h.id.clone(), h.text("region_code").unwrap_or_default().to_owned())).collect();
        let access = scope::households_access(&**txn, self.caller, &pairs).await?;
        let former: Vec<String> =
            access.iter().filter(|(_, a)| **a == Access::FormerOfficer).map(|(id, _)| id.clone()).collect();
        if !former.is_empty() {
            self.ended.extend(scope::assignment_end_dates(&**txn, &self.caller.user_id, &former).await?);
        }
        let frozen = procedures::engine::households_frozen_levels(&**txn, &ids).await?;
        for (id, region_code) in pairs {
            let caller_level = procedures::engine::caller_level(self.caller, &region_code);
            let frozen = frozen.get(&id).is_some_and(|level| caller_level < Some(*level));
            let household_access = access.get(&id).copied().unwrap_or(Access::None);
            self.households.insert(id.clone(), (HouseholdRef { id, region_code, frozen }, household_access));
        }
        Ok(())
    }

    /// The household a change belongs to, if it exists, with the caller's access to it.
    async fn household(&mut self, txn: &WriteTxn, household_id: &str) -> Result<Option<(HouseholdRef, Access)>, DbErr> {
        if !self.households.contains_key(household_id) {
            self.load_households(txn, &[household_id.to_owned()]).await?;
        }
        Ok(self.households.get(household_id).cloned())
    }

    /// The record a change updates or deletes: prefetched, or read now (a record the
    /// change set itself created).
    async fn record_for_change(
        &mut self,
        txn: &WriteTxn,
        entity: &'static EntitySpec,
        id: &str,
    ) -> Result<Option<Record>, DbErr> {
        match self.prefetched.remove(&(entity.name, id.to_owned())) {
            Some(record) => Ok(Some(record)),
            None => records::load(&**txn, entity, id, true).await,
        }
    }

    async fn create(
        &mut self,
        txn: &WriteTxn,
        entity: &'static EntitySpec,
        change: &Change,
    ) -> Result<ChangeResult, Failure> {
        let id = change.id.to_string();
        let (mut values, mut errors) = validate_fields(entity, change);
        for (name, _) in values.iter() {
            if entity.field(name).is_some_and(|f| f.policy == Policy::ReadOnly) {
                errors.push(FieldError::new(*name, ErrorCode::ReadOnlyField));
            }
        }
        for field in entity.fields.iter().filter(|f| f.required) {
            if !values.contains_key(field.name) && !errors.iter().any(|e| e.field == field.name) {
                errors.push(FieldError::new(field.name, ErrorCode::Required));
            }
        }
        if !errors.is_empty() {
            return Ok(error_result(change, errors));
        }
        if records::load(&**txn, entity, &id, false).await?.is_some() {
            return Ok(error_result(change, vec![FieldError::new("", ErrorCode::AlreadyExists)]));
        }

        let household = if entity.is_household() {
            let region_code = text_of(&values, "region_code");
            if !is_village(txn, &region_code).await? {
                return Ok(error_result(change, vec![FieldError::new("region_code", ErrorCode::InvalidRegion)]));
            }
            if !self.caller.may_create_in(&region_code) {
                return Ok(error_result(change, vec![FieldError::new("region_code", ErrorCode::OutOfScope)]));
            }
            values.insert("status", FieldValue::Text("applicant".into()));
            let h = HouseholdRef { id: id.clone(), region_code, frozen: false };
            // The creator may go on editing it in this change set (officers are assigned below).
            self.households.insert(id.clone(), (h.clone(), Access::Edit));
            h
        } else {
            let household_id = text_of(&values, "household_id");
            match self.household(txn, &household_id).await? {
                Some((h, access)) if access.may_edit_offline() => {
                    if access == Access::FormerOfficer
                        && let Some(code) = self.former_officer_refusal(&h.id, entity, Op::Create)
                    {
                        return Ok(error_result(change, vec![FieldError::new("", code)]));
                    }
                    h
                }
                _ => {
                    return Ok(error_result(
                        change,
                        vec![FieldError::new("household_id", ErrorCode::HouseholdNotFound)],
                    ));
                }
            }
        };
        let former = self.households.get(&household.id).is_some_and(|(_, a)| *a == Access::FormerOfficer);

        let errors = self.check_record_rules(txn, entity, &id, &household, &values, None).await?;
        if !errors.is_empty() {
            return Ok(error_result(change, errors));
        }
        if entity.name == fields::VISIT_LOG.name {
            values.insert("officer_id", FieldValue::Uuid(self.caller.user_id.clone()));
        }
        if entity.name == fields::CASE.name {
            values.insert("opened_by", FieldValue::Uuid(self.caller.user_id.clone()));
        }
        if entity.name == fields::MEMBER.name {
            values.insert("active", FieldValue::Bool(true));
            self.member_households.insert(household.id.clone(), self.results.len());
        }

        let record = Record {
            id: id.clone(),
            version: 1,
            field_versions: values.keys().map(|k| ((*k).to_owned(), 1)).collect(),
            values,
        };
        if let Err(err) = records::insert(&**txn, entity, &record).await {
            return self.unique_or_fail(change, err);
        }
        if entity.is_household() && !self.caller.edits_region(&household.region_code) {
            // An officer's new household (an application) is theirs to follow.
            assign_creator(txn, self.caller, &id).await?;
        }
        self.log.push(log_entry(entity, &id, &household, LogOp::Upsert, 1));
        let mut entry = self.audit_entry("create", entity.name, &id, &household.id);
        entry.new_value = Some(record.to_json(entity).to_string());
        entry.version = Some(1);
        if former {
            entry.note = Some(self.former_officer_note(&household.id));
        }
        self.audit.push(entry);
        Ok(ChangeResult {
            entity: change.entity.clone(),
            id: change.id,
            status: ChangeStatus::Applied,
            version: 1,
            conflicts: vec![],
            errors: vec![],
        })
    }

    async fn update(
        &mut self,
        txn: &WriteTxn,
        entity: &'static EntitySpec,
        change: &Change,
    ) -> Result<ChangeResult, Failure> {
        let id = change.id.to_string();
        let (values, mut errors) = validate_fields(entity, change);
        for name in values.keys() {
            if entity.field(name).is_some_and(|f| matches!(f.policy, Policy::ReadOnly | Policy::CreateOnly)) {
                errors.push(FieldError::new(*name, ErrorCode::ReadOnlyField));
            }
        }
        if !errors.is_empty() {
            return Ok(error_result(change, errors));
        }
        let Some(mut record) = self.record_for_change(txn, entity, &id).await? else {
            return Ok(error_result(change, vec![FieldError::new("", ErrorCode::RecordNotFound)]));
        };
        let household_id = record.household_id(entity).unwrap_or_default().to_owned();
        let (household, access) = match self.household(txn, &household_id).await? {
            Some((h, access)) if access.may_edit_offline() => (h, access),
            Some(_) => {
                return Ok(error_result(change, vec![FieldError::new("", ErrorCode::OutOfScope)]));
            }
            None => {
                return Ok(error_result(change, vec![FieldError::new("", ErrorCode::HouseholdNotFound)]));
            }
        };
        if access == Access::FormerOfficer
            && let Some(code) = self.former_officer_refusal(&household.id, entity, Op::Update)
        {
            return Ok(error_result(change, vec![FieldError::new("", code)]));
        }
        if change.base_version > record.version {
            return Ok(error_result(change, vec![FieldError::new("", ErrorCode::VersionAhead)]));
        }
        let errors = self.check_record_rules(txn, entity, &id, &household, &values, Some(&record)).await?;
        if !errors.is_empty() {
            return Ok(error_result(change, errors));
        }

        let new_version = record.version + 1;
        let mut applied: Vec<&'static FieldSpec> = Vec::new();
        let mut field_conflicts = Vec::new();
        for (name, value) in values {
            let Some(field) = entity.field(name) else {
                continue;
            };
            let current = record.value(name).clone();
            if current == value {
                continue;
            }
            let changed_meanwhile = record.field_versions.get(name).copied().unwrap_or(0) > change.base_version;
            if changed_meanwhile && field.policy == Policy::Manual {
                let base =
                    conflicts::value_at_version(&**txn, entity.name, &id, name, change.base_version, &current).await?;
                let conflict = conflicts::open(
                    &**txn,
                    conflicts::NewConflict {
                        entity: entity.name,
                        entity_id: &id,
                        household_id: &household.id,
                        field: name,
                        base_value: base,
                        server_value: current.to_json(),
                        client_value: value.to_json(),
                        caller: self.caller,
                        changeset_id: &self.changeset.id.to_string(),
                    },
                )
                .await?;
                self.log.push(LogEntry {
                    entity: fields::CONFLICT_ENTITY,
                    entity_id: conflict.id.to_string(),
                    household_id: Some(household.id.clone()),
                    region_code: Some(household.region_code.clone()),
                    target_user: None,
                    op: LogOp::Upsert,
                    version: 1,
                });
                let mut entry = self.audit_entry("conflict", entity.name, &id, &household.id);
                entry.field = Some(name.to_owned());
                entry.old_value = Some(conflict.server_value.to_string());
                entry.new_value = Some(conflict.client_value.to_string());
                entry.note = Some(format!("conflict {} kept for review; server value stays", conflict.id));
                self.audit.push(entry);
                self.conflicted.insert(id.clone());
                field_conflicts.push(conflict);
                continue;
            }
            let mut entry = self.audit_entry("update", entity.name, &id, &household.id);
            entry.field = Some(name.to_owned());
            entry.old_value = Some(current.to_json().to_string());
            entry.new_value = Some(value.to_json().to_string());
            entry.version = Some(new_version);
            if changed_meanwhile {
                entry.note =
                    Some("last writer wins over a concurrent change; the old value is the one overwritten".into());
            }
            if access == Access::FormerOfficer {
                entry.note = Some(self.former_officer_note(&household.id));
            }
            self.audit.push(entry);
            record.values.insert(field.name, value);
            record.field_versions.insert(name.to_owned(), new_version);
            applied.push(field);
        }

        if !applied.is_empty() {
            record.version = new_version;
            records::update(&**txn, entity, &record, &applied).await?;
            self.log.push(log_entry(entity, &id, &household, LogOp::Upsert, new_version));
            let names: Vec<&str> = applied.iter().map(|f| f.name).collect();
            let resolved = if self.conflicted.contains(&id) {
                conflicts::close_superseded(&**txn, entity.name, &id, &names, &self.caller.user_id).await?
            } else {
                Vec::new()
            };
            for conflict_id in resolved {
                self.log.push(LogEntry {
                    entity: fields::CONFLICT_ENTITY,
                    entity_id: conflict_id,
                    household_id: Some(household.id.clone()),
                    region_code: Some(household.region_code.clone()),
                    target_user: None,
                    op: LogOp::Upsert,
                    version: 2,
                });
            }
            if entity.name == fields::MEMBER.name && applied.iter().any(|f| f.name == "relation") {
                self.member_households.insert(household.id.clone(), self.results.len());
            }
        }
        Ok(ChangeResult {
            entity: change.entity.clone(),
            id: change.id,
            status: if field_conflicts.is_empty() { ChangeStatus::Applied } else { ChangeStatus::Conflict },
            version: record.version,
            conflicts: field_conflicts
                .into_iter()
                .map(|c| FieldConflict {
                    id: c.id,
                    field: c.field,
                    base_value: c.base_value,
                    server_value: c.server_value,
                    client_value: c.client_value,
                })
                .collect(),
            errors: vec![],
        })
    }

    async fn delete(
        &mut self,
        txn: &WriteTxn,
        entity: &'static EntitySpec,
        change: &Change,
    ) -> Result<ChangeResult, Failure> {
        if !entity.deletable {
            return Ok(error_result(change, vec![FieldError::new("", ErrorCode::DeleteNotAllowed)]));
        }
        let id = change.id.to_string();
        let Some(record) = self.record_for_change(txn, entity, &id).await? else {
            // Already gone (deleted by someone else): the phone's wish holds.
            return Ok(ChangeResult {
                entity: change.entity.clone(),
                id: change.id,
                status: ChangeStatus::Applied,
                version: 0,
                conflicts: vec![],
                errors: vec![],
            });
        };
        let household_id = record.household_id(entity).unwrap_or_default().to_owned();
        let household = match self.household(txn, &household_id).await? {
            Some((h, access)) if access.may_edit_online() => h,
            // A delete is never an offline edit to keep: it needs a current assignment.
            Some((_, Access::FormerOfficer)) => {
                return Ok(error_result(change, vec![FieldError::new("", ErrorCode::AssignmentEnded)]));
            }
            _ => {
                return Ok(error_result(change, vec![FieldError::new("", ErrorCode::OutOfScope)]));
            }
        };
        if household.frozen {
            return Ok(error_result(change, vec![FieldError::new("", ErrorCode::CaseFrozen)]));
        }
        records::delete(&**txn, entity, &id).await?;
        self.log.push(log_entry(entity, &id, &household, LogOp::Delete, record.version + 1));
        let mut entry = self.audit_entry("delete", entity.name, &id, &household.id);
        entry.old_value = Some(record.to_json(entity).to_string());
        entry.version = Some(record.version + 1);
        self.audit.push(entry);
        Ok(ChangeResult {
            entity: change.entity.clone(),
            id: change.id,
            status: ChangeStatus::Applied,
            version: record.version + 1,
            conflicts: vec![],
            errors: vec![],
        })
    }

    /// Rules across records: one active household per person, one income record per
    /// household and year, a task's plan in the same household and its officer one who
    /// follows the household. `current` is the record an update changes.
    async fn check_record_rules(
        &mut self,
        txn: &WriteTxn,
        entity: &EntitySpec,
        id: &str,
        household: &HouseholdRef,
        values: &BTreeMap<&'static str, FieldValue>,
        current: Option<&Record>,
    ) -> Result<Vec<FieldError>, DbErr> {
        let household_id = household.id.as_str();
        let mut errors = Vec::new();
        if entity.name == fields::CASE.name {
            // Only a new case names its kind (the field is create-only).
            if values.contains_key("kind") {
                errors.extend(procedures::engine::check_new_case(&**txn, household_id, values).await?);
            }
        } else if household.frozen {
            errors.push(FieldError::new("", ErrorCode::CaseFrozen));
            return Ok(errors);
        }
        if entity.name == fields::MEMBER.name
            && let Some(FieldValue::Text(id_number)) = values.get("id_number")
            && current.is_none_or(|r| r.value("id_number") != &FieldValue::Text(id_number.clone()))
        {
            errors.extend(self.check_id_number(txn, id, household, id_number).await?);
        }
        if entity.name == fields::PLAN_TASK.name
            && let Some(FieldValue::Uuid(officer_id)) = values.get("officer_id")
            && current.is_none_or(|r| r.text("officer_id") != Some(officer_id.as_str()))
            && *officer_id != self.caller.user_id
        {
            // M12: task reminders go to this user, with the household's name in them.
            let assigned = count(
                &**txn,
                "SELECT COUNT(*) FROM assignment WHERE officer_id = ? AND household_id = ? AND end_date IS NULL",
                vec![officer_id.as_str().into(), household_id.into()],
            )
            .await?;
            if assigned == 0 {
                errors.push(FieldError::new("officer_id", ErrorCode::InvalidOfficer));
            }
        }
        if entity.name == fields::INCOME.name
            && let Some(FieldValue::Int(year)) = values.get("year")
        {
            let other = count(
                &**txn,
                "SELECT COUNT(*) FROM income_record WHERE household_id = ? AND year = ? AND id <> ?",
                vec![household_id.into(), (*year).into(), id.into()],
            )
            .await?;
            if other > 0 {
                errors.push(FieldError::new("year", ErrorCode::DuplicateYear));
            }
        }
        if entity.name == fields::PLAN_TASK.name
            && let Some(FieldValue::Uuid(plan_id)) = values.get("plan_id")
        {
            let same = count(
                &**txn,
                "SELECT COUNT(*) FROM help_plan WHERE id = ? AND household_id = ?",
                vec![plan_id.as_str().into(), household_id.into()],
            )
            .await?;
            if same == 0 {
                errors.push(FieldError::new("plan_id", ErrorCode::RecordNotFound));
            }
        }
        Ok(errors)
    }

    /// One active household per person (R8), told without making the push an oracle:
    /// `duplicate_person` only when the other household is one the caller reads;
    /// otherwise `needs_review`, the hit audited and counted for the caller.
    async fn check_id_number(
        &mut self,
        txn: &WriteTxn,
        member_id: &str,
        household: &HouseholdRef,
        id_number: &str,
    ) -> Result<Option<FieldError>, DbErr> {
        let today = match self.id_lookups_today {
            Some(n) => n,
            None => {
                let since = self.rules.now - chrono::Duration::days(1);
                let n = count(
                    &**txn,
                    "SELECT COUNT(*) FROM id_number_lookup WHERE user_id = ? AND at > ?",
                    vec![self.caller.user_id.as_str().into(), since.into()],
                )
                .await?;
                self.id_lookups_today = Some(n);
                n
            }
        };
        if today + self.id_lookups.len() as i64 >= ID_LOOKUPS_PER_DAY {
            // Refused unseen, whether the number is registered or not.
            return Ok(Some(FieldError::new("id_number", ErrorCode::TooManyAttempts)));
        }
        let row = txn
            .query_one_raw(sql(
                txn.get_database_backend(),
                "SELECT m.household_id, h.region_code FROM member m JOIN household h ON h.id = m.household_id \
                 WHERE m.id_number = ? AND m.active AND m.id <> ? ORDER BY m.household_id LIMIT 1",
                vec![id_number.into(), member_id.into()],
            ))
            .await?;
        let Some(row) = row else { return Ok(None) };
        let other_id: String = row.try_get_by_index(0)?;
        let other_region: String = row.try_get_by_index(1)?;
        let readable = other_id == household.id
            || scope::household_access(&**txn, self.caller, &other_id, &other_region).await?.may_read();
        if readable {
            return Ok(Some(FieldError::new("id_number", ErrorCode::DuplicatePerson)));
        }
        self.id_lookups.push(IdLookup {
            member_id: member_id.to_owned(),
            household_id: household.id.clone(),
            other_household_id: other_id,
            id_number: id_number.to_owned(),
        });
        Ok(Some(FieldError::new("id_number", ErrorCode::NeedsReview)))
    }

    /// R8: exactly one head in a household that has members.
    async fn check_heads(&mut self, txn: &WriteTxn) -> Result<(), DbErr> {
        let backend = txn.get_database_backend();
        for (household_id, change_index) in self.member_households.clone() {
            let row = txn
                .query_one_raw(sql(
                    backend,
                    "SELECT COUNT(*), SUM(CASE WHEN relation = 'head' THEN 1 ELSE 0 END) FROM member WHERE household_id = ? AND active",
                    vec![household_id.as_str().into()],
                ))
                .await?;
            let (members, heads) = match row {
                Some(row) => (
                    row.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
                    row.try_get_by_index::<Option<i64>>(1)?.unwrap_or(0),
                ),
                None => (0, 0),
            };
            let code = if heads > 1 {
                ErrorCode::MultipleHeads
            } else if members > 0 && heads == 0 {
                ErrorCode::NoHead
            } else {
                continue;
            };
            if let Some(result) = self.results.get_mut(change_index) {
                result.status = ChangeStatus::Rejected;
                result.errors.push(FieldError::new("relation", code));
            }
        }
        Ok(())
    }

    /// A unique index caught what the checks did not see (a concurrent writer): the
    /// change set is rejected with the matching field error.
    fn unique_or_fail(&mut self, change: &Change, err: DbErr) -> Result<ChangeResult, Failure> {
        if !is_unique_violation(&err) {
            return Err(Failure::Db(err));
        }
        let (field, code) = match change.entity.as_str() {
            // A concurrent writer got there first; whose household it is stays unsaid (M2).
            "member" => ("id_number", ErrorCode::NeedsReview),
            "income" => ("year", ErrorCode::DuplicateYear),
            _ => ("", ErrorCode::AlreadyExists),
        };
        self.results.push(error_result(change, vec![FieldError::new(field, code)]));
        // On PostgreSQL the transaction is now unusable; nothing after this can apply.
        Err(Failure::Rejected)
    }
}

fn error_result(change: &Change, errors: Vec<FieldError>) -> ChangeResult {
    ChangeResult {
        entity: change.entity.clone(),
        id: change.id,
        status: ChangeStatus::Rejected,
        version: 0,
        conflicts: vec![],
        errors,
    }
}

fn log_entry(entity: &'static EntitySpec, id: &str, household: &HouseholdRef, op: LogOp, version: i64) -> LogEntry {
    LogEntry {
        entity: entity.name,
        entity_id: id.to_owned(),
        household_id: Some(household.id.clone()),
        region_code: Some(household.region_code.clone()),
        target_user: None,
        op,
        version,
    }
}

/// Validates every field of a change; returns the stored values and the errors.
fn validate_fields(entity: &EntitySpec, change: &Change) -> (BTreeMap<&'static str, FieldValue>, Vec<FieldError>) {
    let mut values = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, value) in &change.fields {
        // Phones may echo the record's own id and version; they are not fields.
        if name == "id" || name == "version" {
            continue;
        }
        let Some(field) = entity.field(name) else {
            errors.push(FieldError::new(name.as_str(), ErrorCode::UnknownField));
            continue;
        };
        match validate::field(field, value) {
            Ok(v) => {
                values.insert(field.name, v);
            }
            Err(code) => errors.push(FieldError::new(field.name, code)),
        }
    }
    (values, errors)
}

fn text_of(values: &BTreeMap<&'static str, FieldValue>, name: &str) -> String {
    match values.get(name) {
        Some(FieldValue::Text(s) | FieldValue::Uuid(s)) => s.clone(),
        _ => String::new(),
    }
}

async fn is_village(txn: &WriteTxn, code: &str) -> Result<bool, DbErr> {
    let n = query_scalar_i64(
        &**txn,
        sql(
            txn.get_database_backend(),
            "SELECT COUNT(*) FROM region WHERE code = ? AND level = 'village'",
            vec![code.into()],
        ),
    )
    .await?;
    Ok(n.unwrap_or(0) > 0)
}

async fn assign_creator(txn: &WriteTxn, caller: &Caller, household_id: &str) -> Result<(), DbErr> {
    if !caller.has_role(Role::Officer) {
        return Ok(());
    }
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "INSERT INTO assignment (id, officer_id, household_id, start_date, end_date, created_by, created_at) VALUES (?, ?, ?, ?, NULL, ?, ?)",
        vec![
            uuid::Uuid::new_v4().to_string().into(),
            caller.user_id.as_str().into(),
            household_id.into(),
            Utc::now().date_naive().into(),
            caller.user_id.as_str().into(),
            Utc::now().into(),
        ],
    ))
    .await
    .map(|_| ())
}
