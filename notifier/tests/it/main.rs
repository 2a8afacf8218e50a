//! The notifier's integration tests, one binary: signing against the providers'
//! published examples, each SMS provider against a local stand-in that verifies the
//! signature as the provider does, WeCom against a stand-in, email against a real
//! SMTP conversation on loopback.

mod aliyun;
mod logs;
mod smtp;
mod tencent;
mod vectors;
mod wecom;

use std::net::SocketAddr;

/// Serves `router` on a fresh loopback port for the rest of the test.
pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("stand-in server") });
    address
}
