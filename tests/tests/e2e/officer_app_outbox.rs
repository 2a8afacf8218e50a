//! The officer app's help measures, plan tasks and sent-back change sets (issue 13 items
//! 4–5), in a real Chromium at a phone's size on both backends. Offline, the officer adds
//! a help measure, marks a plan task done with a camera photo as evidence, gives a member
//! an ID number that the app's check accepts but the server refuses (it belongs to a
//! member of her other household: duplicate_person), and then edits an address. Online,
//! the measure and the task arrive once (the task naming the phone's photo, which
//! uploads under that id), the refused change set is set aside with the server's Chinese
//! words while the sets behind it apply, and 修改后重新提交 with another number sends the
//! fix under a new id and it applies. Screenshots: officer-app-outbox-*.png.

use crate::browser::{Browser, click, count_when, element, text_when, type_into};
use crate::harness::*;
use crate::officer_app::{count_becomes, edit_address, meta, officer, sign_in_and_pull};
use crate::on_both_backends;
use fantoccini::Client;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

on_both_backends!(officer_app_fixes_a_sent_back_change);

/// Replaces what a form input holds as a person does: select all, delete, type.
async fn retype(client: &Client, css: &str, text: &str) {
    type_into(client, css, "\u{E009}a\u{E009}\u{E003}").await;
    type_into(client, css, text).await;
}

/// Picks the first code in the picker of the code field `css`, once the popup has slid in
/// (a tap during its animation lands nowhere), and returns what the field shows.
async fn pick_first(client: &Client, css: &str) -> String {
    click(client, css).await;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = element(client, ".van-popup .van-picker__confirm").await.click().await;
        let shown = element(client, css).await.prop("value").await.expect("value").unwrap_or_default();
        if !shown.is_empty() {
            return shown;
        }
    }
    panic!("nothing picked in {css}");
}

/// The ids of the photos the app keeps in IndexedDB, with their states.
async fn photos(browser: &Browser) -> Vec<(String, String)> {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open('jingzhun-app');
        open.onerror = () => done({error: String(open.error)});
        open.onsuccess = () => {
            const db = open.result;
            const all = db.transaction('photos').objectStore('photos').getAll();
            all.onsuccess = () => { db.close(); done(all.result.map((p) => [p.id, p.state])); };
            all.onerror = () => { db.close(); done({error: String(all.error)}); };
        };
    "#;
    let rows = browser.client.execute_async(script, vec![]).await.expect("read IndexedDB photos");
    serde_json::from_value(rows.clone()).unwrap_or_else(|_| panic!("photos: {rows}"))
}

async fn officer_app_fixes_a_sent_back_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    // Her other phone records two households, and for the first a help plan with a task.
    let other_phone = officer(&app, "li-mei").await;
    let (home, members, mut home_changes) = new_household(VILLAGE_1, 1);
    let (_, _, other_changes) = new_household(VILLAGE_1, 1);
    let taken = other_changes[1].fields["id_number"].as_str().expect("the other head's ID number").to_owned();
    let (plan, task) = (Uuid::new_v4(), Uuid::new_v4());
    home_changes.push(change("help_plan", plan, Op::Create, 0, json!({"household_id": home, "year": 2026})));
    home_changes.push(change(
        "plan_task",
        task,
        Op::Create,
        0,
        json!({"household_id": home, "plan_id": plan, "title": "购买菌棒", "due_date": "2026-12-31"}),
    ));
    let answer = push(&other_phone, vec![changeset(home_changes), changeset(other_changes)]).await;
    assert!(answer.results.iter().all(|r| r.status == ChangeSetStatus::Applied), "{answer:?}");
    let son = members[1];

    let browser = Browser::start().await;
    let client = &browser.client;
    sign_in_and_pull(&browser, &app.base, "li-mei", 2).await;
    // The "camera photo": a PNG of the list, which the app must turn into a JPEG.
    let picture = browser.screenshot("officer-app-outbox-list").await.canonicalize().expect("the picture's path");
    click(client, &format!("#household-{home}")).await;
    assert_eq!(count_when(client, ".task-row", 1).await, 1, "the household page is open with its task");

    // Offline: four change sets, the second of which the server will refuse.
    browser.offline(true).await;
    click(client, "#add-measure").await;
    assert_eq!(pick_first(client, "#field-category").await, "发展生产脱贫");
    type_into(client, "#field-name", "食用菌种植产业帮扶").await;
    type_into(client, "#field-funds", "5000").await;
    browser.screenshot("officer-app-outbox-measure").await;
    click(client, "#measure-save").await;
    let measure = text_when(client, ".measure-row", |t| t.contains("食用菌")).await;
    assert!(
        measure.contains("发展生产脱贫") && measure.contains("5,000.00"),
        "the measure is listed at once: {measure}"
    );

    click(client, &format!("#member-{son}")).await;
    retype(client, "#field-id_number", &taken).await;
    let accepted = element(client, "#record-form").await.text().await.expect("the form's text");
    assert!(!accepted.contains("号码有误"), "the app's own check accepts the number: {accepted}");
    click(client, "#record-save").await;
    assert_eq!(count_when(client, ".task-row", 1).await, 1, "back on the household page");

    click(client, &format!("#task-{task}")).await;
    click(client, "#field-done").await;
    type_into(client, "#field-progress_note", "已购买菌棒200袋，已入棚").await;
    element(client, "#task-photo input[type=file]")
        .await
        .send_keys(picture.to_str().expect("a UTF-8 path"))
        .await
        .expect("choose the photo");
    assert_eq!(count_when(client, "#task-photo .van-uploader__preview", 1).await, 1, "the photo is previewed");
    assert_eq!(count_when(client, "#task-photo .van-uploader__mask", 0).await, 0, "and compressed without a failure");
    browser.screenshot("officer-app-outbox-task").await;
    let done_on = element(client, "#field-done_on").await.prop("value").await.expect("the day").unwrap_or_default();
    assert_eq!(done_on.len(), 10, "marked done today unless told otherwise: {done_on:?}");
    click(client, "#task-save").await;
    let row = text_when(client, ".task-row", |t| t.contains("已完成")).await;
    assert!(row.contains("购买菌棒"), "the task shows done at once: {row}");

    edit_address(&browser, "东村三组5号").await;
    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 4").await, "待同步 4");
    assert_eq!(text_when(client, "#sync-photos", |t| t == "照片 1").await, "照片 1");
    let scroll = "document.querySelector('#household-measures').scrollIntoView({block: 'start'})";
    browser.client.execute(scroll, vec![]).await.expect("scroll to the measures");
    browser.screenshot("officer-app-outbox-household").await;
    let [(photo, state)] = photos(&browser).await.try_into().expect("one photo kept");
    assert_eq!(state, "waiting");

    let measures = format!(
        "SELECT COUNT(*) FROM help_measure WHERE household_id = '{home}' AND name = '食用菌种植产业帮扶' \
         AND category = 'industry' AND funds = 500000"
    );
    let done = format!(
        "SELECT COUNT(*) FROM plan_task WHERE id = '{task}' AND done AND done_on = '{done_on}' \
         AND progress_note = '已购买菌棒200袋，已入棚' AND evidence_ids = '[\"{photo}\"]'"
    );
    let addresses = format!("SELECT COUNT(*) FROM audit_log WHERE entity_id = '{home}' AND field = 'address'");
    let stored = format!("SELECT COUNT(*) FROM attachment WHERE id = '{photo}'");
    let taken_by_son = format!("SELECT COUNT(*) FROM member WHERE id = '{son}' AND id_number = '{taken}'");
    assert_eq!(
        (app.count(&measures).await, app.count(&done).await, app.count(&addresses).await, app.count(&stored).await),
        (0, 0, 0, 0),
        "the server has nothing yet"
    );

    // Online: the refused set is set aside; the ones behind it apply.
    browser.offline(false).await;
    if count_becomes(&app, &done, 1).await != 1 {
        browser.screenshot("officer-app-outbox-not-delivered").await;
        panic!("the task did not arrive done with the phone's photo: {}", meta(&browser).await["last_sync"]);
    }
    assert_eq!(count_becomes(&app, &measures, 1).await, 1, "the measure arrived");
    assert_eq!(count_becomes(&app, &addresses, 1).await, 1, "the address behind the refused set arrived");
    assert_eq!(count_becomes(&app, &stored, 1).await, 1, "the photo uploaded under the phone's id");
    assert_eq!(app.count(&taken_by_son).await, 0, "the refused number was not stored");
    assert_eq!(text_when(client, "#sync-rejected", |t| t.contains("被退回 1")).await.trim(), "被退回 1");
    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 0").await, "待同步 0");

    let token = meta(&browser).await["session"]["token"].as_str().expect("the phone's token").to_owned();
    let download = reqwest::Client::new()
        .get(format!("{}/api/mobile/v1/attachments/{photo}", app.base))
        .bearer_auth(&token)
        .header("x-jingzhun-client-version", "1")
        .send()
        .await
        .expect("download");
    assert_eq!(download.status(), 200, "the task's evidence is downloadable");
    assert_eq!(download.headers()["content-type"], "image/jpeg");

    click(client, "#sync-rejected").await;
    let sent_back = text_when(client, ".rejected-row", |t| t.contains("此人已是另一在档户的成员")).await;
    assert!(sent_back.contains("身份证号码：此人已是另一在档户的成员"), "the server's reason, in Chinese: {sent_back}");
    assert_eq!(count_when(client, ".pending-row", 0).await, 0, "nothing else is waiting");
    browser.screenshot("officer-app-outbox-sent-back").await;

    // 修改后重新提交: the number prefilled and marked; another one goes under a new id.
    let first_id = meta_outbox_ids(&browser).await;
    click(client, ".rejected-row [id^=fix-]").await;
    let marked = text_when(client, "#refused-id_number", |t| t.contains("此人已是另一在档户的成员")).await;
    assert!(marked.contains("服务器退回"), "{marked}");
    let shown = element(client, "#field-id_number").await.prop("value").await.expect("value").unwrap_or_default();
    assert_eq!(shown, taken, "the refused value is prefilled");
    let fixed = fresh_id_number();
    retype(client, "#field-id_number", &fixed).await;
    let marked = text_when(client, "#refused-id_number", |t| t.contains("已修改")).await;
    assert!(marked.contains("原值被退回"), "the mark says the refused value is gone: {marked}");
    browser.screenshot("officer-app-outbox-fix").await;
    click(client, "#fix-submit").await;

    let son_fixed = format!("SELECT COUNT(*) FROM member WHERE id = '{son}' AND id_number = '{fixed}'");
    assert_eq!(count_becomes(&app, &son_fixed, 1).await, 1, "the fix applied");
    assert_eq!(text_when(client, "#sync-rejected", |t| t.contains("被退回 0")).await.trim(), "被退回 0");
    assert_eq!(count_when(client, ".rejected-row", 0).await, 0, "nothing sent back any more");
    let after = meta_outbox_ids(&browser).await;
    assert!(after.is_empty(), "the outbox is empty: {after:?}");
    // The server keeps the refused set under its id; the fix came under a new one.
    let [sent_back_id] = first_id.try_into().expect("one set aside");
    let device = meta(&browser).await["device"]["id"].as_str().expect("the device id").to_owned();
    let refused =
        format!("SELECT COUNT(*) FROM changeset_receipt WHERE changeset_id = '{sent_back_id}' AND status = 'rejected'");
    let receipts = format!("SELECT COUNT(*) FROM changeset_receipt WHERE device_id = '{device}'");
    let applied = format!("SELECT COUNT(*) FROM changeset_receipt WHERE device_id = '{device}' AND status = 'applied'");
    assert_eq!(
        (app.count(&refused).await, app.count(&receipts).await, app.count(&applied).await),
        (1, 5, 4),
        "four sets and the fix, each answered once"
    );
    browser.screenshot("officer-app-outbox-fixed").await;

    // Another sync changes nothing on the server: each change exactly once.
    click(client, "#sync-bar").await;
    assert_eq!(text_when(client, "#sync-state", |t| t == "已同步").await, "已同步");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let measures_any = format!("SELECT COUNT(*) FROM help_measure WHERE household_id = '{home}'");
    let done_once = format!("SELECT COUNT(*) FROM audit_log WHERE entity_id = '{task}' AND field = 'done'");
    let id_changes = format!("SELECT COUNT(*) FROM audit_log WHERE entity_id = '{son}' AND field = 'id_number'");
    let again = (
        app.count(&measures_any).await,
        app.count(&done_once).await,
        app.count(&addresses).await,
        app.count(&id_changes).await,
        app.count(&stored).await,
    );
    assert_eq!(again, (1, 1, 1, 1, 1), "each exactly once after another sync");
    browser.close().await;
}

/// The ids of the change sets in the phone's outbox, in order.
async fn meta_outbox_ids(browser: &Browser) -> Vec<String> {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open('jingzhun-app');
        open.onerror = () => done({error: String(open.error)});
        open.onsuccess = () => {
            const db = open.result;
            const all = db.transaction('outbox').objectStore('outbox').getAll();
            all.onsuccess = () => { db.close(); done(all.result.map((c) => c.id)); };
            all.onerror = () => { db.close(); done({error: String(all.error)}); };
        };
    "#;
    let ids = browser.client.execute_async(script, vec![]).await.expect("read IndexedDB outbox");
    serde_json::from_value(ids.clone()).unwrap_or_else(|_| panic!("outbox: {ids}"))
}
