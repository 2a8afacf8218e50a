//! The office's writes of household facts: `PATCH /api/v1/households/{id}`,
//! `PATCH /api/v1/members/{id}`, `PUT /api/v1/households/{id}/incomes/{year}` and the
//! possessions under `/api/v1/households/{id}/{kind}` (vehicles, urban_properties,
//! businesses), and `GET /api/v1/households/{id}/rights`, what the caller may do there.
//! Parses and maps only: `household_facts` decides who may write what, and
//! validates, freezes, versions, logs and audits.

use super::error::ApiResult;
use super::extract::AppJson;
use crate::auth::Caller;
use crate::household_facts::{self, Fields, HouseholdRights, Possession};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(patch_household))
        .routes(routes!(household_rights))
        .routes(routes!(patch_member))
        .routes(routes!(put_income))
        .routes(routes!(create_possession))
        .routes(routes!(patch_possession, delete_possession))
}

/// A created record answers 201, one already there (the same body sent again) 200.
fn created_or_ok(created: bool) -> StatusCode {
    if created { StatusCode::CREATED } else { StatusCode::OK }
}

/// Sets fields of a household (catalogue names; read-only and create-only fields are
/// refused). Answers the household as stored; the same body again changes nothing.
#[utoipa::path(patch, path = "/api/v1/households/{id}", tag = "facts", params(("id" = Uuid, Path)),
    request_body(content = Object, description = "fields of `household` by catalogue name (GET /api/v1/schema)"),
    responses((status = 200, description = "the household as stored"),
        (status = 403, description = "out_of_scope: the household is outside the caller's region grant (officers write through sync)"),
        (status = 404),
        (status = 409, description = "case_frozen: a level above the caller has signed an open case of the household"),
        (status = 422, description = "a value the catalogue refuses; `fields` names each field")),
    security(("bearer" = [])))]
pub async fn patch_household(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<Fields>,
) -> ApiResult<Json<Value>> {
    Ok(Json(household_facts::update_household(&state.db, &caller, &id.to_string(), &body).await?))
}

/// What the caller may do to the household here (edit, file a case) and whether a
/// sign-off above them holds it: the console's buttons follow this answer.
#[utoipa::path(get, path = "/api/v1/households/{id}/rights", tag = "facts", params(("id" = Uuid, Path)),
    responses((status = 200, body = HouseholdRights), (status = 403, description = "out_of_scope"), (status = 404)),
    security(("bearer" = [])))]
pub async fn household_rights(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<HouseholdRights>> {
    Ok(Json(household_facts::rights(&state.db, &caller, &id.to_string()).await?))
}

/// Sets fields of a member; who the person is (ID number, document, relation) changes
/// through sync or a member-change procedure (`not_editable_here`).
#[utoipa::path(patch, path = "/api/v1/members/{id}", tag = "facts", params(("id" = Uuid, Path)),
    request_body(content = Object, description = "fields of `member` by catalogue name"),
    responses((status = 200, description = "the member as stored"), (status = 403), (status = 404),
        (status = 409, description = "case_frozen"),
        (status = 422, description = "a refused value, or not_editable_here for id_number, id_type, no_id_reason, relation")),
    security(("bearer" = [])))]
pub async fn patch_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<Fields>,
) -> ApiResult<Json<Value>> {
    Ok(Json(household_facts::update_member(&state.db, &caller, &id.to_string(), &body).await?))
}

/// Sets the household's income of a year, creating the year's record if there is none.
#[utoipa::path(put, path = "/api/v1/households/{id}/incomes/{year}", tag = "facts",
    params(("id" = Uuid, Path), ("year" = i64, Path)),
    request_body(content = Object, description = "fields of `income` by catalogue name (yuan)"),
    responses((status = 200, description = "the year's income as stored"), (status = 201, description = "the year's income, created"),
        (status = 403), (status = 404), (status = 409, description = "case_frozen"), (status = 422)),
    security(("bearer" = [])))]
pub async fn put_income(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, year)): Path<(Uuid, i64)>,
    AppJson(body): AppJson<Fields>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (record, created) = household_facts::put_income(&state.db, &caller, &id.to_string(), year, &body).await?;
    Ok((created_or_ok(created), Json(record)))
}

/// Records a vehicle, urban property or business of the household. The body may carry
/// the record's `id` (a UUID): sent again, it answers the record without a second one.
#[utoipa::path(post, path = "/api/v1/households/{id}/{kind}", tag = "facts",
    params(("id" = Uuid, Path), ("kind" = Possession, Path)),
    request_body(content = Object, description = "fields of `vehicle`, `urban_property` or `business` by catalogue name, and optionally `id`"),
    responses((status = 201, description = "the record, created"), (status = 200, description = "the record with this id, already there"),
        (status = 403), (status = 404), (status = 409, description = "case_frozen, or already_exists: the id is another household's"),
        (status = 422, description = "required or refused fields, each named")),
    security(("bearer" = [])))]
pub async fn create_possession(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, kind)): Path<(Uuid, Possession)>,
    AppJson(body): AppJson<Fields>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (record, created) =
        household_facts::create_possession(&state.db, &caller, &id.to_string(), kind, &body).await?;
    Ok((created_or_ok(created), Json(record)))
}

/// Sets fields of a possession of the household.
#[utoipa::path(patch, path = "/api/v1/households/{id}/{kind}/{record_id}", tag = "facts",
    params(("id" = Uuid, Path), ("kind" = Possession, Path), ("record_id" = Uuid, Path)),
    request_body(content = Object, description = "fields by catalogue name"),
    responses((status = 200, description = "the record as stored"), (status = 403), (status = 404),
        (status = 409, description = "case_frozen"), (status = 422)),
    security(("bearer" = [])))]
pub async fn patch_possession(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, kind, record_id)): Path<(Uuid, Possession, Uuid)>,
    AppJson(body): AppJson<Fields>,
) -> ApiResult<Json<Value>> {
    let record =
        household_facts::update_possession(&state.db, &caller, &id.to_string(), kind, &record_id.to_string(), &body)
            .await?;
    Ok(Json(record))
}

/// Deletes a possession (sold, or never there); one already gone answers 204 too.
#[utoipa::path(delete, path = "/api/v1/households/{id}/{kind}/{record_id}", tag = "facts",
    params(("id" = Uuid, Path), ("kind" = Possession, Path), ("record_id" = Uuid, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409, description = "case_frozen")),
    security(("bearer" = [])))]
pub async fn delete_possession(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, kind, record_id)): Path<(Uuid, Possession, Uuid)>,
) -> ApiResult<StatusCode> {
    household_facts::delete_possession(&state.db, &caller, &id.to_string(), kind, &record_id.to_string()).await?;
    Ok(StatusCode::NO_CONTENT)
}
