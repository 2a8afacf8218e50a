//! Signing in and out, on `/api/mobile/v1/auth` and `/api/v1/auth`: login (the service
//! is `auth::login`), logout, password change, and the office console's cookie session
//! (`registry::sessions`). Handlers parse, call and map; the client's address,
//! `Retry-After` and the cookie's attributes are the only things decided here.

use super::error::ApiResult;
use super::extract::{AppJson, ConsoleSession};
use crate::auth::session::SessionView;
use crate::auth::{self, Caller};
use crate::error::Refusal;
use crate::registry::{self, Actor};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jingzhun_mobile_api::errors::ErrorBody;
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

/// Ends the token of this request (the device stays bound to the user), or the
/// console's session when it came with the cookie (`DELETE /api/v1/auth/session` also
/// clears the cookie).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "admin",
    responses((status = 204), (status = 401)), security(("bearer" = [])))]
pub async fn logout(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> ApiResult<StatusCode> {
    match token_hash(&headers) {
        Some(hash) => registry::users::sign_out(&state.db, &caller, &hash).await?,
        None => {
            let hash = credential_hash(&headers).ok_or_else(|| Refusal::unauthenticated(ErrorCode::Unauthenticated))?;
            registry::sessions::end(&state.db, &caller, &hash, state.clock.now()).await?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// The hash of what signed this request in: the bearer token, else the console's cookie.
fn credential_hash(headers: &HeaderMap) -> Option<String> {
    token_hash(headers).or_else(|| super::extract::cookie(headers, auth::session::COOKIE).map(auth::tokens::hash_token))
}

/// Changes the caller's own password; every other token and console session of theirs ends.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "admin", request_body = PasswordChange,
    responses((status = 204), (status = 403, description = "wrong_password"), (status = 422, description = "weak_password")),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    AppJson(body): AppJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let hash = credential_hash(&headers).ok_or_else(|| Refusal::unauthenticated(ErrorCode::Unauthenticated))?;
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
    OpenApiRouter::new()
        .routes(routes!(office_login))
        .routes(routes!(logout))
        .routes(routes!(change_password))
        .routes(routes!(open_session, read_session, close_session))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SessionRequest {
    pub username: String,
    pub password: String,
}

/// `Secure` when the request came over HTTPS (as a proxy in front says) or the
/// deployment asks for it always; plain-HTTP loopback (tests, `cargo run`) must work.
fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.auth.console_secure_cookie
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').next().is_some_and(|p| p.trim().eq_ignore_ascii_case("https")))
}

fn session_cookie(value: &str, max_age: Option<i64>, secure: bool) -> Option<HeaderValue> {
    let mut cookie = format!("{}={value}; HttpOnly; SameSite=Strict; Path=/", auth::session::COOKIE);
    if let Some(max_age) = max_age {
        cookie.push_str(&format!("; Max-Age={max_age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).ok()
}

fn idle(state: &AppState) -> chrono::Duration {
    chrono::Duration::minutes(state.config.auth.console_idle_minutes)
}

/// Signs in to the office console: the session is an HttpOnly cookie (`jz_session`);
/// every write made with it repeats `csrf_token` in `X-CSRF-Token`. Same lockout as
/// `/api/v1/auth/login`.
#[utoipa::path(post, path = "/api/v1/auth/session", tag = "admin",
    request_body = SessionRequest,
    responses((status = 200, body = SessionView, headers(("set-cookie" = String, description = "jz_session, HttpOnly, SameSite=Strict"))),
        (status = 401, body = ErrorBody, description = "invalid_credentials"),
        (status = 429, body = ErrorBody, description = "too_many_attempts, with Retry-After"),
        (status = 503, body = ErrorBody, description = "busy, with Retry-After")))]
pub async fn open_session(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    AppJson(body): AppJson<SessionRequest>,
) -> Result<Response, Response> {
    let now = state.clock.now();
    let started =
        registry::sessions::start(&state.db, &state.config.auth, now, &address, &body.username, &body.password).await;
    let (caller, opened) = match started {
        Ok(started) => started,
        Err(auth::login::Refused { refusal, retry_after: Some(after_secs) }) => {
            return Err(RetryLater { error: refusal, after_secs }.into_response());
        }
        Err(auth::login::Refused { refusal, retry_after: None }) => return Err(refusal.into_response()),
    };
    let view = auth::session::view(&state.db.conn, &caller, &opened.csrf_token, idle(&state))
        .await
        .map_err(|err| Refusal::internal(err).into_response())?;
    let mut response = Json(view).into_response();
    if let Some(cookie) = session_cookie(&opened.token, None, secure(&state, &headers)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The console's session: who is signed in and the CSRF token (after a reload), or 401
/// (`session_expired` once idle too long).
#[utoipa::path(get, path = "/api/v1/auth/session", tag = "admin",
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody, description = "unauthenticated or session_expired")))]
pub async fn read_session(State(state): State<AppState>, session: ConsoleSession) -> ApiResult<Json<SessionView>> {
    let view = auth::session::view(&state.db.conn, &session.caller, &session.session.csrf_token, idle(&state)).await?;
    Ok(Json(view))
}

/// Signs out of the console: the session ends and the cookie is cleared.
#[utoipa::path(delete, path = "/api/v1/auth/session", tag = "admin",
    responses((status = 204, headers(("set-cookie" = String, description = "jz_session cleared"))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "csrf")))]
pub async fn close_session(
    State(state): State<AppState>,
    session: ConsoleSession,
    headers: HeaderMap,
) -> ApiResult<Response> {
    registry::sessions::end(&state.db, &session.caller, &session.session.token_hash, state.clock.now()).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(cookie) = session_cookie("", Some(0), secure(&state, &headers)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
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
