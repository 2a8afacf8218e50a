//! `/api/v1/reports/{name}`: the reports of C9 for a region and period, as XLSX, CSV or
//! JSON. Only the village, township, county, supervisor and administrator roles get
//! reports, and only for a region they read; officers never do. `reports::request`
//! decides that and bounds the work; this file parses the query and sends the file, or
//! (`…/preview`) the file's layout as JSON for the console to show.

use super::error::ApiResult;
use crate::auth::Caller;
use crate::error::Refusal;
use crate::reports::{self, Format, Limits, Options, Period, ReportName};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use jingzhun_mobile_api::errors::ErrorCode;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report)).routes(routes!(preview))
}

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
    /// `household_form` only: the households to print, ids separated by commas (at most
    /// 1,000); by default every household of the region that is not removed or rejected.
    pub households: Option<String>,
    /// `spot_check` only: the seed of the draw, a whole number; by default the period's
    /// last day as `YYYYMMDD`. The same seed over the same villages draws the same sample.
    pub seed: Option<String>,
}

// `http/assess.rs` bounds its quality check like a report.
pub(crate) use crate::reports::{busy, too_large};

fn parse_date(field: &str, value: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .map_err(|_| Refusal::invalid(ErrorCode::InvalidDate).on_field(field))
        })
        .transpose()
}

fn options(params: &ReportParams) -> ApiResult<Options> {
    let households = params
        .households
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.split(',').map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()).collect());
    let seed = params
        .seed
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.trim().parse::<u64>().map_err(|_| Refusal::invalid(ErrorCode::OutOfRange).on_field("seed")))
        .transpose()?;
    Ok(Options { households, seed })
}

fn period(params: &ReportParams) -> ApiResult<Period> {
    let to = parse_date("to", params.to.as_deref())?.unwrap_or_else(reports::today);
    let from = match parse_date("from", params.from.as_deref())? {
        Some(from) => from,
        None => NaiveDate::from_ymd_opt(to.year(), 1, 1).unwrap_or(to),
    };
    Period::new(from, to).ok_or_else(|| Refusal::invalid(ErrorCode::OutOfRange).on_field("from"))
}

/// A report: `dynamic_adjustment` (000 附件1), `new_identification` (附件2), `removals`
/// (附件3), `relapse` (附件4), `register` (001 附件1 贫困户名册), `outside_system`
/// (001 系统外人员), `data_quality`, `household_form` (贫困户信息对照表: 004 附件2's
/// fields A1–A51, a printed page per household), `member_increase` (004 附件3, a block
/// per household), `member_decrease` (004 附件4, a block per village) or `spot_check`
/// (003 §一(二)3 抽检报告: at least 10% of the exiting villages, drawn by `seed`). The
/// statistics tables have one row per child region and a total row that is their sum,
/// and exactly the 附件's columns; `dynamic_adjustment` adds, apart under the table and
/// labelled as not part of 附件1, the reconciliation of 剩余贫困人口 with the exits and
/// member changes the form has no column for (JSON `appendix`: title, columns, rows, total).
/// XLSX and CSV open with the title, 填报单位 and the period, then the form's header
/// rows; XLSX prints on A4 with the header rows on every page. ID and phone numbers are
/// masked, except on `household_form`, `member_increase` and `member_decrease`, which
/// are copied into the national system: those show them whole and write one `print`
/// audit entry per household.
#[utoipa::path(get, path = "/api/v1/reports/{name}", tag = "reports",
    params(("name" = String, Path, description = "dynamic_adjustment, new_identification, removals, relapse, register, outside_system, data_quality, household_form, member_increase, member_decrease, spot_check"), ReportParams),
    responses(
        (status = 200, description = "the report: XLSX, CSV (UTF-8 with BOM) or JSON",
            content(
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (String = "text/csv"),
                (serde_json::Value = "application/json"),
            )),
        (status = 400, description = "invalid_date, out_of_range (from after to), invalid_region, unknown_code (format)"),
        (status = 403, description = "forbidden: not a reporting role, or a region the caller does not read; out_of_scope: a household asked for that the caller does not read or that is not of the region"),
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
    let unit = reports::unit_for(&caller, params.region_code.as_deref())?;
    let format = Format::parse(params.format.as_deref().unwrap_or("xlsx"))
        .ok_or_else(|| Refusal::invalid(ErrorCode::UnknownCode).on_field("format"))?;
    let period = period(&params)?;
    let options = options(&params)?;
    let limits = Limits { gate: &state.gates.reports, max_households: state.config.reports.max_households };
    let file = reports::report_file_for(&state.db, &caller, name, unit, period, format, &options, limits).await?;
    let content_type = (header::CONTENT_TYPE, file.content_type.to_owned());
    Ok(match file.disposition {
        Some(disposition) => {
            (StatusCode::OK, [content_type, (header::CONTENT_DISPOSITION, disposition)], file.bytes).into_response()
        }
        None => (StatusCode::OK, [content_type], file.bytes).into_response(),
    })
}

/// A report laid out as its XLSX would be (the same cells and merges, the same checks),
/// for the console's preview: at most the first 500 rows, `rows_total` says how many the
/// file has. ID and phone numbers are masked on every report, the paper forms too, and
/// nothing is audited: only the downloaded file is a print.
#[utoipa::path(get, path = "/api/v1/reports/{name}/preview", tag = "reports",
    params(("name" = String, Path, description = "as for /api/v1/reports/{name}"), ReportParams),
    responses((status = 200, body = crate::reports::sheet::SheetView),
        (status = 400, description = "invalid_date, out_of_range, invalid_region"), (status = 403), (status = 404),
        (status = 422, description = "report_too_large"), (status = 503, description = "busy")),
    security(("bearer" = [])))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(params): Query<ReportParams>,
) -> ApiResult<Json<crate::reports::sheet::SheetView>> {
    let name = ReportName::parse(&name).ok_or_else(Refusal::not_found)?;
    let unit = reports::unit_for(&caller, params.region_code.as_deref())?;
    let period = period(&params)?;
    let options = options(&params)?;
    let limits = Limits { gate: &state.gates.reports, max_households: state.config.reports.max_households };
    Ok(Json(reports::report_sheet_for(&state.db, &caller, name, unit, period, &options, limits).await?))
}
