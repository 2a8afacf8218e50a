//! `/api/v1`: help plans (一户一策) for the people who follow them — a household's
//! timeline and plan outcome for whoever may read the household, overdue plan tasks
//! for the caller's scope (supervisors, county, township and village teams their
//! region; officers their assigned households).

use super::error::ApiResult;
use crate::auth::Caller;
use crate::plans::{self, OverdueTask, PlanOutcome, TimelineEntry};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(household_timeline))
        .routes(routes!(plan_outcome))
        .routes(routes!(overdue_tasks))
}

/// What happened to a household, oldest first: visits, plans and tasks, measures,
/// income years, procedure steps and sign-offs, status changes.
#[utoipa::path(get, path = "/api/v1/households/{id}/timeline", tag = "plans", params(("id" = Uuid, Path)),
    responses((status = 200, body = [TimelineEntry]), (status = 403, description = "out_of_scope"), (status = 404)),
    security(("bearer" = [])))]
pub async fn household_timeline(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<TimelineEntry>>> {
    Ok(Json(plans::timeline_for(&state.db.conn, &caller, &id.to_string()).await?))
}

/// 帮扶成效: each year's plan, planned against actual per-capita income, tasks done,
/// measures, and the main help measure R6 suggests.
#[utoipa::path(get, path = "/api/v1/households/{id}/plan-outcome", tag = "plans", params(("id" = Uuid, Path)),
    responses((status = 200, body = PlanOutcome), (status = 403, description = "out_of_scope"), (status = 404)),
    security(("bearer" = [])))]
pub async fn plan_outcome(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PlanOutcome>> {
    Ok(Json(plans::outcome_for(&state.db.conn, &caller, &id.to_string()).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OverdueParams {
    /// Only households in this region (any level), within the caller's scope.
    pub region_code: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OverdueReport {
    /// The Beijing date the days overdue count to.
    #[schema(value_type = String, format = Date)]
    pub today: NaiveDate,
    pub region_code: Option<String>,
    /// Most overdue first.
    pub tasks: Vec<OverdueTask>,
}

/// Plan tasks not done and past their due date, in the caller's scope.
#[utoipa::path(get, path = "/api/v1/tasks/overdue", tag = "plans", params(OverdueParams),
    responses((status = 200, body = OverdueReport), (status = 400, description = "invalid_region")),
    security(("bearer" = [])))]
pub async fn overdue_tasks(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<OverdueParams>,
) -> ApiResult<Json<OverdueReport>> {
    let today = plans::today_in_china();
    let tasks = plans::overdue_tasks_for(&state.db.conn, &caller, params.region_code.as_deref(), today).await?;
    Ok(Json(OverdueReport { today, region_code: params.region_code, tasks }))
}
