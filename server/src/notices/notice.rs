//! A notice's life: a draft gathers the cases waiting at a notice step in a region;
//! publishing freezes and hashes its content and gives it a token; it closes when its
//! period has ended and no objection is open, moving its cases on. Each action is one
//! transaction with its audit entries, and decides here who may take it (the caller's
//! grant for the step and region) or read it.
//!
//! A village notice is published only where a 核查组 can answer its objections: 002
//! §三(七) "在村（组）内公开场所公示5天，若有举报，由动态管理工作核查组组织调查核实", and
//! the group (role `verifier`) is granted township by township by the county alone
//! (review gap 9). Without an active one over the village's township an objection could
//! never be answered, the notice would never close and the objection's message would
//! reach no one; so `publish` refuses with `no_verifier`, telling the county to grant it,
//! rather than post a list nobody may investigate. (A grant revoked after publishing is
//! `objections`' concern: the county office answers in the group's stead.)
//!
//! What this module must never do: answer in HTTP terms (it refuses with a
//! [`Refusal`]), or publish a household the internal edge list holds, or publish a
//! village notice no 核查组 covers.

use super::content::{self, NoticeContent};
use super::period::{self, DEFAULT_DAYS, MAX_DAYS};
use crate::audit::AuditEntry;
use crate::auth::roles::prefix_len;
use crate::auth::{Caller, Grant, Role};
use crate::db::page::Page;
use crate::db::{Db, WriteTxn, count, sql};
use crate::error::{Kind, Refusal};
use crate::procedures::signing;
use crate::procedures::steps::Step;
use crate::records;
use crate::records::server_edit::Written;
use base64::Engine;
use chrono::{DateTime, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use rand::RngCore;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A notice as the admin API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoticeView {
    pub id: String,
    pub step: String,
    pub region_code: String,
    pub title: String,
    /// draft, published, closed or withdrawn.
    pub status: String,
    pub period_days: u32,
    /// The frozen content (published notices) or a preview of it (drafts).
    pub content: Option<NoticeContent>,
    pub content_sha256: Option<String>,
    /// The public page (published notices).
    pub url: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub posting_attachment_ids: Vec<String>,
    pub cases: Vec<ListedCase>,
    pub objections_open: i64,
    /// Identifications waiting at this step in the region that are kept off the notice,
    /// each with why (a draft only): the village team sees them instead of a silent gap.
    #[serde(default)]
    pub held_back: Vec<HeldBackCase>,
    /// What the caller may do with the notice now (only on a notice read by one caller):
    /// `publish`, `withdraw`, `posting`, `close`, `resolution`. The console shows these
    /// buttons and no others; each action still decides for itself.
    #[serde(default)]
    pub actions: Vec<String>,
    /// Why a draft the caller would publish may not be published now (no 核查组 over a
    /// village notice, no case left to list), so the console says so instead of
    /// offering 发布 and showing its refusal.
    #[serde(default)]
    pub publish_blocked: Option<Blocker>,
}

/// A refusal an action would meet now, as its error body would say it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Blocker {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl From<ErrorCode> for Blocker {
    fn from(code: ErrorCode) -> Blocker {
        Blocker { code: code.code().into(), message_zh: code.message_zh().into(), message_en: code.message_en().into() }
    }
}

/// An identification kept off a notice because R5 puts its household on the internal
/// edge list (004 §三(一): 内部掌握 … 结果暂不公示).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeldBackCase {
    pub case_id: String,
    pub household_id: String,
    pub reason_zh: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListedCase {
    pub case_id: String,
    pub household_id: String,
    pub no: u32,
    /// listed; advanced (passed the step at the close), returned (an upheld objection
    /// sent it back to verification) or left (it moved some other way meanwhile).
    pub status: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewNotice {
    /// village_notice, township_notice or announcement.
    pub step: String,
    /// The village (village notice), township or county it is posted in.
    pub region_code: String,
    pub title: Option<String>,
    /// Whole days, 1–30; 5 by default (002 §三(七)).
    pub period_days: Option<u32>,
}

/// A stored notice row.
pub(crate) struct NoticeRow {
    pub id: String,
    pub step: Step,
    pub region_code: String,
    pub title: String,
    pub status: String,
    pub period_days: u32,
    pub content: Option<String>,
    pub content_sha256: Option<String>,
    pub token: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub posting_attachment_ids: Vec<String>,
}

const NOTICE_COLUMNS: &str = "id, step, region_code, title, status, period_days, content, content_sha256, token, \
     published_at, published_by, starts_at, ends_at, closed_at, posting_attachment_ids";

/// [`NOTICE_COLUMNS`] as stored: the step as its code, the posting photos as a JSON list.
#[derive(FromQueryResult)]
struct StoredNotice {
    id: String,
    step: String,
    region_code: String,
    title: String,
    status: String,
    period_days: i32,
    content: Option<String>,
    content_sha256: Option<String>,
    token: Option<String>,
    published_at: Option<DateTime<Utc>>,
    published_by: Option<String>,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    posting_attachment_ids: String,
}

impl From<StoredNotice> for NoticeRow {
    fn from(r: StoredNotice) -> NoticeRow {
        NoticeRow {
            id: r.id,
            step: Step::parse(&r.step).unwrap_or(Step::VillageNotice),
            region_code: r.region_code,
            title: r.title,
            status: r.status,
            period_days: r.period_days.max(1) as u32,
            content: r.content,
            content_sha256: r.content_sha256,
            token: r.token,
            published_at: r.published_at,
            published_by: r.published_by,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            closed_at: r.closed_at,
            posting_attachment_ids: serde_json::from_str(&r.posting_attachment_ids).unwrap_or_default(),
        }
    }
}

/// A row that is only an id.
#[derive(FromQueryResult)]
struct IdRow {
    id: String,
}

impl NoticeRow {
    pub fn content(&self) -> Option<NoticeContent> {
        self.content.as_deref().and_then(|c| serde_json::from_str(c).ok())
    }
}

pub(crate) async fn load_by(
    conn: &impl ConnectionTrait,
    column: &str,
    value: &str,
) -> Result<Option<NoticeRow>, DbErr> {
    let row = StoredNotice::find_by_statement(sql(
        conn.get_database_backend(),
        &format!("SELECT {NOTICE_COLUMNS} FROM notice WHERE {column} = ?"),
        vec![value.into()],
    ))
    .one(conn)
    .await?;
    Ok(row.map(NoticeRow::from))
}

/// The level's region kind a notice step is posted in.
fn region_level(step: Step) -> &'static str {
    match step {
        Step::VillageNotice => "village",
        Step::TownshipNotice => "township",
        _ => "county",
    }
}

/// Whether an active user holds the 核查组 role (`verifier`) over a region containing
/// `region_code`: who answers objections to a village notice there (002 §三(七)).
pub(crate) async fn verifier_covers(conn: &impl ConnectionTrait, region_code: &str) -> Result<bool, DbErr> {
    #[derive(FromQueryResult)]
    struct GrantRow {
        region_code: String,
    }
    let grants = GrantRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT g.region_code FROM role_grant g JOIN app_user u ON u.id = g.user_id \
         WHERE g.role = ? AND u.active = ?",
        vec![Role::Verifier.as_str().into(), true.into()],
    ))
    .all(conn)
    .await?;
    Ok(grants.iter().any(|g| region_code.starts_with(crate::auth::roles::region_prefix(&g.region_code))))
}

/// The caller's grant to act for notices of `step` in `region_code`.
pub(crate) fn grant_for(caller: &Caller, step: Step, region_code: &str) -> Option<Grant> {
    caller.grants.iter().find(|g| step.roles().contains(&g.role) && region_code.starts_with(&g.prefix)).cloned()
}

/// A notice's entry names the user and never the device, and the clock's close names no
/// one (not "command line"): unlike `audit::Actor`'s entries, as the trail always had them.
fn audit(caller_user: Option<&str>, action: &str, notice_id: &str, note: String) -> AuditEntry {
    AuditEntry {
        user_id: caller_user.map(str::to_owned),
        action: action.into(),
        entity: "notice".into(),
        entity_id: notice_id.into(),
        note: Some(note),
        ..AuditEntry::default()
    }
}

/// Gathers the open cases waiting at `step` in the region, not yet on another live
/// notice: (case id, household id, kind). Exits are listed general households first,
/// then the 低保/特困供养 兜底 ones (003 §一(一)2 "先一般贫困户，后低保政策兜底户").
async fn waiting_cases(
    conn: &impl ConnectionTrait,
    step: Step,
    prefix: &str,
) -> Result<Vec<(String, String, String)>, DbErr> {
    #[derive(FromQueryResult)]
    struct Waiting {
        id: String,
        household_id: String,
        kind: String,
        household_kind: Option<String>,
    }
    let mut rows = Waiting::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT c.id, c.household_id, c.kind, h.kind AS household_kind FROM procedure_case c JOIN household h ON h.id = c.household_id \
         WHERE c.status = 'open' AND c.step = ? AND h.region_code LIKE ? \
         AND NOT EXISTS (SELECT 1 FROM notice_case nc JOIN notice n ON n.id = nc.notice_id \
             WHERE nc.case_id = c.id AND nc.status = 'listed' AND n.status IN ('draft', 'published')) \
         ORDER BY h.region_code, c.created_at, c.id",
        vec![step.code().into(), format!("{prefix}%").into()],
    ))
    .all(conn)
    .await?;
    // Other kinds keep their place (rank 0); an exit of unrecorded kind goes last.
    crate::domain::exit::sort_for_exit(&mut rows, |r| {
        if r.kind == "exit" {
            r.household_kind.as_deref().and_then(crate::domain::facts::Kind::from_code)
        } else {
            Some(crate::domain::facts::Kind::General)
        }
    });
    Ok(rows.into_iter().map(|r| (r.id, r.household_id, r.kind)).collect())
}

/// The cases that may be published, and the identifications held back with why. An
/// application from a household R5 puts on the internal edge list (边缘户) is held back:
/// that list is never public (004 §三(一)), and listing the household as an applicant
/// would publish it. It waits at the step until its data says otherwise, the team sends
/// it back or rejects it; the draft shows the team each one with its reason.
async fn public_cases(
    conn: &impl ConnectionTrait,
    cases: Vec<(String, String, String)>,
) -> Result<(Vec<(String, String)>, Vec<HeldBackCase>), DbErr> {
    let mut out = Vec::with_capacity(cases.len());
    let mut held = Vec::new();
    for (case_id, household_id, kind) in cases {
        if kind == "identify"
            && let Some(why) = crate::assess::edge::held_back(conn, &household_id).await?
        {
            held.push(HeldBackCase { case_id, household_id, reason_zh: why.reason_zh });
            continue;
        }
        out.push((case_id, household_id));
    }
    Ok((out, held))
}

/// The identifications a draft of `step` in `region_code` leaves out, with why.
async fn held_back_at(conn: &impl ConnectionTrait, step: Step, region_code: &str) -> Result<Vec<HeldBackCase>, DbErr> {
    let prefix = &region_code[..prefix_len(region_level(step)).min(region_code.len())];
    Ok(public_cases(conn, waiting_cases(conn, step, prefix).await?).await?.1)
}

pub async fn create_draft(db: &Db, caller: &Caller, new: NewNotice) -> Result<NoticeView, Refusal> {
    let step =
        Step::parse(&new.step).filter(|s| s.is_notice()).ok_or_else(|| Refusal::invalid(ErrorCode::RegionLevel))?;
    let period_days = new.period_days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&period_days) {
        return Err(Refusal::invalid(ErrorCode::InvalidPeriod));
    }
    let grant = grant_for(caller, step, &new.region_code).ok_or_else(Refusal::out_of_scope)?;
    let txn = db.begin_write().await?;
    #[derive(FromQueryResult)]
    struct Region {
        name: String,
        level: String,
    }
    let Region { name: region_name, level } = Region::find_by_statement(sql(
        txn.get_database_backend(),
        "SELECT name, level FROM region WHERE code = ?",
        vec![new.region_code.as_str().into()],
    ))
    .one(&*txn)
    .await?
    .ok_or_else(Refusal::not_found)?;
    if level != region_level(step) {
        return Err(Refusal::invalid(ErrorCode::RegionLevel));
    }
    let prefix = &new.region_code[..prefix_len(&level).min(new.region_code.len())];
    let (cases, _held) = public_cases(&*txn, waiting_cases(&*txn, step, prefix).await?).await?;
    if cases.is_empty() {
        return Err(Refusal::new(Kind::Rejected, ErrorCode::NoticeEmpty));
    }
    let id = Uuid::new_v4().to_string();
    let now = Utc::now();
    let title = new
        .title
        .filter(|t| !t.trim().is_empty())
        .map(|t| t.trim().chars().take(100).collect())
        .unwrap_or_else(|| format!("{region_name}{}", content::kind_label(step)));
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "INSERT INTO notice (id, step, region_code, region_prefix, title, status, period_days, created_by, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?)",
        vec![
            id.as_str().into(),
            step.code().into(),
            new.region_code.as_str().into(),
            prefix.into(),
            title.as_str().into(),
            (period_days as i32).into(),
            caller.user_id.as_str().into(),
            now.into(),
            now.into(),
        ],
    ))
    .await?;
    insert_cases(&txn, &id, &cases).await?;
    crate::audit::record(
        &*txn,
        &[audit(
            Some(&caller.user_id),
            "notice_draft",
            &id,
            format!("{} in {} as {}: {} cases", step.code(), new.region_code, grant.role.as_str(), cases.len()),
        )],
    )
    .await?;
    txn.commit().await?;
    view(db, &id, None).await
}

async fn insert_cases(txn: &WriteTxn, notice_id: &str, cases: &[(String, String)]) -> Result<(), DbErr> {
    for (i, (case_id, household_id)) in cases.iter().enumerate() {
        txn.execute_raw(sql(
            txn.get_database_backend(),
            "INSERT INTO notice_case (notice_id, case_id, household_id, position, status) VALUES (?, ?, ?, ?, 'listed')",
            vec![notice_id.into(), case_id.as_str().into(), household_id.as_str().into(), (i as i32 + 1).into()],
        ))
        .await?;
    }
    Ok(())
}

/// Listed cases in order: (case id, household id, position, status).
async fn listed(conn: &impl ConnectionTrait, notice_id: &str) -> Result<Vec<ListedCase>, DbErr> {
    #[derive(FromQueryResult)]
    struct Listed {
        case_id: String,
        household_id: String,
        position: i32,
        status: String,
    }
    let rows = Listed::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT case_id, household_id, position, status FROM notice_case WHERE notice_id = ? ORDER BY position",
        vec![notice_id.into()],
    ))
    .all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ListedCase {
            case_id: r.case_id,
            household_id: r.household_id,
            no: r.position.max(0) as u32,
            status: r.status,
        })
        .collect())
}

/// The notice as the admin API shows it; a draft's content is a preview built now.
pub async fn view(db: &Db, id: &str, public_url: Option<&str>) -> Result<NoticeView, Refusal> {
    let row = load_by(&db.conn, "id", id).await?.ok_or_else(Refusal::not_found)?;
    let cases = listed(&db.conn, id).await?;
    let content = match row.content() {
        Some(content) => Some(content),
        None if row.status == "draft" => Some(build_content(&db.conn, &row, &cases, Utc::now()).await?),
        None => None,
    };
    let objections_open =
        count(&db.conn, "SELECT COUNT(*) FROM objection WHERE notice_id = ? AND status = 'open'", vec![id.into()])
            .await?;
    let held_back =
        if row.status == "draft" { held_back_at(&db.conn, row.step, &row.region_code).await? } else { Vec::new() };
    Ok(NoticeView {
        held_back,
        url: row.token.as_ref().map(|t| format!("{}/n/{t}", public_url.unwrap_or("").trim_end_matches('/'))),
        id: row.id,
        step: row.step.code().into(),
        region_code: row.region_code,
        title: row.title,
        status: row.status,
        period_days: row.period_days,
        content,
        content_sha256: row.content_sha256,
        published_at: row.published_at,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        closed_at: row.closed_at,
        posting_attachment_ids: row.posting_attachment_ids,
        cases,
        objections_open,
        actions: Vec::new(),
        publish_blocked: None,
    })
}

async fn build_content(
    conn: &impl ConnectionTrait,
    row: &NoticeRow,
    cases: &[ListedCase],
    published_at: DateTime<Utc>,
) -> Result<NoticeContent, DbErr> {
    let ids: Vec<String> = cases.iter().filter(|c| c.status == "listed").map(|c| c.case_id.clone()).collect();
    let names = content::region_names(conn, std::slice::from_ref(&row.region_code)).await?;
    let region_name = names.get(&row.region_code).cloned().unwrap_or_default();
    let period = period::period(published_at, row.period_days);
    Ok(NoticeContent {
        title: row.title.clone(),
        step: row.step.code().into(),
        kind_label: content::kind_label(row.step).into(),
        region_code: row.region_code.clone(),
        publisher: content::publisher(row.step, &region_name),
        region_name,
        period_days: row.period_days,
        first_day: period.first_day,
        last_day: period.last_day,
        entries: content::entries(conn, &ids).await?,
    })
}

/// An unguessable token for the public URL: 144 random bits, URL-safe.
fn new_token() -> String {
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Freezes the content, hashes it and opens the period. Cases that left the step since
/// the draft was made are dropped from it first.
pub async fn publish(db: &Db, caller: &Caller, id: &str, now: DateTime<Utc>) -> Result<NoticeView, Refusal> {
    let txn = db.begin_write().await?;
    let row = load_by(&*txn, "id", id).await?.ok_or_else(Refusal::not_found)?;
    grant_for(caller, row.step, &row.region_code).ok_or_else(Refusal::out_of_scope)?;
    match publish_blocker(&*txn, &row).await? {
        Some(ErrorCode::NoticeEmpty) => return Err(Refusal::new(Kind::Rejected, ErrorCode::NoticeEmpty)),
        Some(code) => return Err(Refusal::conflict(code)),
        None => {}
    }
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "DELETE FROM notice_case WHERE notice_id = ? AND case_id NOT IN \
         (SELECT id FROM procedure_case WHERE status = 'open' AND step = ?)",
        vec![id.into(), row.step.code().into()],
    ))
    .await?;
    // Renumber so the published list has no gaps.
    let cases = listed(&*txn, id).await?;
    if cases.is_empty() {
        return Err(Refusal::new(Kind::Rejected, ErrorCode::NoticeEmpty));
    }
    txn.execute_raw(sql(txn.get_database_backend(), "DELETE FROM notice_case WHERE notice_id = ?", vec![id.into()]))
        .await?;
    // The household's data may have changed since the draft: check the watch list again.
    let ids: Vec<String> = cases.iter().map(|c| c.case_id.clone()).collect();
    let kinds: std::collections::HashMap<String, String> =
        records::load_many(&*txn, &jingzhun_mobile_api::fields::CASE, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c.text("kind").unwrap_or_default().to_owned()))
            .collect();
    let candidates = cases
        .iter()
        .map(|c| (c.case_id.clone(), c.household_id.clone(), kinds.get(&c.case_id).cloned().unwrap_or_default()))
        .collect();
    let (pairs, _held) = public_cases(&*txn, candidates).await?;
    if pairs.is_empty() {
        return Err(Refusal::new(Kind::Rejected, ErrorCode::NoticeEmpty));
    }
    insert_cases(&txn, id, &pairs).await?;
    let cases = listed(&*txn, id).await?;

    let content = build_content(&*txn, &row, &cases, now).await?;
    let stored = content.to_stored();
    let hash = NoticeContent::sha256(&stored);
    let period = period::period(now, row.period_days);
    let token = new_token();
    let updated = txn
        .execute_raw(sql(
            txn.get_database_backend(),
            "UPDATE notice SET status = 'published', content = ?, content_sha256 = ?, token = ?, published_at = ?, \
             published_by = ?, starts_at = ?, ends_at = ?, updated_at = ? WHERE id = ? AND status = 'draft'",
            vec![
                stored.into(),
                hash.as_str().into(),
                token.into(),
                now.into(),
                caller.user_id.as_str().into(),
                period.starts_at.into(),
                period.ends_at.into(),
                now.into(),
                id.into(),
            ],
        ))
        .await?;
    if updated.rows_affected() != 1 {
        return Err(Refusal::conflict(ErrorCode::NoticeNotDraft));
    }
    crate::audit::record(
        &*txn,
        &[audit(
            Some(&caller.user_id),
            "notice_publish",
            id,
            format!("{} cases, sha256 {hash}, ends {}", cases.len(), period.ends_at.to_rfc3339()),
        )],
    )
    .await?;
    // The level above follows the notices it will review next.
    let above = match row.step {
        Step::VillageNotice => Some(Role::Township),
        Step::TownshipNotice => Some(Role::County),
        _ => None,
    };
    if let Some(role) = above {
        crate::notifications::notify(
            &*txn,
            now,
            crate::notifications::Notification {
                event: crate::notifications::Event::NoticePublished,
                dedup_key: format!("notice:{id}:published"),
                recipients: crate::notifications::Recipients::Role { role, region_code: row.region_code.clone() },
                params: notice_params(&content.region_name, &row.region_code, &row.title, period.ends_at),
                urgent: false,
            },
        )
        .await?;
    }
    txn.commit().await?;
    view(db, id, None).await
}

/// Drops a draft.
pub async fn withdraw(db: &Db, caller: &Caller, id: &str) -> Result<NoticeView, Refusal> {
    let txn = db.begin_write().await?;
    let row = load_by(&*txn, "id", id).await?.ok_or_else(Refusal::not_found)?;
    grant_for(caller, row.step, &row.region_code).ok_or_else(Refusal::out_of_scope)?;
    let updated = txn
        .execute_raw(sql(
            txn.get_database_backend(),
            "UPDATE notice SET status = 'withdrawn', updated_at = ? WHERE id = ? AND status = 'draft'",
            vec![Utc::now().into(), id.into()],
        ))
        .await?;
    if updated.rows_affected() != 1 {
        return Err(Refusal::conflict(ErrorCode::NoticeNotDraft));
    }
    crate::audit::record(&*txn, &[audit(Some(&caller.user_id), "notice_withdraw", id, "draft withdrawn".into())])
        .await?;
    txn.commit().await?;
    view(db, id, None).await
}

/// Adds a photo of the posted notice (an uploaded attachment) as evidence. Evidence is
/// not content: the hash does not change.
pub async fn add_posting(db: &Db, caller: &Caller, id: &str, attachment_id: Uuid) -> Result<NoticeView, Refusal> {
    let txn = db.begin_write().await?;
    lock(&*txn, id).await?;
    let row = load_by(&*txn, "id", id).await?.ok_or_else(Refusal::not_found)?;
    grant_for(caller, row.step, &row.region_code).ok_or_else(Refusal::out_of_scope)?;
    if !matches!(row.status.as_str(), "published" | "closed") {
        return Err(Refusal::conflict(ErrorCode::NoticeNotPublished));
    }
    // Evidence of this notice's posting: a photo uploaded for a household of the notice's
    // region, not any attachment in the database.
    let attachment = attachment_id.to_string();
    let prefix = format!("{}%", crate::auth::roles::region_prefix(&row.region_code));
    let exists = count(
        &*txn,
        "SELECT COUNT(*) FROM attachment_link l JOIN household h ON h.id = l.household_id \
         WHERE l.attachment_id = ? AND h.region_code LIKE ?",
        vec![attachment.as_str().into(), prefix.into()],
    )
    .await?
        > 0;
    if !exists {
        return Err(Refusal::not_found());
    }
    append_posting(&*txn, caller, &row, &attachment).await?;
    txn.commit().await?;
    view(db, id, None).await
}

/// Holds the notice's row until the transaction ends, before it is read: two postings
/// added at once (PostgreSQL) would each write back the list it read without the other's.
/// SQLite's single writer serializes them already.
pub(crate) async fn lock(conn: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    conn.execute_raw(sql(
        conn.get_database_backend(),
        "UPDATE notice SET updated_at = updated_at WHERE id = ?",
        vec![id.into()],
    ))
    .await?;
    Ok(())
}

/// Puts a photo on the notice's list of postings (once), audited as the notice's.
pub(crate) async fn append_posting(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    row: &NoticeRow,
    attachment: &str,
) -> Result<(), DbErr> {
    let mut postings = row.posting_attachment_ids.clone();
    if !postings.iter().any(|p| p == attachment) {
        postings.push(attachment.to_owned());
    }
    conn.execute_raw(sql(
        conn.get_database_backend(),
        "UPDATE notice SET posting_attachment_ids = ?, updated_at = ? WHERE id = ?",
        vec![serde_json::to_string(&postings).unwrap_or_default().into(), Utc::now().into(), row.id.as_str().into()],
    ))
    .await?;
    crate::audit::record(
        conn,
        &[audit(Some(&caller.user_id), "notice_posting", &row.id, format!("posting photo {attachment}"))],
    )
    .await
}

/// Why a notice may not be published now, before its cases are read again at publishing
/// (a case may still drop off the list then: see [`publish`]).
pub(crate) async fn publish_blocker(conn: &impl ConnectionTrait, row: &NoticeRow) -> Result<Option<ErrorCode>, DbErr> {
    if row.status != "draft" {
        return Ok(Some(ErrorCode::NoticeNotDraft));
    }
    if row.step == Step::VillageNotice && !verifier_covers(conn, &row.region_code).await? {
        return Ok(Some(ErrorCode::NoVerifier));
    }
    let listable = count(
        conn,
        "SELECT COUNT(*) FROM notice_case nc JOIN procedure_case c ON c.id = nc.case_id \
         WHERE nc.notice_id = ? AND c.status = 'open' AND c.step = ?",
        vec![row.id.as_str().into(), row.step.code().into()],
    )
    .await?;
    Ok((listable == 0).then_some(ErrorCode::NoticeEmpty))
}

/// Why a notice may not close yet.
pub(crate) async fn close_blocker(
    conn: &impl ConnectionTrait,
    row: &NoticeRow,
    now: DateTime<Utc>,
) -> Result<Option<ErrorCode>, DbErr> {
    if row.status != "published" {
        return Ok(Some(ErrorCode::NoticeNotPublished));
    }
    if row.ends_at.is_none_or(|end| now < end) {
        return Ok(Some(ErrorCode::NoticePeriodRunning));
    }
    let open = count(
        conn,
        "SELECT COUNT(*) FROM objection WHERE notice_id = ? AND status = 'open'",
        vec![row.id.as_str().into()],
    )
    .await?;
    Ok((open > 0).then_some(ErrorCode::ObjectionsOpen))
}

/// Closes the notice if its period has ended with no open objection: its listed cases
/// pass the notice step, signed as the level that published it. Safe to run from
/// several processes at once: only the one that flips the status does the work.
pub async fn close(db: &Db, id: &str, now: DateTime<Utc>) -> Result<(), Refusal> {
    let txn = db.begin_write().await?;
    // Lock the notice first: an objection being filed holds the same lock, so either it
    // commits before we count open objections, or it finds the notice closed.
    lock_published(&txn, id, now).await?;
    let row = load_by(&*txn, "id", id).await?.ok_or_else(Refusal::not_found)?;
    if let Some(code) = close_blocker(&*txn, &row, now).await? {
        return Err(Refusal::conflict(code));
    }
    let flipped = txn
        .execute_raw(sql(
            txn.get_database_backend(),
            "UPDATE notice SET status = 'closed', closed_at = ?, updated_at = ? WHERE id = ? AND status = 'published'",
            vec![now.into(), now.into(), id.into()],
        ))
        .await?;
    if flipped.rows_affected() != 1 {
        return Err(Refusal::conflict(ErrorCode::NoticeNotPublished));
    }
    let publisher = publisher_caller(&*txn, &row).await?;
    let grant = Grant {
        role: *row.step.roles().first().unwrap_or(&Role::Village),
        prefix: row.region_code[..prefix_len(region_level(row.step)).min(row.region_code.len())].to_owned(),
        region_code: row.region_code.clone(),
        at_root: false,
    };
    let mut written = Written::default();
    let comment = format!("{}期满无异议 ({} {})", content::kind_label(row.step), row.title, row.id);
    let mut advanced = 0;
    for case in listed(&*txn, id).await?.into_iter().filter(|c| c.status == "listed") {
        let status = match signing::pass_notice(&txn, &publisher, &grant, &case.case_id, row.step, comment.clone())
            .await
        {
            Ok(w) => {
                written.extend(w);
                advanced += 1;
                "advanced"
            }
            // Closed, moved some other way, or gone: nothing to pass, and the others still go on.
            Err(signing::CaseError::Closed | signing::CaseError::StepMismatch | signing::CaseError::NotFound) => "left",
            Err(err) => return Err(err.into()),
        };
        txn.execute_raw(sql(
            txn.get_database_backend(),
            "UPDATE notice_case SET status = ? WHERE notice_id = ? AND case_id = ?",
            vec![status.into(), id.into(), case.case_id.as_str().into()],
        ))
        .await?;
    }
    let note = format!("{} cases passed the step; {comment}", advanced);
    signing::record_written(&txn, written).await?;
    crate::audit::record(&*txn, &[audit(None, "notice_close", id, note)]).await?;
    txn.commit().await?;
    Ok(())
}

/// Takes the row lock of a published notice (on PostgreSQL; SQLite's writer lock already
/// serialises). False when the notice is not published.
pub(crate) async fn lock_published(txn: &WriteTxn, id: &str, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let locked = txn
        .execute_raw(sql(
            txn.get_database_backend(),
            "UPDATE notice SET updated_at = ? WHERE id = ? AND status = 'published'",
            vec![now.into(), id.into()],
        ))
        .await?;
    Ok(locked.rows_affected() == 1)
}

/// The publisher, as whom the closing sign-offs are recorded.
async fn publisher_caller(conn: &impl ConnectionTrait, row: &NoticeRow) -> Result<Caller, DbErr> {
    let user_id = row.published_by.clone().unwrap_or_default();
    #[derive(FromQueryResult)]
    struct Names {
        username: String,
        name: String,
    }
    let names = Names::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT username, name FROM app_user WHERE id = ?",
        vec![user_id.as_str().into()],
    ))
    .one(conn)
    .await?;
    let Names { username, name } = names.unwrap_or(Names { username: String::new(), name: String::new() });
    Ok(Caller { user_id, username, name, device_id: "notice".into(), grants: Vec::new(), draining: false })
}

/// Closes every notice whose period has ended with no open objection. Returns how many closed.
pub async fn close_due(db: &Db, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let rows = IdRow::find_by_statement(sql(
        db.backend(),
        "SELECT n.id FROM notice n WHERE n.status = 'published' AND n.ends_at <= ? \
         AND NOT EXISTS (SELECT 1 FROM objection o WHERE o.notice_id = n.id AND o.status = 'open') \
         ORDER BY n.ends_at LIMIT 100",
        vec![now.into()],
    ))
    .all(&db.conn)
    .await?;
    let mut closed = 0;
    for IdRow { id } in rows {
        match close(db, &id, now).await {
            Ok(()) => closed += 1,
            // Another process got there first, or an objection arrived meanwhile.
            Err(err) if err.kind == Kind::Conflict => {}
            Err(err) => tracing::error!(notice = %id, code = err.code.code(), "closing a notice failed"),
        }
    }
    Ok(closed)
}

/// The notice, if the caller reads its region. A published notice above them too (a
/// village team reads the township's notice); a draft only at its level or above: a
/// draft is not public, and its preview names the households before anyone decided.
pub async fn readable(db: &Db, caller: &Caller, id: &str) -> Result<NoticeView, Refusal> {
    let view = view(db, id, None).await?;
    let prefix = notice_prefix(&view.step, &view.region_code);
    let draft = view.status == "draft";
    let reads = caller.read_prefixes().iter().any(|p| prefix.starts_with(p) || (!draft && p.starts_with(&prefix)));
    if !reads {
        return Err(Refusal::out_of_scope());
    }
    Ok(view)
}

/// Closes a notice the caller reads, now, if nothing blocks it (see [`close`]); the
/// notice as it then stands.
pub async fn close_now(db: &Db, caller: &Caller, id: &str, now: DateTime<Utc>) -> Result<NoticeView, Refusal> {
    readable(db, caller, id).await?;
    close(db, id, now).await?;
    readable(db, caller, id).await
}

/// A notice the public may open by its token (published or closed), with its frozen
/// content; None for any other token.
pub(crate) async fn public(
    conn: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<(NoticeRow, NoticeContent)>, DbErr> {
    let row = load_by(conn, "token", token).await?;
    Ok(row.filter(|r| matches!(r.status.as_str(), "published" | "closed")).and_then(|r| r.content().map(|c| (r, c))))
}

/// Notices visible to the caller: those in regions they read, newest first.
pub async fn list(db: &Db, caller: &Caller, status: Option<&str>) -> Result<Vec<NoticeView>, Refusal> {
    let Some((scope, mut values)) = crate::records::scope::notices_condition(caller, "notice") else {
        return Ok(Vec::new());
    };
    let mut text = format!("SELECT id FROM notice WHERE {scope}");
    if let Some(status) = status {
        text.push_str(" AND status = ?");
        values.push(status.to_owned().into());
    }
    text.push_str(" ORDER BY created_at DESC LIMIT 200");
    let rows = IdRow::find_by_statement(sql(db.backend(), &text, values)).all(&db.conn).await?;
    let mut out = Vec::new();
    for IdRow { id } in rows {
        out.push(view(db, &id, None).await?);
    }
    Ok(out)
}

/// The notice as `caller` reads it (see [`readable`]), with what they may do with it
/// now: the same grants and states the actions check, so the console shows only the
/// buttons the server would take.
pub async fn for_caller(db: &Db, caller: &Caller, id: &str, now: DateTime<Utc>) -> Result<NoticeView, Refusal> {
    let mut view = readable(db, caller, id).await?;
    let row = load_by(&db.conn, "id", id).await?.ok_or_else(Refusal::not_found)?;
    let step = row.step;
    let publishes = grant_for(caller, step, &view.region_code).is_some();
    let mut actions: Vec<&str> = Vec::new();
    match view.status.as_str() {
        "draft" if publishes => {
            // The checks `publish` makes, so 发布 is offered only when it would be taken.
            match publish_blocker(&db.conn, &row).await? {
                None => actions.push("publish"),
                Some(code) => view.publish_blocked = Some(code.into()),
            }
            actions.push("withdraw");
        }
        "published" | "closed" if publishes => actions.push("posting"),
        _ => {}
    }
    // `close_now` lets anyone who reads the notice close it once nothing blocks it.
    if close_blocker(&db.conn, &row, now).await?.is_none() {
        actions.push("close");
    }
    if step == Step::VillageNotice
        && view.status == "closed"
        && grant_for(caller, Step::VillageResolution, &view.region_code).is_some()
    {
        let waiting = count(
            &db.conn,
            "SELECT COUNT(*) FROM notice_case nc JOIN procedure_case c ON c.id = nc.case_id \
             WHERE nc.notice_id = ? AND nc.status = 'advanced' AND c.status = 'open' AND c.step = ?",
            vec![id.into(), Step::VillageResolution.code().into()],
        )
        .await?;
        if waiting > 0 {
            actions.push("resolution");
        }
    }
    view.actions = actions.into_iter().map(str::to_owned).collect();
    Ok(view)
}

/// Which notices the console's 公示公告 table lists.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct NoticeSummaryFilter {
    /// draft, published, closed or withdrawn.
    pub status: Option<String>,
    /// village_notice, township_notice or announcement.
    pub step: Option<String>,
    /// A region: the notices posted in it or in the regions below it.
    pub region_code: Option<String>,
    /// From 1.
    pub page: Option<u64>,
    /// 20 unless asked, at most 200.
    pub per_page: Option<u64>,
}

/// One notice in the console's table, with how many households it lists and how many
/// objections it drew.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromQueryResult)]
pub struct NoticeSummary {
    pub id: String,
    pub step: String,
    pub region_code: String,
    pub region_name: Option<String>,
    pub title: String,
    /// draft, published, closed or withdrawn.
    pub status: String,
    pub period_days: i32,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Households on the list (those an upheld objection returned included).
    pub cases: i64,
    pub objections: i64,
    pub objections_open: i64,
}

/// The notices [`list`] shows the caller, filtered, newest first, a page at a time with
/// the total.
pub async fn summaries(db: &Db, caller: &Caller, filter: NoticeSummaryFilter) -> Result<Page<NoticeSummary>, Refusal> {
    let paging = crate::db::Paging::new(filter.page, filter.per_page, 20);
    let Some((scope, mut values)) = crate::records::scope::notices_condition(caller, "n") else {
        return Ok(Page { total: 0, page: paging.page, per_page: paging.per_page, items: Vec::new() });
    };
    let mut wheres = vec![scope];
    for (column, wanted) in [("n.status", filter.status), ("n.step", filter.step)] {
        if let Some(wanted) = wanted.filter(|w| !w.is_empty()) {
            wheres.push(format!("{column} = ?"));
            values.push(wanted.into());
        }
    }
    if let Some(region) = filter.region_code.filter(|r| !r.is_empty()) {
        wheres.push("n.region_code LIKE ?".into());
        values.push(format!("{}%", crate::auth::roles::region_prefix(&region)).into());
    }
    let where_text = wheres.join(" AND ");
    let total = count(&db.conn, &format!("SELECT COUNT(*) FROM notice n WHERE {where_text}"), values.clone()).await?;
    let text = format!(
        "SELECT n.id, n.step, n.region_code, r.name AS region_name, n.title, n.status, n.period_days, n.created_at, \
         n.published_at, n.starts_at, n.ends_at, n.closed_at, \
         (SELECT COUNT(*) FROM notice_case nc WHERE nc.notice_id = n.id) AS cases, \
         (SELECT COUNT(*) FROM objection o WHERE o.notice_id = n.id) AS objections, \
         (SELECT COUNT(*) FROM objection o WHERE o.notice_id = n.id AND o.status = 'open') AS objections_open \
         FROM notice n LEFT JOIN region r ON r.code = n.region_code WHERE {where_text} \
         ORDER BY n.created_at DESC, n.id LIMIT ? OFFSET ?"
    );
    values.extend(paging.limit_offset());
    let items = NoticeSummary::find_by_statement(sql(db.backend(), &text, values)).all(&db.conn).await?;
    Ok(Page { total, page: paging.page, per_page: paging.per_page, items })
}

/// Cases waiting for a notice the caller may draft: one row per notice step and region
/// their grants publish in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WaitingNotice {
    /// village_notice, township_notice or announcement.
    pub step: String,
    /// The region the notice would be posted in (the grant's village, township or county).
    pub region_code: String,
    pub region_name: String,
    /// Cases a draft would list now.
    pub cases: usize,
    /// Identifications a draft would keep off the list, each with why.
    pub held_back: Vec<HeldBackCase>,
}

/// For each notice step and region the caller publishes in (a grant of the step's role
/// whose region is at the step's level), the cases a draft would gather now; steps with
/// nothing waiting are left out.
pub async fn waiting(db: &Db, caller: &Caller) -> Result<Vec<WaitingNotice>, Refusal> {
    let mut out = Vec::new();
    for step in [Step::VillageNotice, Step::TownshipNotice, Step::Announcement] {
        for grant in caller.grants.iter().filter(|g| step.roles().contains(&g.role)) {
            if crate::auth::roles::level_of_code(&grant.region_code) != Some(region_level(step))
                || out.iter().any(|w: &WaitingNotice| w.step == step.code() && w.region_code == grant.region_code)
            {
                continue;
            }
            let (cases, held_back) =
                public_cases(&db.conn, waiting_cases(&db.conn, step, &grant.prefix).await?).await?;
            if cases.is_empty() && held_back.is_empty() {
                continue;
            }
            let names = content::region_names(&db.conn, std::slice::from_ref(&grant.region_code)).await?;
            out.push(WaitingNotice {
                step: step.code().into(),
                region_code: grant.region_code.clone(),
                region_name: names.get(&grant.region_code).cloned().unwrap_or_default(),
                cases: cases.len(),
                held_back,
            });
        }
    }
    Ok(out)
}

/// Reminders the notice clock produces, once each (dedup keys): a notice's period ends
/// within a day (its publishing level checks that every objection is answered), and an
/// objection's answer is due within a day or late.
pub async fn remind(db: &Db, now: DateTime<Utc>) -> Result<usize, DbErr> {
    use crate::notifications::{Event, Notification, Recipients};
    let soon = now + chrono::Duration::days(1);
    struct Reminder {
        event: Event,
        dedup_key: String,
        step: String,
        region: String,
        title: String,
        at: DateTime<Utc>,
        extra: (&'static str, String),
    }
    #[derive(FromQueryResult)]
    struct Ending {
        id: String,
        step: String,
        region_code: String,
        title: String,
        ends_at: DateTime<Utc>,
        open_objections: i64,
    }
    #[derive(FromQueryResult)]
    struct AnswerDue {
        id: String,
        step: String,
        assigned_region: String,
        title: String,
        due_at: DateTime<Utc>,
        receipt: String,
    }
    let mut due = Vec::new();
    let ending = Ending::find_by_statement(sql(
        db.backend(),
        "SELECT n.id, n.step, n.region_code, n.title, n.ends_at, \
         (SELECT COUNT(*) FROM objection o WHERE o.notice_id = n.id AND o.status = 'open') AS open_objections \
         FROM notice n WHERE n.status = 'published' AND n.ends_at > ? AND n.ends_at <= ?",
        vec![now.into(), soon.into()],
    ))
    .all(&db.conn)
    .await?;
    for Ending { id, step, region_code: region, title, ends_at, open_objections: open } in ending {
        due.push(Reminder {
            event: Event::NoticeEnding,
            dedup_key: format!("notice:{id}:ending"),
            step,
            region,
            title,
            at: ends_at,
            extra: ("open_objections", open.to_string()),
        });
    }
    let answers = AnswerDue::find_by_statement(sql(
        db.backend(),
        "SELECT o.id, n.step, o.assigned_region, n.title, o.due_at, o.receipt FROM objection o \
         JOIN notice n ON n.id = o.notice_id WHERE o.status = 'open' AND o.due_at <= ?",
        vec![soon.into()],
    ))
    .all(&db.conn)
    .await?;
    for AnswerDue { id, step, assigned_region: region, title, due_at, receipt } in answers {
        let key = format!("objection:{id}:{}", if due_at <= now { "late" } else { "due" });
        due.push(Reminder {
            event: Event::ObjectionDue,
            dedup_key: key,
            step,
            region,
            title,
            at: due_at,
            extra: ("receipt", receipt),
        });
    }
    if due.is_empty() {
        return Ok(0);
    }
    let txn = db.begin_write().await?;
    let regions: Vec<String> = due.iter().map(|d| d.region.clone()).collect();
    let names = content::region_names(&*txn, &regions).await?;
    let mut sent = 0;
    for Reminder { event, dedup_key, step, region, title, at, extra: (name, value) } in due {
        // An answer falls due with those who investigate (002 §三(七)), the end with the publisher.
        let role = match (event, Step::parse(&step)) {
            // No 核查组 over the village any more: the county office answers in its stead.
            (Event::ObjectionDue, Some(Step::VillageNotice)) if !verifier_covers(&*txn, &region).await? => Role::County,
            (Event::ObjectionDue, Some(s)) => s.objections_answered_by(),
            (_, s) => *s.and_then(|s| s.roles().first()).unwrap_or(&Role::Village),
        };
        let mut params = notice_params(names.get(&region).map_or("", String::as_str), &region, &title, at);
        params.insert(name.into(), value.into());
        let recipients = Recipients::Role { role, region_code: region };
        sent += crate::notifications::notify(
            &*txn,
            now,
            Notification { event, dedup_key, recipients, params, urgent: false },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(sent)
}

/// The variables every notice template may use (see the notification templates):
/// `region` (name), `notice_title`, `due` (Beijing time), and `region_code`, which files
/// the message under the region in the delivery log.
pub(crate) fn notice_params(
    region_name: &str,
    region_code: &str,
    title: &str,
    due: DateTime<Utc>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut params = serde_json::Map::new();
    params.insert("region".into(), region_name.into());
    params.insert("region_code".into(), region_code.into());
    params.insert("notice_title".into(), title.into());
    params.insert(
        "due".into(),
        due.with_timezone(&chrono_tz::Asia::Shanghai).format("%-m月%-d日%H:%M").to_string().into(),
    );
    params
}

/// The prefix of the household region codes a notice covers.
pub fn notice_prefix(step: &str, region_code: &str) -> String {
    let level = Step::parse(step).map_or("village", region_level);
    region_code[..prefix_len(level).min(region_code.len())].to_owned()
}
