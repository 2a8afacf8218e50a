//! Every error a client can get has our body, `{"error": {code, message_zh, message_en}}`.
//!
//! Handlers answer with [`Refusal`]; what does not pass through one is rewritten here,
//! once, for every route: axum's plain-text rejections (a path or query that does not
//! parse, a broken multipart body, a wrong content type), the empty answers of the
//! timeout (408) and request-decompression (415) layers, and a handler that panicked
//! (500 instead of a dropped connection). Answers that carry a body of their own kind,
//! our JSON errors and the public pages' HTML, pass untouched.
//!
//! Every 5xx is logged here with what is known of its cause, so none goes unexplained.
//!
//! What this layer must never do: change a success, or tell a client a 5xx's cause.

use super::error::Answered;
use crate::error::{Kind, Refusal};
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use std::any::Any;
use std::panic::AssertUnwindSafe;

/// The most of a rejection's text read back (they are one line) and the most kept as a
/// 4xx's detail.
const TEXT_MAX_BYTES: usize = 16 * 1024;
const DETAIL_MAX_CHARS: usize = 300;

/// The middleware: see the module documentation.
pub async fn error_bodies(req: Request, next: Next) -> Response {
    let unknown_encoding = has_unknown_encoding(req.headers());
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            tracing::error!(%method, route, cause = panic_message(panic.as_ref()), "request handler panicked");
            return Refusal::new(Kind::Internal, ErrorCode::Internal).into_response();
        }
    };
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() {
        return response;
    }
    if let Some(answered) = response.extensions().get::<Answered>() {
        // An `Refusal` with a cause logged it; one without is a deliberate answer (busy).
        if status.is_server_error() && !answered.cause_logged {
            tracing::warn!(%method, route, status = status.as_u16(), code = answered.code.code(), "request answered 5xx");
        }
        return response;
    }
    if has_own_body(response.headers()) {
        if status.is_server_error() {
            // The public pages log the cause where they answer; this records that they did.
            tracing::warn!(%method, route, status = status.as_u16(), "request answered 5xx with a page");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, TEXT_MAX_BYTES)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let code = code_for(status, unknown_encoding, &text);
    if status.is_server_error() {
        let cause = if text.is_empty() { "(no body)" } else { text.as_str() };
        tracing::error!(%method, route, status = status.as_u16(), cause, "request failed");
    }
    // The status stays axum's; the kind is not used.
    let mut error = Refusal::invalid(code);
    if status.is_client_error() && !text.is_empty() {
        // What axum found wrong helps whoever writes the client; it never holds data.
        let mut detail = FieldError::new("", code);
        detail.message_en =
            format!("{}: {}", detail.message_en, text.chars().take(DETAIL_MAX_CHARS).collect::<String>());
        error = error.with_fields(vec![detail]);
    }
    let mut rewritten = super::error::answer(status, error);
    // Headers that explain the answer stay: Allow, Accept-Encoding, Retry-After,
    // WWW-Authenticate. Those that described the old body go.
    for (name, value) in &parts.headers {
        if !matches!(
            *name,
            header::CONTENT_TYPE | header::CONTENT_LENGTH | header::CONTENT_ENCODING | header::TRANSFER_ENCODING
        ) {
            rewritten.headers_mut().append(name.clone(), value.clone());
        }
    }
    rewritten
}

/// The code of an answer that came without one, by its status and axum's text.
fn code_for(status: StatusCode, unknown_encoding: bool, text: &str) -> ErrorCode {
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY if text.contains("JSON") => ErrorCode::InvalidJson,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ErrorCode::RequestTimeout,
        StatusCode::CONFLICT => ErrorCode::Conflict,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE if unknown_encoding => ErrorCode::UnsupportedEncoding,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UPGRADE_REQUIRED => ErrorCode::UpgradeRequired,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Busy,
        status if status.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::InvalidRequest,
    }
}

/// A `Content-Encoding` other than gzip or none: the request-decompression layer
/// refuses it with an empty 415.
fn has_unknown_encoding(headers: &HeaderMap) -> bool {
    headers.get_all(header::CONTENT_ENCODING).iter().any(|value| {
        value.to_str().map_or(true, |v| {
            v.split(',').map(str::trim).any(|coding| {
                !coding.is_empty()
                    && !["gzip", "x-gzip", "identity"].iter().any(|known| coding.eq_ignore_ascii_case(known))
            })
        })
    })
}

/// Whether the answer has a body meant for its reader: anything typed but plain text.
fn has_own_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| !t.trim_start().to_ascii_lowercase().starts_with("text/plain"))
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::extract::{Path, Query};
    use axum::routing::get;
    use serde_json::Value;
    use std::collections::HashMap;
    use tower::ServiceExt;

    async fn panics() -> &'static str {
        panic!("a bug")
    }

    fn app() -> Router {
        Router::new()
            .route("/items/{id}", get(|Path(id): Path<u32>| async move { id.to_string() }))
            .route("/search", get(|Query(q): Query<HashMap<String, u32>>| async move { format!("{q:?}") }))
            .route("/bare", get(|| async { StatusCode::GONE }))
            .route(
                "/page",
                get(|| async { (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/html")], "<p>none</p>") }),
            )
            .route("/ours", get(|| async { Refusal::conflict(ErrorCode::CaseOpen) }))
            .route("/panics", get(panics))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                std::time::Duration::from_millis(50),
            ))
            .layer(axum::middleware::from_fn(error_bodies))
    }

    async fn call(uri: &str) -> (StatusCode, HeaderMap, String) {
        let res = app().oneshot(Request::get(uri).body(Body::empty()).expect("request")).await.expect("answer");
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.expect("body");
        (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn code(uri: &str) -> (u16, String) {
        let (status, headers, body) = call(uri).await;
        assert_eq!(headers[header::CONTENT_TYPE], "application/json", "{uri}: {body}");
        let value: Value = serde_json::from_str(&body).expect("json");
        assert!(value["error"]["message_zh"].as_str().is_some_and(|m| !m.is_empty()), "{uri}: {body}");
        (status.as_u16(), value["error"]["code"].as_str().expect("code").to_owned())
    }

    #[tokio::test]
    async fn plain_and_empty_answers_get_our_body() {
        assert_eq!(code("/items/abc").await, (400, "invalid_request".into()), "path");
        assert_eq!(code("/search?n=x").await, (400, "invalid_request".into()), "query");
        assert_eq!(code("/bare").await, (410, "invalid_request".into()), "empty body");
        assert_eq!(code("/slow").await, (408, "request_timeout".into()), "timeout");
        assert_eq!(code("/panics").await, (500, "internal".into()), "panic");
        assert_eq!(code("/ours").await, (409, "case_open".into()), "ours untouched");
        assert_eq!(call("/items/7").await.2, "7");
    }

    #[tokio::test]
    async fn pages_keep_their_own_body() {
        let (status, headers, body) = call("/page").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(headers[header::CONTENT_TYPE], "text/html");
        assert_eq!(body, "<p>none</p>");
    }

    #[test]
    fn unknown_encodings_are_told_from_wrong_types() {
        let headers = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_ENCODING, value.parse().expect("value"));
            h
        };
        assert!(has_unknown_encoding(&headers("br")));
        assert!(has_unknown_encoding(&headers("gzip, zstd")));
        assert!(!has_unknown_encoding(&headers("GZIP")));
        assert!(!has_unknown_encoding(&HeaderMap::new()));
        assert_eq!(code_for(StatusCode::UNSUPPORTED_MEDIA_TYPE, true, ""), ErrorCode::UnsupportedEncoding);
        assert_eq!(code_for(StatusCode::UNSUPPORTED_MEDIA_TYPE, false, ""), ErrorCode::UnsupportedMediaType);
        assert_eq!(
            code_for(StatusCode::BAD_REQUEST, false, "Failed to parse the request body as JSON: x"),
            ErrorCode::InvalidJson
        );
    }
}
