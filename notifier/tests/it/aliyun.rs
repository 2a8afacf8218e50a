//! Aliyun SMS against a stand-in gateway that checks the RPC 1.0 signature the way the
//! real one does: decode the form body, drop `Signature`, re-sign with the secret it
//! holds for that `AccessKeyId`, compare; then clock skew, nonce reuse, business codes.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::any;
use jingzhun_notifier::sms::aliyun;
use jingzhun_notifier::{AliyunConfig, AliyunSms, Channel, Message, Secret, SendError};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

pub(crate) const KEY_ID: &str = "LTAI-test";
pub(crate) const SECRET: &str = "test-secret/+=";
/// The stand-in throttles this number, as the gateway does after one text a minute.
pub(crate) const THROTTLED: &str = "13900000000";

#[derive(Clone, Default)]
pub(crate) struct Gateway {
    accepted: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
    nonces: Arc<Mutex<HashSet<String>>>,
    requests: Arc<Mutex<usize>>,
}

/// Form decoding as a servlet does it: '+' is a space, then percent-decoding. A client
/// that lets '+' through for a space signs one string and is verified on another.
fn decode_form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8().expect("utf-8").into_owned();
            (decode(name), decode(value))
        })
        .collect()
}

fn refuse(status: StatusCode, code: &str) -> (StatusCode, Json<Value>) {
    (status, Json(json!({ "Code": code, "Message": format!("stand-in: {code}"), "RequestId": "stand-in" })))
}

async fn gateway(State(state): State<Gateway>, method: Method, body: String) -> (StatusCode, Json<Value>) {
    *state.requests.lock().expect("lock") += 1;
    let mut params = decode_form(&body);
    let Some(signature) = params.remove("Signature") else {
        return refuse(StatusCode::BAD_REQUEST, "MissingSignature");
    };
    if params.get("AccessKeyId").map(String::as_str) != Some(KEY_ID) {
        return refuse(StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound");
    }
    if aliyun::rpc_v1_signature(method.as_str(), &params, SECRET) != signature {
        return refuse(StatusCode::BAD_REQUEST, "SignatureDoesNotMatch");
    }
    let timestamp = params.get("Timestamp").and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let skew = timestamp.map(|t| (chrono::Utc::now() - t.to_utc()).num_seconds().abs());
    if skew.is_none_or(|skew| skew > 15 * 60) {
        return refuse(StatusCode::BAD_REQUEST, "InvalidTimeStamp.Expired");
    }
    if !state.nonces.lock().expect("lock").insert(params.get("SignatureNonce").cloned().unwrap_or_default()) {
        return refuse(StatusCode::BAD_REQUEST, "SignatureNonceUsed");
    }
    for (name, value) in [("Action", "SendSms"), ("Version", "2017-05-25"), ("SignatureMethod", "HMAC-SHA1")] {
        assert_eq!(params.get(name).map(String::as_str), Some(value), "{name}");
    }
    if params.get("TemplateParam").is_none_or(|p| serde_json::from_str::<BTreeMap<String, String>>(p).is_err()) {
        return refuse(StatusCode::OK, "isv.INVALID_JSON_PARAM");
    }
    if params.get("PhoneNumbers").map(String::as_str) == Some(THROTTLED) {
        return refuse(StatusCode::OK, "isv.BUSINESS_LIMIT_CONTROL");
    }
    state.accepted.lock().expect("lock").push(params);
    (
        StatusCode::OK,
        Json(json!({ "Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "r-1" })),
    )
}

pub(crate) async fn start() -> (Gateway, String) {
    let state = Gateway::default();
    let address = crate::serve(axum::Router::new().route("/", any(gateway)).with_state(state.clone())).await;
    (state, format!("http://{address}/"))
}

pub(crate) fn channel(endpoint: &str, secret: &str) -> AliyunSms {
    let mut config = AliyunConfig::new(KEY_ID, Secret::new(secret), "精准扶贫 测试");
    config.endpoint = endpoint.to_string();
    AliyunSms::new(config).expect("client")
}

pub(crate) fn reminder(phone: &str) -> Message {
    Message {
        recipient: phone.into(),
        template: "SMS_71390007".into(),
        // Space, '*', '~' and Chinese: the characters whose encoding differs between
        // Aliyun's rule and ordinary form encoding.
        params: [("name", "张三 *~"), ("deadline", "2026-11-30")]
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        ..Message::default()
    }
}

#[tokio::test]
async fn a_signed_send_is_accepted_with_its_biz_id() {
    let (state, endpoint) = start().await;
    let delivery = channel(&endpoint, SECRET).send(&reminder("+86 138-0013-8000")).await.expect("accepted");
    assert_eq!(delivery.provider_code, "OK");
    assert_eq!(delivery.provider_message_id.as_deref(), Some("900619746936498440^0"));
    let accepted = state.accepted.lock().expect("lock").clone();
    assert_eq!(accepted.len(), 1);
    let params = &accepted[0];
    assert_eq!(params["PhoneNumbers"], "13800138000");
    assert_eq!(params["SignName"], "精准扶贫 测试");
    assert_eq!(params["TemplateCode"], "SMS_71390007");
    let template: BTreeMap<String, String> = serde_json::from_str(&params["TemplateParam"]).expect("json");
    assert_eq!(template, reminder("").params);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_permanently_with_the_gateway_code() {
    let (state, endpoint) = start().await;
    let error = channel(&endpoint, "not-the-secret").send(&reminder("13800138000")).await.expect_err("refused");
    assert!(error.is_permanent(), "{error:?}");
    assert_eq!(error.code(), "SignatureDoesNotMatch");
    assert!(state.accepted.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_throttled_number_is_transient() {
    let (_state, endpoint) = start().await;
    let error = channel(&endpoint, SECRET).send(&reminder(THROTTLED)).await.expect_err("throttled");
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(error.code(), "isv.BUSINESS_LIMIT_CONTROL");
}

#[tokio::test]
async fn an_invalid_number_never_reaches_the_gateway() {
    let (state, endpoint) = start().await;
    let error = channel(&endpoint, SECRET).send(&reminder("010-12345678")).await.expect_err("invalid");
    assert_eq!(error, SendError::permanent("invalid_mobile", "not a mainland mobile number: 010*****5678"));
    assert_eq!(*state.requests.lock().expect("lock"), 0);
}

#[tokio::test]
async fn an_unreachable_gateway_is_transient() {
    // A port that was just free: nothing listens there, so the request was never seen.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let error = channel(&format!("http://{address}/"), SECRET).send(&reminder("13800138000")).await.expect_err("down");
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(error.code(), "connect");
}
