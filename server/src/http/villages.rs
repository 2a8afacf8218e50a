//! `/api/v1/villages`: a village's exit (贫困村退出/出列, 003 §一(二)) — its assessment,
//! the facts and rural population county staff record, the county's exit decision and
//! its revocation, and the 回头看 list of exited villages back above the limit. The
//! services in `crate::assess::village` decide who may read and set what; this file
//! only parses, calls them and maps the answer, and must never touch SQL or a
//! transaction.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiResult;
use super::extract::AppJson;
use crate::assess::village::{self, ExitBody, ExitRecord, PopulationBody, VillageFactsBody};
use crate::auth::Caller;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(exit_assessment))
        .routes(routes!(set_population))
        .routes(routes!(set_facts))
        .routes(routes!(decide_exit, revoke_exit))
        .routes(routes!(review))
}

/// R9 for a village: poverty incidence = people of households still in the register ÷
/// the rural population the statistics office gave (set with `PUT …/population`), the
/// recorded facts (`PUT …/facts`), and the county's exit decision if there is one.
#[utoipa::path(get, path = "/api/v1/villages/{code}/exit-assessment", tag = "rules", params(("code" = String, Path)),
    responses((status = 200, description = "incidence, facts, whether the village may exit and the exit decision"), (status = 403), (status = 404), (status = 409, description = "no rural population recorded")),
    security(("bearer" = [])))]
pub async fn exit_assessment(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(village::exit_assessment(&state.db.conn, &caller, &code).await?))
}

/// Records a village's rural population (county staff).
#[utoipa::path(put, path = "/api/v1/villages/{code}/population", tag = "rules", params(("code" = String, Path)), request_body = PopulationBody,
    responses((status = 204), (status = 403)), security(("bearer" = [])))]
pub async fn set_population(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    AppJson(body): AppJson<PopulationBody>,
) -> ApiResult<StatusCode> {
    village::set_population(&state.db, &caller, &code, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records a village's exit facts, the whole set (county staff): deep-poverty village,
/// whole-village relocation scope and whether it moved, the sector departments' finding.
#[utoipa::path(put, path = "/api/v1/villages/{code}/facts", tag = "rules", params(("code" = String, Path)), request_body = VillageFactsBody,
    responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn set_facts(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    AppJson(body): AppJson<VillageFactsBody>,
) -> ApiResult<StatusCode> {
    village::set_facts(&state.db, &caller, &code, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The county office decides the village exits (出列) for a year under a document.
#[utoipa::path(post, path = "/api/v1/villages/{code}/exit", tag = "rules", params(("code" = String, Path)), request_body = ExitBody,
    responses((status = 200, body = ExitRecord, description = "the decision (the same one again changes nothing)"), (status = 400), (status = 403), (status = 404),
        (status = 409, description = "village_not_ready: the conditions not met are named in `fields`; village_already_exited; required: no rural population")),
    security(("bearer" = [])))]
pub async fn decide_exit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    AppJson(body): AppJson<ExitBody>,
) -> ApiResult<Json<ExitRecord>> {
    Ok(Json(village::decide_exit(&state.db, &caller, state.clock.now(), &code, &body).await?))
}

/// The county office revokes the village's exit decision.
#[utoipa::path(delete, path = "/api/v1/villages/{code}/exit", tag = "rules", params(("code" = String, Path)),
    responses((status = 204), (status = 403), (status = 404, description = "no exit decision")), security(("bearer" = [])))]
pub async fn revoke_exit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<StatusCode> {
    village::revoke_exit(&state.db, &caller, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReviewParams {
    /// The region whose exited villages are listed (any level the caller reads).
    pub region_code: String,
}

/// 回头看 (003 §一(一)2): exited villages whose incidence is now at or above the limit.
#[utoipa::path(get, path = "/api/v1/villages/review", tag = "rules", params(ReviewParams),
    responses((status = 200, description = "the villages with their exit decision, population, remaining poor and incidence"), (status = 403)),
    security(("bearer" = [])))]
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ReviewParams>,
) -> ApiResult<Json<Value>> {
    Ok(Json(village::review_list(&state.db.conn, &caller, &params.region_code).await?))
}
