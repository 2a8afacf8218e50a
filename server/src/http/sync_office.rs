//! The office's side of the phones' work, for the console's 系统管理: the assignment
//! table and the bulk move of an officer's households (`registry::assignments`), the
//! device table (`registry::devices`) and one sync conflict with its whole values,
//! audited (`sync::conflicts`). Parse, call, map: who may do what is the services'.
//! The older per-user and per-household routes stay in `admin.rs`.

use super::error::ApiResult;
use super::extract::AppJson;
use crate::auth::Caller;
use crate::db::page::Page;
use crate::registry::Actor;
use crate::registry::assignments::{self, AssignmentFilter, AssignmentSummary, OfficerChoice, Reassigned};
use crate::registry::devices::{self, DeviceFilter, DeviceSummary};
use crate::state::AppState;
use crate::sync::conflicts::{self, ConflictFilter, ConflictRecord, ConflictSummary};
use axum::Json;
use axum::extract::{Path, Query, State};
use jingzhun_mobile_api::errors::ErrorBody;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Assignments of households in the caller's scope as table rows, by officer, region
/// and status (active unless asked), paged with a total.
#[utoipa::path(get, path = "/api/v1/assignment-summaries", tag = "admin", params(AssignmentFilter),
    responses((status = 200, body = Page<AssignmentSummary>),
        (status = 400, body = ErrorBody, description = "unknown_assignment_status"), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn assignment_summaries(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<AssignmentFilter>,
) -> ApiResult<Json<Page<AssignmentSummary>>> {
    Ok(Json(assignments::summaries(&state.db.conn, &caller, filter).await?))
}

/// Officers serving the regions the caller edits, and whoever else (an officer whose role
/// was removed) still holds households there, with how many of the caller's households
/// each holds: the choices of the assignment table's officer filter and of a move. For
/// those who assign (village team, township, county, administrator).
#[utoipa::path(get, path = "/api/v1/officers", tag = "admin",
    responses((status = 200, body = [OfficerChoice]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "forbidden: the caller edits no households")),
    security(("bearer" = [])))]
pub async fn officers(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<OfficerChoice>>> {
    Ok(Json(assignments::officers(&state.db.conn, &caller).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReassignBody {
    /// The officer whose households move (one who leaves may be deactivated already, or
    /// hold no officer role any more).
    pub from_officer_id: String,
    pub to_officer_id: String,
    /// Only these households; every active one of `from_officer_id` when absent.
    pub household_ids: Option<Vec<String>>,
}

/// Moves an officer's households to another officer in one transaction (every household
/// in the caller's edit scope, the new officer holding the officer role over each),
/// audited as an end and an assignment each; a retry, or a second request at once, moves
/// nothing twice.
#[utoipa::path(post, path = "/api/v1/assignments/reassign", tag = "admin", request_body = ReassignBody,
    responses((status = 200, body = Reassigned), (status = 400, body = ErrorBody, description = "invalid_json"),
        (status = 403, body = ErrorBody, description = "out_of_scope"),
        (status = 404, body = ErrorBody, description = "not_found: no such officer to move from"),
        (status = 422, body = ErrorBody, description = "not_an_officer, same_officer or not_assigned_to_officer")),
    security(("bearer" = [])))]
pub async fn reassign(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<ReassignBody>,
) -> ApiResult<Json<Reassigned>> {
    Ok(Json(
        assignments::reassign(
            &state.db,
            &Actor::of(&caller),
            &body.from_officer_id,
            &body.to_officer_id,
            body.household_ids,
        )
        .await?,
    ))
}

/// Devices of the users the caller manages, with their user, last sign-in and last
/// upload, paged with a total.
#[utoipa::path(get, path = "/api/v1/device-summaries", tag = "admin", params(DeviceFilter),
    responses((status = 200, body = Page<DeviceSummary>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn device_summaries(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<DeviceFilter>,
) -> ApiResult<Json<Page<DeviceSummary>>> {
    Ok(Json(devices::summaries(&state.db.conn, &Actor::of(&caller), filter).await?))
}

/// Conflicts on households the caller reads, oldest first, `open` unless asked, paged
/// with a total: ID, phone and bank-account values masked.
#[utoipa::path(get, path = "/api/v1/conflict-summaries", tag = "admin", params(ConflictFilter),
    responses((status = 200, body = Page<ConflictSummary>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn conflict_summaries(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<ConflictFilter>,
) -> ApiResult<Json<Page<ConflictSummary>>> {
    Ok(Json(conflicts::summaries(&state.db.conn, &caller, filter).await?))
}

/// One conflict with its whole values (the list masks ID and phone values): a view of
/// personal data, audited as one in the household's trail.
#[utoipa::path(get, path = "/api/v1/conflicts/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, description = "the conflict, whole; audited as a view", body = ConflictRecord), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn conflict(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ConflictRecord>> {
    Ok(Json(conflicts::whole(&state.db, &caller, &id).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(assignment_summaries))
        .routes(routes!(reassign))
        .routes(routes!(officers))
        .routes(routes!(device_summaries))
        .routes(routes!(conflict_summaries))
        .routes(routes!(conflict))
}
