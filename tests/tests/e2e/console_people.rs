//! 系统管理 · 用户 in the console and the grant rule under it, on both backends. In a real
//! Chromium the county creates a township reviewer (the form's inline checks first, then
//! the server's refusal of a taken username in Chinese), resets its password (a weak one
//! refused), grants it 乡镇审核 over one of two townships in the grant dialog, which offers
//! no 县扶贫办; the new user signs in and sees that township's households only, no 用户 tab,
//! and no grant option on the users page. The county also adds a village in 地区 and
//! records another's rural population and 深度贫困村, and in 参数设置 a poverty line in 元
//! and its own rule variants from the city's, money in 元 stored as 分. Through the API:
//! what each caller may grant (`GET /api/v1/grantable-roles`) and that a township
//! reviewer, or a county office reaching for its own rank, is refused a county-wide grant.
//! Screenshots: console-people-users-*, -grant-*, -regions-*, -settings-*.

use crate::browser::{Browser, choose, click, count_when, element, sign_in, text_when, type_into};
use crate::harness::*;
use crate::on_both_backends;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::time::Duration;

const TOWNSHIP_2: &str = "320703002000";
const VILLAGE_3: &str = "320703002001";
const NEW_PASSWORD: &str = "shenhe2026";
const RESET_PASSWORD: &str = "chongzhi2027";
const CONFLICT_ZH: &str = "与现有数据冲突";

/// A second township with a village, an officer there, and a household in each township.
async fn two_townships(app: &TestApp) {
    app.admin.ok_post("/api/v1/regions", json!({"code": TOWNSHIP_2, "name": "二号镇", "level": "township"})).await;
    app.admin.ok_post("/api/v1/regions", json!({"code": VILLAGE_3, "name": "南村", "level": "village"})).await;
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "officer-c", "name": "officer-c", "password": PASSWORD,
                   "roles": [{"role": "officer", "region_code": TOWNSHIP_2}]}),
        )
        .await;
    let officer_a = app.phone("officer-a", "people-phone-a").await;
    create_household(&officer_a, VILLAGE_1, 0).await;
    let officer_c = app.phone("officer-c", "people-phone-c").await;
    create_household(&officer_c, VILLAGE_3, 0).await;
}

/// Ctrl+A: what a person presses before typing over a field's value.
const SELECT_ALL: &str = "\u{E009}a\u{E000}";

/// `RulePolicy::baseline()` as the API takes it.
fn baseline_policy() -> Value {
    json!({
        "identification": "income_and_guarantees", "pension_counted": true,
        "income_period_start_month": 10, "income_period_start_day": 1, "edge_ceiling_percent": 150,
        "vehicle_value_limit_fen": 3_000_000, "dibao_standard_fen": null, "clear_increase_percent": 0,
        "main_income": "largest_stream", "village_incidence_limit_basis_points": 200,
        "village_spot_check_percent": 10, "compulsory_student_min_age": 5, "compulsory_student_max_age": 18
    })
}

/// The labels a select offers, once it is open.
async fn options(client: &Client, input_css: &str) -> Vec<String> {
    // A select chosen from just before may still be fading out: wait until no option is
    // shown, or its options would be read as this one's.
    for _ in 0..30 {
        let mut shown = false;
        for item in client.find_all(Locator::Css(".el-select-dropdown__item")).await.unwrap_or_default() {
            shown |= item.is_displayed().await.unwrap_or(false);
        }
        if !shown {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    click(client, &format!(".el-select:has({input_css}) .el-select__wrapper")).await;
    let mut shown = Vec::new();
    for _ in 0..30 {
        shown.clear();
        for item in client.find_all(Locator::Css(".el-select-dropdown__item")).await.unwrap_or_default() {
            if item.is_displayed().await.unwrap_or(false) {
                shown.push(item.text().await.unwrap_or_default().trim().to_owned());
            }
        }
        if !shown.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Close it again, so the next select opens alone.
    click(client, &format!(".el-select:has({input_css}) .el-select__wrapper")).await;
    shown
}

async fn the_county_makes_a_township_reviewer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    two_townships(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    // The city's rule variants (over any stored for 连云港市), which the county's start from.
    let mut city = baseline_policy();
    city["pension_counted"] = json!(false);
    let (status, body) = app
        .admin
        .put("/api/v1/rule-policies", json!({"region_prefix": "3207", "policy": city, "source": "市文件"}))
        .await;
    assert_eq!(status, 204, "{body}");

    let browser = Browser::start_desktop().await;
    let client = &browser.client;
    sign_in(&browser, &app.base, "county", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    click(client, "#main-menu [data-area='system']").await;
    assert_eq!(browser.wait_for_path("/system/users").await, "/system/users");
    let listed = county.get("/api/v1/users?page=1&per_page=20").await.1;
    let seeded = listed.as_array().expect("users").len();
    let total = text_when(client, "#user-total", |t| t == format!("共 {seeded} 人")).await;
    assert_eq!(total, format!("共 {seeded} 人"), "the total the server counts");

    // 新建用户: empty, the form says what is missing before anything is sent.
    click(client, "#user-new").await;
    click(client, "#user-create-save").await;
    assert!(count_when(client, "#user-create-form .el-form-item__error", 5).await >= 5, "inline checks");
    // A username that is taken: the server's refusal, in Chinese, on the form.
    type_into(client, "#new-username", "county").await;
    type_into(client, "#new-name", "王审核").await;
    type_into(client, "#new-phone", "13800138000").await;
    type_into(client, "#new-password", NEW_PASSWORD).await;
    // The role offers only what the county may grant: never its own rank or above.
    let roles = options(client, "#new-role").await;
    assert!(roles.contains(&"乡镇审核".to_owned()) && roles.contains(&"村两委".to_owned()), "{roles:?}");
    assert!(!roles.contains(&"县扶贫办".to_owned()) && !roles.contains(&"系统管理员".to_owned()), "{roles:?}");
    choose(client, "#new-role", "乡镇审核").await;
    // 乡镇审核 goes to a township: the villages and the county are not offered.
    let regions = options(client, "#new-region").await;
    assert_eq!(regions, ["一号镇", "二号镇"], "townships only");
    choose(client, "#new-region", "一号镇").await;
    click(client, "#user-create-save").await;
    let refusal = text_when(client, "#user-create-error", |t| !t.is_empty()).await;
    assert_eq!(refusal, CONFLICT_ZH, "the server's refusal in Chinese");
    // Backspaces, as a person would (WebDriver's clear() leaves Vue's model as it was).
    type_into(client, "#new-username", &"\u{E003}".repeat("county".len())).await;
    type_into(client, "#new-username", "township-new").await;
    click(client, "#user-create-save").await;
    let user = text_when(client, "#user-table .user-name", |t| t == "township-new").await;
    assert_eq!(user, "township-new", "the list finds the new user");
    let phone = text_when(client, "#user-table .user-phone", |t| !t.is_empty()).await;
    assert_eq!(phone, "138****8000", "the phone masked in the list");
    browser.screenshot(&format!("console-people-users-{backend:?}")).await;
    // 重置密码: a weak one refused by the server in Chinese, then a good one.
    click(client, "#user-table .user-password").await;
    type_into(client, "#reset-password", "short").await;
    click(client, "#reset-save").await;
    let refusal = text_when(client, "#reset-error", |t| !t.is_empty()).await;
    assert_eq!(refusal, "密码至少8位，且须包含字母和数字");
    type_into(client, "#reset-password", &format!("{SELECT_ALL}{RESET_PASSWORD}")).await;
    click(client, "#reset-save").await;
    assert_eq!(count_when(client, "#reset-error", 0).await, 0, "the reset is taken");
    let mut closed = false;
    for _ in 0..50 {
        if !element(client, "#reset-password").await.is_displayed().await.unwrap_or(true) {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(closed, "the reset dialog closes");
    // The grant the form made is the server's.
    let made = county.get("/api/v1/users?q=township-new").await.1;
    assert_eq!(made[0]["roles"], json!([{"role": "township", "region_code": TOWNSHIP}]), "{made}");

    // The grant dialog: the grant is there; a second one over the other township, removed again.
    click(client, "#user-table .user-grants").await;
    let granted = text_when(client, "#grant-table", |t| t.contains("一号镇")).await;
    assert!(granted.contains("乡镇审核"), "{granted}");
    let roles = options(client, "#grant-role").await;
    assert!(!roles.contains(&"县扶贫办".to_owned()), "no county-wide role for the county to give: {roles:?}");
    choose(client, "#grant-role", "核查组").await;
    choose(client, "#grant-region", "二号镇").await;
    click(client, "#grant-add").await;
    assert_eq!(count_when(client, "#grant-table .el-table__body tr", 2).await, 2, "two grants");
    browser.screenshot(&format!("console-people-grant-{backend:?}")).await;
    let made = county.get("/api/v1/users?q=township-new").await.1;
    assert_eq!(made[0]["roles"].as_array().map(Vec::len), Some(2), "{made}");
    let rows = client.find_all(Locator::Css("#grant-table .el-table__body tr")).await.expect("grant rows");
    let mut removed = false;
    for row in rows {
        if row.text().await.unwrap_or_default().contains("核查组") {
            row.find(Locator::Css(".grant-remove"))
                .await
                .expect("移除")
                .click()
                .await
                .expect("remove the 核查组 grant");
            removed = true;
            break;
        }
    }
    assert!(removed, "a 移除 on the 核查组 row");
    assert_eq!(count_when(client, "#grant-table .el-table__body tr", 1).await, 1, "one grant left");
    let made = county.get("/api/v1/users?q=township-new").await.1;
    assert_eq!(made[0]["roles"], json!([{"role": "township", "region_code": TOWNSHIP}]), "{made}");
    click(client, "#grant-close").await;

    // 地区: a village added under 二号镇 from the tree.
    let mut tab = false;
    for _ in 0..50 {
        if element(client, "#system-tabs #tab-system-regions").await.click().await.is_ok() {
            tab = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(tab, "the 地区 tab");
    assert_eq!(browser.wait_for_path("/system/regions").await, "/system/regions");
    click(client, &format!(".region-node[data-code='{TOWNSHIP_2}']")).await;
    click(client, "#region-add").await;
    type_into(client, "#region-code", "320703002002").await;
    type_into(client, "#region-name", "北村").await;
    click(client, "#region-save").await;
    assert_eq!(count_when(client, ".region-node[data-code='320703002002']", 1).await, 1, "北村 in the tree");
    // 东村's R9 facts: no rural population yet, then 500 people and 深度贫困村 recorded.
    click(client, &format!(".region-node[data-code='{VILLAGE_1}']")).await;
    let missing = text_when(client, "#village-missing", |t| !t.is_empty()).await;
    assert!(missing.contains("尚未录入乡村人口"), "{missing}");
    type_into(client, "#village-population", "500").await;
    click(client, "#village-save").await;
    let incidence = text_when(client, "#village-incidence", |t| !t.is_empty()).await;
    assert_eq!(incidence, "0.00%", "no registered poor left in 东村");
    choose(client, "#village-deep_poverty_village", "是").await;
    click(client, "#village-save").await;
    let mut recorded = Value::Null;
    for _ in 0..50 {
        recorded = county.ok_get(&format!("/api/v1/villages/{VILLAGE_1}/exit-assessment")).await;
        if recorded["recorded"]["deep_poverty_village"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(recorded["recorded"]["deep_poverty_village"], true, "{recorded}");
    assert_eq!(recorded["facts"]["rural_population"], 500, "{recorded}");
    assert_eq!(recorded["recorded"]["whole_village_relocation"], Value::Null, "left unrecorded: {recorded}");
    browser.screenshot(&format!("console-people-regions-{backend:?}")).await;
    let under = county.ok_get(&format!("/api/v1/regions?parent_code={TOWNSHIP_2}")).await;
    assert!(under.as_array().expect("regions").iter().any(|r| r["code"] == "320703002002" && r["level"] == "village"));

    // 参数设置: the county's rule variants start from the city's, the vehicle limit in 元.
    click(client, "#system-tabs #tab-system-settings").await;
    assert_eq!(browser.wait_for_path("/system/settings").await, "/system/settings");
    click(client, "#threshold-new").await;
    type_into(client, "#line-year", &format!("{SELECT_ALL}2026")).await;
    choose(client, "#line-region", "测试县").await;
    choose(client, "#line-standard", "省定").await;
    type_into(client, "#line-yuan", "4500.5").await;
    type_into(client, "#line-source", "县扶贫办〔2026〕2号").await;
    click(client, "#threshold-save").await;
    let lines = text_when(client, "#threshold-table", |t| t.contains("¥4,500.50")).await;
    assert!(lines.contains("测试县") && lines.contains("省定"), "{lines}");
    let set = county.ok_get("/api/v1/thresholds").await;
    assert!(
        set.as_array().expect("lines").iter().any(|l| l["year"] == 2026
            && l["region_prefix"] == "320703"
            && l["standard"] == "provincial"
            && l["yuan"] == 4500.5),
        "{set}"
    );
    let stored = county.ok_get("/api/v1/rule-policies").await.as_array().expect("policies").len();
    let table = text_when(client, "#policy-table", |t| t.contains("连云港市")).await;
    assert!(table.contains("¥30,000.00"), "the city's limit, stored in fen, shown in 元: {table}");
    click(client, "#policy-new").await;
    choose(client, "#policy-region", "测试县").await;
    type_into(client, "#policy-vehicle", &format!("{SELECT_ALL}50000")).await;
    type_into(client, "#policy-source", "县扶贫办〔2026〕1号").await;
    click(client, "#policy-save").await;
    let rows = count_when(client, "#policy-table .el-table__body tr", stored + 1).await;
    assert_eq!(rows, stored + 1, "the county's own row");
    let table = text_when(client, "#policy-table", |t| t.contains("测试县")).await;
    assert!(table.contains("¥50,000.00"), "{table}");
    browser.screenshot(&format!("console-people-settings-{backend:?}")).await;
    let stored = county.ok_get("/api/v1/rule-policies").await;
    let ours = stored.as_array().expect("policies").iter().find(|p| p["region_prefix"] == "320703").expect("320703");
    assert_eq!(ours["policy"]["vehicle_value_limit_fen"], 5_000_000, "50000 元 stored as fen: {ours}");
    assert_eq!(ours["policy"]["pension_counted"], false, "the rest as the city's: {ours}");

    // The new user signs in and sees its township only (once the dialog has faded away).
    let mut out = false;
    for _ in 0..50 {
        if element(client, "#logout").await.click().await.is_ok() {
            out = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(out, "the dialog closes and 退出 can be pressed");
    assert_eq!(browser.wait_for_path("/login").await, "/login");
    sign_in(&browser, &app.base, "township-new", RESET_PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    let scope = text_when(client, "#user-scope", |t| t.contains("一号镇")).await;
    assert!(scope.contains("乡镇审核") && !scope.contains("二号镇"), "{scope}");
    // 系统管理 holds the township's 帮扶分配, and no tab for accounts or devices.
    let menu = text_when(client, "#main-menu", |t| t.contains("系统管理")).await;
    assert!(menu.contains("系统管理"), "a township moves a leaving officer's households: {menu}");
    click(client, "#main-menu [data-area='system']").await;
    assert_eq!(browser.wait_for_path("/system/assignments").await, "/system/assignments");
    let tabs = text_when(client, "#system-tabs", |t| t.contains("帮扶分配")).await;
    assert!(tabs.contains("同步冲突") && !tabs.contains("用户") && !tabs.contains("设备"), "{tabs}");
    click(client, "#main-menu [data-area='households']").await;
    let total = text_when(client, "#household-total", |t| t == "共 1 户").await;
    assert_eq!(total, "共 1 户", "the household of 一号镇, not that of 二号镇");
    // Opened by address anyway: the server refuses the list, and nothing can be granted.
    client.goto(&format!("{}/system/users", app.base)).await.expect("open /system/users");
    let refusal = text_when(client, "#user-failure", |t| !t.is_empty()).await;
    assert_eq!(refusal, "无权执行此操作");
    assert_eq!(count_when(client, "#user-new", 0).await, 0, "no 新建用户");
    assert!(element(client, "#user-table").await.text().await.unwrap_or_default().contains("暂无数据"));
    browser.close().await;
}

/// Who may grant what, as the API answers it, and the refusal of a county-wide grant.
async fn no_one_grants_more_than_they_hold(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;

    let offers = county.ok_get("/api/v1/grantable-roles").await;
    let roles: Vec<&str> = offers.as_array().expect("offers").iter().filter_map(|o| o["role"].as_str()).collect();
    assert_eq!(roles, ["officer", "village", "township", "verifier", "supervisor"], "{offers}");
    for offer in offers.as_array().expect("offers") {
        assert_eq!(offer["within"], COUNTY, "{offer}");
    }
    let village: &Value = &offers.as_array().expect("offers")[1];
    assert_eq!(village["level"], "village");
    assert_eq!(township.ok_get("/api/v1/grantable-roles").await, json!([]), "a township reviewer grants nothing");

    let users = county.ok_get("/api/v1/users?q=officer-a").await;
    let officer = users[0]["id"].as_str().expect("officer-a").to_owned();
    // The township reviewer reaching for the county: refused, and nothing changed.
    let (status, body) = township
        .post(&format!("/api/v1/users/{officer}/roles"), json!({"role": "county", "region_code": COUNTY}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("grant_not_allowed")), "{body}");
    let (status, body) = township
        .post(
            "/api/v1/users",
            json!({"username": "county-2", "name": "县二", "password": PASSWORD,
                   "roles": [{"role": "county", "region_code": COUNTY}]}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // The county cannot make another county office either (its own rank).
    let (status, body) =
        county.post(&format!("/api/v1/users/{officer}/roles"), json!({"role": "county", "region_code": COUNTY})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("grant_not_allowed")), "{body}");
    let after = county.ok_get("/api/v1/users?q=officer-a").await;
    assert_eq!(after[0]["roles"], json!([{"role": "officer", "region_code": TOWNSHIP}]), "{after}");
    assert_eq!(county.get("/api/v1/users?q=county-2").await.1, json!([]), "no county-2");
    // What the county is offered it may do.
    let (status, body) = county
        .post(&format!("/api/v1/users/{officer}/roles"), json!({"role": "township", "region_code": TOWNSHIP}))
        .await;
    assert_eq!(status, 204, "{body}");
}

on_both_backends!(the_county_makes_a_township_reviewer, no_one_grants_more_than_they_hold);
