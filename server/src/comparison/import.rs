//! Importing a department list and deciding the leads it raises, each for the callers
//! it is theirs to do: the county (or an administrator) imports for its own region,
//! whoever edits a household decides its leads, and each caller lists the leads of the
//! households they read.
//!
//! What this must never do: change a household or member (a lead is only a question for
//! a person on the spot), or keep a whole ID or phone number of a department's row.

use super::parse::{self, FileError, Sheet};
use super::{Source, VEHICLE_MIN_YUAN};
use crate::audit::{self, AuditEntry};
use crate::auth::roles::region_prefix;
use crate::auth::{Caller, Role};
use crate::db::page::Page;
use crate::db::{Db, WriteTxn, placeholders, sql};
use crate::error::{Kind, Refusal};
use crate::gate::Gate;
use crate::records::{self, scope};
use crate::registry::Actor;
use crate::tabular::{self, Caps, OffRuntimeError};
use chrono::{DateTime, NaiveDate, Utc};
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use jingzhun_mobile_api::fields::HOUSEHOLD;
use jingzhun_mobile_api::validate::{id_number_is_valid, mask_id_number, mask_phone};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::Serialize;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

pub struct ImportRequest {
    pub source: Source,
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// The county (or lower region) whose households the list is compared with; by
    /// default the region of the caller's county or administrator role.
    pub region_code: Option<String>,
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

/// A file that cannot be read: past an upload cap (with the cap's own code), or not a
/// list we read (`invalid_file`), said on the `file` field.
fn file_refusal(err: FileError) -> Refusal {
    let (kind, code, why) = match err {
        FileError::Cap(cap) => (Kind::Rejected, cap.code(), cap.to_string()),
        err => (Kind::Invalid, ErrorCode::InvalidFile, err.to_string()),
    };
    let mut detail = FieldError::new("file", code);
    detail.message_en = why;
    Refusal::new(kind, code).with_fields(vec![detail])
}

/// The region the caller compares: the one asked for, within one of their county or
/// administrator roles, as (code, prefix). Without one the role's own region.
fn compared_region(caller: &Caller, region_code: Option<String>) -> Result<(String, String), Refusal> {
    let grant = caller
        .grants
        .iter()
        .filter(|g| matches!(g.role, Role::County | Role::Admin))
        .find(|g| region_code.as_deref().is_none_or(|code| code.starts_with(&g.prefix)))
        .ok_or_else(Refusal::forbidden)?;
    let region_code = region_code.unwrap_or_else(|| grant.region_code.clone());
    // By level, not by trailing zeros (village 010 is not the prefix of 011), and never
    // wider than the grant.
    let region_prefix = region_prefix(&region_code).to_owned();
    let region_prefix = if region_prefix.len() < grant.prefix.len() { grant.prefix.clone() } else { region_prefix };
    Ok((region_code, region_prefix))
}

/// Whether the caller may import a department list at all: the check [`run`] refuses
/// with first, asked by the console before it offers the upload.
pub fn may_import(caller: &Caller) -> bool {
    compared_region(caller, None).is_ok()
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
    registered_on: NaiveDate,
}

#[derive(FromQueryResult)]
struct MatchRow {
    id_number: String,
    member_id: String,
    household_id: String,
    created_at: DateTime<Utc>,
    identified_at: Option<DateTime<Utc>>,
    registered_on: Option<String>,
}

/// Active members of households in the region with these ID numbers.
async fn members_by_id_number(
    conn: &impl ConnectionTrait,
    prefix: &str,
    ids: &[String],
) -> Result<HashMap<String, Vec<Match>>, DbErr> {
    let mut out: HashMap<String, Vec<Match>> = HashMap::new();
    for chunk in ids.chunks(500) {
        // Registered on the stored 建档立卡 date (the register import sets it), else when
        // the identification completed; households recorded before the system without a
        // date count from their creation.
        let text = format!(
            "SELECT m.id_number, m.id AS member_id, h.id AS household_id, h.created_at, h.registered_on, \
             (SELECT MAX(c.closed_at) FROM procedure_case c WHERE c.household_id = h.id AND c.kind = 'identify' AND c.status = 'completed') AS identified_at \
             FROM member m JOIN household h ON h.id = m.household_id \
             WHERE m.active AND h.region_code LIKE ? AND m.id_number IN ({})",
            placeholders(chunk.len())
        );
        let mut values: Vec<Value> = vec![format!("{prefix}%").into()];
        values.extend(chunk.iter().map(|i| Value::from(i.as_str())));
        for row in MatchRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await? {
            out.entry(row.id_number).or_default().push(Match {
                member_id: row.member_id,
                household_id: row.household_id,
                registered_on: row
                    .registered_on
                    .as_deref()
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .unwrap_or_else(|| row.identified_at.unwrap_or(row.created_at).date_naive()),
            });
        }
    }
    Ok(out)
}

/// Imports a list for a county or administrator caller: the file is parsed and screened
/// on a blocking thread inside a slot of `parsing`, within `caps`; then the matches are
/// written in one transaction.
pub async fn run(
    db: &Db,
    caller: &Caller,
    request: ImportRequest,
    parsing: &Gate,
    caps: Caps,
) -> Result<ImportReport, Refusal> {
    let (region_code, region_prefix) = compared_region(caller, request.region_code)?;
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
        Err(OffRuntimeError::Read(err)) => return Err(file_refusal(err)),
        Err(OffRuntimeError::Busy) => return Err(Refusal::new(Kind::Busy, ErrorCode::Busy)),
        // The parse panicked: a bug; the process carries on.
        Err(OffRuntimeError::Failed(why)) => return Err(Refusal::internal(why)),
    };
    let mut ids: Vec<String> = candidates.iter().map(|c| c.id_number.clone()).collect();
    ids.sort();
    ids.dedup();

    let txn = db.begin_write().await?;
    let matches = members_by_id_number(&*txn, &region_prefix, &ids).await?;
    let actor = Actor::of(caller);
    let import_id = Uuid::new_v4().to_string();
    let now = Utc::now();
    let mut leads = Vec::new();
    let mut audit_entries = Vec::new();
    let mut matched_rows = 0;
    for candidate in &candidates {
        let Some(found) = matches.get(&candidate.id_number) else { continue };
        matched_rows += 1;
        for m in found {
            let after_registration =
                request.source.has_exit_measure_exception() && candidate.date.is_some_and(|d| d > m.registered_on);
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
                new_value: Some(format!("{} lead {lead_id} from import {import_id}", request.source.reason())),
                ..actor.audit("comparison_lead", "household", &m.household_id)
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
            region_code.as_str().into(),
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
        new_value: Some(format!(
            "{}: {rows_total} rows, {rows_rejected} rejected, {matched_rows} matched, {below_threshold} below the vehicle threshold",
            request.source.code()
        )),
        ..actor.audit("comparison_import", "comparison_import", &import_id)
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

#[derive(FromQueryResult)]
struct LeadToDecide {
    household_id: String,
    member_id: String,
    source: String,
    details: String,
    status: String,
}

/// A lead as decided: what a confirmed one about a possession needs to record it.
pub struct DecidedLead {
    pub household_id: String,
    pub member_id: String,
    pub source: Source,
    /// The department's row (ID numbers masked), keyed by its headers.
    pub details: Json,
}

/// Confirms or dismisses an open lead with the field note that justifies it, in the
/// caller's transaction, for a caller who may edit its household online (a former
/// officer is told `assignment_ended`: a lead decision is an online action, H2). A lead
/// already decided is a conflict. Recording what a confirmed lead found is the
/// caller's (`household_facts::decide_lead`): this only decides.
pub async fn decide_in(
    txn: &WriteTxn,
    caller: &Caller,
    lead_id: &str,
    confirm: bool,
    note: &str,
) -> Result<DecidedLead, Refusal> {
    let note = note.trim();
    if note.is_empty() {
        return Err(Refusal::invalid(ErrorCode::NoteRequired));
    }
    let backend = txn.get_database_backend();
    let lead = LeadToDecide::find_by_statement(sql(
        backend,
        "SELECT l.household_id, l.member_id, l.source, l.details, l.status FROM comparison_lead l JOIN household h ON h.id = l.household_id WHERE l.id = ?",
        vec![lead_id.into()],
    ))
    .one(&**txn)
    .await?
    .ok_or_else(Refusal::not_found)?;
    let household =
        records::load(&**txn, &HOUSEHOLD, &lead.household_id, false).await?.ok_or_else(Refusal::not_found)?;
    let region = household.text("region_code").unwrap_or_default();
    scope::may_edit_online(&**txn, caller, &lead.household_id, region).await?;
    if lead.status != "open" {
        return Err(Refusal::conflict(ErrorCode::Conflict));
    }
    let decision = if confirm { "confirmed" } else { "dismissed" };
    txn.execute_raw(sql(
        backend,
        "UPDATE comparison_lead SET status = ?, note = ?, decided_by = ?, decided_at = ? WHERE id = ?",
        vec![decision.into(), note.into(), caller.user_id.as_str().into(), Utc::now().into(), lead_id.into()],
    ))
    .await?;
    audit::record(
        &**txn,
        &[AuditEntry {
            new_value: Some(format!("lead {lead_id} {decision}")),
            note: Some(note.to_owned()),
            ..Actor::of(caller).audit("comparison_decision", "household", &lead.household_id)
        }],
    )
    .await?;
    let source = Source::parse(&lead.source)
        .ok_or_else(|| Refusal::internal(format!("lead {lead_id} has an unknown source {}", lead.source)))?;
    Ok(DecidedLead {
        household_id: lead.household_id,
        member_id: lead.member_id,
        source,
        details: serde_json::from_str(&lead.details).unwrap_or(Json::Null),
    })
}

#[derive(FromQueryResult)]
struct LeadRow {
    id: String,
    household_id: String,
    member_id: String,
    source: String,
    reason: String,
    /// The department's row as JSON text.
    details: String,
    after_registration: bool,
    status: String,
    note: Option<String>,
    decided_by: Option<String>,
    created_at: DateTime<Utc>,
}

/// The leads of the households the caller reads, or of one of them, newest first.
pub async fn leads_for(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    household_id: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<Json>, DbErr> {
    let (mut cond, mut values) = scope::households_condition(caller, "h.id", "h.region_code");
    if let Some(household_id) = household_id {
        cond.push_str(" AND l.household_id = ?");
        values.push(household_id.into());
    }
    leads(conn, (cond, values), status).await
}

/// Leads of the households `condition` selects (over the household aliased `h` and the
/// lead `l`), newest first.
async fn leads(
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
    let rows = LeadRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id,
                "household_id": r.household_id,
                "member_id": r.member_id,
                "source": r.source,
                "reason": r.reason,
                "details": serde_json::from_str::<Json>(&r.details).unwrap_or(Json::Null),
                "after_registration": r.after_registration,
                "status": r.status,
                "note": r.note,
                "decided_by": r.decided_by,
                "created_at": r.created_at.to_rfc3339(),
            })
        })
        .collect())
}

/// What the console's 疑点 table asks for: status, department, region, a page.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct LeadFilter {
    /// open, confirmed, dismissed
    pub status: Option<String>,
    /// The department list: vehicles, urban_property, business, public_servants, village_cadres, deaths.
    pub source: Option<String>,
    /// Households of this region and below.
    pub region_code: Option<String>,
    /// From 1.
    pub page: Option<u64>,
    /// 20 unless asked, at most 200.
    pub per_page: Option<u64>,
}

/// One lead in the console's table: whom the list named (by name, ID number masked),
/// the household's head and place, and the department's row as kept (already masked).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromQueryResult)]
pub struct LeadSummary {
    pub id: String,
    pub household_id: String,
    pub member_id: String,
    pub source: String,
    pub reason: String,
    pub after_registration: bool,
    pub status: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub region_code: String,
    pub region_name: Option<String>,
    pub household_number: Option<String>,
    pub head_name: Option<String>,
    pub member_name: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    pub member_id_number: Option<String>,
    pub member_id_number_masked: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    pub details: String,
    /// The department's row by its headers, ID and phone numbers masked.
    #[sea_orm(skip)]
    #[schema(value_type = Object)]
    pub row: Json,
}

/// Leads of the households the caller reads, newest first, filtered and a page at a
/// time with the total; nobody sees a whole ID number here (L9).
pub async fn lead_summaries(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: LeadFilter,
) -> Result<Page<LeadSummary>, DbErr> {
    let (cond, mut values) = scope::households_condition(caller, "h.id", "h.region_code");
    let mut wheres = vec![cond];
    for (column, wanted) in [("l.status", filter.status), ("l.source", filter.source)] {
        if let Some(wanted) = wanted.filter(|w| !w.is_empty()) {
            wheres.push(format!("{column} = ?"));
            values.push(wanted.into());
        }
    }
    if let Some(region) = filter.region_code.filter(|r| !r.is_empty()) {
        wheres.push("h.region_code LIKE ?".into());
        values.push(format!("{}%", region_prefix(&region)).into());
    }
    let where_text = wheres.join(" AND ");
    let from = "comparison_lead l JOIN household h ON h.id = l.household_id";
    let total =
        crate::db::count(conn, &format!("SELECT COUNT(*) FROM {from} WHERE {where_text}"), values.clone()).await?;
    let paging = crate::db::Paging::new(filter.page, filter.per_page, 20);
    let text = format!(
        "SELECT l.id, l.household_id, l.member_id, l.source, l.reason, l.after_registration, l.status, l.note, \
         l.created_at, l.decided_at, h.region_code, r.name AS region_name, h.household_number, {} AS head_name, \
         m.name AS member_name, m.id_number AS member_id_number, NULL AS member_id_number_masked, l.details \
         FROM {from} LEFT JOIN member m ON m.id = l.member_id LEFT JOIN region r ON r.code = h.region_code \
         WHERE {where_text} ORDER BY l.created_at DESC, l.id LIMIT ? OFFSET ?",
        crate::registry::households::head_column("name"),
    );
    values.extend(paging.limit_offset());
    let items = LeadSummary::find_by_statement(sql(conn.get_database_backend(), &text, values))
        .all(conn)
        .await?
        .into_iter()
        .map(|mut lead| {
            lead.member_id_number_masked =
                lead.member_id_number.take().filter(|n| !n.is_empty()).map(|n| mask_id_number(&n));
            lead.row = serde_json::from_str(&std::mem::take(&mut lead.details)).unwrap_or(Json::Null);
            lead
        })
        .collect();
    Ok(Page { total, page: paging.page, per_page: paging.per_page, items })
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
