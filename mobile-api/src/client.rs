//! An async HTTP client for `/api/mobile/v1` (DESIGN §5), used by the end-to-end tests,
//! the load tools and the CLI the way a phone would use the server.
//!
//! It speaks the contract exactly as written in [`crate::wire`] and nothing more: it
//! must never retry, reorder or rewrite a request on its own (retries belong to the
//! [`crate::outbox`], which resends the same change-set ids so the server can dedupe),
//! and it must never hide the server's stable error code from the caller.

use crate::errors::{ErrorBody, ErrorCode};
use crate::wire::{
    AttachmentResponse, LoginRequest, LoginResponse, PoliciesResponse, PullResponse, PulledChange, PushRequest,
    PushResponse, SchemaResponse, SyncStatus,
};
use crate::{CLIENT_VERSION_HEADER, PROTOCOL_VERSION};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// Where the phone contract lives under the server's base URL.
const API_PREFIX: &str = "/api/mobile/v1";

/// Why a call to the server did not produce the expected answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server refused with its own error body; `body.error.code` is stable.
    #[error("server answered {status}: {} ({})", .body.error.code, .body.error.message_en)]
    Api { status: u16, body: ErrorBody },
    /// The request did not complete: connection, TLS, timeout, or reading the body.
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// A non-2xx answer whose body is not `{"error": {...}}` (a proxy page, a crash).
    #[error("server answered {status} with a body that is not a Jingzhun error: {body}")]
    Unexpected { status: u16, body: String },
    /// A 2xx answer whose body does not match the contract's type for that endpoint.
    #[error("server answered {status} with a body that does not match the contract: {source}")]
    Decode {
        status: u16,
        body: String,
        #[source]
        source: serde_json::Error,
    },
    /// `has_more` stayed true but the cursor did not move, so following it would loop forever.
    #[error("the server answered has_more at cursor {cursor} without moving the cursor")]
    CursorStuck { cursor: String },
}

impl ClientError {
    /// The server's stable error code (e.g. `device_revoked`), when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { body, .. } => Some(&body.error.code),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered at all.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. }
            | ClientError::Unexpected { status, .. }
            | ClientError::Decode { status, .. } => Some(*status),
            ClientError::Http(e) => e.status().map(|s| s.as_u16()),
            ClientError::CursorStuck { .. } => None,
        }
    }

    /// For `device_revoked`: the revocation mode (`drain` or `wipe`).
    pub fn revoked_mode(&self) -> Option<&str> {
        match self {
            ClientError::Api { body, .. } if body.error.code == ErrorCode::DeviceRevoked.code() => {
                body.error.mode.as_deref()
            }
            _ => None,
        }
    }

    /// Whether this is a `device_revoked` answer.
    pub fn is_device_revoked(&self) -> bool {
        self.code() == Some(ErrorCode::DeviceRevoked.code())
    }
}

/// A session with one server, as one device.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The base URL with the API prefix, without a trailing slash.
    api: String,
    token: Option<String>,
}

// Written by hand so that a logged client never leaks its bearer token.
impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api", &self.api)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:8080`), not signed in.
    pub fn new(base_url: &str) -> Client {
        // Building only fails when the TLS backend cannot start; `reqwest::Client::new`
        // has the same gzip default (the feature is on) and fails the same way, so the
        // fallback changes nothing but keeps `new` infallible as callers expect.
        let http = reqwest::Client::builder().gzip(true).build().unwrap_or_else(|_| reqwest::Client::new());
        Client { http, api: format!("{}{API_PREFIX}", base_url.trim_end_matches('/')), token: None }
    }

    /// The same client, signed in with a token obtained earlier.
    pub fn with_token(mut self, token: impl Into<String>) -> Client {
        self.token = Some(token.into());
        self
    }

    /// The bearer token, once signed in.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// `POST /auth/login`; keeps the device-bound token for the calls that follow.
    pub async fn login(
        &mut self,
        username: &str,
        password: &str,
        device_id: &str,
        device_name: &str,
    ) -> Result<LoginResponse, ClientError> {
        let body = LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            device_id: device_id.to_owned(),
            device_name: device_name.to_owned(),
        };
        let response: LoginResponse = json_answer(self.request(Method::POST, "/auth/login").json(&body)).await?;
        self.token = Some(response.token.clone());
        Ok(response)
    }

    /// `POST /sync/push`: change sets in the order the server must apply them.
    pub async fn push(&self, request: &PushRequest) -> Result<PushResponse, ClientError> {
        json_answer(self.request(Method::POST, "/sync/push").json(request)).await
    }

    /// `GET /sync/pull`: one page of changes after `cursor` (from the start when `None`).
    pub async fn pull(&self, cursor: Option<&str>, limit: Option<u32>) -> Result<PullResponse, ClientError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor.to_owned()));
        }
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        json_answer(self.request(Method::GET, "/sync/pull").query(&query)).await
    }

    /// Pulls page after page until `has_more` is false; returns every change in order
    /// and the cursor to resume from next time.
    pub async fn pull_all(
        &self,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> Result<(Vec<PulledChange>, String), ClientError> {
        let mut cursor = cursor;
        let mut changes = Vec::new();
        loop {
            let page = self.pull(cursor.as_deref(), limit).await?;
            changes.extend(page.changes);
            // A page may legitimately hold nothing in scope, but the cursor must still
            // advance; if it does not, following it again would never end.
            let stuck = page.has_more && cursor.as_deref() == Some(page.cursor.as_str());
            if stuck {
                return Err(ClientError::CursorStuck { cursor: page.cursor });
            }
            if !page.has_more {
                return Ok((changes, page.cursor));
            }
            cursor = Some(page.cursor);
        }
    }

    /// `GET /sync/status`.
    pub async fn status(&self) -> Result<SyncStatus, ClientError> {
        json_answer(self.request(Method::GET, "/sync/status")).await
    }

    /// `GET /schema`: code tables and the protocol versions.
    pub async fn schema(&self) -> Result<SchemaResponse, ClientError> {
        json_answer(self.request(Method::GET, "/schema")).await
    }

    /// `POST /attachments` (multipart, parts `household_id` and `file`). The server
    /// dedupes by content hash, so uploading the same photo twice is harmless.
    pub async fn upload_attachment(
        &self,
        household_id: Uuid,
        file_name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<AttachmentResponse, ClientError> {
        let file = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()).mime_str(content_type)?;
        let form = reqwest::multipart::Form::new().text("household_id", household_id.to_string()).part("file", file);
        json_answer(self.request(Method::POST, "/attachments").multipart(form)).await
    }

    /// `POST /attachments` with part `id`: the photo under the id the phone gave it when
    /// it was taken (and referenced, maybe before this upload, from a visit log or a
    /// task's evidence). Sending it again is a harmless retry; other bytes under the
    /// same id are refused with `attachment_id_in_use`.
    pub async fn upload_attachment_as(
        &self,
        id: Uuid,
        household_id: Uuid,
        file_name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<AttachmentResponse, ClientError> {
        let file = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()).mime_str(content_type)?;
        let form = reqwest::multipart::Form::new()
            .text("id", id.to_string())
            .text("household_id", household_id.to_string())
            .part("file", file);
        json_answer(self.request(Method::POST, "/attachments").multipart(form)).await
    }

    /// `GET /policies`: the rule choices of the regions the caller's households lie in.
    pub async fn policies(&self) -> Result<PoliciesResponse, ClientError> {
        json_answer(self.request(Method::GET, "/policies")).await
    }

    /// `GET /attachments/{id}`: the stored bytes.
    pub async fn download_attachment(&self, id: Uuid) -> Result<Vec<u8>, ClientError> {
        let response = self.request(Method::GET, &format!("/attachments/{id}")).send().await?;
        let response = success_or_error(response).await?;
        Ok(response.bytes().await?.to_vec())
    }

    /// Every request carries the protocol version (the server answers 426 below its
    /// minimum) and, once signed in, the bearer token.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self
            .http
            .request(method, format!("{}{path}", self.api))
            .header(CLIENT_VERSION_HEADER, PROTOCOL_VERSION.to_string());
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }
}

/// Sends the request and decodes a 2xx body as `T`, or turns the answer into an error.
async fn json_answer<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ClientError> {
    let response = success_or_error(request.send().await?).await?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|source| ClientError::Decode {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        source,
    })
}

/// Passes a 2xx answer through; reads any other answer's body into a [`ClientError`].
async fn success_or_error(response: Response) -> Result<Response, ClientError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await?;
    Err(error_from_body(status, body))
}

/// Our error body when it parses as one, otherwise the raw text.
fn error_from_body(status: StatusCode, body: String) -> ClientError {
    match serde_json::from_str::<ErrorBody>(&body) {
        Ok(body) => ClientError::Api { status: status.as_u16(), body },
        Err(_) => ClientError::Unexpected { status: status.as_u16(), body },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::PullOp;
    use serde_json::json;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// What the canned server saw of one request.
    #[derive(Debug, Clone)]
    struct Seen {
        request_line: String,
        head: String,
        body: Vec<u8>,
    }

    /// A loopback server answering each connection with the next canned
    /// `(status, body)`, one request per connection. Enough to check what the client
    /// sends and how it reads answers, without the real server.
    fn canned_server(answers: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<Seen>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for (status, body) in answers {
                let (mut stream, _) = listener.accept().expect("accept");
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = stream.read(&mut chunk).expect("read");
                    assert!(n > 0, "connection closed before the request head");
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().expect("content-length"))
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    let n = stream.read(&mut chunk).expect("read body");
                    buf.extend_from_slice(&chunk[..n]);
                }
                let request_line =
                    String::from_utf8_lossy(&buf[..head_end]).lines().next().unwrap_or_default().to_owned();
                log.lock().expect("lock").push(Seen {
                    request_line,
                    head,
                    body: buf[head_end..head_end + length].to_vec(),
                });
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).expect("write");
            }
        });
        (format!("http://{addr}/"), seen)
    }

    fn page(changes: usize, cursor: &str, has_more: bool) -> String {
        let changes: Vec<_> = (0..changes)
            .map(|_| json!({"entity": "household", "id": Uuid::new_v4(), "op": "upsert", "version": 1, "data": {}}))
            .collect();
        json!({"changes": changes, "cursor": cursor, "has_more": has_more}).to_string()
    }

    #[test]
    fn error_bodies_keep_their_code_and_mode() {
        let body =
            r#"{"error":{"code":"device_revoked","message_zh":"此设备已被停用","message_en":"revoked","mode":"wipe"}}"#;
        let err = error_from_body(StatusCode::UNAUTHORIZED, body.to_owned());
        assert_eq!(err.code(), Some("device_revoked"));
        assert_eq!(err.status(), Some(401));
        assert_eq!(err.revoked_mode(), Some("wipe"));
        assert!(err.is_device_revoked());

        let err = error_from_body(StatusCode::BAD_GATEWAY, "<html>bad gateway</html>".to_owned());
        assert!(matches!(err, ClientError::Unexpected { status: 502, .. }));
        assert_eq!(err.code(), None);
        assert_eq!(err.status(), Some(502));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let client = Client::new("http://127.0.0.1:1").with_token("secret-token");
        let shown = format!("{client:?}");
        assert!(!shown.contains("secret-token"), "{shown}");
        assert_eq!(client.token(), Some("secret-token"));
    }

    #[tokio::test]
    async fn login_keeps_the_token_and_later_calls_send_it_with_the_version() {
        let login = json!({
            "token": "tok-1", "expires_at": "2030-01-01T00:00:00Z",
            "user": {"id": Uuid::new_v4(), "username": "li", "name": "李", "roles": ["officer"], "regions": ["530102001001"]}
        });
        let status = json!({
            "last_applied_changeset": null, "last_applied_at": null, "open_conflicts": 0,
            "rejected_changesets": 0, "scope_households": 3, "server_time": "2030-01-01T00:00:00Z"
        });
        let (base, seen) = canned_server(vec![(200, login.to_string()), (200, status.to_string())]);
        let mut client = Client::new(&base);
        let answer = client.login("li", "pw", "dev-1", "Phone").await.expect("login");
        assert_eq!(answer.token, "tok-1");
        assert_eq!(client.token(), Some("tok-1"));
        assert_eq!(client.status().await.expect("status").scope_households, 3);

        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen[0].request_line, "POST /api/mobile/v1/auth/login HTTP/1.1");
        let sent: serde_json::Value = serde_json::from_slice(&seen[0].body).expect("json");
        assert_eq!(sent["device_id"], "dev-1");
        assert_eq!(seen[1].request_line, "GET /api/mobile/v1/sync/status HTTP/1.1");
        assert!(seen[1].head.contains("authorization: bearer tok-1"), "{}", seen[1].head);
        for s in &seen {
            assert!(s.head.contains(&format!("{CLIENT_VERSION_HEADER}: {PROTOCOL_VERSION}")));
            assert!(s.head.contains("accept-encoding: gzip"), "{}", s.head);
        }
    }

    #[tokio::test]
    async fn pull_all_follows_the_cursor_until_has_more_is_false() {
        let (base, seen) =
            canned_server(vec![(200, page(2, "c1", true)), (200, page(0, "c2", true)), (200, page(1, "c3", false))]);
        let client = Client::new(&base).with_token("t");
        let (changes, cursor) = client.pull_all(None, Some(2)).await.expect("pull_all");
        assert_eq!(changes.len(), 3);
        assert!(changes.iter().all(|c| c.op == PullOp::Upsert));
        assert_eq!(cursor, "c3");
        let lines: Vec<_> = seen.lock().expect("lock").iter().map(|s| s.request_line.clone()).collect();
        assert_eq!(
            lines,
            [
                "GET /api/mobile/v1/sync/pull?limit=2 HTTP/1.1",
                "GET /api/mobile/v1/sync/pull?cursor=c1&limit=2 HTTP/1.1",
                "GET /api/mobile/v1/sync/pull?cursor=c2&limit=2 HTTP/1.1",
            ]
        );
    }

    #[tokio::test]
    async fn pull_all_stops_on_a_cursor_that_does_not_move() {
        let (base, _) = canned_server(vec![(200, page(1, "c1", true)), (200, page(0, "c1", true))]);
        let err = Client::new(&base).pull_all(None, None).await.expect_err("stuck");
        assert!(matches!(err, ClientError::CursorStuck { ref cursor } if cursor == "c1"), "{err}");
    }

    #[tokio::test]
    async fn api_errors_and_multipart_uploads() {
        let expired = json!({"error": {"code": "cursor_expired", "message_zh": "过期", "message_en": "expired"}});
        let id = Uuid::new_v4();
        let stored = json!({"id": id, "sha256": "ab", "size": 3});
        let (base, seen) = canned_server(vec![(410, expired.to_string()), (201, stored.to_string())]);
        let client = Client::new(&base).with_token("t");

        let err = client.pull(Some("old"), None).await.expect_err("410");
        assert_eq!((err.status(), err.code()), (Some(410), Some("cursor_expired")));

        let household = Uuid::new_v4();
        let answer =
            client.upload_attachment(household, "visit.jpg", "image/jpeg", b"jpg".to_vec()).await.expect("upload");
        assert_eq!(answer.id, id);
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen[1].request_line, "POST /api/mobile/v1/attachments HTTP/1.1");
        assert!(seen[1].head.contains("content-type: multipart/form-data"));
        let body = String::from_utf8_lossy(&seen[1].body);
        assert!(body.contains("name=\"household_id\""), "{body}");
        assert!(body.contains(&household.to_string()));
        assert!(body.contains("name=\"file\"; filename=\"visit.jpg\""), "{body}");
        assert!(body.contains("Content-Type: image/jpeg"), "{body}");
    }

    #[tokio::test]
    async fn an_upload_under_the_phones_id_sends_the_id_part() {
        let id = Uuid::new_v4();
        let stored = json!({"id": id, "sha256": "ab", "size": 3});
        let (base, seen) = canned_server(vec![(200, stored.to_string())]);
        let client = Client::new(&base).with_token("t");
        let household = Uuid::new_v4();
        let answer = client
            .upload_attachment_as(id, household, "visit.jpg", "image/jpeg", b"jpg".to_vec())
            .await
            .expect("upload");
        assert_eq!(answer.id, id);
        let seen = seen.lock().expect("lock").clone();
        let body = String::from_utf8_lossy(&seen[0].body);
        let part = format!("name=\"id\"\r\n\r\n{id}\r\n");
        assert!(body.contains(&part), "{body}");
        assert!(body.contains(&household.to_string()), "{body}");
        assert!(body.contains("name=\"file\"; filename=\"visit.jpg\""), "{body}");
    }
}
