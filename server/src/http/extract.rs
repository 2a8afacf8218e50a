//! Extractors that answer bad input with our error body instead of axum's plain text.

use super::error::ApiError;
use axum::extract::{FromRequest, Request, rejection::JsonRejection};
use axum::http::StatusCode;
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};

/// JSON body; a malformed or mistyped body answers 400 `invalid_json` with the reason, a
/// body that is not declared JSON 415 `unsupported_media_type`.
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(AppJson(value)),
            Err(rejection) => {
                let status = rejection.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    return Err(ApiError::new(status, ErrorCode::PayloadTooLarge));
                }
                if matches!(rejection, JsonRejection::MissingJsonContentType(_)) {
                    return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::UnsupportedMediaType));
                }
                let mut detail = FieldError::new("", ErrorCode::InvalidJson);
                detail.message_en = format!("{}: {}", detail.message_en, rejection.body_text());
                Err(ApiError::bad_request(ErrorCode::InvalidJson).with_fields(vec![detail]))
            }
        }
    }
}
