//! Tencent Cloud SMS against a stand-in that verifies TC3-HMAC-SHA256 as the API does:
//! read the credential scope and signed-header list from `Authorization`, rebuild the
//! canonical request from the headers and body actually received, check the scope date
//! is the UTC date of `X-TC-Timestamp`, re-sign with the secret key, compare.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use jingzhun_notifier::sms::tencent;
use jingzhun_notifier::{Channel, Message, Secret, TencentConfig, TencentSms};
use serde_json::{Value, json};

pub(crate) const SECRET_ID: &str = "AKID-test";
pub(crate) const SECRET_KEY: &str = "tencent-test-key";
pub(crate) const THROTTLED: &str = "13900000000";

#[derive(Clone, Default)]
pub(crate) struct Api {
    accepted: Arc<Mutex<Vec<Value>>>,
}

fn error(code: &str) -> Json<Value> {
    Json(json!({ "Response": { "Error": { "Code": code, "Message": format!("stand-in: {code}") }, "RequestId": "r" } }))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("")
}

/// Splits `TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
fn parse_authorization(value: &str) -> Option<(String, String, String)> {
    let rest = value.strip_prefix("TC3-HMAC-SHA256 ")?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(", ") {
        match part.split_once('=')? {
            ("Credential", v) => credential = Some(v.to_string()),
            ("SignedHeaders", v) => signed_headers = Some(v.to_string()),
            ("Signature", v) => signature = Some(v.to_string()),
            _ => return None,
        }
    }
    Some((credential?, signed_headers?, signature?))
}

async fn api(State(state): State<Api>, headers: HeaderMap, body: Bytes) -> Json<Value> {
    // Tencent answers HTTP 200 with `Response.Error` for request-level failures.
    let Some((credential, signed_headers, signature)) = parse_authorization(header(&headers, "authorization")) else {
        return error("AuthFailure.InvalidAuthorization");
    };
    let Ok(timestamp) = header(&headers, "x-tc-timestamp").parse::<i64>() else {
        return error("MissingParameter");
    };
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 4 || scope[0] != SECRET_ID {
        return error("AuthFailure.SecretIdNotFound");
    }
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 300 {
        return error("AuthFailure.SignatureExpire");
    }
    if scope[1] != tencent::utc_date(timestamp) || scope[2] != "sms" || scope[3] != "tc3_request" {
        return error("AuthFailure.SignatureFailure");
    }
    let received: Vec<(&str, &str)> = signed_headers.split(';').map(|name| (name, header(&headers, name))).collect();
    let request = tencent::Tc3Request {
        method: "POST",
        query: "",
        headers: &received,
        payload: &body,
        service: "sms",
        timestamp,
    };
    if tencent::tc3_sign(&request, SECRET_KEY).signature != signature {
        return error("AuthFailure.SignatureFailure");
    }
    assert!(signed_headers.contains("content-type") && signed_headers.contains("host"), "{signed_headers}");
    assert_eq!(header(&headers, "x-tc-action"), "SendSms");
    assert_eq!(header(&headers, "x-tc-version"), "2021-01-11");
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return error("InvalidParameter.JsonParseFail");
    };
    let phone = payload["PhoneNumberSet"][0].as_str().unwrap_or_default().to_string();
    if phone == format!("+86{THROTTLED}") {
        return Json(json!({ "Response": { "SendStatusSet": [{
            "SerialNo": "", "PhoneNumber": phone, "Fee": 0, "Code": "LimitExceeded.PhoneNumberThirtySecondLimit",
            "Message": "the number of sms messages sent from a single mobile number within 30 seconds exceeds the upper limit",
            "IsoCode": "CN"
        }], "RequestId": "r" } }));
    }
    state.accepted.lock().expect("lock").push(payload);
    Json(json!({ "Response": { "SendStatusSet": [{
        "SerialNo": "5000:1045710669157053657849499619", "PhoneNumber": phone, "Fee": 1, "Code": "Ok",
        "Message": "send success", "IsoCode": "CN"
    }], "RequestId": "r" } }))
}

pub(crate) async fn start() -> (Api, String) {
    let state = Api::default();
    let address = crate::serve(axum::Router::new().route("/", post(api)).with_state(state.clone())).await;
    (state, format!("http://{address}/"))
}

pub(crate) fn channel(endpoint: &str, secret_key: &str) -> TencentSms {
    let mut config = TencentConfig::new(SECRET_ID, Secret::new(secret_key), "1400006666", "精准扶贫");
    config.endpoint = endpoint.to_string();
    TencentSms::new(config).expect("client")
}

pub(crate) fn reminder(phone: &str) -> Message {
    Message {
        recipient: phone.into(),
        template: "449739".into(),
        params: [("1", "张三"), ("2", "11月30日")]
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        ..Message::default()
    }
}

#[tokio::test]
async fn a_signed_send_is_accepted_with_its_serial_number() {
    let (state, endpoint) = start().await;
    let delivery = channel(&endpoint, SECRET_KEY).send(&reminder("0086 13800138000")).await.expect("accepted");
    assert_eq!(delivery.provider_code, "Ok");
    assert_eq!(delivery.provider_message_id.as_deref(), Some("5000:1045710669157053657849499619"));
    let accepted = state.accepted.lock().expect("lock").clone();
    assert_eq!(
        accepted,
        vec![json!({
            "PhoneNumberSet": ["+8613800138000"],
            "SmsSdkAppId": "1400006666",
            "SignName": "精准扶贫",
            "TemplateId": "449739",
            "TemplateParamSet": ["张三", "11月30日"],
        })]
    );
}

#[tokio::test]
async fn a_wrong_secret_is_refused_permanently_with_the_api_code() {
    let (state, endpoint) = start().await;
    let error = channel(&endpoint, "not-the-key").send(&reminder("13800138000")).await.expect_err("refused");
    assert!(error.is_permanent(), "{error:?}");
    assert_eq!(error.code(), "AuthFailure.SignatureFailure");
    assert!(state.accepted.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_throttled_number_is_transient() {
    let (_state, endpoint) = start().await;
    let error = channel(&endpoint, SECRET_KEY).send(&reminder(THROTTLED)).await.expect_err("throttled");
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(error.code(), "LimitExceeded.PhoneNumberThirtySecondLimit");
}
