//! The one trait every delivery channel implements, and the vocabulary around it.
//!
//! A channel sends exactly one message per call and never retries by itself: retrying
//! is the dispatcher's decision, made from the [`SendError`] classification, because
//! only the dispatcher knows the dedup key, the attempt count and the backoff.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

/// One message for one recipient, already chosen by the outbox.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// Phone number (SMS), e-mail address (email) or robot key (WeCom). Never log it
    /// whole: phone numbers go through [`crate::mask_phone`].
    pub recipient: String,
    /// Provider template id for SMS (Aliyun `SMS_…`, Tencent numeric id); for the other
    /// channels the name of our own template, kept for the delivery log.
    pub template: String,
    /// Template variables. Aliyun names them; Tencent's templates are positional, so
    /// their keys are "1", "2", … and are sent in numeric order.
    pub params: BTreeMap<String, String>,
    /// Email subject.
    pub subject: Option<String>,
    /// Rendered text for email and WeCom (SMS text is rendered by the provider).
    pub body: Option<String>,
}

/// What the provider said when it accepted the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The provider's id for the message (Aliyun `BizId`, Tencent `SerialNo`), kept so a
    /// delivery receipt or a complaint can be traced back.
    pub provider_message_id: Option<String>,
    /// The provider's success code as sent ("OK", "Ok", "0", "250").
    pub provider_code: String,
}

/// Why a send failed, classified for the dispatcher.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The provider did not take the message and a later attempt may succeed
    /// (throttling, 5xx, connection refused): retry with backoff.
    #[error("transient failure {code}: {detail}")]
    Transient { code: String, detail: String },
    /// The provider refused the message for a reason a retry cannot fix (bad number,
    /// template not approved, signature rejected, balance exhausted): stop and show
    /// the provider's code to a person.
    #[error("permanent failure {code}: {detail}")]
    Permanent { code: String, detail: String },
    /// The request may have reached the provider but no answer came back (timeout
    /// after sending, unreadable answer). SMS sends carry no idempotency key, so a
    /// blind retry can text someone twice: the dispatcher must not resend without
    /// checking the provider's delivery report or asking a person.
    #[error("outcome unknown {code}: {detail}")]
    Indeterminate { code: String, detail: String },
}

/// Every constructor passes the detail through [`crate::redact::provider_text`]: it is
/// stored in the delivery log and shown to people, and providers quote phone numbers
/// and signed requests in it.
impl SendError {
    pub fn transient(code: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Transient { code: code.into(), detail: crate::redact::provider_text(&detail.into()) }
    }

    pub fn permanent(code: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Permanent { code: code.into(), detail: crate::redact::provider_text(&detail.into()) }
    }

    pub fn indeterminate(code: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Indeterminate { code: code.into(), detail: crate::redact::provider_text(&detail.into()) }
    }

    /// The provider's (or our) error code, for the delivery log.
    pub fn code(&self) -> &str {
        match self {
            Self::Transient { code, .. } | Self::Permanent { code, .. } | Self::Indeterminate { code, .. } => code,
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }

    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent { .. })
    }

    /// Classifies a transport failure of an HTTP call. Only a failure to connect proves
    /// the provider never saw the request; anything later is indeterminate.
    pub(crate) fn from_http(error: reqwest::Error) -> Self {
        // Never format the error's URL: query strings carry keys.
        let (connect, builder, timeout) = (error.is_connect(), error.is_builder(), error.is_timeout());
        let detail = error.without_url().to_string();
        if connect {
            Self::transient("connect", detail)
        } else if builder {
            Self::permanent("request_build", detail)
        } else if timeout {
            Self::indeterminate("timeout", detail)
        } else {
            Self::indeterminate("transport", detail)
        }
    }
}

/// A delivery channel: one provider of one kind (Aliyun SMS, SMTP, a WeCom robot…).
#[async_trait]
pub trait Channel: Send + Sync {
    /// Stable name for configuration and the delivery log ("aliyun_sms", "smtp", …).
    fn name(&self) -> &'static str;

    /// Sends one message once. Never retries internally.
    async fn send(&self, message: &Message) -> Result<Delivery, SendError>;
}

/// A credential that must never reach a log: `Debug` and `Display` print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for signing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Read from configuration as a plain string; still never printed.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?} {secret}"), "Secret(***) ***");
        assert_eq!(secret.expose(), "hunter2");
    }
}
