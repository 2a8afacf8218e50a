//! `PUT /api/v1/users/{id}/profile`: the 帮扶责任人's 性别, 政治面貌 and 帮扶（选派）单位,
//! which the 001 register and the 004 对照表 print beside the officer's name. Parses
//! and maps only; `registry::users::set_profile` decides who may and what is valid.

use super::error::ApiResult;
use super::extract::AppJson;
use crate::auth::Caller;
use crate::registry::{self, Actor};
use crate::state::AppState;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_profile))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ProfileBody {
    /// A code of the `sex` table (`male`, `female`); empty or absent clears it.
    pub sex: Option<String>,
    /// A code of the `political_status` table (`party_member`, `masses`, …).
    pub political_status: Option<String>,
    /// 帮扶（选派）单位名称, at most 100 characters.
    pub work_unit: Option<String>,
}

/// Sets a user's officer particulars (a manager of the user); audited.
#[utoipa::path(put, path = "/api/v1/users/{id}/profile", tag = "admin", params(("id" = String, Path)), request_body = ProfileBody,
    responses((status = 204), (status = 400, description = "invalid_request: a unit name too long"), (status = 403, description = "grant_not_allowed: a user the caller does not manage"), (status = 404), (status = 422, description = "unknown_code: a sex or political status not in its table")),
    security(("bearer" = [])))]
pub async fn set_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<ProfileBody>,
) -> ApiResult<axum::http::StatusCode> {
    let profile = registry::users::OfficerProfile {
        sex: body.sex,
        political_status: body.political_status,
        work_unit: body.work_unit,
    };
    registry::users::set_profile(&state.db, &Actor::of(&caller), &id, profile).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
