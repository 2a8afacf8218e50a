//! `/api/mobile/v1`: the phone contract (DESIGN §5). Handlers parse, call the sync
//! engine, and map the result.

use super::error::ApiResult;
use super::extract::{AppJson, Pusher};
use crate::assess;
use crate::attachments;
use crate::auth::Caller;
use crate::error::{Kind, Refusal};
use crate::registry;
use crate::state::AppState;
use crate::sync::{self, conflicts, pull, push};
use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::wire::{
    AttachmentResponse, ChangeSetStatus, ErrorMessage, PoliciesResponse, PullResponse, PushRequest, PushResponse,
    SchemaResponse, SyncStatus,
};
use jingzhun_mobile_api::{codes, fields};
use serde::Deserialize;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use uuid::Uuid;

/// Applies change sets in the order sent, each all-or-nothing.
#[utoipa::path(post, path = "/api/mobile/v1/sync/push", tag = "mobile",
    request_body = PushRequest,
    responses((status = 200, body = PushResponse), (status = 401), (status = 413)),
    security(("bearer" = [])))]
pub async fn push_changes(
    State(state): State<AppState>,
    Pusher(caller): Pusher,
    AppJson(req): AppJson<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    let limits = &state.config.sync;
    if req.changesets.len() > limits.max_changesets_per_push
        || req.changesets.iter().any(|cs| cs.changes.len() > limits.max_changes_per_changeset)
    {
        return Err(Refusal::new(Kind::TooLarge, ErrorCode::PayloadTooLarge));
    }
    let draining = caller.draining;
    let rules = push::Rules::from_config(&state.config.sync, state.clock.now());
    let results = state.pushes.push(caller, req.changesets, rules).await?;
    for result in &results {
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
    }
    Ok(Json(PushResponse { results, wipe: draining }))
}

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
    Ok(Json(sync::status::of(&state.db, &caller).await?))
}

/// `SchemaResponse` as the phones receive it, typed for the OpenAPI document: the wire
/// type carries the catalogue as JSON (`codes::ALL`, `fields::ENTITIES` serialized), which
/// would be documented as "any". Never built; the e2e test `record_views` holds the served
/// keys to these.
#[derive(utoipa::ToSchema)]
#[schema(as = SchemaResponse)]
#[allow(dead_code)]
pub struct SchemaDocument {
    pub protocol_version: u32,
    pub min_client_version: u32,
    pub code_tables: Vec<CatalogueCodeTable>,
    pub entities: Vec<CatalogueEntity>,
    /// The most changes one change set may hold; a larger one is refused whole (413).
    pub max_changes_per_changeset: usize,
    /// The most change sets one push may hold.
    pub max_changesets_per_push: usize,
    /// Every error code with its Chinese and English message (`ErrorCode::ALL`), for a
    /// phone to show the server's words offline.
    pub error_messages: Vec<ErrorMessage>,
}

/// A code table (`codes::CodeTable`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct CatalogueCodeTable {
    pub name: String,
    pub label: String,
    pub codes: Vec<CatalogueCode>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct CatalogueCode {
    pub code: String,
    pub label: String,
}

/// A synced entity (`fields::EntitySpec`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct CatalogueEntity {
    pub name: String,
    pub table: String,
    pub fields: Vec<CatalogueField>,
    /// Phones may delete it (otherwise removal goes through a procedure).
    pub deletable: bool,
}

/// A field (`fields::FieldSpec`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct CatalogueField {
    pub name: String,
    pub label: String,
    pub kind: CatalogueFieldKind,
    pub policy: CataloguePolicy,
    /// Must be present on create.
    pub required: bool,
}

/// What a field holds (`fields::FieldKind`, tagged by `type`); the bounds its kind has.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct CatalogueFieldKind {
    /// `text`, `int`, `money`, `decimal`, `bool`, `date`, `uuid`, `uuid_list`, `code`,
    /// `codes`, `id_number`, `phone`, `region_code`, `bank_account`.
    #[schema(rename = "type")]
    pub kind: String,
    pub max_chars: Option<usize>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// The code table of a `code` or `codes` field.
    pub table: Option<String>,
}

/// How concurrent edits of a field merge (`fields::Policy`).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum CataloguePolicy {
    Lww,
    Manual,
    CreateOnly,
    ReadOnly,
}

/// Code tables, the field catalogue and the protocol version.
#[utoipa::path(get, path = "/api/mobile/v1/schema", tag = "mobile",
    responses((status = 200, body = SchemaDocument), (status = 426, description = "upgrade_required")))]
pub async fn schema(State(state): State<AppState>) -> Json<SchemaResponse> {
    Json(SchemaResponse {
        protocol_version: jingzhun_mobile_api::PROTOCOL_VERSION,
        min_client_version: state.config.sync.min_client_version,
        code_tables: serde_json::to_value(codes::ALL).unwrap_or_default(),
        entities: serde_json::to_value(fields::ENTITIES).unwrap_or_default(),
        max_changes_per_changeset: state.config.sync.max_changes_per_changeset,
        max_changesets_per_push: state.config.sync.max_changesets_per_push,
        error_messages: ErrorMessage::all(),
    })
}

/// Uploads a photo or document for a household. The phone names it with part `id` (a
/// UUID made when the photo was taken, which a visit log or a task's evidence may list
/// before the upload): the answer carries that id, and sending it again is a retry that
/// changes and costs nothing. Without `id` the same bytes give the same id. Only JPEG,
/// PNG, WebP and PDF are kept, as the bytes show them (not as the phone says). Every new
/// link counts against the uploader's and the household's quota at its full size, bytes
/// already stored or not. A former officer may upload only a photo they listed
/// themselves in a visit log or a task's evidence of the household.
#[utoipa::path(post, path = "/api/mobile/v1/attachments", tag = "mobile",
    request_body(content_type = "multipart/form-data",
        description = "parts `household_id` (UUID), `file` (the bytes) and, optional, `id` (the UUID the phone gave the photo)"),
    responses((status = 200, body = AttachmentResponse),
        (status = 400, description = "invalid_request: a part is missing, or `household_id` or `id` is not a UUID (field `id`, invalid_type)"),
        (status = 401, description = "device_revoked: a device revoked in `wipe` mode (a `drain` one may upload as it may push)"),
        (status = 403, description = "out_of_scope, or assignment_ended for a former officer (unless the photo is one they listed)"),
        (status = 409, description = "attachment_id_in_use: the `id` names a file with other bytes"),
        (status = 413, description = "attachment_too_large (sync.attachment_max_bytes), or quota_exceeded: the user's or the household's quota ([uploads]) is used up"),
        (status = 415, description = "content_type_not_allowed: the bytes are not a JPEG, PNG, WebP image or a PDF")),
    security(("bearer" = [])))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    // A drained phone delivers what it holds before it wipes: its photos as well as its
    // change sets (a visit log naming a photo that never came would be half an edit).
    Pusher(caller): Pusher,
    multipart: Multipart,
) -> ApiResult<Json<AttachmentResponse>> {
    let upload = attachments::read_upload(multipart, state.config.sync.attachment_max_bytes).await?;
    let quotas = attachments::Quotas::from_config(&state.config.uploads);
    Ok(Json(attachments::store(&state.db, &caller, upload, quotas).await?))
}

/// Downloads an attachment of a household in scope, always as a download (`attachment`,
/// `nosniff`) with the type its bytes show. An unknown id and one out of scope are both 404.
#[utoipa::path(get, path = "/api/mobile/v1/attachments/{id}", tag = "mobile",
    params(("id" = Uuid, Path)), responses((status = 200, content_type = "application/octet-stream",
        description = "the bytes, as image/jpeg, image/png, image/webp or application/pdf"), (status = 404, description = "not_found: unknown, or not in the caller's scope")),
    security(("bearer" = [])))]
pub async fn download_attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let download = attachments::load(&state.db, &caller, &id.to_string()).await?;
    let extension = attachments::extension(download.content_type);
    let disposition =
        crate::reports::write::content_disposition(&download.file_name, &format!("attachment-{id}.{extension}"));
    let mut headers = HeaderMap::new();
    headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static(download.content_type));
    headers.insert(axum::http::header::X_CONTENT_TYPE_OPTIONS, axum::http::HeaderValue::from_static("nosniff"));
    if let Ok(value) = disposition.parse() {
        headers.insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    Ok((headers, download.bytes).into_response())
}

/// The rule choices of the regions the caller's households lie in, for the phone's
/// offline preview of R1 (whether the basic pension counts as income).
#[utoipa::path(get, path = "/api/mobile/v1/policies", tag = "mobile",
    responses((status = 200, body = PoliciesResponse), (status = 401)), security(("bearer" = [])))]
pub async fn policies(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PoliciesResponse>> {
    Ok(Json(PoliciesResponse { regions: assess::policy::in_scope(&state.db.conn, &caller).await? }))
}

/// The villages the caller may file a new household in (inside their roles' regions),
/// with names, for the officer app's 新户申请; the push checks the village again.
#[utoipa::path(get, path = "/api/mobile/v1/villages", tag = "mobile",
    responses((status = 200, body = [registry::regions::Village]), (status = 401)), security(("bearer" = [])))]
pub async fn villages(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<registry::regions::Village>>> {
    Ok(Json(registry::regions::villages_in_scope(&state.db.conn, &caller).await?))
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
    let resolved = conflicts::resolve(&state.db, &caller, &id.to_string(), req.resolution).await?;
    Ok(Json(conflicts::to_json(&resolved)))
}

/// The phone's routes, except signing in (`auth`). A phone older than the minimum
/// protocol version is told to upgrade on all of them but push (`client_version`).
pub fn routes(config: &crate::config::Config) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(push_changes))
        .routes(routes!(pull_changes))
        .routes(routes!(status))
        .routes(routes!(schema))
        // Photos are larger than JSON bodies; the handler enforces the exact limit.
        .routes(routes!(upload_attachment).layer(DefaultBodyLimit::max(config.sync.attachment_max_bytes + 64 * 1024)))
        .routes(routes!(download_attachment))
        .routes(routes!(resolve_conflict))
        .routes(routes!(policies))
        .routes(routes!(villages))
}
