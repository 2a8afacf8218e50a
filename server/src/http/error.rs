//! The error every handler returns: a stable code with Chinese and English messages.
//! A 5xx body says nothing about the cause; the cause is logged once, here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jingzhun_mobile_api::errors::{ErrorBody, ErrorCode, ErrorDetail, FieldError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub mode: Option<String>,
    pub fields: Vec<FieldError>,
    /// Logged, never sent.
    pub cause: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode) -> ApiError {
        ApiError { status, code, mode: None, fields: Vec::new(), cause: None }
    }
    pub fn bad_request(code: ErrorCode) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code)
    }
    pub fn unauthorized(code: ErrorCode) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code)
    }
    pub fn forbidden() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden)
    }
    pub fn out_of_scope() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, ErrorCode::OutOfScope)
    }
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound)
    }
    pub fn conflict(code: ErrorCode) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code)
    }
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError {
            cause: Some(cause.to_string()),
            ..ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal)
        }
    }
    pub fn with_fields(mut self, fields: Vec<FieldError>) -> ApiError {
        self.fields = fields;
        self
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> ApiError {
        ApiError::internal(err)
    }
}

/// Put on every answer built from an [`ApiError`], so the layer that guarantees error
/// bodies (`error_bodies`) knows the answer is already ours and whether its cause was
/// logged.
#[derive(Debug, Clone, Copy)]
pub struct Answered {
    pub code: ErrorCode,
    pub cause_logged: bool,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(code = self.code.code(), %cause, "request failed");
        }
        let answered = Answered { code: self.code, cause_logged: self.cause.is_some() };
        let mut detail = ErrorDetail::new(self.code);
        detail.mode = self.mode;
        detail.fields = self.fields;
        let mut response = (self.status, Json(ErrorBody { error: detail })).into_response();
        response.extensions_mut().insert(answered);
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
