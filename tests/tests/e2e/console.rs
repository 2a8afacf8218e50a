//! The office console (console/, embedded in the server) in a real Chromium at an office
//! PC's 1366×768, on both backends: the login page at `/`, a wrong password refused in
//! Chinese, the county's 工作台 with the 待办 the server counts, the menu a village team
//! sees, the household table paged with masked ID numbers, a household's members, and
//! signing out. Screenshots go to target/test-artifacts/console-*.png. And the API
//! document the console's types are generated from holds every schema it references.

use crate::browser::{Browser, click, count_when, element, sign_in, text_when, type_into};
use crate::harness::*;
use crate::on_both_backends;
use fantoccini::Locator;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::{Value, json};
use uuid::Uuid;

const COUNTY: &str = "320703000000";
const VILLAGE_1: &str = "320703001001";

/// Households the officer creates in 东村: more than one page of 20.
const HOUSEHOLDS: usize = 23;

async fn the_console_serves_the_office_jobs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let officer = app.phone("officer-a", "console-phone").await;
    let mut households = Vec::new();
    for _ in 0..HOUSEHOLDS {
        households.push(create_household(&officer, VILLAGE_1, 1).await.0);
    }
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    // Something for the village team to sign, and a campaign for the 工作台's chart.
    county.ok_post("/api/v1/cases", json!({"household_id": households[0], "kind": "identify"})).await;
    county.ok_post("/api/v1/campaigns/from-template", json!({"region_code": COUNTY, "year": 2026})).await;
    // The heads' ID numbers, whole: the list must show each only masked.
    let mut heads = Vec::new();
    for h in &households {
        let record = county.household(*h).await;
        let members = record["member"].as_array().expect("members");
        let head = members.iter().find(|m| m["relation"] == "head").expect("a head");
        heads.push(head["id_number"].as_str().expect("id number").to_owned());
    }

    let browser = Browser::start_desktop().await;
    let client = &browser.client;

    // The root of the server is the console, and without a session it is the login page.
    client.goto(&format!("{}/", app.base)).await.expect("open /");
    let path = browser.wait_for_path("/login").await;
    assert_eq!(path, "/login", "/ leads to the login page");
    let title = text_when(client, ".login-title", |t| !t.is_empty()).await;
    assert_eq!(title, "用户登录");
    browser.screenshot(&format!("console-login-{backend:?}")).await;

    // A wrong password: the server's refusal, in Chinese, on the form.
    sign_in(&browser, &app.base, "county", "not-the-password").await;
    let error = text_when(client, "#login-error", |t| !t.is_empty()).await;
    assert!(error.contains("用户名或密码错误"), "the refusal in Chinese: {error:?}");
    assert_eq!(browser.wait_for_path("/login").await, "/login");
    browser.screenshot(&format!("console-login-refused-{backend:?}")).await;

    // The county lands on 工作台 with the 待办 the server counts for it.
    sign_in(&browser, &app.base, "county", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    let inbox = county.ok_get("/api/v1/inbox").await;
    let items = inbox["items"].as_array().expect("inbox items");
    assert!(items.iter().any(|i| i["count"].as_i64().unwrap_or(0) > 0), "the county has something to do: {inbox}");
    let shown =
        text_when(client, "#inbox", |t| items.iter().all(|i| t.contains(i["title_zh"].as_str().unwrap_or("?")))).await;
    for item in items {
        let kind = item["kind"].as_str().expect("kind");
        let count = text_when(client, &format!(".inbox-count[data-kind='{kind}']"), |t| !t.is_empty()).await;
        assert_eq!(count, item["count"].to_string(), "{kind} in the 待办: {shown}");
    }
    let menu = text_when(client, "#main-menu", |t| t.contains("系统管理")).await;
    for area in ["工作台", "贫困户管理", "动态管理", "公示公告", "数据比对", "统计报表", "督查与提醒", "系统管理"]
    {
        assert!(menu.contains(area), "the county's menu has {area}: {menu}");
    }
    let header = text_when(client, "#user-scope", |t| t.contains("测试县")).await;
    assert!(header.contains("县扶贫办") && header.contains("测试县"), "the header names the scope: {header}");
    // The chart has drawn (a canvas inside the progress card).
    assert_eq!(count_when(client, "#progress canvas", 1).await, 1, "the campaign progress chart");
    browser.screenshot(&format!("console-home-county-{backend:?}")).await;

    // 贫困户管理: 20 to a page, the total, ID numbers masked.
    click(client, "#main-menu [data-area='households']").await;
    assert_eq!(browser.wait_for_path("/households").await, "/households");
    let total = text_when(client, "#household-total", |t| t.contains(&HOUSEHOLDS.to_string())).await;
    assert_eq!(total, format!("共 {HOUSEHOLDS} 户"));
    assert_eq!(count_when(client, "#household-table .el-table__body tr", 20).await, 20, "a page of 20");
    let table = text_when(client, "#household-table", |t| !t.is_empty()).await;
    for whole in &heads {
        assert!(!table.contains(whole.as_str()), "no whole ID number in the list: {whole}");
    }
    let masked: Vec<String> = heads.iter().map(|id| jingzhun_mobile_api::validate::mask_id_number(id)).collect();
    let shown = client.find_all(Locator::Css("#household-table .id-number")).await.expect("ID cells");
    assert_eq!(shown.len(), 20);
    for cell in shown {
        let text = cell.text().await.expect("cell text");
        assert!(text.contains("********") && masked.contains(&text), "a head's ID number, masked: {text:?}");
    }
    browser.screenshot(&format!("console-households-{backend:?}")).await;

    // A whole ID number finds its household (and only it); 重置 lists them all again.
    type_into(client, "#household-q", &heads[5]).await;
    click(client, "#household-search").await;
    assert_eq!(text_when(client, "#household-total", |t| t == "共 1 户").await, "共 1 户", "search by ID number");
    assert_eq!(count_when(client, "#household-table .el-table__body tr", 1).await, 1);
    let found = text_when(client, "#household-table .id-number", |t| !t.is_empty()).await;
    assert_eq!(found, jingzhun_mobile_api::validate::mask_id_number(&heads[5]));
    click(client, "#household-reset").await;
    let total = text_when(client, "#household-total", |t| t.contains(&HOUSEHOLDS.to_string())).await;
    assert_eq!(total, format!("共 {HOUSEHOLDS} 户"));
    click(client, ".el-pagination .btn-next").await;
    assert_eq!(
        count_when(client, "#household-table .el-table__body tr", HOUSEHOLDS - 20).await,
        HOUSEHOLDS - 20,
        "the second page"
    );

    // A household: its members, with their names.
    click(client, "#household-table .household-link").await;
    let path = browser.wait_for_path("/households/").await;
    let id = path.trim_start_matches("/households/").to_owned();
    let record = county.household(id.parse().expect("a household id in the path")).await;
    click(client, "#tab-members").await;
    let names: Vec<String> = record["member"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["name"].as_str().expect("name").to_owned())
        .collect();
    let members = text_when(client, "#member-table", |t| names.iter().all(|n| t.contains(n.as_str()))).await;
    assert_eq!(count_when(client, "#member-table .el-table__body tr", names.len()).await, names.len());
    for name in &names {
        assert!(members.contains(name.as_str()), "member {name} shown: {members}");
    }
    browser.screenshot(&format!("console-household-{backend:?}")).await;

    // 退出: back to the login page, and the session is gone.
    click(client, "#logout").await;
    assert_eq!(browser.wait_for_path("/login").await, "/login");
    client.goto(&format!("{}/households", app.base)).await.expect("open a page after signing out");
    assert_eq!(browser.wait_for_path("/login").await, "/login", "signed out: no page without signing in");

    // A village team: no 系统管理 in its menu, and its own 待办.
    sign_in(&browser, &app.base, "village-1", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    let menu = text_when(client, "#main-menu", |t| t.contains("贫困户管理")).await;
    assert!(menu.contains("公示公告"), "the village team publishes notices: {menu}");
    assert!(!menu.contains("系统管理"), "no 系统管理 for a village team: {menu}");
    assert!(menu.contains("数据比对"), "the village team decides its households' leads: {menu}");
    assert_eq!(count_when(client, "#main-menu [data-area='system']", 0).await, 0);
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let inbox: Value = village.ok_get("/api/v1/inbox").await;
    let waiting: i64 = inbox["items"].as_array().expect("items").iter().filter_map(|i| i["count"].as_i64()).sum();
    assert!(waiting >= 1, "the identification waits for the village team: {inbox}");
    browser.screenshot(&format!("console-home-village-{backend:?}")).await;
    // The 待办 leads into 动态管理's cases, those waiting for this team's sign-off.
    click(client, "#inbox .el-link").await;
    assert_eq!(browser.wait_for_path("/cases").await, "/cases");
    let total = text_when(client, "#case-total", |t| t == "共 1 件").await;
    assert_eq!(total, "共 1 件", "the identification waiting at the village team's step");
    browser.close().await;
}

/// An identification at the township's step (数据比对): signed by the officer and the
/// village team through the API, so it waits for the township.
async fn case_at_the_township(app: &TestApp) -> (Uuid, String) {
    let officer = app.phone("officer-a", &format!("phone-{}", Uuid::new_v4())).await;
    let (household, _) = create_household(&officer, VILLAGE_1, 1).await;
    let [officer, village, ..] = users(app).await;
    let case = village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("case id").to_owned();
    for (step, who) in [("application", &officer), ("home_verification", &village)] {
        let (status, body) = pass_step(app, who, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    (household, case)
}

/// A township reviewer's day: 工作台 → the 待办 → the cases waiting for them (only
/// theirs: a case at the village team's step is not listed) → the case page, signed with
/// a comment, and the case is at the next step by the API. The village team opening the
/// same case gets no 签字 button (the server gives it no action there).
async fn a_township_user_signs_a_case_from_the_inbox(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (household, case) = case_at_the_township(&app).await;
    // Another case, still at the village team's step: not the township's to sign.
    let phone = app.phone("officer-a", "phone-other").await;
    let (other, _) = create_household(&phone, VILLAGE_1, 0).await;
    let [_, village, township, _] = users(&app).await;
    village.ok_post("/api/v1/cases", json!({"household_id": other, "kind": "identify"})).await;
    let mine = township.ok_get("/api/v1/case-summaries?waiting=mine").await;
    assert_eq!(mine["total"], 1, "one case waits for the township: {mine}");
    assert_eq!(mine["items"][0]["id"], case.as_str());
    let all = township.ok_get("/api/v1/case-summaries").await;
    assert_eq!(all["total"], 2, "both open cases are in the township's scope: {all}");
    let at_comparison = township.ok_get("/api/v1/case-summaries?kind=identify&step=comparison").await;
    assert_eq!(at_comparison["total"], 1, "{at_comparison}");
    assert_eq!(township.ok_get("/api/v1/case-summaries?kind=exit").await["total"], 0);
    assert_eq!(township.ok_get("/api/v1/case-summaries?status=completed").await["total"], 0);
    let other_village = township.ok_get(&format!("/api/v1/case-summaries?region_code={VILLAGE_2}")).await;
    assert_eq!(other_village["total"], 0, "none in 西村: {other_village}");
    let village_mine = village.ok_get("/api/v1/case-summaries?waiting=mine").await;
    assert_eq!(village_mine["total"], 1, "the village team's own step only: {village_mine}");
    assert_ne!(village_mine["items"][0]["id"], case.as_str());
    let head = &township.household(household).await["member"];
    let head = head.as_array().expect("members").iter().find(|m| m["relation"] == "head").expect("head").clone();
    let head_id = head["id_number"].as_str().expect("id number");

    let browser = Browser::start_desktop().await;
    let client = &browser.client;
    sign_in(&browser, &app.base, "township-1", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    let count = text_when(client, ".inbox-count[data-kind='cases_to_sign']", |t| t == "1").await;
    assert_eq!(count, "1");
    click(client, "#inbox .el-link").await;
    assert_eq!(browser.wait_for_path("/cases").await, "/cases");
    let url = client.current_url().await.expect("url");
    assert!(url.query().unwrap_or_default().contains("waiting=mine"), "the list is filtered to theirs: {url}");
    assert_eq!(text_when(client, "#case-total", |t| t == "共 1 件").await, "共 1 件");
    assert_eq!(count_when(client, "#case-table .el-table__body tr", 1).await, 1);
    let step = text_when(client, "#case-table .case-step", |t| !t.is_empty()).await;
    assert_eq!(step, "数据比对");
    let masked = text_when(client, "#case-table .id-number", |t| !t.is_empty()).await;
    assert_eq!(masked, jingzhun_mobile_api::validate::mask_id_number(head_id), "the head's ID number masked");
    browser.screenshot(&format!("console-cases-waiting-{backend:?}")).await;

    click(client, "#case-table .case-link").await;
    assert_eq!(browser.wait_for_path(&format!("/cases/{case}")).await, format!("/cases/{case}"));
    let steps = text_when(client, "#case-steps", |t| t.contains("village-1")).await;
    assert!(steps.contains("农户申请") && steps.contains("入户核实") && steps.contains("数据比对"), "{steps}");
    assert!(steps.contains("officer-a") && steps.contains("village-1"), "who signed each step: {steps}");
    let household_text = text_when(client, "#case-household", |t| t.contains("********")).await;
    assert!(!household_text.contains(head_id), "no whole ID number on the case page: {household_text}");
    assert_eq!(count_when(client, "#action-approve", 1).await, 1, "the township may sign");
    assert_eq!(count_when(client, "#action-resubmit", 0).await, 0);
    browser.screenshot(&format!("console-case-{backend:?}")).await;
    click(client, "#action-approve").await;
    type_into(client, "#action-comment", "比对无异常，同意").await;
    browser.screenshot(&format!("console-case-sign-dialog-{backend:?}")).await;
    click(client, "#action-confirm").await;
    let now = text_when(client, "#case-step", |t| t == "民主评议").await;
    assert_eq!(now, "民主评议", "the page shows the next step");
    let comments = text_when(client, "#signoff-table", |t| t.contains("比对无异常，同意")).await;
    assert!(comments.contains("township-1"), "{comments}");
    let view = township.ok_get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(view["step"], "village_assessment", "moved on: {view}");
    let signed = view["signoffs"].as_array().expect("signoffs").last().expect("a sign-off").clone();
    assert_eq!((signed["step"].as_str(), signed["comment"].as_str()), (Some("comparison"), Some("比对无异常，同意")));
    // The village's step is not the township's to sign; having signed (frozen at the
    // township), it may still send the case back.
    assert_eq!(view["actions"], json!(["reopen"]), "no sign-off for the township at the village's step: {view}");
    browser.screenshot(&format!("console-case-signed-{backend:?}")).await;
    browser.close().await;

    // The village team on a case at the township's step: no button, and the API agrees.
    let (_, at_township) = case_at_the_township(&app).await;
    let view = village.ok_get(&format!("/api/v1/cases/{at_township}")).await;
    assert!(!view["actions"].as_array().expect("actions").iter().any(|a| a == "approve"), "{view}");
    let browser = Browser::start_desktop().await;
    let client = &browser.client;
    sign_in(&browser, &app.base, "village-1", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    client.goto(&format!("{}/cases/{at_township}", app.base)).await.expect("open the case");
    assert_eq!(text_when(client, "#case-step", |t| !t.is_empty()).await, "数据比对");
    element(client, "#case-actions").await;
    assert_eq!(
        count_when(client, "#action-approve", 0).await,
        0,
        "no 签字 for the village team at the township's step"
    );
    assert_eq!(count_when(client, "#action-reject", 0).await, 0);
    browser.screenshot(&format!("console-case-village-no-sign-{backend:?}")).await;
    browser.close().await;
}

/// An exit the household does not qualify for (住房安全 unmet): the village team presses
/// 签字通过 and reads the server's refusal, in Chinese, with the unmet condition.
async fn a_refused_exit_is_shown_in_chinese(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-exit").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    let [_, village, _, county] = users(&app).await;
    let identify = county.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    pass_every_step(&app, identify["id"].as_str().expect("id")).await;
    let version = app.admin.household(household).await["household"]["version"].as_i64().expect("version");
    let secure = json!({"food_clothing_secure": true, "education_secure": true, "medical_secure": true, "housing_secure": false, "water_secure": true});
    let res = push(&phone, vec![changeset(vec![change("household", household, Op::Update, version, secure)])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);
    let case = village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "exit"})).await;
    let case = case["id"].as_str().expect("id").to_owned();

    let browser = Browser::start_desktop().await;
    let client = &browser.client;
    sign_in(&browser, &app.base, "village-1", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    client.goto(&format!("{}/cases/{case}", app.base)).await.expect("open the case");
    click(client, "#action-approve").await;
    type_into(client, "#action-comment", "申请脱贫").await;
    click(client, "#action-confirm").await;
    let refusal = text_when(client, "#action-refusal", |t| !t.is_empty()).await;
    assert!(refusal.contains("住房"), "the unmet condition, in Chinese: {refusal}");
    assert!(
        refusal.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) && !refusal.contains("exit_refused"),
        "{refusal}"
    );
    browser.screenshot(&format!("console-case-exit-refused-{backend:?}")).await;
    browser.close().await;
    let view = village.ok_get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!((view["step"].as_str(), view["status"].as_str()), (Some("application"), Some("open")), "{view}");
}

/// A session left idle past `auth.console_idle_minutes` (by the server's clock): the next
/// page the user opens sends them to 登录 with the server's reason, in Chinese.
async fn an_idle_session_returns_to_login_with_the_reason(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let browser = Browser::start_desktop().await;
    let client = &browser.client;
    sign_in(&browser, &app.base, "county", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    element(client, "#main-menu [data-area='households']").await;
    let idle = app.state.config.auth.console_idle_minutes;
    app.clock.advance(chrono::Duration::minutes(idle + 1));
    click(client, "#main-menu [data-area='households']").await;
    assert_eq!(browser.wait_for_path("/login").await, "/login", "an idle session ends at the next request");
    let reason = text_when(client, "#login-expired", |t| !t.is_empty()).await;
    assert_eq!(reason, "长时间未操作，请重新登录");
    browser.screenshot(&format!("console-session-expired-{backend:?}")).await;
    browser.close().await;
}

/// The console's API types are generated from the OpenAPI document (openapi-typescript),
/// which refuses a document with a `$ref` to a schema it does not hold: every reference
/// must resolve.
async fn every_schema_reference_in_the_api_document_resolves(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document: Value =
        reqwest::get(format!("{}/api/openapi.json", app.base)).await.expect("openapi").json().await.expect("json");
    let schemas = document["components"]["schemas"].as_object().expect("components.schemas");
    let text = document.to_string();
    let prefix = "#/components/schemas/";
    let mut dangling: Vec<&str> = text
        .match_indices(prefix)
        .map(|(at, _)| {
            let name = &text[at + prefix.len()..];
            &name[..name.find('"').expect("a quoted reference")]
        })
        .filter(|name| !schemas.contains_key(*name))
        .collect();
    dangling.sort_unstable();
    dangling.dedup();
    assert!(dangling.is_empty(), "schemas referenced but not in components: {dangling:?}");
    // openapi-typescript keys operations by id: two routes sharing one get one type.
    let mut ids = std::collections::BTreeMap::<&str, Vec<String>>::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if let Some(id) = operation["operationId"].as_str() {
                ids.entry(id).or_default().push(format!("{method} {path}"));
            }
        }
    }
    assert!(ids.len() > 100, "the operations are read: {}", ids.len());
    let shared: Vec<_> = ids.iter().filter(|(_, routes)| routes.len() > 1).collect();
    assert!(shared.is_empty(), "operation ids used by more than one route: {shared:?}");
}

on_both_backends!(
    the_console_serves_the_office_jobs,
    an_idle_session_returns_to_login_with_the_reason,
    every_schema_reference_in_the_api_document_resolves,
    a_township_user_signs_a_case_from_the_inbox,
    a_refused_exit_is_shown_in_chinese
);
