//! `/api/v1`: the administration API used by county staff, supervisors and tests.
//! Every route checks the caller's role and region; every change is audited by the
//! registry service it calls.

use super::error::ApiResult;
use crate::error::{Kind, Refusal};
use super::extract::AppJson;
use crate::state::AppState;
use crate::auth::{Caller, Role};
use crate::db::entities::{app_user, assignment, changeset_receipt, device, region, role_grant, sync_conflict};
use crate::registry::{self, Actor, devices::RevokeMode};
use crate::records::{self, changelog, scope};
use crate::sync::conflicts;
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::fields;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

fn require_any_manager(caller: &Caller) -> ApiResult<()> {
    if caller.grants.iter().any(|g| g.role.manages()) { Ok(()) } else { Err(Refusal::forbidden()) }
}

async fn household_region(state: &AppState, household_id: &str) -> ApiResult<String> {
    let household = records::load(&state.db.conn, &fields::HOUSEHOLD, household_id, false)
        .await?
        .ok_or_else(Refusal::not_found)?;
    Ok(household.text("region_code").unwrap_or_default().to_owned())
}

// ---- regions -------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegionBody {
    pub code: String,
    pub name: String,
    /// province, city, county, township, village, natural_village
    pub level: String,
    pub parent_code: Option<String>,
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
    let mut query = region::Entity::find().order_by_asc(region::Column::Code);
    if let Some(parent) = params.parent_code {
        query = query.filter(region::Column::ParentCode.eq(parent));
    }
    let regions = query.limit(10_000).all(&state.db.conn).await?;
    Ok(Json(
        regions
            .into_iter()
            .map(|r| RegionBody { code: r.code, name: r.name, level: r.level, parent_code: r.parent_code })
            .collect(),
    ))
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
    Ok(Json(RegionBody { code: r.code, name: r.name, level: r.level, parent_code: r.parent_code }))
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
}

/// Creates a user with at least one role, each below the caller's own and inside their region.
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUserBody, responses((status = 200, body = UserBody), (status = 403, description = "grant_not_allowed"), (status = 409), (status = 422, description = "weak_password or region_code_level")), security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<NewUserBody>,
) -> ApiResult<Json<UserBody>> {
    require_any_manager(&caller)?;
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
    Ok(Json(UserBody { id: user.id, username: user.username, name: user.name, active: user.active, roles: body.roles }))
}

/// Users with a role in a region the caller manages.
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, body = [UserBody])), security(("bearer" = [])))]
pub async fn list_users(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<UserBody>>> {
    require_any_manager(&caller)?;
    let grants = role_grant::Entity::find().order_by_asc(role_grant::Column::UserId).all(&state.db.conn).await?;
    let visible: Vec<&role_grant::Model> = grants.iter().filter(|g| caller.manages_region(&g.region_code)).collect();
    let mut ids: Vec<String> = visible.iter().map(|g| g.user_id.clone()).collect();
    ids.dedup();
    let users = app_user::Entity::find()
        .filter(app_user::Column::Id.is_in(ids))
        .order_by_asc(app_user::Column::Username)
        .all(&state.db.conn)
        .await?;
    Ok(Json(
        users
            .into_iter()
            .map(|u| UserBody {
                roles: grants
                    .iter()
                    .filter(|g| g.user_id == u.id)
                    .filter_map(|g| {
                        Role::parse(&g.role).map(|role| GrantBody { role, region_code: g.region_code.clone() })
                    })
                    .collect(),
                id: u.id,
                username: u.username,
                name: u.name,
                active: u.active,
            })
            .collect(),
    ))
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
    Ok(Json(UserBody { id: user.id, username: user.username, name: user.name, active: user.active, roles }))
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
    let mut query = assignment::Entity::find().order_by_asc(assignment::Column::CreatedAt);
    match (&params.household_id, &params.officer_id) {
        (Some(h), _) => query = query.filter(assignment::Column::HouseholdId.eq(h.clone())),
        (None, Some(o)) => query = query.filter(assignment::Column::OfficerId.eq(o.clone())),
        (None, None) => return Err(Refusal::invalid(ErrorCode::InvalidRequest)),
    }
    let rows = query.limit(5000).all(&state.db.conn).await?;
    let household_ids: Vec<String> = rows.iter().map(|a| a.household_id.clone()).collect();
    let regions = scope::household_regions(&state.db.conn, &household_ids).await?;
    Ok(Json(
        rows.into_iter()
            .filter(|a| {
                a.officer_id == caller.user_id || regions.get(&a.household_id).is_some_and(|r| caller.reads_region(r))
            })
            .map(Into::into)
            .collect(),
    ))
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
    require_user_managed(&state, &caller, &params.user_id).await?;
    let devices = device::Entity::find().filter(device::Column::UserId.eq(params.user_id)).all(&state.db.conn).await?;
    Ok(Json(devices.into_iter().map(Into::into).collect()))
}

/// The registry's rule: a user wholly inside the caller's region, below the caller's rank.
async fn require_user_managed(state: &AppState, caller: &Caller, user_id: &str) -> ApiResult<()> {
    let grants = registry::users::grants(&state.db.conn, user_id).await?;
    if caller.manages_user(&grants) { Ok(()) } else { Err(Refusal::forbidden()) }
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
    let existing = device::Entity::find_by_id(id.clone()).one(&state.db.conn).await?.ok_or_else(Refusal::not_found)?;
    require_user_managed(&state, &caller, &existing.user_id).await?;
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
    let mut query = sync_conflict::Entity::find()
        .filter(sync_conflict::Column::Status.eq(params.status.unwrap_or_else(|| "open".into())))
        .order_by_asc(sync_conflict::Column::CreatedAt);
    if let Some(h) = params.household_id {
        query = query.filter(sync_conflict::Column::HouseholdId.eq(h));
    }
    let rows = query.limit(5000).all(&state.db.conn).await?;
    let household_ids: Vec<String> = rows.iter().map(|c| c.household_id.clone()).collect();
    let access = scope::access_by_id(&state.db.conn, &caller, &household_ids).await?;
    Ok(Json(
        rows.iter()
            .filter(|c| access.get(&c.household_id).is_some_and(|a| a.may_read()))
            .map(conflicts::to_json)
            .collect(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResolveBody {
    pub resolution: conflicts::Resolution,
}

/// Resolves a conflict: keep the server value or apply the phone's.
#[utoipa::path(post, path = "/api/v1/conflicts/{id}/resolve", tag = "admin", params(("id" = String, Path)), request_body = ResolveBody, responses((status = 200, description = "the resolved conflict"), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn resolve_conflict(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<ResolveBody>,
) -> ApiResult<Json<Value>> {
    resolve_in_scope(&state, &caller, &id, body.resolution).await
}

/// Shared by the phone and admin routes. The caller must edit the household now (403
/// `assignment_ended` for a former officer, `forbidden` for read-only supervisors,
/// `out_of_scope` otherwise); applying the phone's value passes a push's checks (409
/// `case_frozen`, `case_on_notice`, `multiple_heads`, …).
pub async fn resolve_in_scope(
    state: &AppState,
    caller: &Caller,
    id: &str,
    resolution: conflicts::Resolution,
) -> ApiResult<Json<Value>> {
    match conflicts::resolve(&state.db, caller, id, resolution).await {
        Ok(model) => Ok(Json(conflicts::to_json(&model))),
        Err(conflicts::ResolveError::NotFound) => Err(Refusal::not_found()),
        Err(conflicts::ResolveError::AlreadyResolved) => Err(Refusal::conflict(ErrorCode::Conflict)),
        Err(conflicts::ResolveError::Invalid(code)) => Err(Refusal::invalid(code)),
        Err(conflicts::ResolveError::Refused(code)) => Err(Refusal::new(Kind::Forbidden, code)),
        Err(conflicts::ResolveError::Blocked(code)) => Err(Refusal::conflict(code)),
        Err(conflicts::ResolveError::Db(err)) => Err(err.into()),
    }
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
    if !caller.grants.iter().any(|g| g.role.manages() || g.role == Role::Supervisor) {
        return Err(Refusal::forbidden());
    }
    let limit = params.limit.unwrap_or(20).clamp(1, 100);
    let (households, mut values) = scope::households_condition(&caller, "ch.household_id", "ch.region_code");
    let prefixes = caller.read_prefixes();
    let submitter = if prefixes.is_empty() {
        "1 = 0".to_owned()
    } else {
        format!("({})", vec!["g.region_code LIKE ?"; prefixes.len()].join(" OR "))
    };
    values.extend(prefixes.iter().map(|p| sea_orm::Value::from(format!("{p}%"))));
    let mut text = format!(
        "SELECT r.device_id, r.changeset_id, r.user_id, r.received_at, r.request, r.response FROM changeset_receipt r \
         WHERE r.status = 'rejected' AND (\
           EXISTS (SELECT 1 FROM changeset_household ch WHERE ch.device_id = r.device_id AND ch.changeset_id = r.changeset_id AND {households}) \
           OR (NOT EXISTS (SELECT 1 FROM changeset_household ch WHERE ch.device_id = r.device_id AND ch.changeset_id = r.changeset_id) \
               AND EXISTS (SELECT 1 FROM role_grant g WHERE g.user_id = r.user_id AND {submitter})))"
    );
    if let Some(after) = params.after.filter(|a| !a.is_empty()) {
        let last = changeset_receipt::Entity::find()
            .filter(changeset_receipt::Column::ChangesetId.eq(after.clone()))
            .filter(changeset_receipt::Column::Status.eq("rejected"))
            .one(&state.db.conn)
            .await?
            .ok_or_else(|| Refusal::invalid(ErrorCode::InvalidRequest))?;
        text.push_str(" AND (r.received_at < ? OR (r.received_at = ? AND r.changeset_id < ?))");
        values.extend([last.received_at.into(), last.received_at.into(), after.into()]);
    }
    text.push_str(" ORDER BY r.received_at DESC, r.changeset_id DESC LIMIT ?");
    values.push((limit as i64).into());
    let rows = state.db.conn.query_all_raw(crate::db::sql(state.db.backend(), &text, values)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let device_id: String = row.try_get_by_index(0)?;
        let changeset_id: String = row.try_get_by_index(1)?;
        let received_at: chrono::DateTime<chrono::Utc> = row.try_get_by_index(3)?;
        let request: String = row.try_get_by_index(4)?;
        let response: String = row.try_get_by_index(5)?;
        // A change set touching households in two villages is listed for readers of
        // either; its values are shown only to who reads every one of them.
        let withheld = !reads_every_household(&state, &caller, &device_id, &changeset_id).await?;
        let request = match serde_json::from_str::<jingzhun_mobile_api::wire::ChangeSet>(&request) {
            Ok(stored) if withheld => {
                serde_json::to_value(crate::sync::push::shape_only(&stored)).unwrap_or(Value::Null)
            }
            _ if withheld => Value::Null,
            _ => serde_json::from_str::<Value>(&request).unwrap_or(Value::Null),
        };
        out.push(json!({
            "device_id": device_id,
            "changeset_id": changeset_id,
            "user_id": row.try_get_by_index::<String>(2)?,
            "received_at": received_at.to_rfc3339(),
            "request": request,
            "values_withheld": withheld,
            "response": serde_json::from_str::<Value>(&response).unwrap_or(Value::Null),
        }));
    }
    Ok(Json(out))
}

async fn reads_every_household(
    state: &AppState,
    caller: &Caller,
    device_id: &str,
    changeset_id: &str,
) -> ApiResult<bool> {
    let rows = state
        .db
        .conn
        .query_all_raw(crate::db::sql(
            state.db.backend(),
            "SELECT household_id, region_code FROM changeset_household WHERE device_id = ? AND changeset_id = ?",
            vec![device_id.into(), changeset_id.into()],
        ))
        .await?;
    let pairs: Vec<(String, String)> = rows
        .iter()
        .map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?)))
        .collect::<Result<_, sea_orm::DbErr>>()?;
    let access = scope::households_access(&state.db.conn, caller, &pairs).await?;
    Ok(pairs.iter().all(|(id, _)| access.get(id).is_some_and(|a| a.may_read())))
}

// ---- households ----------------------------------------------------------------

/// A household with everything that hangs off it, as the server holds it now.
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "admin", params(("id" = Uuid, Path)), responses((status = 200, description = "household with members, incomes, measures, plans, tasks, visits"), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_household(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Value>> {
    let id = id.to_string();
    let region = household_region(&state, &id).await?;
    if !scope::household_access(&state.db.conn, &caller, &id, &region).await?.may_read() {
        return Err(Refusal::out_of_scope());
    }
    let mut out = serde_json::Map::new();
    for entity in fields::ENTITIES {
        let records = records::load_by_households(&state.db.conn, entity, std::slice::from_ref(&id)).await?;
        let list: Vec<Value> = records.iter().map(|r| r.to_json(entity)).collect();
        if entity.is_household() {
            out.insert("household".into(), list.into_iter().next().unwrap_or(Value::Null));
        } else {
            out.insert(entity.name.into(), Value::Array(list));
        }
    }
    // 预退出: while an exit case is open the household shows as pre-exit; its stored
    // status changes only when the case completes.
    let exiting = out
        .get(fields::CASE.name)
        .and_then(Value::as_array)
        .is_some_and(|cases| cases.iter().any(|c| c["kind"] == "exit" && c["status"] == "open"));
    let display = if exiting { Value::from("pre_exit") } else { out["household"]["status"].clone() };
    out.insert("display_status".into(), display);
    Ok(Json(Value::Object(out)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HouseholdParams {
    /// Households in this region (any level).
    pub region_code: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u64>,
}

/// Households in the caller's scope, in id order, paged by `after`.
#[utoipa::path(get, path = "/api/v1/households", tag = "admin", params(HouseholdParams), responses((status = 200, description = "households")), security(("bearer" = [])))]
pub async fn list_households(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HouseholdParams>,
) -> ApiResult<Json<Vec<Value>>> {
    let (cond, mut values) = scope::households_condition(&caller, "id", "region_code");
    let mut text = format!("SELECT id FROM household WHERE {cond} AND id > ?");
    values.push(params.after.unwrap_or_default().into());
    if let Some(region) = params.region_code {
        text.push_str(" AND region_code LIKE ?");
        values.push(format!("{}%", region.trim_end_matches("000")).into());
    }
    text.push_str(" ORDER BY id LIMIT ?");
    values.push((params.limit.unwrap_or(100).min(1000) as i64).into());
    let rows = state.db.conn.query_all_raw(crate::db::sql(state.db.backend(), &text, values)).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.try_get_by_index(0)).collect::<Result<_, _>>()?;
    let households = records::load_many(&state.db.conn, &fields::HOUSEHOLD, &ids).await?;
    Ok(Json(households.iter().map(|h| h.to_json(&fields::HOUSEHOLD)).collect()))
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
    if !caller.is_root_admin() {
        return Err(Refusal::new(Kind::Forbidden, ErrorCode::RootAdminRequired));
    }
    // Rows older than a century are rows older than anything kept: a larger age asks for
    // nothing more, and left unclamped it overflows the date arithmetic.
    const CENTURY_SECONDS: i64 = 100 * 366 * 24 * 3600;
    let cutoff = chrono::Utc::now() - chrono::Duration::seconds(body.older_than_seconds.clamp(0, CENTURY_SECONDS));
    let removed = changelog::compact(&state.db, cutoff).await?;
    Ok(Json(json!({ "removed": removed })))
}

// ---- audit ---------------------------------------------------------------------

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditBody {
    pub id: i64,
    pub at: String,
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    pub changeset_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub version: Option<i64>,
    pub note: Option<String>,
}

/// The audit trail of a household and every record under it, oldest first: deleted
/// records, conflicts and attachment uploads included (entries carry their household).
#[utoipa::path(get, path = "/api/v1/households/{id}/audit", tag = "admin", params(("id" = Uuid, Path)), responses((status = 200, body = [AuditBody]), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn household_audit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<AuditBody>>> {
    let id = id.to_string();
    let region = household_region(&state, &id).await?;
    if !scope::household_access(&state.db.conn, &caller, &id, &region).await?.may_read() {
        return Err(Refusal::out_of_scope());
    }
    const COLUMNS: &str = "id, at, user_id, device_id, changeset_id, action, entity, entity_id, field, old_value, new_value, version, note";
    let conn = &state.db.conn;
    let mut statements = vec![(
        format!("SELECT {COLUMNS} FROM audit_log WHERE household_id = ? ORDER BY id"),
        vec![sea_orm::Value::from(id.as_str())],
    )];
    // Entries written without their household (by code that does not say it): found
    // by the household's current records and linked attachments.
    let mut ids = Vec::new();
    for entity in fields::ENTITIES {
        ids.extend(
            records::load_by_households(conn, entity, std::slice::from_ref(&id)).await?.into_iter().map(|r| r.id),
        );
    }
    for row in conn
        .query_all_raw(crate::db::sql(
            state.db.backend(),
            "SELECT attachment_id FROM attachment_link WHERE household_id = ?",
            vec![id.as_str().into()],
        ))
        .await?
    {
        ids.push(row.try_get_by_index(0)?);
    }
    for chunk in ids.chunks(500) {
        let text = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE household_id IS NULL AND entity_id IN ({}) ORDER BY id",
            crate::db::placeholders(chunk.len())
        );
        statements.push((text, chunk.iter().map(|i| sea_orm::Value::from(i.as_str())).collect()));
    }
    let mut out = std::collections::BTreeMap::new();
    for (text, values) in statements {
        for row in conn.query_all_raw(crate::db::sql(state.db.backend(), &text, values)).await? {
            let at: chrono::DateTime<chrono::Utc> = row.try_get_by_index(1)?;
            let entry = AuditBody {
                id: row.try_get_by_index(0)?,
                at: at.to_rfc3339(),
                user_id: row.try_get_by_index(2)?,
                device_id: row.try_get_by_index(3)?,
                changeset_id: row.try_get_by_index(4)?,
                action: row.try_get_by_index(5)?,
                entity: row.try_get_by_index(6)?,
                entity_id: row.try_get_by_index(7)?,
                field: row.try_get_by_index(8)?,
                old_value: row.try_get_by_index(9)?,
                new_value: row.try_get_by_index(10)?,
                version: row.try_get_by_index(11)?,
                note: row.try_get_by_index(12)?,
            };
            out.insert(entry.id, entry);
        }
    }
    Ok(Json(out.into_values().collect()))
}
