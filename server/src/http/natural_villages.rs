//! `/api/v1/villages/{code}/natural-villages`: the natural villages of an administrative
//! village (003 附件3). The service, `registry::natural_villages`, decides who may read
//! and keep them and counts the poor from the household records; this file only parses,
//! calls it and maps the answer, and must never touch SQL or a transaction.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::error::ApiResult;
use super::extract::AppJson;
use crate::auth::Caller;
use crate::registry::natural_villages::{self, NaturalVillage};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(save))
}

/// Creates or replaces a natural village of the village.
#[utoipa::path(put, path = "/api/v1/villages/{code}/natural-villages/{id}", tag = "registry",
    params(("code" = String, Path), ("id" = Uuid, Path)), request_body = NaturalVillage,
    responses((status = 204), (status = 400), (status = 403)), security(("bearer" = [])))]
pub async fn save(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, id)): Path<(String, Uuid)>,
    AppJson(body): AppJson<NaturalVillage>,
) -> ApiResult<StatusCode> {
    natural_villages::save(&state.db, &caller, &code, id, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The natural villages of a village, with poor households and people counted from
/// the household records (status registered or pre-exit, by the household's 自然村).
#[utoipa::path(get, path = "/api/v1/villages/{code}/natural-villages", tag = "registry", params(("code" = String, Path)),
    responses((status = 200, description = "natural villages with their counts")), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    Ok(Json(natural_villages::list(&state.db.conn, &caller, &code).await?))
}
