//! Signing in and out, on `/api/mobile/v1/auth` and `/api/v1/auth`: login with failure
//! counters checked before the password hash, device binding, logout, password change.

use super::error::ApiResult;
use crate::error::{Kind, Refusal};
use super::extract::AppJson;
use crate::state::AppState;
use crate::auth::{self, Caller, throttle};
use crate::db::entities::{access_token, app_user, device};
use crate::registry::{self, Actor};
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::wire::{LoginRequest, LoginResponse, UserInfo};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde::Deserialize;
use std::net::SocketAddr;
use uuid::Uuid;

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
    login_user(&state, &address, &req).await.map(Json)
}

pub async fn login_user(state: &AppState, address: &str, req: &LoginRequest) -> Result<LoginResponse, Response> {
    let device_id = req.device_id.trim();
    if device_id.is_empty() || device_id.len() > 100 || device_id.chars().any(char::is_control) {
        return Err(Refusal::invalid(ErrorCode::InvalidRequest).into_response());
    }
    let config = &state.config.auth;
    let limits = throttle::Limits {
        user_failures: config.login_user_failures,
        address_failures: config.login_address_failures,
        first_lock: chrono::Duration::seconds(config.login_first_lock_secs),
        longest_lock: chrono::Duration::seconds(config.login_longest_lock_secs),
        window: chrono::Duration::hours(24),
    };
    let now = state.clock.now();
    let (user_key, address_key) = (throttle::user_key(&req.username), throttle::address_key(address));
    let keys = [user_key.clone(), address_key.clone()];
    let locked = || async {
        match throttle::locked_for(&state.db.conn, &keys, now).await.map_err(internal)? {
            Some(after_secs) => {
                let error = Refusal::new(Kind::TooMany, ErrorCode::TooManyAttempts);
                Err(RetryLater { error, after_secs }.into_response())
            }
            None => Ok(()),
        }
    };
    locked().await?;
    let user = app_user::Entity::find()
        .filter(app_user::Column::Username.eq(req.username.trim()))
        .one(&state.db.conn)
        .await
        .map_err(internal)?;
    // Hash even for an unknown user, so timing does not tell which usernames exist.
    let hash = user.as_ref().map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let password = req.password.clone();
    // Each check takes ~19 MiB and a core for a moment: at most one per core at a time.
    // A sign-in that cannot get a slot soon is told to retry rather than queued past
    // the request timeout behind a flood.
    let wait = std::time::Duration::from_secs(config.login_wait_secs);
    let Ok(Ok(permit)) = tokio::time::timeout(wait, PASSWORD_CHECKS.acquire()).await else {
        let error = Refusal::new(Kind::Busy, ErrorCode::Busy);
        return Err(RetryLater { error, after_secs: 2 }.into_response());
    };
    // Again once a check is free: guesses sent in parallel waited here while the first
    // of them locked the name, and must not be checked after all.
    locked().await?;
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash)).await.unwrap_or(false);
    drop(permit);
    let user = match user {
        Some(user) if ok && user.active => user,
        _ => {
            for (key, threshold) in [(&user_key, limits.user_failures), (&address_key, limits.address_failures)] {
                let locked =
                    throttle::record_failure(&state.db, key, threshold, &limits, now).await.map_err(internal)?;
                if let Some(lock) = locked {
                    tracing::warn!(
                        key = key.as_str(),
                        secs = lock.num_seconds(),
                        "sign-ins locked after repeated failures"
                    );
                }
            }
            return Err(Refusal::unauthenticated(ErrorCode::InvalidCredentials).into_response());
        }
    };
    throttle::clear(&state.db.conn, &user_key).await.map_err(internal)?;
    bind_device(state, &user.id, device_id, &req.device_name).await.map_err(IntoResponse::into_response)?;
    let (token, expires_at) =
        auth::tokens::issue(&state.db, &user.id, device_id, config.token_ttl_hours).await.map_err(internal)?;
    let grants = auth::tokens::grants_of(&state.db.conn, &user.id).await.map_err(internal)?;
    let mut roles: Vec<String> = grants.iter().map(|g| g.role.as_str().to_owned()).collect();
    roles.dedup();
    Ok(LoginResponse {
        token,
        expires_at: expires_at.to_rfc3339(),
        user: UserInfo {
            id: Uuid::parse_str(&user.id).unwrap_or_default(),
            username: user.username,
            name: user.name,
            roles,
            regions: grants.into_iter().map(|g| g.region_code).collect(),
        },
    })
}

fn internal(err: sea_orm::DbErr) -> Response {
    Refusal::internal(err).into_response()
}

/// A device id belongs to the user who first signed in on it. Another user signing in
/// with the same id is refused: taking it over would hand them the device's stored
/// answers and put their actions under the first user's device in the audit.
async fn bind_device(state: &AppState, user_id: &str, device_id: &str, device_name: &str) -> ApiResult<()> {
    let now = Utc::now();
    match device::Entity::find_by_id(device_id.to_owned()).one(&state.db.conn).await? {
        Some(existing) if existing.revoked_mode.is_some() => {
            Err(auth::tokens::revoked_error(existing.revoked_mode.as_deref().unwrap_or("wipe")))
        }
        Some(existing) if existing.user_id != user_id => Err(Refusal::conflict(ErrorCode::DeviceInUse)),
        Some(existing) => {
            let mut model: device::ActiveModel = existing.into();
            model.last_seen_at = Set(Some(now));
            if !device_name.is_empty() {
                model.name = Set(device_name.chars().take(100).collect());
            }
            model.update(&state.db.conn).await?;
            Ok(())
        }
        None => {
            let inserted = device::ActiveModel {
                id: Set(device_id.to_owned()),
                user_id: Set(user_id.to_owned()),
                name: Set(device_name.chars().take(100).collect()),
                revoked_mode: Set(None),
                revoked_at: Set(None),
                revoked_by: Set(None),
                created_at: Set(now),
                last_seen_at: Set(Some(now)),
            }
            .insert(&state.db.conn)
            .await;
            match inserted {
                Ok(_) => Ok(()),
                // Two first sign-ins on one new id at once: the other one bound it.
                Err(err) if crate::db::is_unique_violation(&err) => Err(Refusal::conflict(ErrorCode::DeviceInUse)),
                Err(err) => Err(err.into()),
            }
        }
    }
}

static PASSWORD_CHECKS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
});

/// A hash verified against when the user does not exist.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password(&auth::random_password()).unwrap_or_default());

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
    let txn = state.db.begin_write().await?;
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(access_token::Column::TokenHash.eq(hash))
        .exec(&*txn)
        .await?;
    let entry = Actor::of(&caller).audit("logout", "user", &caller.user_id);
    crate::audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
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
