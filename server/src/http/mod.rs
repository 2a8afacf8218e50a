//! HTTP: the routers, their layers, and the OpenAPI document.

pub mod admin;
pub mod auth;
pub mod campaigns;
pub mod cases;
pub mod comparison;
pub mod control_characters;
pub mod error;
pub mod error_bodies;
pub mod extract;
pub mod mobile;
pub mod natural_villages;
pub mod notice_pages;
pub mod notices;
pub mod notify;
pub mod ops;
pub mod plans;
pub mod reports;
pub mod rules;

use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crate::error::{Kind, Refusal};
use jingzhun_mobile_api::CLIENT_VERSION_HEADER;
use jingzhun_mobile_api::errors::ErrorCode;
use std::time::{Duration, Instant};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let mobile = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/sync/push", post(mobile::push_changes))
        .route("/sync/pull", get(mobile::pull_changes))
        .route("/sync/status", get(mobile::status))
        .route("/schema", get(mobile::schema))
        .route(
            "/attachments",
            // Photos are larger than JSON bodies; the handler enforces the exact limit.
            post(mobile::upload_attachment).layer(DefaultBodyLimit::max(config.sync.attachment_max_bytes + 64 * 1024)),
        )
        .route("/attachments/{id}", get(mobile::download_attachment))
        .route("/conflicts/{id}/resolve", post(mobile::resolve_conflict))
        .layer(middleware::from_fn_with_state(state.clone(), client_version));

    let admin = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/password", post(auth::change_password))
        .route("/regions", get(admin::list_regions).post(admin::create_region))
        .route("/users", get(admin::list_users).post(admin::create_user))
        .route("/users/{id}/roles", post(admin::add_role))
        .route("/users/{id}/roles/remove", post(admin::remove_role))
        .route("/users/{id}/active", post(admin::set_user_active))
        .route("/users/{id}/password", post(admin::reset_password))
        .route("/assignments", get(admin::list_assignments).post(admin::create_assignment))
        .route("/assignments/{id}/end", post(admin::end_assignment))
        .route("/devices", get(admin::list_devices))
        .route("/devices/{id}/revoke", post(admin::revoke_device))
        .route("/conflicts", get(admin::list_conflicts))
        .route("/conflicts/{id}/resolve", post(admin::resolve_conflict))
        .route("/changesets/rejected", get(admin::rejected_changesets))
        .route("/households", get(admin::list_households))
        .route("/households/{id}", get(admin::get_household))
        .route("/households/{id}/audit", get(admin::household_audit))
        .route("/sync/compact", post(admin::compact))
        .route("/cases", get(cases::list_cases).post(cases::open_case))
        .route("/cases/{id}", get(cases::get_case))
        .route("/cases/{id}/signoffs", post(cases::sign))
        .route("/cases/{id}/resubmit", post(cases::resubmit))
        .route("/cases/{id}/reopen", post(cases::reopen))
        .route(
            "/comparisons",
            // Department lists can be large; the JSON body limit does not apply.
            post(comparison::import_list).layer(DefaultBodyLimit::max(32 * 1024 * 1024)),
        )
        .route("/comparisons/leads", get(comparison::list_leads))
        .route("/comparisons/leads/{id}/decide", post(comparison::decide))
        .merge(rules::routes())
        .merge(natural_villages::routes())
        .merge(plans::routes())
        .merge(reports::routes())
        .merge(notices::routes())
        .merge(notify::routes())
        .merge(campaigns::routes());

    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/api/openapi.json", get(ops::openapi))
        .nest("/api/mobile/v1", mobile)
        .nest("/api/v1", admin)
        .merge(notice_pages::routes())
        .fallback(|| async { Refusal::not_found() })
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
