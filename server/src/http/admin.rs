//! `/api/v1`: the administration API used by county staff, supervisors and tests:
//! regions, users, assignments, devices (`registry`), conflicts, rejected change sets
//! and compaction (`sync`), households and their audit trail (`registry::households`).
//! Handlers parse, call the service and map; who may do what, and every query, is the
//! service's.

use super::error::ApiResult;
use super::extract::AppJson;
use crate::audit::KeptEntry;
use crate::auth::{Caller, Role};
use crate::db::entities::{assignment, device};
use crate::registry::households::{HouseholdFields, HouseholdFilter, WholeHousehold};
use crate::registry::{self, Actor, devices::RevokeMode};
use crate::state::AppState;
use crate::sync::{self, conflicts, receipts};
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

// ---- regions -------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegionBody {
    pub code: String,
    pub name: String,
    /// province, city, county, township, village, natural_village
    pub level: String,
    pub parent_code: Option<String>,
    /// On answers: the part of the code the region's descendants share, as a grant over
    /// it and a rule variant for it read it (`auth::roles::region_prefix`). Ignored on a
    /// request.
    #[serde(default)]
    pub prefix: Option<String>,
}

impl RegionBody {
    fn answer(code: String, name: String, level: String, parent_code: Option<String>) -> RegionBody {
        let prefix = Some(crate::auth::roles::region_prefix(&code).to_owned());
        RegionBody { code, name, level, parent_code, prefix }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RegionParams {
    pub parent_code: Option<String>,
}

/// Regions, optionally the children of one.
#[utoipa::path(get, path = "/api/v1/regions", tag = "admin", params(RegionParams), responses((status = 200, body = [RegionBody])), security(("bearer" = [])))]
pub async fn list_regions(
    State(state): State<AppState>,
    _caller: Caller,
    Query(params): Query<RegionParams>,
) -> ApiResult<Json<Vec<RegionBody>>> {
    let regions = registry::regions::list(&state.db.conn, params.parent_code).await?;
    Ok(Json(regions.into_iter().map(|r| RegionBody::answer(r.code, r.name, r.level, r.parent_code)).collect()))
}

/// Adds a region under one the caller manages. Its level and parent follow from its code
/// (`parent_code` may be left out); a level or parent that disagrees is refused.
#[utoipa::path(post, path = "/api/v1/regions", tag = "admin", request_body = RegionBody, responses((status = 200, body = RegionBody), (status = 403), (status = 409), (status = 422, description = "region_code_level")), security(("bearer" = [])))]
pub async fn create_region(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<RegionBody>,
) -> ApiResult<Json<RegionBody>> {
    let r = registry::regions::create(
        &state.db,
        &Actor::of(&caller),
        registry::regions::NewRegion {
            code: body.code,
            name: body.name,
            level: body.level,
            parent_code: body.parent_code,
        },
    )
    .await?;
    Ok(Json(RegionBody::answer(r.code, r.name, r.level, r.parent_code)))
}

// ---- users ---------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GrantBody {
    pub role: Role,
    pub region_code: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUserBody {
    pub username: String,
    pub name: String,
    pub password: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub roles: Vec<GrantBody>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserBody {
    pub id: String,
    pub username: String,
    pub name: String,
    pub active: bool,
    pub roles: Vec<GrantBody>,
    /// Masked in lists (`138****0001`); whole on the user's own record.
    pub phone: Option<String>,
    /// Masked in lists (`z***@example.com`); whole on the user's own record.
    pub email: Option<String>,
    /// 性别, a code of the `sex` table (`PUT /api/v1/users/{id}/profile`).
    pub sex: Option<String>,
    /// 政治面貌, a code of the `political_status` table.
    pub political_status: Option<String>,
    /// 帮扶（选派）单位.
    pub work_unit: Option<String>,
}

impl UserBody {
    fn of(
        user: crate::db::entities::app_user::Model,
        roles: Vec<GrantBody>,
        profile: registry::users::Profile,
    ) -> Self {
        UserBody {
            id: user.id,
            username: user.username,
            name: user.name,
            active: user.active,
            roles,
            phone: profile.phone,
            email: profile.email,
            sex: profile.sex,
            political_status: profile.political_status,
            work_unit: profile.work_unit,
        }
    }
}

/// `GET /api/v1/users` filters and pages; without `page` and `per_page` it lists all.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UserListParams {
    /// Users holding this role (in `region_code`, if given).
    pub role: Option<Role>,
    /// Users with a grant in this region or below it.
    pub region_code: Option<String>,
    /// A part of the username or the name.
    pub q: Option<String>,
    /// From 1.
    pub page: Option<u32>,
    /// At most 200; 50 when only `page` is given.
    pub per_page: Option<u32>,
}

/// Creates a user with at least one role, each below the caller's own and inside their region.
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUserBody, responses((status = 200, body = UserBody), (status = 403, description = "grant_not_allowed"), (status = 409), (status = 422, description = "weak_password or region_code_level")), security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<NewUserBody>,
) -> ApiResult<Json<UserBody>> {
    let user = registry::users::create(
        &state.db,
        &Actor::of(&caller),
        registry::users::NewUser {
            username: body.username,
            name: body.name,
            password: body.password,
            phone: body.phone,
            email: body.email,
            roles: body.roles.iter().map(|g| (g.role, g.region_code.clone())).collect(),
        },
    )
    .await?;
    let profile =
        registry::users::Profile { phone: user.phone.clone(), email: user.email.clone(), ..Default::default() };
    Ok(Json(UserBody::of(user, body.roles, profile)))
}

/// Users with a role in a region the caller manages, by username, with their officer
/// particulars (phone and e-mail masked); filtered by role, region and a part of the
/// username or name, and paged when `page` or `per_page` is given. `X-Total-Count` says
/// how many users the filter matches in all.
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", params(UserListParams),
    responses((status = 200, body = [UserBody], headers(("x-total-count" = usize, description = "users matching the filter, on all pages")))),
    security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<UserListParams>,
) -> ApiResult<([(axum::http::HeaderName, String); 1], Json<Vec<UserBody>>)> {
    let filter = registry::users::UserFilter {
        role: params.role,
        region_code: params.region_code,
        q: params.q,
        page: params.page,
        per_page: params.per_page,
    };
    let page = registry::users::list(&state.db.conn, &Actor::of(&caller), &filter).await?;
    let users = page
        .users
        .into_iter()
        .map(|registry::users::Listed { user, roles, profile }| {
            let roles = roles.into_iter().map(|(role, region_code)| GrantBody { role, region_code }).collect();
            UserBody::of(user, roles, profile)
        })
        .collect();
    Ok(([(axum::http::HeaderName::from_static("x-total-count"), page.total.to_string())], Json(users)))
}

/// Grants a user inside the caller's region a role below the caller's own.
#[utoipa::path(post, path = "/api/v1/users/{id}/roles", tag = "admin", params(("id" = String, Path)), request_body = GrantBody, responses((status = 204), (status = 403, description = "grant_not_allowed"), (status = 404), (status = 409), (status = 422, description = "region_code_level")), security(("bearer" = [])))]
pub async fn add_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<GrantBody>,
) -> ApiResult<axum::http::StatusCode> {
    registry::users::add_role(&state.db, &Actor::of(&caller), &id, body.role, &body.region_code).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Takes a role away from a user inside the caller's region (one the caller could grant).
#[utoipa::path(post, path = "/api/v1/users/{id}/roles/remove", tag = "admin", params(("id" = String, Path)), request_body = GrantBody, responses((status = 204), (status = 403, description = "grant_not_allowed"), (status = 404)), security(("bearer" = [])))]
pub async fn remove_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<GrantBody>,
) -> ApiResult<axum::http::StatusCode> {
    registry::users::remove_role(&state.db, &Actor::of(&caller), &id, body.role, &body.region_code).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// A role the caller may grant and the region it may be granted in or below.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GrantableBody {
    pub role: Role,
    /// The region of the caller's own grant: the role may go to it or to a region below it.
    pub within: String,
    /// The part of a region's code that puts it under `within` (`auth::roles::region_prefix`).
    pub within_prefix: String,
    /// The level the role's region must have (`village` for 村两委), if the role is tied to one.
    pub level: Option<String>,
}

/// The roles the caller may grant and where, by the rule `POST /users/{id}/roles` applies:
/// empty for a caller who manages no region.
#[utoipa::path(get, path = "/api/v1/grantable-roles", tag = "admin", responses((status = 200, body = [GrantableBody])), security(("bearer" = [])))]
pub async fn grantable_roles(caller: Caller) -> Json<Vec<GrantableBody>> {
    Json(
        registry::users::grantable(&Actor::of(&caller))
            .into_iter()
            .map(|g| GrantableBody {
                role: g.role,
                within_prefix: crate::auth::roles::region_prefix(&g.within).to_owned(),
                within: g.within,
                level: g.level.map(str::to_owned),
            })
            .collect(),
    )
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActiveBody {
    pub active: bool,
}

/// Deactivates (every token ends, no sign-in) or reactivates a user the caller manages.
#[utoipa::path(post, path = "/api/v1/users/{id}/active", tag = "admin", params(("id" = String, Path)), request_body = ActiveBody, responses((status = 200, body = UserBody), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn set_user_active(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<ActiveBody>,
) -> ApiResult<Json<UserBody>> {
    let user = registry::users::set_active(&state.db, &Actor::of(&caller), &id, body.active).await?;
    let roles = registry::users::grants(&state.db.conn, &user.id)
        .await?
        .into_iter()
        .map(|(role, region_code)| GrantBody { role, region_code })
        .collect();
    let profile = registry::users::profiles(&state.db.conn, std::slice::from_ref(&user.id))
        .await
        .map_err(crate::error::Refusal::internal)?
        .remove(&user.id)
        .unwrap_or_default();
    Ok(Json(UserBody::of(user, roles, profile)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResetPasswordBody {
    pub password: String,
}

/// Sets a new password for a user the caller manages; every token of the user ends.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "admin", params(("id" = String, Path)), request_body = ResetPasswordBody, responses((status = 204), (status = 403), (status = 404), (status = 422, description = "weak_password")), security(("bearer" = [])))]
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<ResetPasswordBody>,
) -> ApiResult<axum::http::StatusCode> {
    registry::users::reset_password(&state.db, &Actor::of(&caller), &id, &body.password).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

// ---- assignments ---------------------------------------------------------------

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AssignBody {
    pub officer_id: String,
    pub household_id: String,
    pub start_date: Option<NaiveDate>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssignmentBody {
    pub id: String,
    pub officer_id: String,
    pub household_id: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

impl From<assignment::Model> for AssignmentBody {
    fn from(a: assignment::Model) -> Self {
        AssignmentBody {
            id: a.id,
            officer_id: a.officer_id,
            household_id: a.household_id,
            start_date: a.start_date,
            end_date: a.end_date,
        }
    }
}

/// Assigns an officer to a household; the officer's next pull brings it whole.
#[utoipa::path(post, path = "/api/v1/assignments", tag = "admin", request_body = AssignBody, responses((status = 200, body = AssignmentBody), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn create_assignment(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<AssignBody>,
) -> ApiResult<Json<AssignmentBody>> {
    let a = registry::assignments::assign(
        &state.db,
        &Actor::of(&caller),
        &body.officer_id,
        &body.household_id,
        body.start_date,
    )
    .await?;
    Ok(Json(a.into()))
}

/// Ends an assignment; the officer's next pull evicts the household.
#[utoipa::path(post, path = "/api/v1/assignments/{id}/end", tag = "admin", params(("id" = String, Path)), responses((status = 200, body = AssignmentBody), (status = 403)), security(("bearer" = [])))]
pub async fn end_assignment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AssignmentBody>> {
    Ok(Json(registry::assignments::end(&state.db, &Actor::of(&caller), &id).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AssignmentParams {
    pub household_id: Option<String>,
    pub officer_id: Option<String>,
}

/// Assignments of a household or an officer (history included).
#[utoipa::path(get, path = "/api/v1/assignments", tag = "admin", params(AssignmentParams), responses((status = 200, body = [AssignmentBody])), security(("bearer" = [])))]
pub async fn list_assignments(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AssignmentParams>,
) -> ApiResult<Json<Vec<AssignmentBody>>> {
    let rows = registry::assignments::list(&state.db.conn, &caller, params.household_id, params.officer_id).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

// ---- devices -------------------------------------------------------------------

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceBody {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub revoked_mode: Option<String>,
    pub last_seen_at: Option<String>,
}

impl From<device::Model> for DeviceBody {
    fn from(d: device::Model) -> Self {
        DeviceBody {
            id: d.id,
            user_id: d.user_id,
            name: d.name,
            revoked_mode: d.revoked_mode,
            last_seen_at: d.last_seen_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DeviceParams {
    pub user_id: String,
}

/// A user's devices.
#[utoipa::path(get, path = "/api/v1/devices", tag = "admin", params(DeviceParams), responses((status = 200, body = [DeviceBody])), security(("bearer" = [])))]
pub async fn list_devices(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<DeviceParams>,
) -> ApiResult<Json<Vec<DeviceBody>>> {
    let devices = registry::devices::list(&state.db.conn, &Actor::of(&caller), &params.user_id).await?;
    Ok(Json(devices.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RevokeBody {
    pub mode: RevokeMode,
}

/// Revokes a device: `drain` (retired phone) or `wipe` (lost or stolen).
#[utoipa::path(post, path = "/api/v1/devices/{id}/revoke", tag = "admin", params(("id" = String, Path)), request_body = RevokeBody, responses((status = 200, body = DeviceBody), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn revoke_device(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<RevokeBody>,
) -> ApiResult<Json<DeviceBody>> {
    Ok(Json(registry::devices::revoke(&state.db, &Actor::of(&caller), &id, body.mode).await?.into()))
}

// ---- conflicts and rejected change sets ---------------------------------------

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConflictParams {
    /// `open` (default) or `resolved`.
    pub status: Option<String>,
    pub household_id: Option<String>,
}

/// Conflicts in the caller's scope.
#[utoipa::path(get, path = "/api/v1/conflicts", tag = "admin", params(ConflictParams), responses((status = 200, description = "conflicts")), security(("bearer" = [])))]
pub async fn list_conflicts(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ConflictParams>,
) -> ApiResult<Json<Vec<Value>>> {
    Ok(Json(conflicts::listed_for_office(&state.db.conn, &caller, params.status, params.household_id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResolveBody {
    pub resolution: conflicts::Resolution,
}

/// Resolves a conflict: keep the server value or apply the phone's.
#[utoipa::path(post, path = "/api/v1/conflicts/{id}/resolve", tag = "admin", operation_id = "resolve_conflict_office", params(("id" = String, Path)), request_body = ResolveBody, responses((status = 200, description = "the resolved conflict"), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn resolve_conflict(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<ResolveBody>,
) -> ApiResult<Json<Value>> {
    let resolved = conflicts::resolve(&state.db, &caller, &id, body.resolution).await?;
    Ok(Json(conflicts::listed(&resolved)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RejectedParams {
    /// The `changeset_id` of the last change set of the previous page.
    pub after: Option<String>,
    /// Change sets per page: 20 unless asked, at most 100.
    pub limit: Option<u64>,
}

/// Rejected change sets kept for review, newest first (requests and answers), paged.
/// A change set is shown to whoever reads one of the households it touches (the
/// submitter's other roles do not widen it). One that names no existing household is
/// shown to those who read one of the submitter's regions.
#[utoipa::path(get, path = "/api/v1/changesets/rejected", tag = "admin", params(RejectedParams), responses((status = 200, description = "rejected change sets")), security(("bearer" = [])))]
pub async fn rejected_changesets(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<RejectedParams>,
) -> ApiResult<Json<Vec<Value>>> {
    let limit = params.limit.unwrap_or(20).clamp(1, 100);
    Ok(Json(receipts::rejected(&state.db, &caller, params.after.as_deref(), limit).await?))
}

/// One rejected change set with its whole ID and phone numbers (the list masks them),
/// for a caller who reads every household it touches: audited as a `view` in each
/// household's trail.
#[utoipa::path(get, path = "/api/v1/changesets/rejected/{device_id}/{changeset_id}", tag = "admin",
    params(("device_id" = String, Path), ("changeset_id" = String, Path)),
    responses((status = 200, description = "the rejected change set, whole; audited as a view"),
        (status = 403, body = jingzhun_mobile_api::errors::ErrorBody, description = "forbidden or out_of_scope"),
        (status = 404, body = jingzhun_mobile_api::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn rejected_changeset(
    State(state): State<AppState>,
    caller: Caller,
    Path((device_id, changeset_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(receipts::rejected_whole(&state.db, &caller, &device_id, &changeset_id).await?))
}

// ---- households ----------------------------------------------------------------

/// A household with everything that hangs off it, as the server holds it now, with
/// whole ID and phone numbers: each answer is a `view` in the household's audit trail.
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "admin", params(("id" = Uuid, Path)),
    responses((status = 200, body = WholeHousehold, description = "household with members, incomes, measures, plans, tasks, visits; audited as a view"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_household(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Value>> {
    Ok(Json(registry::households::whole(&state.db, &caller, &id.to_string()).await?))
}

/// Households in the caller's scope, in id order, paged by `after`: their phone numbers
/// masked (the whole record is `GET /api/v1/households/{id}`).
#[utoipa::path(get, path = "/api/v1/households", tag = "admin", params(HouseholdFilter),
    responses((status = 200, body = [HouseholdFields], description = "household records, phone numbers masked")), security(("bearer" = [])))]
pub async fn list_households(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<HouseholdFilter>,
) -> ApiResult<Json<Vec<Value>>> {
    Ok(Json(registry::households::list(&state.db.conn, &caller, filter).await?))
}

// ---- maintenance ---------------------------------------------------------------

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CompactBody {
    /// Drop change-log rows older than this many seconds.
    pub older_than_seconds: i64,
}

/// Compacts the change log now (normally done hourly by the server).
#[utoipa::path(post, path = "/api/v1/sync/compact", tag = "admin", request_body = CompactBody, responses((status = 200, description = "rows removed")), security(("bearer" = [])))]
pub async fn compact(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<CompactBody>,
) -> ApiResult<Json<Value>> {
    let removed = sync::compact(&state.db, &caller, body.older_than_seconds).await?;
    Ok(Json(json!({ "removed": removed })))
}

// ---- audit ---------------------------------------------------------------------

/// The audit trail of a household and every record under it, oldest first: deleted
/// records, conflicts and attachment uploads included (entries carry their household).
#[utoipa::path(get, path = "/api/v1/households/{id}/audit", tag = "admin", params(("id" = Uuid, Path)), responses((status = 200, body = [KeptEntry]), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn household_audit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<KeptEntry>>> {
    Ok(Json(registry::households::audit_trail(&state.db.conn, &caller, &id.to_string()).await?))
}

/// The administration routes of registry, devices, conflicts and households.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_regions, create_region))
        .routes(routes!(list_users, create_user))
        .routes(routes!(add_role))
        .routes(routes!(remove_role))
        .routes(routes!(grantable_roles))
        .routes(routes!(set_user_active))
        .routes(routes!(reset_password))
        .routes(routes!(list_assignments, create_assignment))
        .routes(routes!(end_assignment))
        .routes(routes!(list_devices))
        .routes(routes!(revoke_device))
        .routes(routes!(list_conflicts))
        .routes(routes!(resolve_conflict))
        .routes(routes!(rejected_changesets))
        .routes(routes!(rejected_changeset))
        .routes(routes!(list_households))
        .routes(routes!(get_household))
        .routes(routes!(household_audit))
        .routes(routes!(compact))
}
