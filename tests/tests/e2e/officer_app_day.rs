//! The officer app's day without signal (issue 13's first "must show", the visit part),
//! in a real Chromium at a phone's size on both backends: signed in online, the officer
//! goes offline, edits an address and records a visit with a camera photo; both wait on
//! the phone (the visit already naming the photo by the id the phone gave it); back
//! online the server gets each exactly once and the photo under that id, as a JPEG the
//! phone compressed. Screenshots: officer-app-visit-*.png.

use crate::browser::{Browser, click, count_when, element, retype, text_when, type_into};
use crate::harness::*;
use crate::officer_app::{count_becomes, edit_address, meta, officer, sign_in_and_pull};
use crate::on_both_backends;
use jingzhun_mobile_api::wire::ChangeSetStatus;
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

on_both_backends!(officer_app_offline_day);

/// The photos the app keeps in IndexedDB (without their blobs), oldest first.
async fn photos(browser: &Browser) -> Vec<Value> {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open('jingzhun-app');
        open.onerror = () => done({error: String(open.error)});
        open.onsuccess = () => {
            const db = open.result;
            const all = db.transaction('photos').objectStore('photos').getAll();
            all.onsuccess = () => {
                db.close();
                const rows = all.result.map((p) => ({id: p.id, household_id: p.household_id, size: p.size,
                    type: p.blob.type, state: p.state, error_code: p.error_code ?? null, created_at: p.created_at}));
                rows.sort((a, b) => a.created_at.localeCompare(b.created_at));
                done(rows);
            };
            all.onerror = () => { db.close(); done({error: String(all.error)}); };
        };
    "#;
    let rows = browser.client.execute_async(script, vec![]).await.expect("read IndexedDB photos");
    rows.as_array().unwrap_or_else(|| panic!("photos: {rows}")).clone()
}

/// Waits up to ten seconds for the phone's only photo to reach `state`.
async fn photo_becomes(browser: &Browser, state: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        if let [photo] = photos(browser).await.as_slice() {
            if photo["state"] == state {
                return photo.clone();
            }
            last = photo.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the photo never became {state}: {last}; last sync {}", meta(browser).await["last_sync"]);
}

/// Scrolls the household page to its visits, for the screenshot.
async fn show_visits(browser: &Browser) {
    let script = "document.querySelector('#household-visits').scrollIntoView({block: 'center'})";
    browser.client.execute(script, vec![]).await.expect("scroll to the visits");
}

async fn officer_app_offline_day(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let other_phone = officer(&app, "li-mei").await;
    let mut households = Vec::new();
    let sets: Vec<_> = (0..3)
        .map(|_| {
            let (household, members, changes) = new_household(VILLAGE_1, 1);
            households.push((household, members));
            changeset(changes)
        })
        .collect();
    let answer = push(&other_phone, sets).await;
    assert!(answer.results.iter().all(|r| r.status == ChangeSetStatus::Applied), "{answer:?}");
    let (visited, son): (Uuid, Uuid) = (households[1].0, households[1].1[1]);

    let browser = Browser::start().await;
    let client = &browser.client;
    sign_in_and_pull(&browser, &app.base, "li-mei", 3).await;
    // The "camera photo": a PNG of the list, which the app must turn into a JPEG.
    let picture = browser.screenshot("officer-app-visit-list").await.canonicalize().expect("the picture's path");
    click(client, &format!("#household-{visited}")).await;
    assert_eq!(count_when(client, ".member-row", 2).await, 2, "the household page is open");

    // Offline: an address edit and a visit with a photo, both kept on the phone.
    browser.offline(true).await;
    edit_address(&browser, "东村二组9号").await;
    click(client, &format!("#member-{son}")).await;
    retype(client, "#field-phone", "13900002222").await;
    click(client, "#record-save").await;
    assert_eq!(count_when(client, ".member-row", 2).await, 2, "back on the household page");
    click(client, "#add-visit").await;
    let date = element(client, "#visit-date").await.prop("value").await.expect("the date").unwrap_or_default();
    assert_eq!(date.len(), 10, "the visit date defaults to today: {date:?}");
    type_into(client, "#visit-note", "了解春耕准备，家中两人外出务工").await;
    element(client, "#visit-photo input[type=file]")
        .await
        .send_keys(picture.to_str().expect("a UTF-8 path"))
        .await
        .expect("choose the photo");
    assert_eq!(count_when(client, "#visit-photo .van-uploader__preview", 1).await, 1, "the photo is previewed");
    assert_eq!(count_when(client, "#visit-photo .van-uploader__mask", 0).await, 0, "and compressed without a failure");
    browser.screenshot("officer-app-visit-form").await;
    click(client, "#visit-save").await;

    assert_eq!(count_when(client, ".visit-row", 1).await, 1, "the household lists the visit at once");
    let row = text_when(client, ".visit-row", |t| t.contains("春耕")).await;
    assert!(row.contains(&date) && row.contains("照片 1"), "{row}");
    assert_eq!(count_when(client, ".visit-row .visit-photo[data-state=waiting]", 1).await, 1, "its thumbnail, waiting");
    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 3").await, "待同步 3");
    assert_eq!(text_when(client, "#sync-photos", |t| t == "照片 1").await, "照片 1");
    show_visits(&browser).await;
    browser.screenshot("officer-app-visit-offline").await;

    let [photo] = photos(&browser).await.try_into().expect("one photo kept");
    assert_eq!(
        (&photo["household_id"], &photo["state"], &photo["type"]),
        (&json!(visited.to_string()), &json!("waiting"), &json!("image/jpeg"))
    );
    let photo_id = photo["id"].as_str().expect("the photo's id").to_owned();
    let size = photo["size"].as_u64().expect("its size");
    let addresses = format!("SELECT COUNT(*) FROM audit_log WHERE entity_id = '{visited}' AND field = 'address'");
    let visits = format!("SELECT COUNT(*) FROM visit_log WHERE household_id = '{visited}'");
    let phones = format!("SELECT COUNT(*) FROM audit_log WHERE entity_id = '{son}' AND field = 'phone'");
    let naming = format!(
        "SELECT COUNT(*) FROM visit_log WHERE household_id = '{visited}' AND attachment_ids = '[\"{photo_id}\"]'"
    );
    let stored = format!("SELECT COUNT(*) FROM attachment WHERE id = '{photo_id}'");
    assert_eq!(
        (app.count(&addresses).await, app.count(&visits).await, app.count(&stored).await),
        (0, 0, 0),
        "the server has nothing yet"
    );

    // Online: the `online` event syncs; the change sets first, then the photo.
    browser.offline(false).await;
    if count_becomes(&app, &naming, 1).await != 1 {
        browser.screenshot("officer-app-visit-not-delivered").await;
        panic!("the visit did not arrive naming the phone's photo: {}", meta(&browser).await["last_sync"]);
    }
    assert_eq!(count_becomes(&app, &addresses, 1).await, 1, "the address edit arrived");
    assert_eq!(count_becomes(&app, &phones, 1).await, 1, "the member's phone arrived");
    let uploaded = photo_becomes(&browser, "uploaded").await;
    assert_eq!(uploaded["id"], json!(photo_id));
    assert_eq!(app.count(&stored).await, 1, "stored under the phone's id");

    let token = meta(&browser).await["session"]["token"].as_str().expect("the phone's token").to_owned();
    let download = reqwest::Client::new()
        .get(format!("{}/api/mobile/v1/attachments/{photo_id}", app.base))
        .bearer_auth(&token)
        .header("x-jingzhun-client-version", "1")
        .send()
        .await
        .expect("download");
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "image/jpeg");
    let bytes = download.bytes().await.expect("the photo's bytes");
    assert!(!bytes.is_empty() && bytes.len() as u64 == size, "the bytes the phone kept: {} vs {size}", bytes.len());

    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 0").await, "待同步 0");
    assert_eq!(count_when(client, "#sync-photos", 0).await, 0, "no photo waiting");
    assert_eq!(
        count_when(client, ".visit-row .visit-photo[data-state=uploaded]", 1).await,
        1,
        "the thumbnail stays, from the phone"
    );
    show_visits(&browser).await;
    browser.screenshot("officer-app-visit-synced").await;

    // Another sync changes nothing on the server.
    click(client, "#sync-bar").await;
    assert_eq!(text_when(client, "#sync-state", |t| t == "已同步").await, "已同步");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = (
        app.count(&addresses).await,
        app.count(&phones).await,
        app.count(&visits).await,
        app.count(&naming).await,
        app.count(&stored).await,
    );
    assert_eq!(again, (1, 1, 1, 1, 1), "each exactly once after another sync");
    assert_eq!(count_when(client, ".visit-row", 1).await, 1, "the pulled visit replaces the local one");
    browser.close().await;
}
