//! Operations endpoints: health, metrics, the OpenAPI document, and what the document
//! says besides its paths (security schemes: the bearer token and the console's cookie).
//! Nothing here answers for a feature; a route is documented in its own file.

use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use sea_orm::ConnectionTrait;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Ready when the database answers.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "ok"), (status = 503, description = "database unavailable")))]
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.conn.execute_unprepared("SELECT 1").await {
        Ok(_) => (StatusCode::OK, Json(serde_json::json!({"status": "ok"}))),
        Err(err) => {
            tracing::error!(%err, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "database_unavailable"})))
        }
    }
}

/// Prometheus text exposition: traffic by route says what the county is doing, so it is
/// for the scraper (`Authorization: Bearer <http.metrics_token>`), or with no token
/// configured for clients on this machine only.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, content_type = "text/plain"), (status = 403)))]
pub async fn metrics(
    State(state): State<AppState>,
    super::auth::ClientAddr(address): super::auth::ClientAddr,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let token = &state.config.http.metrics_token;
    let allowed = if token.is_empty() {
        address.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    } else {
        let sent =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        // Compared by hash, so the comparison's time does not tell how much matched.
        sent.is_some_and(|sent| crate::auth::tokens::hash_token(sent.trim()) == crate::auth::tokens::hash_token(token))
    };
    if !allowed {
        return crate::error::Refusal::forbidden().into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "ops", responses((status = 200, content_type = "application/json")))]
pub async fn openapi(Extension(doc): Extension<Arc<Document>>) -> impl IntoResponse {
    Json(doc.as_ref().clone())
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(metrics)).routes(routes!(openapi))
}

struct BearerAuth;

/// What the `cookie` scheme tells a client: the CSRF header is not expressible as a
/// scheme of its own (it is needed only on writes), so it is said here.
const COOKIE_SCHEME: &str = "The office console's session (`POST /api/v1/auth/session`): an HttpOnly, \
SameSite=Strict cookie. Every write made with it (any method but GET, HEAD, OPTIONS) must repeat the \
session's `csrf_token` in the `X-CSRF-Token` header, or it is refused 403 `csrf`; reads need none. \
A request with an `Authorization` header is judged by its bearer token alone.";

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::session::COOKIE,
                COOKIE_SCHEME,
            ))),
        );
    }
}

/// Every office route (`/api/v1/…`) that takes the bearer token takes the console's
/// cookie instead (the `Caller` extractor reads either): documented as a second way in,
/// once here rather than on each route. Run on the whole document, after the routes
/// are merged. Phone routes stay bearer only: a phone has no cookie.
pub fn document_cookie_callers(doc: &mut Document) {
    let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
    let cookie = SecurityRequirement::new("cookie", Vec::<String>::new());
    for (path, item) in doc.paths.paths.iter_mut() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for security in operations.into_iter().flatten().filter_map(|op| op.security.as_mut()) {
            if security.contains(&bearer) && !security.contains(&cookie) {
                security.push(cookie.clone());
            }
        }
    }
}

/// What the document says besides its paths, which `http::api` adds from the routes.
#[derive(OpenApi)]
#[openapi(
    info(title = "Jingzhun", description = "精准: dynamic management of registered poor households — phone sync and administration."),
    modifiers(&BearerAuth),
    components(schemas(jingzhun_mobile_api::errors::ErrorBody, crate::household_facts::Possession))
)]
pub struct ApiDoc;
