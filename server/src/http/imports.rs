//! `/api/v1/imports`: a county loads its existing register (对照表 layout, CSV or XLSX)
//! as a job, and follows it at `/api/v1/imports/{id}`. Parses the upload and the query,
//! calls `imports::job` and answers the report (JSON, or the workbook of
//! `imports::report`) or the job's progress; nothing else (who may import or see a job
//! is the service's to decide).

use super::error::ApiResult;
use crate::auth::Caller;
use crate::error::Refusal;
use crate::imports::job::{self, ImportJob};
use crate::imports::register::{self, ImportReport, ImportRequest};
use crate::imports::report;
use crate::reports::write;
use crate::state::AppState;
use axum::Json;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jingzhun_mobile_api::errors::ErrorCode;
use serde::Deserialize;
use std::time::Duration;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// The longest a POST waits for its import before answering 202 with the job: well
/// inside the request timeout, so a county's large register never answers 408.
const MOST_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImportParams {
    /// Check every row and report, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// `json` (the default) or `xlsx`: the report as a workbook of the failing cells
    /// (行, 列, 字段, 问题) and a summary sheet.
    pub format: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct JobParams {
    /// `json` (the default: the job) or `xlsx`: the finished job's report as a workbook.
    pub format: Option<String>,
}

fn wants_xlsx(format: Option<&str>) -> Result<bool, Refusal> {
    match format {
        None | Some("json") => Ok(false),
        Some("xlsx") => Ok(true),
        Some(_) => Err(Refusal::invalid(ErrorCode::UnknownCode).on_field("format")),
    }
}

fn workbook(report: &ImportReport) -> Result<Response, Refusal> {
    let bytes = report::xlsx(report).map_err(Refusal::internal)?;
    let disposition = write::content_disposition("导入校验报告.xlsx", "import-report.xlsx");
    Ok((
        [(header::CONTENT_TYPE, write::XLSX_CONTENT_TYPE.to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response())
}

/// Imports the register (multipart part `file`) as a job. Every row is checked first;
/// the report names each failing cell (第5行「A4 证件号码」（D5）…). Unless `dry_run`, a
/// file whose cells all pass is written in one transaction (`written: true`); one
/// failing cell writes nothing. Re-importing the same file changes nothing.
///
/// A file that is through within a few seconds is answered at once: 200 with the
/// report (or its workbook), the job named in `Location`. A larger one (or any, with
/// `Prefer: respond-async`) is answered 202 with the job, whose page
/// (`GET /api/v1/imports/{id}`) shows its progress and then its report; the import goes
/// on without the request timeout.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", params(ImportParams,
        ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 with the job at once")),
    request_body(content_type = "multipart/form-data", description = "part `file`: the register, CSV (UTF-8) or XLSX, columns as docs/register-import.md"),
    responses((status = 200, body = ImportReport,
            description = "the report; with `format=xlsx` the workbook (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet) instead; `Location` names the job"),
        (status = 202, body = ImportJob, description = "still running: the job, to follow at its `Location`"),
        (status = 400, description = "invalid_file"),
        (status = 403, description = "forbidden: only a county or an administrator imports"),
        (status = 422, description = "file_too_many_rows, file_too_many_columns, file_cell_too_large, file_too_large_unpacked"),
        (status = 503, description = "busy")), security(("bearer" = [])))]
pub async fn import_register(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ImportParams>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> ApiResult<Response> {
    let bad = || Refusal::invalid(ErrorCode::InvalidRequest);
    let xlsx = wants_xlsx(params.format.as_deref())?;
    let respond_async = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("respond-async")));
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| bad())? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("register.csv").to_owned();
            file = Some((name, field.bytes().await.map_err(|_| bad())?.to_vec()));
        }
    }
    let (file_name, bytes) = file.ok_or_else(bad)?;
    let request = ImportRequest { file_name, bytes, dry_run: params.dry_run };
    let caps = register::caps(&state.config.uploads);
    let started = job::start(&state.import_jobs, &state.db, &caller, request, &state.gates.parsing, caps).await?;
    let location = format!("/api/v1/imports/{}", started.id);
    // Half the request timeout at most: the answer must leave before the timeout does.
    let wait = if respond_async {
        Duration::ZERO
    } else {
        MOST_WAIT.min(Duration::from_millis(state.config.http.request_timeout_secs * 500))
    };
    let id = match job::wait(started, wait).await {
        Ok(result) => {
            let report = result?;
            let mut response = if xlsx { workbook(&report)? } else { Json(report).into_response() };
            if let Ok(value) = location.parse() {
                response.headers_mut().insert(header::LOCATION, value);
            }
            return Ok(response);
        }
        Err(id) => id,
    };
    let view = job::get(&state.import_jobs, &state.db, &caller, &id).await?;
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(view)).into_response())
}

/// An import job: its stage (says whether anything has been written yet), rows read
/// and checked and households written of the total, and once done its report (with
/// `format=xlsx`, the report's workbook). Seen by its importer and by a county or
/// administrator over the importer's region; to anyone else there is no such job. A
/// job cut off by a server restart reads `interrupted`: nothing of it was written.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", params(("id" = String, Path), JobParams),
    responses((status = 200, body = ImportJob,
            description = "the job; with `format=xlsx` its report's workbook"),
        (status = 403, description = "forbidden: only a county or an administrator imports"),
        (status = 404, description = "no such job for this caller"),
        (status = 409, description = "import_not_finished: the workbook comes when the job is done")),
    security(("bearer" = [])))]
pub async fn import_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<JobParams>,
) -> ApiResult<Response> {
    let xlsx = wants_xlsx(params.format.as_deref())?;
    let view = job::get(&state.import_jobs, &state.db, &caller, &id).await?;
    if !xlsx {
        return Ok(Json(view).into_response());
    }
    workbook(view.report.as_ref().ok_or_else(job::not_finished)?)
}

pub fn routes() -> OpenApiRouter<AppState> {
    // A county's register is large; the JSON body limit does not apply.
    OpenApiRouter::new()
        .routes(routes!(import_register).layer(DefaultBodyLimit::max(64 * 1024 * 1024)))
        .routes(routes!(import_job))
}
