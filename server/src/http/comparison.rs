//! `/api/v1/comparisons`: department lists imported by the county and the leads they raise.

use super::error::ApiResult;
use super::extract::AppJson;
use crate::auth::Caller;
use crate::comparison::Source;
use crate::comparison::import::{self, ImportReport, ImportRequest, LeadFilter, LeadSummary};
use crate::db::page::Page;
use crate::error::Refusal;
use crate::household_facts::{self, LeadDecision};
use crate::state::AppState;
use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Multipart, Path, Query, State};
use jingzhun_mobile_api::errors::ErrorCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use uuid::Uuid;

/// Imports a department list (multipart: `source`, `file`, optional `region_code`) and
/// reports rows accepted, rejected with reasons, and matched. A bad file changes nothing.
#[utoipa::path(post, path = "/api/v1/comparisons", tag = "comparison",
    request_body(content_type = "multipart/form-data", description = "parts `source` (vehicles, urban_property, business, public_servants, village_cadres, deaths), `file` (CSV or XLSX), optional `region_code`"),
    responses((status = 200, body = ImportReport), (status = 400, description = "invalid_file"), (status = 403),
        (status = 422, description = "file_too_many_rows, file_too_many_columns, file_cell_too_large, file_too_large_unpacked: past an upload cap ([uploads])"),
        (status = 503, description = "busy: every parsing slot is taken; retry shortly")), security(("bearer" = [])))]
pub async fn import_list(
    State(state): State<AppState>,
    caller: Caller,
    mut multipart: Multipart,
) -> ApiResult<Json<ImportReport>> {
    let mut source = None;
    let mut region_code = None;
    let mut file = None;
    let bad = || Refusal::invalid(ErrorCode::InvalidRequest);
    while let Some(field) = multipart.next_field().await.map_err(|_| bad())? {
        match field.name() {
            Some("source") => source = Source::parse(field.text().await.map_err(|_| bad())?.trim()),
            Some("region_code") => region_code = Some(field.text().await.map_err(|_| bad())?.trim().to_owned()),
            Some("file") => {
                let name = field.file_name().unwrap_or("list.csv").to_owned();
                file = Some((name, field.bytes().await.map_err(|_| bad())?.to_vec()));
            }
            _ => {}
        }
    }
    let source = source.ok_or_else(|| Refusal::invalid(ErrorCode::UnknownCode))?;
    let (file_name, bytes) = file.ok_or_else(bad)?;
    let request = ImportRequest { source, file_name, bytes, region_code };
    let caps = crate::tabular::Caps::from_config(&state.config.uploads);
    Ok(Json(import::run(&state.db, &caller, request, &state.gates.parsing, caps).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LeadParams {
    pub household_id: Option<Uuid>,
    /// open, confirmed, dismissed
    pub status: Option<String>,
}

/// Leads (疑点) in the caller's scope, or of one household.
#[utoipa::path(get, path = "/api/v1/comparisons/leads", tag = "comparison", params(LeadParams),
    responses((status = 200, description = "leads")), security(("bearer" = [])))]
pub async fn list_leads(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<LeadParams>,
) -> ApiResult<Json<Vec<Value>>> {
    let household_id = params.household_id.map(|h| h.to_string());
    let leads = import::leads_for(&state.db.conn, &caller, household_id.as_deref(), params.status.as_deref()).await?;
    Ok(Json(leads))
}

/// The console's 疑点 table: leads in the caller's scope by status, department and
/// region, a page at a time with the total; the named member's ID number masked.
#[utoipa::path(get, path = "/api/v1/comparisons/lead-summaries", tag = "comparison", params(LeadFilter),
    responses((status = 200, description = "a page of leads", body = Page<LeadSummary>)), security(("bearer" = [])))]
pub async fn lead_summaries(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<LeadFilter>,
) -> ApiResult<Json<Page<LeadSummary>>> {
    Ok(Json(import::lead_summaries(&state.db.conn, &caller, filter).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecideBody {
    /// confirm or dismiss
    pub decision: String,
    /// What was found on the spot; required.
    pub note: String,
    /// A confirmed lead records what it found: fields by catalogue name over what the
    /// department's row says (date, price). For a vehicle, urban property or business,
    /// what the row cannot say is required here: `as_exit_measure`, for a property its
    /// `kind` and `relocation_resettlement`, for a business `operating`. A public post, a
    /// cadre's post or a death is set on the member with the row's date.
    #[schema(value_type = Object)]
    #[serde(default)]
    pub record: serde_json::Map<String, Value>,
}

/// Confirms or dismisses a lead with a field note. A confirmed lead records what it found
/// (answered, 200): a vehicle, urban property or business as a possession of the
/// household, a post or a death on the member, so the removal findings and review flags
/// read it. A dismissal changes nothing about the household (204).
#[utoipa::path(post, path = "/api/v1/comparisons/leads/{id}/decide", tag = "comparison", operation_id = "decide_lead", params(("id" = Uuid, Path)), request_body = DecideBody,
    responses((status = 200, description = "what was recorded: `entity` (vehicle, urban_property, business, member) and `record`"), (status = 204), (status = 400, description = "note_required"), (status = 403), (status = 409),
        (status = 422, description = "a field of the record missing or refused, named")), security(("bearer" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<DecideBody>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let confirm = match body.decision.as_str() {
        "confirm" => true,
        "dismiss" => false,
        _ => return Err(Refusal::invalid(ErrorCode::UnknownCode)),
    };
    let decision = LeadDecision { confirm, note: body.note, record: body.record };
    Ok(match household_facts::decide_lead(&state.db, &caller, &id.to_string(), decision).await? {
        Some((entity, record)) => Json(serde_json::json!({"entity": entity, "record": record})).into_response(),
        None => axum::http::StatusCode::NO_CONTENT.into_response(),
    })
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // Department lists can be large; the JSON body limit does not apply.
        .routes(routes!(import_list).layer(DefaultBodyLimit::max(32 * 1024 * 1024)))
        .routes(routes!(list_leads))
        .routes(routes!(lead_summaries))
        .routes(routes!(decide))
}
