//! Tencent Cloud SMS (API 3.0, `SendSms` 2021-01-11) signed with TC3-HMAC-SHA256.
//!
//! The date in the credential scope is the UTC date of `X-TC-Timestamp` (a Beijing
//! date fails for eight hours a day), and the `Content-Type` signed is the one sent,
//! byte for byte. Never log the secret key or a whole phone number.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{hmac_sha256, invalid_number, normalize_mobile, sha256_hex};
use crate::{Channel, Delivery, Message, Secret, SendError};

/// The one content type we send and sign.
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Inputs of a TC3 signature. `headers` are the headers to sign, names in any case.
#[derive(Clone, Debug)]
pub struct Tc3Request<'a> {
    pub method: &'a str,
    /// Canonical query string: empty for POST.
    pub query: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
    pub service: &'a str,
    /// Unix seconds, as sent in `X-TC-Timestamp`.
    pub timestamp: i64,
}

/// Every intermediate value of a TC3 signature, for tests and the verifying stand-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tc3Signature {
    pub hashed_payload: String,
    pub canonical_request: String,
    pub hashed_canonical_request: String,
    pub signed_headers: String,
    /// UTC `YYYY-MM-DD` of the timestamp.
    pub date: String,
    pub string_to_sign: String,
    /// Lowercase hex.
    pub signature: String,
}

impl Tc3Signature {
    pub fn authorization(&self, secret_id: &str, service: &str) -> String {
        format!(
            "TC3-HMAC-SHA256 Credential={secret_id}/{}/{service}/tc3_request, SignedHeaders={}, Signature={}",
            self.date, self.signed_headers, self.signature
        )
    }
}

/// The UTC date of a Unix timestamp, as the credential scope wants it.
pub fn utc_date(timestamp: i64) -> String {
    chrono::DateTime::from_timestamp(timestamp, 0)
        .map(|time| time.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "1970-01-01".into())
}

/// First link of the key chain: HMAC(`TC3` + secret, date).
pub fn tc3_secret_date(secret_key: &str, date: &str) -> [u8; 32] {
    hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes())
}

/// The rest of the chain from the date key: service, then `tc3_request`.
pub fn tc3_signing_key_from_date(secret_date: &[u8], service: &str) -> [u8; 32] {
    let secret_service = hmac_sha256(secret_date, service.as_bytes());
    hmac_sha256(&secret_service, b"tc3_request")
}

/// Builds canonical request and string to sign, and signs it with `signing_key`.
pub fn tc3_sign_with_key(request: &Tc3Request<'_>, signing_key: &[u8]) -> Tc3Signature {
    let headers: BTreeMap<String, String> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_ascii_lowercase()))
        .collect();
    let canonical_headers: String = headers.iter().map(|(name, value)| format!("{name}:{value}\n")).collect();
    let signed_headers = headers.keys().cloned().collect::<Vec<_>>().join(";");
    let hashed_payload = sha256_hex(request.payload);
    let canonical_request = format!(
        "{}\n/\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        request.query,
        canonical_headers,
        signed_headers,
        hashed_payload
    );
    let hashed_canonical_request = sha256_hex(canonical_request.as_bytes());
    let date = utc_date(request.timestamp);
    let string_to_sign = format!(
        "TC3-HMAC-SHA256\n{}\n{date}/{}/tc3_request\n{hashed_canonical_request}",
        request.timestamp, request.service
    );
    let signature = hex::encode(hmac_sha256(signing_key, string_to_sign.as_bytes()));
    Tc3Signature {
        hashed_payload,
        canonical_request,
        hashed_canonical_request,
        signed_headers,
        date,
        string_to_sign,
        signature,
    }
}

/// Signs with the secret key (the whole chain).
pub fn tc3_sign(request: &Tc3Request<'_>, secret_key: &str) -> Tc3Signature {
    let date = utc_date(request.timestamp);
    let signing_key = tc3_signing_key_from_date(&tc3_secret_date(secret_key, &date), request.service);
    tc3_sign_with_key(request, &signing_key)
}

/// Where and as whom to send.
#[derive(Clone, Debug)]
pub struct TencentConfig {
    /// `https://sms.tencentcloudapi.com/` in production; a stand-in in tests.
    pub endpoint: String,
    pub secret_id: String,
    pub secret_key: Secret,
    /// The SMS application (`SmsSdkAppId`).
    pub sdk_app_id: String,
    /// The approved signature (签名).
    pub sign_name: String,
    pub region: String,
    pub timeout: Duration,
}

impl TencentConfig {
    pub fn new(
        secret_id: impl Into<String>,
        secret_key: Secret,
        sdk_app_id: impl Into<String>,
        sign_name: impl Into<String>,
    ) -> Self {
        Self {
            endpoint: "https://sms.tencentcloudapi.com/".into(),
            secret_id: secret_id.into(),
            secret_key,
            sdk_app_id: sdk_app_id.into(),
            sign_name: sign_name.into(),
            region: "ap-guangzhou".into(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Tencent Cloud SMS behind the [`Channel`] trait.
pub struct TencentSms {
    config: TencentConfig,
    http: reqwest::Client,
    /// `Host` as hyper will send it (port only when not the scheme's default): signed.
    host: String,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "Response")]
    response: ResponseBody,
}

#[derive(Debug, Deserialize)]
struct ResponseBody {
    #[serde(rename = "Error")]
    error: Option<ApiError>,
    #[serde(rename = "SendStatusSet", default)]
    send_status_set: Vec<SendStatus>,
}

#[derive(Debug, Deserialize)]
struct ApiError {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

#[derive(Debug, Deserialize)]
struct SendStatus {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "SerialNo", default)]
    serial_no: Option<String>,
}

/// Error kinds a later attempt can get past: per-number and per-app throttles (the
/// daily ones clear the next day, so the backoff must be long), and Tencent's own
/// hiccups. The batch-size limit is ours to fix, not a throttle.
fn code_is_transient(code: &str) -> bool {
    (code.starts_with("LimitExceeded.") && code != "LimitExceeded.PhoneNumberCountLimit")
        || matches!(
            code,
            "RequestLimitExceeded"
                | "InternalError"
                | "InternalError.Timeout"
                | "InternalError.SendAndRecvFail"
                | "InternalError.OtherError"
        )
}

/// Tencent answers HTTP 200 for nearly everything: a request-level `Error`, or one
/// status per number. We send one number per request, so the first status decides.
fn classify(status: reqwest::StatusCode, body: &str) -> Result<Delivery, SendError> {
    if status.is_server_error() {
        return Err(SendError::transient(format!("http_{}", status.as_u16()), "server error"));
    }
    let Ok(envelope) = serde_json::from_str::<Envelope>(body) else {
        return Err(SendError::indeterminate(format!("http_{}", status.as_u16()), "unreadable answer"));
    };
    let classify_code = |code: String, detail: String| {
        if code_is_transient(&code) { SendError::transient(code, detail) } else { SendError::permanent(code, detail) }
    };
    if let Some(error) = envelope.response.error {
        return Err(classify_code(error.code, error.message));
    }
    match envelope.response.send_status_set.into_iter().next() {
        Some(sent) if sent.code == "Ok" => {
            Ok(Delivery { provider_message_id: sent.serial_no, provider_code: sent.code })
        }
        Some(sent) => Err(classify_code(sent.code, sent.message)),
        None => Err(SendError::indeterminate("empty_status_set", "no Error and no SendStatusSet")),
    }
}

impl TencentSms {
    pub fn new(config: TencentConfig) -> Result<Self, SendError> {
        let url = reqwest::Url::parse(&config.endpoint)
            .map_err(|error| SendError::permanent("endpoint", error.to_string()))?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            (None, _) => return Err(SendError::permanent("endpoint", "endpoint has no host")),
        };
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|error| SendError::permanent("http_client", error.to_string()))?;
        Ok(Self { config, http, host })
    }

    /// Template parameters in template order: keys "1", "2", … sorted as numbers, so
    /// "10" comes after "9".
    fn template_params(message: &Message) -> Vec<&str> {
        let mut params: Vec<(&String, &String)> = message.params.iter().collect();
        params.sort_by_key(|(name, _)| (name.parse::<u32>().unwrap_or(u32::MAX), name.as_str()));
        params.into_iter().map(|(_, value)| value.as_str()).collect()
    }
}

#[async_trait]
impl Channel for TencentSms {
    fn name(&self) -> &'static str {
        "tencent_sms"
    }

    async fn send(&self, message: &Message) -> Result<Delivery, SendError> {
        let phone = normalize_mobile(&message.recipient).ok_or_else(|| invalid_number(&message.recipient))?;
        let payload = json!({
            "PhoneNumberSet": [format!("+86{phone}")],
            "SmsSdkAppId": self.config.sdk_app_id,
            "SignName": self.config.sign_name,
            "TemplateId": message.template,
            "TemplateParamSet": Self::template_params(message),
        })
        .to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let headers = [("content-type", CONTENT_TYPE), ("host", self.host.as_str()), ("x-tc-action", "SendSms")];
        let request = Tc3Request {
            method: "POST",
            query: "",
            headers: &headers,
            payload: payload.as_bytes(),
            service: "sms",
            timestamp,
        };
        let signature = tc3_sign(&request, self.config.secret_key.expose());
        let response = self
            .http
            .post(&self.config.endpoint)
            .header("Authorization", signature.authorization(&self.config.secret_id, "sms"))
            .header("Content-Type", CONTENT_TYPE)
            .header("X-TC-Action", "SendSms")
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Version", "2021-01-11")
            .header("X-TC-Region", &self.config.region)
            .body(payload)
            .send()
            .await
            .map_err(SendError::from_http)?;
        let status = response.status();
        let text = response.text().await.map_err(SendError::from_http)?;
        let outcome = classify(status, &text);
        match &outcome {
            Ok(delivery) => {
                tracing::info!(phone = %crate::mask_phone(&phone), serial_no = ?delivery.provider_message_id, "tencent sms accepted")
            }
            Err(error) => {
                tracing::warn!(phone = %crate::mask_phone(&phone), code = error.code(), "tencent sms refused")
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_date_is_the_utc_date() {
        // 2019-02-26 07:30 in Beijing is still the 25th in UTC.
        assert_eq!(utc_date(1_551_137_400), "2019-02-25");
        assert_eq!(utc_date(1_551_113_065), "2019-02-25");
    }

    #[test]
    fn answers_are_classified() {
        let ok = r#"{"Response":{"SendStatusSet":[{"SerialNo":"2640:1","PhoneNumber":"+8613800138000","Code":"Ok","Message":"send success"}],"RequestId":"r"}}"#;
        assert_eq!(
            classify(reqwest::StatusCode::OK, ok),
            Ok(Delivery { provider_message_id: Some("2640:1".into()), provider_code: "Ok".into() })
        );
        for code in [
            "LimitExceeded.PhoneNumberThirtySecondLimit",
            "LimitExceeded.PhoneNumberOneHourLimit",
            "LimitExceeded.PhoneNumberDailyLimit",
        ] {
            let body =
                format!(r#"{{"Response":{{"SendStatusSet":[{{"Code":"{code}","Message":"m"}}],"RequestId":"r"}}}}"#);
            assert_eq!(classify(reqwest::StatusCode::OK, &body), Err(SendError::transient(code, "m")));
        }
        for code in [
            "AuthFailure.SignatureFailure",
            "AuthFailure.SignatureExpire",
            "FailedOperation.TemplateIncorrectOrUnapproved",
            "InvalidParameterValue.IncorrectPhoneNumber",
            "LimitExceeded.PhoneNumberCountLimit",
            "FailedOperation.ServiceSuspendDueToArrears",
        ] {
            let body = format!(r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"m"}},"RequestId":"r"}}}}"#);
            assert_eq!(classify(reqwest::StatusCode::OK, &body), Err(SendError::permanent(code, "m")));
        }
    }

    #[test]
    fn positional_params_sort_as_numbers() {
        let params = (1..=10).map(|i| (i.to_string(), format!("v{i}"))).collect();
        let message = Message { params, ..Message::default() };
        assert_eq!(TencentSms::template_params(&message).last(), Some(&"v10"));
    }
}
