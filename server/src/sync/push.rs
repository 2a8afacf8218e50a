//! Applying pushed change sets (DESIGN §5).
//!
//! Each change set is all-or-nothing, applied in its group's transaction
//! (`group_state`: held back or in a savepoint of its own), and answered once: its
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
//! The walk of one change set: its stored answer if it came before (`receipts`), each
//! change validated by the field catalogue and judged by its entity's rules
//! (`entity_rules`; new cases by their procedure), applied, then the change log, the
//! audit entries and the receipt in the same transaction (a rejected change set's
//! receipt after its rollback).

use super::entity_rules::{self, Checker, EntityRules, Proposed};
use super::group_state::{self, GroupState, Unwritten};
use super::{conflicts, receipts};
use crate::audit::{Actor, AuditEntry};
use crate::auth::{Caller, Role};
use crate::db::{Db, count, is_unique_violation, sql};
use crate::error::Refusal;
use crate::procedures;
use crate::records::changelog::{LogEntry, LogOp};
use crate::records::scope::{self, Access};
use crate::records::{self, Record};
use chrono::{DateTime, NaiveDate, Utc};
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use jingzhun_mobile_api::fields::{self, EntitySpec, FieldSpec, Policy};
use jingzhun_mobile_api::validate::{self, FieldValue};
use jingzhun_mobile_api::wire::{
    Change, ChangeResult, ChangeSet, ChangeSetResult, ChangeSetStatus, ChangeStatus, FieldConflict, Op,
};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use sea_orm::{DatabaseTransaction, TransactionTrait};
use std::collections::{BTreeMap, HashMap};

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

/// A push request on its way through group commit: whose it is, its change sets in
/// the order sent, and the answers so far.
pub struct Pending {
    pub caller: Caller,
    pub changesets: Vec<ChangeSet>,
    pub rules: Rules,
    /// One answer per change set handled, in order; final once their group committed.
    pub results: Vec<ChangeSetResult>,
    /// What ended the request early, if anything: the change sets after it are not tried.
    pub failed: Option<Refusal>,
    /// PostgreSQL broke a deadlock with this request's next change set: it is tried
    /// again in a later group (the savepoint rolled back, nothing of it applied).
    pub retry: bool,
    /// How many times that happened.
    pub deadlocks: usize,
    /// Change sets another process answered while this group held them back (a
    /// receipt's unique key): their stored answers are read after the commit.
    answer_later: Vec<usize>,
}

impl Pending {
    pub fn new(caller: Caller, changesets: Vec<ChangeSet>, rules: Rules) -> Pending {
        Pending {
            caller,
            changesets,
            rules,
            results: Vec::new(),
            failed: None,
            retry: false,
            deadlocks: 0,
            answer_later: Vec::new(),
        }
    }

    /// Whether the request has its whole answer (or its failure).
    pub fn is_done(&self) -> bool {
        self.failed.is_some() || self.results.len() == self.changesets.len()
    }
}

/// How often a request is put back after PostgreSQL broke a deadlock with it.
pub const DEADLOCK_RETRIES: usize = 3;

/// Applies the waiting change sets of several push requests in ONE write transaction
/// (group commit): each change set in its own savepoint, so each is still
/// all-or-nothing, and none is answered before the commit that holds it. Each receipt
/// is written in its change set's savepoint; the change log and audit entries of the
/// whole group together at the end.
///
/// A rejected change set is rolled back to its savepoint and kept for a supervisor in
/// the same transaction. A database failure ends its request (the change sets before
/// it stay applied, as each was answered on its own); a failure of the group's own
/// transaction voids every answer the group gave, and the phones push again (their
/// change sets are idempotent).
pub async fn apply_group(db: &Db, group: &mut [Pending]) {
    let before: Vec<(usize, usize)> = group.iter().map(|p| (p.results.len(), p.deadlocks)).collect();
    let reset = |group: &mut [Pending]| {
        for (p, (n, deadlocks)) in group.iter_mut().zip(&before) {
            p.results.truncate(*n);
            p.deadlocks = *deadlocks;
            p.retry = false;
            p.failed = None;
            p.answer_later.clear();
        }
    };
    reset(group);
    let mut outcome = apply_in_transaction(db, group, GroupState::new(false)).await;
    if let Err(err) = &outcome {
        // Held-back writes failed (or a read the group shares): whose change set was it?
        // Each in its own savepoint this time, as a lone change set would be.
        tracing::warn!(error = %err, requests = group.len(), "a push group's shared writes failed; applying it again change set by change set");
        reset(group);
        outcome = apply_in_transaction(db, group, GroupState::new(true)).await;
    }
    if let Err(err) = outcome {
        tracing::error!(error = %err, requests = group.len(), "group commit of pushed change sets failed");
        reset(group);
        for p in group.iter_mut() {
            p.failed = Some(Refusal::internal(&err));
        }
        return;
    }
    for p in group.iter_mut() {
        for i in std::mem::take(&mut p.answer_later) {
            let stored = receipts::stored_answer(&db.conn, &p.caller, &p.changesets[i]).await;
            match stored {
                Ok(Some(answer)) => p.results[i] = answer,
                Ok(None) => p.failed = Some(Refusal::internal("a receipt held by another process was not found")),
                Err(err) => p.failed = Some(Refusal::internal(err)),
            }
        }
        if p.failed.is_some() {
            p.retry = false;
        }
    }
}

async fn apply_in_transaction(db: &Db, group: &mut [Pending], mut state: GroupState) -> Result<(), DbErr> {
    let started = std::time::Instant::now();
    let txn = db.begin_write().await?;
    let begun = started.elapsed();
    let keys: Vec<(String, String)> = group
        .iter()
        .flat_map(|p| p.changesets[p.results.len()..].iter().map(|cs| (p.caller.device_id.clone(), cs.id.to_string())))
        .collect();
    // Answers given before, and those given in this group (a phone that sent the same
    // change set twice at once).
    let mut answered = receipts::stored_answers(&*txn, &keys).await?;
    let looked = started.elapsed();
    let asks: Vec<(&Caller, &ChangeSet)> = group
        .iter()
        .filter(|p| p.caller.grants.iter().any(|g| g.role.edits_households()))
        .flat_map(|p| {
            p.changesets[p.results.len()..]
                .iter()
                .filter(|cs| !answered.contains_key(&(p.caller.device_id.clone(), cs.id.to_string())))
                .map(|cs| (&p.caller, cs))
        })
        .collect();
    state.prefetch(&txn, &asks).await?;
    let read = started.elapsed();
    for p in group.iter_mut() {
        while !p.is_done() && !p.retry {
            let i = p.results.len();
            let key = (p.caller.device_id.clone(), p.changesets[i].id.to_string());
            if let Some(answer) = answered.get(&key) {
                p.results.push(answer.clone());
                continue;
            }
            let step = apply_one(&txn, &mut state, p, i).await?;
            if let Step::Answered(result) = &step {
                answered.insert(key, receipts::seen_again(result.clone()));
            }
            match step {
                Step::Answered(result) => p.results.push(result),
                Step::AnswerLater(placeholder) => {
                    p.answer_later.push(i);
                    p.results.push(placeholder);
                }
                Step::Deadlock => {
                    p.deadlocks += 1;
                    if p.deadlocks > DEADLOCK_RETRIES {
                        p.failed = Some(Refusal::internal("deadlock after retries"));
                    } else {
                        p.retry = true;
                    }
                }
                Step::Failed(refusal) => p.failed = Some(refusal),
            }
        }
    }
    let applied = started.elapsed();
    state.write_held(&txn).await?;
    let written = started.elapsed();
    txn.commit().await?;
    // Where a group's time goes (`RUST_LOG=jingzhun::sync=debug`): each figure is ms
    // since the transaction began.
    tracing::debug!(
        careful = state.careful,
        begun = begun.as_secs_f64() * 1e3,
        looked = looked.as_secs_f64() * 1e3,
        read = read.as_secs_f64() * 1e3,
        applied = applied.as_secs_f64() * 1e3,
        written = written.as_secs_f64() * 1e3,
        committed = started.elapsed().as_secs_f64() * 1e3,
        "push group's transaction"
    );
    Ok(())
}

/// What became of one change set in a group.
enum Step {
    Answered(ChangeSetResult),
    /// Another process holds its receipt: the stored answer replaces this one after the commit.
    AnswerLater(ChangeSetResult),
    Deadlock,
    Failed(Refusal),
}

/// A request's `i`th change set, not answered before, inside the group's transaction.
/// First on the group's state alone: an applied change set that wrote nothing as it went
/// hands its updates, receipt, log and audit rows to the group. Otherwise (or in a
/// careful group) in a savepoint, after the group's held-back updates: applied there or
/// rolled back and kept as rejected. The outer error is the group's: its transaction can
/// no longer commit.
async fn apply_one(txn: &DatabaseTransaction, state: &mut GroupState, p: &Pending, i: usize) -> Result<Step, DbErr> {
    let (caller, changeset, rules) = (&p.caller, &p.changesets[i], &p.rules);
    if !state.careful {
        let mut work = Work::new(caller, changeset, rules, state, false);
        match work.run(txn).await {
            Ok(()) if !work.errors_found() => {
                let result = work.applied_result();
                let receipt = receipts::NewReceipt::new(caller, changeset, &result)?;
                let (unwritten, log, audit) = work.into_writes();
                state.hold(unwritten, receipt, log, audit);
                return Ok(Step::Answered(result));
            }
            // Rejected before it wrote anything.
            Ok(()) | Err(Failure::Rejected) => {
                let rejected = Rejected::of(&mut work);
                return keep_rejected(txn, caller, changeset, rejected).await;
            }
            Err(Failure::WritesAsItGoes) => {}
            Err(Failure::Db(err)) => return Err(err),
        }
        state.write_held_updates(txn).await?;
    }
    let step = apply_in_savepoint(txn, state, p, i).await;
    state.forget(changeset);
    step
}

/// A change set applied in a savepoint of its own, writing its own rows (its log and
/// audit rows go with the group's).
async fn apply_in_savepoint(
    txn: &DatabaseTransaction,
    state: &mut GroupState,
    p: &Pending,
    i: usize,
) -> Result<Step, DbErr> {
    let (caller, changeset, rules) = (&p.caller, &p.changesets[i], &p.rules);
    let savepoint = txn.begin().await?;
    let mut work = Work::new(caller, changeset, rules, state, true);
    let outcome = work.run(&savepoint).await;
    let outcome = match outcome {
        Ok(()) if !work.errors_found() => {
            let result = work.applied_result();
            match receipts::insert(&savepoint, caller, changeset, &result).await {
                Ok(()) => {
                    savepoint.commit().await?;
                    let (_, log, audit) = work.into_writes();
                    state.log.extend(log);
                    state.audit.extend(audit);
                    return Ok(Step::Answered(result));
                }
                Err(err) => Err(Failure::Db(err)),
            }
        }
        Ok(()) => Err(Failure::Rejected),
        Err(failure) => Err(failure),
    };
    savepoint.rollback().await?;
    match outcome {
        Err(Failure::Db(err)) if is_deadlock(&err) => {
            tracing::warn!(changeset = %changeset.id, "deadlock; the change set waits for the next group");
            Ok(Step::Deadlock)
        }
        // The same change set from another process at once: the other copy won.
        Err(Failure::Db(err)) if is_unique_violation(&err) => Ok(Step::AnswerLater(work.applied_result())),
        Err(Failure::Db(err)) => Ok(Step::Failed(Refusal::internal(err))),
        // Never: in a savepoint of its own a change set may write.
        Err(Failure::WritesAsItGoes) => Ok(Step::Failed(Refusal::internal("a savepoint's change set refused a write"))),
        Ok(()) | Err(Failure::Rejected) => {
            let rejected = Rejected::of(&mut work);
            keep_rejected(txn, caller, changeset, rejected).await
        }
    }
}

/// What is kept of a rejected change set besides the change set itself.
struct Rejected {
    result: ChangeSetResult,
    households: Vec<(String, String)>,
    lookups: Vec<entity_rules::IdLookup>,
}

impl Rejected {
    fn of(work: &mut Work<'_>) -> Rejected {
        Rejected {
            result: work.rejected_result(),
            households: work.touched_households(),
            lookups: std::mem::take(&mut work.checker.lookups),
        }
    }
}

/// Keeps a rejected change set for a supervisor, in a savepoint of its own.
async fn keep_rejected(
    txn: &DatabaseTransaction,
    caller: &Caller,
    changeset: &ChangeSet,
    rejected: Rejected,
) -> Result<Step, DbErr> {
    let kept = txn.begin().await?;
    let stored =
        receipts::store_rejected(&kept, caller, changeset, &rejected.result, &rejected.households, &rejected.lookups)
            .await;
    match stored {
        Ok(()) => {
            kept.commit().await?;
            Ok(Step::Answered(rejected.result))
        }
        Err(err) => {
            kept.rollback().await?;
            if is_unique_violation(&err) {
                Ok(Step::AnswerLater(rejected.result))
            } else {
                Ok(Step::Failed(Refusal::internal(err)))
            }
        }
    }
}

fn is_deadlock(err: &DbErr) -> bool {
    let text = err.to_string();
    // SQLSTATE 40P01 deadlock_detected, 40001 serialization_failure.
    text.contains("40P01") || text.contains("40001") || text.contains("deadlock detected")
}

enum Failure {
    /// A change cannot go on (its errors are recorded); the set is rejected.
    Rejected,
    /// Applied on the group's state alone, the change set came to a write it must make
    /// as it goes: nothing was written; it starts again in a savepoint.
    WritesAsItGoes,
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

/// One change set being applied.
struct Work<'a> {
    caller: &'a Caller,
    /// Who signs the change set's audit entries.
    actor: Actor,
    changeset: &'a ChangeSet,
    rules: &'a Rules,
    /// When the caller's assignment to each former household ended.
    ended: HashMap<String, NaiveDate>,
    /// The entity rules' checks, with the out-of-scope ID number hits they made.
    checker: Checker<'a>,
    results: Vec<ChangeResult>,
    log: Vec<LogEntry>,
    audit: Vec<AuditEntry>,
    /// Households whose members changed: checked for one head at the end.
    member_households: BTreeMap<String, usize>,
    /// Households this change set touched, with the caller's access to each.
    households: BTreeMap<String, (HouseholdRef, Access)>,
    /// What the group read for all its change sets, and what those before this one
    /// applied without writing it yet.
    group: &'a mut GroupState,
    /// Whether it may write as it goes (it runs in a savepoint of its own); if not, it
    /// stops at the first write it would make (`Failure::WritesAsItGoes`).
    direct: bool,
    /// Records it opened a conflict on: only updates of records with an open conflict
    /// look for conflicts to close.
    conflicted: std::collections::BTreeSet<String>,
    /// Updated records not yet written, with the fields changed: written together, one
    /// statement per entity, before anything reads records again and at the end (or,
    /// not `direct`, handed to the group).
    unwritten: Unwritten,
}

impl<'a> Work<'a> {
    fn new(
        caller: &'a Caller,
        changeset: &'a ChangeSet,
        rules: &'a Rules,
        group: &'a mut GroupState,
        direct: bool,
    ) -> Work<'a> {
        Work {
            caller,
            actor: Actor::of(caller),
            changeset,
            rules,
            ended: HashMap::new(),
            checker: Checker::new(caller, rules.now),
            results: Vec::with_capacity(changeset.changes.len()),
            log: Vec::new(),
            audit: Vec::new(),
            member_households: BTreeMap::new(),
            households: BTreeMap::new(),
            group,
            direct,
            conflicted: std::collections::BTreeSet::new(),
            unwritten: BTreeMap::new(),
        }
    }

    /// What an applied change set leaves for the group to write: its updates not yet
    /// written, its change-log rows and its audit entries.
    fn into_writes(self) -> (Unwritten, Vec<LogEntry>, Vec<AuditEntry>) {
        (self.unwritten, self.log, self.audit)
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
            changeset_id: Some(self.changeset.id.to_string()),
            ..self.actor.audit_household(action, entity, id, household_id)
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

    /// Why a former officer's update or create may not go on, if it may not: only those
    /// recorded before the end and arriving within the grace window are theirs to make
    /// (deletes and new cases never are: they refuse them themselves).
    fn former_officer_refusal(&self, household_id: &str) -> Option<ErrorCode> {
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

    async fn run(&mut self, txn: &DatabaseTransaction) -> Result<(), Failure> {
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
                    Op::Create => {
                        self.writes()?;
                        self.write_updates(txn).await?;
                        self.create(txn, entity, change).await?
                    }
                    Op::Update => self.update(txn, entity, change).await?,
                    Op::Delete => {
                        self.writes()?;
                        self.write_updates(txn).await?;
                        self.delete(txn, entity, change).await?
                    }
                },
            };
            self.results.push(result);
        }
        if !self.errors_found() && self.direct {
            self.write_updates(txn).await?;
            self.check_heads(txn).await?;
        } else if !self.errors_found() && !self.member_households.is_empty() {
            // Counting heads reads the members as written.
            return Err(Failure::WritesAsItGoes);
        }
        Ok(())
    }

    /// May it write now? Only in a savepoint of its own.
    fn writes(&self) -> Result<(), Failure> {
        if self.direct { Ok(()) } else { Err(Failure::WritesAsItGoes) }
    }

    /// Writes the updates held back so far (`group_state::write_updates`), before something
    /// reads records again. Not `direct`, there may be none (of its own or the group's).
    async fn write_updates(&mut self, txn: &DatabaseTransaction) -> Result<(), Failure> {
        if !self.direct {
            return if self.unwritten.is_empty() && self.group.unwritten.is_empty() {
                Ok(())
            } else {
                Err(Failure::WritesAsItGoes)
            };
        }
        Ok(group_state::write_updates(txn, std::mem::take(&mut self.unwritten)).await?)
    }

    /// Reads what the change set will touch that the group has not read yet (a group
    /// reads for all its change sets at once): the records it updates or deletes, and
    /// their households with the caller's access and any freeze.
    async fn prefetch(&mut self, txn: &DatabaseTransaction) -> Result<(), DbErr> {
        self.group.prefetch(txn, &[(self.caller, self.changeset)]).await?;
        let households = self.group.households_of(self.changeset);
        self.load_households(txn, &households).await
    }

    async fn load_households(&mut self, txn: &DatabaseTransaction, ids: &[String]) -> Result<(), DbErr> {
        let asks: Vec<(&Caller, String)> =
            ids.iter().filter(|id| !self.households.contains_key(*id)).map(|id| (self.caller, id.clone())).collect();
        if asks.is_empty() {
            return Ok(());
        }
        self.group.load_households(txn, &asks).await?;
        for (_, id) in asks {
            let Some(facts) = self.group.households.get(&id) else { continue };
            let key = (self.caller.user_id.clone(), id.clone());
            let access = self.group.access.get(&key).copied().unwrap_or(Access::None);
            if let Some(end) = self.group.ended.get(&key) {
                self.ended.insert(id.clone(), *end);
            }
            let caller_level = procedures::signing::caller_level(self.caller, &facts.region_code);
            let frozen = facts.frozen_level.is_some_and(|level| caller_level < Some(level));
            let region_code = facts.region_code.clone();
            self.households.insert(id.clone(), (HouseholdRef { id, region_code, frozen }, access));
        }
        Ok(())
    }

    /// The household a change belongs to, if it exists, with the caller's access to it.
    async fn household(
        &mut self,
        txn: &DatabaseTransaction,
        household_id: &str,
    ) -> Result<Option<(HouseholdRef, Access)>, Failure> {
        if !self.households.contains_key(household_id) {
            self.load_households(txn, &[household_id.to_owned()]).await?;
        }
        Ok(self.households.get(household_id).cloned())
    }

    /// The record a change updates or deletes: as this change set or the group left
    /// it, or read now (a record the change set itself created).
    async fn record_for_change(
        &mut self,
        txn: &DatabaseTransaction,
        entity: &'static EntitySpec,
        id: &str,
    ) -> Result<Option<Record>, DbErr> {
        let key = (entity.name, id.to_owned());
        if let Some((record, _)) = self.unwritten.get(&key) {
            return Ok(Some(record.clone()));
        }
        if let Some(record) = self.group.records.get(&key) {
            return Ok(Some(record.clone()));
        }
        records::load(txn, entity, id, true).await
    }

    async fn create(
        &mut self,
        txn: &DatabaseTransaction,
        entity: &'static EntitySpec,
        change: &Change,
    ) -> Result<ChangeResult, Failure> {
        let id = change.id.to_string();
        let rules = entity_rules::of(entity);
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
        if records::load(txn, entity, &id, false).await?.is_some() {
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
            let h = HouseholdRef { id: id.clone(), region_code, frozen: false };
            // The creator may go on editing it in this change set (officers are assigned below).
            self.households.insert(id.clone(), (h.clone(), Access::Edit));
            h
        } else {
            let household_id = text_of(&values, "household_id");
            match self.household(txn, &household_id).await? {
                Some((h, access)) if rules.opened_by_procedure => {
                    return self.open_by_procedure(txn, entity, &rules, change, h, access, values).await;
                }
                Some((h, access)) if access.may_edit_offline() => {
                    if access == Access::FormerOfficer
                        && let Some(code) = self.former_officer_refusal(&h.id)
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

        let proposed =
            Proposed { id: &id, household_id: &household.id, frozen: household.frozen, values: &values, current: None };
        let errors = self.checker.check(txn, &rules, proposed).await?;
        if !errors.is_empty() {
            return Ok(error_result(change, errors));
        }
        for (name, filled) in rules.filled_on_create {
            values.insert(name, filled.value(self.caller));
        }
        if rules.head_field.is_some() {
            self.member_households.insert(household.id.clone(), self.results.len());
        }

        let record = Record {
            id: id.clone(),
            version: 1,
            field_versions: values.keys().map(|k| ((*k).to_owned(), 1)).collect(),
            values,
        };
        if let Err(err) = records::insert(txn, entity, &record).await {
            return self.unique_or_fail(change, &rules, err);
        }
        if entity.is_household() && !self.caller.edits_region(&household.region_code) {
            // An officer's new household (an application) is theirs to follow.
            assign_creator(txn, self.caller, &id).await?;
        }
        Ok(self.created(entity, change, &household, &record, former))
    }

    /// A new record its procedure opens (a case): the procedure decides who may open it
    /// and what it needs; the push logs and audits it with the rest of the change set.
    #[allow(clippy::too_many_arguments)]
    async fn open_by_procedure(
        &mut self,
        txn: &DatabaseTransaction,
        entity: &'static EntitySpec,
        rules: &EntityRules,
        change: &Change,
        household: HouseholdRef,
        access: Access,
        values: BTreeMap<&'static str, FieldValue>,
    ) -> Result<ChangeResult, Failure> {
        let id = change.id.to_string();
        let new = procedures::case::NewCase { id: &id, household_id: &household.id, access, values };
        match procedures::case::open_case(txn, self.caller, new).await {
            Ok(Ok(record)) => Ok(self.created(entity, change, &household, &record, false)),
            Ok(Err(errors)) => Ok(error_result(change, errors)),
            Err(err) => self.unique_or_fail(change, rules, err),
        }
    }

    /// The change-log row and audit entry of a record the change set created, and the
    /// phone's answer.
    fn created(
        &mut self,
        entity: &'static EntitySpec,
        change: &Change,
        household: &HouseholdRef,
        record: &Record,
        former: bool,
    ) -> ChangeResult {
        self.log.push(log_entry(entity, &record.id, household, LogOp::Upsert, 1));
        let mut entry = self.audit_entry("create", entity.name, &record.id, &household.id);
        entry.new_value = Some(record.to_json(entity).to_string());
        entry.version = Some(1);
        if former {
            entry.note = Some(self.former_officer_note(&household.id));
        }
        self.audit.push(entry);
        ChangeResult {
            entity: change.entity.clone(),
            id: change.id,
            status: ChangeStatus::Applied,
            version: 1,
            conflicts: vec![],
            errors: vec![],
        }
    }

    async fn update(
        &mut self,
        txn: &DatabaseTransaction,
        entity: &'static EntitySpec,
        change: &Change,
    ) -> Result<ChangeResult, Failure> {
        let id = change.id.to_string();
        let rules = entity_rules::of(entity);
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
            && let Some(code) = self.former_officer_refusal(&household.id)
        {
            return Ok(error_result(change, vec![FieldError::new("", code)]));
        }
        if change.base_version > record.version {
            return Ok(error_result(change, vec![FieldError::new("", ErrorCode::VersionAhead)]));
        }
        let proposed = Proposed {
            id: &id,
            household_id: &household.id,
            frozen: household.frozen,
            values: &values,
            current: Some(&record),
        };
        if Checker::reads_records(&rules, &proposed) {
            self.write_updates(txn).await?;
        }
        let errors = self.checker.check(txn, &rules, proposed).await?;
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
                self.writes()?;
                let base =
                    conflicts::value_at_version(txn, entity.name, &id, name, change.base_version, &current).await?;
                let conflict = conflicts::open(
                    txn,
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
                self.log.push(conflicts::log_entry(
                    conflict.id.to_string(),
                    &household.id,
                    Some(household.region_code.clone()),
                    1,
                ));
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
            let key = (entity.name, id.clone());
            let mut changed = self.unwritten.remove(&key).map(|(_, fields)| fields).unwrap_or_default();
            for field in &applied {
                if !changed.iter().any(|f| f.name == field.name) {
                    changed.push(field);
                }
            }
            self.unwritten.insert(key, (record.clone(), changed));
            self.log.push(log_entry(entity, &id, &household, LogOp::Upsert, new_version));
            let names: Vec<&str> = applied.iter().map(|f| f.name).collect();
            let resolved = if self.conflicted.contains(&id) || self.group.conflicted.contains(&id) {
                self.writes()?;
                conflicts::close_superseded(txn, entity.name, &id, &names, &self.caller.user_id).await?
            } else {
                Vec::new()
            };
            for conflict_id in resolved {
                self.log.push(conflicts::log_entry(conflict_id, &household.id, Some(household.region_code.clone()), 2));
            }
            if let Some(head) = rules.head_field
                && applied.iter().any(|f| f.name == head)
            {
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
        txn: &DatabaseTransaction,
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
        records::delete(txn, entity, &id).await?;
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

    /// R8: exactly one head in a household that has members.
    async fn check_heads(&mut self, txn: &DatabaseTransaction) -> Result<(), DbErr> {
        let backend = txn.get_database_backend();
        for (household_id, change_index) in self.member_households.clone() {
            let row = HeadsRow::find_by_statement(sql(
                backend,
                "SELECT COUNT(*) AS members, SUM(CASE WHEN relation = 'head' THEN 1 ELSE 0 END) AS heads FROM member WHERE household_id = ? AND active",
                vec![household_id.as_str().into()],
            ))
            .one(txn)
            .await?;
            let (members, heads) = row.map_or((0, 0), |r| (r.members.unwrap_or(0), r.heads.unwrap_or(0)));
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
    fn unique_or_fail(&mut self, change: &Change, rules: &EntityRules, err: DbErr) -> Result<ChangeResult, Failure> {
        if !is_unique_violation(&err) {
            return Err(Failure::Db(err));
        }
        let (field, code) = rules.on_unique;
        self.results.push(error_result(change, vec![FieldError::new(field, code)]));
        // On PostgreSQL the transaction is now unusable; nothing after this can apply.
        Err(Failure::Rejected)
    }
}

/// Active members of a household, and how many of them are its head.
#[derive(FromQueryResult)]
struct HeadsRow {
    members: Option<i64>,
    heads: Option<i64>,
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

async fn is_village(txn: &DatabaseTransaction, code: &str) -> Result<bool, DbErr> {
    Ok(count(txn, "SELECT COUNT(*) FROM region WHERE code = ? AND level = 'village'", vec![code.into()]).await? > 0)
}

async fn assign_creator(txn: &DatabaseTransaction, caller: &Caller, household_id: &str) -> Result<(), DbErr> {
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
