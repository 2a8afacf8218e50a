//! Extractors: the signed-in caller from the bearer token or the console's session
//! cookie, and bodies that answer bad input with our error body instead of axum's plain
//! text. Whether a session is live and a write carries its CSRF token is
//! `auth::session`'s to decide; here the header and the cookie are only read.

use crate::auth::Caller;
use crate::auth::session::{self, Csrf, SessionRow};
use crate::auth::tokens::authenticate;
use crate::error::{Kind, Refusal};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use serde::de::DeserializeOwned;
use std::borrow::Cow;

/// The caller of an authenticated route: by bearer token (phones, scripts) or, without
/// one, by the console's cookie. A device revoked in `drain` mode is refused here: it
/// may only push ([`Pusher`]).
impl FromRequestParts<AppState> for Caller {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Refusal> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            return authenticate(&state.db, bearer(parts)?, None).await;
        }
        ConsoleSession::from_request_parts(parts, state).await.map(|s| s.caller)
    }
}

/// The header a write made with the session cookie repeats the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A console session from its cookie (never a bearer token): the caller, the stored
/// session and the hash of its cookie.
pub struct ConsoleSession {
    pub caller: Caller,
    pub session: SessionRow,
}

impl FromRequestParts<AppState> for ConsoleSession {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ConsoleSession, Refusal> {
        let token = cookie(&parts.headers, session::COOKIE)
            .ok_or_else(|| Refusal::unauthenticated(ErrorCode::Unauthenticated))?;
        // A browser sends the cookie with another site's form too; only our page knows
        // the token it must repeat.
        let csrf = if parts.method.is_safe() {
            Csrf::NotNeeded
        } else {
            Csrf::Sent(parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()))
        };
        let idle = chrono::Duration::minutes(state.config.auth.console_idle_minutes);
        let (caller, session) = session::authenticate(&state.db, token, state.clock.now(), idle, csrf).await?;
        Ok(ConsoleSession { caller, session })
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value.trim_matches('"'))
}

/// The caller of a push: a device revoked in `drain` mode may still push what it holds
/// for `auth.drain_days` after its revocation (then it counts as wiped).
pub struct Pusher(pub Caller);

impl FromRequestParts<AppState> for Pusher {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Pusher, Refusal> {
        authenticate(&state.db, bearer(parts)?, Some(state.config.auth.drain_days)).await.map(Pusher)
    }
}

fn bearer(parts: &Parts) -> Result<&str, Refusal> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| Refusal::unauthenticated(ErrorCode::Unauthenticated))
}

/// JSON body; a malformed or mistyped body answers 400 `invalid_json` with the reason, a
/// body that is not declared JSON 415 `unsupported_media_type`.
///
/// A half of a UTF-16 surrogate pair escaped on its own (`"\ud83d"`: an emoji cut in two
/// by a text field's length limit in a browser) is read as U+FFFD, as a browser's own
/// encoder would, instead of failing the whole body: one broken character must not wedge
/// a phone's outbox behind it.
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Refusal;

    async fn from_request(req: Request, state: &S) -> Result<Self, Refusal> {
        if !declares_json(req.headers()) {
            return Err(Refusal::new(Kind::Unsupported, ErrorCode::UnsupportedMediaType));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Refusal::new(Kind::TooLarge, ErrorCode::PayloadTooLarge)
            } else {
                Refusal::invalid(ErrorCode::InvalidRequest)
            }
        })?;
        match axum::Json::<T>::from_bytes(&without_lone_surrogates(&bytes)) {
            Ok(axum::Json(value)) => Ok(AppJson(value)),
            Err(rejection) => {
                let mut detail = FieldError::new("", ErrorCode::InvalidJson);
                detail.message_en = format!("{}: {}", detail.message_en, rejection.body_text());
                Err(Refusal::invalid(ErrorCode::InvalidJson).with_fields(vec![detail]))
            }
        }
    }
}

/// `application/json` or `application/…+json`, as axum's own `Json` requires.
fn declares_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| {
        let essence = t.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        essence == "application/json" || essence.starts_with("application/") && essence.ends_with("+json")
    })
}

/// The JSON text with every escaped surrogate that is not half of a pair replaced by
/// `\ufffd`; borrowed when there is none (nearly always).
fn without_lone_surrogates(json: &[u8]) -> Cow<'_, [u8]> {
    let escape_at = |i: usize| -> Option<u32> {
        let hex = json.get(i..i + 6)?;
        if hex[0] != b'\\' || !matches!(hex[1], b'u' | b'U') {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    let mut copied = 0;
    while i < json.len() {
        if json[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(code) = escape_at(i) else {
            // Any other escape, `\\` included: skip it whole.
            i += 2;
            continue;
        };
        let high = (0xd800..0xdc00).contains(&code);
        let low = (0xdc00..0xe000).contains(&code);
        if high && escape_at(i + 6).is_some_and(|next| (0xdc00..0xe000).contains(&next)) {
            i += 12;
            continue;
        }
        if high || low {
            let out = out.get_or_insert_with(|| Vec::with_capacity(json.len()));
            out.extend_from_slice(&json[copied..i]);
            out.extend_from_slice(b"\\ufffd");
            copied = i + 6;
        }
        i += 6;
    }
    match out {
        Some(mut out) => {
            out.extend_from_slice(&json[copied..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(json: &str) -> String {
        String::from_utf8(without_lone_surrogates(json.as_bytes()).into_owned()).expect("utf-8")
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(fixed(r#"{"note": "走访\ud83d"}"#), r#"{"note": "走访\ufffd"}"#, "a high half alone");
        assert_eq!(fixed(r#"{"note": "\ude00x"}"#), r#"{"note": "\ufffdx"}"#, "a low half alone");
        assert_eq!(fixed(r#"["\ud83d\ud83d\ude00"]"#), r#"["\ufffd\ud83d\ude00"]"#, "then a whole pair");
        assert_eq!(fixed(r#"["\ud83d\ude00", "\u4e2d"]"#), r#"["\ud83d\ude00", "\u4e2d"]"#, "pairs stay");
        assert_eq!(fixed(r#"["\\ud83d"]"#), r#"["\\ud83d"]"#, "an escaped backslash, then text");
        assert_eq!(fixed(r#"["\ud83"]"#), r#"["\ud83"]"#, "cut short: the parser's to refuse");
        let parsed: serde_json::Value = serde_json::from_str(&fixed(r#"{"note": "走访\ud83d"}"#)).expect("json");
        assert_eq!(parsed["note"], "走访\u{fffd}");
        assert!(matches!(without_lone_surrogates(br#"{"a": "b"}"#), Cow::Borrowed(_)));
    }
}
