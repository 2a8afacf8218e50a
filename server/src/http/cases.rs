//! `/api/v1/cases`: procedures (C4) for village teams, townships and the county.
//! Opening a case goes through the same procedure as a phone filing one
//! (`procedures::case::open_case`); who may read or act on a case is the procedures'
//! to decide. Handlers parse, call and map.

use super::error::ApiResult;
use super::extract::AppJson;
use crate::auth::Caller;
use crate::db::page::Page;
use crate::error::Refusal;
use crate::procedures::case::{self, CaseFilter, CaseSummary, CaseSummaryFilter, CaseView, OpenCase};
use crate::procedures::{Decision, Step, signing};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use jingzhun_mobile_api::errors::ErrorCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// Opens a case (the application step) for a household in the caller's scope.
#[utoipa::path(post, path = "/api/v1/cases", tag = "procedures", request_body = OpenCase,
    responses((status = 200, description = "the case", body = CaseView), (status = 400, description = "field errors")), security(("bearer" = [])))]
pub async fn open_case(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<OpenCase>,
) -> ApiResult<Json<CaseView>> {
    let id = case::open(&state.db, &caller, &body).await?;
    case::view(&state.db.conn, &caller, &id).await.map(Json)
}

/// A case with its sign-offs.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "procedures", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the case with its sign-offs and the actions the caller may take", body = CaseView), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<CaseView>> {
    case::view(&state.db.conn, &caller, &id.to_string()).await.map(Json)
}

/// Cases in the caller's scope.
#[utoipa::path(get, path = "/api/v1/cases", tag = "procedures", params(CaseFilter),
    responses((status = 200, description = "cases")), security(("bearer" = [])))]
pub async fn list_cases(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<CaseFilter>,
) -> ApiResult<Json<Vec<Value>>> {
    Ok(Json(case::list(&state.db.conn, &caller, filter).await?))
}

/// The console's 案件 table: cases in the caller's scope by region, kind, step and
/// status, or those waiting for the caller's sign-off, a page at a time with the total.
#[utoipa::path(get, path = "/api/v1/case-summaries", tag = "procedures", params(CaseSummaryFilter),
    responses((status = 200, description = "a page of cases", body = Page<CaseSummary>)), security(("bearer" = [])))]
pub async fn case_summaries(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<CaseSummaryFilter>,
) -> ApiResult<Json<Page<CaseSummary>>> {
    Ok(Json(case::summaries(&state.db.conn, &caller, filter).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignBody {
    /// The step being signed, as the signer saw it.
    pub step: String,
    pub decision: Decision,
    pub comment: Option<String>,
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
}

/// Signs the case's current step: approve moves it on (completing it after the last
/// step), reject stops it.
#[utoipa::path(post, path = "/api/v1/cases/{id}/signoffs", tag = "procedures", params(("id" = Uuid, Path)), request_body = SignBody,
    responses((status = 200, description = "the case", body = CaseView), (status = 403, description = "wrong_role"), (status = 409, description = "step_mismatch, case_closed, removals_first"), (status = 422, description = "exit_refused with the unmet conditions")),
    security(("bearer" = [])))]
pub async fn sign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<SignBody>,
) -> ApiResult<Json<CaseView>> {
    let step = Step::parse(&body.step).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownCode))?;
    let id = id.to_string();
    signing::sign(&state.db, &caller, &id, step, body.decision, body.comment, body.attachment_ids).await?;
    case::view(&state.db.conn, &caller, &id).await.map(Json)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResubmitBody {
    pub comment: Option<String>,
}

/// Starts a rejected case again from the application.
#[utoipa::path(post, path = "/api/v1/cases/{id}/resubmit", tag = "procedures", params(("id" = Uuid, Path)), request_body = ResubmitBody,
    responses((status = 200, description = "the case", body = CaseView), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn resubmit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ResubmitBody>,
) -> ApiResult<Json<CaseView>> {
    let id = id.to_string();
    signing::resubmit(&state.db, &caller, &id, body.comment).await?;
    case::view(&state.db.conn, &caller, &id).await.map(Json)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReopenBody {
    /// The earlier step to go back to.
    pub step: String,
    pub comment: Option<String>,
}

/// Sends an open case back to an earlier step (the freezing level or above only).
#[utoipa::path(post, path = "/api/v1/cases/{id}/reopen", tag = "procedures", params(("id" = Uuid, Path)), request_body = ReopenBody,
    responses((status = 200, description = "the case", body = CaseView), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn reopen(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ReopenBody>,
) -> ApiResult<Json<CaseView>> {
    let step = Step::parse(&body.step).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownCode))?;
    let id = id.to_string();
    signing::reopen(&state.db, &caller, &id, step, body.comment).await?;
    case::view(&state.db.conn, &caller, &id).await.map(Json)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cases, open_case))
        .routes(routes!(get_case))
        .routes(routes!(case_summaries))
        .routes(routes!(sign))
        .routes(routes!(resubmit))
        .routes(routes!(reopen))
}
