//! Objections (异议 / 举报) to a published notice: filed by villagers from the public
//! page, named or anonymous, about the whole notice or one household; investigated and
//! answered as 002 §三(七) says: "若有举报，由动态管理工作核查组组织调查核实" for a village
//! notice (the `verifier` role over the village's township, never the village team whose
//! list it is), "若有举报，由街道组织核实" for a township notice, and the county for its
//! announcement ([`Step::objections_answered_by`]); the findings reach the objector by
//! the receipt code. The village team sees them on their phones through pull (side
//! entity `objection`): an open one holds their notice.
//!
//! A village notice is published only while a 核查组 covers its township
//! (`notice::publish`), but the county may revoke the grant while the notice runs. An
//! objection must then still reach someone who may investigate: it is filed with the
//! county office (`assigned_level` county; the county is told), and the county may
//! answer any objection of a village notice no active 核查组 covers any more, as the
//! office that sets up and stands above the group (002 §三(一)). A group granted again
//! answers them as well. Never the village team.
//!
//! Who may answer is decided here. What this module must never do: let the level whose
//! list is objected to answer for the investigators, show an objector's whole phone
//! number or sender address to anyone, or put the objection on a household's own change
//! log (its officers must not see who objected).

use super::notice::{self, NoticeRow};
use crate::audit::{Actor, AuditEntry};
use crate::auth::{Caller, Grant, Role};
use crate::db::{Db, WriteTxn, sql};
use crate::error::{Kind, Refusal};
use crate::notifications::{self, Event, Notification, Recipients};
use crate::procedures::signing;
use crate::procedures::steps::Step;
use crate::records::changelog::{self, LogEntry, LogOp};
use crate::records::server_edit::Written;
use crate::records::side::{self, SideRecord};
use chrono::{DateTime, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::validate::mask_phone;
use rand::Rng;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// Longest objection text, in characters: a page of handwriting.
pub const MAX_BODY_CHARS: usize = 1000;
const MAX_NAME_CHARS: usize = 50;

/// Open objections one sender (one keyed address hash) may have on one notice. A
/// villager with a real complaint files one or two; a script filing hundreds would
/// block the close and bury the real ones (review M5).
pub const OPEN_PER_SOURCE: i64 = 3;

/// Most objections one bulk dismissal answers.
pub const MAX_BULK: usize = 5000;

/// What the public form sends, already decoded.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ObjectionForm {
    /// 序号 of the household objected to; empty: the whole notice.
    pub entry: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub body: String,
}

/// The answer of an investigation.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    /// `upheld` or `dismissed`.
    pub outcome: String,
    /// What the investigation found (调查核实情况), shown to the objector.
    pub findings: String,
    /// For an upheld objection to the whole notice: the cases to send back to verification.
    #[serde(default)]
    pub case_ids: Vec<String>,
}

/// An objection as the investigating level sees it (admin API).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObjectionView {
    pub id: String,
    pub notice_id: String,
    pub case_id: Option<String>,
    pub household_id: Option<String>,
    pub entry_no: Option<u32>,
    pub receipt: String,
    /// Empty when anonymous.
    pub objector_name: Option<String>,
    /// Masked: the investigators call through the village office, not from a list.
    pub objector_phone: Option<String>,
    pub body: String,
    /// open, upheld or dismissed.
    pub status: String,
    /// Who sent it, as a short opaque label (a keyed hash of the sender's network): the
    /// same label on many objections is one sender. Dismiss a flood by it.
    pub source: String,
    pub assigned_level: String,
    pub assigned_region: String,
    pub due_at: DateTime<Utc>,
    pub findings: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The title of the notice objected to.
    pub notice_title: String,
    /// Whether the caller may answer it now, by [`answer`]'s rule (only in the list).
    pub may_answer: bool,
}

/// What anyone holding the receipt may see.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptView {
    pub receipt: String,
    pub notice_title: String,
    pub notice_token: Option<String>,
    pub entry_no: Option<u32>,
    pub body: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub findings: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// The notice's columns are named for the notice: both tables have a `status`.
const COLUMNS: &str = "o.id, o.notice_id, o.case_id, o.household_id, o.receipt, o.objector_name, o.objector_phone, \
     o.body, o.status, o.assigned_level, o.assigned_region, o.due_at, o.findings, o.answered_at, o.created_at, \
     o.version, o.region_code, nc.position AS entry_no, n.title AS notice_title, n.step AS notice_step, \
     n.token AS notice_token, o.source_hash";
const FROM: &str = "objection o JOIN notice n ON n.id = o.notice_id \
     LEFT JOIN notice_case nc ON nc.notice_id = o.notice_id AND nc.case_id = o.case_id";

struct Row {
    view: ObjectionView,
    version: i64,
    region_code: String,
    notice_title: String,
    notice_step: String,
    notice_token: Option<String>,
}

/// [`COLUMNS`] as read: the phone unmasked, the sender as its whole hash.
#[derive(FromQueryResult)]
struct Stored {
    id: String,
    notice_id: String,
    case_id: Option<String>,
    household_id: Option<String>,
    receipt: String,
    objector_name: Option<String>,
    objector_phone: Option<String>,
    body: String,
    status: String,
    assigned_level: String,
    assigned_region: String,
    due_at: DateTime<Utc>,
    findings: Option<String>,
    answered_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    version: i64,
    region_code: String,
    /// The household's position on the notice; None for the whole notice.
    entry_no: Option<i32>,
    notice_title: String,
    notice_step: String,
    notice_token: Option<String>,
    source_hash: String,
}

impl From<Stored> for Row {
    fn from(r: Stored) -> Row {
        Row {
            view: ObjectionView {
                id: r.id,
                notice_id: r.notice_id,
                case_id: r.case_id,
                household_id: r.household_id,
                receipt: r.receipt,
                objector_name: r.objector_name,
                objector_phone: r.objector_phone.as_deref().map(mask_phone),
                body: r.body,
                status: r.status,
                source: source_label(&r.source_hash),
                assigned_level: r.assigned_level,
                assigned_region: r.assigned_region,
                due_at: r.due_at,
                findings: r.findings,
                answered_at: r.answered_at,
                created_at: r.created_at,
                entry_no: r.entry_no.map(|p| p.max(0) as u32),
                notice_title: r.notice_title.clone(),
                may_answer: false,
            },
            version: r.version,
            region_code: r.region_code,
            notice_title: r.notice_title,
            notice_step: r.notice_step,
            notice_token: r.notice_token,
        }
    }
}

async fn load_where(
    conn: &impl ConnectionTrait,
    condition: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<Row>, DbErr> {
    let rows = Stored::find_by_statement(sql(
        conn.get_database_backend(),
        &format!("SELECT {COLUMNS} FROM {FROM} WHERE {condition} ORDER BY o.created_at, o.id"),
        values,
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(Row::from).collect())
}

/// The label a sender's keyed hash is shown by: enough to group, nothing to reverse.
/// 16 hex characters (64 bits): a bulk dismissal by label must not catch another
/// sender's objections by a collision.
fn source_label(source_hash: &str) -> String {
    source_hash.chars().take(16).collect()
}

/// A receipt code villagers can copy from a phone screen: 12 characters of Crockford's
/// base32 (no I, L, O, U), about 60 random bits, in groups of four.
fn new_receipt() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rngs::OsRng;
    let chars: Vec<char> = (0..12).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// Normalises a typed receipt: case, spaces and the letters people confuse with digits.
pub fn normalize_receipt(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    cleaned.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
}

/// Files an objection on a published notice still in its period. Returns the receipt.
pub async fn file(
    db: &Db,
    now: DateTime<Utc>,
    answer_days: i64,
    token: &str,
    form: ObjectionForm,
    source_hash: &str,
) -> Result<String, Refusal> {
    let body = form.body.trim().to_owned();
    if body.is_empty() {
        return Err(Refusal::invalid(ErrorCode::ObjectionEmpty));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(Refusal::invalid(ErrorCode::ObjectionTooLong));
    }
    let name = form.name.map(|n| n.trim().chars().take(MAX_NAME_CHARS).collect::<String>()).filter(|n| !n.is_empty());
    let phone = match form.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) if jingzhun_mobile_api::validate::phone_is_valid(p) => Some(p.to_owned()),
        Some(_) => return Err(Refusal::invalid(ErrorCode::InvalidPhone)),
    };
    let entry_no = match form.entry.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        None => None,
        Some(e) => Some(e.parse::<i32>().map_err(|_| Refusal::invalid(ErrorCode::InvalidRequest))?),
    };

    let txn = db.begin_write().await?;
    let notice = notice::load_by(&*txn, "token", token).await?.ok_or_else(Refusal::not_found)?;
    // The notice's row lock, taken before anything is written: a close running at the
    // same moment either sees this objection or has already closed the notice.
    if notice.ends_at.is_none_or(|end| now >= end) || !notice::lock_published(&txn, &notice.id, now).await? {
        return Err(Refusal::conflict(ErrorCode::NoticeNotPublished));
    }
    // One sender cannot keep more than a few objections open on a notice: each one
    // blocks the close and must be answered.
    let open_from_source = crate::db::count(
        &*txn,
        "SELECT COUNT(*) FROM objection WHERE notice_id = ? AND source_hash = ? AND status = 'open'",
        vec![notice.id.as_str().into(), source_hash.into()],
    )
    .await?;
    if open_from_source >= OPEN_PER_SOURCE {
        return Err(Refusal::new(Kind::TooMany, ErrorCode::RateLimited));
    }
    let (case_id, household_id, village) = match entry_no {
        None => (None, None, notice.region_code.clone()),
        Some(no) => {
            #[derive(FromQueryResult)]
            struct Entry {
                case_id: String,
                household_id: String,
                region_code: String,
            }
            let Entry { case_id: c, household_id: h, region_code: village } = Entry::find_by_statement(sql(
                txn.get_database_backend(),
                "SELECT nc.case_id, nc.household_id, h.region_code FROM notice_case nc \
                 JOIN household h ON h.id = nc.household_id \
                 WHERE nc.notice_id = ? AND nc.position = ? AND nc.status = 'listed'",
                vec![notice.id.as_str().into(), no.into()],
            ))
            .one(&*txn)
            .await?
            .ok_or_else(|| Refusal::invalid(ErrorCode::InvalidRequest))?;
            // Filed where the investigating level reads it: a township or county notice's
            // objection stays off the household's village team, who may be objected to.
            let region = if notice.step == Step::VillageNotice { village } else { notice.region_code.clone() };
            (Some(c), Some(h), region)
        }
    };
    let id = Uuid::new_v4().to_string();
    let receipt = new_receipt();
    let due_at = now + chrono::Duration::days(answer_days);
    let investigators = investigators(&*txn, &notice).await?;
    let level = investigators.as_str();
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "INSERT INTO objection (id, notice_id, case_id, household_id, receipt, objector_name, objector_phone, body, \
         status, assigned_level, assigned_region, region_code, due_at, source_hash, version, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, 1, ?, ?)",
        vec![
            id.as_str().into(),
            notice.id.as_str().into(),
            case_id.into(),
            household_id.into(),
            receipt.as_str().into(),
            name.into(),
            phone.into(),
            body.into(),
            level.into(),
            notice.region_code.as_str().into(),
            village.as_str().into(),
            due_at.into(),
            source_hash.into(),
            now.into(),
            now.into(),
        ],
    ))
    .await?;
    log(&txn, &id, &village, 1).await?;
    crate::audit::record(
        &*txn,
        &[AuditEntry {
            action: "objection_file".into(),
            entity: "objection".into(),
            entity_id: id.clone(),
            note: Some(format!("on notice {} entry {:?}", notice.id, entry_no)),
            ..AuditEntry::default()
        }],
    )
    .await?;
    let region_name = notice.content().map(|c| c.region_name).unwrap_or_default();
    let mut params = notice::notice_params(&region_name, &notice.region_code, &notice.title, due_at);
    params.insert("entry".into(), json!(entry_no.map_or_else(|| "全部".to_owned(), |n| format!("第{n}户"))));
    params.insert("receipt".into(), json!(receipt));
    notifications::notify(
        &*txn,
        now,
        Notification {
            event: Event::ObjectionReceived,
            // One message per notice and hour, however many objections come in it: a
            // flood must not flood the village team's phones (and their SMS limits).
            dedup_key: received_dedup_key(&notice.id, now),
            // The investigators are told, not the team whose list is objected to.
            recipients: Recipients::Role { role: investigators, region_code: notice.region_code.clone() },
            params,
            urgent: false,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(receipt)
}

/// The dedup key of `objection_received`: the notice and the hour (UTC).
fn received_dedup_key(notice_id: &str, now: DateTime<Utc>) -> String {
    format!("notice:{notice_id}:objections:{}", now.format("%Y%m%d%H"))
}

/// A change-log row so the village team's phones pull the objection.
async fn log(txn: &WriteTxn, id: &str, village: &str, version: i64) -> Result<(), DbErr> {
    let tx = changelog::current_tx(&**txn).await?;
    changelog::append(
        &**txn,
        tx,
        &[LogEntry {
            entity: side::OBJECTION,
            entity_id: id.to_owned(),
            // Not the household's: officers assigned to it must not see who objected.
            household_id: None,
            region_code: Some(village.to_owned()),
            target_user: None,
            op: LogOp::Upsert,
            version,
        }],
    )
    .await
}

/// The objector's view, by receipt.
pub async fn by_receipt(conn: &impl ConnectionTrait, receipt: &str) -> Result<Option<ReceiptView>, DbErr> {
    let rows = load_where(conn, "o.receipt = ?", vec![normalize_receipt(receipt).into()]).await?;
    Ok(rows.into_iter().next().map(|r| ReceiptView {
        receipt: r.view.receipt,
        notice_title: r.notice_title,
        notice_token: r.notice_token,
        entry_no: r.view.entry_no,
        body: r.view.body,
        status: r.view.status,
        created_at: r.view.created_at,
        due_at: r.view.due_at,
        findings: r.view.findings,
        answered_at: r.view.answered_at,
    }))
}

/// The objections of the villages the caller reads, as a SQL condition; None: none.
fn region_scope(caller: &Caller) -> Option<(String, Vec<sea_orm::Value>)> {
    let prefixes = caller.read_prefixes();
    if prefixes.is_empty() {
        return None;
    }
    let parts: Vec<&str> = prefixes.iter().map(|_| "o.region_code LIKE ?").collect();
    let values = prefixes.iter().map(|p| format!("{p}%").into()).collect();
    Some((format!("({})", parts.join(" OR ")), values))
}

/// Objections the caller may see: of notices in regions they read.
pub async fn list(
    db: &Db,
    caller: &Caller,
    notice_id: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<ObjectionView>, Refusal> {
    let Some((mut condition, mut values)) = region_scope(caller) else { return Ok(Vec::new()) };
    if let Some(notice_id) = notice_id {
        condition.push_str(" AND o.notice_id = ?");
        values.push(notice_id.to_owned().into());
    }
    if let Some(status) = status {
        condition.push_str(" AND o.status = ?");
        values.push(status.to_owned().into());
    }
    let rows = load_where(&db.conn, &condition, values).await?;
    let answerable: std::collections::HashSet<String> =
        answerable_by(db, caller, rows.iter().filter(|r| r.view.status == "open")).await?;
    Ok(rows.into_iter().map(|r| ObjectionView { may_answer: answerable.contains(&r.view.id), ..r.view }).collect())
}

/// The ids of those `rows` the caller may answer, by [`answer`]'s rule.
async fn answerable_by<'a>(
    db: &Db,
    caller: &Caller,
    rows: impl Iterator<Item = &'a Row>,
) -> Result<std::collections::HashSet<String>, DbErr> {
    // One notice's roles serve all its objections filed with the same level.
    let mut roles_of: std::collections::HashMap<(String, String), (String, Vec<Role>)> =
        std::collections::HashMap::new();
    let mut ids = std::collections::HashSet::new();
    for row in rows {
        let key = (row.view.notice_id.clone(), row.view.assigned_level.clone());
        if !roles_of.contains_key(&key) {
            let Some(notice) = notice::load_by(&db.conn, "id", &row.view.notice_id).await? else { continue };
            let roles = answering_roles(&db.conn, &notice, &row.view.assigned_level).await?;
            roles_of.insert(key.clone(), (notice.region_code.clone(), roles));
        }
        let (region, roles) = &roles_of[&key];
        if answering_grant(caller, region, roles).is_some() {
            ids.insert(row.view.id.clone());
        }
    }
    Ok(ids)
}

/// Who investigates objections to this notice now (002 §三(七)): the step's level, or
/// the county office for a village notice no active 核查组 covers (its grant was revoked
/// after publishing), so that an objection never waits for no one.
async fn investigators(conn: &impl ConnectionTrait, notice: &NoticeRow) -> Result<Role, DbErr> {
    let role = notice.step.objections_answered_by();
    if role == Role::Verifier && !notice::verifier_covers(conn, &notice.region_code).await? {
        return Ok(Role::County);
    }
    Ok(role)
}

/// The roles that may answer an objection assigned to `assigned_level` on this notice:
/// whoever investigates now, and the level it was filed with.
async fn answering_roles(
    conn: &impl ConnectionTrait,
    notice: &NoticeRow,
    assigned_level: &str,
) -> Result<Vec<Role>, DbErr> {
    let mut roles = vec![investigators(conn, notice).await?];
    if let Some(assigned) = Role::parse(assigned_level).filter(|r| !roles.contains(r)) {
        roles.push(assigned);
    }
    Ok(roles)
}

/// The caller's grant as one of `roles` over the notice's region, if any.
fn answering_grant(caller: &Caller, notice_region: &str, roles: &[Role]) -> Option<Grant> {
    caller.grants.iter().find(|g| roles.contains(&g.role) && notice_region.starts_with(&g.prefix)).cloned()
}

/// The open objections the caller may answer now, by the rule of [`answer`] (the 待办
/// inbox counts these): an objection filed with the 核查组 is the county's too once no
/// active group covers the village.
pub async fn open_to_answer(db: &Db, caller: &Caller) -> Result<Vec<ObjectionView>, Refusal> {
    let Some((mut condition, values)) = region_scope(caller) else { return Ok(Vec::new()) };
    condition.push_str(" AND o.status = 'open'");
    let rows = load_where(&db.conn, &condition, values).await?;
    let answerable = answerable_by(db, caller, rows.iter()).await?;
    Ok(rows
        .into_iter()
        .filter(|r| answerable.contains(&r.view.id))
        .map(|r| ObjectionView { may_answer: true, ..r.view })
        .collect())
}

/// The caller's grant to investigate objections to this notice as one of `roles`. A
/// caller who reads the notice's region but may not answer (the village team whose list
/// it is, a township for a village notice) is told `forbidden`; anyone else
/// `out_of_scope`.
fn investigator_grant(caller: &Caller, notice: &NoticeRow, roles: &[Role]) -> Result<Grant, Refusal> {
    match answering_grant(caller, &notice.region_code, roles) {
        Some(grant) => Ok(grant),
        None if caller.reads_region(&notice.region_code) => Err(Refusal::forbidden()),
        None => Err(Refusal::out_of_scope()),
    }
}

/// Answers an objection. Upheld: its case (or the named cases, for an objection to the
/// whole notice) goes back to home verification and off this notice; dismissed: the
/// notice goes on. Either way the objector reads the findings at the receipt page.
pub async fn answer(
    db: &Db,
    caller: &Caller,
    id: &str,
    answer: Answer,
    now: DateTime<Utc>,
) -> Result<ObjectionView, Refusal> {
    let upheld = match answer.outcome.as_str() {
        "upheld" => true,
        "dismissed" => false,
        _ => return Err(Refusal::invalid(ErrorCode::InvalidRequest)),
    };
    let findings = answer.findings.trim().to_owned();
    if findings.is_empty() {
        return Err(Refusal::invalid(ErrorCode::NoteRequired));
    }
    let txn = db.begin_write().await?;
    let row =
        load_where(&*txn, "o.id = ?", vec![id.into()]).await?.into_iter().next().ok_or_else(Refusal::not_found)?;
    let notice = notice::load_by(&*txn, "id", &row.view.notice_id).await?.ok_or_else(Refusal::not_found)?;
    let roles = answering_roles(&*txn, &notice, &row.view.assigned_level).await?;
    let grant = investigator_grant(caller, &notice, &roles)?;
    if row.view.status != "open" {
        return Err(Refusal::conflict(ErrorCode::ObjectionAnswered));
    }
    // Claim the objection first: of two people answering at once, one gets `objection_answered`.
    let status = if upheld { "upheld" } else { "dismissed" };
    let claimed = txn
        .execute_raw(sql(
            txn.get_database_backend(),
            "UPDATE objection SET status = ?, findings = ?, answered_by = ?, answered_at = ?, version = version + 1, \
             updated_at = ? WHERE id = ? AND status = 'open'",
            vec![
                status.into(),
                findings.as_str().into(),
                caller.user_id.as_str().into(),
                now.into(),
                now.into(),
                id.into(),
            ],
        ))
        .await?;
    if claimed.rows_affected() != 1 {
        return Err(Refusal::conflict(ErrorCode::ObjectionAnswered));
    }
    let mut written = Written::default();
    if upheld {
        let cases = match &row.view.case_id {
            Some(case_id) => vec![case_id.clone()],
            None if answer.case_ids.is_empty() => {
                return Err(Refusal::new(Kind::Rejected, ErrorCode::CasesRequired));
            }
            None => answer.case_ids.clone(),
        };
        for case_id in cases {
            written.extend(return_case(&txn, caller, &grant, &notice, &case_id, &findings).await?);
        }
    }
    log(&txn, id, &row.region_code, row.version + 1).await?;
    signing::record_written(&txn, written).await?;
    let entry = AuditEntry {
        new_value: Some(status.into()),
        note: Some(findings),
        ..Actor::of(caller).audit("objection_answer", "objection", id)
    };
    crate::audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    // The last open objection answered after the period: the notice may close now.
    if let Err(err) = notice::close(db, &notice.id, now).await
        && err.kind == Kind::Internal
    {
        tracing::error!(notice = %notice.id, "closing the notice after an answer failed");
    }
    let rows = load_where(&db.conn, "o.id = ?", vec![id.into()]).await?;
    rows.into_iter().next().map(|r| r.view).ok_or_else(Refusal::not_found)
}

/// Which open objections of a notice a bulk dismissal answers: the listed ones, or all
/// of one sender's (by [`ObjectionView::source`]), or both.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct BulkDismissal {
    #[serde(default)]
    pub objection_ids: Vec<String>,
    /// A sender's label, as the objection list shows it.
    #[serde(default)]
    pub source: Option<String>,
    /// `duplicate` (the same complaint again) or `spam` (no complaint at all).
    pub reason: String,
    /// What the investigation found, shown to each objector at the receipt page.
    pub findings: String,
}

/// What a bulk dismissal did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BulkDismissed {
    pub dismissed: usize,
    pub objection_ids: Vec<String>,
    /// Open objections left on the notice.
    pub objections_open: i64,
}

/// Dismisses many open objections of one notice at once, as duplicates or spam, with
/// one finding; by those who answer the notice's objections ([`investigator_grant`]). Each is audited and
/// pulled by the village team as if answered one by one; the notice may then close.
pub async fn dismiss_many(
    db: &Db,
    caller: &Caller,
    notice_id: &str,
    bulk: BulkDismissal,
    now: DateTime<Utc>,
) -> Result<BulkDismissed, Refusal> {
    if !matches!(bulk.reason.as_str(), "duplicate" | "spam") {
        return Err(Refusal::invalid(ErrorCode::InvalidRequest));
    }
    let findings = bulk.findings.trim().to_owned();
    if findings.is_empty() {
        return Err(Refusal::invalid(ErrorCode::NoteRequired));
    }
    let source = bulk.source.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if bulk.objection_ids.is_empty() && source.is_none() {
        return Err(Refusal::invalid(ErrorCode::InvalidRequest));
    }
    if bulk.objection_ids.len() > MAX_BULK {
        return Err(Refusal::invalid(ErrorCode::InvalidRequest));
    }
    let txn = db.begin_write().await?;
    let notice = notice::load_by(&*txn, "id", notice_id).await?.ok_or_else(Refusal::not_found)?;
    let open = load_where(&*txn, "o.notice_id = ? AND o.status = 'open'", vec![notice_id.into()]).await?;
    // Whoever investigates now may dismiss every open objection; the level one was
    // filed with (the county, while no 核查组 covered the village) only its own.
    let now_role = investigators(&*txn, &notice).await?;
    let mut roles = vec![now_role];
    roles.extend(open.iter().filter_map(|r| Role::parse(&r.view.assigned_level)).filter(|r| *r != now_role));
    let grant = investigator_grant(caller, &notice, &roles)?;
    let chosen: Vec<&Row> = open
        .iter()
        .filter(|r| grant.role == now_role || r.view.assigned_level == grant.role.as_str())
        .filter(|r| bulk.objection_ids.contains(&r.view.id) || source.is_some_and(|label| r.view.source == label))
        .take(MAX_BULK)
        .collect();
    let mut dismissed = Vec::with_capacity(chosen.len());
    let mut log_entries = Vec::with_capacity(chosen.len());
    let mut audit_entries = Vec::with_capacity(chosen.len());
    let actor = Actor::of(caller);
    for row in chosen {
        let claimed = txn
            .execute_raw(sql(
                txn.get_database_backend(),
                "UPDATE objection SET status = 'dismissed', findings = ?, answered_by = ?, answered_at = ?, \
                 version = version + 1, updated_at = ? WHERE id = ? AND status = 'open'",
                vec![
                    findings.as_str().into(),
                    caller.user_id.as_str().into(),
                    now.into(),
                    now.into(),
                    row.view.id.as_str().into(),
                ],
            ))
            .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        log_entries.push(LogEntry {
            entity: side::OBJECTION,
            entity_id: row.view.id.clone(),
            household_id: None,
            region_code: Some(row.region_code.clone()),
            target_user: None,
            op: LogOp::Upsert,
            version: row.version + 1,
        });
        audit_entries.push(AuditEntry {
            new_value: Some("dismissed".into()),
            note: Some(format!("{}: {findings}", bulk.reason)),
            ..actor.audit("objection_dismiss_bulk", "objection", &row.view.id)
        });
        dismissed.push(row.view.id.clone());
    }
    if !dismissed.is_empty() {
        let tx = changelog::current_tx(&*txn).await?;
        changelog::append(&*txn, tx, &log_entries).await?;
        crate::audit::record(&*txn, &audit_entries).await?;
    }
    txn.commit().await?;
    // The flood answered after the period: the notice may close now.
    if let Err(err) = notice::close(db, notice_id, now).await
        && err.kind == Kind::Internal
    {
        tracing::error!(notice = %notice_id, "closing the notice after a bulk dismissal failed");
    }
    let objections_open = crate::db::count(
        &db.conn,
        "SELECT COUNT(*) FROM objection WHERE notice_id = ? AND status = 'open'",
        vec![notice_id.into()],
    )
    .await?;
    Ok(BulkDismissed { dismissed: dismissed.len(), objection_ids: dismissed, objections_open })
}

/// Takes one listed case off the notice and back to verification.
async fn return_case(
    txn: &WriteTxn,
    caller: &Caller,
    grant: &crate::auth::Grant,
    notice: &NoticeRow,
    case_id: &str,
    findings: &str,
) -> Result<Written, Refusal> {
    let taken = txn
        .execute_raw(sql(
            txn.get_database_backend(),
            "UPDATE notice_case SET status = 'returned' WHERE notice_id = ? AND case_id = ? AND status = 'listed'",
            vec![notice.id.as_str().into(), case_id.into()],
        ))
        .await?;
    if taken.rows_affected() != 1 {
        return Err(Refusal::invalid(ErrorCode::CasesRequired));
    }
    let comment = format!("异议成立，退回入户核实：{findings}");
    Ok(signing::return_for_verification(txn, caller, grant, case_id, comment).await?)
}

fn pull_json(r: &Row) -> serde_json::Value {
    let v = &r.view;
    json!({
        "notice_id": v.notice_id,
        "notice_title": r.notice_title,
        "notice_step": r.notice_step,
        "case_id": v.case_id,
        "household_id": v.household_id,
        "entry_no": v.entry_no,
        "objector_name": v.objector_name,
        "objector_phone": v.objector_phone,
        "body": v.body,
        "status": v.status,
        "assigned_level": v.assigned_level,
        "due_at": v.due_at,
        "findings": v.findings,
        "answered_at": v.answered_at,
        "created_at": v.created_at,
    })
}

/// Objections as phones pull them.
pub async fn pull_records(conn: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<SideRecord>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = load_where(
        conn,
        &format!("o.id IN ({})", crate::db::placeholders(ids.len())),
        ids.iter().map(|i| i.as_str().into()).collect(),
    )
    .await?;
    Ok(rows.iter().map(|r| SideRecord { id: r.view.id.clone(), version: r.version, data: pull_json(r) }).collect())
}

/// Open objections in the caller's regions, for a first pull.
pub async fn pull_snapshot(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<SideRecord>, DbErr> {
    let Some((condition, values)) = region_scope(caller) else { return Ok(Vec::new()) };
    let rows = load_where(conn, &format!("o.status = 'open' AND {condition}"), values).await?;
    Ok(rows.iter().map(|r| SideRecord { id: r.view.id.clone(), version: r.version, data: pull_json(r) }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objection_messages_are_one_per_notice_and_hour() {
        let at =
            |h: u32, m: u32| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 23, h, m, 0).single().expect("valid");
        assert_eq!(received_dedup_key("n1", at(10, 0)), received_dedup_key("n1", at(10, 59)));
        assert_ne!(received_dedup_key("n1", at(10, 59)), received_dedup_key("n1", at(11, 0)));
        assert_ne!(received_dedup_key("n1", at(10, 0)), received_dedup_key("n2", at(10, 0)));
    }

    #[test]
    fn receipts_are_grouped_and_survive_sloppy_typing() {
        let receipt = new_receipt();
        assert_eq!(receipt.len(), 14);
        assert_eq!(normalize_receipt(&receipt.to_lowercase().replace('-', " ")), receipt);
        assert_eq!(normalize_receipt("abcd-efgh-oil1"), "ABCD-EFGH-0111");
        assert_ne!(new_receipt(), new_receipt());
    }
}
