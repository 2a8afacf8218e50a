//! Change-set receipts: the first answer to each change set a device pushed, kept so a
//! retry of the same id gets that answer back without anything applied twice, and
//! rejected change sets kept for a supervisor to sort out.
//!
//! An applied change set is in the audit log already, so its receipt keeps only its
//! shape; a rejected one is kept whole but for secrets (bank accounts masked), with the
//! households it touches, which decide who may see it (L1 of the 2026-12 review).
//! Receipts are written by a push only: nothing here applies a change.
//!
//! The office's list of rejected change sets masks ID and phone values by the field's
//! kind ([`rejected`]); one change set with its whole values ([`rejected_whole`]) is a
//! view of personal data, audited in each household's trail before it is handed out.

use super::entity_rules::{self, IdLookup};
use crate::audit::{self, Actor};
use crate::auth::{Caller, Role};
use crate::db::entities::changeset_receipt;
use crate::db::{Db, sql};
use crate::error::Refusal;
use crate::records::{masking, scope};
use chrono::{DateTime, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::fields;
use jingzhun_mobile_api::validate;
use jingzhun_mobile_api::wire::{ChangeSet, ChangeSetResult, ChangeSetStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter};
use serde_json::{Value, json};

#[derive(FromQueryResult)]
struct ResponseRow {
    response: String,
}

/// The first answer to this change set from this device, if it came before.
pub async fn stored_answer(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    changeset: &ChangeSet,
) -> Result<Option<ChangeSetResult>, DbErr> {
    let row = ResponseRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT response FROM changeset_receipt WHERE device_id = ? AND changeset_id = ?",
        vec![caller.device_id.as_str().into(), changeset.id.to_string().into()],
    ))
    .one(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let result: ChangeSetResult =
        serde_json::from_str(&row.response).map_err(|e| DbErr::Custom(format!("stored answer: {e}")))?;
    Ok(Some(seen_again(result)))
}

#[derive(FromQueryResult)]
struct ReceiptRow {
    device_id: String,
    changeset_id: String,
    response: String,
}

/// The first answers to any of these change sets, by (device, change set id): what
/// [`stored_answer`] tells of each, for a whole group of pushes in one statement per
/// few hundred.
pub async fn stored_answers(
    conn: &impl ConnectionTrait,
    keys: &[(String, String)],
) -> Result<std::collections::HashMap<(String, String), ChangeSetResult>, DbErr> {
    let mut out = std::collections::HashMap::new();
    for chunk in keys.chunks(STORED_ANSWERS_PER_STATEMENT) {
        for row in ReceiptRow::find_by_statement(stored_answers_statement(conn.get_database_backend(), chunk))
            .all(conn)
            .await?
        {
            let result: ChangeSetResult =
                serde_json::from_str(&row.response).map_err(|e| DbErr::Custom(format!("stored answer: {e}")))?;
            out.insert((row.device_id, row.changeset_id), seen_again(result));
        }
    }
    Ok(out)
}

/// Keys per statement: an `OR` of this many pairs stays far below SQLite's expression depth.
const STORED_ANSWERS_PER_STATEMENT: usize = 200;

/// The look-up of [`stored_answers`]: an `OR` of key equalities, which both databases
/// answer with one primary-key probe per pair. (`(device_id, changeset_id) IN (VALUES
/// …)` reads the same, but SQLite scans the whole table for it, and receipts are kept
/// for ever.)
pub fn stored_answers_statement(backend: sea_orm::DbBackend, keys: &[(String, String)]) -> sea_orm::Statement {
    let text = format!(
        "SELECT device_id, changeset_id, response FROM changeset_receipt WHERE {}",
        vec!["(device_id = ? AND changeset_id = ?)"; keys.len().max(1)].join(" OR ")
    );
    let mut values: Vec<sea_orm::Value> =
        keys.iter().flat_map(|(d, c)| [d.as_str().into(), c.as_str().into()]).collect();
    if keys.is_empty() {
        values = vec!["".into(), "".into()];
    }
    sql(backend, &text, values)
}

/// An answer given before, as a retry gets it: an applied change set seen again is a
/// duplicate; a rejected one stays rejected, so the phone keeps it aside rather than
/// dropping it.
pub fn seen_again(mut result: ChangeSetResult) -> ChangeSetResult {
    if result.status == ChangeSetStatus::Applied {
        result.status = ChangeSetStatus::Duplicate;
    }
    result
}

/// Keeps a rejected change set for review, with the households it touches (who may
/// see it) and the ID number look-ups it made (which must outlive the rollback of the
/// change set itself), inside the push's transaction after the change set's own
/// savepoint was rolled back.
pub async fn store_rejected(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    changeset: &ChangeSet,
    result: &ChangeSetResult,
    households: &[(String, String)],
    lookups: &[IdLookup],
) -> Result<(), DbErr> {
    insert(conn, caller, changeset, result).await?;
    insert_households(conn, caller, changeset, households).await?;
    entity_rules::record_id_lookups(conn, caller, changeset, lookups).await
}

/// A receipt ready to be written: the answer and what is kept of the change set.
pub struct NewReceipt {
    device_id: String,
    changeset_id: String,
    user_id: String,
    status: &'static str,
    request: String,
    response: String,
}

impl NewReceipt {
    pub fn new(caller: &Caller, changeset: &ChangeSet, result: &ChangeSetResult) -> Result<NewReceipt, DbErr> {
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
        Ok(NewReceipt {
            device_id: caller.device_id.clone(),
            changeset_id: changeset.id.to_string(),
            user_id: caller.user_id.clone(),
            status,
            request: serde_json::to_string(&kept).map_err(|e| DbErr::Custom(e.to_string()))?,
            response: serde_json::to_string(result).map_err(|e| DbErr::Custom(e.to_string()))?,
        })
    }
}

/// Writes the receipt of an answered change set, inside the caller's transaction (an
/// applied change set's, so the receipt commits with the change set or not at all).
pub async fn insert(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    changeset: &ChangeSet,
    result: &ChangeSetResult,
) -> Result<(), DbErr> {
    insert_many(conn, &[NewReceipt::new(caller, changeset, result)?]).await
}

/// Stores the first answers to several change sets, a hundred to a statement (a push
/// group's applied change sets together).
pub async fn insert_many(conn: &impl crate::db::Rows, receipts: &[NewReceipt]) -> Result<(), DbErr> {
    let now = Utc::now();
    for chunk in receipts.chunks(crate::db::rows_per_statement(conn, 100)) {
        let text = format!(
            "INSERT INTO changeset_receipt (device_id, changeset_id, user_id, status, request, response, received_at) VALUES {}",
            vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 7);
        for r in chunk {
            values.push(r.device_id.as_str().into());
            values.push(r.changeset_id.as_str().into());
            values.push(r.user_id.as_str().into());
            values.push(r.status.into());
            values.push(r.request.as_str().into());
            values.push(r.response.as_str().into());
            values.push(now.into());
        }
        conn.run(sql(conn.backend(), &text, values)).await?;
    }
    Ok(())
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
                *value = Value::String(validate::mask_bank_account(text));
            }
        }
    }
    kept
}

/// A change set with its values left out: which records, which fields. An applied
/// change set's receipt keeps this much, and so is a rejected one shown to whoever may
/// not read every household it touches.
pub fn shape_only(changeset: &ChangeSet) -> ChangeSet {
    let mut kept = changeset.clone();
    for change in &mut kept.changes {
        for value in change.fields.values_mut() {
            *value = Value::Null;
        }
    }
    kept
}

/// The households a stored change set touches, with their villages: who may read one
/// of them may see the change set (L1).
async fn insert_households(
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

#[derive(FromQueryResult)]
struct RejectedRow {
    device_id: String,
    changeset_id: String,
    user_id: String,
    received_at: DateTime<Utc>,
    request: String,
    response: String,
}

#[derive(FromQueryResult)]
struct TouchedRow {
    household_id: String,
    region_code: String,
}

/// Which rejected change sets the caller may see, as a condition on `r`
/// (changeset_receipt): managers and supervisors only; a change set is visible to
/// whoever reads one of the households it touches (the submitter's other roles do not
/// widen it); one that names no existing household, to those who read one of the
/// submitter's regions.
fn visible(caller: &Caller) -> Result<(String, Vec<sea_orm::Value>), Refusal> {
    if !caller.grants.iter().any(|g| g.role.manages() || g.role == Role::Supervisor) {
        return Err(Refusal::forbidden());
    }
    let (households, mut values) = scope::households_condition(caller, "ch.household_id", "ch.region_code");
    let prefixes = caller.read_prefixes();
    let submitter = if prefixes.is_empty() {
        "1 = 0".to_owned()
    } else {
        format!("({})", vec!["g.region_code LIKE ?"; prefixes.len()].join(" OR "))
    };
    values.extend(prefixes.iter().map(|p| sea_orm::Value::from(format!("{p}%"))));
    let text = format!(
        "SELECT r.device_id, r.changeset_id, r.user_id, r.received_at, r.request, r.response FROM changeset_receipt r \
         WHERE r.status = 'rejected' AND (\
           EXISTS (SELECT 1 FROM changeset_household ch WHERE ch.device_id = r.device_id AND ch.changeset_id = r.changeset_id AND {households}) \
           OR (NOT EXISTS (SELECT 1 FROM changeset_household ch WHERE ch.device_id = r.device_id AND ch.changeset_id = r.changeset_id) \
               AND EXISTS (SELECT 1 FROM role_grant g WHERE g.user_id = r.user_id AND {submitter})))"
    );
    Ok((text, values))
}

/// Rejected change sets kept for review, newest first, a page of at most `limit` after
/// the change set `after`, as [`visible`] lets the caller see them. Values are shown
/// only to who reads every household a change set touches, and then with ID and phone
/// numbers masked, as every list shows them; [`rejected_whole`] gives one whole.
pub async fn rejected(db: &Db, caller: &Caller, after: Option<&str>, limit: u64) -> Result<Vec<Value>, Refusal> {
    let (mut text, mut values) = visible(caller)?;
    if let Some(after) = after.filter(|a| !a.is_empty()) {
        let last = changeset_receipt::Entity::find()
            .filter(changeset_receipt::Column::ChangesetId.eq(after))
            .filter(changeset_receipt::Column::Status.eq("rejected"))
            .one(&db.conn)
            .await?
            .ok_or_else(|| Refusal::invalid(ErrorCode::InvalidRequest))?;
        text.push_str(" AND (r.received_at < ? OR (r.received_at = ? AND r.changeset_id < ?))");
        values.extend([last.received_at.into(), last.received_at.into(), after.into()]);
    }
    text.push_str(" ORDER BY r.received_at DESC, r.changeset_id DESC LIMIT ?");
    values.push((limit as i64).into());
    let rows = RejectedRow::find_by_statement(sql(db.backend(), &text, values)).all(&db.conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        // A change set touching households in two villages is listed for readers of
        // either; its values are shown only to who reads every one of them.
        let touched = touched(db, &row.device_id, &row.changeset_id).await?;
        let withheld = !reads_every_household(db, caller, &touched).await?;
        let mut shown = to_json(&row, withheld);
        mask_values(&mut shown);
        out.push(shown);
    }
    Ok(out)
}

/// One rejected change set with its whole values, for a caller who may see it and
/// reads every household it touches: a view of personal data like the household page,
/// so a `view` entry per household (or one without, for a change set naming none) is
/// committed before the values are handed out; a refused caller leaves none. One naming
/// no kept household is whole only for who reads the villages it names
/// ([`reads_what_it_names`]); anyone else who sees it gets it as the list shows it,
/// masked, and no entry.
pub async fn rejected_whole(db: &Db, caller: &Caller, device_id: &str, changeset_id: &str) -> Result<Value, Refusal> {
    let (mut text, mut values) = visible(caller)?;
    text.push_str(" AND r.device_id = ? AND r.changeset_id = ?");
    values.extend([device_id.into(), changeset_id.into()]);
    let row = RejectedRow::find_by_statement(sql(db.backend(), &text, values)).one(&db.conn).await?;
    let Some(row) = row else {
        // Not kept, or kept but out of sight: the same answer, so an id outside the
        // caller's scope does not tell it exists.
        return Err(Refusal::not_found());
    };
    let touched = touched(db, &row.device_id, &row.changeset_id).await?;
    if touched.is_empty() {
        // Naming no household kept (a refused create), it is listed for readers of any of
        // the submitter's regions; whole only for who reads where it would have lived.
        if !reads_what_it_names(db, caller, &row).await? {
            let mut shown = to_json(&row, false);
            mask_values(&mut shown);
            return Ok(shown);
        }
    } else if !reads_every_household(db, caller, &touched).await? {
        return Err(Refusal::out_of_scope());
    }
    let actor = Actor::of(caller);
    let entries: Vec<_> = if touched.is_empty() {
        vec![actor.audit("view", "changeset", &row.changeset_id)]
    } else {
        touched
            .iter()
            .map(|(household, _)| actor.audit_household("view", "changeset", &row.changeset_id, household))
            .collect()
    };
    let txn = db.begin_write().await?;
    audit::record(&*txn, &entries).await?;
    txn.commit().await?;
    Ok(to_json(&row, false))
}

/// A kept change set as the office reads it; `withheld` leaves its values out.
fn to_json(row: &RejectedRow, withheld: bool) -> Value {
    let request = match serde_json::from_str::<ChangeSet>(&row.request) {
        Ok(stored) if withheld => serde_json::to_value(shape_only(&stored)).unwrap_or(Value::Null),
        _ if withheld => Value::Null,
        _ => serde_json::from_str::<Value>(&row.request).unwrap_or(Value::Null),
    };
    json!({
        "device_id": row.device_id,
        "changeset_id": row.changeset_id,
        "user_id": row.user_id,
        "received_at": row.received_at.to_rfc3339(),
        "request": request,
        "values_withheld": withheld,
        "response": serde_json::from_str::<Value>(&row.response).unwrap_or(Value::Null),
    })
}

/// Masks, by the field's kind, the values a listed change set carries: the request's
/// fields and the values of any conflict its answer names.
fn mask_values(shown: &mut Value) {
    for (part, values) in [("request", "fields"), ("response", "conflicts")] {
        let Some(changes) = shown[part]["changes"].as_array_mut() else { continue };
        for change in changes {
            let entity = change["entity"].as_str().unwrap_or_default().to_owned();
            match change.get_mut(values) {
                Some(Value::Object(fields)) => {
                    for (name, value) in fields.iter_mut() {
                        masking::listed(&entity, name, value);
                    }
                }
                Some(Value::Array(conflicts)) => {
                    for conflict in conflicts {
                        let field = conflict["field"].as_str().unwrap_or_default().to_owned();
                        for key in ["base_value", "server_value", "client_value"] {
                            if let Some(value) = conflict.get_mut(key) {
                                masking::listed(&entity, &field, value);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// The households a kept change set touches, with their villages.
async fn touched(db: &Db, device_id: &str, changeset_id: &str) -> Result<Vec<(String, String)>, DbErr> {
    Ok(TouchedRow::find_by_statement(sql(
        db.backend(),
        "SELECT household_id, region_code FROM changeset_household WHERE device_id = ? AND changeset_id = ?",
        vec![device_id.into(), changeset_id.into()],
    ))
    .all(&db.conn)
    .await?
    .into_iter()
    .map(|r| (r.household_id, r.region_code))
    .collect())
}

/// Whether the caller reads every village a change set naming no kept household would
/// have written to: the `region_code` of each household it creates, or, naming none, each
/// region the submitter holds a grant in. Nothing named and no grant left: no one.
async fn reads_what_it_names(db: &Db, caller: &Caller, row: &RejectedRow) -> Result<bool, DbErr> {
    let mut regions: Vec<String> = serde_json::from_str::<ChangeSet>(&row.request)
        .map(|stored| {
            stored
                .changes
                .iter()
                .filter(|c| c.entity == fields::HOUSEHOLD.name)
                .filter_map(|c| c.fields.get("region_code").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if regions.is_empty() {
        regions = crate::registry::users::grants(&db.conn, &row.user_id)
            .await?
            .into_iter()
            .map(|(_, region)| region)
            .collect();
    }
    Ok(!regions.is_empty() && regions.iter().all(|r| caller.reads_region(r)))
}

async fn reads_every_household(db: &Db, caller: &Caller, pairs: &[(String, String)]) -> Result<bool, DbErr> {
    let access = scope::households_access(&db.conn, caller, pairs).await?;
    Ok(pairs.iter().all(|(id, _)| access.get(id).is_some_and(|a| a.may_read())))
}
