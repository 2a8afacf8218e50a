//! `/api/mobile/v1`: the phone contract (DESIGN §5). Handlers parse, call the sync
//! engine, and map the result.

use super::error::{ApiError, ApiResult};
use super::extract::AppJson;
use crate::app::AppState;
use crate::attachments;
use crate::auth::{self, Caller};
use crate::db::entities::{app_user, device};
use crate::sync::{conflicts, pull, push, scope};
use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::wire::{
    AttachmentResponse, ChangeSetStatus, LoginRequest, LoginResponse, PullResponse, PushRequest, PushResponse,
    SchemaResponse, SyncStatus, UserInfo,
};
use jingzhun_mobile_api::{codes, fields};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

/// Signs a user in on a device and returns a token bound to it.
#[utoipa::path(post, path = "/api/mobile/v1/auth/login", tag = "mobile",
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, description = "invalid_credentials or device_revoked")))]
pub async fn login(
    State(state): State<AppState>,
    AppJson(req): AppJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    Ok(Json(login_user(&state, &req).await?))
}

pub async fn login_user(state: &AppState, req: &LoginRequest) -> ApiResult<LoginResponse> {
    let device_id = req.device_id.trim();
    if device_id.is_empty() || device_id.len() > 100 {
        return Err(ApiError::bad_request(ErrorCode::InvalidRequest));
    }
    let user =
        app_user::Entity::find().filter(app_user::Column::Username.eq(req.username.trim())).one(&state.db.conn).await?;
    // Hash even for an unknown user, so timing does not tell which usernames exist.
    let hash = user.as_ref().map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let password = req.password.clone();
    // Each check takes ~19 MiB and a core for a moment: at most one per core at a time,
    // so a burst of logins queues instead of exhausting memory.
    let permit = PASSWORD_CHECKS.acquire().await.map_err(ApiError::internal)?;
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash)).await.unwrap_or(false);
    drop(permit);
    let user = match user {
        Some(user) if ok && user.active => user,
        _ => return Err(ApiError::unauthorized(ErrorCode::InvalidCredentials)),
    };
    let now = Utc::now();
    match device::Entity::find_by_id(device_id.to_owned()).one(&state.db.conn).await? {
        Some(existing) if existing.revoked_mode.is_some() => {
            return Err(auth::tokens::revoked_error(existing.revoked_mode.as_deref().unwrap_or("wipe")));
        }
        Some(existing) => {
            let mut model: device::ActiveModel = existing.into();
            model.user_id = Set(user.id.clone());
            model.last_seen_at = Set(Some(now));
            if !req.device_name.is_empty() {
                model.name = Set(req.device_name.clone());
            }
            model.update(&state.db.conn).await?;
        }
        None => {
            device::ActiveModel {
                id: Set(device_id.to_owned()),
                user_id: Set(user.id.clone()),
                name: Set(req.device_name.clone()),
                revoked_mode: Set(None),
                revoked_at: Set(None),
                revoked_by: Set(None),
                created_at: Set(now),
                last_seen_at: Set(Some(now)),
            }
            .insert(&state.db.conn)
            .await?;
        }
    }
    let (token, expires_at) =
        auth::tokens::issue(&state.db, &user.id, device_id, state.config.auth.token_ttl_hours).await?;
    let grants = auth::tokens::grants_of(&state.db.conn, &user.id).await?;
    let mut roles: Vec<String> = grants.iter().map(|g| g.role.as_str().to_owned()).collect();
    roles.dedup();
    Ok(LoginResponse {
        token,
        expires_at: expires_at.to_rfc3339(),
        user: UserInfo {
            id: Uuid::parse_str(&user.id).unwrap_or_default(),
            username: user.username,
            name: user.name,
            roles,
            regions: grants.into_iter().map(|g| g.region_code).collect(),
        },
    })
}

static PASSWORD_CHECKS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
});

/// A hash verified against when the user does not exist.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password(&auth::random_password()).unwrap_or_default());

/// Applies change sets in the order sent, each all-or-nothing.
#[utoipa::path(post, path = "/api/mobile/v1/sync/push", tag = "mobile",
    request_body = PushRequest,
    responses((status = 200, body = PushResponse), (status = 401), (status = 413)),
    security(("bearer" = [])))]
pub async fn push_changes(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    let limits = &state.config.sync;
    if req.changesets.len() > limits.max_changesets_per_push
        || req.changesets.iter().any(|cs| cs.changes.len() > limits.max_changes_per_changeset)
    {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge));
    }
    let mut results = Vec::with_capacity(req.changesets.len());
    for changeset in &req.changesets {
        let rules = push::Rules::from_config(&state.config.sync, state.clock.now());
        let result = push::apply_changeset_with(&state.db, &caller, changeset, &rules).await?;
        let status = match result.status {
            ChangeSetStatus::Applied => "applied",
            ChangeSetStatus::Duplicate => "duplicate",
            ChangeSetStatus::Rejected => "rejected",
        };
        state.metrics.changesets.with_label_values(&[status]).inc();
        if result.status == ChangeSetStatus::Applied {
            for change in &result.changes {
                state.metrics.changes_applied.with_label_values(&[change.entity.as_str()]).inc();
                if !change.conflicts.is_empty() {
                    state
                        .metrics
                        .conflicts_opened
                        .with_label_values(&[change.entity.as_str()])
                        .inc_by(change.conflicts.len() as u64);
                }
            }
        }
        results.push(result);
    }
    Ok(Json(PushResponse { results, wipe: caller.draining }))
}

        max_changes_per_changeset: state.config.sync.max_changes_per_changeset,
        max_changesets_per_push: state.config.sync.max_changesets_per_push,
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PullParams {
    /// Opaque cursor from the previous page; absent for a first pull.
    pub cursor: Option<String>,
    /// Most records in the page.
    pub limit: Option<u64>,
}

/// What changed in the caller's scope since the cursor.
#[utoipa::path(get, path = "/api/mobile/v1/sync/pull", tag = "mobile", params(PullParams),
    responses((status = 200, body = PullResponse), (status = 410, description = "cursor_expired"), (status = 426)),
    security(("bearer" = [])))]
pub async fn pull_changes(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PullParams>,
) -> ApiResult<Json<PullResponse>> {
    let limit = params.limit.unwrap_or(500).clamp(1, state.config.sync.max_page);
    Ok(Json(pull::pull(&state.db, &caller, params.cursor.as_deref(), limit).await?))
}

/// The device's sync state: last change set applied, open conflicts, rejected change sets, scope size.
#[utoipa::path(get, path = "/api/mobile/v1/sync/status", tag = "mobile",
    responses((status = 200, body = SyncStatus)), security(("bearer" = [])))]
pub async fn status(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<SyncStatus>> {
    let db = &state.db;
    let backend = db.backend();
    let last = db
        .conn
        .query_one_raw(crate::db::sql(
            backend,
            "SELECT changeset_id, received_at FROM changeset_receipt WHERE device_id = ? AND status = 'applied' ORDER BY received_at DESC LIMIT 1",
            vec![caller.device_id.as_str().into()],
        ))
        .await?;
    let (last_id, last_at) = match last {
        Some(row) => {
            let id: String = row.try_get_by_index(0)?;
            let at: chrono::DateTime<Utc> = row.try_get_by_index(1)?;
            (Uuid::parse_str(&id).ok(), Some(at.to_rfc3339()))
        }
        None => (None, None),
    };
    let (cond, values) = scope::households_condition(
        &caller,
        "household_id",
        "(SELECT region_code FROM household h WHERE h.id = household_id)",
    );
    let open_conflicts = crate::db::query_scalar_i64(
        &db.conn,
        crate::db::sql(
            backend,
            &format!("SELECT COUNT(*) FROM sync_conflict WHERE status = 'open' AND {cond}"),
            values,
        ),
    )
    .await?
    .unwrap_or(0);
    let rejected = crate::db::query_scalar_i64(
        &db.conn,
        crate::db::sql(
            backend,
            "SELECT COUNT(*) FROM changeset_receipt WHERE device_id = ? AND status = 'rejected'",
            vec![caller.device_id.as_str().into()],
        ),
    )
    .await?
    .unwrap_or(0);
    Ok(Json(SyncStatus {
        last_applied_changeset: last_id,
        last_applied_at: last_at,
        open_conflicts,
        rejected_changesets: rejected,
        scope_households: scope::scope_size(&db.conn, &caller).await?,
        server_time: Utc::now().to_rfc3339(),
    }))
}

/// Code tables, the field catalogue and the protocol version.
#[utoipa::path(get, path = "/api/mobile/v1/schema", tag = "mobile",
    responses((status = 200, body = SchemaResponse), (status = 426, description = "upgrade_required")))]
pub async fn schema(State(state): State<AppState>) -> Json<SchemaResponse> {
    Json(SchemaResponse {
        protocol_version: jingzhun_mobile_api::PROTOCOL_VERSION,
        min_client_version: state.config.sync.min_client_version,
        code_tables: serde_json::to_value(codes::ALL).unwrap_or_default(),
        entities: serde_json::to_value(fields::ENTITIES).unwrap_or_default(),
    })
}

/// Uploads a photo or document for a household; the same bytes give the same id.
#[utoipa::path(post, path = "/api/mobile/v1/attachments", tag = "mobile",
    request_body(content_type = "multipart/form-data", description = "parts `household_id` and `file`"),
    responses((status = 200, body = AttachmentResponse), (status = 403), (status = 413)),
    security(("bearer" = [])))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Multipart,
) -> ApiResult<Json<AttachmentResponse>> {
    let upload = attachments::read_upload(multipart, state.config.sync.attachment_max_bytes).await?;
    Ok(Json(attachments::store(&state.db, &caller, upload).await?))
}

/// Downloads an attachment of a household in scope.
#[utoipa::path(get, path = "/api/mobile/v1/attachments/{id}", tag = "mobile",
    params(("id" = Uuid, Path)), responses((status = 200, content_type = "application/octet-stream"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn download_attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let (content_type, data) = attachments::load(&state.db, &caller, &id.to_string()).await?;
    let mut headers = HeaderMap::new();
    if let Ok(value) = content_type.parse() {
        headers.insert(axum::http::header::CONTENT_TYPE, value);
    }
    Ok((headers, data).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResolveRequest {
    pub resolution: conflicts::Resolution,
}

/// Resolves a conflict from the phone (or, on `/api/v1`, by a supervisor).
#[utoipa::path(post, path = "/api/mobile/v1/conflicts/{id}/resolve", tag = "mobile",
    params(("id" = Uuid, Path)), request_body = ResolveRequest,
    responses((status = 200, description = "the resolved conflict"), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn resolve_conflict(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(req): AppJson<ResolveRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    super::admin::resolve_in_scope(&state, &caller, &id.to_string(), req.resolution).await
}
