//! WeCom (企业微信) group robot webhook: `POST {base}/cgi-bin/webhook/send?key=KEY`.
//!
//! The recipient of a [`Message`] is the robot's key. The key is a bearer credential
//! (anyone holding it can post to the group), so it never appears in a log, and
//! neither does the URL that carries it.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use crate::{Channel, Delivery, Message, SendError};

/// WeCom refuses text longer than this many bytes.
pub const TEXT_LIMIT_BYTES: usize = 2048;

/// `errcode` for more than 20 messages a minute to one robot.
const FREQUENCY_LIMIT: i64 = 45009;

/// `errcode` -1, "system busy": WeCom's own hiccup, which a later attempt gets past.
const SYSTEM_BUSY: i64 = -1;

pub struct WeComRobot {
    base_url: String,
    http: reqwest::Client,
}

#[derive(Debug, Deserialize)]
struct RobotAnswer {
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl WeComRobot {
    /// `base_url` is `https://qyapi.weixin.qq.com` in production, a stand-in in tests.
    pub fn new(base_url: impl Into<String>) -> Result<Self, SendError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| SendError::permanent("http_client", error.to_string()))?;
        Ok(Self { base_url: base_url.into().trim_end_matches('/').to_string(), http })
    }
}

/// Cuts text to WeCom's limit on a character boundary; a truncated reminder still
/// reaches the group, a refused one does not.
pub fn fit_text(text: &str) -> String {
    if text.len() <= TEXT_LIMIT_BYTES {
        return text.to_string();
    }
    const ELLIPSIS: &str = "…";
    let mut end = TEXT_LIMIT_BYTES - ELLIPSIS.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &text[..end])
}

fn classify(status: reqwest::StatusCode, body: &str) -> Result<Delivery, SendError> {
    if status.is_server_error() {
        return Err(SendError::transient(format!("http_{}", status.as_u16()), "server error"));
    }
    let Ok(answer) = serde_json::from_str::<RobotAnswer>(body) else {
        return Err(SendError::indeterminate(format!("http_{}", status.as_u16()), "unreadable answer"));
    };
    match answer.errcode {
        0 => Ok(Delivery { provider_message_id: None, provider_code: "0".into() }),
        FREQUENCY_LIMIT | SYSTEM_BUSY => Err(SendError::transient(answer.errcode.to_string(), answer.errmsg)),
        code => Err(SendError::permanent(code.to_string(), answer.errmsg)),
    }
}

#[async_trait]
impl Channel for WeComRobot {
    fn name(&self) -> &'static str {
        "wecom_robot"
    }

    async fn send(&self, message: &Message) -> Result<Delivery, SendError> {
        let Some(body) = message.body.as_deref().filter(|body| !body.trim().is_empty()) else {
            return Err(SendError::permanent("empty_body", "a WeCom message needs a rendered body"));
        };
        let url = reqwest::Url::parse_with_params(
            &format!("{}/cgi-bin/webhook/send", self.base_url),
            [("key", message.recipient.as_str())],
        )
        .map_err(|error| SendError::permanent("endpoint", error.to_string()))?;
        let payload = json!({ "msgtype": "text", "text": { "content": fit_text(body) } });
        let response = self.http.post(url).json(&payload).send().await.map_err(SendError::from_http)?;
        let status = response.status();
        let text = response.text().await.map_err(SendError::from_http)?;
        let outcome = classify(status, &text);
        if let Err(error) = &outcome {
            tracing::warn!(code = error.code(), template = %message.template, "wecom robot refused");
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let text = "精".repeat(1000);
        let fitted = fit_text(&text);
        assert!(fitted.len() <= TEXT_LIMIT_BYTES);
        assert!(fitted.ends_with('…'));
        assert_eq!(fit_text("短"), "短");
    }

    #[test]
    fn errcodes_are_classified() {
        let ok = classify(reqwest::StatusCode::OK, r#"{"errcode":0,"errmsg":"ok"}"#);
        assert!(ok.is_ok());
        let busy = classify(reqwest::StatusCode::OK, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#);
        assert_eq!(busy, Err(SendError::transient("45009", "api freq out of limit")));
        let system_busy = classify(reqwest::StatusCode::OK, r#"{"errcode":-1,"errmsg":"system busy"}"#);
        assert_eq!(system_busy, Err(SendError::transient("-1", "system busy")));
        let bad_key = classify(reqwest::StatusCode::OK, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#);
        assert_eq!(bad_key, Err(SendError::permanent("93000", "invalid webhook url")));
    }
}
