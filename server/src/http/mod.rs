//! HTTP: the routers, their layers, and the OpenAPI document.

pub mod abilities;
pub mod admin;
pub mod app;
pub mod assess;
pub mod auth;
pub mod campaigns;
pub mod cases;
pub mod comparison;
pub mod console;
pub mod control_characters;
pub mod edge;
pub mod error;
pub mod error_bodies;
pub mod extract;
pub mod household_facts;
pub mod household_summaries;
pub mod imports;
pub mod inbox;
pub mod mobile;
pub mod natural_villages;
pub mod notice_pages;
pub mod notices;
pub mod notifications;
pub mod officer_profile;
pub mod ops;
pub mod plans;
pub mod reports;
pub mod resolutions;
pub mod sync_office;
pub mod villages;

use crate::error::{Kind, Refusal};
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use jingzhun_mobile_api::CLIENT_VERSION_HEADER;
use jingzhun_mobile_api::errors::ErrorCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Every route with its documentation: each feature file lists its routes with
/// `routes!`, which takes a handler's method and path from its `#[utoipa::path]`, so a
/// route cannot be served without being documented, nor documented without being served.
pub fn api(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let phone = auth::phone_routes()
        .merge(mobile::routes(&state.config))
        .layer(middleware::from_fn_with_state(state.clone(), client_version));
    let (routes, mut doc) = OpenApiRouter::with_openapi(ops::ApiDoc::openapi())
        .merge(ops::routes())
        .merge(phone)
        .merge(auth::office_routes())
        .merge(abilities::routes())
        .merge(admin::routes())
        .merge(officer_profile::routes())
        .merge(household_summaries::routes())
        .merge(sync_office::routes())
        .merge(inbox::routes())
        .merge(cases::routes())
        .merge(comparison::routes())
        .merge(household_facts::routes())
        .merge(imports::routes())
        .merge(assess::routes())
        .merge(edge::routes())
        .merge(natural_villages::routes())
        .merge(villages::routes())
        .merge(plans::routes())
        .merge(reports::routes())
        .merge(notices::routes(&state.config))
        .merge(resolutions::routes())
        .merge(notifications::routes())
        .merge(campaigns::routes())
        .merge(notice_pages::routes())
        .split_for_parts();
    ops::document_cookie_callers(&mut doc);
    (routes, doc)
}

pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let (routes, doc) = api(&state);
    routes
        .layer(Extension(Arc::new(doc)))
        .fallback(app::fallback)
        .method_not_allowed_fallback(|| async {
            error::answer(StatusCode::METHOD_NOT_ALLOWED, Refusal::invalid(ErrorCode::MethodNotAllowed))
        })
        .layer(DefaultBodyLimit::max(config.http.max_body_bytes))
        // Inside decompression: it reads the body the handler will read.
        .layer(middleware::from_fn_with_state(state.clone(), control_characters::refuse_control_characters))
        .layer(RequestDecompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.http.request_timeout_secs),
        ))
        // Outside the timeout and decompression layers, whose empty answers it gives our
        // body; inside compression, so it reads axum's rejections before they are packed.
        .layer(middleware::from_fn(error_bodies::error_bodies))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(state.clone(), record_metrics))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            // Spans are named by route, not by path, so logs stay low-cardinality.
            let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str());
            tracing::info_span!("request", method = %req.method(), route)
        }))
        .with_state(state)
}

async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(req).await;
    state.metrics.http_duration.with_label_values(&[route.as_str()]).observe(started.elapsed().as_secs_f64());
    state.metrics.http_requests.with_label_values(&[route.as_str(), response.status().as_str()]).inc();
    response
}

/// A phone older than the minimum protocol version is told to upgrade (426), except
/// to sign in and push: what an old phone holds is always accepted.
async fn client_version(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let version = req
        .headers()
        .get(CLIENT_VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u32>().ok());
    let path = req.uri().path();
    let always_allowed = path.ends_with("/sync/push") || path.ends_with("/auth/login");
    if let Some(version) = version
        && version < state.config.sync.min_client_version
        && !always_allowed
    {
        return Refusal::new(Kind::OutdatedClient, ErrorCode::UpgradeRequired).into_response();
    }
    next.run(req).await
}
