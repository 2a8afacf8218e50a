//! Operations endpoints: health, metrics, the OpenAPI document.

use super::{admin, cases, comparison, mobile, rules};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use sea_orm::ConnectionTrait;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

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
pub async fn openapi() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Jingzhun", description = "精准: dynamic management of registered poor households — phone sync and administration."),
    modifiers(&BearerAuth),
    paths(
        healthz, metrics, openapi,
        super::auth::login, super::auth::logout, super::auth::change_password,
        mobile::push_changes, mobile::pull_changes, mobile::status, mobile::schema,
        mobile::upload_attachment, mobile::download_attachment, mobile::resolve_conflict,
        admin::list_regions, admin::create_region, admin::create_user, admin::list_users, admin::add_role, admin::remove_role, admin::set_user_active, admin::reset_password,
        admin::create_assignment, admin::end_assignment, admin::list_assignments,
        admin::list_devices, admin::revoke_device, admin::list_conflicts, admin::resolve_conflict,
        admin::rejected_changesets, admin::get_household, admin::household_audit, admin::list_households, admin::compact,
        cases::open_case, cases::get_case, cases::list_cases, cases::sign, cases::resubmit, cases::reopen,
        comparison::import_list, comparison::list_leads, comparison::decide,
        rules::list_thresholds, rules::set_threshold, rules::assessment, rules::quality, rules::list_policies, rules::set_policy, rules::village_exit, rules::set_population,
        super::natural_villages::list, super::natural_villages::save,
        super::plans::household_timeline, super::plans::plan_outcome, super::plans::overdue_tasks,
        super::campaigns::list_campaigns, super::campaigns::create_campaign, super::campaigns::create_from_template, super::campaigns::list_templates, super::campaigns::get_campaign, super::campaigns::update_campaign, super::campaigns::add_milestone, super::campaigns::update_milestone, super::campaigns::delete_milestone, super::campaigns::campaign_progress,
        super::notices::list_notices, super::notices::create_notice, super::notices::get_notice, super::notices::publish_notice,
        super::notices::withdraw_notice, super::notices::add_posting, super::notices::close_notice, super::notices::list_objections, super::notices::answer_objection, super::notices::dismiss_objections,
        super::notify::list_templates, super::notify::update_template, super::notify::my_preferences, super::notify::set_my_preference, super::notify::user_preferences, super::notify::set_user_preference, super::notify::delivery_log, super::notify::attempts, super::notify::test_send, super::notify::list_robots, super::notify::add_robot, super::notify::set_robot, super::notify::resend, super::notify::cancel,
        super::notice_pages::notice_page, super::notice_pages::qr_svg, super::notice_pages::qr_png, super::notice_pages::print,
        super::notice_pages::post_objection, super::notice_pages::find_receipt, super::notice_pages::receipt,
        super::reports::report,
    ),
    components(schemas(jingzhun_mobile_api::errors::ErrorBody))
)]
pub struct ApiDoc;
