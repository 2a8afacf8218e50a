//! Issue 12's "accessible: labels on every form field, keyboard-usable, readable at 200%
//! zoom", and "usable on a phone", in a real Chromium on both backends: on each main
//! screen (login, 工作台, 贫困户管理 list and household page, 动态管理 list and case)
//! every visible input, select, textarea and button has an accessible name; the login and
//! the menu are done with the keyboard alone; at 200% zoom (an office PC's 1366×768 at
//! 683×384 CSS pixels) and on a 390-px phone the page body never scrolls sideways and
//! the menu is a drawer. Every other area (公示公告, 数据比对, 统计报表, 督查与提醒, 系统管理,
//! the household page's tabs) and its main dialog is visited once at 200% as well: named
//! controls, links Tab reaches, no sideways scroll, no table squeezed to a sliver.
//! Screenshots: target/test-artifacts/console-access-*.png.
//! Only reads and looks: every write here goes through the API.

use crate::browser::{Browser, click, count_when, element, text_when};
use crate::harness::*;
use crate::on_both_backends;
use fantoccini::Client;
use fantoccini::key::Key;
use serde_json::{Value, json};

const VILLAGE_1: &str = "320703001001";

/// The visible form controls, buttons, links, tabs and images that have no accessible
/// name (WAI-ARIA's simple cases: aria-labelledby, aria-label, a label for the id or
/// around the control, named by its text or its own aria-label as Element Plus's row
/// checkboxes are, a title; for a button, link or tab its text; for an image an alt,
/// empty when it only decorates), each as a short description.
const UNNAMED: &str = r#"
const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
const text = (e) => (e.textContent || '').trim();
const named = (e) => {
  const by = e.getAttribute('aria-labelledby');
  if (by && by.split(/\s+/).some((id) => { const l = document.getElementById(id); return l && text(l); })) return true;
  if ((e.getAttribute('aria-label') || '').trim()) return true;
  if (e.id && [...document.querySelectorAll('label')].some((l) => l.htmlFor === e.id && text(l))) return true;
  const around = e.closest('label');
  if (around && (text(around) || (around.getAttribute('aria-label') || '').trim())) return true;
  if ((e.getAttribute('title') || '').trim()) return true;
  if (e.tagName === 'IMG') return (e.getAttribute('alt') ?? null) !== null;
  if (['BUTTON', 'A'].includes(e.tagName) || ['button', 'link', 'tab', 'menuitem'].includes(e.getAttribute('role'))) return !!text(e);
  return false;
};
return [...document.querySelectorAll('input, select, textarea, button, a[href], img, [role=button], [role=combobox], [role=link], [role=tab], [role=menuitem], [role=switch], [role=checkbox], [role=radio]')]
  .filter((e) => e.type !== 'hidden' && visible(e) && !named(e))
  .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} in ${(e.closest('[id]') || document.body).id || 'body'}: ${e.outerHTML.slice(0, 160)}`);
"#;

/// Whether the page body is wider than the window (it would scroll sideways).
const OVERFLOW: &str = r#"
const d = document.documentElement;
return { scroll: Math.max(d.scrollWidth, document.body.scrollWidth), client: d.clientWidth };
"#;

/// The open dialogs (and drawers) that do not fit inside the window's width.
const WIDE_DIALOGS: &str = r#"
const width = document.documentElement.clientWidth;
return [...document.querySelectorAll('.el-dialog, .el-drawer, .el-message-box')]
  .filter((e) => e.getClientRects().length > 0)
  .map((e) => [e, e.getBoundingClientRect()])
  .filter(([, r]) => r.left < -1 || r.right > width + 1)
  .map(([e, r]) => `${(e.textContent || '').trim().slice(0, 30)}: ${Math.round(r.left)}..${Math.round(r.right)} px`);
"#;

/// The boxes that scroll inside themselves (a table's body, a tree, a sheet) squeezed
/// under 100 px high while their content is taller: at 200% zoom a row or two, hardly
/// readable, in a page that could simply scroll.
const SQUEEZED: &str = r#"
return [...document.querySelectorAll('.el-table__body-wrapper .el-scrollbar__wrap, .tree-pane, .sheet-wrap')]
  .filter((e) => e.getClientRects().length > 0 && e.clientHeight < 100 && e.scrollHeight > e.clientHeight + 4)
  .map((e) => `${(e.closest('[id]') || document.body).id || e.className}: ${e.clientHeight} of ${e.scrollHeight} px`);
"#;

/// The visible links the keyboard cannot reach (Element Plus's el-link without an href is
/// an `a` that Tab skips and Enter cannot follow).
const UNREACHABLE: &str = r#"
return [...document.querySelectorAll('a:not([href])')]
  .filter((e) => e.getClientRects().length > 0 && (!e.hasAttribute('tabindex') || e.tabIndex < 0))
  .map((e) => `${(e.closest('[id]') || document.body).id || 'body'}: ${e.outerHTML.slice(0, 120)}`);
"#;

async fn unnamed(client: &Client) -> Vec<String> {
    let found = client.execute(UNNAMED, vec![]).await.expect("run the label check");
    serde_json::from_value(found).expect("a list")
}

async fn assert_named(client: &Client, screen: &str) {
    let missing = unnamed(client).await;
    assert!(missing.is_empty(), "{screen}: controls without an accessible name:\n{}", missing.join("\n"));
}

async fn assert_no_sideways_scroll(client: &Client, screen: &str) {
    // Let the layout settle after the data arrived.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let size: Value = client.execute(OVERFLOW, vec![]).await.expect("measure");
    let (scroll, width) = (size["scroll"].as_i64().unwrap_or(0), size["client"].as_i64().unwrap_or(0));
    assert!(scroll <= width, "{screen}: the page is {scroll} px wide in a {width}-px window");
}

/// Presses `key` on whatever has the focus.
async fn press(client: &Client, key: impl Into<char>) {
    let focused = client.active_element().await.expect("the focused element");
    focused.send_keys(&key.into().to_string()).await.expect("press a key");
}

/// The id (or the menu area) of the focused element.
async fn focused(client: &Client) -> String {
    let found = client
        .execute(
            "const e = document.activeElement; return e.dataset.area ? 'area:' + e.dataset.area : (e.id || e.tagName);",
            vec![],
        )
        .await
        .expect("the focused element");
    found.as_str().unwrap_or_default().to_owned()
}

/// Presses Tab until the focus is on `want` (an id, or `area:…`), at most `max` times.
async fn tab_to(client: &Client, want: &str, max: usize) -> bool {
    for _ in 0..max {
        press(client, Key::Tab).await;
        if focused(client).await == want {
            return true;
        }
    }
    false
}

async fn a_clerk_uses_the_console_with_the_keyboard_zoomed_and_on_a_phone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let officer = app.phone("officer-a", "access-phone").await;
    let mut households = Vec::new();
    for _ in 0..3 {
        households.push(create_household(&officer, VILLAGE_1, 1).await.0);
    }
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let case = county.ok_post("/api/v1/cases", json!({"household_id": households[0], "kind": "identify"})).await;
    let case = case["id"].as_str().expect("case id").to_owned();

    // An office PC, keyboard only: Tab to the user name, type, Tab, type, Enter.
    let browser = Browser::start_desktop().await;
    let client = &browser.client;
    client.goto(&format!("{}/login", app.base)).await.expect("open the login page");
    element(client, "#username").await;
    assert_named(client, "登录").await;
    assert!(tab_to(client, "username", 6).await, "Tab reaches the user name (at {})", focused(client).await);
    press(client, 'c').await;
    client.active_element().await.expect("focus").send_keys("ounty").await.expect("type");
    assert!(tab_to(client, "password", 1).await, "Tab goes on to the password (at {})", focused(client).await);
    client.active_element().await.expect("focus").send_keys(PASSWORD).await.expect("type");
    press(client, Key::Enter).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home", "Enter signs in");

    // 工作台: named controls; the menu by keyboard (Tab onto an area, Enter).
    text_when(client, "#inbox", |t| t.contains("案件")).await;
    assert_named(client, "工作台").await;
    client.execute("document.activeElement.blur(); window.scrollTo(0, 0)", vec![]).await.expect("blur");
    assert!(tab_to(client, "area:home", 4).await, "Tab reaches the menu (at {})", focused(client).await);
    assert!(tab_to(client, "area:households", 1).await, "Tab moves on in the menu (at {})", focused(client).await);
    press(client, Key::Enter).await;
    assert_eq!(browser.wait_for_path("/households").await, "/households", "Enter opens 贫困户管理");

    // 贫困户管理, the household page, 动态管理 and a case: every control named.
    text_when(client, "#household-total", |t| t.contains('3')).await;
    assert_named(client, "贫困户管理").await;
    click(client, "#household-table .household-link").await;
    browser.wait_for_path("/households/").await;
    element(client, "#tab-members").await;
    assert_named(client, "户页").await;
    client.goto(&format!("{}/cases", app.base)).await.expect("open the cases");
    text_when(client, "#case-total", |t| t.contains('1')).await;
    assert_named(client, "动态管理").await;
    client.goto(&format!("{}/cases/{case}", app.base)).await.expect("open the case");
    text_when(client, "#case-steps", |t| !t.is_empty()).await;
    assert_named(client, "案件").await;

    // 200% zoom: the same PC shows 683×384 CSS pixels. The menu is a drawer behind a
    // named button, and no page scrolls sideways (tables scroll inside themselves).
    client.set_window_size(683, 384 + window_chrome(client).await).await.expect("zoom to 200%");
    for (path, ready) in [("/home", "#inbox"), ("/households", "#household-table"), ("/cases", "#case-table")] {
        client.goto(&format!("{}{path}", app.base)).await.expect("open a page");
        element(client, ready).await;
        assert_eq!(count_when(client, ".aside", 0).await, 0, "{path} at 200%: no fixed menu column");
        assert_no_sideways_scroll(client, &format!("{path} at 200%")).await;
        assert_named(client, &format!("{path} at 200%")).await;
    }
    browser.screenshot(&format!("console-access-200-cases-{backend:?}")).await;
    client.goto(&format!("{}/households", app.base)).await.expect("open 贫困户管理");
    text_when(client, "#household-total", |t| t.contains('3')).await;
    browser.screenshot(&format!("console-access-200-households-{backend:?}")).await;
    // The drawer opens from the header and its menu leads on.
    click(client, "#menu-open").await;
    click_when_shown(client, "#main-menu [data-area='cases']").await;
    assert_eq!(browser.wait_for_path("/cases").await, "/cases");
    assert!(hidden_when(client, "#main-menu").await, "the drawer closes on a choice");
    browser.close().await;

    // A village team's phone: the 工作台, 贫困户管理 and a household at 390 px.
    let phone = Browser::start().await;
    let client = &phone.client;
    crate::browser::sign_in(&phone, &app.base, "village-1", PASSWORD).await;
    assert_eq!(phone.wait_for_path("/home").await, "/home");
    text_when(client, "#inbox", |t| !t.is_empty()).await;
    assert_no_sideways_scroll(client, "工作台 on a phone").await;
    phone.screenshot(&format!("console-access-phone-home-{backend:?}")).await;
    click(client, "#menu-open").await;
    element(client, "#main-menu [data-area='households']").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    phone.screenshot(&format!("console-access-phone-menu-{backend:?}")).await;
    click_when_shown(client, "#main-menu [data-area='households']").await;
    assert_eq!(phone.wait_for_path("/households").await, "/households");
    text_when(client, "#household-total", |t| t.contains('3')).await;
    assert_no_sideways_scroll(client, "贫困户管理 on a phone").await;
    assert_named(client, "贫困户管理 on a phone").await;
    phone.screenshot(&format!("console-access-phone-households-{backend:?}")).await;
    client.goto(&format!("{}/cases/{case}", app.base)).await.expect("open the case");
    text_when(client, "#case-steps", |t| !t.is_empty()).await;
    assert_no_sideways_scroll(client, "案件 on a phone").await;
    phone.screenshot(&format!("console-access-phone-case-{backend:?}")).await;
    phone.close().await;
}

/// Clicks `css` once the drawer it is in has slid open (until then it cannot be clicked).
async fn click_when_shown(client: &Client, css: &str) {
    let mut last = String::new();
    for _ in 0..50 {
        match element(client, css).await.click().await {
            Ok(_) => return,
            Err(err) => last = err.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("could not click {css}: {last}");
}

/// Whether `css` is (or becomes, within five seconds) out of sight.
async fn hidden_when(client: &Client, css: &str) -> bool {
    let script = format!("const e = document.querySelector(\"{css}\"); return !e || e.getClientRects().length === 0;");
    for _ in 0..50 {
        if client.execute(&script, vec![]).await.expect("look").as_bool() == Some(true) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// The height the browser's own frame takes from the window (zero when headless), so the
/// page gets the CSS pixels asked for.
async fn window_chrome(client: &Client) -> u32 {
    let sizes = client.execute("return window.outerHeight - window.innerHeight", vec![]).await.expect("sizes");
    sizes.as_u64().unwrap_or(0) as u32
}

async fn open(client: &Client, base: &str, path: &str) {
    client.goto(&format!("{base}{path}")).await.expect("open a page");
}

/// What one look at a screen found wrong: unnamed controls and sideways scroll.
async fn problems_on(client: &Client, screen: &str) -> Vec<String> {
    let mut found: Vec<String> = unnamed(client).await.into_iter().map(|m| format!("{screen}: unnamed {m}")).collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let size: Value = client.execute(OVERFLOW, vec![]).await.expect("measure");
    let (scroll, width) = (size["scroll"].as_i64().unwrap_or(0), size["client"].as_i64().unwrap_or(0));
    if scroll > width {
        found.push(format!("{screen}: the page is {scroll} px wide in a {width}-px window"));
    }
    let squeezed: Value = client.execute(SQUEEZED, vec![]).await.expect("measure the scroll boxes");
    for scroller in squeezed.as_array().into_iter().flatten() {
        found.push(format!("{screen}: a scroll box is squeezed: {scroller}"));
    }
    let unreachable: Value = client.execute(UNREACHABLE, vec![]).await.expect("look for links");
    for link in unreachable.as_array().into_iter().flatten() {
        found.push(format!("{screen}: a link Tab never reaches: {link}"));
    }
    // A dialog scrolls in its own overlay, not the body: it must fit the window itself.
    let wide: Value = client.execute(WIDE_DIALOGS, vec![]).await.expect("measure the dialogs");
    for dialog in wide.as_array().into_iter().flatten() {
        found.push(format!("{screen}: a dialog reaches past the window: {dialog}"));
    }
    found
}

/// The county clerk at 200% zoom visits every other area once (工作台's 待办, 公示公告, 数据比对, 统计报表,
/// 督查与提醒, 系统管理, the household page's tabs) and opens each area's main form; every
/// problem is gathered so that one run names them all.
async fn every_area_is_named_and_fits_at_200_percent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let officer = app.phone("officer-a", "access-areas").await;
    let mut households = Vec::new();
    for _ in 0..3 {
        households.push(create_household(&officer, VILLAGE_1, 1).await.0);
    }
    // A registered household whose head is on a department's list: one lead to decide.
    app.execute_sql(&format!("UPDATE household SET registered_on = '2015-06-01' WHERE id = '{}'", households[0])).await;
    let record = app.admin.household(households[0]).await;
    let head = record["member"].as_array().expect("members").iter().find(|m| m["relation"] == "head").expect("head")
        ["id_number"]
        .as_str()
        .expect("id")
        .to_owned();
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let csv = format!("姓名,身份证号码,登记日期,价格\n户主,{head},2014-01-10,85000\n");
    let form = reqwest::multipart::Form::new()
        .text("source", "vehicles".to_owned())
        .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("车辆.csv"));
    let (status, body) = county.post_multipart("/api/v1/comparisons", form).await;
    assert_eq!(status, 200, "{body}");
    // A village notice drafted for a case past the village's 民主评议.
    let [officer_api, team, township, _] = users(&app).await;
    let case = team.ok_post("/api/v1/cases", json!({"household_id": households[1], "kind": "identify"})).await;
    let case = case["id"].as_str().expect("case id").to_owned();
    for (step, who) in [
        ("application", &officer_api),
        ("home_verification", &team),
        ("comparison", &township),
        ("village_assessment", &team),
    ] {
        let (status, body) = pass_step(&app, who, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let draft = team.ok_post("/api/v1/notices", json!({"step": "village_notice", "region_code": VILLAGE_1})).await;
    let notice = draft["id"].as_str().expect("notice id").to_owned();
    let officer_id = {
        let users = app.admin.ok_get("/api/v1/users").await;
        let user = users.as_array().expect("users").iter().find(|u| u["username"] == "officer-a").expect("officer");
        user["id"].as_str().expect("id").to_owned()
    };

    let browser = Browser::start_desktop().await;
    let client = &browser.client;
    crate::browser::sign_in(&browser, &app.base, "county", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    client.set_window_size(683, 384 + window_chrome(client).await).await.expect("zoom to 200%");
    let mut problems = Vec::new();

    // 工作台: the 待办's links lead into each area.
    open(client, &app.base, "/home").await;
    element(client, "#inbox .inbox-link").await;
    problems.extend(problems_on(client, "工作台").await);

    // 公示公告: the list, a notice, the objections.
    open(client, &app.base, "/notices").await;
    text_when(client, "#notice-total", |t| !t.is_empty()).await;
    problems.extend(problems_on(client, "公示公告").await);
    browser.screenshot(&format!("console-access-notices-{backend:?}")).await;
    open(client, &app.base, &format!("/notices/{notice}")).await;
    element(client, "#notice-state").await;
    problems.extend(problems_on(client, "公示").await);
    browser.screenshot(&format!("console-access-notice-{backend:?}")).await;
    open(client, &app.base, "/objections").await;
    element(client, "#objection-total").await;
    problems.extend(problems_on(client, "异议").await);

    // 数据比对 and its decide dialog.
    open(client, &app.base, "/comparison").await;
    text_when(client, "#lead-table", |t| t.contains("东村")).await;
    problems.extend(problems_on(client, "数据比对").await);
    browser.screenshot(&format!("console-access-comparison-{backend:?}")).await;
    click(client, "#lead-table .lead-decide").await;
    element(client, "#lead-submit").await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    problems.extend(problems_on(client, "数据比对 核实").await);
    browser.screenshot(&format!("console-access-comparison-decide-{backend:?}")).await;

    // 统计报表.
    open(client, &app.base, "/reports").await;
    element(client, "#report-preview").await;
    problems.extend(problems_on(client, "统计报表").await);
    browser.screenshot(&format!("console-access-reports-{backend:?}")).await;

    // 督查与提醒: the plans (and a new one), notifications, settings.
    open(client, &app.base, "/supervision/campaigns").await;
    element(client, "#campaign-new").await;
    problems.extend(problems_on(client, "工作计划").await);
    click(client, "#campaign-new").await;
    element(client, "#campaign-create").await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    problems.extend(problems_on(client, "新建工作计划").await);
    browser.screenshot(&format!("console-access-campaign-new-{backend:?}")).await;
    for (path, ready) in [("/supervision/notifications", "#log-table"), ("/supervision/settings", "#template-table")] {
        open(client, &app.base, path).await;
        element(client, ready).await;
        problems.extend(problems_on(client, path).await);
    }
    browser.screenshot(&format!("console-access-supervision-settings-{backend:?}")).await;

    // 系统管理: users (新建用户, 授权), regions, settings, and the sync screens (批量转移).
    open(client, &app.base, "/system/users").await;
    text_when(client, "#user-table", |t| t.contains("officer-a")).await;
    problems.extend(problems_on(client, "用户").await);
    browser.screenshot(&format!("console-access-users-{backend:?}")).await;
    click(client, "#user-new").await;
    element(client, "#user-create-save").await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    problems.extend(problems_on(client, "新建用户").await);
    open(client, &app.base, "/system/users").await;
    text_when(client, "#user-table", |t| t.contains("officer-a")).await;
    click(client, "#user-table .user-grants").await;
    element(client, "#grant-close").await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    problems.extend(problems_on(client, "授权").await);
    for (path, ready) in [
        ("/system/regions".to_owned(), ".region-node"),
        ("/system/settings".to_owned(), "#threshold-table"),
        ("/system/devices".to_owned(), "#device-table"),
        ("/system/conflicts".to_owned(), "#conflict-table"),
        ("/system/rejected".to_owned(), "#rejected-table"),
        (format!("/system/assignments?officer_id={officer_id}"), "#assignment-table"),
    ] {
        open(client, &app.base, &path).await;
        element(client, ready).await;
        problems.extend(problems_on(client, &path).await);
    }
    browser.screenshot(&format!("console-access-assignments-{backend:?}")).await;
    click(client, "#assignment-reassign").await;
    element(client, "#reassign-confirm").await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    problems.extend(problems_on(client, "批量转移").await);

    // The household page: every tab, and the record's edit form.
    open(client, &app.base, &format!("/households/{}", households[0])).await;
    element(client, "#tab-members").await;
    for tab in ["members", "living", "income", "help", "assessment", "visits", "audit"] {
        if client.find(fantoccini::Locator::Css(&format!("#tab-{tab}"))).await.is_ok() {
            // At 683 px the tab bar scrolls (arrows at its ends); a script click reaches a tab out of sight.
            client
                .execute("document.querySelector(arguments[0]).click()", vec![json!(format!("#tab-{tab}"))])
                .await
                .expect("open a tab");
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            problems.extend(problems_on(client, &format!("户页 {tab}")).await);
        }
    }
    open(client, &app.base, &format!("/households/{}", households[0])).await;
    click(client, "#edit-record").await;
    element(client, "#save-household").await;
    problems.extend(problems_on(client, "户页 编辑").await);
    browser.screenshot(&format!("console-access-household-edit-{backend:?}")).await;
    browser.close().await;
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

on_both_backends!(
    a_clerk_uses_the_console_with_the_keyboard_zoomed_and_on_a_phone,
    every_area_is_named_and_fits_at_200_percent
);
