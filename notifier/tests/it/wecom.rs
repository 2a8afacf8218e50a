//! WeCom group robot against a stand-in that checks the key and the JSON body and
//! answers, like WeCom, HTTP 200 with an `errcode`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::post;
use jingzhun_notifier::{Channel, Message, WeComRobot};
use serde_json::{Value, json};

pub(crate) const KEY: &str = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";
/// A robot that already got 20 messages this minute.
const BUSY_KEY: &str = "busy-robot";

#[derive(Clone, Default)]
pub(crate) struct Robot {
    received: Arc<Mutex<Vec<Value>>>,
}

async fn webhook(
    State(state): State<Robot>,
    Query(query): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    match query.get("key").map(String::as_str) {
        Some(KEY) => {}
        Some(BUSY_KEY) => return Json(json!({ "errcode": 45009, "errmsg": "api freq out of limit" })),
        _ => return Json(json!({ "errcode": 93000, "errmsg": "invalid webhook url" })),
    }
    let valid = body["msgtype"] == "text"
        && body["text"]["content"].as_str().is_some_and(|content| !content.is_empty() && content.len() <= 2048);
    if !valid {
        return Json(json!({ "errcode": 40008, "errmsg": "invalid message type" }));
    }
    state.received.lock().expect("lock").push(body);
    Json(json!({ "errcode": 0, "errmsg": "ok" }))
}

pub(crate) async fn start() -> (Robot, WeComRobot) {
    let state = Robot::default();
    let router = axum::Router::new().route("/cgi-bin/webhook/send", post(webhook)).with_state(state.clone());
    let address = crate::serve(router).await;
    (state, WeComRobot::new(format!("http://{address}/")).expect("client"))
}

pub(crate) fn digest(key: &str, body: &str) -> Message {
    Message { recipient: key.into(), template: "daily_digest".into(), body: Some(body.into()), ..Message::default() }
}

#[tokio::test]
async fn a_text_message_reaches_the_group() {
    let (state, robot) = start().await;
    let delivery = robot.send(&digest(KEY, "【精准】今日待办：3 户入户核实逾期")).await.expect("sent");
    assert_eq!(delivery.provider_code, "0");
    let received = state.received.lock().expect("lock").clone();
    assert_eq!(
        received,
        vec![json!({ "msgtype": "text", "text": { "content": "【精准】今日待办：3 户入户核实逾期" } })]
    );
}

#[tokio::test]
async fn long_text_is_cut_to_the_limit_and_still_sent() {
    let (state, robot) = start().await;
    robot.send(&digest(KEY, &"逾".repeat(2000))).await.expect("sent");
    let received = state.received.lock().expect("lock").clone();
    let content = received[0]["text"]["content"].as_str().expect("content");
    assert!(content.len() <= 2048 && content.ends_with('…'));
}

#[tokio::test]
async fn errcodes_decide_retry_or_stop() {
    let (state, robot) = start().await;
    let busy = robot.send(&digest(BUSY_KEY, "提醒")).await.expect_err("busy");
    assert!(busy.is_transient(), "{busy:?}");
    assert_eq!(busy.code(), "45009");
    let unknown = robot.send(&digest("no-such-robot", "提醒")).await.expect_err("bad key");
    assert!(unknown.is_permanent(), "{unknown:?}");
    assert_eq!(unknown.code(), "93000");
    let empty = robot.send(&digest(KEY, "  ")).await.expect_err("empty");
    assert_eq!(empty.code(), "empty_body");
    assert!(state.received.lock().expect("lock").is_empty());
}
