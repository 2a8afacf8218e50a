//! `/api/v1/notices` and `/api/v1/objections`: the publishing levels' side of public
//! notices (C5, R10) — draft, publish, posting photos, close — and the investigation
//! of objections. The villagers' side is `notice_pages`.
//!
//! Handlers parse, call `crate::notices` with the caller, and map the answer; who may
//! see or act on a notice is decided there, never here.

use super::error::ApiResult;
use super::extract::AppJson;
use crate::attachments;
use crate::auth::Caller;
use crate::db::page::Page;
use crate::notices::notice::{self, NewNotice, NoticeSummary, NoticeSummaryFilter, NoticeView, WaitingNotice};
use crate::notices::objections::{self, Answer, BulkDismissal, BulkDismissed, ObjectionView};
use crate::notices::postings;
use crate::state::AppState;
use axum::Json;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use serde::Deserialize;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes(config: &crate::config::Config) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notices, create_notice))
        .routes(routes!(notice_summaries))
        .routes(routes!(waiting_notices))
        .routes(routes!(get_notice))
        .routes(routes!(publish_notice))
        .routes(routes!(withdraw_notice))
        .routes(routes!(add_posting))
        // Photos are larger than JSON bodies; the handler enforces the exact limit.
        .routes(
            routes!(upload_posting_photo).layer(DefaultBodyLimit::max(config.sync.attachment_max_bytes + 64 * 1024)),
        )
        .routes(routes!(close_notice))
        .routes(routes!(dismiss_objections))
        .routes(routes!(list_objections))
        .routes(routes!(answer_objection))
}

fn with_url(state: &AppState, mut view: NoticeView) -> NoticeView {
    if let Some(url) = &view.url {
        view.url = Some(format!("{}{url}", state.config.public_url()));
    }
    view
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// draft, published, closed or withdrawn.
    pub status: Option<String>,
}

/// Notices in the caller's regions, newest first.
#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", params(ListQuery),
    responses((status = 200, body = [NoticeView])), security(("bearer" = [])))]
pub async fn list_notices(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<NoticeView>>> {
    let views = notice::list(&state.db, &caller, query.status.as_deref()).await?;
    Ok(Json(views.into_iter().map(|v| with_url(&state, v)).collect()))
}

/// Drafts a notice: gathers the cases waiting at the step in the region.
#[utoipa::path(post, path = "/api/v1/notices", tag = "notices", request_body = NewNotice,
    responses((status = 200, body = NoticeView), (status = 422, description = "notice_empty: no case waits at this step"),
        (status = 403, description = "out_of_scope")), security(("bearer" = [])))]
pub async fn create_notice(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<NewNotice>,
) -> ApiResult<Json<NoticeView>> {
    Ok(Json(with_url(&state, notice::create_draft(&state.db, &caller, body).await?)))
}

/// The console's 公示公告 table: notices in the caller's regions by status, step and
/// region, newest first, a page at a time with the total and each one's objection count.
#[utoipa::path(get, path = "/api/v1/notice-summaries", tag = "notices", params(NoticeSummaryFilter),
    responses((status = 200, description = "a page of notices", body = Page<NoticeSummary>)), security(("bearer" = [])))]
pub async fn notice_summaries(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<NoticeSummaryFilter>,
) -> ApiResult<Json<Page<NoticeSummary>>> {
    Ok(Json(notice::summaries(&state.db, &caller, filter).await?))
}

/// The cases waiting for a notice the caller may draft, by notice step and region, with
/// the identifications a draft would hold back and why.
#[utoipa::path(get, path = "/api/v1/notices/waiting", tag = "notices",
    responses((status = 200, body = [WaitingNotice])), security(("bearer" = [])))]
pub async fn waiting_notices(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<WaitingNotice>>> {
    Ok(Json(notice::waiting(&state.db, &caller).await?))
}

/// A notice with its cases, content and hash, and what the caller may do with it now
/// (`actions`).
#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "notices", params(("id" = Uuid, Path)),
    responses((status = 200, body = NoticeView)), security(("bearer" = [])))]
pub async fn get_notice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<NoticeView>> {
    let view = notice::for_caller(&state.db, &caller, &id.to_string(), state.clock.now()).await?;
    Ok(Json(with_url(&state, view)))
}

/// Publishes a draft: freezes and hashes its content, opens the period, gives it its public URL.
#[utoipa::path(post, path = "/api/v1/notices/{id}/publish", tag = "notices", params(("id" = Uuid, Path)),
    responses((status = 200, body = NoticeView), (status = 409, description = "notice_not_draft")), security(("bearer" = [])))]
pub async fn publish_notice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<NoticeView>> {
    let view = notice::publish(&state.db, &caller, &id.to_string(), state.clock.now()).await?;
    Ok(Json(with_url(&state, view)))
}

/// Withdraws a draft (a published notice cannot be changed or withdrawn).
#[utoipa::path(post, path = "/api/v1/notices/{id}/withdraw", tag = "notices", params(("id" = Uuid, Path)),
    responses((status = 200, body = NoticeView), (status = 409, description = "notice_not_draft")), security(("bearer" = [])))]
pub async fn withdraw_notice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<NoticeView>> {
    Ok(Json(with_url(&state, notice::withdraw(&state.db, &caller, &id.to_string()).await?)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Posting {
    /// An uploaded photo of the notice on the village board.
    pub attachment_id: Uuid,
}

/// Adds a photo of the posted notice as evidence.
#[utoipa::path(post, path = "/api/v1/notices/{id}/postings", tag = "notices", params(("id" = Uuid, Path)),
    request_body = Posting, responses((status = 200, body = NoticeView)), security(("bearer" = [])))]
pub async fn add_posting(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<Posting>,
) -> ApiResult<Json<NoticeView>> {
    Ok(Json(with_url(&state, notice::add_posting(&state.db, &caller, &id.to_string(), body.attachment_id).await?)))
}

/// Uploads a photo of the posted notice from the office (a photo from a phone's gallery,
/// at a PC) and adds it to the notice's postings, for the same people as `postings`. Only
/// JPEG and PNG, as the bytes show them; the same bytes again add nothing. The photo is
/// readable by whoever reads the notice (`GET /api/mobile/v1/attachments/{id}`, with the
/// console's cookie too).
#[utoipa::path(post, path = "/api/v1/notices/{id}/postings/photo", tag = "notices", params(("id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", description = "part `file`"),
    responses((status = 200, body = NoticeView), (status = 400, description = "invalid_request"),
        (status = 403, description = "out_of_scope"), (status = 409, description = "notice_not_published"),
        (status = 413, description = "attachment_too_large (sync.attachment_max_bytes), or quota_exceeded ([uploads])"),
        (status = 415, description = "content_type_not_allowed: the bytes are not a JPEG or PNG image")),
    security(("bearer" = [])))]
pub async fn upload_posting_photo(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    multipart: Multipart,
) -> ApiResult<Json<NoticeView>> {
    let photo = attachments::read_photo(multipart, state.config.sync.attachment_max_bytes).await?;
    let quotas = attachments::Quotas::from_config(&state.config.uploads);
    let view = postings::upload_photo(&state.db, &caller, &id.to_string(), photo, quotas).await?;
    Ok(Json(with_url(&state, view)))
}

/// Closes a notice now if its period has ended with no open objection (the server also
/// does this by itself every minute): its cases move on.
#[utoipa::path(post, path = "/api/v1/notices/{id}/close", tag = "notices", params(("id" = Uuid, Path)),
    responses((status = 200, body = NoticeView),
        (status = 409, description = "notice_period_running, objections_open or notice_not_published")),
    security(("bearer" = [])))]
pub async fn close_notice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<NoticeView>> {
    Ok(Json(with_url(&state, notice::close_now(&state.db, &caller, &id.to_string(), state.clock.now()).await?)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ObjectionQuery {
    pub notice_id: Option<Uuid>,
    /// open, upheld or dismissed.
    pub status: Option<String>,
}

/// Objections to notices in the caller's regions.
#[utoipa::path(get, path = "/api/v1/objections", tag = "notices", params(ObjectionQuery),
    responses((status = 200, body = [ObjectionView])), security(("bearer" = [])))]
pub async fn list_objections(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ObjectionQuery>,
) -> ApiResult<Json<Vec<ObjectionView>>> {
    let notice_id = query.notice_id.map(|id| id.to_string());
    Ok(Json(objections::list(&state.db, &caller, notice_id.as_deref(), query.status.as_deref()).await?))
}

/// Answers an objection with findings: `upheld` sends the case back to home
/// verification (and off the notice); `dismissed` lets the notice go on.
#[utoipa::path(post, path = "/api/v1/objections/{id}/answer", tag = "notices", params(("id" = Uuid, Path)),
    request_body = Answer, responses((status = 200, body = ObjectionView),
        (status = 409, description = "objection_answered"), (status = 422, description = "cases_required")),
    security(("bearer" = [])))]
pub async fn answer_objection(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<Answer>,
) -> ApiResult<Json<ObjectionView>> {
    Ok(Json(objections::answer(&state.db, &caller, &id.to_string(), body, state.clock.now()).await?))
}

/// Dismisses many open objections of a notice at once as duplicates or spam, with one
/// finding each objector reads at the receipt page (the level that answers the notice's
/// objections; each one audited). Choose them by id, or all of one sender by the
/// `source` label the objection list shows. The notice closes if nothing else blocks it.
#[utoipa::path(post, path = "/api/v1/notices/{id}/objections/dismiss", tag = "notices", params(("id" = Uuid, Path)),
    request_body = BulkDismissal, responses((status = 200, body = BulkDismissed),
        (status = 400, description = "invalid_request or note_required"), (status = 403, description = "out_of_scope")),
    security(("bearer" = [])))]
pub async fn dismiss_objections(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<BulkDismissal>,
) -> ApiResult<Json<BulkDismissed>> {
    Ok(Json(objections::dismiss_many(&state.db, &caller, &id.to_string(), body, state.clock.now()).await?))
}
