//! What the change sets of one push group share while they are applied in turn
//! (`push::apply_group`): the records, households and access read for all of them in a
//! few statements, and the updates and receipts of the change sets applied so far,
//! held back and written together when the group ends.
//!
//! A change set that only updates fields, which is what phones send nearly always, is
//! applied on this state without a savepoint and without a statement of its own. One
//! that must write as it goes (a create, a delete, a conflict kept, a check that reads
//! other records, a head count) runs in a savepoint once the held-back updates are
//! written, so the database is current for it; what it touched is then forgotten
//! here, and read afresh by whoever needs it next.
//!
//! If writing what was held back fails, nobody can tell whose change set it was: the
//! group's transaction rolls back and the group is applied again `careful`ly, every
//! change set in its own savepoint writing its own rows.

use super::conflicts;
use super::receipts::{self, NewReceipt};
use crate::audit::{self, AuditEntry};
use crate::auth::Caller;
use crate::db::Rows;
use crate::procedures::{self, Level};
use crate::records::changelog::{self, LogEntry};
use crate::records::scope::{self, Access};
use crate::records::{self, Record};
use chrono::NaiveDate;
use jingzhun_mobile_api::fields::{self, FieldSpec};
use jingzhun_mobile_api::wire::{ChangeSet, Op};
use sea_orm::DbErr;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Updated records not yet written, with the fields changed, by (entity, id).
pub type Unwritten = BTreeMap<(&'static str, String), (Record, Vec<&'static FieldSpec>)>;

/// A household's village, and the highest level an open case froze it at.
pub struct HouseholdFacts {
    pub region_code: String,
    pub frozen_level: Option<Level>,
}

#[derive(Default)]
pub struct GroupState {
    /// Every change set in its own savepoint, writing its own rows (after the shared
    /// writes of a first attempt failed).
    pub careful: bool,
    /// Records as the change sets applied so far left them, by (entity, id); read
    /// (on PostgreSQL locked) in id order.
    pub records: HashMap<(&'static str, String), Record>,
    /// Which of those records have an open conflict.
    pub conflicted: HashSet<String>,
    pub households: HashMap<String, HouseholdFacts>,
    /// How each caller may touch each household: (user id, household id).
    pub access: HashMap<(String, String), Access>,
    /// When a former officer's assignment ended: (user id, household id).
    pub ended: HashMap<(String, String), NaiveDate>,
    /// Fields changed by the change sets applied so far and not yet written, by (entity,
    /// id); the values are those of `records`, where each update left its record.
    pub unwritten: BTreeMap<(&'static str, String), Vec<&'static FieldSpec>>,
    /// Receipts of the change sets applied so far, not yet written.
    pub receipts: Vec<NewReceipt>,
    /// Change-log rows and audit entries of the change sets applied so far (in a
    /// savepoint or not), written when the group ends.
    pub log: Vec<LogEntry>,
    pub audit: Vec<AuditEntry>,
}

impl GroupState {
    pub fn new(careful: bool) -> GroupState {
        GroupState { careful, ..GroupState::default() }
    }

    /// Reads what these change sets will touch, for all of them at once: the records
    /// they update or delete, which of those have open conflicts, their households and
    /// each caller's access to them.
    pub async fn prefetch(&mut self, txn: &impl Rows, asks: &[(&Caller, &ChangeSet)]) -> Result<(), DbErr> {
        let mut wanted: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for (_, changeset) in asks {
            for change in changeset.changes.iter().filter(|c| c.op != Op::Create) {
                if let Some(entity) = fields::entity(&change.entity) {
                    wanted.entry(entity.name).or_default().push(change.id.to_string());
                }
            }
        }
        self.load_records(txn, wanted).await?;
        let mut households: Vec<(&Caller, String)> = Vec::new();
        for (caller, changeset) in asks {
            households.extend(self.households_of(changeset).into_iter().map(|h| (*caller, h)));
        }
        self.load_households(txn, &households).await
    }

    /// The households a change set names: those of the records it touches (as read so
    /// far) and those its new records go into.
    pub fn households_of(&self, changeset: &ChangeSet) -> Vec<String> {
        let mut out = Vec::new();
        for change in &changeset.changes {
            let Some(entity) = fields::entity(&change.entity) else { continue };
            if change.op == Op::Create {
                let household = change.fields.get("household_id").and_then(|v| v.as_str());
                out.extend(household.and_then(|h| uuid::Uuid::parse_str(h).ok()).map(|h| h.to_string()));
            } else if let Some(record) = self.records.get(&(entity.name, change.id.to_string())) {
                out.extend(record.household_id(entity).map(str::to_owned));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Reads the records not read yet (locked in id order on PostgreSQL, so two groups
    /// never wait on each other in a cycle), and whether each has an open conflict.
    pub async fn load_records(
        &mut self,
        txn: &impl Rows,
        wanted: BTreeMap<&'static str, Vec<String>>,
    ) -> Result<(), DbErr> {
        let mut loaded = Vec::new();
        for (name, mut ids) in wanted {
            let Some(entity) = fields::entity(name) else { continue };
            ids.retain(|id| !self.records.contains_key(&(name, id.clone())));
            if ids.is_empty() {
                continue;
            }
            ids.sort();
            ids.dedup();
            for record in records::load_many_locked(txn, entity, &ids).await? {
                loaded.push(record.id.clone());
                self.records.insert((entity.name, record.id.clone()), record);
            }
        }
        if loaded.is_empty() {
            return Ok(());
        }
        let conflicted = conflicts::records_with_open_conflicts(txn, &loaded).await?;
        for id in loaded {
            if conflicted.contains(&id) {
                self.conflicted.insert(id);
            } else {
                self.conflicted.remove(&id);
            }
        }
        Ok(())
    }

    /// Reads the villages and freezes of the households not read yet, and each
    /// caller's access to them (with when a former officer's assignment ended): a
    /// statement each for the whole group, whoever the callers are.
    pub async fn load_households(&mut self, txn: &impl Rows, asks: &[(&Caller, String)]) -> Result<(), DbErr> {
        let mut missing: Vec<String> =
            asks.iter().map(|(_, h)| h).filter(|h| !self.households.contains_key(*h)).cloned().collect();
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            let mut regions: Vec<(String, String)> = Vec::new();
            let mut to_read = Vec::new();
            for id in missing.iter() {
                // A household record read for an update carries its village (which never changes).
                match self.records.get(&(fields::HOUSEHOLD.name, id.clone())) {
                    Some(h) => regions.push((id.clone(), h.text("region_code").unwrap_or_default().to_owned())),
                    None => to_read.push(id.clone()),
                }
            }
            if !to_read.is_empty() {
                regions.extend(scope::household_regions(txn, &to_read).await?);
            }
            let frozen = procedures::signing::households_frozen_levels(txn, &missing).await?;
            for (id, region_code) in regions {
                let frozen_level = frozen.get(&id).copied();
                self.households.insert(id, HouseholdFacts { region_code, frozen_level });
            }
        }
        let mut access_asks: Vec<(&Caller, &str, &str)> = Vec::new();
        for (caller, household) in asks {
            if self.access.contains_key(&(caller.user_id.clone(), household.clone())) {
                continue;
            }
            if let Some(facts) = self.households.get(household) {
                access_asks.push((caller, household, &facts.region_code));
            }
        }
        if access_asks.is_empty() {
            return Ok(());
        }
        let access = scope::many_callers_access(txn, &access_asks).await?;
        let mut former: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for ((user, household), a) in &access {
            if *a == Access::FormerOfficer {
                former.entry(user.as_str()).or_default().push(household.clone());
            }
        }
        for (user, households) in former {
            for (household, end) in scope::assignment_end_dates(txn, user, &households).await? {
                self.ended.insert((user.to_owned(), household), end);
            }
        }
        self.access.extend(access);
        Ok(())
    }

    /// Takes on what a change set applied without a savepoint: its updates, held back
    /// with the group's, its receipt, log and audit rows.
    pub fn hold(&mut self, unwritten: Unwritten, receipt: NewReceipt, log: Vec<LogEntry>, audit: Vec<AuditEntry>) {
        for (key, (record, changed)) in unwritten {
            let held = self.unwritten.entry(key.clone()).or_default();
            for field in changed {
                if !held.iter().any(|f| f.name == field.name) {
                    held.push(field);
                }
            }
            self.records.insert(key, record);
        }
        self.receipts.push(receipt);
        self.log.extend(log);
        self.audit.extend(audit);
    }

    /// Writes the updates held back so far (one statement per entity, or per record
    /// where statements are cheap: `write_many`): before a change
    /// set that writes as it goes, and at the end of the group.
    pub async fn write_held_updates(&mut self, txn: &impl Rows) -> Result<(), DbErr> {
        let unwritten = std::mem::take(&mut self.unwritten);
        let mut updates = Vec::with_capacity(unwritten.len());
        for (key, changed) in &unwritten {
            // `forget` runs only after the held updates are written.
            let record = self.records.get(key).ok_or_else(|| DbErr::Custom(format!("held update of {key:?} lost")))?;
            updates.push((key.0, record, changed.as_slice()));
        }
        write_many(txn, updates).await
    }

    /// Writes everything held back when the group ends: the updates, the receipts, the
    /// audit entries and, last, the change log under the group's commit number
    /// (`changelog::commit_number`): the caller commits right after.
    pub async fn write_held(&mut self, txn: &impl Rows) -> Result<(), DbErr> {
        self.write_held_updates(txn).await?;
        receipts::insert_many(txn, &std::mem::take(&mut self.receipts)).await?;
        audit::record(txn, &self.audit).await?;
        if !self.log.is_empty() {
            let tx = changelog::commit_number(txn).await?;
            changelog::append(txn, tx, &self.log).await?;
        }
        Ok(())
    }

    /// After a change set that wrote as it went, applied or rolled back: the records it
    /// touched and every household's facts are read again when next needed (it may have
    /// opened a case, assigned a new household, deleted a record).
    pub fn forget(&mut self, changeset: &ChangeSet) {
        for change in &changeset.changes {
            if let Some(entity) = fields::entity(&change.entity) {
                self.records.remove(&(entity.name, change.id.to_string()));
            }
        }
        self.households.clear();
        self.access.clear();
        self.ended.clear();
    }
}

/// Writes updated records: one statement per entity (per hundred records), or one per
/// record where statements are cheap (`records::update_many`).
pub async fn write_updates(txn: &impl Rows, unwritten: Unwritten) -> Result<(), DbErr> {
    write_many(
        txn,
        unwritten.iter().map(|((entity, _), (record, changed))| (*entity, record, changed.as_slice())).collect(),
    )
    .await
}

async fn write_many(
    txn: &impl Rows,
    updates: Vec<(&'static str, &Record, &[&'static FieldSpec])>,
) -> Result<(), DbErr> {
    let mut by_entity: BTreeMap<&'static str, Vec<(&Record, &[&'static FieldSpec])>> = BTreeMap::new();
    for (entity, record, changed) in updates {
        by_entity.entry(entity).or_default().push((record, changed));
    }
    for (name, updates) in by_entity {
        if let Some(entity) = fields::entity(name) {
            records::update_many(txn, entity, &updates).await?;
        }
    }
    Ok(())
}
