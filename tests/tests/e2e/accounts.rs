//! Accounts: login, token errors, device revocation, client versions.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::json;
use uuid::Uuid;

on_both_backends!(login_and_token_errors_have_stable_codes, revoked_devices_drain_or_wipe);

async fn login_and_token_errors_have_stable_codes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let mut client = Client::new(&app.base);
    let err = client.login("officer-a", "wrong-password", "phone-a", "p").await.expect_err("wrong password");
    assert_eq!((err.status(), err.code()), (Some(401), Some("invalid_credentials")));
    let err = client.login("nobody", PASSWORD, "phone-a", "p").await.expect_err("unknown user");
    assert_eq!(err.code(), Some("invalid_credentials"));

    let login = client.login("officer-a", PASSWORD, "phone-a", "p").await.expect("login");
    assert_eq!(login.user.roles, vec!["officer".to_owned()]);
    assert_eq!(login.user.regions, vec![TOWNSHIP.to_owned()]);
    client.status().await.expect("a fresh token works");
    // A month later the token has expired.
    let hash = jingzhun::auth::tokens::hash_token(client.token().expect("token"));
    app.execute_sql(&format!(
        "UPDATE access_token SET expires_at = '2020-01-01 00:00:00+00:00' WHERE token_hash = '{hash}'"
    ))
    .await;
    let err = client.pull(None, None).await.expect_err("expired");
    assert_eq!((err.status(), err.code()), (Some(401), Some("token_expired")));

    let stranger = Client::new(&app.base).with_token("made-up-token");
    let err = stranger.status().await.expect_err("unknown token");
    assert_eq!((err.status(), err.code()), (Some(401), Some("unauthenticated")));
    let anonymous = reqwest::get(format!("{}/api/mobile/v1/sync/pull", app.base)).await.expect("request");
    assert_eq!(anonymous.status(), 401);
}

async fn revoked_devices_drain_or_wipe(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let retired = app.phone("officer-a", "phone-retired").await;
    let stolen = app.phone("officer-a", "phone-stolen").await;
    let (household, _) = create_household(&retired, VILLAGE_1, 0).await;

    app.admin.ok_post("/api/v1/devices/phone-retired/revoke", json!({"mode": "drain"})).await;
    app.admin.ok_post("/api/v1/devices/phone-stolen/revoke", json!({"mode": "wipe"})).await;

    // A draining phone may still push what it holds, and is told to wipe.
    let res = push(
        &retired,
        vec![changeset(vec![change("household", household, Op::Update, 1, json!({"address": "最后一次上传"}))])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);
    assert!(res.wipe);
    // Its photos too: a visit log naming a photo that never came would be half an edit.
    let photo = Uuid::new_v4();
    let jpeg = b"\xff\xd8\xff\xe0 a photo taken before the phone was retired".to_vec();
    let stored = retired.upload_attachment_as(photo, household, "visit.jpg", "image/jpeg", jpeg.clone()).await;
    assert_eq!(stored.expect("a drained phone uploads what it holds").id, photo);
    let err = retired.pull(None, None).await.expect_err("no more pulls");
    assert_eq!((err.status(), err.code(), err.revoked_mode()), (Some(401), Some("device_revoked"), Some("drain")));

    // A wiped phone gets nothing and may push nothing.
    let err = stolen.pull(None, None).await.expect_err("revoked");
    assert_eq!((err.status(), err.code(), err.revoked_mode()), (Some(401), Some("device_revoked"), Some("wipe")));
    let err = stolen
        .push(&jingzhun_mobile_api::wire::PushRequest {
            changesets: vec![changeset(vec![change(
                "household",
                household,
                Op::Update,
                2,
                json!({"address": "偷来的"}),
            )])],
        })
        .await
        .expect_err("revoked");
    assert_eq!(err.code(), Some("device_revoked"));
    let err = stolen.upload_attachment_as(Uuid::new_v4(), household, "x.jpg", "image/jpeg", jpeg).await;
    assert_eq!(err.expect_err("a wiped phone uploads nothing").code(), Some("device_revoked"));
    let mut again = Client::new(&app.base);
    let err = again.login("officer-a", PASSWORD, "phone-stolen", "p").await.expect_err("device stays revoked");
    assert_eq!(err.code(), Some("device_revoked"));
    assert_eq!(app.admin.household(household).await["household"]["address"], "最后一次上传");
}
