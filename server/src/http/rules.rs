//! `/api/v1`: poverty lines, rule assessments of a household, data-quality checks.

use super::error::ApiResult;
use crate::error::Refusal;
use super::extract::AppJson;
use crate::state::AppState;
use crate::auth::Caller;
use crate::domain::facts::Standard;
use crate::domain::thresholds::Threshold;
use crate::rules;
use crate::records::{self, scope};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::fields;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/thresholds", get(list_thresholds).put(set_threshold))
        .route("/households/{id}/assessment", get(assessment))
        .route("/quality", get(quality))
        .route("/rule-policies", get(list_policies).put(set_policy))
        .route("/villages/{code}/exit-assessment", get(village_exit))
        .route("/villages/{code}/population", axum::routing::put(set_population))
}

/// County staff set lines and variants for their own region or a part of it, never above it.
fn may_set_for(caller: &Caller, region_prefix: &str) -> bool {
    let padded = format!("{region_prefix:0<12}");
    caller.manages_region(&padded)
        && caller.grants.iter().filter(|g| g.role.manages()).any(|g| region_prefix.len() >= g.prefix.len())
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ThresholdBody {
    /// Income year.
    pub year: i32,
    /// Leading digits of the division codes covered ("" for the whole country).
    pub region_prefix: String,
    /// national, provincial, municipal
    pub standard: String,
    /// Yuan per person and year.
    pub yuan: f64,
    /// The document that sets it.
    pub source: String,
}

/// Every poverty line stored.
#[utoipa::path(get, path = "/api/v1/thresholds", tag = "rules", responses((status = 200, body = [ThresholdBody])), security(("bearer" = [])))]
pub async fn list_thresholds(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Vec<ThresholdBody>>> {
    let lines = rules::thresholds::all(&state.db.conn).await?;
    Ok(Json(
        lines
            .into_iter()
            .map(|t| ThresholdBody {
                year: t.year,
                region_prefix: t.region_prefix,
                standard: t.standard.code().into(),
                yuan: t.amount_fen as f64 / 100.0,
                source: t.source,
            })
            .collect(),
    ))
}

/// Sets a poverty line for a year, region and standard (county staff of that region).
#[utoipa::path(put, path = "/api/v1/thresholds", tag = "rules", request_body = ThresholdBody,
    responses((status = 204), (status = 400), (status = 403)), security(("bearer" = [])))]
pub async fn set_threshold(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<ThresholdBody>,
) -> ApiResult<axum::http::StatusCode> {
    let standard = Standard::from_code(&body.standard).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownCode))?;
    if !(2000..=2100).contains(&body.year)
        || !body.region_prefix.bytes().all(|b| b.is_ascii_digit())
        || body.region_prefix.len() > 12
    {
        return Err(Refusal::invalid(ErrorCode::OutOfRange));
    }
    let fen = jingzhun_mobile_api::validate::money_fen(&serde_json::json!(body.yuan)).map_err(Refusal::invalid)?;
    if !may_set_for(&caller, &body.region_prefix) {
        return Err(Refusal::forbidden());
    }
    let line = Threshold {
        year: body.year,
        region_prefix: body.region_prefix,
        standard,
        amount_fen: fen,
        source: body.source,
    };
    rules::thresholds::set(&state.db, &caller, &line).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AssessmentParams {
    /// Income year (default: the household's latest).
    pub year: Option<i64>,
}

/// What every rule (R1–R6, R8) says about a household for an income year.
#[utoipa::path(get, path = "/api/v1/households/{id}/assessment", tag = "rules", params(("id" = Uuid, Path), AssessmentParams),
    responses((status = 200, description = "income, identification, exit, removal findings, review flags, edge, main measure, data quality"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn assessment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(params): Query<AssessmentParams>,
) -> ApiResult<Json<Value>> {
    let id = id.to_string();
    let household =
        records::load(&state.db.conn, &fields::HOUSEHOLD, &id, false).await?.ok_or_else(Refusal::not_found)?;
    if !scope::household_access(&state.db.conn, &caller, &id, household.text("region_code").unwrap_or_default())
        .await?
        .may_read()
    {
        return Err(Refusal::out_of_scope());
    }
    rules::assess(&state.db.conn, &id, params.year).await?.map(Json).ok_or_else(Refusal::not_found)
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
    let (mut cond, mut values) = scope::households_condition(&caller, "h.id", "h.region_code");
    if let Some(region) = params.region_code {
        cond.push_str(" AND h.region_code LIKE ?");
        values.push(format!("{}%", region.trim_end_matches('0')).into());
    }
    // Several queries per household: bounded like a whole-region report (M9).
    let _slot = state.gates.reports.enter().await.map_err(|_| super::reports::busy())?;
    let condition = (cond, values);
    let households = rules::count_households(&state.db.conn, &condition).await?;
    if households > state.config.reports.max_households {
        return Err(super::reports::too_large(households, state.config.reports.max_households));
    }
    Ok(Json(rules::quality_problems(&state.db.conn, condition).await?))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyBody {
    /// Leading digits of the division codes covered.
    pub region_prefix: String,
    /// The rule choices (identification variant, pension counted, income period start,
    /// edge ceiling, vehicle limit, …) as `crate::domain::policy::RulePolicy` names them.
    #[schema(value_type = Object)]
    pub policy: Value,
    /// The document that sets them.
    pub source: String,
}

/// The stored regional rule variants.
#[utoipa::path(get, path = "/api/v1/rule-policies", tag = "rules", responses((status = 200, body = [PolicyBody])), security(("bearer" = [])))]
pub async fn list_policies(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Vec<PolicyBody>>> {
    let stored = rules::policy::all(&state.db.conn).await?;
    Ok(Json(
        stored
            .into_iter()
            .map(|p| PolicyBody {
                region_prefix: p.region_prefix,
                policy: serde_json::to_value(p.policy).unwrap_or_default(),
                source: p.source,
            })
            .collect(),
    ))
}

/// Sets a region's rule variants (county staff of that region).
#[utoipa::path(put, path = "/api/v1/rule-policies", tag = "rules", request_body = PolicyBody,
    responses((status = 204), (status = 400, description = "invalid_request: the policy does not parse"), (status = 403)), security(("bearer" = [])))]
pub async fn set_policy(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<PolicyBody>,
) -> ApiResult<axum::http::StatusCode> {
    let policy: crate::domain::policy::RulePolicy =
        serde_json::from_value(body.policy).map_err(|_| Refusal::invalid(ErrorCode::InvalidRequest))?;
    if body.region_prefix.len() > 12 || !body.region_prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::invalid(ErrorCode::InvalidRegion));
    }
    if !may_set_for(&caller, &body.region_prefix) {
        return Err(Refusal::forbidden());
    }
    rules::policy::set(&state.db, &caller, &body.region_prefix, &policy, &body.source).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// R9 for a village: poverty incidence = people of households still in the register ÷
/// the rural population the statistics office gave (set with `PUT …/population`).
#[utoipa::path(get, path = "/api/v1/villages/{code}/exit-assessment", tag = "rules", params(("code" = String, Path)),
    responses((status = 200, description = "incidence and whether the village may exit"), (status = 403), (status = 404), (status = 409, description = "no rural population recorded")),
    security(("bearer" = [])))]
pub async fn village_exit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    if !caller.reads_region(&code) {
        return Err(Refusal::forbidden());
    }
    let backend = state.db.backend();
    let row = state
        .db
        .conn
        .query_one_raw(crate::db::sql(
            backend,
            "SELECT rural_population FROM region WHERE code = ? AND level = 'village'",
            vec![code.as_str().into()],
        ))
        .await?
        .ok_or_else(Refusal::not_found)?;
    let population: Option<i64> = row.try_get_by_index(0)?;
    let population = population.ok_or_else(|| Refusal::conflict(ErrorCode::Required))?;
    let remaining = crate::db::query_scalar_i64(
        &state.db.conn,
        crate::db::sql(
            backend,
            "SELECT COUNT(*) FROM member m JOIN household h ON h.id = m.household_id WHERE m.active AND h.region_code = ? AND h.status IN ('registered', 'pre_exit')",
            vec![code.as_str().into()],
        ),
    )
    .await?
    .unwrap_or(0);
    let facts = crate::domain::village::VillageFacts {
        remaining_poor: u32::try_from(remaining).unwrap_or(u32::MAX),
        rural_population: u32::try_from(population).unwrap_or(u32::MAX),
        ..Default::default()
    };
    let policy = rules::policy::for_region(&state.db.conn, &code).await?;
    let verdict = crate::domain::village::assess_village_exit(&facts, &policy)
        .map_err(|_| Refusal::conflict(ErrorCode::OutOfRange))?;
    Ok(Json(serde_json::json!({ "village": code, "facts": facts, "exit": verdict })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PopulationBody {
    pub rural_population: i64,
}

/// Records a village's rural population (county staff).
#[utoipa::path(put, path = "/api/v1/villages/{code}/population", tag = "rules", params(("code" = String, Path)), request_body = PopulationBody,
    responses((status = 204), (status = 403)), security(("bearer" = [])))]
pub async fn set_population(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    AppJson(body): AppJson<PopulationBody>,
) -> ApiResult<axum::http::StatusCode> {
    if !caller.manages_region(&code) {
        return Err(Refusal::forbidden());
    }
    if body.rural_population <= 0 {
        return Err(Refusal::invalid(ErrorCode::OutOfRange));
    }
    let txn = state.db.begin_write().await?;
    let updated = txn
        .execute_raw(crate::db::sql(
            txn.get_database_backend(),
            "UPDATE region SET rural_population = ? WHERE code = ? AND level = 'village'",
            vec![body.rural_population.into(), code.as_str().into()],
        ))
        .await?
        .rows_affected();
    if updated == 0 {
        return Err(Refusal::not_found());
    }
    let mut entry = crate::registry::Actor::of(&caller).audit("set_population", "region", &code);
    entry.new_value = Some(body.rural_population.to_string());
    crate::audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
