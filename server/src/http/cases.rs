//! `/api/v1/cases`: procedures (C4) for village teams, townships and the county.
//! Opening a case goes through the same checks as a phone filing one.

use super::error::ApiResult;
use crate::error::Refusal;
use super::extract::AppJson;
use crate::state::AppState;
use crate::auth::Caller;
use crate::procedures::{Decision, Step, engine};
use crate::records::{self, scope};
use crate::sync::push;
use axum::Json;
use axum::extract::{Path, Query, State};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::fields::{self, CASE};
use jingzhun_mobile_api::wire::{Change, ChangeSet, ChangeSetStatus, Op};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OpenCase {
    pub household_id: Uuid,
    /// identify, relapse, exit, remove, exit_reversal, member_change
    pub kind: String,
    pub reason: Option<String>,
    pub member_id: Option<Uuid>,
    pub note: Option<String>,
}

/// Opens a case (the application step) for a household in the caller's scope.
#[utoipa::path(post, path = "/api/v1/cases", tag = "procedures", request_body = OpenCase,
    responses((status = 200, description = "the case"), (status = 400, description = "field errors")), security(("bearer" = [])))]
pub async fn open_case(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<OpenCase>,
) -> ApiResult<Json<Value>> {
    let id = Uuid::new_v4();
    let mut fields_map = serde_json::Map::new();
    fields_map.insert("household_id".into(), json!(body.household_id));
    fields_map.insert("kind".into(), json!(body.kind));
    if let Some(reason) = body.reason {
        fields_map.insert("reason".into(), json!(reason));
    }
    if let Some(member_id) = body.member_id {
        fields_map.insert("member_id".into(), json!(member_id));
    }
    if let Some(note) = body.note {
        fields_map.insert("note".into(), json!(note));
    }
    let changeset = ChangeSet {
        id: Uuid::new_v4(),
        changes: vec![Change { entity: CASE.name.into(), id, op: Op::Create, base_version: 0, fields: fields_map }],
        recorded_at: None,
    };
    let result = push::apply_changeset(
        &state.db,
        &caller,
        &changeset,
        &push::Rules::from_config(&state.config.sync, state.clock.now()),
    )
    .await?;
    if result.status != ChangeSetStatus::Applied {
        let errors = result.changes.into_iter().flat_map(|c| c.errors).collect();
        return Err(Refusal::invalid(ErrorCode::InvalidRequest).with_fields(errors));
    }
    case_view(&state, &caller, &id.to_string()).await.map(Json)
}

async fn case_view(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Value> {
    let case = records::load(&state.db.conn, &CASE, id, false).await?.ok_or_else(Refusal::not_found)?;
    let household_id = case.text("household_id").unwrap_or_default().to_owned();
    let household = records::load(&state.db.conn, &fields::HOUSEHOLD, &household_id, false)
        .await?
        .ok_or_else(Refusal::not_found)?;
    let region = household.text("region_code").unwrap_or_default();
    if !scope::household_access(&state.db.conn, caller, &household_id, region).await?.may_read() {
        return Err(Refusal::out_of_scope());
    }
    let mut view = case.to_json(&CASE);
    view["region_code"] = json!(region);
    view["frozen_level"] = json!(engine::frozen_level(&state.db.conn, id).await?.map(|l| l.code()));
    view["signoffs"] = Value::Array(engine::signoffs(&state.db.conn, id).await?);
    Ok(view)
}

/// A case with its sign-offs.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "procedures", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the case with its sign-offs"), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_case(State(state): State<AppState>, caller: Caller, Path(id): Path<Uuid>) -> ApiResult<Json<Value>> {
    case_view(&state, &caller, &id.to_string()).await.map(Json)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CaseParams {
    pub household_id: Option<Uuid>,
    /// open (default), rejected, completed
    pub status: Option<String>,
    pub kind: Option<String>,
    /// Cases waiting at this step.
    pub step: Option<String>,
}

/// Cases in the caller's scope.
#[utoipa::path(get, path = "/api/v1/cases", tag = "procedures", params(CaseParams),
    responses((status = 200, description = "cases")), security(("bearer" = [])))]
pub async fn list_cases(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<CaseParams>,
) -> ApiResult<Json<Vec<Value>>> {
    let (cond, mut values) = scope::households_condition(&caller, "h.id", "h.region_code");
    let mut text = format!(
        "SELECT c.id FROM procedure_case c JOIN household h ON h.id = c.household_id WHERE {cond} AND c.status = ?"
    );
    values.push(params.status.unwrap_or_else(|| "open".into()).into());
    if let Some(h) = params.household_id {
        text.push_str(" AND c.household_id = ?");
        values.push(h.to_string().into());
    }
    if let Some(kind) = params.kind {
        text.push_str(" AND c.kind = ?");
        values.push(kind.into());
    }
    if let Some(step) = params.step {
        text.push_str(" AND c.step = ?");
        values.push(step.into());
    }
    text.push_str(" ORDER BY c.created_at LIMIT 5000");
    let rows = state.db.conn.query_all_raw(crate::db::sql(state.db.backend(), &text, values)).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.try_get_by_index(0)).collect::<Result<_, _>>()?;
    let cases = records::load_many(&state.db.conn, &CASE, &ids).await?;
    Ok(Json(cases.iter().map(|c| c.to_json(&CASE)).collect()))
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
    responses((status = 200, description = "the case"), (status = 403, description = "wrong_role"), (status = 409, description = "step_mismatch, case_closed, removals_first"), (status = 422, description = "exit_refused with the unmet conditions")),
    security(("bearer" = [])))]
pub async fn sign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<SignBody>,
) -> ApiResult<Json<Value>> {
    let step = Step::parse(&body.step).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownCode))?;
    let id = id.to_string();
    case_view(&state, &caller, &id).await?;
    engine::sign(&state.db, &caller, &id, step, body.decision, body.comment, body.attachment_ids).await?;
    case_view(&state, &caller, &id).await.map(Json)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResubmitBody {
    pub comment: Option<String>,
}

/// Starts a rejected case again from the application.
#[utoipa::path(post, path = "/api/v1/cases/{id}/resubmit", tag = "procedures", params(("id" = Uuid, Path)), request_body = ResubmitBody,
    responses((status = 200, description = "the case"), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn resubmit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ResubmitBody>,
) -> ApiResult<Json<Value>> {
    let id = id.to_string();
    case_view(&state, &caller, &id).await?;
    engine::resubmit(&state.db, &caller, &id, body.comment).await?;
    case_view(&state, &caller, &id).await.map(Json)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReopenBody {
    /// The earlier step to go back to.
    pub step: String,
    pub comment: Option<String>,
}

/// Sends an open case back to an earlier step (the freezing level or above only).
#[utoipa::path(post, path = "/api/v1/cases/{id}/reopen", tag = "procedures", params(("id" = Uuid, Path)), request_body = ReopenBody,
    responses((status = 200, description = "the case"), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn reopen(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ReopenBody>,
) -> ApiResult<Json<Value>> {
    let step = Step::parse(&body.step).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownCode))?;
    let id = id.to_string();
    case_view(&state, &caller, &id).await?;
    engine::reopen(&state.db, &caller, &id, step, body.comment).await?;
    case_view(&state, &caller, &id).await.map(Json)
}
