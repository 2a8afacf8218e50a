//! `/api/v1`: help plans (一户一策) for the people who follow them — a household's
//! timeline and plan outcome for whoever may read the household, overdue plan tasks
//! for the caller's scope (supervisors, county, township and village teams their
//! region; officers their assigned households).

use super::error::ApiResult;
use crate::error::Refusal;
use crate::state::AppState;
use crate::auth::Caller;
use crate::auth::roles::prefix_len;
use crate::db::entities::region;
use crate::plans::{self, OverdueTask, PlanOutcome, TimelineEntry};
use crate::records::{self, scope};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::fields;
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/households/{id}/timeline", get(household_timeline))
        .route("/households/{id}/plan-outcome", get(plan_outcome))
        .route("/tasks/overdue", get(overdue_tasks))
}

/// The household's id, once the caller is known to read it.
async fn readable_household(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<String> {
    let id = id.to_string();
    let household =
        records::load(&state.db.conn, &fields::HOUSEHOLD, &id, false).await?.ok_or_else(Refusal::not_found)?;
    let region = household.text("region_code").unwrap_or_default();
    if !scope::household_access(&state.db.conn, caller, &id, region).await?.may_read() {
        return Err(Refusal::out_of_scope());
    }
    Ok(id)
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
    let id = readable_household(&state, &caller, id).await?;
    Ok(Json(plans::timeline(&state.db.conn, &id).await?))
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
    let id = readable_household(&state, &caller, id).await?;
    plans::outcome(&state.db.conn, &id).await?.map(Json).ok_or_else(Refusal::not_found)
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
    let (mut condition, mut values) = scope::households_condition(&caller, "h.id", "h.region_code");
    if let Some(code) = &params.region_code {
        let region = region::Entity::find_by_id(code.clone())
            .one(&state.db.conn)
            .await?
            .ok_or_else(|| Refusal::invalid(ErrorCode::InvalidRegion))?;
        let prefix = region.code.get(..prefix_len(&region.level)).unwrap_or(&region.code);
        condition = format!("{condition} AND h.region_code LIKE ?");
        values.push(format!("{prefix}%").into());
    }
    let today = plans::today_in_china();
    let tasks = plans::overdue_tasks(&state.db.conn, (condition, values), today).await?;
    Ok(Json(OverdueReport { today, region_code: params.region_code, tasks }))
}
