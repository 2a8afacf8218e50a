//! `/api/v1`: poverty lines, rule variants, rule assessments of a household,
//! and data-quality checks (a village's exit is `villages.rs`). The services in `crate::assess`
//! decide who may read and set what; this file only parses, calls them and maps the
//! answer, and must never touch SQL or a transaction.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::error::ApiResult;
use super::extract::AppJson;
use crate::assess::{self, policy::PolicyBody, thresholds::ThresholdBody};
use crate::auth::Caller;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_thresholds, set_threshold))
        .routes(routes!(assessment))
        .routes(routes!(quality))
        .routes(routes!(list_policies, set_policy))
}

/// Every poverty line stored.
#[utoipa::path(get, path = "/api/v1/thresholds", tag = "rules", responses((status = 200, body = [ThresholdBody])), security(("bearer" = [])))]
pub async fn list_thresholds(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Vec<ThresholdBody>>> {
    Ok(Json(assess::thresholds::list(&state.db.conn).await?))
}

/// Sets a poverty line for a year, region and standard (county staff of that region).
#[utoipa::path(put, path = "/api/v1/thresholds", tag = "rules", request_body = ThresholdBody,
    responses((status = 204), (status = 400), (status = 403)), security(("bearer" = [])))]
pub async fn set_threshold(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<ThresholdBody>,
) -> ApiResult<StatusCode> {
    assess::thresholds::set(&state.db, &caller, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AssessmentParams {
    /// Income year (default: the household's latest).
    pub year: Option<i64>,
}

/// The poverty line an assessment measured against.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // a description of `assess::assess`'s JSON, never built
pub struct AssessmentThreshold {
    pub year: i64,
    pub region_prefix: String,
    pub standard: String,
    pub yuan: f64,
    pub source: Option<String>,
}

/// What `assess::assess` answers, for the OpenAPI document (the e2e test `record_views`
/// holds the served keys to these). A rule that could not be applied says so in its own
/// place as `{"error": "…"}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // a description of `assess::assess`'s JSON, never built
pub struct Assessment {
    pub household_id: String,
    /// The income year assessed.
    pub year: i64,
    /// None when no poverty line is set for the year, region and standard.
    pub threshold: Option<AssessmentThreshold>,
    /// R1: net income per resident member.
    pub net_income: Value,
    /// R2: whether the household meets the identification criteria, each with its answer.
    pub identification: Value,
    /// R3: whether it may exit (两不愁三保障 and the income line).
    pub exit: Value,
    /// R4: findings that call for removal (识别不准).
    pub removal_findings: Value,
    /// R4: facts a reviewer should look at.
    pub review_flags: Value,
    /// R5: edge or monitoring household, against the provincial line.
    pub edge: Value,
    /// R6: the main help measure.
    pub main_measure: Value,
    /// R8: data-quality problems.
    pub quality: Value,
}

/// What every rule (R1–R6, R8) says about a household for an income year.
#[utoipa::path(get, path = "/api/v1/households/{id}/assessment", tag = "rules", params(("id" = Uuid, Path), AssessmentParams),
    responses((status = 200, body = Assessment, description = "income, identification, exit, removal findings, review flags, edge, main measure, data quality"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn assessment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(params): Query<AssessmentParams>,
) -> ApiResult<Json<Value>> {
    Ok(Json(assess::assessment(&state.db.conn, &caller, &id.to_string(), params.year).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct QualityParams {
    /// Only households in this region (any level).
    pub region_code: Option<String>,
}

/// R8 data-quality problems of the households in the caller's scope.
#[utoipa::path(get, path = "/api/v1/quality", tag = "rules", params(QualityParams),
    responses((status = 200, description = "households with their problems"),
        (status = 422, description = "report_too_large: more households than [reports] max_households"),
        (status = 503, description = "busy: every report slot is taken")), security(("bearer" = [])))]
pub async fn quality(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<QualityParams>,
) -> ApiResult<Json<Vec<Value>>> {
    let condition = assess::quality_scope(&caller, params.region_code.as_deref());
    // Several queries per household: bounded like a whole-region report (M9).
    let _slot = state.gates.reports.enter().await.map_err(|_| super::reports::busy())?;
    let households = assess::count_households(&state.db.conn, &condition).await?;
    if households > state.config.reports.max_households {
        return Err(super::reports::too_large(households, state.config.reports.max_households));
    }
    Ok(Json(assess::quality_problems(&state.db.conn, condition).await?))
}

/// The stored regional rule variants.
#[utoipa::path(get, path = "/api/v1/rule-policies", tag = "rules", responses((status = 200, body = [PolicyBody])), security(("bearer" = [])))]
pub async fn list_policies(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Vec<PolicyBody>>> {
    Ok(Json(assess::policy::list(&state.db.conn).await?))
}

/// Sets a region's rule variants (county staff of that region).
#[utoipa::path(put, path = "/api/v1/rule-policies", tag = "rules", request_body = PolicyBody,
    responses((status = 204), (status = 400, description = "invalid_request: the policy does not parse"), (status = 403)), security(("bearer" = [])))]
pub async fn set_policy(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<PolicyBody>,
) -> ApiResult<StatusCode> {
    assess::policy::set(&state.db, &caller, body).await?;
    Ok(StatusCode::NO_CONTENT)
}
