//! `/api/v1/edge-households`: the 台账 of 边缘户 and 脱贫监测户 (004 §一(四)) and the
//! village group's decided list (004 §三(一)). The service, `assess::edge`, decides who
//! may read and decide and what each household's standing is; this file only parses,
//! calls it and maps the answer, and must never touch SQL or a transaction.

use axum::Json;
use axum::extract::{Query, State};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiResult;
use super::extract::AppJson;
use crate::assess::edge::{self, DecisionView, Ledger, LedgerQuery, NewDecision};
use crate::auth::Caller;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ledger)).routes(routes!(decide))
}

/// The 台账: households R5 names (candidates) or the village group decided on, in the
/// caller's scope, paged, ID numbers masked, each with why and any identification held
/// back from the notices. Internal: never on a public page.
#[utoipa::path(get, path = "/api/v1/edge-households", tag = "rules", params(LedgerQuery),
    responses((status = 200, body = Ledger)), security(("bearer" = [])))]
pub async fn ledger(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<LedgerQuery>,
) -> ApiResult<Json<Ledger>> {
    Ok(Json(edge::ledger(&state.db.conn, &caller, query).await?))
}

/// Records the list the village group (村两委、驻村干部、驻村第一书记、帮扶队员) decided:
/// who took part, the day, each household put on or left off. The village team only.
#[utoipa::path(post, path = "/api/v1/edge-households/decisions", tag = "rules", operation_id = "decide_edge_household", request_body = NewDecision,
    responses((status = 200, body = DecisionView), (status = 400, description = "edge_list_participants, invalid_date, household_not_found"), (status = 403)),
    security(("bearer" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<NewDecision>,
) -> ApiResult<Json<DecisionView>> {
    Ok(Json(edge::decide(&state.db, &caller, body, state.clock.now()).await?))
}
