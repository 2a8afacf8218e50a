//! The officer app at `/app/` (issue 13) in a real Chromium at a phone's size, on both
//! backends: an officer signs in once online (the device id made on the phone, the token
//! kept in IndexedDB), the service worker takes the shell, and with the network off a
//! reload still opens the app and greets the officer. Also proves the browser tooling
//! the later app tests stand on: CDP through chromedriver (offline, CPU throttling).
//! Screenshots: officer-app-*.png. The serving's cache rules: `server/src/http/app.rs`.

use crate::browser::{Browser, click, text_when, type_into};
use crate::harness::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(officer_app_shell);

/// What the app keeps in IndexedDB `jingzhun-app` / `meta`, read by the page itself.
async fn meta(browser: &Browser) -> Value {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open('jingzhun-app');
        open.onerror = () => done({error: String(open.error)});
        open.onsuccess = () => {
            const all = open.result.transaction('meta').objectStore('meta').getAll();
            all.onsuccess = () => done(Object.fromEntries(all.result.map((r) => [r.key, r.value])));
            all.onerror = () => done({error: String(all.error)});
        };
    "#;
    browser.client.execute_async(script, vec![]).await.expect("read IndexedDB")
}

async fn officer_app_shell(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "li-mei", "name": "李梅", "password": PASSWORD,
                   "roles": [{"role": "officer", "region_code": TOWNSHIP}]}),
        )
        .await;

    // The service worker must be revalidated on every update check, or phones keep an
    // old app for a day.
    let sw = reqwest::get(format!("{}/app/sw.js", app.base)).await.expect("sw.js");
    assert_eq!(sw.status(), 200);
    assert_eq!(sw.headers()["cache-control"], "no-cache");

    let browser = Browser::start().await;
    let client = &browser.client;
    client.goto(&format!("{}/app", app.base)).await.expect("open /app");
    assert_eq!(browser.wait_for_path("/app/login").await, "/app/login", "not signed in: the sign-in page");

    // A wrong password is refused with the server's Chinese message, and nothing is kept.
    type_into(client, "#login-username", "li-mei").await;
    type_into(client, "#login-password", "not-the-password").await;
    click(client, "#login-submit").await;
    let refused = text_when(client, "#login-error", |t| !t.is_empty()).await;
    assert!(refused.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "a Chinese refusal: {refused:?}");
    assert!(meta(&browser).await.get("session").is_none(), "no session after a refusal");
    browser.screenshot("officer-app-login-refused").await;

    client.goto(&format!("{}/app/login", app.base)).await.expect("open the sign-in page again");
    type_into(client, "#login-username", "li-mei").await;
    type_into(client, "#login-password", PASSWORD).await;
    click(client, "#login-submit").await;
    let greeting = text_when(client, "#greeting", |t| t.contains("李梅")).await;
    if !greeting.contains("您好，李梅") {
        browser.screenshot("officer-app-sign-in-failed").await;
    }
    assert!(greeting.contains("您好，李梅"), "the officer is greeted by name: {greeting:?}");
    assert_eq!(browser.wait_for_path("/app/").await, "/app/");

    // The token and the device id the server bound it to are on the phone.
    let kept = meta(&browser).await;
    let device = kept["device"]["id"].as_str().expect("device id kept").to_owned();
    assert!(kept["session"]["token"].as_str().is_some_and(|t| !t.is_empty()), "token kept: {kept}");
    assert_eq!(kept["session"]["user"]["username"], "li-mei");
    let bound = format!("SELECT COUNT(*) FROM device WHERE id = '{device}' AND revoked_mode IS NULL");
    assert_eq!(app.count(&bound).await, 1, "the server knows this phone's device id");

    // The service worker is installed (its precache filled) and controls the page.
    let ready: Value = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               navigator.serviceWorker.ready
                 .then((r) => caches.keys().then((keys) => done({scope: r.scope, caches: keys})))
                 .catch((e) => done({error: String(e)}));"#,
            vec![],
        )
        .await
        .expect("serviceWorker.ready");
    assert_eq!(ready["scope"], format!("{}/app/", app.base), "{ready}");
    assert!(
        ready["caches"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k.as_str().is_some_and(|k| k.starts_with("jz-app-"))))
    );
    browser.screenshot("officer-app-home").await;

    // No network at all for the page: the reload comes from the worker's cache and the
    // greeting from IndexedDB.
    browser.offline(true).await;
    let online: Value = client.execute("return navigator.onLine", vec![]).await.expect("onLine");
    assert_eq!(online, json!(false), "CDP took the page offline");
    let api = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch('/api/mobile/v1/schema').then((r) => done('answered ' + r.status)).catch(() => done('failed'));"#,
            vec![],
        )
        .await
        .expect("fetch offline");
    assert_eq!(api, json!("failed"), "the worker never answers the API from a cache");
    client.refresh().await.expect("reload offline");
    let greeting = text_when(client, "#greeting", |t| t.contains("李梅")).await;
    assert!(greeting.contains("您好，李梅"), "the shell opens offline: {greeting:?}");
    let load: Value = client
        .execute("return performance.getEntriesByType('navigation')[0].loadEventEnd", vec![])
        .await
        .expect("navigation timing");
    assert!(load.as_f64().is_some_and(|ms| ms < 1000.0), "the shell loads in under a second: {load}");
    browser.screenshot("officer-app-offline").await;

    // The low-end profile the list tests will use answers.
    browser.throttle_cpu(4.0).await;
    browser.throttle_cpu(1.0).await;
    browser.offline(false).await;
    browser.close().await;
}
