//! `/api/v1` notifications: message templates, each user's channel preferences, a test
//! send through a configured channel, the delivery log, and the regions' WeCom group
//! robots. Handlers only parse, call the services of `crate::notifications` and map the answer.
//!
//! Who may do what is decided by those services, which also open the transactions and
//! write the audit entries; this file must never touch SQL, a transaction or a
//! permission itself.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiResult;
use super::extract::AppJson;
use crate::auth::Caller;
use crate::notifications::deliveries::{self, AttemptBody, DeliveryBody, LogParams, TestSendBody, TestSendResult};
use crate::notifications::preferences::{self, PreferenceBody, PreferencesBody};
use crate::notifications::robots::{self, NewRobot, RobotBody, RobotUpdate};
use crate::notifications::templates::{self, TemplateBody, TemplateUpdate};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates))
        .routes(routes!(update_template))
        .routes(routes!(my_preferences, set_my_preference))
        .routes(routes!(user_preferences, set_user_preference))
        .routes(routes!(delivery_log))
        .routes(routes!(attempts))
        .routes(routes!(resend))
        .routes(routes!(cancel))
        .routes(routes!(test_send))
        .routes(routes!(list_robots, add_robot))
        .routes(routes!(set_robot))
}

/// Every message template (county staff and administrators).
#[utoipa::path(get, path = "/api/v1/notification-templates", tag = "notifications",
    responses((status = 200, body = [TemplateBody]), (status = 403)), security(("bearer" = [])))]
pub async fn list_templates(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<TemplateBody>>> {
    Ok(Json(templates::list(&state.db.conn, &caller).await?))
}

/// Edits one template (administrators): subject, body, SMS template code and variables.
#[utoipa::path(put, path = "/api/v1/notification-templates/{event}/{channel}", tag = "notifications",
    params(("event" = String, Path), ("channel" = String, Path)), request_body = TemplateUpdate,
    responses((status = 200, body = TemplateBody), (status = 400), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn update_template(
    State(state): State<AppState>,
    caller: Caller,
    Path((event, channel)): Path<(String, String)>,
    AppJson(update): AppJson<TemplateUpdate>,
) -> ApiResult<Json<TemplateBody>> {
    Ok(Json(templates::update(&state.db, &state.clock, &caller, &event, &channel, update).await?))
}

/// The caller's own channel preferences.
#[utoipa::path(get, path = "/api/v1/notification-preferences", tag = "notifications",
    responses((status = 200, body = PreferencesBody)), security(("bearer" = [])))]
pub async fn my_preferences(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PreferencesBody>> {
    Ok(Json(preferences::get(&state.db.conn, &caller, &caller.user_id).await?))
}

/// Turns one of the caller's own channels on or off.
#[utoipa::path(put, path = "/api/v1/notification-preferences", tag = "notifications", request_body = PreferenceBody,
    responses((status = 200, body = PreferencesBody), (status = 400)), security(("bearer" = [])))]
pub async fn set_my_preference(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<PreferenceBody>,
) -> ApiResult<Json<PreferencesBody>> {
    Ok(Json(preferences::set(&state.db, &state.clock, &caller, &caller.user_id, body).await?))
}

/// A user's channel preferences (county staff of the user's region, or the user).
#[utoipa::path(get, path = "/api/v1/users/{id}/notification-preferences", tag = "notifications",
    params(("id" = String, Path)), responses((status = 200, body = PreferencesBody), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn user_preferences(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PreferencesBody>> {
    Ok(Json(preferences::get(&state.db.conn, &caller, &id).await?))
}

/// Sets a user's channel on or off (county staff of the user's region, or the user).
#[utoipa::path(put, path = "/api/v1/users/{id}/notification-preferences", tag = "notifications",
    params(("id" = String, Path)), request_body = PreferenceBody,
    responses((status = 200, body = PreferencesBody), (status = 400), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn set_user_preference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<PreferenceBody>,
) -> ApiResult<Json<PreferencesBody>> {
    Ok(Json(preferences::set(&state.db, &state.clock, &caller, &id, body).await?))
}

/// The delivery log: a user's own messages; county staff and administrators see every
/// message of their region (filed under the event's region or sent to someone holding a
/// role there).
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(LogParams),
    responses((status = 200, body = [DeliveryBody])), security(("bearer" = [])))]
pub async fn delivery_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<LogParams>,
) -> ApiResult<Json<Vec<DeliveryBody>>> {
    Ok(Json(deliveries::log(&state.db.conn, &caller, &params).await?))
}

/// Every attempt at one message (whoever may see the message in the delivery log).
#[utoipa::path(get, path = "/api/v1/notifications/{id}/attempts", tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = [AttemptBody]), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<AttemptBody>>> {
    Ok(Json(deliveries::attempts(&state.db.conn, &caller, &id).await?))
}

/// Sends one sample message through a configured channel now (administrators and county
/// staff), to the caller's own address or one of a user or group robot they manage
/// (`recipient_not_allowed` otherwise), at most a few an hour. It goes through the outbox
/// like any message: quiet hours and the per-number limits apply (a held test is
/// cancelled and answered `rate_limited`), and it shows in the delivery log. Answers with
/// the provider's reply. Audited with the address masked.
#[utoipa::path(post, path = "/api/v1/notifications/test-send", tag = "notifications", request_body = TestSendBody,
    responses((status = 200, body = TestSendResult), (status = 400), (status = 403, description = "recipient_not_allowed"),
        (status = 409), (status = 429, description = "rate_limited: too many test sends, or the recipient's limit or quiet hours hold it")),
    security(("bearer" = [])))]
pub async fn test_send(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<TestSendBody>,
) -> ApiResult<Json<TestSendResult>> {
    Ok(Json(deliveries::test_send(&state.db, &state.clock, &state.config.notify, &caller, body).await?))
}

/// The WeCom group robots of the regions the caller manages.
#[utoipa::path(get, path = "/api/v1/notification-robots", tag = "notifications",
    responses((status = 200, body = [RobotBody]), (status = 403)), security(("bearer" = [])))]
pub async fn list_robots(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<RobotBody>>> {
    Ok(Json(robots::list(&state.db.conn, &caller).await?))
}

/// Adds a region's WeCom group robot (county staff of the region); events concerning the
/// region are then posted to the group too.
#[utoipa::path(post, path = "/api/v1/notification-robots", tag = "notifications", request_body = NewRobot,
    responses((status = 200, body = RobotBody), (status = 400), (status = 403)), security(("bearer" = [])))]
pub async fn add_robot(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<NewRobot>,
) -> ApiResult<Json<RobotBody>> {
    Ok(Json(robots::add(&state.db, &state.clock, &caller, body).await?))
}

/// Turns a WeCom group robot on or off (county staff of its region).
#[utoipa::path(put, path = "/api/v1/notification-robots/{id}", tag = "notifications", params(("id" = String, Path)),
    request_body = RobotUpdate, responses((status = 200, body = RobotBody), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn set_robot(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<RobotUpdate>,
) -> ApiResult<Json<RobotBody>> {
    Ok(Json(robots::set_active(&state.db, &caller, &id, body).await?))
}

/// Queues a message again after a person checked it did not arrive: `unknown` rows
/// (the provider may have it) and `failed` ones (e.g. after fixing a template code).
/// County staff of its region; the dispatcher never does this by itself.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/resend", tag = "notifications", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn resend(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    deliveries::resend(&state.db, &state.clock, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancels a message not sent yet (`queued` or `held`); county staff of its region.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/cancel", tag = "notifications", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn cancel(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    deliveries::cancel(&state.db, &state.clock, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
