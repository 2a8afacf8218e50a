//! Operations: health, metrics, OpenAPI, client versions, errors for bad requests.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::CLIENT_VERSION_HEADER;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op, PushRequest};
use serde_json::{Value, json};

on_both_backends!(
    health_metrics_and_openapi,
    every_documented_operation_is_served,
    schema_and_old_clients,
    bad_requests_get_error_bodies,
    gzip_both_ways
);

async fn health_metrics_and_openapi(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    create_household(&phone, VILLAGE_1, 0).await;
    let health: Value =
        reqwest::get(format!("{}/healthz", app.base)).await.expect("health").json().await.expect("json");
    assert_eq!(health["status"], "ok");
    let metrics = reqwest::get(format!("{}/metrics", app.base)).await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("jingzhun_sync_changesets_total{status=\"applied\"} 1"), "{metrics}");
    assert!(metrics.contains("route=\"/api/mobile/v1/sync/push\""), "routes label requests");

    let doc: Value =
        reqwest::get(format!("{}/api/openapi.json", app.base)).await.expect("openapi").json().await.expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/healthz", "get"),
        ("/metrics", "get"),
        ("/api/openapi.json", "get"),
        ("/api/mobile/v1/auth/login", "post"),
        ("/api/mobile/v1/sync/push", "post"),
        ("/api/mobile/v1/sync/pull", "get"),
        ("/api/mobile/v1/sync/status", "get"),
        ("/api/mobile/v1/schema", "get"),
        ("/api/mobile/v1/attachments", "post"),
        ("/api/mobile/v1/attachments/{id}", "get"),
        ("/api/mobile/v1/conflicts/{id}/resolve", "post"),
        ("/api/v1/regions", "get"),
        ("/api/v1/regions", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users/{id}/roles", "post"),
        ("/api/v1/assignments", "get"),
        ("/api/v1/assignments", "post"),
        ("/api/v1/assignments/{id}/end", "post"),
        ("/api/v1/devices", "get"),
        ("/api/v1/devices/{id}/revoke", "post"),
        ("/api/v1/conflicts", "get"),
        ("/api/v1/conflicts/{id}/resolve", "post"),
        ("/api/v1/changesets/rejected", "get"),
        ("/api/v1/households", "get"),
        ("/api/v1/households/{id}", "get"),
        ("/api/v1/households/{id}/audit", "get"),
        ("/api/v1/sync/compact", "post"),
        ("/api/v1/notices", "get"),
        ("/api/v1/notices", "post"),
        ("/api/v1/notices/{id}", "get"),
        ("/api/v1/notices/{id}/publish", "post"),
        ("/api/v1/notices/{id}/withdraw", "post"),
        ("/api/v1/notices/{id}/postings", "post"),
        ("/api/v1/notices/{id}/close", "post"),
        ("/api/v1/objections", "get"),
        ("/api/v1/objections/{id}/answer", "post"),
        ("/n/{token}", "get"),
        ("/n/{token}/qr.svg", "get"),
        ("/n/{token}/qr.png", "get"),
        ("/n/{token}/print", "get"),
        ("/n/{token}/objections", "post"),
        ("/o", "get"),
        ("/o/{receipt}", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "OpenAPI lacks {method} {path}");
    }
    assert!(doc["components"]["schemas"]["PushRequest"].is_object());
}

/// Every operation of the OpenAPI document reaches a handler: asked without a token or a
/// body, it is refused by the handler (401, 400, 415, an HTML page…), never by the
/// router's fallback (a JSON 404 `not_found` or a 405). The other direction holds by
/// construction: `http::api` routes only what `routes!` documents (see
/// `server/tests/routes.rs`).
async fn every_documented_operation_is_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // The answer of the operation itself: a redirect (`/o` → `/o/{receipt}`) is not followed.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let doc: Value =
        http.get(format!("{}/api/openapi.json", app.base)).send().await.expect("openapi").json().await.expect("json");
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        // A made-up id in every parameter: the handler, not the router, must say it is unknown.
        let concrete: String = path
            .split('/')
            .map(|part| if part.starts_with('{') { "no-such-thing" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().expect("path item").keys() {
            let Ok(method) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else { continue };
            let response = http.request(method.clone(), format!("{}{concrete}", app.base)).send().await.expect("send");
            let status = response.status().as_u16();
            let json =
                response.headers().get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            let body: Value = if json { response.json().await.unwrap_or(Value::Null) } else { Value::Null };
            let fallback = status == 405 || (status == 404 && json && body["error"]["code"] == "not_found");
            assert!(!fallback, "{method} {path} is documented but not served ({status} {body})");
            operations += 1;
        }
    }
    assert!(operations > 90, "the document lists only {operations} operations");
}

async fn schema_and_old_clients(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.sync.min_client_version = 2).await;
    seed(&app).await;
    let http = reqwest::Client::new();
    let schema: Value = http
        .get(format!("{}/api/mobile/v1/schema", app.base))
        .header(CLIENT_VERSION_HEADER, "2")
        .send()
        .await
        .expect("schema")
        .json()
        .await
        .expect("json");
    assert_eq!(schema["protocol_version"], 1);
    let tables = schema["code_tables"].as_array().expect("tables");
    assert!(tables.iter().any(|t| t["name"] == "poverty_cause" && t["codes"].as_array().map(Vec::len) == Some(13)));
    assert!(schema["entities"].as_array().expect("entities").iter().any(|e| e["name"] == "member"));

    // The phone client speaks version 1, now below the minimum.
    let phone = app.phone("officer-a", "phone-a").await;
    let err = phone.schema().await.expect_err("too old");
    assert_eq!((err.status(), err.code()), (Some(426), Some("upgrade_required")));
    let err = phone.pull(None, None).await.expect_err("too old");
    assert_eq!(err.status(), Some(426));
    // What an old phone holds is still accepted.
    let (_, _, changes) = new_household(VILLAGE_1, 0);
    let res = phone.push(&PushRequest { changesets: vec![changeset(changes)] }).await.expect("push accepted");
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);
}

async fn bad_requests_get_error_bodies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let http = reqwest::Client::new();
    let token = phone.token().expect("token").to_owned();
    let res = http
        .post(format!("{}/api/mobile/v1/sync/push", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"changesets\": [{\"id\": 5}]}")
        .send()
        .await
        .expect("push");
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid_json");
    assert!(body["error"]["message_zh"].as_str().is_some_and(|m| !m.is_empty()));

    let huge = "x".repeat(5 * 1024 * 1024);
    let res = http
        .post(format!("{}/api/mobile/v1/sync/push", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"changesets\": [], \"pad\": \"{huge}\"}}"))
        .send()
        .await
        .expect("push");
    assert_eq!(res.status(), 413);

    let too_many = PushRequest {
        changesets: vec![changeset(vec![
            change(
                "household",
                uuid::Uuid::new_v4(),
                Op::Update,
                1,
                json!({"address": "x"})
            );
            501
        ])],
    };
    let err = phone.push(&too_many).await.expect_err("too many changes");
    assert_eq!((err.status(), err.code()), (Some(413), Some("payload_too_large")));
    let (status, body) = app.admin.get("/api/v1/no-such-route").await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
}

async fn gzip_both_ways(backend: Backend) {
    use std::io::Write;
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("village-1", "phone-v").await;
    let (household, _, changes) = new_household(VILLAGE_1, 3);
    let body = serde_json::to_vec(&PushRequest { changesets: vec![changeset(changes)] }).expect("json");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&body).expect("gzip");
    let res = reqwest::Client::builder()
        .no_gzip()
        .build()
        .expect("client")
        .post(format!("{}/api/mobile/v1/sync/push", app.base))
        .bearer_auth(phone.token().expect("token"))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(encoder.finish().expect("gzip"))
        .send()
        .await
        .expect("push");
    assert_eq!(res.status(), 200);
    let pulled = reqwest::Client::builder()
        .no_gzip()
        .build()
        .expect("client")
        .get(format!("{}/api/mobile/v1/sync/pull", app.base))
        .bearer_auth(phone.token().expect("token"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("pull");
    assert_eq!(pulled.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"));
    assert!(app.admin.household(household).await["member"].as_array().is_some_and(|m| m.len() == 4));
}
