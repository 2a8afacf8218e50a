//! `/api/v1`: campaigns and milestones (C7) — county staff create and edit them for
//! their region (in one call from the 004 template); supervisors, township and county
//! teams read them and their progress per township and village (JSON, CSV, XLSX).

use super::error::ApiResult;
use crate::error::Refusal;
use super::extract::AppJson;
use crate::state::AppState;
use crate::auth::{Caller, Role};
use crate::campaigns::progress::{self, RegionProgress};
use crate::campaigns::store::{self, Campaign, CampaignError, Milestone, NewCampaign, NewMilestone};
use crate::campaigns::{format_date, template};
use crate::registry::Actor;
use crate::reports::sheet::{Cell, Sheet, Style};
use crate::reports::write;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::NaiveDate;
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list_campaigns).post(create_campaign))
        .route("/campaigns/from-template", post(create_from_template))
        .route("/campaign-templates", get(list_templates))
        .route("/campaigns/{id}", get(get_campaign).patch(update_campaign))
        .route("/campaigns/{id}/milestones", post(add_milestone))
        .route("/campaigns/{id}/progress", get(campaign_progress))
        .route("/milestones/{id}", put(update_milestone).delete(delete_milestone))
}

/// Roles that read campaigns in their region.
const READ_ROLES: [Role; 4] = [Role::Supervisor, Role::Township, Role::County, Role::Admin];

impl From<CampaignError> for Refusal {
    fn from(err: CampaignError) -> Refusal {
        match err {
            CampaignError::UnknownMeasure => field_error("measure", ErrorCode::UnknownMeasure),
            CampaignError::InvalidMilestone => Refusal::invalid(ErrorCode::InvalidMilestone),
            CampaignError::UnknownRegion => field_error("region_code", ErrorCode::InvalidRegion),
            CampaignError::NotFound => Refusal::not_found(),
            CampaignError::Db(err) => Refusal::internal(err),
        }
    }
}

fn field_error(field: &str, code: ErrorCode) -> Refusal {
    Refusal::invalid(code).with_fields(vec![FieldError::new(field, code)])
}

/// The caller's grants among the reading roles, as (region code, prefix).
fn read_grants(caller: &Caller) -> Vec<(&str, &str)> {
    caller
        .grants
        .iter()
        .filter(|g| READ_ROLES.contains(&g.role))
        .map(|g| (g.region_code.as_str(), g.prefix.as_str()))
        .collect()
}

/// A campaign is visible to a reading role over its region, above it, or inside it.
async fn may_read(state: &AppState, caller: &Caller, campaign: &Campaign) -> ApiResult<bool> {
    let grants = read_grants(caller);
    if grants.iter().any(|(_, prefix)| campaign.region_code.starts_with(prefix)) {
        return Ok(true);
    }
    let prefix = campaign_prefix(state, &campaign.region_code).await?;
    Ok(grants.iter().any(|(code, _)| code.starts_with(&prefix)))
}

async fn campaign_prefix(state: &AppState, region_code: &str) -> ApiResult<String> {
    let level = progress::region(&state.db.conn, region_code).await?.map(|r| r.level).unwrap_or_default();
    Ok(region_code[..crate::auth::roles::prefix_len(&level).min(region_code.len())].to_owned())
}

async fn readable(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<Campaign> {
    let campaign = store::get(&state.db.conn, &id.to_string()).await?.ok_or_else(Refusal::not_found)?;
    if !may_read(state, caller, &campaign).await? {
        return Err(Refusal::forbidden());
    }
    Ok(campaign)
}

/// County staff (and administrators) run the campaigns of their region.
async fn managed(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Campaign> {
    let campaign = store::get(&state.db.conn, id).await?.ok_or_else(Refusal::not_found)?;
    if !caller.manages_region(&campaign.region_code) {
        return Err(Refusal::forbidden());
    }
    Ok(campaign)
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct MilestoneBody {
    pub name: String,
    /// First day of the work (`YYYY-MM-DD`, Beijing); empty: no expectation before the due day.
    #[schema(value_type = Option<String>, format = Date)]
    pub starts_on: Option<NaiveDate>,
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    /// `households_visited`, `cases_past_step:<step>`, `quality_problems_left`, `help_plans_entered`.
    pub measure: String,
    /// Percent that counts as done (default 100).
    pub target_percent: Option<i32>,
    /// Days before the due day a reminder goes out (default [3, 1]).
    pub remind_days_before: Option<Vec<i64>>,
}

impl From<MilestoneBody> for NewMilestone {
    fn from(b: MilestoneBody) -> NewMilestone {
        NewMilestone {
            name: b.name,
            starts_on: b.starts_on,
            due_on: b.due_on,
            measure: b.measure,
            target_percent: b.target_percent.unwrap_or(100),
            remind_days_before: b.remind_days_before.unwrap_or_else(|| vec![3, 1]),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CampaignBody {
    pub name: String,
    /// The region covered (12 digits), usually the county.
    pub region_code: String,
    pub year: i32,
    #[serde(default)]
    pub milestones: Vec<MilestoneBody>,
}

/// The campaigns the caller reads.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns",
    responses((status = 200, body = [Campaign])), security(("bearer" = [])))]
pub async fn list_campaigns(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Campaign>>> {
    let mut out = Vec::new();
    for c in store::all(&state.db.conn).await? {
        if may_read(&state, &caller, &c).await? {
            out.push(c);
        }
    }
    Ok(Json(out))
}

/// Creates a campaign with its milestones (county staff of the region).
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = CampaignBody,
    responses((status = 201, body = Campaign), (status = 400, description = "unknown_measure, invalid_milestone, invalid_region"), (status = 403)),
    security(("bearer" = [])))]
pub async fn create_campaign(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<CampaignBody>,
) -> ApiResult<(StatusCode, Json<Campaign>)> {
    if !caller.manages_region(&body.region_code) {
        return Err(Refusal::forbidden());
    }
    let new = NewCampaign {
        name: body.name,
        region_code: body.region_code,
        year: body.year,
        milestones: body.milestones.into_iter().map(Into::into).collect(),
    };
    let campaign = store::create(&state.db, &Actor::of(&caller), new).await?;
    Ok((StatusCode::CREATED, Json(campaign)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TemplateBody {
    /// `dynamic_adjustment_004` (the default): 004 §二's yearly timeline.
    pub template: Option<String>,
    pub region_code: String,
    pub year: i32,
    /// Default: “{year}年度扶贫对象动态管理”.
    pub name: Option<String>,
}

/// Creates a campaign from a template in one call: the 004 timeline (collection 10/10–11/10,
/// entry by 11/28, analysis 12/1–12/10, checking 12/11–12/20, correction 12/21–12/31,
/// summary 1/1–1/5 of the next year).
#[utoipa::path(post, path = "/api/v1/campaigns/from-template", tag = "campaigns", request_body = TemplateBody,
    responses((status = 201, body = Campaign), (status = 400, description = "unknown_template, invalid_region"), (status = 403)),
    security(("bearer" = [])))]
pub async fn create_from_template(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<TemplateBody>,
) -> ApiResult<(StatusCode, Json<Campaign>)> {
    let name = body.template.as_deref().unwrap_or(template::DYNAMIC_ADJUSTMENT);
    if name != template::DYNAMIC_ADJUSTMENT {
        return Err(field_error("template", ErrorCode::UnknownTemplate));
    }
    if !(2000..=2100).contains(&body.year) {
        return Err(field_error("year", ErrorCode::OutOfRange));
    }
    if !caller.manages_region(&body.region_code) {
        return Err(Refusal::forbidden());
    }
    let new = NewCampaign {
        name: body.name.unwrap_or_else(|| format!("{}年度扶贫对象动态管理", body.year)),
        region_code: body.region_code,
        year: body.year,
        milestones: template::dynamic_adjustment(body.year),
    };
    let campaign = store::create(&state.db, &Actor::of(&caller), new).await?;
    Ok((StatusCode::CREATED, Json(campaign)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TemplateView {
    pub template: String,
    pub milestones: Vec<MilestoneBody>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TemplateParams {
    /// The campaign year the dates are shown for (default: this year, Beijing).
    pub year: Option<i32>,
}

/// The campaign templates, with their milestones for a year.
#[utoipa::path(get, path = "/api/v1/campaign-templates", tag = "campaigns", params(TemplateParams),
    responses((status = 200, body = [TemplateView])), security(("bearer" = [])))]
pub async fn list_templates(
    State(state): State<AppState>,
    _caller: Caller,
    Query(params): Query<TemplateParams>,
) -> ApiResult<Json<Vec<TemplateView>>> {
    use chrono::Datelike;
    let year = params.year.unwrap_or_else(|| crate::plans::china_date(state.clock.now()).year());
    if !(2000..=2100).contains(&year) {
        return Err(field_error("year", ErrorCode::OutOfRange));
    }
    let milestones = template::dynamic_adjustment(year)
        .into_iter()
        .map(|m| MilestoneBody {
            name: m.name,
            starts_on: m.starts_on,
            due_on: m.due_on,
            measure: m.measure,
            target_percent: Some(m.target_percent),
            remind_days_before: Some(m.remind_days_before),
        })
        .collect();
    Ok(Json(vec![TemplateView { template: template::DYNAMIC_ADJUSTMENT.into(), milestones }]))
}

/// One campaign with its milestones.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = Uuid, Path)),
    responses((status = 200, body = Campaign), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(readable(&state, &caller, id).await?))
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
    let id = id.to_string();
    managed(&state, &caller, &id).await?;
    Ok(Json(store::update(&state.db, &Actor::of(&caller), &id, body.name, body.status).await?))
}

/// Adds a milestone to a campaign (county staff of its region).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/milestones", tag = "campaigns", params(("id" = Uuid, Path)), request_body = MilestoneBody,
    responses((status = 201, body = Milestone), (status = 400, description = "unknown_measure, invalid_milestone"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn add_milestone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<MilestoneBody>,
) -> ApiResult<(StatusCode, Json<Milestone>)> {
    let id = id.to_string();
    managed(&state, &caller, &id).await?;
    let stored = store::add_milestone(&state.db, &Actor::of(&caller), &id, &body.into()).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

async fn managed_milestone(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Milestone> {
    let m = store::milestone(&state.db.conn, id).await?.ok_or_else(Refusal::not_found)?;
    managed(state, caller, &m.campaign_id).await?;
    Ok(m)
}

/// Changes a milestone's dates, measure, target or reminders (county staff).
#[utoipa::path(put, path = "/api/v1/milestones/{id}", tag = "campaigns", params(("id" = Uuid, Path)), request_body = MilestoneBody,
    responses((status = 200, body = Milestone), (status = 400), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn update_milestone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<MilestoneBody>,
) -> ApiResult<Json<Milestone>> {
    let id = id.to_string();
    managed_milestone(&state, &caller, &id).await?;
    Ok(Json(store::update_milestone(&state.db, &Actor::of(&caller), &id, &body.into()).await?))
}

/// Removes a milestone (county staff).
#[utoipa::path(delete, path = "/api/v1/milestones/{id}", tag = "campaigns", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete_milestone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let id = id.to_string();
    managed_milestone(&state, &caller, &id).await?;
    store::delete_milestone(&state.db, &Actor::of(&caller), &id).await?;
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MilestoneProgress {
    pub milestone: Milestone,
    /// The campaign's region first, then each township followed by its villages (those
    /// the caller reads).
    pub regions: Vec<RegionProgress>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProgressView {
    pub campaign_id: String,
    pub campaign: String,
    #[schema(value_type = String, format = Date)]
    pub on: NaiveDate,
    pub milestones: Vec<MilestoneProgress>,
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
        return Err(field_error("format", ErrorCode::UnknownCode));
    }
    let campaign = readable(&state, &caller, id).await?;
    let on = params.on.unwrap_or_else(|| crate::plans::china_date(state.clock.now()));
    let prefixes: Vec<&str> = read_grants(&caller).into_iter().map(|(_, p)| p).collect();
    let mut milestones = Vec::new();
    let mut cache = progress::CountsCache::default();
    for m in &campaign.milestones {
        if params.milestone_id.is_some_and(|wanted| wanted.to_string() != m.id) {
            continue;
        }
        let regions = progress::compute(&state.db.conn, &campaign, m, on, &mut cache)
            .await?
            .into_iter()
            .filter(|l| prefixes.iter().any(|p| l.region_code.starts_with(p)))
            .collect();
        milestones.push(MilestoneProgress { milestone: m.clone(), regions });
    }
    if params.milestone_id.is_some() && milestones.is_empty() {
        return Err(Refusal::not_found());
    }
    let view = ProgressView { campaign_id: campaign.id.clone(), campaign: campaign.name.clone(), on, milestones };
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
    }
}
