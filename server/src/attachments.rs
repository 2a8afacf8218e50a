//! Attachments (photos of visits, evidence): stored once per content hash, linked to
//! the households they belong to, or to the notice whose posting they show (a photo of
//! the village board, uploaded from the office), and served only to callers who can
//! read one of those households or notices.
//!
//! What it must never do (issue 9, M8 and L10): keep a file whose bytes are not a JPEG,
//! PNG, WebP image or a PDF (the type is read from the bytes, not from what the phone
//! says); let a user or a household grow past its quota; or tell a caller anything about
//! a file they cannot read: an unknown id and an unreadable one are both "not found", and
//! an upload of bytes someone else stored answers, and costs, exactly like a new file.
//!
//! Ids: a phone names a photo itself when the camera takes it (part `id`), so a visit log
//! made offline can list it before the upload (issue 13). New bytes are stored under that
//! id; bytes already stored under another id get an `attachment_alias` row, so a file is
//! still kept once. Household links name the id the uploader used, so who reads an id is
//! decided by that id's own links: an alias never lets anyone read the file under the
//! other id, nor the other id's readers read the alias. Without `id` the server names the
//! file, as before. The same id with other bytes is refused (`attachment_id_in_use`), so
//! an id a visit log lists never changes what it shows.

use crate::audit::{self, AuditEntry};
use crate::auth::Caller;
use crate::config::UploadsConfig;
use crate::db::{Db, is_unique_violation, sql};
use crate::error::{Kind, Refusal};
use crate::records;
use crate::records::scope::{self, Access};
use crate::registry::Actor;
use axum::extract::Multipart;
use chrono::Utc;
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use jingzhun_mobile_api::fields;
use jingzhun_mobile_api::wire::AttachmentResponse;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub struct Upload {
    /// The id the phone gave the photo, if it sent one (hyphenated lowercase).
    pub id: Option<String>,
    pub household_id: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("the request is not a multipart form with `household_id` and `file`")]
    InvalidRequest,
    /// The `id` part is not a UUID.
    #[error("the `id` part is not a UUID")]
    InvalidId,
    /// The id names a file with other bytes.
    #[error("the id is already used by another file")]
    IdInUse,
    #[error("the file is larger than an attachment may be")]
    TooLarge,
    #[error("only JPEG, PNG, WebP images and PDF files are kept")]
    ContentTypeNotAllowed,
    #[error("the {0} attachment quota is used up")]
    QuotaExceeded(&'static str),
    /// Unknown, or not readable by the caller: the two are not told apart.
    #[error("no such attachment")]
    NotFound,
    /// Not the caller's household to edit: `out_of_scope`, or `assignment_ended` for a
    /// former officer (uploading is an online action, refused once the assignment ends).
    #[error("the household is not the caller's to edit ({})", .0.code())]
    Refused(ErrorCode),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<AttachmentError> for Refusal {
    fn from(err: AttachmentError) -> Refusal {
        match err {
            AttachmentError::InvalidRequest => Refusal::invalid(ErrorCode::InvalidRequest),
            AttachmentError::InvalidId => Refusal::invalid(ErrorCode::InvalidRequest)
                .with_fields(vec![FieldError::new("id", ErrorCode::InvalidType)]),
            AttachmentError::IdInUse => Refusal::conflict(ErrorCode::AttachmentIdInUse),
            AttachmentError::TooLarge => Refusal::new(Kind::TooLarge, ErrorCode::AttachmentTooLarge),
            AttachmentError::QuotaExceeded(_) => Refusal::new(Kind::TooLarge, ErrorCode::QuotaExceeded),
            AttachmentError::ContentTypeNotAllowed => Refusal::new(Kind::Unsupported, ErrorCode::ContentTypeNotAllowed),
            AttachmentError::NotFound => Refusal::not_found(),
            AttachmentError::Refused(code) => Refusal::new(Kind::Forbidden, code),
            AttachmentError::Db(err) => err.into(),
        }
    }
}

/// Byte quotas, from `[uploads]`.
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    pub per_user: u64,
    pub per_household: u64,
}

impl Quotas {
    pub fn from_config(config: &UploadsConfig) -> Quotas {
        Quotas {
            per_user: config.attachment_quota_per_user_bytes,
            per_household: config.attachment_quota_per_household_bytes,
        }
    }
}

/// The types attachments may have, as their first bytes show them.
const ALLOWED: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "application/pdf"];

/// The file's type read from its magic bytes, if it is one attachments may have.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let kind = infer::get(bytes)?;
    ALLOWED.into_iter().find(|allowed| *allowed == kind.mime_type())
}

/// Reads the `household_id` and `file` parts and the optional `id`, refusing a file over
/// `max_bytes`. What the phone says the file's type is, is not kept: the bytes say it.
pub async fn read_upload(mut multipart: Multipart, max_bytes: usize) -> Result<Upload, AttachmentError> {
    let mut id = None;
    let mut household_id = None;
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(|_| AttachmentError::InvalidRequest)? {
        match field.name() {
            Some("id") => {
                let text = field.text().await.map_err(|_| AttachmentError::InvalidRequest)?;
                id = Some(Uuid::parse_str(text.trim()).map_err(|_| AttachmentError::InvalidId)?.to_string());
            }
            Some("household_id") => {
                let text = field.text().await.map_err(|_| AttachmentError::InvalidRequest)?;
                let id = Uuid::parse_str(text.trim()).map_err(|_| AttachmentError::InvalidRequest)?;
                household_id = Some(id.to_string());
            }
            Some("file") => file = Some(read_file(&mut field, max_bytes).await?),
            _ => {}
        }
    }
    match (household_id, file) {
        (Some(household_id), Some((file_name, bytes))) => Ok(Upload { id, household_id, file_name, bytes }),
        _ => Err(AttachmentError::InvalidRequest),
    }
}

/// A `file` part's name (at most 200 characters) and bytes, refused past `max_bytes`
/// while it is read rather than after.
async fn read_file(
    field: &mut axum::extract::multipart::Field<'_>,
    max_bytes: usize,
) -> Result<(String, Vec<u8>), AttachmentError> {
    let file_name = field.file_name().unwrap_or("file").chars().take(200).collect::<String>();
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|_| AttachmentError::TooLarge)? {
        if bytes.len() + chunk.len() > max_bytes {
            return Err(AttachmentError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((file_name, bytes))
}

/// A photo uploaded from the office for a notice: the `file` part alone.
pub struct Photo {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Reads the `file` part of an office upload, with the phone's size limit and checks.
pub async fn read_photo(mut multipart: Multipart, max_bytes: usize) -> Result<Photo, AttachmentError> {
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(|_| AttachmentError::InvalidRequest)? {
        if field.name() == Some("file") {
            file = Some(read_file(&mut field, max_bytes).await?);
        }
    }
    let (file_name, bytes) = file.ok_or(AttachmentError::InvalidRequest)?;
    Ok(Photo { file_name, bytes })
}

/// The stored file behind a link `l`, as `a`: a link names the id its uploader used,
/// which may be an alias of the file.
const SIZED: &str = "LEFT JOIN attachment_alias x ON x.id = l.attachment_id \
    JOIN attachment a ON a.id = COALESCE(x.attachment_id, l.attachment_id)";

/// Bytes summed over some links; absent when there are none.
#[derive(FromQueryResult)]
struct Total {
    total: Option<i64>,
}

async fn sum(conn: &impl ConnectionTrait, text: &str, key: &str) -> Result<u64, DbErr> {
    let row = Total::find_by_statement(sql(conn.get_database_backend(), text, vec![key.into()])).one(conn).await?;
    Ok(row.and_then(|r| r.total).unwrap_or(0).max(0) as u64)
}

/// Bytes of the attachments `user_id` linked to households or notices (each link counts).
pub async fn used_by_user(conn: &impl ConnectionTrait, user_id: &str) -> Result<u64, DbErr> {
    let households = sum(
        conn,
        &format!("SELECT CAST(SUM(a.size) AS BIGINT) AS total FROM attachment_link l {SIZED} WHERE l.linked_by = ?"),
        user_id,
    )
    .await?;
    let notices = sum(
        conn,
        &format!(
            "SELECT CAST(SUM(a.size) AS BIGINT) AS total FROM attachment_notice_link l {SIZED} WHERE l.linked_by = ?"
        ),
        user_id,
    )
    .await?;
    Ok(households.saturating_add(notices))
}

/// Bytes of the photos linked to `notice_id`; a notice's photos share the per-household
/// quota, a notice being posted where households are.
pub async fn used_by_notice(conn: &impl ConnectionTrait, notice_id: &str) -> Result<u64, DbErr> {
    sum(
        conn,
        &format!(
            "SELECT CAST(SUM(a.size) AS BIGINT) AS total FROM attachment_notice_link l {SIZED} WHERE l.notice_id = ?"
        ),
        notice_id,
    )
    .await
}

/// Bytes of the attachments linked to `household_id`.
pub async fn used_by_household(conn: &impl ConnectionTrait, household_id: &str) -> Result<u64, DbErr> {
    sum(
        conn,
        &format!("SELECT CAST(SUM(a.size) AS BIGINT) AS total FROM attachment_link l {SIZED} WHERE l.household_id = ?"),
        household_id,
    )
    .await
}

/// What an upload's bytes are, read once before its transaction.
struct Content {
    content_type: &'static str,
    sha256: String,
    size: i64,
}

/// Stores an upload for a household the caller may edit, under the phone's id when it
/// sent one (see the module's doc), links it to the household and counts it against the
/// quotas, in one transaction. The same upload again (a retry) answers the same and
/// costs nothing more.
///
/// A former officer may upload only a photo they listed themselves in a visit log or a
/// task's evidence of the household: the edit was accepted from the phone, so its photo
/// is too (DESIGN §5, work "never lost because of a reassignment"). Anything else of
/// theirs stays `assignment_ended`.
pub async fn store(
    db: &Db,
    caller: &Caller,
    upload: Upload,
    quotas: Quotas,
) -> Result<AttachmentResponse, AttachmentError> {
    let household = records::load(&db.conn, &fields::HOUSEHOLD, &upload.household_id, false)
        .await?
        .ok_or(AttachmentError::Refused(ErrorCode::OutOfScope))?;
    let region = household.text("region_code").unwrap_or_default();
    let access = scope::household_access(&db.conn, caller, &household.id, region).await?;
    if let Some(code) = access.online_refusal() {
        let listed = match (&upload.id, access) {
            (Some(id), Access::FormerOfficer) => listed_by(&db.conn, caller, &household.id, id).await?,
            _ => false,
        };
        if !listed {
            return Err(AttachmentError::Refused(code));
        }
    }
    let content = Content {
        content_type: sniff(&upload.bytes).ok_or(AttachmentError::ContentTypeNotAllowed)?,
        sha256: hex::encode(Sha256::digest(&upload.bytes)),
        size: upload.bytes.len() as i64,
    };
    // Two uploads of the same new bytes, or under the same id, at once: the second to
    // write meets a unique key, and looking again finds what the first stored.
    match store_once(db, caller, &household.id, &upload, &content, quotas).await {
        Err(AttachmentError::Db(err)) if is_unique_violation(&err) => {
            store_once(db, caller, &household.id, &upload, &content, quotas).await
        }
        answer => answer,
    }
}

#[derive(FromQueryResult)]
struct IdRow {
    id: String,
}

#[derive(FromQueryResult)]
struct HashRow {
    sha256: String,
}

async fn store_once(
    db: &Db,
    caller: &Caller,
    household_id: &str,
    upload: &Upload,
    content: &Content,
    quotas: Quotas,
) -> Result<AttachmentResponse, AttachmentError> {
    let sha256 = content.sha256.as_str();
    let size = content.size;
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let stored =
        IdRow::find_by_statement(sql(backend, "SELECT id FROM attachment WHERE sha256 = ?", vec![sha256.into()]))
            .one(&*txn)
            .await?
            .map(|row| row.id);
    // The phone's id, if it names a file already: its bytes must be these.
    let named = match &upload.id {
        Some(id) => {
            let hash = HashRow::find_by_statement(sql(
                backend,
                "SELECT a.sha256 FROM attachment a WHERE a.id = ? \
                 UNION ALL SELECT a.sha256 FROM attachment_alias x JOIN attachment a ON a.id = x.attachment_id WHERE x.id = ?",
                vec![id.as_str().into(), id.as_str().into()],
            ))
            .all(&*txn)
            .await?;
            if hash.iter().any(|row| row.sha256 != sha256) {
                return Err(AttachmentError::IdInUse);
            }
            !hash.is_empty()
        }
        None => false,
    };
    // The id this upload is known by: the phone's, else the stored file's, else a new one.
    let id = match (&upload.id, &stored) {
        (Some(id), _) | (None, Some(id)) => id.clone(),
        (None, None) => Uuid::new_v4().to_string(),
    };
    let response = AttachmentResponse { id: Uuid::parse_str(&id).unwrap_or_default(), sha256: sha256.to_owned(), size };
    // Already this household's under this id: a retry, or the same photo again. The
    // caller reads it already, so saying so tells nothing, and it costs nothing more.
    let linked = txn
        .query_one_raw(sql(
            backend,
            "SELECT 1 FROM attachment_link WHERE attachment_id = ? AND household_id = ?",
            vec![id.as_str().into(), household_id.into()],
        ))
        .await?;
    if linked.is_some() {
        txn.rollback().await?;
        return Ok(response);
    }
    // Quotas count this upload at its full size whether its bytes are new or not.
    if used_by_user(&*txn, &caller.user_id).await?.saturating_add(size as u64) > quotas.per_user {
        return Err(AttachmentError::QuotaExceeded("user"));
    }
    if used_by_household(&*txn, household_id).await?.saturating_add(size as u64) > quotas.per_household {
        return Err(AttachmentError::QuotaExceeded("household"));
    }
    let mut alias_of = None;
    match &stored {
        None => {
            txn.execute_raw(sql(
                backend,
                "INSERT INTO attachment (id, sha256, size, content_type, file_name, data, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    id.as_str().into(),
                    sha256.into(),
                    size.into(),
                    content.content_type.into(),
                    upload.file_name.as_str().into(),
                    upload.bytes.clone().into(),
                    caller.user_id.as_str().into(),
                    Utc::now().into(),
                ],
            ))
            .await?;
        }
        Some(file) if *file != id && !named => {
            txn.execute_raw(sql(
                backend,
                "INSERT INTO attachment_alias (id, attachment_id, created_by, created_at) VALUES (?, ?, ?, ?)",
                vec![id.as_str().into(), file.as_str().into(), caller.user_id.as_str().into(), Utc::now().into()],
            ))
            .await?;
            alias_of = Some(file.clone());
        }
        Some(_) => {}
    }
    txn.execute_raw(sql(
        backend,
        "INSERT INTO attachment_link (attachment_id, household_id, linked_by) VALUES (?, ?, ?)",
        vec![id.as_str().into(), household_id.into(), caller.user_id.as_str().into()],
    ))
    .await?;
    let mut detail = serde_json::json!({"household_id": household_id, "sha256": sha256, "size": size});
    if let Some(file) = alias_of {
        detail["alias_of"] = file.into();
    }
    audit::record(
        &*txn,
        &[AuditEntry { new_value: Some(detail.to_string()), ..Actor::of(caller).audit("upload", "attachment", &id) }],
    )
    .await?;
    txn.commit().await?;
    Ok(response)
}

#[derive(FromQueryResult)]
struct WrittenRow {
    action: String,
    field: Option<String>,
    new_value: Option<String>,
}

/// Whether the caller put `id` in the photos of a visit log, or the evidence of a plan
/// task, of the household, and it is still there. Who put it there is read from the
/// audit (their own create or update of that list): a visit log's `officer_id` says
/// who made the visit and a task's who is responsible, neither who added the photo.
async fn listed_by(conn: &impl ConnectionTrait, caller: &Caller, household_id: &str, id: &str) -> Result<bool, DbErr> {
    for (entity, field) in [(&fields::VISIT_LOG, "attachment_ids"), (&fields::PLAN_TASK, "evidence_ids")] {
        let records = records::load_by_households(conn, entity, &[household_id.to_owned()]).await?;
        for record in records.iter().filter(|r| r.list(field).iter().any(|listed| listed == id)) {
            let written = WrittenRow::find_by_statement(sql(
                conn.get_database_backend(),
                "SELECT action, field, new_value FROM audit_log WHERE entity = ? AND entity_id = ? AND user_id = ?",
                vec![entity.name.into(), record.id.as_str().into(), caller.user_id.as_str().into()],
            ))
            .all(conn)
            .await?;
            if written.iter().any(|row| wrote(row, field, id)) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Whether an audit entry wrote `id` into the list `field`: a create holds the whole
/// record, an update of the field the list.
fn wrote(row: &WrittenRow, field: &str, id: &str) -> bool {
    let Some(value) = row.new_value.as_deref().and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok()) else {
        return false;
    };
    let list = match (row.action.as_str(), row.field.as_deref()) {
        ("create", None) => &value[field],
        ("update", Some(f)) if f == field => &value,
        _ => return false,
    };
    list.as_array().is_some_and(|items| items.iter().any(|item| item.as_str() == Some(id)))
}

/// The types a posting photo may have: a camera's or a screenshot's, nothing to print.
const PHOTO_TYPES: [&str; 2] = ["image/jpeg", "image/png"];

/// A photo linked to a notice: its id, and whether this upload linked it (false: the
/// same bytes were already this notice's, and nothing was added).
pub struct NoticePhoto {
    pub id: String,
    pub added: bool,
}

/// Stores `photo` (once per content hash, as [`store`] does) and links it to the notice,
/// within the caller's transaction: the notice's side (who may post, the notice's
/// state, its list of postings) is decided by `notices`, which holds the transaction.
/// A link that exists already adds nothing and costs nothing; a new one counts against
/// the uploader's quota and the notice's, at full size whether the bytes were new or not.
pub async fn link_to_notice(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    notice_id: &str,
    photo: Photo,
    quotas: Quotas,
) -> Result<NoticePhoto, AttachmentError> {
    let content_type =
        sniff(&photo.bytes).filter(|kind| PHOTO_TYPES.contains(kind)).ok_or(AttachmentError::ContentTypeNotAllowed)?;
    let sha256 = hex::encode(Sha256::digest(&photo.bytes));
    let size = photo.bytes.len() as i64;
    let backend = conn.get_database_backend();
    let existing = conn
        .query_one_raw(sql(backend, "SELECT id FROM attachment WHERE sha256 = ?", vec![sha256.as_str().into()]))
        .await?
        .map(|row| row.try_get::<String>("", "id"))
        .transpose()?;
    if let Some(id) = &existing {
        let linked = conn
            .query_one_raw(sql(
                backend,
                "SELECT 1 FROM attachment_notice_link WHERE attachment_id = ? AND notice_id = ?",
                vec![id.as_str().into(), notice_id.into()],
            ))
            .await?;
        if linked.is_some() {
            return Ok(NoticePhoto { id: id.clone(), added: false });
        }
    }
    if used_by_user(conn, &caller.user_id).await?.saturating_add(size as u64) > quotas.per_user {
        return Err(AttachmentError::QuotaExceeded("user"));
    }
    if used_by_notice(conn, notice_id).await?.saturating_add(size as u64) > quotas.per_household {
        return Err(AttachmentError::QuotaExceeded("notice"));
    }
    // ON CONFLICT rather than a failed statement: on PostgreSQL that would end the
    // caller's transaction, and a concurrent upload of the same bytes is no error.
    if existing.is_none() {
        conn.execute_raw(sql(
            backend,
            "INSERT INTO attachment (id, sha256, size, content_type, file_name, data, uploaded_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
            vec![
                Uuid::new_v4().to_string().into(),
                sha256.as_str().into(),
                size.into(),
                content_type.into(),
                photo.file_name.into(),
                photo.bytes.into(),
                caller.user_id.as_str().into(),
                Utc::now().into(),
            ],
        ))
        .await?;
    }
    let id = conn
        .query_one_raw(sql(backend, "SELECT id FROM attachment WHERE sha256 = ?", vec![sha256.as_str().into()]))
        .await?
        .map(|row| row.try_get::<String>("", "id"))
        .transpose()?
        .ok_or(AttachmentError::NotFound)?;
    let linked = conn
        .execute_raw(sql(
            backend,
            "INSERT INTO attachment_notice_link (attachment_id, notice_id, linked_by, linked_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (attachment_id, notice_id) DO NOTHING",
            vec![id.as_str().into(), notice_id.into(), caller.user_id.as_str().into(), Utc::now().into()],
        ))
        .await?;
    if linked.rows_affected() == 0 {
        return Ok(NoticePhoto { id, added: false });
    }
    audit::record(
        conn,
        &[AuditEntry {
            new_value: Some(format!("{{\"notice_id\":\"{notice_id}\",\"sha256\":\"{sha256}\",\"size\":{size}}}")),
            ..Actor::of(caller).audit("upload", "attachment", &id)
        }],
    )
    .await?;
    Ok(NoticePhoto { id, added: true })
}

/// A stored attachment as it is served.
pub struct Download {
    /// Read again from the bytes (files stored before types were checked included);
    /// `application/octet-stream` for one that is none of the allowed types.
    pub content_type: &'static str,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A household an attachment is linked to.
#[derive(FromQueryResult)]
struct Link {
    household_id: String,
    region_code: String,
}

#[derive(FromQueryResult)]
struct Stored {
    file_name: String,
    data: Vec<u8>,
    alias_of: Option<String>,
}

/// The attachment, if the caller can read one of the households it is linked to under
/// this id (or a notice it shows). An unknown id and one the caller may not read are the
/// same `NotFound`. An alias serves its file's bytes, but not the name another uploader
/// gave them.
pub async fn load(db: &Db, caller: &Caller, id: &str) -> Result<Download, AttachmentError> {
    let backend = db.backend();
    let links = Link::find_by_statement(sql(
        backend,
        "SELECT h.id AS household_id, h.region_code FROM attachment_link l JOIN household h ON h.id = l.household_id WHERE l.attachment_id = ?",
        vec![id.into()],
    ))
    .all(&db.conn)
    .await?;
    let mut allowed = false;
    for link in &links {
        if scope::household_access(&db.conn, caller, &link.household_id, &link.region_code).await?.may_read() {
            allowed = true;
            break;
        }
    }
    if !allowed {
        allowed = reads_a_notice_of(db, caller, id).await?;
    }
    if !allowed {
        return Err(AttachmentError::NotFound);
    }
    let stored = Stored::find_by_statement(sql(
        backend,
        "SELECT a.file_name, a.data, x.attachment_id AS alias_of FROM attachment a \
         LEFT JOIN attachment_alias x ON x.id = ? WHERE a.id = COALESCE(x.attachment_id, ?)",
        vec![id.into(), id.into()],
    ))
    .one(&db.conn)
    .await?
    .ok_or(AttachmentError::NotFound)?;
    let content_type = sniff(&stored.data).unwrap_or("application/octet-stream");
    let file_name = match stored.alias_of {
        Some(_) => format!("{id}.{}", extension(content_type)),
        None => stored.file_name,
    };
    Ok(Download { content_type, file_name, bytes: stored.data })
}

/// The file name extension for a served type.
pub fn extension(content_type: &str) -> &str {
    match content_type {
        "image/jpeg" => "jpg",
        "application/octet-stream" => "bin",
        other => other.rsplit('/').next().unwrap_or("bin"),
    }
}

/// Whether the caller reads a notice the attachment is a posting photo of, by the
/// notices' own read rule (`records::scope::notices_condition`, which their lists use).
async fn reads_a_notice_of(db: &Db, caller: &Caller, id: &str) -> Result<bool, DbErr> {
    let Some((scope, scope_values)) = scope::notices_condition(caller, "n") else {
        return Ok(false);
    };
    let mut values: Vec<sea_orm::Value> = vec![id.into()];
    values.extend(scope_values);
    let text = format!(
        "SELECT COUNT(*) AS n FROM attachment_notice_link l JOIN notice n ON n.id = l.notice_id \
         WHERE l.attachment_id = ? AND {scope}"
    );
    #[derive(FromQueryResult)]
    struct Count {
        n: i64,
    }
    let row = Count::find_by_statement(sql(db.backend(), &text, values)).one(&db.conn).await?;
    Ok(row.is_some_and(|r| r.n > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_comes_from_the_bytes() {
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"RIFF\x24\x00\x00\x00WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"<html><script>alert(1)</script></html>"), None);
        assert_eq!(sniff(b"MZ\x90\x00\x03\x00\x00\x00"), None, "a Windows executable");
        assert_eq!(sniff(b"GIF89a"), None, "not on the list");
        assert_eq!(sniff(b""), None);
    }
}
