//! Refuses a control character in a request's URL or JSON body before any handler sees
//! it: 400 `control_character`.
//!
//! PostgreSQL refuses NUL in text, so a NUL in a name, a query parameter or a receipt
//! code would otherwise reach the database and come back as a 500 on every retry; no
//! other C0 control character has a place in an identifier, a query or an office form
//! either. Tab, line feed and carriage return stay allowed in JSON strings (a notice's
//! explanation has paragraphs).
//!
//! What this layer must never do: refuse a sync push. There the validators refuse the
//! field inside its own change set, so one bad record is set aside and the rest of the
//! phone's outbox goes through (DESIGN §5).

use crate::error::{Kind, Refusal};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jingzhun_mobile_api::errors::ErrorCode;

/// The middleware: see the module documentation.
pub async fn refuse_control_characters(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if uri_has_control_characters(req.uri()) {
        return Refusal::invalid(ErrorCode::ControlCharacter).into_response();
    }
    if !is_json(req.headers()) || req.uri().path().ends_with("/sync/push") {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let limit = state.config.http.max_body_bytes;
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(err) => {
            // Too long, or a broken gzip stream or connection: the same answers the JSON
            // extractor gives.
            // `http_body_util::LengthLimitError`, known here by its text only.
            let too_large = err.to_string().contains("length limit exceeded");
            return if too_large {
                Refusal::new(Kind::TooLarge, ErrorCode::PayloadTooLarge).into_response()
            } else {
                Refusal::invalid(ErrorCode::InvalidRequest).into_response()
            };
        }
    };
    if json_has_control_escape(&bytes) {
        return Refusal::invalid(ErrorCode::ControlCharacter).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| {
        let essence = t.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        essence == "application/json" || essence.starts_with("application/") && essence.ends_with("+json")
    })
}

/// Whether the path or query, percent-decoded, holds a control character. A raw one
/// cannot reach us: HTTP parsing refuses it.
fn uri_has_control_characters(uri: &Uri) -> bool {
    let decoded = |s: &str| percent_decode(s).into_iter().any(|b| b < 0x20 || b == 0x7f);
    decoded(uri.path()) || uri.query().is_some_and(decoded)
}

fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) =
                (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Whether a JSON text holds an escaped C0 control character other than tab, line feed
/// and carriage return (`\u0000`, `\b`, `\f`, …). Unescaped ones are not valid JSON and
/// fail parsing anyway. Backslashes appear only inside strings, each starting an escape.
fn json_has_control_escape(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'\\' {
            i += 1;
            continue;
        }
        match body.get(i + 1) {
            Some(b'b' | b'f') => return true,
            Some(b'u') => {
                let code = body
                    .get(i + 2..i + 6)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok());
                if code.is_some_and(|c| c < 0x20 && !matches!(c, 0x09 | 0x0a | 0x0d)) {
                    return true;
                }
                i += 6;
            }
            _ => i += 2,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_controls_are_found_and_only_they() {
        assert!(json_has_control_escape(br#"{"name": "a\u0000b"}"#));
        assert!(json_has_control_escape(br#"{"name": "\u001B[31m"}"#));
        assert!(json_has_control_escape(br#"{"name": "a\bb"}"#));
        assert!(json_has_control_escape(br#"{"a\u0000": 1}"#), "in a key too");
        assert!(!json_has_control_escape(br#"{"note": "line\nline\r\n\ttab \u0009 \u000A"}"#));
        assert!(!json_has_control_escape(br#"{"path": "C:\\u0000"}"#), "an escaped backslash, then text");
        assert!(!json_has_control_escape(br#"{"name": "\u4e2d\u6587 \"quoted\""}"#));
        assert!(!json_has_control_escape(br#"{"name": "trailing \u00"#), "cut short: the parser's to refuse");
    }

    #[test]
    fn urls_with_encoded_controls_are_found() {
        let found = |uri: &str| uri_has_control_characters(&uri.parse::<Uri>().expect("uri"));
        assert!(found("/o/abc%00def"));
        assert!(found("/api/v1/households?region_code=3207%0a"));
        assert!(found("/api/v1/households?q=%7F"));
        assert!(!found("/api/v1/households?region_code=320703&q=%E4%B8%AD%20x+y"));
        assert!(!found("/n/abc%"), "a stray percent sign is not a control");
    }

    #[test]
    fn json_types_are_recognised() {
        let headers = |t: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, t.parse().expect("type"));
            h
        };
        assert!(is_json(&headers("application/json")));
        assert!(is_json(&headers("Application/JSON; charset=utf-8")));
        assert!(is_json(&headers("application/merge-patch+json")));
        assert!(!is_json(&headers("multipart/form-data; boundary=x")));
        assert!(!is_json(&HeaderMap::new()));
    }
}
