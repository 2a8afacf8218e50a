//! `/api/v1/notices/{id}/resolution`: the village team records the 村民代表会决议 on a
//! closed village notice's list (002 §三(七)), which sends its cases on to the
//! township's review; anyone who reads the notice reads the resolutions on it.
//!
//! Handlers parse, call `crate::notices::resolution` with the caller, and map the
//! answer; who may record is decided there, never here.

use super::error::ApiResult;
use super::extract::AppJson;
use crate::auth::Caller;
use crate::notices::resolution::{self, NewResolution, ResolutionView};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_resolutions, record_resolution))
}

/// Records the representatives' resolution on a closed village notice; its cases waiting
/// at `village_resolution` pass to the township's review.
#[utoipa::path(post, path = "/api/v1/notices/{id}/resolution", tag = "notices", params(("id" = Uuid, Path)),
    request_body = NewResolution,
    responses((status = 200, body = ResolutionView),
        (status = 409, description = "resolution_not_due: not a closed village notice, or no case waits"),
        (status = 422, description = "resolution_not_carried: under two thirds present, or no majority"),
        (status = 403, description = "forbidden or out_of_scope: only the village's own team records it")),
    security(("bearer" = [])))]
pub async fn record_resolution(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<NewResolution>,
) -> ApiResult<Json<ResolutionView>> {
    Ok(Json(resolution::record(&state.db, &caller, &id.to_string(), body, state.clock.now()).await?))
}

/// The resolutions recorded on a notice, oldest first, each with the cases it passed.
#[utoipa::path(get, path = "/api/v1/notices/{id}/resolution", tag = "notices", params(("id" = Uuid, Path)),
    responses((status = 200, body = [ResolutionView])), security(("bearer" = [])))]
pub async fn list_resolutions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<ResolutionView>>> {
    Ok(Json(resolution::of_notice(&state.db, &caller, &id.to_string()).await?))
}
