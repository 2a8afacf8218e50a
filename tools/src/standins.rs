//! Local stand-ins for the providers, for end-to-end tests and the dispatch benchmark:
//! an Aliyun SMS gateway that verifies the RPC 1.0 signature the way Aliyun does, and a
//! WeCom robot webhook. They listen on loopback only and keep what they accepted so a
//! test can count receipts. The dispatcher never uses them.
//!
//! Scripted answers by phone number: [`AliyunGateway::throttle`] answers
//! `isv.BUSINESS_LIMIT_CONTROL` (transient) a number of times, [`AliyunGateway::refuse`]
//! answers a permanent code every time; [`AliyunGateway::delay`] makes every answer
//! slow, so sends overlap. A bad signature is refused as Aliyun refuses it, quoting the
//! string to sign (phone number included). [`WeComStandIn::busy`] answers `errcode -1`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{any, post};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use jingzhun_notifier::sms::{aliyun, tencent};

/// The stand-in's AccessKeyId and secret.
pub const ALIYUN_KEY_ID: &str = "LTAI-standin";
pub const ALIYUN_SECRET: &str = "standin-secret/+=";

/// Serves `router` on a fresh loopback port until the runtime ends.
pub async fn serve(router: axum::Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "stand-in stopped");
        }
    });
    Ok(address)
}

#[derive(Default)]
struct GatewayState {
    accepted: Vec<BTreeMap<String, String>>,
    nonces: HashSet<String>,
    requests: usize,
    throttles: HashMap<String, usize>,
    refusals: HashMap<String, String>,
    garbled: HashSet<String>,
    delay: Duration,
}

/// A stand-in for `https://dysmsapi.aliyuncs.com/`.
#[derive(Clone, Default)]
pub struct AliyunGateway {
    state: Arc<Mutex<GatewayState>>,
}

impl AliyunGateway {
    /// Starts the gateway; returns it and its endpoint (`http://127.0.0.1:port/`).
    pub async fn start() -> std::io::Result<(AliyunGateway, String)> {
        let gateway = AliyunGateway::default();
        let address = serve(axum::Router::new().route("/", any(answer)).with_state(gateway.clone())).await?;
        Ok((gateway, format!("http://{address}/")))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GatewayState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next `times` sends to `phone` are throttled (`isv.BUSINESS_LIMIT_CONTROL`).
    pub fn throttle(&self, phone: &str, times: usize) {
        self.lock().throttles.insert(phone.to_string(), times);
    }

    /// Every send to `phone` is refused with `code` (e.g. `isv.MOBILE_NUMBER_ILLEGAL`).
    pub fn refuse(&self, phone: &str, code: &str) {
        self.lock().refusals.insert(phone.to_string(), code.to_string());
    }

    /// Sends to `phone` are taken (and counted as received) but answered with a body
    /// that is not the gateway's JSON, as a broken proxy would: the outcome is unknown.
    pub fn garble(&self, phone: &str) {
        self.lock().garbled.insert(phone.to_string());
    }

    /// Every answer from now on comes after `delay`, as from a slow gateway.
    pub fn delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// The accepted requests' parameters (signature checked), oldest first.
    pub fn accepted(&self) -> Vec<BTreeMap<String, String>> {
        self.lock().accepted.clone()
    }

    /// How many messages `phone` received.
    pub fn received_by(&self, phone: &str) -> usize {
        self.lock()
            .accepted
            .iter()
            .filter(|params| params.get("PhoneNumbers").map(String::as_str) == Some(phone))
            .count()
    }

    /// Requests seen, accepted or not.
    pub fn requests(&self) -> usize {
        self.lock().requests
    }
}

/// Form decoding as a servlet does it: '+' is a space, then percent-decoding.
fn decode_form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            (decode(name), decode(value))
        })
        .collect()
}

fn refusal(status: StatusCode, code: &str) -> (StatusCode, Json<Value>) {
    (status, Json(json!({ "Code": code, "Message": format!("stand-in: {code}"), "RequestId": "stand-in" })))
}

async fn answer(State(gateway): State<AliyunGateway>, method: Method, body: String) -> (StatusCode, Json<Value>) {
    let delay = gateway.lock().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut params = decode_form(&body);
    let mut state = gateway.lock();
    state.requests += 1;
    let Some(signature) = params.remove("Signature") else {
        return refusal(StatusCode::BAD_REQUEST, "MissingSignature");
    };
    if params.get("AccessKeyId").map(String::as_str) != Some(ALIYUN_KEY_ID) {
        return refusal(StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound");
    }
    if aliyun::rpc_v1_signature(method.as_str(), &params, ALIYUN_SECRET) != signature {
        // Aliyun's own wording: the string to sign, phone number and variables included.
        let message = format!(
            "Specified signature is not matched with our calculation. server string to sign is:{}",
            aliyun::rpc_v1_string_to_sign(method.as_str(), &params)
        );
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "Code": "SignatureDoesNotMatch", "Message": message, "RequestId": "stand-in" })),
        );
    }
    let timestamp = params.get("Timestamp").and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    if timestamp.is_none_or(|t| (chrono::Utc::now() - t.to_utc()).num_seconds().abs() > 15 * 60) {
        return refusal(StatusCode::BAD_REQUEST, "InvalidTimeStamp.Expired");
    }
    if !state.nonces.insert(params.get("SignatureNonce").cloned().unwrap_or_default()) {
        return refusal(StatusCode::BAD_REQUEST, "SignatureNonceUsed");
    }
    if params.get("TemplateParam").is_none_or(|p| serde_json::from_str::<BTreeMap<String, String>>(p).is_err()) {
        return refusal(StatusCode::OK, "isv.INVALID_JSON_PARAM");
    }
    let phone = params.get("PhoneNumbers").cloned().unwrap_or_default();
    if let Some(code) = state.refusals.get(&phone) {
        let code = code.clone();
        return refusal(StatusCode::OK, &code);
    }
    if let Some(left) = state.throttles.get_mut(&phone).filter(|left| **left > 0) {
        *left -= 1;
        return refusal(StatusCode::OK, "isv.BUSINESS_LIMIT_CONTROL");
    }
    let biz_id = format!("{}^0", 900_000_000_000_000_000u64 + state.accepted.len() as u64);
    let garbled = state.garbled.contains(&phone);
    state.accepted.push(params);
    if garbled {
        return (StatusCode::OK, Json(json!("<html>502 upstream</html>")));
    }
    (StatusCode::OK, Json(json!({ "Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": "stand-in" })))
}

/// The Tencent stand-in's SecretId and key.
pub const TENCENT_SECRET_ID: &str = "AKID-standin";
pub const TENCENT_SECRET_KEY: &str = "tencent-standin-key";

/// A stand-in for `https://sms.tencentcloudapi.com/` that verifies TC3-HMAC-SHA256 the
/// way the API does: scope, date, signed headers as received, body hash, signature.
#[derive(Clone, Default)]
pub struct TencentGateway {
    accepted: Arc<Mutex<Vec<Value>>>,
}

impl TencentGateway {
    /// Starts the gateway; returns it and its endpoint.
    pub async fn start() -> std::io::Result<(TencentGateway, String)> {
        let gateway = TencentGateway::default();
        let address = serve(axum::Router::new().route("/", post(tencent_answer)).with_state(gateway.clone())).await?;
        Ok((gateway, format!("http://{address}/")))
    }

    /// The accepted request bodies (signature checked), oldest first.
    pub fn accepted(&self) -> Vec<Value> {
        self.accepted.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

fn tencent_error(code: &str) -> Json<Value> {
    Json(json!({ "Response": { "Error": { "Code": code, "Message": format!("stand-in: {code}") }, "RequestId": "r" } }))
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("")
}

async fn tencent_answer(State(gateway): State<TencentGateway>, headers: HeaderMap, body: Bytes) -> Json<Value> {
    let Some(rest) = header_text(&headers, "authorization").strip_prefix("TC3-HMAC-SHA256 ") else {
        return tencent_error("AuthFailure.InvalidAuthorization");
    };
    let parts: HashMap<&str, &str> = rest.split(", ").filter_map(|part| part.split_once('=')).collect();
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (parts.get("Credential"), parts.get("SignedHeaders"), parts.get("Signature"))
    else {
        return tencent_error("AuthFailure.InvalidAuthorization");
    };
    let Ok(timestamp) = header_text(&headers, "x-tc-timestamp").parse::<i64>() else {
        return tencent_error("MissingParameter");
    };
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 4 || scope[0] != TENCENT_SECRET_ID {
        return tencent_error("AuthFailure.SecretIdNotFound");
    }
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 300 {
        return tencent_error("AuthFailure.SignatureExpire");
    }
    if scope[1] != tencent::utc_date(timestamp) || scope[2] != "sms" || scope[3] != "tc3_request" {
        return tencent_error("AuthFailure.SignatureFailure");
    }
    let received: Vec<(&str, &str)> =
        signed_headers.split(';').map(|name| (name, header_text(&headers, name))).collect();
    let request = tencent::Tc3Request {
        method: "POST",
        query: "",
        headers: &received,
        payload: &body,
        service: "sms",
        timestamp,
    };
    if tencent::tc3_sign(&request, TENCENT_SECRET_KEY).signature != *signature {
        return tencent_error("AuthFailure.SignatureFailure");
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return tencent_error("InvalidParameter.JsonParseFail");
    };
    let phone = payload["PhoneNumberSet"][0].as_str().unwrap_or_default().to_string();
    let mut accepted = gateway.accepted.lock().unwrap_or_else(PoisonError::into_inner);
    let serial = format!("5000:{}", 1_045_710_669_157_053_657u64 + accepted.len() as u64);
    accepted.push(payload);
    Json(json!({ "Response": { "SendStatusSet": [{
        "SerialNo": serial, "PhoneNumber": phone, "Fee": 1, "Code": "Ok", "Message": "send success", "IsoCode": "CN"
    }], "RequestId": "r" } }))
}

/// A stand-in WeCom robot webhook: accepts any key, keeps the bodies per key.
#[derive(Clone, Default)]
pub struct WeComStandIn {
    received: Arc<Mutex<Vec<(String, Value)>>>,
    busy: Arc<Mutex<usize>>,
}

impl WeComStandIn {
    /// Starts the webhook; returns it and its base URL.
    pub async fn start() -> std::io::Result<(WeComStandIn, String)> {
        let robot = WeComStandIn::default();
        let router = axum::Router::new().route("/cgi-bin/webhook/send", post(webhook)).with_state(robot.clone());
        let address = serve(router).await?;
        Ok((robot, format!("http://{address}")))
    }

    /// (robot key, body) of each accepted message.
    pub fn received(&self) -> Vec<(String, Value)> {
        self.received.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The next `times` messages are answered `errcode -1` ("system busy") and not kept.
    pub fn busy(&self, times: usize) {
        *self.busy.lock().unwrap_or_else(PoisonError::into_inner) = times;
    }
}

async fn webhook(
    State(robot): State<WeComStandIn>,
    Query(query): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let Some(key) = query.get("key").filter(|key| !key.is_empty()) else {
        return Json(json!({ "errcode": 93000, "errmsg": "invalid webhook url" }));
    };
    if body["msgtype"] != "text" || body["text"]["content"].as_str().is_none_or(str::is_empty) {
        return Json(json!({ "errcode": 40008, "errmsg": "invalid message type" }));
    }
    {
        let mut busy = robot.busy.lock().unwrap_or_else(PoisonError::into_inner);
        if *busy > 0 {
            *busy -= 1;
            return Json(json!({ "errcode": -1, "errmsg": "system busy" }));
        }
    }
    robot.received.lock().unwrap_or_else(PoisonError::into_inner).push((key.clone(), body));
    Json(json!({ "errcode": 0, "errmsg": "ok" }))
}
