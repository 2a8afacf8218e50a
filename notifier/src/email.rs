//! Email over SMTP with lettre.
//!
//! lettre encodes Chinese subjects and names (RFC 2047); the body goes as
//! `multipart/alternative` (plain text, then HTML), each part UTF-8 in base64 so no relay
//! has to be 8-bit clean. The SMTP password never reaches a log.

use async_trait::async_trait;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::{Channel, Delivery, Message, Secret, SendError};

/// How the connection to the relay is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// No TLS: only for a relay on loopback or a test server.
    Plain,
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// Errors building the channel (bad sender address, bad TLS setup).
#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error("invalid sender address: {0}")]
    From(#[from] lettre::address::AddressError),
    #[error("TLS setup failed: {0}")]
    Tls(#[from] lettre::transport::smtp::Error),
}

pub struct SmtpChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpChannel {
    /// `from` may carry a display name: `"精准扶贫 <noreply@example.org>"`.
    pub fn new(
        host: &str,
        port: u16,
        security: SmtpSecurity,
        from: &str,
        credentials: Option<(String, Secret)>,
    ) -> Result<Self, SmtpSetupError> {
        let from: Mailbox = from.parse()?;
        let tls = match security {
            SmtpSecurity::Plain => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(TlsParameters::new(host.to_string())?),
            SmtpSecurity::Tls => Tls::Wrapper(TlsParameters::new(host.to_string())?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).tls(tls);
        if let Some((user, password)) = credentials {
            builder = builder.credentials(Credentials::new(user, password.expose().to_string()));
        }
        Ok(Self { transport: builder.build(), from })
    }
}

/// The HTML alternative of a plain-text body: escaped, one paragraph per blank-line
/// separated block, line breaks kept.
pub fn html_of(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let paragraphs: Vec<String> = escaped
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| format!("<p>{}</p>", block.trim().replace('\n', "<br>")))
        .collect();
    format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>{}</body></html>", paragraphs.concat())
}

#[async_trait]
impl Channel for SmtpChannel {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, message: &Message) -> Result<Delivery, SendError> {
        let to: Mailbox = message.recipient.parse().map_err(|error: lettre::address::AddressError| {
            SendError::permanent("invalid_address", error.to_string())
        })?;
        let body = message.body.clone().unwrap_or_default();
        let part = |content_type: ContentType, text: String| {
            Body::new_with_encoding(text, ContentTransferEncoding::Base64)
                .map(|body| SinglePart::builder().header(content_type).body(body))
                .map_err(|_| SendError::permanent("body_encoding", "body cannot be encoded"))
        };
        // Plain text for every reader, HTML for the ones that show it; both UTF-8 in
        // base64 so no relay has to be 8-bit clean.
        let alternative = MultiPart::alternative()
            .singlepart(part(ContentType::TEXT_PLAIN, body.clone())?)
            .singlepart(part(ContentType::TEXT_HTML, html_of(&body))?);
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone().unwrap_or_default())
            .multipart(alternative)
            .map_err(|error| SendError::permanent("build_email", error.to_string()))?;
        match self.transport.send(email).await {
            Ok(response) => Ok(Delivery {
                // Relays put their queue id in the reply text ("OK queued as 4F2A…").
                provider_message_id: Some(response.message().collect::<Vec<_>>().join(" ")),
                provider_code: response.code().to_string(),
            }),
            Err(error) => {
                let code = error.status().map(|code| code.to_string()).unwrap_or_else(|| "smtp".into());
                let detail = error.to_string();
                tracing::warn!(code = %code, "smtp send failed");
                // 5xx is the relay's final word; everything else (4xx, connection,
                // timeout) may pass later, and a duplicate email is a lesser harm than a
                // lost reminder.
                if error.is_permanent() {
                    Err(SendError::permanent(code, detail))
                } else {
                    Err(SendError::transient(code, detail))
                }
            }
        }
    }
}
