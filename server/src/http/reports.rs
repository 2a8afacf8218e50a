//! `/api/v1/reports/{name}`: the reports of C9 for a region and period, as XLSX, CSV or
//! JSON. Only the village, township, county, supervisor and administrator roles get
//! reports, and only for a region they read; officers never do.

use super::error::ApiResult;
use crate::error::{Kind, Refusal};
use crate::state::AppState;
use crate::auth::{Caller, Role};
use crate::reports::{self, Period, ReportName, sheet, write};
use crate::records::scope;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Datelike, NaiveDate};
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/reports/{name}", get(report))
}

/// The roles reports are for (DESIGN §1: county office, township, village team, supervisor).
const REPORT_ROLES: [Role; 5] = [Role::Village, Role::Township, Role::County, Role::Supervisor, Role::Admin];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReportParams {
    /// The region reported on (填报单位), 12 digits; defaults to the caller's own region.
    pub region_code: Option<String>,
    /// First day of the period, `YYYY-MM-DD` (China time); defaults to January 1st of `to`'s year.
    pub from: Option<String>,
    /// Last day of the period, included; defaults to today.
    pub to: Option<String>,
    /// `xlsx` (default), `csv` or `json`.
    pub format: Option<String>,
}

fn field_error(field: &str, code: ErrorCode) -> Refusal {
    Refusal::invalid(code).with_fields(vec![FieldError::new(field, code)])
}

/// Every report slot stayed taken: 503 `busy`.
pub(crate) fn busy() -> Refusal {
    Refusal::new(Kind::Busy, ErrorCode::Busy)
}

/// More households than `[reports] max_households`: 422 `report_too_large`.
pub(crate) fn too_large(households: u64, limit: u64) -> Refusal {
    let mut detail = FieldError::new("region_code", ErrorCode::ReportTooLarge);
    detail.message_en = format!("{households} households; at most {limit} in one report");
    Refusal::new(Kind::Rejected, ErrorCode::ReportTooLarge).with_fields(vec![detail])
}

fn parse_date(field: &str, value: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| field_error(field, ErrorCode::InvalidDate))
        })
        .transpose()
}

fn period(params: &ReportParams) -> ApiResult<Period> {
    let to = parse_date("to", params.to.as_deref())?.unwrap_or_else(reports::today);
    let from = match parse_date("from", params.from.as_deref())? {
        Some(from) => from,
        None => NaiveDate::from_ymd_opt(to.year(), 1, 1).unwrap_or(to),
    };
    Period::new(from, to).ok_or_else(|| field_error("from", ErrorCode::OutOfRange))
}

/// A report: `dynamic_adjustment` (000 附件1), `new_identification` (附件2), `removals`
/// (附件3), `relapse` (附件4), `register` (001 附件1 贫困户名册) or `outside_system`
/// (001 系统外人员). The statistics tables have one row per child region and a total
/// row that is their sum. XLSX and CSV open with the title, 填报单位 and the period,
/// then the form's header rows; ID and phone numbers are masked.
#[utoipa::path(get, path = "/api/v1/reports/{name}", tag = "reports",
    params(("name" = String, Path, description = "dynamic_adjustment, new_identification, removals, relapse, register, outside_system"), ReportParams),
    responses(
        (status = 200, description = "the report: XLSX, CSV (UTF-8 with BOM) or JSON",
            content(
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (String = "text/csv"),
                (serde_json::Value = "application/json"),
            )),
        (status = 400, description = "invalid_date, out_of_range (from after to), invalid_region, unknown_code (format)"),
        (status = 403, description = "forbidden: not a reporting role, or a region the caller does not read"),
        (status = 404, description = "not_found: no such report or region"),
        (status = 422, description = "report_too_large: the region holds more households than one report may cover ([reports] max_households)"),
        (status = 503, description = "busy: every report slot is taken; retry shortly"),
    ),
    security(("bearer" = [])))]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(params): Query<ReportParams>,
) -> ApiResult<Response> {
    let name = ReportName::parse(&name).ok_or_else(Refusal::not_found)?;
    let grants: Vec<_> = caller.grants.iter().filter(|g| REPORT_ROLES.contains(&g.role)).collect();
    let Some(first) = grants.first() else { return Err(Refusal::forbidden()) };
    let region_code = params.region_code.as_deref().map(str::trim).unwrap_or(&first.region_code).to_owned();
    if region_code.len() != 12 || !region_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(field_error("region_code", ErrorCode::InvalidRegion));
    }
    if !caller.reads_region(&region_code) || !grants.iter().any(|g| region_code.starts_with(&g.prefix)) {
        return Err(Refusal::forbidden());
    }
    let format = params.format.as_deref().unwrap_or("xlsx");
    if !matches!(format, "xlsx" | "csv" | "json") {
        return Err(field_error("format", ErrorCode::UnknownCode));
    }
    let period = period(&params)?;
    let unit = reports::queries::region(&state.db.conn, &region_code).await?.ok_or_else(Refusal::not_found)?;
    let scope = scope::households_condition(&caller, "h.id", "h.region_code");
    // Whole-region reports hold a connection and their rows in memory: few at once, and
    // none over more households than configured (M9).
    let _slot = state.gates.reports.enter().await.map_err(|_| busy())?;
    let households = reports::queries::count_households(&state.db.conn, &unit, &scope).await?;
    if households > state.config.reports.max_households {
        return Err(too_large(households, state.config.reports.max_households));
    }
    let report = reports::build(&state.db.conn, name, unit, period, scope).await?;

    let attachment = |extension: &str, content_type: &'static str, bytes: Vec<u8>| {
        let disposition = write::content_disposition(&report.file_name(extension), &report.ascii_file_name(extension));
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)],
            bytes,
        )
            .into_response()
    };
    Ok(match format {
        "json" => axum::Json(report.to_json()).into_response(),
        "csv" => {
            let bytes = write::csv(&sheet::layout(&report)).map_err(Refusal::internal)?;
            attachment("csv", write::CSV_CONTENT_TYPE, bytes)
        }
        _ => {
            let bytes = write::xlsx(&sheet::layout(&report)).map_err(Refusal::internal)?;
            attachment("xlsx", write::XLSX_CONTENT_TYPE, bytes)
        }
    })
}
