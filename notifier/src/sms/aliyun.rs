//! Aliyun SMS (dysmsapi 2017-05-25, `SendSms`) with the RPC signature 1.0 (HMAC-SHA1),
//! and the newer ACS3-HMAC-SHA256 signer kept ready for the V3 API.
//!
//! The signed parameters are encoded and joined here, by hand, and sent verbatim:
//! reqwest's `.query()`/`.form()` encode space as `+` and `~` as `%7E`, which the
//! gateway then rejects as `SignatureDoesNotMatch`. Never log the secret, the signed
//! body (it holds the phone number) or a whole phone number.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use sha1::Sha1;

use super::{hmac_sha256, invalid_number, normalize_mobile, sha256_hex};
use crate::{Channel, Delivery, Message, Secret, SendError};

/// Everything but the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - _ . ~`) is
/// encoded; `percent-encoding` writes uppercase hex, space as `%20` and `*` as `%2A`,
/// which is exactly Aliyun's rule.
const ALIYUN_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes one name or value the way Aliyun's signature expects.
pub fn percent_encode(value: &str) -> String {
    utf8_percent_encode(value, ALIYUN_ENCODE).to_string()
}

/// Sorted `name=value` pairs, each side encoded, joined with `&`; `Signature` itself is
/// left out. A `BTreeMap` sorts by byte order, which is the order Aliyun uses.
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(name, _)| name.as_str() != "Signature")
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `METHOD&%2F&` + encode(canonical query): the method is signed, so a GET signature
/// does not verify a POST.
pub fn rpc_v1_string_to_sign(method: &str, params: &BTreeMap<String, String>) -> String {
    format!("{}&{}&{}", method.to_ascii_uppercase(), percent_encode("/"), percent_encode(&canonical_query(params)))
}

/// Base64 of HMAC-SHA1 over the string to sign, keyed with secret + `&`.
pub fn rpc_v1_signature(method: &str, params: &BTreeMap<String, String>, access_key_secret: &str) -> String {
    let key = format!("{access_key_secret}&");
    let mut mac =
        <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(rpc_v1_string_to_sign(method, params).as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// The canonical query with its signature appended, ready to be sent as a URL query
/// (GET) or an `application/x-www-form-urlencoded` body (POST).
pub fn rpc_v1_signed_query(method: &str, params: &BTreeMap<String, String>, access_key_secret: &str) -> String {
    let signature = rpc_v1_signature(method, params, access_key_secret);
    format!("{}&Signature={}", canonical_query(params), percent_encode(&signature))
}

/// The parts of an ACS3-HMAC-SHA256 signature, intermediate values included so tests
/// and a verifying stand-in can compare each step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acs3Signature {
    pub canonical_request: String,
    pub hashed_canonical_request: String,
    pub signed_headers: String,
    /// Lowercase hex.
    pub signature: String,
    /// The `Authorization` header value.
    pub authorization: String,
}

/// Signs a V3 request. `headers` are the headers to sign (`host`, `content-type` if
/// any, every `x-acs-*` including `x-acs-content-sha256`); names are lowercased and
/// sorted here, values trimmed. Unlike RPC 1.0 the key is the plain secret.
pub fn acs3_sign(
    method: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    access_key_id: &str,
    access_key_secret: &str,
) -> Acs3Signature {
    let headers: BTreeMap<String, &str> =
        headers.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.trim())).collect();
    let canonical_headers: String = headers.iter().map(|(name, value)| format!("{name}:{value}\n")).collect();
    let signed_headers = headers.keys().cloned().collect::<Vec<_>>().join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path,
        canonical_query(query),
        canonical_headers,
        signed_headers,
        sha256_hex(body)
    );
    let hashed_canonical_request = sha256_hex(canonical_request.as_bytes());
    let string_to_sign = format!("ACS3-HMAC-SHA256\n{hashed_canonical_request}");
    let signature = hex::encode(hmac_sha256(access_key_secret.as_bytes(), string_to_sign.as_bytes()));
    let authorization =
        format!("ACS3-HMAC-SHA256 Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}");
    Acs3Signature { canonical_request, hashed_canonical_request, signed_headers, signature, authorization }
}

/// Where and as whom to send.
#[derive(Clone, Debug)]
pub struct AliyunConfig {
    /// `https://dysmsapi.aliyuncs.com/` in production; a stand-in in tests.
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// The approved signature (签名), e.g. "精准扶贫".
    pub sign_name: String,
    /// `cn-hangzhou` for the SMS service whatever the caller's region.
    pub region_id: String,
    pub timeout: Duration,
}

impl AliyunConfig {
    pub fn new(access_key_id: impl Into<String>, access_key_secret: Secret, sign_name: impl Into<String>) -> Self {
        Self {
            endpoint: "https://dysmsapi.aliyuncs.com/".into(),
            access_key_id: access_key_id.into(),
            access_key_secret,
            sign_name: sign_name.into(),
            region_id: "cn-hangzhou".into(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Aliyun SMS behind the [`Channel`] trait.
pub struct AliyunSms {
    config: AliyunConfig,
    http: reqwest::Client,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendSmsResponse {
    code: Option<String>,
    message: Option<String>,
    biz_id: Option<String>,
}

impl AliyunSms {
    pub fn new(config: AliyunConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(config.timeout).build()?;
        Ok(Self { config, http })
    }

    /// The request parameters of one `SendSms`, before signing. Separate so the nonce
    /// and timestamp can be fixed in tests.
    pub fn send_sms_params(
        &self,
        phone: &str,
        message: &Message,
        timestamp: &str,
        nonce: &str,
    ) -> Result<BTreeMap<String, String>, SendError> {
        let template_param = serde_json::to_string(&message.params)
            .map_err(|error| SendError::permanent("template_param", error.to_string()))?;
        let pairs = [
            ("AccessKeyId", self.config.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", phone),
            ("RegionId", self.config.region_id.as_str()),
            ("SignName", self.config.sign_name.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", message.template.as_str()),
            ("TemplateParam", template_param.as_str()),
            ("Timestamp", timestamp),
            ("Version", "2017-05-25"),
        ];
        Ok(pairs.into_iter().map(|(name, value)| (name.to_string(), value.to_string())).collect())
    }
}

/// Aliyun's rule for notification-template variables: 1 to 35 characters, no links.
/// Checked before sending, because a refused variable still costs an attempt and the
/// refusal (`isv.INVALID_PARAMETERS`) does not say which variable was wrong.
pub fn check_template_params(params: &BTreeMap<String, String>) -> Result<(), SendError> {
    for (name, value) in params {
        let length = value.chars().count();
        if !(1..=35).contains(&length) {
            return Err(SendError::permanent(
                "param_length",
                format!("variable {name} has {length} characters, 1-35 allowed"),
            ));
        }
        let lower = value.to_ascii_lowercase();
        if ["http://", "https://", "www."].iter().any(|link| lower.contains(link)) {
            return Err(SendError::permanent("param_link", format!("variable {name} holds a link")));
        }
    }
    Ok(())
}

/// Codes answered with HTTP 200 that a later attempt can get past.
fn business_code_is_transient(code: &str) -> bool {
    matches!(code, "isv.BUSINESS_LIMIT_CONTROL" | "isp.SYSTEM_ERROR" | "isp.GATEWAY_ERROR")
        || code.starts_with("Throttling")
}

/// Maps an answer to the trait's vocabulary. A 200 with `Code` other than `OK` is a
/// business refusal; 4xx are gateway refusals (signature, clock, nonce) that will fail
/// the same way again; 5xx and throttling may pass later.
fn classify(status: reqwest::StatusCode, body: &str) -> Result<Delivery, SendError> {
    let parsed: Option<SendSmsResponse> = serde_json::from_str(body).ok();
    let code = parsed.as_ref().and_then(|answer| answer.code.clone());
    let detail = parsed.as_ref().and_then(|answer| answer.message.clone()).unwrap_or_default();
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(SendError::transient(code.unwrap_or_else(|| format!("http_{}", status.as_u16())), detail));
    }
    if status.is_client_error() {
        let code = code.unwrap_or_else(|| format!("http_{}", status.as_u16()));
        // The gateway's flow control (`Throttling`, `Throttling.User`…) passes with time.
        if code.starts_with("Throttling") {
            return Err(SendError::transient(code, detail));
        }
        return Err(SendError::permanent(code, detail));
    }
    match (status.is_success(), code) {
        (true, Some(code)) if code == "OK" => {
            Ok(Delivery { provider_message_id: parsed.and_then(|answer| answer.biz_id), provider_code: code })
        }
        (true, Some(code)) if business_code_is_transient(&code) => Err(SendError::transient(code, detail)),
        (true, Some(code)) => Err(SendError::permanent(code, detail)),
        // A 200 we cannot read may still have sent the text.
        (true, None) => Err(SendError::indeterminate("unreadable_answer", "HTTP 200 without a Code")),
        (false, _) => Err(SendError::indeterminate(format!("http_{}", status.as_u16()), "unexpected status")),
    }
}

#[async_trait]
impl Channel for AliyunSms {
    fn name(&self) -> &'static str {
        "aliyun_sms"
    }

    async fn send(&self, message: &Message) -> Result<Delivery, SendError> {
        let phone = normalize_mobile(&message.recipient).ok_or_else(|| invalid_number(&message.recipient))?;
        check_template_params(&message.params)?;
        let timestamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let nonce = uuid::Uuid::new_v4().to_string();
        let params = self.send_sms_params(&phone, message, &timestamp, &nonce)?;
        // POST keeps the phone number out of URLs, which proxies and access logs keep.
        let body = rpc_v1_signed_query("POST", &params, self.config.access_key_secret.expose());
        let response = self
            .http
            .post(&self.config.endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(SendError::from_http)?;
        let status = response.status();
        let text = response.text().await.map_err(SendError::from_http)?;
        let outcome = classify(status, &text);
        match &outcome {
            Ok(delivery) => {
                tracing::info!(phone = %crate::mask_phone(&phone), biz_id = ?delivery.provider_message_id, "aliyun sms accepted")
            }
            Err(error) => {
                tracing::warn!(phone = %crate::mask_phone(&phone), code = error.code(), "aliyun sms refused")
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_follows_the_aliyun_rule() {
        assert_eq!(percent_encode("a b*c~d-e_f.g/h+i"), "a%20b%2Ac~d-e_f.g%2Fh%2Bi");
        assert_eq!(percent_encode("阿"), "%E9%98%BF");
    }

    #[test]
    fn template_variables_follow_the_aliyun_rule() {
        let params = |value: &str| BTreeMap::from([("name".to_string(), value.to_string())]);
        assert_eq!(check_template_params(&params("城关镇东村")), Ok(()));
        assert_eq!(check_template_params(&params(&"村".repeat(35))), Ok(()));
        assert_eq!(
            check_template_params(&params(&"村".repeat(36))).map_err(|e| e.code().to_string()),
            Err("param_length".into())
        );
        assert_eq!(check_template_params(&params("")).map_err(|e| e.code().to_string()), Err("param_length".into()));
        let link = check_template_params(&params("见 https://x.cn/a"));
        assert_eq!(link.map_err(|e| e.code().to_string()), Err("param_link".into()));
    }

    #[test]
    fn answers_are_classified() {
        let ok = classify(reqwest::StatusCode::OK, r#"{"Code":"OK","BizId":"9006197469364984400","RequestId":"x"}"#);
        assert_eq!(
            ok,
            Ok(Delivery { provider_message_id: Some("9006197469364984400".into()), provider_code: "OK".into() })
        );
        let throttled =
            classify(reqwest::StatusCode::OK, r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发分钟级流控"}"#);
        assert!(throttled.as_ref().is_err_and(SendError::is_transient));
        for code in [
            "isv.MOBILE_NUMBER_ILLEGAL",
            "isv.SMS_TEMPLATE_ILLEGAL",
            "isv.SMS_SIGNATURE_ILLEGAL",
            "isv.TEMPLATE_MISSING_PARAMETERS",
            "isv.INVALID_JSON_PARAM",
            "isv.AMOUNT_NOT_ENOUGH",
        ] {
            let answer = classify(reqwest::StatusCode::OK, &format!(r#"{{"Code":"{code}","Message":"m"}}"#));
            assert_eq!(answer, Err(SendError::permanent(code, "m")));
        }
        for code in ["SignatureDoesNotMatch", "InvalidTimeStamp.Expired", "SignatureNonceUsed"] {
            let answer = classify(reqwest::StatusCode::BAD_REQUEST, &format!(r#"{{"Code":"{code}","Message":"m"}}"#));
            assert_eq!(answer, Err(SendError::permanent(code, "m")));
        }
        // Aliyun quotes the string to sign, phone number and all: none of it is kept.
        let quoted = classify(
            reqwest::StatusCode::BAD_REQUEST,
            r#"{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation. server string to sign is:POST&%2F&PhoneNumbers%3D13800138000"}"#,
        );
        let detail = quoted.expect_err("refused").to_string();
        assert!(!detail.contains("13800138000") && !detail.contains("PhoneNumbers"), "{detail}");
        assert!(classify(reqwest::StatusCode::SERVICE_UNAVAILABLE, "").is_err_and(|e| e.is_transient()));
        let flow = classify(reqwest::StatusCode::BAD_REQUEST, r#"{"Code":"Throttling.User","Message":"m"}"#);
        assert_eq!(flow, Err(SendError::transient("Throttling.User", "m")));
        assert!(matches!(classify(reqwest::StatusCode::OK, "<html>"), Err(SendError::Indeterminate { .. })));
    }
}
