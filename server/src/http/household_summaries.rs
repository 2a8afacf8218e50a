//! The console's household table: masked summaries with filters, paging and a total
//! (`registry::households::summaries`). `GET /api/v1/households` keeps its shape (whole
//! records, id-cursor pages) for phones and scripts.

use super::error::ApiResult;
use crate::auth::Caller;
use crate::db::page::Page;
use crate::registry::households::{self, HouseholdSummary, SummaryFilter};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use jingzhun_mobile_api::errors::ErrorBody;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Households in the caller's scope as table rows: ID and phone numbers masked; search
/// by a member's name or the household number, an ID number only whole.
#[utoipa::path(get, path = "/api/v1/household-summaries", tag = "admin", params(SummaryFilter),
    responses((status = 200, body = Page<HouseholdSummary>), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_summaries(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<SummaryFilter>,
) -> ApiResult<Json<Page<HouseholdSummary>>> {
    Ok(Json(households::summaries(&state.db.conn, &caller, filter).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_summaries))
}
