//! `/api/v1`: campaigns and milestones (C7) — county staff create and edit them for
//! their region (in one call from the 004 template); supervisors, township and county
//! teams read them and their progress per township and village (JSON, CSV, XLSX).
//!
//! Handlers parse, call `crate::campaigns` with the caller, and map the answer: who may
//! read or change a campaign is decided there, never here.

use super::error::ApiResult;
use super::extract::AppJson;
use crate::audit::Actor;
use crate::auth::Caller;
use crate::campaigns::campaign::{self, Campaign, Milestone, NewCampaign, NewMilestone};
use crate::campaigns::progress::ProgressView;
use crate::campaigns::template::{self, TemplateView};
use crate::campaigns::{access, format_date};
use crate::error::Refusal;
use crate::reports::sheet::{Cell, Sheet, Style};
use crate::reports::write;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use jingzhun_mobile_api::errors::ErrorCode;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(create_from_template))
        .routes(routes!(list_templates))
        .routes(routes!(get_campaign, update_campaign))
        .routes(routes!(add_milestone))
        .routes(routes!(campaign_progress))
        .routes(routes!(update_milestone, delete_milestone))
}

/// The campaigns the caller reads.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns",
    responses((status = 200, body = [Campaign])), security(("bearer" = [])))]
pub async fn list_campaigns(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Campaign>>> {
    Ok(Json(access::visible(&state.db.conn, &caller).await?))
}

/// Creates a campaign with its milestones (county staff of the region).
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = NewCampaign,
    responses((status = 201, body = Campaign), (status = 400, description = "unknown_measure, invalid_milestone, invalid_region"), (status = 403)),
    security(("bearer" = [])))]
pub async fn create_campaign(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<NewCampaign>,
) -> ApiResult<(StatusCode, Json<Campaign>)> {
    let campaign = campaign::create(&state.db, &Actor::of(&caller), body).await?;
    Ok((StatusCode::CREATED, Json(campaign)))
}

// Named apart from the notification templates' `TemplateBody`: utoipa keys schemas by
// name, so with one name the OpenAPI document typed this request as a message template.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CampaignTemplateBody)]
pub struct TemplateBody {
    /// `dynamic_adjustment_004` (the default): 004 §二's yearly timeline.
    pub template: Option<String>,
    pub region_code: String,
    pub year: i32,
    /// Default: “{year}年度扶贫对象动态管理”.
    pub name: Option<String>,
}

/// Creates a campaign from a template in one call: the 004 §二 timeline (procedures and
/// collection 10/10–11/10, summary report 11/11, entry by 11/28, 查漏补缺 by 11/30, problem
/// list 12/1–12/10, checking 12/11–12/20, correction 12/21–12/31, summary 1/1–1/5 of the
/// next year), each milestone measured by what 004 asks for that day.
#[utoipa::path(post, path = "/api/v1/campaigns/from-template", tag = "campaigns", request_body = TemplateBody,
    responses((status = 201, body = Campaign), (status = 400, description = "unknown_template, invalid_region"), (status = 403)),
    security(("bearer" = [])))]
pub async fn create_from_template(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<TemplateBody>,
) -> ApiResult<(StatusCode, Json<Campaign>)> {
    let new = template::campaign(body.template.as_deref(), body.region_code, body.year, body.name)?;
    let campaign = campaign::create(&state.db, &Actor::of(&caller), new).await?;
    Ok((StatusCode::CREATED, Json(campaign)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TemplateParams {
    /// The campaign year the dates are shown for (default: this year, Beijing).
    pub year: Option<i32>,
}

/// The campaign templates, with their milestones for a year.
// The operation is named apart from the notification templates' `list_templates`: the
// console's generated types key operations by id, and one name gave both the same answer.
#[utoipa::path(get, path = "/api/v1/campaign-templates", tag = "campaigns", operation_id = "list_campaign_templates", params(TemplateParams),
    responses((status = 200, body = [TemplateView])), security(("bearer" = [])))]
pub async fn list_templates(
    State(state): State<AppState>,
    _caller: Caller,
    Query(params): Query<TemplateParams>,
) -> ApiResult<Json<Vec<TemplateView>>> {
    use chrono::Datelike;
    let year = params.year.unwrap_or_else(|| crate::plans::china_date(state.clock.now()).year());
    Ok(Json(template::list(year)?))
}

/// One campaign with its milestones.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = Uuid, Path)),
    responses((status = 200, body = Campaign), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(access::readable(&state.db.conn, &caller, &id.to_string()).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CampaignPatch {
    pub name: Option<String>,
    /// `active` or `closed` (closed campaigns send no reminders).
    pub status: Option<String>,
}

/// Renames a campaign, or closes or reopens it (county staff of its region).
#[utoipa::path(patch, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = Uuid, Path)), request_body = CampaignPatch,
    responses((status = 200, body = Campaign), (status = 400), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn update_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<CampaignPatch>,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(campaign::update(&state.db, &Actor::of(&caller), &id.to_string(), body.name, body.status).await?))
}

/// Adds a milestone to a campaign (county staff of its region).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/milestones", tag = "campaigns", params(("id" = Uuid, Path)), request_body = NewMilestone,
    responses((status = 201, body = Milestone), (status = 400, description = "unknown_measure, invalid_milestone"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn add_milestone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<NewMilestone>,
) -> ApiResult<(StatusCode, Json<Milestone>)> {
    let stored = campaign::add_milestone(&state.db, &Actor::of(&caller), &id.to_string(), &body).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// Changes a milestone's dates, measure, target or reminders (county staff).
#[utoipa::path(put, path = "/api/v1/milestones/{id}", tag = "campaigns", params(("id" = Uuid, Path)), request_body = NewMilestone,
    responses((status = 200, body = Milestone), (status = 400), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn update_milestone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<NewMilestone>,
) -> ApiResult<Json<Milestone>> {
    Ok(Json(campaign::update_milestone(&state.db, &Actor::of(&caller), &id.to_string(), &body).await?))
}

/// Removes a milestone (county staff).
#[utoipa::path(delete, path = "/api/v1/milestones/{id}", tag = "campaigns", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete_milestone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    campaign::delete_milestone(&state.db, &Actor::of(&caller), &id.to_string()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ProgressParams {
    /// Only this milestone.
    pub milestone_id: Option<Uuid>,
    /// The day whose expected share the progress is held against (default: today,
    /// Beijing). The counts are always from the data as it stands now.
    pub on: Option<NaiveDate>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

/// Progress of each milestone per township and village, computed from the data now.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/progress", tag = "campaigns", params(("id" = Uuid, Path), ProgressParams),
    responses((status = 200, body = ProgressView, description = "JSON, or a CSV or XLSX file with `format`"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn campaign_progress(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(params): Query<ProgressParams>,
) -> ApiResult<Response> {
    let format = params.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "xlsx") {
        return Err(Refusal::invalid(ErrorCode::UnknownCode).on_field("format"));
    }
    let on = params.on.unwrap_or_else(|| crate::plans::china_date(state.clock.now()));
    let milestone_id = params.milestone_id.map(|m| m.to_string());
    let view = access::progress(&state.db.conn, &caller, &id.to_string(), milestone_id.as_deref(), on).await?;
    if format == "json" {
        return Ok(Json(view).into_response());
    }
    let sheet = progress_sheet(&view);
    let file = format!("{}进度{}.{format}", view.campaign, format_date(on));
    let ascii = format!("campaign-progress-{}.{format}", format_date(on));
    let (content_type, bytes) = if format == "csv" {
        (write::CSV_CONTENT_TYPE, write::csv(&sheet).map_err(Refusal::internal)?)
    } else {
        (write::XLSX_CONTENT_TYPE, write::xlsx(&sheet).map_err(Refusal::internal)?)
    };
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, write::content_disposition(&file, &ascii)),
        ],
        bytes,
    )
        .into_response())
}

/// The progress as one table: a row per milestone and region (C9: campaign progress).
fn progress_sheet(view: &ProgressView) -> Sheet {
    let header = ["工作节点", "截止日期", "指标", "地区", "层级", "已完成", "总数", "完成率%", "应达%", "滞后"];
    let mut rows = vec![
        vec![(Cell::Text(format!("{} 进度（{}）", view.campaign, format_date(view.on))), Style::Title)],
        header.iter().map(|h| (Cell::Text((*h).to_owned()), Style::Header)).collect(),
    ];
    for mp in &view.milestones {
        for l in &mp.regions {
            rows.push(vec![
                (Cell::Text(mp.milestone.name.clone()), Style::Data),
                (Cell::Text(format_date(mp.milestone.due_on)), Style::Data),
                (Cell::Text(mp.milestone.measure.clone()), Style::Data),
                (Cell::Text(l.name.clone()), Style::Data),
                (Cell::Text(l.level.clone()), Style::Data),
                (Cell::Int(l.done), Style::Data),
                (Cell::Int(l.total), Style::Data),
                (Cell::Text(format!("{:.1}", f64::from(l.share_permille) / 10.0)), Style::Data),
                (Cell::Text(format!("{:.1}", f64::from(l.expected_permille) / 10.0)), Style::Data),
                (Cell::Text(if l.lagging { "是" } else { "" }.to_owned()), Style::Data),
            ]);
        }
    }
    for row in &mut rows {
        row.resize(header.len(), (Cell::Empty, Style::Data));
    }
    Sheet {
        name: "进度".into(),
        width: header.len(),
        rows,
        merges: Vec::new(),
        column_widths: vec![20.0, 12.0, 30.0, 16.0, 10.0, 10.0, 10.0, 10.0, 10.0, 8.0],
        freeze: Some((2, 0)),
        ..Default::default()
    }
}
