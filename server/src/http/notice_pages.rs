//! The public notice pages (DESIGN §6): no login, reached by scanning a QR code.
//!
//! `GET /n/{token}` is what a whole village opens in the same few days, so it is served
//! from a short in-memory cache (`notices::public`). Objection posts are limited per sender and per notice in memory
//! before they touch the database, so a flood is turned away cheaply and the page
//! stays fast for everyone else.
//!
//! Which notices are public and what an objection must hold are `crate::notices`'s to
//! decide; these handlers only guard the form (CSRF, limits), call, and render.

use crate::auth::throttle::sender_key;
use crate::error::Kind;
use crate::notices::objections::{self, ObjectionForm};
use crate::notices::public::CachedPage;
use crate::notices::{notice, pages, period, qr};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// The form is a few fields; anything bigger is not a villager typing.
const FORM_MAX_BYTES: usize = 16 * 1024;
const CSRF_COOKIE: &str = "jz_csrf";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(notice_page))
        .routes(routes!(qr_svg))
        .routes(routes!(qr_png))
        .routes(routes!(print))
        .routes(routes!(post_objection).layer(DefaultBodyLimit::max(FORM_MAX_BYTES)))
        .routes(routes!(find_receipt))
        .routes(routes!(receipt))
        .layer(axum::middleware::map_response(security_headers))
}

/// What the public pages allow a browser: their own inline style, their own images and
/// form, nothing else; never inside another site's frame (a framed objection form could
/// be clicked through), never sniffed into another type, and no address (the receipt
/// code is in it) passed on to another site. `same-origin`, not `no-referrer`: under
/// `no-referrer` browsers send `Origin: null` with the form's own POST, which the
/// objection form's Origin check (rightly) refuses.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

fn html(status: StatusCode, body: impl Into<Bytes>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body.into()).into_response()
}

fn not_found() -> Response {
    html(StatusCode::NOT_FOUND, pages::message_page("未找到公示", "该公示不存在或尚未发布。请核对二维码或网址。"))
}

fn page_url(state: &AppState, token: &str) -> String {
    format!("{}/n/{token}", state.config.public_url())
}

/// A published or closed notice by token, with its content.
async fn published(
    state: &AppState,
    token: &str,
) -> Result<Option<(notice::NoticeRow, crate::notices::content::NoticeContent)>, Response> {
    notice::public(&state.db.conn, token).await.map_err(|err| {
        tracing::error!(%err, "loading a notice page");
        html(StatusCode::SERVICE_UNAVAILABLE, pages::message_page("暂时无法访问", "请稍后再试。"))
    })
}

async fn render_page(state: &AppState, token: &str, error: Option<&str>) -> Result<Arc<CachedPage>, Response> {
    let Some((row, content)) = published(state, token).await? else { return Err(not_found()) };
    let now = state.clock.now();
    let ends_at = row.ends_at.unwrap_or(now);
    let live = pages::Live {
        token,
        content_sha256: row.content_sha256.as_deref().unwrap_or_default(),
        status: &row.status,
        days_left: period::days_left(ends_at, row.period_days, now),
        open: row.status == "published" && now < ends_at,
    };
    let csrf = state.notice_pages.guard.csrf_token(token, now);
    let html = pages::notice_page(&content, &live, &csrf, error);
    let mut fresh_until = now + chrono::Duration::seconds(state.config.notices.page_cache_secs as i64);
    if now < ends_at {
        fresh_until = fresh_until.min(ends_at);
    }
    Ok(Arc::new(CachedPage { html: Bytes::from(html), csrf, fresh_until }))
}

fn with_csrf_cookie(state: &AppState, mut response: Response, token: &str, csrf: &str) -> Response {
    // SameSite=Strict: a form posted from another site arrives without it and is refused.
    // Secure when villagers reach the server over HTTPS, so it never travels in clear.
    let secure = if state.config.public_url().starts_with("https://") { "; Secure" } else { "" };
    let cookie = format!("{CSRF_COOKIE}={csrf}; Path=/n/{token}; Max-Age=86400; SameSite=Strict; HttpOnly{secure}");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The notice page villagers open by scanning the QR code (HTML, no script).
#[utoipa::path(get, path = "/n/{token}", tag = "public", params(("token" = String, Path)),
    responses((status = 200, content_type = "text/html"), (status = 404, content_type = "text/html")))]
pub async fn notice_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let page = match state.notice_pages.cached(&token, state.clock.now()) {
        Some(page) => page,
        None => match render_page(&state, &token, None).await {
            Ok(page) => {
                state.notice_pages.store(&token, page.clone());
                page
            }
            Err(response) => return response,
        },
    };
    let mut response = html(StatusCode::OK, page.html.clone());
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    with_csrf_cookie(&state, response, &token, &page.csrf)
}

/// The QR code of the notice page, as SVG.
#[utoipa::path(get, path = "/n/{token}/qr.svg", tag = "public", params(("token" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml")))]
pub async fn qr_svg(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match published(&state, &token).await {
        Ok(Some(_)) => match qr::svg(&page_url(&state, &token)) {
            Ok(svg) => {
                ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], svg)
                    .into_response()
            }
            Err(err) => {
                tracing::error!(%err, "rendering a QR code");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        },
        Ok(None) => not_found(),
        Err(response) => response,
    }
}

/// The QR code of the notice page, as PNG.
#[utoipa::path(get, path = "/n/{token}/qr.png", tag = "public", params(("token" = String, Path)),
    responses((status = 200, content_type = "image/png")))]
pub async fn qr_png(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match published(&state, &token).await {
        Ok(Some(_)) => match qr::png(&page_url(&state, &token)) {
            Ok(png) => ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=86400")], png)
                .into_response(),
            Err(err) => {
                tracing::error!(%err, "rendering a QR code");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        },
        Ok(None) => not_found(),
        Err(response) => response,
    }
}

/// The A4 poster for the village board: the list, the QR code and the content hash.
#[utoipa::path(get, path = "/n/{token}/print", tag = "public", params(("token" = String, Path)),
    responses((status = 200, content_type = "text/html")))]
pub async fn print(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let (row, content) = match published(&state, &token).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(response) => return response,
    };
    let url = page_url(&state, &token);
    let svg = match qr::svg(&url) {
        Ok(svg) => svg,
        Err(err) => {
            tracing::error!(%err, "rendering a QR code");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    html(StatusCode::OK, pages::poster(&content, row.content_sha256.as_deref().unwrap_or_default(), &svg, &url))
}

#[derive(Debug, Deserialize)]
pub struct PostedForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    entry: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    body: String,
}

/// Tokens are 18 random bytes in URL-safe base64: 24 characters.
fn is_token(token: &str) -> bool {
    token.len() == 24 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The form again with the reason it was refused, keeping the villager on the page.
async fn refused(state: &AppState, token: &str, status: StatusCode, message: &str) -> Response {
    match render_page(state, token, Some(message)).await {
        Ok(page) => with_csrf_cookie(state, html(status, page.html.clone()), token, &page.csrf),
        Err(response) => response,
    }
}

/// Files an objection from the page's form (csrf, entry, body, name, phone); answers
/// 303 to the receipt page.
#[utoipa::path(post, path = "/n/{token}/objections", tag = "public", params(("token" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "csrf, entry, body, name, phone"),
    responses((status = 303, description = "to /o/{receipt}"), (status = 400, content_type = "text/html"),
        (status = 403, description = "expired form (CSRF)"), (status = 413), (status = 429, description = "too many from this sender or for this notice")))]
pub async fn post_objection(
    State(state): State<AppState>,
    Path(token): Path<String>,
    parts: Parts,
    form: Result<Form<PostedForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let now = state.clock.now();
    // Not a token we could have issued: nothing to count, nothing to look up.
    if !is_token(&token) {
        return not_found();
    }
    let limits = &state.config.notices;
    let source = state.notice_pages.guard.source_hash(&sender_key(&super::auth::client_address(&state, &parts)));
    let hour = Duration::from_secs(3600);
    let too_many = || {
        html(
            StatusCode::TOO_MANY_REQUESTS,
            pages::message_page("提交过于频繁", "提交过于频繁，请稍后再试，或直接向村委会、乡镇人民政府反映。"),
        )
    };
    // Every post counts against its sender, refused ones too (they cost a page render).
    if !state.notice_pages.guard.allow(&format!("ip:{source}"), limits.objections_per_ip_per_hour, hour) {
        return too_many();
    }
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return html(
                StatusCode::PAYLOAD_TOO_LARGE,
                pages::message_page("内容过长", "提交的内容过长，请精简后重新提交。"),
            );
        }
        Err(_) => return refused(&state, &token, StatusCode::BAD_REQUEST, "提交的内容无法识别，请重新填写。").await,
    };
    // A cross-site page cannot read our token nor send our SameSite cookie; an Origin
    // from elsewhere is refused outright.
    let origin_ok = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).is_none_or(|origin| {
        let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        origin == "null" && host.is_empty()
            || origin.split_once("://").is_some_and(|(_, rest)| rest == host)
            || state.config.public_url() == origin
    });
    let cookie = cookie(&parts.headers, CSRF_COOKIE);
    if !origin_ok || !state.notice_pages.guard.check_csrf(&token, &form.csrf, cookie.as_deref(), now) {
        return refused(&state, &token, StatusCode::FORBIDDEN, "页面已过期，请重新提交。").await;
    }
    // The notice's own budget counts only forms our page served, so garbage posts
    // cannot use it up and turn real villagers away. A sender's first post this hour
    // draws on a budget of its own: repeat posts (a script from few addresses) cannot
    // use up what distinct villagers need.
    let guard = &state.notice_pages.guard;
    let first_from_sender = guard.allow(&format!("seen:{token}:{source}"), 1, hour);
    let budget = if first_from_sender { format!("notice-new:{token}") } else { format!("notice:{token}") };
    if !guard.allow_shared(&budget, limits.objections_per_notice_per_hour, hour) {
        return too_many();
    }
    // Kept as typed, a NUL in the text or a phone padded with spaces is refused by the
    // database on every try: control characters are refused, the phone kept as digits.
    use jingzhun_mobile_api::validate::{canonical_phone, free_text, has_control_characters};
    let body = match free_text(&form.body, true) {
        Ok(body) => body.unwrap_or_default(),
        Err(code) => return refused(&state, &token, StatusCode::BAD_REQUEST, code.message_zh()).await,
    };
    if [&form.name, &form.entry, &form.phone].into_iter().flatten().any(|s| has_control_characters(s.trim(), false)) {
        let message = jingzhun_mobile_api::errors::ErrorCode::ControlCharacter.message_zh();
        return refused(&state, &token, StatusCode::BAD_REQUEST, message).await;
    }
    let phone = form.phone.map(|p| canonical_phone(&p).unwrap_or(p));
    let filed = objections::file(
        &state.db,
        now,
        state.config.notices.objection_answer_days,
        &token,
        ObjectionForm { entry: form.entry, name: form.name, phone, body },
        &source,
    )
    .await;
    match filed {
        Ok(receipt) => Redirect::to(&format!("/o/{receipt}?new=1")).into_response(),
        Err(err) if err.kind == Kind::NotFound => not_found(),
        Err(err) if err.kind == Kind::Internal => {
            // The error becomes a page here, not an `Refusal` answer: its cause is logged here.
            tracing::error!(
                code = err.code.code(),
                cause = err.cause.as_deref().unwrap_or("(none)"),
                "filing an objection"
            );
            html(StatusCode::SERVICE_UNAVAILABLE, pages::message_page("暂时无法提交", "请稍后再试。"))
        }
        Err(err) => refused(&state, &token, super::error::status_of(err.kind), err.code.message_zh()).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct ReceiptQuery {
    #[serde(default)]
    receipt: Option<String>,
    #[serde(default)]
    new: Option<String>,
}

/// Looks a receipt up from the page's form (`?receipt=`), forgiving case and spaces.
#[utoipa::path(get, path = "/o", tag = "public", responses((status = 303, description = "to /o/{receipt}")))]
pub async fn find_receipt(Query(query): Query<ReceiptQuery>) -> Response {
    let receipt = objections::normalize_receipt(query.receipt.as_deref().unwrap_or_default());
    Redirect::to(&format!("/o/{receipt}")).into_response()
}

/// The objection's status and answer, for whoever holds the receipt code.
#[utoipa::path(get, path = "/o/{receipt}", tag = "public", params(("receipt" = String, Path)),
    responses((status = 200, content_type = "text/html"), (status = 404, content_type = "text/html"), (status = 429)))]
pub async fn receipt(
    State(state): State<AppState>,
    Path(receipt): Path<String>,
    Query(query): Query<ReceiptQuery>,
    parts: Parts,
) -> Response {
    // A receipt is a bearer secret of ~60 bits; lookups are limited per sender (an IPv4
    // address or an IPv6 /64, as for objections) so it cannot be guessed.
    let source = state.notice_pages.guard.source_hash(&sender_key(&super::auth::client_address(&state, &parts)));
    let limit = state.config.notices.receipt_lookups_per_ip_per_hour;
    if !state.notice_pages.guard.allow(&format!("receipt:{source}"), limit, Duration::from_secs(3600)) {
        return html(StatusCode::TOO_MANY_REQUESTS, pages::message_page("查询过于频繁", "请稍后再试。"));
    }
    match objections::by_receipt(&state.db.conn, &receipt).await {
        Ok(Some(view)) => html(StatusCode::OK, pages::receipt_page(&view, query.new.is_some())),
        Ok(None) => html(
            StatusCode::NOT_FOUND,
            pages::message_page("未找到该回执码", "请核对回执码（12位字母和数字）后重新查询。"),
        ),
        Err(err) => {
            tracing::error!(%err, "loading a receipt");
            html(StatusCode::SERVICE_UNAVAILABLE, pages::message_page("暂时无法查询", "请稍后再试。"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_tokens_are_looked_up() {
        assert!(is_token("wqQw9cZkqKUaJPz829YQ2Vjj"));
        assert!(!is_token("not-a-token"));
        assert!(!is_token(&"a".repeat(5000)));
        assert!(!is_token("wqQw9cZkqKUaJPz829YQ2Vj%"));
    }
}
