//! The officer app's edit forms and its conflict screen (issue 13 items 4–5), in a real
//! Chromium at a phone's size, on both backends: the same sensitive (`manual`) income
//! field changed on two phones of one officer becomes a conflict the browser phone shows
//! side by side (原值 / 服务器 / 我的) and resolves online; a member's phone edited offline
//! through the catalogue's form arrives exactly once. Screenshots: officer-app-income-form,
//! officer-app-conflict. The forms: `console/app/src/views/edit/Record.vue`.

use crate::browser::{Browser, click, count_when, retype, text_when};
use crate::harness::*;
use crate::officer_app::{count_becomes, officer, sign_in_and_pull, sync_until, sync_until_shown};
use crate::on_both_backends;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(officer_app_conflict);

/// The field names of each queued change, in the outbox's order, read by the page.
async fn queued_fields(browser: &Browser) -> Value {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open('jingzhun-app');
        open.onerror = () => done({error: String(open.error)});
        open.onsuccess = () => {
            const db = open.result;
            const all = db.transaction('outbox').objectStore('outbox').getAll();
            all.onsuccess = () => {
                db.close();
                done(all.result.flatMap((set) => set.changes.map((c) => Object.keys(c.fields || {}))));
            };
            all.onerror = () => { db.close(); done({error: String(all.error)}); };
        };
    "#;
    browser.client.execute_async(script, vec![]).await.expect("read the outbox")
}

async fn officer_app_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    // Her household (a head and a son) with its 2025 income, recorded from her other phone.
    let other_phone = officer(&app, "li-mei").await;
    let (household, members) = create_household(&other_phone, VILLAGE_1, 1).await;
    let income = Uuid::new_v4();
    let created = push(
        &other_phone,
        vec![changeset(vec![change(
            "income",
            income,
            Op::Create,
            0,
            json!({"household_id": household, "year": 2025, "wage": 12000}),
        )])],
    )
    .await;
    assert_eq!(created.results[0].status, ChangeSetStatus::Applied, "{:?}", created.results[0]);
    let income_version = created.results[0].changes[0].version;

    let browser = Browser::start().await;
    let client = &browser.client;
    sign_in_and_pull(&browser, &app.base, "li-mei", 1).await;
    click(client, &format!("#household-{household}")).await;
    assert_eq!(count_when(client, ".member-row", 2).await, 2);

    // Offline from here. Meanwhile the other phone changes the wage first.
    browser.offline(true).await;
    let first = push(
        &other_phone,
        vec![changeset(vec![change("income", income, Op::Update, income_version, json!({"wage": 15000}))])],
    )
    .await;
    assert_eq!(first.results[0].status, ChangeSetStatus::Applied, "{:?}", first.results[0]);

    // The income form: every field of the record, the wage tagged 敏感, R1 live underneath.
    click(client, "#edit-income-2025").await;
    let wage_row = text_when(client, "#record-form", |t| t.contains("工资性收入")).await;
    assert!(wage_row.contains("敏感"), "a manual field carries the 敏感 tag: {wage_row}");
    let before = text_when(client, "#r1-value", |t| t.contains('¥')).await;
    assert!(before.contains("6000.00") && before.contains("2 名在户成员"), "12000 yuan for two residents: {before}");
    retype(client, "#field-wage", "18000").await;
    let after = text_when(client, "#r1-value", |t| t.contains("9000.00")).await;
    assert!(after.contains("¥9000.00"), "the preview follows the typing: {after}");
    let form = text_when(client, "#r1-value", |t| t.contains("预估")).await;
    assert!(form.contains("预估，以县里核算为准"), "{form}");
    // A value the server would refuse is refused here, in the server's words, and not queued.
    retype(client, "#field-transfer", "1.005").await;
    let refusal = text_when(client, "#record-form", |t| t.contains("金额格式错误")).await;
    assert!(refusal.contains("金额格式错误"), "the money check's message from /schema: {refusal}");
    browser.screenshot("officer-app-income-form").await;
    retype(client, "#field-transfer", "").await;
    click(client, "#record-save").await;
    let shown = text_when(client, "#household-income", |t| t.contains("18,000.00")).await;
    assert!(shown.contains("¥18,000.00"), "the household shows the edit at once: {shown}");
    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 1").await, "待同步 1");

    // A member's phone through the member form, offline too.
    let son = members[1];
    let phone_edits = format!("SELECT COUNT(*) FROM audit_log WHERE entity_id = '{son}' AND field = 'phone'");
    let phone_edits_before = app.count(&phone_edits).await;
    click(client, &format!("#member-{son}")).await;
    retype(client, "#field-phone", "13900001111").await;
    browser.screenshot("officer-app-member-form").await;
    click(client, "#record-save").await;
    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 2").await, "待同步 2");
    // Only what the officer changed is queued: an unchanged field sent with the old base
    // version would raise a conflict for nothing.
    let queued = queued_fields(&browser).await;
    assert_eq!(queued, json!([["wage"], ["phone"]]), "one change set per save, the changed fields only");

    // Online: both change sets go; the wage becomes a conflict, the phone number does not.
    browser.offline(false).await;
    sync_until_shown(&browser, ".conflict-row").await;
    assert_eq!(text_when(client, "#sync-conflicts", |t| t == "冲突 1").await, "冲突 1");
    browser.screenshot("officer-app-household-conflict").await;
    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 0").await, "待同步 0");
    let son_phone = format!("SELECT COUNT(*) FROM member WHERE id = '{son}' AND phone = '13900001111'");
    assert_eq!(count_becomes(&app, &son_phone, 1).await, 1, "the member's phone reached the server");
    assert_eq!(count_becomes(&app, &phone_edits, phone_edits_before + 1).await, phone_edits_before + 1, "once");
    let wage = format!("SELECT wage FROM income_record WHERE id = '{income}'");
    assert_eq!(app.count(&wage).await, 1_500_000, "the server kept the first phone's wage (fen)");

    // The conflict, side by side; the officer takes her own value.
    click(client, ".conflict-row").await;
    assert_eq!(text_when(client, "#conflict-base", |t| !t.is_empty()).await, "¥12,000.00");
    assert_eq!(text_when(client, "#conflict-server", |t| !t.is_empty()).await, "¥15,000.00");
    assert_eq!(text_when(client, "#conflict-mine", |t| !t.is_empty()).await, "¥18,000.00");
    let heading = text_when(client, "#conflict-columns", |t| !t.is_empty()).await;
    assert!(heading.contains("原值") && heading.contains("服务器") && heading.contains("我的"), "{heading}");
    browser.screenshot("officer-app-conflict").await;
    click(client, "#take-mine").await;
    assert_eq!(count_becomes(&app, &wage, 1_800_000).await, 1_800_000, "the server's wage is the browser's");
    let resolved = format!(
        "SELECT COUNT(*) FROM sync_conflict WHERE entity_id = '{income}' AND status = 'resolved' AND resolution = 'client'"
    );
    assert_eq!(count_becomes(&app, &resolved, 1).await, 1, "the conflict is resolved with the phone's value");
    assert_eq!(text_when(client, "#sync-conflicts", |t| t == "冲突 0").await, "冲突 0");
    let income_shown = sync_until(&browser, "#household-income", |t| t.contains("18,000.00")).await;
    assert!(income_shown.contains("¥18,000.00"), "{income_shown}");
    assert!(
        client.find(fantoccini::Locator::Css(".conflict-row")).await.is_err(),
        "no conflict row left on the household page"
    );
    browser.close().await;
}
