//! The officer app's member changes and new-household applications (issue 13 item 4), in
//! a real Chromium at a phone's size on both backends. Offline, the officer adds a
//! newborn (no ID yet) to one household, reports a death in another and files a new
//! household's application with its head and his wife; each is ONE change set in the
//! outbox and shows as pending on the household page. Back online the server has the
//! member once, two member-change cases with those reasons naming those members, the new
//! household as an applicant with its identify case open at 农户申请, assigned to her so
//! it is one of 我的农户 — and nothing twice after another sync.
//! Screenshots: officer-app-member-add, -member-remove, -apply-village, -apply-head, -apply,
//! -cases-added, -cases-applied, -cases-synced.
//! The screens: `console/app/src/views/edit/{MemberAdd,MemberRemove,Apply}.vue`.

use crate::browser::{Browser, click, count_when, text_when, type_into};
use crate::harness::*;
use crate::officer_app::{count_becomes, meta, officer, sign_in_and_pull};
use crate::on_both_backends;
use fantoccini::Client;
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

on_both_backends!(officer_app_member_changes_and_application, a_phone_lists_the_villages_it_may_file_in);

/// Waits until no popup or overlay is sliding or fading: a tap or a key sent mid-way
/// lands on the overlay, or on a field still off the screen.
async fn settled(client: &Client) {
    let script = r#"return [...document.querySelectorAll('.van-popup, .van-overlay')]
        .every((e) => e.style.display === 'none' || !/(enter|leave)-(from|active|to)/.test(e.className));"#;
    for _ in 0..100 {
        if client.execute(script, vec![]).await.expect("transitions") == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let moving = r#"return [...document.querySelectorAll('.van-popup, .van-overlay')].map((e) => e.className + ' ' + e.style.display);"#;
    panic!("a popup never finished its transition: {}", client.execute(moving, vec![]).await.expect("classes"));
}

/// Picks `option` in the code picker of the catalogue field `field` (its label is the
/// picker's title), as a person does: tap the field, tap the option (the wheel turns to
/// it), 确认.
async fn pick(client: &Client, field: &str, title: &str, option: &str) {
    settled(client).await;
    click(client, field).await;
    let script = r#"
        const [title, option] = arguments;
        const open = [...document.querySelectorAll('.van-popup')].filter((p) =>
            p.style.display !== 'none' && !/leave/.test(p.className) &&
            p.querySelector('.van-picker__title')?.textContent.trim() === title);
        if (open.length !== 1) return 'no picker';
        const item = [...open[0].querySelectorAll('.van-picker-column__item')].find((i) => i.textContent.trim() === option);
        if (!item) return 'no option';
        item.click();
        open[0].querySelector('.van-picker__confirm').click();
        return 'picked';
    "#;
    let mut last = Value::Null;
    for _ in 0..50 {
        last = client.execute(script, vec![json!(title), json!(option)]).await.expect("pick");
        if last == json!("picked") {
            return settled(client).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{title}: could not pick {option}: {last}");
}

/// The value a form input holds.
async fn value_of(client: &Client, css: &str) -> String {
    crate::browser::element(client, css).await.prop("value").await.expect("value").unwrap_or_default()
}

/// Waits until the input `css` holds `want` (a picker's answer is rendered after its popup closes).
async fn value_becomes(client: &Client, css: &str, want: &str) {
    for _ in 0..50 {
        if value_of(client, css).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(value_of(client, css).await, want, "{css}");
}

/// A screenshot of `css` once the popups' transitions have ended.
async fn screenshot_of(browser: &Browser, css: &str, name: &str) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let script = format!("document.querySelector('{css}')?.scrollIntoView({{block: 'start'}})");
    browser.client.execute(&script, vec![]).await.expect("scroll");
    browser.screenshot(name).await;
}

/// Taps the page's 返回/取消 in the nav bar (never a `goto` while offline).
async fn back(client: &Client) {
    click(client, ".van-nav-bar__left").await;
}

async fn officer_app_member_changes_and_application(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    // Her two households in 东村, recorded from her other phone: a head and a son, a head and two sons.
    let other_phone = officer(&app, "li-mei").await;
    let (born_into, _) = create_household(&other_phone, VILLAGE_1, 1).await;
    let (bereaved, bereaved_members) = create_household(&other_phone, VILLAGE_1, 2).await;
    let died = bereaved_members[2];
    let members_before = app.count("SELECT COUNT(*) FROM member").await;

    let browser = Browser::start().await;
    let client = &browser.client;
    sign_in_and_pull(&browser, &app.base, "li-mei", 2).await;
    click(client, &format!("#household-{born_into}")).await;
    assert_eq!(count_when(client, ".member-row", 2).await, 2, "the household page is open");

    // ---- Offline from here: three jobs, each one change set. ----
    browser.offline(true).await;

    // 1. A newborn, registered without an ID number yet (无证件 with the reason).
    click(client, "#add-member").await;
    type_into(client, "#field-name", "王小宝").await;
    pick(client, "#field-sex", "性别", "男").await;
    pick(client, "#field-relation", "与户主关系", "之孙子").await;
    pick(client, "#field-id_type", "证件类型", "无证件").await;
    type_into(client, "#field-no_id_reason", "新生儿尚未办理户口").await;
    pick(client, "#field-health", "健康状况", "健康").await;
    value_becomes(client, "#field-health", "健康").await;
    // The reason is required: refused on the phone, in words, and nothing queued.
    click(client, "#member-add-save").await;
    let refused = text_when(client, "#member-add-error", |t| t.contains("增加原因")).await;
    assert!(refused.contains("增加原因"), "{refused}");
    click(client, "#reason-newborn").await;
    screenshot_of(&browser, "#member-reason", "officer-app-member-add").await;
    click(client, "#member-add-save").await;
    assert_eq!(count_when(client, ".member-row", 3).await, 3, "the newborn is listed at once");
    let tag = text_when(client, ".member-change", |t| !t.is_empty()).await;
    assert_eq!(tag, "增员待同步");
    let cases = text_when(client, "#household-cases", |t| t.contains("新生儿")).await;
    assert!(cases.contains("成员自然增减") && cases.contains("王小宝") && cases.contains("待同步"), "{cases}");
    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 1").await, "待同步 1");
    screenshot_of(&browser, "#household-members", "officer-app-cases-added").await;

    // 2. A death in the other household: a member-change case naming him.
    back(client).await;
    click(client, &format!("#household-{bereaved}")).await;
    assert_eq!(count_when(client, ".member-row", 3).await, 3);
    click(client, &format!("#remove-member-{died}")).await;
    let who = text_when(client, "#member-remove-who", |t| t.contains("成员2")).await;
    assert!(who.contains("成员2") && who.contains("之子"), "the member to remove: {who}");
    click(client, "#reason-death").await;
    type_into(client, "#field-note", "2026年12月病故").await;
    screenshot_of(&browser, "#member-remove-form", "officer-app-member-remove").await;
    click(client, "#member-remove-save").await;
    let row = text_when(client, &format!("#member-{died}"), |t| t.contains("减员")).await;
    assert!(row.contains("减员待同步"), "still listed until the county completes it, marked: {row}");
    assert_eq!(count_when(client, ".member-row", 3).await, 3);
    // One member change at a time per household: a second one is not even offered.
    click(client, &format!("#remove-member-{}", bereaved_members[1])).await;
    let open = text_when(client, "#member-case-open", |t| !t.is_empty()).await;
    assert!(open.contains("已有同类程序在办理中"), "{open}");
    back(client).await;
    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 2").await, "待同步 2");

    // 3. A new household's application in 西村, picked by name from the villages the server
    // listed for her (东村 first: her households are there): the head and his wife.
    back(client).await;
    click(client, "#new-application").await;
    let listed = text_when(client, "#apply-village", |t| t.contains("西村")).await;
    assert!(listed.find("东村") < listed.find("西村") && listed.contains("一号镇"), "{listed}");
    click(client, &format!("#village-{VILLAGE_2}")).await;
    pick(client, "#field-standard", "识别标准", "国家").await;
    pick(client, "#field-kind", "贫困户属性", "一般贫困户").await;
    type_into(client, "#field-address", "西村三组7号").await;
    screenshot_of(&browser, "#apply-form", "officer-app-apply-village").await;
    click(client, "#apply-head").await;
    settled(client).await;
    type_into(client, "#member-popup #field-name", "赵大山").await;
    pick(client, "#member-popup #field-sex", "性别", "男").await;
    type_into(client, "#member-popup #field-id_number", &id_number("19700302", 901)).await;
    pick(client, "#member-popup #field-health", "健康状况", "患有大病").await;
    value_becomes(client, "#member-popup #field-health", "患有大病").await;
    screenshot_of(&browser, "#member-popup", "officer-app-apply-head").await;
    click(client, "#member-done").await;
    settled(client).await;
    let head = text_when(client, "#apply-head", |t| t.contains("赵大山")).await;
    assert!(head.contains("户主"), "{head}");
    click(client, "#apply-add-member").await;
    settled(client).await;
    type_into(client, "#member-popup #field-name", "钱秀英").await;
    pick(client, "#member-popup #field-sex", "性别", "女").await;
    pick(client, "#member-popup #field-relation", "与户主关系", "配偶").await;
    type_into(client, "#member-popup #field-id_number", &id_number("19720415", 902)).await;
    pick(client, "#member-popup #field-health", "健康状况", "健康").await;
    value_becomes(client, "#member-popup #field-health", "健康").await;
    click(client, "#member-done").await;
    settled(client).await;
    assert_eq!(count_when(client, ".apply-member", 1).await, 1);
    screenshot_of(&browser, "#apply-members", "officer-app-apply").await;
    click(client, "#apply-save").await;
    // The new household's page, from the phone's store.
    assert_eq!(count_when(client, ".member-row", 2).await, 2, "the applicant household with its two people");
    let cases = text_when(client, "#household-cases", |t| t.contains("新识别")).await;
    assert!(cases.contains("待同步"), "{cases}");
    let path = browser.wait_for_path("/app/households/").await;
    let applicant: Uuid = path.trim_start_matches("/app/households/").parse().expect("the new household's id");
    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 3").await, "待同步 3");
    screenshot_of(&browser, "#household-members", "officer-app-cases-applied").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM procedure_case").await, 0, "the server has nothing yet");

    // ---- Online: the `online` event syncs. ----
    browser.offline(false).await;
    let newborn_case = format!(
        "SELECT COUNT(*) FROM procedure_case c JOIN member m ON m.id = c.member_id AND m.household_id = c.household_id \
         WHERE c.household_id = '{born_into}' AND c.kind = 'member_change' AND c.reason = 'newborn' \
         AND c.status = 'open' AND m.name = '王小宝' AND m.active AND m.id_type = 'none' AND m.relation = 'grandson'"
    );
    if count_becomes(&app, &newborn_case, 1).await != 1 {
        browser.screenshot("officer-app-cases-not-delivered").await;
        panic!("the newborn and its case did not arrive: {}", meta(&browser).await["last_sync"]);
    }
    let death_case = format!(
        "SELECT COUNT(*) FROM procedure_case WHERE household_id = '{bereaved}' AND kind = 'member_change' \
         AND reason = 'death' AND member_id = '{died}' AND status = 'open' AND note = '2026年12月病故'"
    );
    assert_eq!(count_becomes(&app, &death_case, 1).await, 1, "the death, naming the member");
    let still_listed = format!("SELECT COUNT(*) FROM member WHERE id = '{died}' AND active");
    assert_eq!(app.count(&still_listed).await, 1, "on the register until the county completes the case");
    let applied = format!(
        "SELECT COUNT(*) FROM household WHERE id = '{applicant}' AND region_code = '{VILLAGE_2}' \
         AND status = 'applicant' AND address = '西村三组7号' AND standard = 'national' AND kind = 'general'"
    );
    assert_eq!(count_becomes(&app, &applied, 1).await, 1, "the applicant household");
    let identify = format!(
        "SELECT COUNT(*) FROM procedure_case WHERE household_id = '{applicant}' AND kind = 'identify' \
         AND status = 'open' AND step = 'application' AND opened_by = (SELECT id FROM app_user WHERE username = 'li-mei')"
    );
    assert_eq!(app.count(&identify).await, 1, "its identification, open at 农户申请, filed by her");
    let people = format!(
        "SELECT COUNT(*) FROM member WHERE household_id = '{applicant}' AND active AND \
         ((name = '赵大山' AND relation = 'head' AND health = 'serious_illness') OR (name = '钱秀英' AND relation = 'spouse' AND sex = 'female'))"
    );
    assert_eq!(app.count(&people).await, 2, "the head and his wife");
    let assigned = format!(
        "SELECT COUNT(*) FROM assignment WHERE household_id = '{applicant}' AND end_date IS NULL \
         AND officer_id = (SELECT id FROM app_user WHERE username = 'li-mei')"
    );
    assert_eq!(app.count(&assigned).await, 1, "assigned to the officer who filed it");

    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 0").await, "待同步 0");
    assert_eq!(text_when(client, "#sync-rejected", |t| t.contains("被退回 0")).await.trim(), "被退回 0");
    let cases = text_when(client, "#household-cases", |t| t.contains("农户申请")).await;
    assert!(cases.contains("新识别") && !cases.contains("待同步"), "the case at its first step: {cases}");
    back(client).await;
    assert_eq!(text_when(client, "#household-count", |t| t == "共 3 户").await, "共 3 户", "the applicant is hers");
    let listed = text_when(client, &format!("#household-{applicant}"), |t| t.contains("赵大山")).await;
    assert!(listed.contains("2 人"), "{listed}");
    screenshot_of(&browser, "#household-list", "officer-app-cases-synced").await;

    // Another sync changes nothing on the server.
    click(client, "#sync-bar").await;
    assert_eq!(text_when(client, "#sync-state", |t| t == "已同步").await, "已同步");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = (
        app.count(&newborn_case).await,
        app.count(&death_case).await,
        app.count(&identify).await,
        app.count("SELECT COUNT(*) FROM procedure_case").await,
        app.count("SELECT COUNT(*) FROM member").await,
        app.count("SELECT COUNT(*) FROM household").await,
    );
    assert_eq!(again, (1, 1, 1, 3, members_before + 3, 3), "each exactly once");
    click(client, &format!("#household-{born_into}")).await;
    let tag = text_when(client, ".member-change", |t| t == "增员办理中").await;
    assert_eq!(tag, "增员办理中", "pulled: the case is the server's now");
    assert_eq!(count_when(client, ".member-row", 3).await, 3, "the pulled newborn replaces the local one");
    browser.close().await;
}

/// `GET /api/mobile/v1/villages`: the villages inside the regions of the caller's roles
/// that edit households, with names, and nothing for a role that does not.
async fn a_phone_lists_the_villages_it_may_file_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let villages = |token: String| {
        let base = app.base.clone();
        async move {
            let answer = reqwest::Client::new()
                .get(format!("{base}/api/mobile/v1/villages"))
                .bearer_auth(token)
                .header("x-jingzhun-client-version", "1")
                .send()
                .await
                .expect("villages");
            (answer.status().as_u16(), answer.json::<Value>().await.expect("json"))
        }
    };
    let token = |username: &'static str| {
        let base = app.base.clone();
        async move {
            let mut phone = jingzhun_mobile_api::client::Client::new(&base);
            let session = phone.login(username, PASSWORD, &format!("{username}-phone"), "p").await.expect("login");
            session.token
        }
    };
    let township_officer = villages(token("officer-a").await).await;
    assert_eq!(
        township_officer,
        (
            200,
            json!([{"code": VILLAGE_1, "name": "东村", "township": "一号镇"},
                   {"code": VILLAGE_2, "name": "西村", "township": "一号镇"}])
        )
    );
    let village_team = villages(token("village-1").await).await;
    assert_eq!(village_team.1.as_array().map(|v| v.len()), Some(1), "only its own village: {village_team:?}");
    assert_eq!(village_team.1[0]["code"], VILLAGE_1);
    let supervisor = villages(token("supervisor").await).await;
    assert_eq!(supervisor, (200, json!([])), "a supervisor files no household");
    let anonymous = reqwest::get(format!("{}/api/mobile/v1/villages", app.base)).await.expect("answer");
    assert_eq!(anonymous.status(), 401);
}
