//! 督查与提醒 in the office console (issue 12 item 7) in a real Chromium, on both backends:
//! the county follows the 待办's link to /campaigns, creates the year's campaign from the
//! 004 template, sees its milestones and the progress chart per village and deletes a
//! milestone; opens the notification log, where a village officer's number is shown only
//! masked, and cancels a message not sent yet; turns its own SMS off, and after a reload
//! the page still shows it off (the server kept it). Screenshots go to
//! target/test-artifacts/console-supervision-*.png. And the OpenAPI document types the
//! from-template request as what the server reads, not as a message template.

use crate::browser::{Browser, click, count_when, element, sign_in, text_when, type_into};
use crate::harness::*;
use crate::notifications::{notify, objection};
use crate::on_both_backends;
use crate::standins::user;
use jingzhun::notifications::{Event, Recipients};
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    the_county_plans_the_year_and_reads_its_notifications,
    the_from_template_request_is_typed_as_read,
    an_event_turned_off_on_a_channel_is_not_sent_there,
);

const COUNTY: &str = "320703000000";
const OFFICER_PHONE: &str = "13800138007";

/// Polls the API until `done` holds for the answer at `path` (what a click saved).
async fn api_when(admin: &Admin, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = admin.ok_get(path).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never got there: {last}");
}

/// Opens one of 督查与提醒's tabs; clicks again while a closing dialog's overlay took
/// the click (it fades out for a moment after 确定).
async fn open_tab(browser: &Browser, tab: &str, path: &str) {
    for _ in 0..5 {
        click(&browser.client, &format!("#supervision-tabs #tab-{tab}")).await;
        if browser.wait_for_path(path).await == path {
            return;
        }
    }
    panic!("the {tab} tab never opened {path}");
}

async fn the_county_plans_the_year_and_reads_its_notifications(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    // Households in both villages, so the progress has a bar per village.
    let officer = app.phone("officer-a", "supervision-phone").await;
    for village in [VILLAGE_1, VILLAGE_2] {
        create_household(&officer, village, 1).await;
    }
    // A message to a village officer, still queued: the log must show the number masked.
    let to = user(&app, "officer-n", "officer", VILLAGE_1, Some(OFFICER_PHONE), None).await;
    assert!(notify(&app, objection("objection:supervision", Recipients::Users(vec![to]))).await >= 1);
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let templates = county.ok_get("/api/v1/campaign-templates?year=2026").await;
    let template_milestones: Vec<String> = templates[0]["milestones"]
        .as_array()
        .expect("the 004 template's milestones")
        .iter()
        .map(|m| m["name"].as_str().expect("name").to_owned())
        .collect();
    assert!(template_milestones.len() >= 5, "{templates}");

    let browser = Browser::start_desktop().await;
    let client = &browser.client;
    sign_in(&browser, &app.base, "county", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");

    // The 待办's link, /campaigns, opens 工作计划; no campaign yet.
    client.goto(&format!("{}/campaigns", app.base)).await.expect("open /campaigns");
    assert_eq!(browser.wait_for_path("/supervision/campaigns").await, "/supervision/campaigns");
    text_when(client, ".campaigns", |t| t.contains("还没有工作计划")).await;

    // 新建 from the 004 template, for the county's region (its own, chosen for it) and this year.
    click(client, "#campaign-new").await;
    let preview = text_when(client, "#template-preview", |t| t.contains(&template_milestones[0])).await;
    for name in &template_milestones {
        assert!(preview.contains(name.as_str()), "the template's milestones before creating: {preview}");
    }
    browser.screenshot(&format!("console-supervision-new-{backend:?}")).await;
    click(client, "#campaign-create").await;
    let campaigns = api_when(&county, "/api/v1/campaigns", |c| c.as_array().is_some_and(|c| c.len() == 1)).await;
    let campaign = &campaigns[0];
    assert_eq!(campaign["region_code"], COUNTY, "{campaign}");
    assert_eq!(campaign["year"], 2026);
    assert_eq!(campaign["name"], "2026年度扶贫对象动态管理");
    let id = campaign["id"].as_str().expect("id").to_owned();
    let title = text_when(client, "#campaign-title", |t| !t.is_empty()).await;
    assert_eq!(title, "2026年度扶贫对象动态管理");
    // Its milestones, with Chinese dates.
    let milestones = campaign["milestones"].as_array().expect("milestones");
    assert_eq!(milestones.len(), template_milestones.len());
    assert_eq!(count_when(client, "#milestone-table .el-table__body tr", milestones.len()).await, milestones.len());
    let table = text_when(client, "#milestone-table", |t| t.contains(&template_milestones[0])).await;
    for name in &template_milestones {
        assert!(table.contains(name.as_str()), "{name} in the milestones: {table}");
    }
    assert!(table.contains("2026年11月10日"), "004's 11/10 deadline, as a Chinese date: {table}");
    // The progress chart has drawn, and names what lags (or that nothing does).
    assert_eq!(count_when(client, "#campaign-progress canvas", 1).await, 1, "the progress chart");
    let progress = county.ok_get(&format!("/api/v1/campaigns/{id}/progress")).await;
    // The page opens on the milestone due next (or the last one), as 工作台 does.
    let all = progress["milestones"].as_array().expect("progress");
    let on = progress["on"].as_str().expect("on");
    let mp =
        all.iter().find(|m| m["milestone"]["due_on"].as_str().is_some_and(|d| d >= on)).unwrap_or(&all[all.len() - 1]);
    let lagging: Vec<&str> = mp["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .filter(|r| r["level"] == "village" && r["lagging"] == true)
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    let note = text_when(client, "#progress-lagging", |t| !t.is_empty()).await;
    if lagging.is_empty() {
        assert_eq!(note, "没有滞后的村");
    } else {
        assert!(note.starts_with(&format!("滞后 {} 个村", lagging.len())), "{note} for {lagging:?}");
    }
    client
        .execute("document.querySelector('#campaign-progress').scrollIntoView()", vec![])
        .await
        .expect("scroll to the chart");
    browser.screenshot(&format!("console-supervision-campaign-{backend:?}")).await;

    // Deleting the last milestone (confirmed) removes it on the server.
    let last = milestones.last().expect("a milestone")["name"].as_str().expect("name").to_owned();
    let buttons =
        client.find_all(fantoccini::Locator::Css("#milestone-table .milestone-delete")).await.expect("buttons");
    buttons.last().expect("a delete button").click().await.expect("click delete");
    let question = text_when(client, ".el-message-box", |t| t.contains(&last)).await;
    assert!(question.contains("删除工作节点"), "{question}");
    click(client, ".el-message-box__btns .el-button--primary").await;
    let after = api_when(&county, &format!("/api/v1/campaigns/{id}"), |c| {
        c["milestones"].as_array().is_some_and(|m| m.len() == template_milestones.len() - 1)
    })
    .await;
    assert!(after["milestones"].as_array().expect("milestones").iter().all(|m| m["name"] != last.as_str()));
    assert_eq!(
        count_when(client, "#milestone-table .el-table__body tr", template_milestones.len() - 1).await,
        template_milestones.len() - 1
    );

    // 添加节点 with its dates: stored as typed, measured as chosen (the default, 入户走访).
    click(client, "#milestone-add").await;
    type_into(client, "#milestone-name", "年终走访补课").await;
    type_into(client, "#milestone-starts", "2026-12-21\u{E007}").await;
    type_into(client, "#milestone-due", "2026-12-28\u{E007}").await;
    click(client, "#milestone-save").await;
    let after = api_when(&county, &format!("/api/v1/campaigns/{id}"), |c| {
        c["milestones"].as_array().is_some_and(|m| m.iter().any(|m| m["name"] == "年终走访补课"))
    })
    .await;
    let added = after["milestones"]
        .as_array()
        .expect("milestones")
        .iter()
        .find(|m| m["name"] == "年终走访补课")
        .expect("added");
    assert_eq!(
        (added["starts_on"].as_str(), added["due_on"].as_str()),
        (Some("2026-12-21"), Some("2026-12-28")),
        "{added}"
    );
    assert_eq!(added["measure"], "households_visited");
    text_when(client, "#milestone-table", |t| t.contains("年终走访补课") && t.contains("2026年12月28日")).await;

    // 通知记录: the officer's message, the number masked, cancelled from the console.
    open_tab(&browser, "supervision-notifications", "/supervision/notifications").await;
    let log = text_when(client, "#log-table", |t| t.contains("138****8007")).await;
    assert!(!log.contains(OFFICER_PHONE), "no whole phone number in the log: {log}");
    assert!(log.contains("收到异议") && log.contains("待发送"), "{log}");
    browser.screenshot(&format!("console-supervision-log-{backend:?}")).await;
    let queued = county.ok_get("/api/v1/notifications?status=queued").await;
    let sms: Vec<&Value> = queued.as_array().expect("log").iter().filter(|m| m["channel"] == "sms").collect();
    assert_eq!(sms.len(), 1, "{queued}");
    click(client, "#log-table .log-cancel").await;
    text_when(client, "#log-table", |t| t.contains("已取消")).await;
    let cancelled = county.ok_get("/api/v1/notifications?status=cancelled").await;
    assert_eq!(cancelled.as_array().expect("log").len(), 1, "the console's 取消 reached the server: {cancelled}");

    // 通知设置: SMS off for the county user; the server keeps it and a reload shows it.
    open_tab(&browser, "supervision-settings", "/supervision/settings").await;
    assert_eq!(
        count_when(client, "#channel-preferences .el-switch.is-checked", 3).await,
        3,
        "every channel on at first"
    );
    text_when(client, "#template-table", |t| t.contains("收到异议")).await;
    click(client, "#my-preferences .el-switch:has(#pref-sms)").await;
    api_when(&county, "/api/v1/notification-preferences", |p| {
        p["channels"][0] == json!({"channel": "sms", "enabled": false, "has_address": false})
    })
    .await;
    // And objections no longer by email.
    click(client, "#event-preferences .el-switch:has(#pref-objection_received-email)").await;
    api_when(&county, "/api/v1/notification-preferences", |p| {
        p["events"].as_array().is_some_and(|events| {
            events.contains(&json!({"event": "objection_received", "channel": "email", "enabled": false}))
        })
    })
    .await;
    client.refresh().await.expect("reload");
    assert_eq!(
        count_when(client, "#channel-preferences .el-switch.is-checked", 2).await,
        2,
        "SMS stays off after a reload"
    );
    let sms_switch = element(client, "#my-preferences .el-switch:has(#pref-sms)").await;
    let class = sms_switch.attr("class").await.expect("class").unwrap_or_default();
    assert!(!class.contains("is-checked"), "the SMS switch is off: {class}");
    let objections = element(client, "#event-preferences .el-switch:has(#pref-objection_received-email)").await;
    let class = objections.attr("class").await.expect("class").unwrap_or_default();
    assert!(!class.contains("is-checked"), "objections by email stay off: {class}");
    let other = element(client, "#event-preferences .el-switch:has(#pref-notice_published-email)").await;
    let class = other.attr("class").await.expect("class").unwrap_or_default();
    assert!(class.contains("is-checked"), "other events by email stay on: {class}");
    browser.screenshot(&format!("console-supervision-preferences-{backend:?}")).await;
    // A template's preview fills its variables with sample values.
    click(client, "#template-table .template-open").await;
    let shown = text_when(client, "#template-preview", |t| !t.is_empty()).await;
    assert!(!shown.contains('{'), "the preview fills every variable: {shown}");
    browser.screenshot(&format!("console-supervision-template-{backend:?}")).await;
    browser.close().await;
}

/// The from-template request and a message template were both called `TemplateBody`; the
/// document kept one, so the console's generated type for POST /campaigns/from-template
/// asked for `event`, `channel` and `body`, and had no `region_code` or `year`. And both
/// template lists were the operation `list_templates`.
async fn the_from_template_request_is_typed_as_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document: Value =
        reqwest::get(format!("{}/api/openapi.json", app.base)).await.expect("GET").json().await.expect("JSON");
    let schema = &document["paths"]["/api/v1/campaigns/from-template"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"]["$ref"];
    let name = schema.as_str().expect("a named schema").rsplit('/').next().expect("name");
    let properties = &document["components"]["schemas"][name]["properties"];
    for field in ["template", "region_code", "year", "name"] {
        assert!(properties.get(field).is_some(), "{name} has {field}: {properties}");
    }
    let templates = &document["paths"]["/api/v1/notification-templates"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["items"]["$ref"];
    let template = templates.as_str().expect("a named schema").rsplit('/').next().expect("name");
    assert_ne!(name, template, "the two bodies have two names");
    assert!(document["components"]["schemas"][template]["properties"].get("event").is_some());
    // The generated types key operations by id: one id for both lists typed the
    // notification templates' answer as campaign templates.
    let campaign_list = &document["paths"]["/api/v1/campaign-templates"]["get"]["operationId"];
    let notification_list = &document["paths"]["/api/v1/notification-templates"]["get"]["operationId"];
    assert_ne!(campaign_list, notification_list, "two operations, two ids");
}

/// 通知设置's events by channel: an officer who wants objections by email only turns
/// objection_received off on SMS; an objection then goes out by email alone, while a
/// published notice still comes by SMS too. Unknown events, and WeCom (a region's robot,
/// nobody's to turn off), are refused.
async fn an_event_turned_off_on_a_channel_is_not_sent_there(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let id = user(&app, "officer-e", "officer", VILLAGE_1, Some(OFFICER_PHONE), Some("e@example.org")).await;
    let officer = Admin::login(&app.base, "officer-e", PASSWORD).await;
    let prefs = officer.ok_get("/api/v1/notification-preferences").await;
    let events = prefs["events"].as_array().expect("events");
    assert!(events.iter().all(|e| e["enabled"] == true), "every event on at first: {prefs}");
    assert!(events.contains(&json!({"event": "objection_received", "channel": "sms", "enabled": true})));
    assert!(events.iter().all(|e| e["channel"] != "wecom"), "WeCom is no person's choice: {prefs}");

    let (status, prefs) = officer
        .put(
            "/api/v1/notification-preferences",
            json!({"channel": "sms", "event": "objection_received", "enabled": false}),
        )
        .await;
    assert_eq!(status, 200, "{prefs}");
    assert!(
        prefs["events"]
            .as_array()
            .expect("events")
            .contains(&json!({"event": "objection_received", "channel": "sms", "enabled": false}))
    );
    assert_eq!(prefs["channels"][0], json!({"channel": "sms", "enabled": true, "has_address": true}), "SMS stays on");
    for (body, code) in [
        (json!({"channel": "sms", "event": "no_such_event", "enabled": false}), "unknown_event"),
        (json!({"channel": "wecom", "event": "objection_received", "enabled": false}), "unknown_channel"),
    ] {
        let (status, refused) = officer.put("/api/v1/notification-preferences", body).await;
        assert_eq!((status, refused["error"]["code"].as_str()), (400, Some(code)), "{refused}");
    }

    assert_eq!(notify(&app, objection("objection:events", Recipients::Users(vec![id.clone()]))).await, 1);
    let mut published = objection("notice:events", Recipients::Users(vec![id.clone()]));
    published.event = Event::NoticePublished;
    assert_eq!(notify(&app, published).await, 2);
    let log = officer.ok_get("/api/v1/notifications").await;
    let mut sent: Vec<(String, String)> = log
        .as_array()
        .expect("log")
        .iter()
        .map(|m| (m["event"].as_str().expect("event").to_owned(), m["channel"].as_str().expect("channel").to_owned()))
        .collect();
    sent.sort();
    let want = [("notice_published", "email"), ("notice_published", "sms"), ("objection_received", "email")];
    assert_eq!(sent, want.map(|(e, c)| (e.to_owned(), c.to_owned())), "{log}");
    let audited = jingzhun::db::count(
        &app.state.db.conn,
        "SELECT COUNT(*) FROM audit_log WHERE entity = ? AND field = ?",
        vec!["notification_preference".into(), "objection_received/sms".into()],
    )
    .await
    .expect("audit");
    assert_eq!(audited, 1);
}
