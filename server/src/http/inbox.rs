//! 待办 for the console's home page (`crate::inbox`): parse, call, map.

use super::error::ApiResult;
use crate::auth::Caller;
use crate::inbox::{self, Inbox};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use jingzhun_mobile_api::errors::ErrorBody;
use utoipa_axum::{router::OpenApiRouter, routes};

/// What waits for the caller — cases to sign, objections to answer, open conflicts,
/// rejected change sets, milestones due within 7 days — with counts per region.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "admin",
    responses((status = 200, body = Inbox), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_inbox(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Inbox>> {
    Ok(Json(inbox::of(&state.db, &caller, state.clock.now()).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_inbox))
}
