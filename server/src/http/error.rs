//! Refusals as HTTP answers: the one table from a refusal's kind to a status, and the
//! body every error answer has (a stable code with Chinese and English messages). A 5xx
//! body says nothing about the cause; the cause is logged once, here.

use crate::error::{Kind, Refusal};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jingzhun_mobile_api::errors::{ErrorBody, ErrorCode, ErrorDetail};

pub type ApiResult<T> = Result<T, Refusal>;

/// The status of each kind of refusal. The only place a service's answer gets one.
pub fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::Invalid => StatusCode::BAD_REQUEST,
        Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::Gone => StatusCode::GONE,
        Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Kind::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Kind::OutdatedClient => StatusCode::UPGRADE_REQUIRED,
        Kind::TooMany => StatusCode::TOO_MANY_REQUESTS,
        Kind::Busy => StatusCode::SERVICE_UNAVAILABLE,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Put on every answer built from a [`Refusal`], so the layer that guarantees error
/// bodies (`error_bodies`) knows the answer is already ours and whether its cause was
/// logged.
#[derive(Debug, Clone, Copy)]
pub struct Answered {
    pub code: ErrorCode,
    pub cause_logged: bool,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = status_of(self.kind);
        answer(status, self)
    }
}

/// The answer to a refusal under a given status: also what `error_bodies` gives the
/// statuses axum and tower answer by themselves (405, 408, 413…).
pub fn answer(status: StatusCode, refusal: Refusal) -> Response {
    if let Some(cause) = &refusal.cause {
        tracing::error!(code = refusal.code.code(), %cause, "request failed");
    }
    let answered = Answered { code: refusal.code, cause_logged: refusal.cause.is_some() };
    let mut detail = ErrorDetail::new(refusal.code);
    detail.mode = refusal.mode;
    detail.fields = refusal.fields;
    let mut response = (status, Json(ErrorBody { error: detail })).into_response();
    response.extensions_mut().insert(answered);
    response
}
