//! Attachments (photos of visits, evidence): stored once per content hash, linked to
//! the households they belong to, and served only to callers who can read one of them.

use crate::auth::Caller;
use crate::db::{Db, is_unique_violation, sql};
use crate::http::error::ApiError;
use crate::sync::records;
use crate::sync::scope;
use axum::extract::Multipart;
use axum::http::StatusCode;
use chrono::Utc;
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::fields;
use jingzhun_mobile_api::wire::AttachmentResponse;
use sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub struct Upload {
    pub household_id: String,
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

fn too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::AttachmentTooLarge)
}

/// Reads the `household_id` and `file` parts, refusing a file over `max_bytes`.
pub async fn read_upload(mut multipart: Multipart, max_bytes: usize) -> Result<Upload, ApiError> {
    let mut household_id = None;
    let mut file = None;
    while let Some(mut field) =
        multipart.next_field().await.map_err(|_| ApiError::bad_request(ErrorCode::InvalidRequest))?
    {
        match field.name() {
            Some("household_id") => {
                let text = field.text().await.map_err(|_| ApiError::bad_request(ErrorCode::InvalidRequest))?;
                let id = Uuid::parse_str(text.trim()).map_err(|_| ApiError::bad_request(ErrorCode::InvalidRequest))?;
                household_id = Some(id.to_string());
            }
            Some("file") => {
                let file_name = field.file_name().unwrap_or("file").chars().take(200).collect::<String>();
                let content_type =
                    field.content_type().unwrap_or("application/octet-stream").chars().take(100).collect::<String>();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| too_large())? {
                    if bytes.len() + chunk.len() > max_bytes {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some((file_name, content_type, bytes));
            }
            _ => {}
        }
    }
    match (household_id, file) {
        (Some(household_id), Some((file_name, content_type, bytes))) => {
            Ok(Upload { household_id, file_name, content_type, bytes })
        }
        _ => Err(ApiError::bad_request(ErrorCode::InvalidRequest)),
    }
}

pub async fn store(db: &Db, caller: &Caller, upload: Upload) -> Result<AttachmentResponse, ApiError> {
    let household = records::load(&db.conn, &fields::HOUSEHOLD, &upload.household_id, false)
        .await?
        .ok_or_else(ApiError::out_of_scope)?;
    let region = household.text("region_code").unwrap_or_default();
    if !scope::household_access(&db.conn, caller, &household.id, region).await?.may_edit() {
        return Err(ApiError::out_of_scope());
    }
    let sha256 = hex::encode(Sha256::digest(&upload.bytes));
    let size = upload.bytes.len() as i64;
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let existing = txn
        .query_one_raw(sql(backend, "SELECT id FROM attachment WHERE sha256 = ?", vec![sha256.as_str().into()]))
        .await?;
    let id = match existing {
        Some(row) => row.try_get_by_index::<String>(0)?,
        None => {
            let id = Uuid::new_v4().to_string();
            txn.execute_raw(sql(
                backend,
                "INSERT INTO attachment (id, sha256, size, content_type, file_name, data, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    id.as_str().into(),
                    sha256.as_str().into(),
                    size.into(),
                    upload.content_type.into(),
                    upload.file_name.into(),
                    upload.bytes.into(),
                    caller.user_id.as_str().into(),
                    Utc::now().into(),
                ],
            ))
            .await?;
            id
        }
    };
    let linked = txn
        .execute_raw(sql(
            backend,
            "INSERT INTO attachment_link (attachment_id, household_id) VALUES (?, ?)",
            vec![id.as_str().into(), household.id.as_str().into()],
        ))
        .await;
    match linked {
        Ok(_) => {}
        // Already linked: the same photo uploaded again.
        Err(err) if is_unique_violation(&err) => {
            txn.rollback().await?;
            return Ok(AttachmentResponse { id: Uuid::parse_str(&id).unwrap_or_default(), sha256, size });
        }
        Err(err) => return Err(err.into()),
    }
    crate::audit::record(
        &*txn,
        &[crate::audit::AuditEntry {
            user_id: Some(caller.user_id.clone()),
            device_id: Some(caller.device_id.clone()),
            action: "upload".into(),
            entity: "attachment".into(),
            entity_id: id.clone(),
            new_value: Some(format!(
                "{{\"household_id\":\"{}\",\"sha256\":\"{sha256}\",\"size\":{size}}}",
                household.id
            )),
            ..Default::default()
        }],
    )
    .await?;
    txn.commit().await?;
    Ok(AttachmentResponse { id: Uuid::parse_str(&id).unwrap_or_default(), sha256, size })
}

/// The attachment's content type and bytes, if the caller can read one of its households.
pub async fn load(db: &Db, caller: &Caller, id: &str) -> Result<(String, Vec<u8>), ApiError> {
    let backend = db.backend();
    let links = db
        .conn
        .query_all_raw(sql(
            backend,
            "SELECT h.id, h.region_code FROM attachment_link l JOIN household h ON h.id = l.household_id WHERE l.attachment_id = ?",
            vec![id.into()],
        ))
        .await?;
    if links.is_empty() {
        return Err(ApiError::not_found());
    }
    let mut allowed = false;
    for link in &links {
        let household_id: String = link.try_get_by_index(0)?;
        let region: String = link.try_get_by_index(1)?;
        if scope::household_access(&db.conn, caller, &household_id, &region).await?.may_read() {
            allowed = true;
            break;
        }
    }
    if !allowed {
        return Err(ApiError::out_of_scope());
    }
    let row = db
        .conn
        .query_one_raw(sql(backend, "SELECT content_type, data FROM attachment WHERE id = ?", vec![id.into()]))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
}
