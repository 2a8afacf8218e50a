//! Importing a department list and deciding the leads it raises.

use super::parse::{self, FileError, Sheet};
use super::{Source, VEHICLE_MIN_YUAN};
use crate::audit::{self, AuditEntry};
use crate::auth::Caller;
use crate::db::{Db, placeholders, sql};
use crate::gate::Gate;
use crate::tabular::{self, Caps, OffRuntimeError};
use chrono::{DateTime, NaiveDate, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::validate::{id_number_is_valid, mask_id_number, mask_phone};
use sea_orm::{ConnectionTrait, DbErr, Value};
use serde::Serialize;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

pub struct ImportRequest {
    pub source: Source,
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// The county (or lower region) whose households the list is compared with.
    pub region_prefix: String,
    pub region_code: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RejectedRow {
    pub line: usize,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub id: String,
    pub source: Source,
    pub rows_total: usize,
    pub rows_accepted: usize,
    pub rows_rejected: usize,
    pub rows_matched: usize,
    pub rejected: Vec<RejectedRow>,
    #[schema(value_type = Vec<Object>)]
    pub leads: Vec<Json>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileError),
    /// Every parsing slot stayed taken (503 `busy`).
    #[error("the server is busy parsing other files")]
    Busy,
    /// The parse panicked: a bug; the process carries on.
    #[error("parsing failed: {0}")]
    Parse(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn rejected(line: usize, code: ErrorCode) -> RejectedRow {
    RejectedRow {
        line,
        code: code.code().into(),
        message_zh: code.message_zh().into(),
        message_en: code.message_en().into(),
    }
}

/// A row that may match: its ID number, date and the row as the department wrote it
/// (ID number masked).
struct Candidate {
    id_number: String,
    date: Option<NaiveDate>,
    details: Json,
}

/// Checks every row; returns the rows that can be matched and the rejected ones.
fn screen(source: Source, sheet: &Sheet) -> (Vec<Candidate>, Vec<RejectedRow>, usize) {
    let mut candidates = Vec::new();
    let mut rejects = Vec::new();
    let mut below_threshold = 0;
    for row in &sheet.rows {
        let id_number = row.cells.get(&sheet.id_column).map(|s| s.to_ascii_uppercase()).unwrap_or_default();
        if !id_number_is_valid(&id_number) {
            rejects.push(rejected(row.line, ErrorCode::InvalidIdNumber));
            continue;
        }
        let date_text = sheet.date_column.as_ref().and_then(|c| row.cells.get(c)).filter(|t| !t.is_empty());
        let date = date_text.and_then(|t| parse::parse_date(t));
        if date_text.is_some() && date.is_none() {
            rejects.push(rejected(row.line, ErrorCode::InvalidDate));
            continue;
        }
        if source == Source::Vehicles {
            let value = sheet.value_column.as_ref().and_then(|c| row.cells.get(c)).filter(|t| !t.is_empty());
            match value.map(|v| v.replace(',', "").parse::<f64>()) {
                Some(Err(_)) => {
                    rejects.push(rejected(row.line, ErrorCode::InvalidMoney));
                    continue;
                }
                // 002 §二(二)3 counts vehicles worth 30,000 yuan or more.
                Some(Ok(v)) if v < VEHICLE_MIN_YUAN => {
                    below_threshold += 1;
                    continue;
                }
                _ => {}
            }
        }
        let mut details = serde_json::Map::new();
        details.insert("line".into(), json!(row.line));
        for (header, cell) in &row.cells {
            details.insert(header.clone(), Json::String(masked(header, cell, *header == sheet.id_column)));
        }
        candidates.push(Candidate { id_number, date, details: Json::Object(details) });
    }
    (candidates, rejects, below_threshold)
}

/// Headers of columns that hold phone numbers, as departments name them.
const PHONE_HEADERS: &[&str] = &["电话", "手机", "联系方式", "phone", "mobile", "tel"];

/// A cell as the lead keeps it: ID numbers (in the ID column or anywhere else) and phone
/// numbers (in a phone column, or any cell shaped like a mobile number) masked (L9).
fn masked(header: &str, cell: &str, is_id_column: bool) -> String {
    let digits: String = cell.chars().filter(char::is_ascii_alphanumeric).collect();
    let lower = header.to_lowercase();
    if is_id_column || id_number_is_valid(&digits.to_ascii_uppercase()) {
        mask_id_number(cell)
    } else if PHONE_HEADERS.iter().any(|h| lower.contains(h))
        || (digits.len() == 11 && digits.starts_with('1') && digits.bytes().all(|b| b.is_ascii_digit()))
    {
        mask_phone(cell)
    } else {
        cell.to_owned()
    }
}

struct Match {
    member_id: String,
    household_id: String,
    registered_at: DateTime<Utc>,
}

/// Active members of households in the region with these ID numbers.
async fn members_by_id_number(
    conn: &impl ConnectionTrait,
    prefix: &str,
    ids: &[String],
) -> Result<HashMap<String, Vec<Match>>, DbErr> {
    let mut out: HashMap<String, Vec<Match>> = HashMap::new();
    for chunk in ids.chunks(500) {
        // Registered when the identification completed; households recorded before the
        // system (or loaded in bulk) count from their creation.
        let text = format!(
            "SELECT m.id_number, m.id, h.id, h.created_at, \
             (SELECT MAX(c.closed_at) FROM procedure_case c WHERE c.household_id = h.id AND c.kind = 'identify' AND c.status = 'completed') \
             FROM member m JOIN household h ON h.id = m.household_id \
             WHERE m.active AND h.region_code LIKE ? AND m.id_number IN ({})",
            placeholders(chunk.len())
        );
        let mut values: Vec<Value> = vec![format!("{prefix}%").into()];
        values.extend(chunk.iter().map(|i| Value::from(i.as_str())));
        for row in conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await? {
            let created: DateTime<Utc> = row.try_get_by_index(3)?;
            let identified: Option<DateTime<Utc>> = row.try_get_by_index(4)?;
            out.entry(row.try_get_by_index(0)?).or_default().push(Match {
                member_id: row.try_get_by_index(1)?,
                household_id: row.try_get_by_index(2)?,
                registered_at: identified.unwrap_or(created),
            });
        }
    }
    Ok(out)
}

/// Imports a list: the file is parsed and screened on a blocking thread inside a slot of
/// `parsing`, within `caps`; then the matches are written in one transaction.
pub async fn run(
    db: &Db,
    caller: &Caller,
    request: ImportRequest,
    parsing: &Gate,
    caps: Caps,
) -> Result<ImportReport, ImportError> {
    let sha256 = hex::encode(Sha256::digest(&request.bytes));
    let (source, file_name, bytes) = (request.source, request.file_name.clone(), request.bytes);
    let parsed = tabular::read_off_runtime(parsing, move || {
        let sheet = parse::parse_with(&file_name, &bytes, &caps)?;
        let screened = screen(source, &sheet);
        Ok::<_, FileError>((sheet.rows.len(), screened))
    })
    .await;
    let (rows_total, (candidates, rejects, below_threshold)) = match parsed {
        Ok(parsed) => parsed,
        Err(OffRuntimeError::Read(err)) => return Err(err.into()),
        Err(OffRuntimeError::Busy) => return Err(ImportError::Busy),
        Err(OffRuntimeError::Failed(why)) => return Err(ImportError::Parse(why)),
    };
    let mut ids: Vec<String> = candidates.iter().map(|c| c.id_number.clone()).collect();
    ids.sort();
    ids.dedup();

    let txn = db.begin_write().await?;
    let matches = members_by_id_number(&*txn, &request.region_prefix, &ids).await?;
    let import_id = Uuid::new_v4().to_string();
    let now = Utc::now();
    let mut leads = Vec::new();
    let mut audit_entries = Vec::new();
    let mut matched_rows = 0;
    for candidate in &candidates {
        let Some(found) = matches.get(&candidate.id_number) else { continue };
        matched_rows += 1;
        for m in found {
            let after_registration = request.source.has_exit_measure_exception()
                && candidate.date.is_some_and(|d| d > m.registered_at.date_naive());
            let lead_id = Uuid::new_v4().to_string();
            txn.execute_raw(sql(
                txn.get_database_backend(),
                "INSERT INTO comparison_lead (id, import_id, household_id, member_id, source, reason, details, after_registration, status, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)",
                vec![
                    lead_id.as_str().into(),
                    import_id.as_str().into(),
                    m.household_id.as_str().into(),
                    m.member_id.as_str().into(),
                    request.source.code().into(),
                    request.source.reason().into(),
                    candidate.details.to_string().into(),
                    after_registration.into(),
                    now.into(),
                ],
            ))
            .await?;
            audit_entries.push(AuditEntry {
                user_id: Some(caller.user_id.clone()),
                device_id: Some(caller.device_id.clone()),
                action: "comparison_lead".into(),
                entity: "household".into(),
                entity_id: m.household_id.clone(),
                new_value: Some(format!("{} lead {lead_id} from import {import_id}", request.source.reason())),
                ..AuditEntry::default()
            });
            leads.push(json!({
                "id": lead_id,
                "household_id": m.household_id,
                "member_id": m.member_id,
                "source": request.source,
                "reason": request.source.reason(),
                "after_registration": after_registration,
                "details": candidate.details,
                "status": "open",
            }));
        }
    }
    let rows_rejected = rejects.len();
    let rejected_json = serde_json::to_string(&rejects).unwrap_or_else(|_| "[]".into());
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "INSERT INTO comparison_import (id, source, file_name, sha256, region_code, rows_total, rows_accepted, rows_rejected, rows_matched, rejected, imported_by, imported_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            import_id.as_str().into(),
            request.source.code().into(),
            request.file_name.chars().take(200).collect::<String>().into(),
            sha256.as_str().into(),
            request.region_code.as_str().into(),
            (rows_total as i64).into(),
            ((rows_total - rows_rejected) as i64).into(),
            (rows_rejected as i64).into(),
            (matched_rows as i64).into(),
            rejected_json.into(),
            caller.user_id.as_str().into(),
            now.into(),
        ],
    ))
    .await?;
    audit_entries.push(AuditEntry {
        user_id: Some(caller.user_id.clone()),
        device_id: Some(caller.device_id.clone()),
        action: "comparison_import".into(),
        entity: "comparison_import".into(),
        entity_id: import_id.clone(),
        new_value: Some(format!(
            "{}: {rows_total} rows, {rows_rejected} rejected, {matched_rows} matched, {below_threshold} below the vehicle threshold",
            request.source.code()
        )),
        ..AuditEntry::default()
    });
    audit::record(&*txn, &audit_entries).await?;
    txn.commit().await?;
    Ok(ImportReport {
        id: import_id,
        source: request.source,
        rows_total,
        rows_accepted: rows_total - rows_rejected,
        rows_rejected,
        rows_matched: matched_rows,
        rejected: rejects,
        leads,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("no such lead")]
    NotFound,
    #[error("already decided")]
    AlreadyDecided,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Confirms or dismisses an open lead with the field note that justifies it.
pub async fn decide(db: &Db, caller: &Caller, lead_id: &str, confirm: bool, note: &str) -> Result<(), DecideError> {
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(sql(
            backend,
            "SELECT household_id, status FROM comparison_lead WHERE id = ?",
            vec![lead_id.into()],
        ))
        .await?
        .ok_or(DecideError::NotFound)?;
    let household_id: String = row.try_get_by_index(0)?;
    let status: String = row.try_get_by_index(1)?;
    if status != "open" {
        return Err(DecideError::AlreadyDecided);
    }
    let decision = if confirm { "confirmed" } else { "dismissed" };
    txn.execute_raw(sql(
        backend,
        "UPDATE comparison_lead SET status = ?, note = ?, decided_by = ?, decided_at = ? WHERE id = ?",
        vec![decision.into(), note.into(), caller.user_id.as_str().into(), Utc::now().into(), lead_id.into()],
    ))
    .await?;
    audit::record(
        &*txn,
        &[AuditEntry {
            user_id: Some(caller.user_id.clone()),
            device_id: Some(caller.device_id.clone()),
            action: "comparison_decision".into(),
            entity: "household".into(),
            entity_id: household_id,
            new_value: Some(format!("lead {lead_id} {decision}")),
            note: Some(note.to_owned()),
            ..AuditEntry::default()
        }],
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Leads of one household, or of every household in the caller's scope, newest first.
pub async fn leads(
    conn: &impl ConnectionTrait,
    condition: (String, Vec<Value>),
    status: Option<&str>,
) -> Result<Vec<Json>, DbErr> {
    let (cond, mut values) = condition;
    let mut text = format!(
        "SELECT l.id, l.household_id, l.member_id, l.source, l.reason, l.details, l.after_registration, l.status, l.note, l.decided_by, l.created_at \
         FROM comparison_lead l JOIN household h ON h.id = l.household_id WHERE {cond}"
    );
    if let Some(status) = status {
        text.push_str(" AND l.status = ?");
        values.push(status.into());
    }
    text.push_str(" ORDER BY l.created_at DESC, l.id LIMIT 5000");
    let rows = conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await?;
    rows.iter()
        .map(|r| {
            let details: String = r.try_get_by_index(5)?;
            let created: DateTime<Utc> = r.try_get_by_index(10)?;
            Ok(json!({
                "id": r.try_get_by_index::<String>(0)?,
                "household_id": r.try_get_by_index::<String>(1)?,
                "member_id": r.try_get_by_index::<String>(2)?,
                "source": r.try_get_by_index::<String>(3)?,
                "reason": r.try_get_by_index::<String>(4)?,
                "details": serde_json::from_str::<Json>(&details).unwrap_or(Json::Null),
                "after_registration": r.try_get_by_index::<bool>(6)?,
                "status": r.try_get_by_index::<String>(7)?,
                "note": r.try_get_by_index::<Option<String>>(8)?,
                "decided_by": r.try_get_by_index::<Option<String>>(9)?,
                "created_at": created.to_rfc3339(),
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lead_keeps_phone_and_id_numbers_masked() {
        assert_eq!(masked("身份证号码", "11010519491231002X", true), "110105********002X");
        assert_eq!(masked("车主证件", "11010519491231002X", false), "110105********002X", "an ID in any column");
        assert_eq!(masked("联系电话", "0518-85551234", false), "051******1234");
        assert_eq!(masked("备注", "13812345678", false), "138****5678", "a mobile number in any column");
        assert_eq!(masked("Mobile", "138 1234 5678", false), "138******5678");
        assert_eq!(masked("姓名", "张三", false), "张三");
        assert_eq!(masked("价格", "85000", false), "85000");
    }
}
