//! `/api/v1/comparisons`: department lists imported by the county and the leads they raise.

use super::error::ApiResult;
use crate::error::{Kind, Refusal};
use super::extract::AppJson;
use crate::state::AppState;
use crate::auth::{Caller, Role};
use crate::comparison::Source;
use crate::comparison::import::{self, DecideError, ImportError, ImportReport, ImportRequest};
use crate::comparison::parse::FileError;
use crate::records::{self, scope};
use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use jingzhun_mobile_api::fields;
use serde::Deserialize;
use serde_json::Value;
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
    // The county (or above) compares its own region's households.
    let grant = caller
        .grants
        .iter()
        .filter(|g| matches!(g.role, Role::County | Role::Admin))
        .find(|g| region_code.as_deref().is_none_or(|code| code.starts_with(&g.prefix)))
        .ok_or_else(Refusal::forbidden)?;
    let region_code = region_code.unwrap_or_else(|| grant.region_code.clone());
    let region_prefix = region_code.trim_end_matches('0').to_owned();
    let region_prefix = if region_prefix.len() < grant.prefix.len() { grant.prefix.clone() } else { region_prefix };
    let request = ImportRequest { source, file_name, bytes, region_prefix, region_code };
    let caps = crate::tabular::Caps::from_config(&state.config.uploads);
    match import::run(&state.db, &caller, request, &state.gates.parsing, caps).await {
        Ok(report) => Ok(Json(report)),
        // A file past an upload cap: 422 with the cap's own code.
        Err(ImportError::File(FileError::Cap(cap))) => {
            let mut detail = FieldError::new("file", cap.code());
            detail.message_en = cap.to_string();
            Err(Refusal::new(Kind::Rejected, cap.code()).with_fields(vec![detail]))
        }
        Err(ImportError::File(err)) => {
            let mut detail = FieldError::new("file", ErrorCode::InvalidFile);
            detail.message_en = err.to_string();
            Err(Refusal::invalid(ErrorCode::InvalidFile).with_fields(vec![detail]))
        }
        Err(ImportError::Busy) => Err(Refusal::new(Kind::Busy, ErrorCode::Busy)),
        Err(ImportError::Parse(why)) => Err(Refusal::internal(why)),
        Err(ImportError::Db(err)) => Err(err.into()),
    }
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
    let (mut cond, mut values) = scope::households_condition(&caller, "h.id", "h.region_code");
    if let Some(h) = params.household_id {
        cond.push_str(" AND l.household_id = ?");
        values.push(h.to_string().into());
    }
    Ok(Json(import::leads(&state.db.conn, (cond, values), params.status.as_deref()).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecideBody {
    /// confirm or dismiss
    pub decision: String,
    /// What was found on the spot; required.
    pub note: String,
}

/// Confirms or dismisses a lead with a field note. Nothing about the household changes.
#[utoipa::path(post, path = "/api/v1/comparisons/leads/{id}/decide", tag = "comparison", params(("id" = Uuid, Path)), request_body = DecideBody,
    responses((status = 204), (status = 400, description = "note_required"), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<DecideBody>,
) -> ApiResult<axum::http::StatusCode> {
    let confirm = match body.decision.as_str() {
        "confirm" => true,
        "dismiss" => false,
        _ => return Err(Refusal::invalid(ErrorCode::UnknownCode)),
    };
    if body.note.trim().is_empty() {
        return Err(Refusal::invalid(ErrorCode::NoteRequired));
    }
    let id = id.to_string();
    let leads = import::leads(&state.db.conn, ("l.id = ?".to_owned(), vec![id.as_str().into()]), None).await?;
    let household_id =
        leads.first().and_then(|l| l["household_id"].as_str()).ok_or_else(Refusal::not_found)?.to_owned();
    let household = records::load(&state.db.conn, &fields::HOUSEHOLD, &household_id, false)
        .await?
        .ok_or_else(Refusal::not_found)?;
    let region = household.text("region_code").unwrap_or_default();
    // A former officer gets `assignment_ended`: a lead decision is an online action (H2).
    scope::may_edit_online(&state.db.conn, &caller, &household_id, region).await?;
    match import::decide(&state.db, &caller, &id, confirm, body.note.trim()).await {
        Ok(()) => Ok(axum::http::StatusCode::NO_CONTENT),
        Err(DecideError::NotFound) => Err(Refusal::not_found()),
        Err(DecideError::AlreadyDecided) => Err(Refusal::conflict(ErrorCode::Conflict)),
        Err(DecideError::Db(err)) => Err(err.into()),
    }
}
