//! `/api/v1/imports`: a county loads its existing register (对照表 layout, CSV or XLSX).
//! Parses the upload, calls `imports::register` and answers its report (JSON, or the
//! workbook of `imports::report`); nothing else.

use super::error::ApiResult;
use crate::audit::Actor;
use crate::auth::Caller;
use crate::error::Refusal;
use crate::imports::register::{self, ImportReport, ImportRequest};
use crate::imports::report;
use crate::reports::write;
use crate::state::AppState;
use axum::Json;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jingzhun_mobile_api::errors::ErrorCode;
use serde::Deserialize;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImportParams {
    /// Check every row and report, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// `json` (the default) or `xlsx`: the report as a workbook of the failing cells
    /// (行, 列, 字段, 问题) and a summary sheet.
    pub format: Option<String>,
}

/// Imports the register (multipart part `file`). Every row is checked first; the answer
/// names each failing cell (第5行「A4 证件号码」（D5）…). Unless `dry_run`, a file whose
/// cells all pass is written in one transaction (`written: true`); one failing cell
/// writes nothing. Re-importing the same file changes nothing.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", params(ImportParams),
    request_body(content_type = "multipart/form-data", description = "part `file`: the register, CSV (UTF-8) or XLSX, columns as docs/register-import.md"),
    responses((status = 200, body = ImportReport,
            description = "the report; with `format=xlsx` the workbook (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet) instead"), (status = 400, description = "invalid_file"),
        (status = 403, description = "forbidden: only a county or an administrator imports"),
        (status = 422, description = "file_too_many_rows, file_too_many_columns, file_cell_too_large, file_too_large_unpacked"),
        (status = 503, description = "busy")), security(("bearer" = [])))]
pub async fn import_register(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ImportParams>,
    mut multipart: Multipart,
) -> ApiResult<Response> {
    let bad = || Refusal::invalid(ErrorCode::InvalidRequest);
    let xlsx = match params.format.as_deref() {
        None | Some("json") => false,
        Some("xlsx") => true,
        Some(_) => return Err(Refusal::invalid(ErrorCode::UnknownCode).on_field("format")),
    };
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
    let report =
        register::run(&state.db, &Actor::of(&caller), request, &state.gates.parsing, caps, &|_: &str| {}).await?;
    if !xlsx {
        return Ok(Json(report).into_response());
    }
    let bytes = report::xlsx(&report).map_err(Refusal::internal)?;
    let disposition = write::content_disposition("导入校验报告.xlsx", "import-report.xlsx");
    Ok((
        [(header::CONTENT_TYPE, write::XLSX_CONTENT_TYPE.to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response())
}

pub fn routes() -> OpenApiRouter<AppState> {
    // A county's register is large; the JSON body limit does not apply.
    OpenApiRouter::new().routes(routes!(import_register).layer(DefaultBodyLimit::max(64 * 1024 * 1024)))
}
