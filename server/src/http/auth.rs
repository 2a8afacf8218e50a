//! Signing in and out, on `/api/mobile/v1/auth` and `/api/v1/auth`: login (the service
//! is `auth::login`), logout, password change. Handlers parse, call and map; the client's
//! address and `Retry-After` are the only things decided here.

use super::error::ApiResult;
use super::extract::AppJson;
use crate::auth::{self, Caller};
use crate::error::Refusal;
use crate::registry::{self, Actor};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::wire::{LoginRequest, LoginResponse};
use serde::Deserialize;
use std::net::SocketAddr;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The client's address: the peer, or the header a trusted reverse proxy sets
/// (`notices.client_ip_header`, which public pages use too).
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ClientAddr, Self::Rejection> {
        Ok(ClientAddr(client_address(state, parts)))
    }
}

/// The client's address: the header a trusted reverse proxy sets, else the peer.
pub fn client_address(state: &AppState, parts: &Parts) -> String {
    let header_name = &state.config.notices.client_ip_header;
    if !header_name.is_empty()
        && let Some(value) = parts.headers.get(header_name.as_str()).and_then(|v| v.to_str().ok())
        && let Some(first) = value.split(',').next()
    {
        return first.trim().to_owned();
    }
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    peer.unwrap_or_else(|| "unknown".to_owned())
}

/// A refusal that tells the client when to come back (`Retry-After`).
struct RetryLater {
    error: Refusal,
    after_secs: i64,
}

impl IntoResponse for RetryLater {
    fn into_response(self) -> Response {
        let mut response = self.error.into_response();
        if let Ok(value) = HeaderValue::from_str(&self.after_secs.max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Signs a user in on a device and returns a token bound to it.
#[utoipa::path(post, path = "/api/mobile/v1/auth/login", tag = "mobile",
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, description = "invalid_credentials or device_revoked"),
        (status = 409, description = "device_in_use: the device id is bound to another user"),
        (status = 429, description = "too_many_attempts, with Retry-After"),
        (status = 503, description = "busy, with Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    AppJson(req): AppJson<LoginRequest>,
) -> Result<Json<LoginResponse>, Response> {
    match auth::login::sign_in(&state.db, &state.config.auth, state.clock.now(), &address, &req).await {
        Ok(signed_in) => Ok(Json(signed_in)),
        Err(auth::login::Refused { refusal, retry_after: Some(after_secs) }) => {
            Err(RetryLater { error: refusal, after_secs }.into_response())
        }
        Err(auth::login::Refused { refusal, retry_after: None }) => Err(refusal.into_response()),
    }
}

/// The SHA-256 of the request's bearer token, as stored.
fn token_hash(headers: &HeaderMap) -> Option<String> {
    let token = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?;
    Some(auth::tokens::hash_token(token.trim()))
}

/// Ends the token of this request (the device stays bound to the user).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "admin",
    responses((status = 204), (status = 401)), security(("bearer" = [])))]
pub async fn logout(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> ApiResult<StatusCode> {
    let hash = token_hash(&headers).ok_or_else(|| Refusal::unauthenticated(ErrorCode::Unauthenticated))?;
    registry::users::sign_out(&state.db, &caller, &hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's own password; every other token of theirs ends.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "admin", request_body = PasswordChange,
    responses((status = 204), (status = 403, description = "wrong_password"), (status = 422, description = "weak_password")),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    AppJson(body): AppJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let hash = token_hash(&headers).ok_or_else(|| Refusal::unauthenticated(ErrorCode::Unauthenticated))?;
    registry::users::change_password(
        &state.db,
        &Actor::of(&caller),
        &caller.user_id,
        &body.current_password,
        &body.new_password,
        &hash,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signing in and out on the phone's prefix (behind the client-version check).
pub fn phone_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(phone_logout))
}

/// Signing in and out, and changing one's password, on the office's prefix.
pub fn office_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(office_login)).routes(routes!(logout)).routes(routes!(change_password))
}

/// The same sign-in as the phone's, for the office console.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "admin",
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, description = "invalid_credentials or device_revoked"),
        (status = 409, description = "device_in_use: the device id is bound to another user"),
        (status = 429, description = "too_many_attempts, with Retry-After"),
        (status = 503, description = "busy, with Retry-After")))]
pub async fn office_login(
    state: State<AppState>,
    address: ClientAddr,
    body: AppJson<LoginRequest>,
) -> Result<Json<LoginResponse>, Response> {
    login(state, address, body).await
}

/// The same sign-out as the office's, for the phone.
#[utoipa::path(post, path = "/api/mobile/v1/auth/logout", tag = "mobile",
    responses((status = 204), (status = 401)), security(("bearer" = [])))]
pub async fn phone_logout(state: State<AppState>, caller: Caller, headers: HeaderMap) -> ApiResult<StatusCode> {
    logout(state, caller, headers).await
}
