//! 公示公告 in the console (issue 12 item 4), on both backends. The API the screens read:
//! the notices table (`/notice-summaries`: filters, paging with the total, objection
//! counts, scope), what waits for a notice (`/notices/waiting`), a notice's `actions` for
//! who reads it and the objections' `may_answer`, each the same rule the action itself
//! applies. And the whole identification job in a real Chromium as the issue names it:
//! an officer's identification signed by the village team in the console, published as
//! a notice in the console, objected to on the public page from a phone, the objection
//! answered by the 核查组 in the console, the notice closed and the 村民代表会决议
//! recorded, signed by the township and the county (each publishing its own notice), and
//! the household listed as 在档贫困户; on the way the team uploads a photo of the posted
//! notice from the PC and the 核查组 dismisses one sender's repeated objections at once.
//! Screenshots: console-notices-*.png. The upload's API: `notice_postings.rs`.

use crate::browser::{Browser, click, count_when, element, sign_in, text_when, type_into};
use crate::harness::*;
use crate::on_both_backends;
use fantoccini::Locator;
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    the_notice_screens_read_what_the_server_allows,
    an_identification_runs_through_the_console_to_registered
);

/// An identification of a new household in `village` with `extra` members besides the
/// head, signed through the API by the officer, the village team and the township up to
/// the village team's 民主评议: (household, case, head's name, head's ID number).
async fn case_at_the_village_assessment(app: &TestApp, village: &str) -> (Uuid, String, String, String) {
    let phone = app.phone("officer-a", &format!("phone-{}", Uuid::new_v4())).await;
    let (household, _) = create_household(&phone, village, 1).await;
    let [officer, team, township, _] = users(app).await;
    let case = team.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("case id").to_owned();
    for (step, who) in [("application", &officer), ("home_verification", &team), ("comparison", &township)] {
        let (status, body) = pass_step(app, who, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let record = app.admin.household(household).await;
    let head = record["member"].as_array().expect("members").iter().find(|m| m["relation"] == "head").cloned();
    let head = head.expect("a head");
    let name = head["name"].as_str().expect("name").to_owned();
    (household, case, name, head["id_number"].as_str().expect("id number").to_owned())
}

fn actions(view: &Value) -> Vec<&str> {
    view["actions"].as_array().expect("actions").iter().map(|a| a.as_str().expect("action")).collect()
}

async fn the_notice_screens_read_what_the_server_allows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let [_, village, township, county] = users(&app).await;
    let verifier = Admin::login(&app.base, "verifier-1", PASSWORD).await;
    let (_, first, _, _) = case_at_the_village_assessment(&app, VILLAGE_1).await;
    let (_, second, _, _) = case_at_the_village_assessment(&app, VILLAGE_1).await;
    for case in [&first, &second] {
        let (status, body) = pass_step(&app, &village, case, "village_assessment").await;
        assert_eq!(status, 200, "{body}");
    }

    // Two cases wait for the village team's notice in 东村; nothing for the township yet.
    let waiting = village.ok_get("/api/v1/notices/waiting").await;
    assert_eq!(
        waiting,
        json!([{"step": "village_notice", "region_code": VILLAGE_1, "region_name": waiting[0]["region_name"], "cases": 2, "held_back": []}])
    );
    assert!(!waiting[0]["region_name"].as_str().unwrap_or_default().is_empty(), "{waiting}");
    assert_eq!(township.ok_get("/api/v1/notices/waiting").await, json!([]), "nothing at the township's notice");
    assert_eq!(verifier.ok_get("/api/v1/notices/waiting").await, json!([]), "the 核查组 publishes nothing");

    // A draft: its publisher may publish or withdraw it; the township reads it, may not.
    let draft = village.ok_post("/api/v1/notices", json!({"step": "village_notice", "region_code": VILLAGE_1})).await;
    let id = draft["id"].as_str().expect("id").to_owned();
    assert_eq!(actions(&village.ok_get(&format!("/api/v1/notices/{id}")).await), ["publish", "withdraw"]);
    assert!(actions(&township.ok_get(&format!("/api/v1/notices/{id}")).await).is_empty());
    let (status, _) = township.post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    assert_eq!(status, 403, "the action agrees: no publish for the township");
    assert_eq!(village.ok_get("/api/v1/notices/waiting").await, json!([]), "the cases are on the draft");
    let published = village.ok_post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    let token = published["url"].as_str().expect("url").rsplit('/').next().expect("token").to_owned();
    assert_eq!(actions(&village.ok_get(&format!("/api/v1/notices/{id}")).await), ["posting"], "not closable yet");

    // Two objections, one answered: the table counts both and the open one.
    object_on_page(&app.base, &token, "1", "该户有人在城里买了房。").await;
    object_on_page(&app.base, &token, "2", "该户儿子在外务工收入高。").await;
    let objections = verifier.ok_get(&format!("/api/v1/objections?notice_id={id}")).await;
    let objections = objections.as_array().expect("objections").clone();
    assert_eq!(objections.len(), 2);
    assert!(objections.iter().all(|o| o["may_answer"] == true && o["notice_title"] == published["title"]));
    let of_team = village.ok_get(&format!("/api/v1/objections?notice_id={id}")).await;
    assert!(
        of_team.as_array().expect("objections").iter().all(|o| o["may_answer"] == false),
        "the team whose list it is reads them and may not answer: {of_team}"
    );
    let (status, _) = village
        .post(
            &format!("/api/v1/objections/{}/answer", objections[0]["id"].as_str().expect("id")),
            json!({"outcome": "dismissed", "findings": "核实无此事"}),
        )
        .await;
    assert_eq!(status, 403, "and the answer agrees");
    verifier
        .ok_post(
            &format!("/api/v1/objections/{}/answer", objections[0]["id"].as_str().expect("id")),
            json!({"outcome": "dismissed", "findings": "经核查组入户核实，该户无城镇房产。"}),
        )
        .await;
    let page = village.ok_get("/api/v1/notice-summaries").await;
    assert_eq!(page["total"], 1, "{page}");
    let row = &page["items"][0];
    assert_eq!(
        (row["status"].as_str(), row["cases"].as_i64(), row["objections"].as_i64(), row["objections_open"].as_i64()),
        (Some("published"), Some(2), Some(2), Some(1)),
        "{row}"
    );
    assert_eq!(row["region_name"], waiting[0]["region_name"]);

    // Filters and paging; the township reads its village's published notice, 西村's team does not.
    let another = case_at_the_village_assessment(&app, VILLAGE_1).await.1;
    pass_step(&app, &village, &another, "village_assessment").await;
    let draft = village.ok_post("/api/v1/notices", json!({"step": "village_notice", "region_code": VILLAGE_1})).await;
    let draft_id = draft["id"].as_str().expect("id");
    let all = village.ok_get("/api/v1/notice-summaries?per_page=1").await;
    assert_eq!((all["total"].as_i64(), all["items"].as_array().map(Vec::len)), (Some(2), Some(1)), "{all}");
    assert_eq!(all["items"][0]["id"], draft_id, "newest first");
    let second_page = village.ok_get("/api/v1/notice-summaries?per_page=1&page=2").await;
    assert_eq!(second_page["items"][0]["id"], id.as_str());
    assert_eq!(village.ok_get("/api/v1/notice-summaries?status=draft").await["total"], 1);
    assert_eq!(village.ok_get("/api/v1/notice-summaries?step=township_notice").await["total"], 0);
    assert_eq!(county.ok_get(&format!("/api/v1/notice-summaries?region_code={VILLAGE_2}")).await["total"], 0);
    assert_eq!(county.ok_get(&format!("/api/v1/notice-summaries?region_code={TOWNSHIP}")).await["total"], 2);
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "village-2", "name": "西村村委", "password": PASSWORD, "roles": [{"role": "village", "region_code": VILLAGE_2}]}),
        )
        .await;
    let west = Admin::login(&app.base, "village-2", PASSWORD).await;
    assert_eq!(west.ok_get("/api/v1/notice-summaries").await["total"], 0, "another village's notices are not 西村's");
    let (status, _) = west.get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(status, 403);
    village.ok_post(&format!("/api/v1/notices/{draft_id}/withdraw"), json!({})).await;
    assert_eq!(village.ok_get("/api/v1/notice-summaries?status=withdrawn").await["total"], 1);

    // The period over and one objection still open: not closable; answered, it closes by
    // itself (the answer closes what nothing blocks), and the 决议 is the team's to record.
    app.clock.advance(chrono::Duration::days(7));
    assert!(!actions(&village.ok_get(&format!("/api/v1/notices/{id}")).await).contains(&"close"));
    let (status, body) = village.post(&format!("/api/v1/notices/{id}/close"), json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("objections_open")));
    verifier
        .ok_post(
            &format!("/api/v1/objections/{}/answer", objections[1]["id"].as_str().expect("id")),
            json!({"outcome": "dismissed", "findings": "务工收入已计入，人均收入未超过标准。"}),
        )
        .await;
    let closed = village.ok_get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!((closed["status"].as_str(), actions(&closed)), (Some("closed"), vec!["posting", "resolution"]));
    assert!(actions(&township.ok_get(&format!("/api/v1/notices/{id}")).await).is_empty());
    let (status, body) = record_resolution(&app, &village, &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(actions(&village.ok_get(&format!("/api/v1/notices/{id}")).await), ["posting"], "recorded once");
    // Both cases wait for the township's review; none yet for its notice.
    assert_eq!(township.ok_get("/api/v1/notices/waiting").await, json!([]));
}

/// The page's path once it is a notice's (`/notices/{uuid}`).
async fn notice_path(browser: &Browser) -> String {
    for _ in 0..100 {
        let path = browser.wait_for_path("/notices/").await;
        if path.len() > "/notices/".len() {
            return path;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no notice page opened");
}

/// From 公示公告, drafts the notice waiting for the signed-in user, looks at the preview
/// (which lists `head`), publishes it and answers the notice as published: (id, token).
async fn draft_and_publish(browser: &Browser, who: &Admin, head: &str, shot: Option<&str>) -> (String, String) {
    let client = &browser.client;
    click(client, "#main-menu [data-area='notices']").await;
    assert_eq!(browser.wait_for_path("/notices").await, "/notices");
    let waiting = text_when(client, "#notice-waiting", |t| t.contains("1 户待公示")).await;
    assert!(waiting.contains("1 户待公示"), "{waiting}");
    click(client, "#notice-waiting .notice-draft").await;
    let path = notice_path(browser).await;
    let id = path.trim_start_matches("/notices/").to_owned();
    assert_eq!(text_when(client, "#notice-state", |t| t == "草稿").await, "草稿");
    let entries = text_when(client, "#notice-entries", |t| t.contains(head)).await;
    assert!(
        entries.contains(head) && entries.contains("********"),
        "the preview lists the household, ID masked: {entries}"
    );
    if let Some(name) = shot {
        browser.screenshot(name).await;
    }
    click(client, "#notice-publish").await;
    click(client, "#notice-confirm").await;
    assert_eq!(text_when(client, "#notice-state", |t| t == "公示中").await, "公示中");
    let view = who.ok_get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(view["status"], "published", "{view}");
    let token = view["url"].as_str().expect("url").rsplit('/').next().expect("token").to_owned();
    assert_eq!(count_when(client, &format!("#notice-qr img[src='/n/{token}/qr.svg']"), 1).await, 1, "the QR code");
    let print = element(client, "#notice-print").await.attr("href").await.expect("href").expect("a link");
    assert_eq!(print, format!("/n/{token}/print"));
    (id, token)
}

/// Runs the notice's period out on the server's clock and closes it from its page (the
/// server's own minute round may have closed it first: then the page already says so).
/// A week on the server's clock ends the console session too: `username` signs in again.
async fn run_out_and_close(browser: &Browser, app: &TestApp, who: &Admin, username: &str, id: &str) {
    app.clock.advance(chrono::Duration::days(7));
    sign_in(browser, &app.base, username, PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    let client = &browser.client;
    client.goto(&format!("{}/notices/{id}", app.base)).await.expect("open the notice");
    element(client, "#notice-state").await;
    if who.ok_get(&format!("/api/v1/notices/{id}")).await["status"] == "published" {
        click(client, "#notice-close").await;
    } else {
        // Closed by the round between the page's load and the question: read it again.
        client.refresh().await.expect("reload the notice");
    }
    assert_eq!(text_when(client, "#notice-state", |t| t == "已结束").await, "已结束");
}

async fn sign_case(browser: &Browser, app: &TestApp, case: &str, step: &str, comment: &str) {
    let client = &browser.client;
    client.goto(&format!("{}/cases/{case}", app.base)).await.expect("open the case");
    assert_eq!(text_when(client, "#case-step", |t| t == step).await, step);
    click(client, "#action-approve").await;
    type_into(client, "#action-comment", comment).await;
    click(client, "#action-confirm").await;
    text_when(client, "#case-step", |t| t != step).await;
}

async fn switch_user(browser: &Browser, app: &TestApp, username: &str) {
    click(&browser.client, "#logout").await;
    assert_eq!(browser.wait_for_path("/login").await, "/login");
    sign_in(browser, &app.base, username, PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
}

async fn an_identification_runs_through_the_console_to_registered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (household, case, head, head_id) = case_at_the_village_assessment(&app, VILLAGE_1).await;
    let [_, village, township, county] = users(&app).await;
    let step = |v: Value| v["step"].as_str().unwrap_or_default().to_owned();

    // The village team signs its 民主评议 in the console and drafts the village notice.
    let browser = Browser::start_desktop().await;
    let client = &browser.client;
    sign_in(&browser, &app.base, "village-1", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    sign_case(&browser, &app, &case, "民主评议", "村民代表评议通过").await;
    assert_eq!(step(village.ok_get(&format!("/api/v1/cases/{case}")).await), "village_notice");
    let (notice, token) =
        draft_and_publish(&browser, &village, &head, Some(&format!("console-notices-draft-{backend:?}"))).await;
    let page = text_when(client, "#notice-preview", |t| t.contains("扫码查看公示")).await;
    assert!(!page.contains(&head_id), "no whole ID number on the notice page");
    browser.screenshot(&format!("console-notices-published-{backend:?}")).await;
    let poster =
        reqwest::get(format!("{}/n/{token}/print", app.base)).await.expect("poster").text().await.expect("html");
    assert!(poster.contains("size:A4") && poster.contains(&head), "the A4 poster the link opens");
    // The poster goes up on the village board; its photo, from the PC, is the evidence
    // (a picture of the poster stands in for the phone's photo), read with the cookie.
    client.goto(&format!("{}/n/{token}/print", app.base)).await.expect("the poster");
    let photo = browser.screenshot(&format!("console-notices-poster-{backend:?}")).await;
    let photo = photo.canonicalize().expect("chromedriver takes a canonical path");
    client.goto(&format!("{}/notices/{notice}", app.base)).await.expect("back to the notice");
    element(client, "#notice-photo-upload").await;
    let input = element(client, "#notice-photo-input").await;
    input.send_keys(photo.to_str().expect("a path")).await.expect("choose the photo");
    assert_eq!(count_when(client, "#notice-postings .posting-photo img", 1).await, 1, "its thumbnail");
    let mut drawn = 0;
    for _ in 0..100 {
        let width = client
            .execute("return document.querySelector('#notice-postings .posting-photo img')?.naturalWidth ?? 0", vec![])
            .await
            .expect("script");
        drawn = width.as_i64().unwrap_or_default();
        if drawn > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(drawn > 100, "the photo is drawn from the attachment route with the console's cookie");
    let view = village.ok_get(&format!("/api/v1/notices/{notice}")).await;
    assert_eq!(view["posting_attachment_ids"].as_array().map(Vec::len), Some(1), "{view}");
    client.execute("document.querySelector('#notice-postings').scrollIntoView()", vec![]).await.expect("scroll");
    browser.screenshot(&format!("console-notices-photo-{backend:?}")).await;
    client.goto(&format!("{}/notices", app.base)).await.expect("the list");
    let listed = text_when(client, "#notice-table", |t| t.contains("公示中")).await;
    assert!(listed.contains("村级公示") && listed.contains("公示中"), "{listed}");
    assert_eq!(text_when(client, "#notice-total", |t| t == "共 1 条").await, "共 1 条");
    browser.screenshot(&format!("console-notices-list-{backend:?}")).await;

    // A villager objects from the public page on a phone.
    let phone = Browser::start().await;
    phone.client.goto(&format!("{}/n/{token}", app.base)).await.expect("open the public page");
    let entry = phone.client.find(Locator::Css("select[name=entry]")).await.expect("select");
    entry.select_by_value("1").await.expect("choose the household");
    type_into(&phone.client, "textarea[name=body]", "该户家里新买了小轿车，请核实。").await;
    type_into(&phone.client, "input[name=phone]", "13600002222").await;
    click(&phone.client, "button[type=submit]").await;
    let receipt_path = phone.wait_for_path("/o/").await;
    assert!(receipt_path.starts_with("/o/"), "{receipt_path}");
    let receipt = receipt_path.trim_start_matches("/o/").to_owned();
    phone.close().await;

    // The 核查组 finds it in its 待办, reads it (phone masked) and answers it.
    switch_user(&browser, &app, "verifier-1").await;
    assert_eq!(text_when(client, ".inbox-count[data-kind='objections_to_answer']", |t| t == "1").await, "1");
    client
        .find(Locator::XPath("//tr[.//*[@data-kind='objections_to_answer']]//a"))
        .await
        .expect("the 待办's objections")
        .click()
        .await
        .expect("click");
    assert_eq!(browser.wait_for_path("/objections").await, "/objections");
    let inbox = text_when(client, "#objection-inbox", |t| t.contains(&receipt)).await;

    assert!(inbox.contains("该户家里新买了小轿车") && inbox.contains("136****2222"), "{inbox}");
    assert!(!inbox.contains("13600002222"), "the phone is masked in the list");
    click(client, "#objection-inbox .objection-answer").await;
    type_into(client, "#answer-findings", "经核查组入户核实，车辆登记在其已分户的女儿名下，该户不占有。").await;
    browser.screenshot(&format!("console-notices-answer-{backend:?}")).await;
    click(client, "#answer-confirm").await;
    // Answered, it leaves the open ones; it is among the dismissed, with the findings.
    assert_eq!(text_when(client, "#objection-total", |t| t == "共 0 件").await, "共 0 件");
    client.goto(&format!("{}/objections?status=dismissed", app.base)).await.expect("the dismissed");
    let answered = text_when(client, "#objection-inbox", |t| t.contains("车辆登记") && t.contains("异议不成立")).await;
    browser.screenshot(&format!("console-notices-answered-{backend:?}")).await;
    assert_eq!(count_when(client, "#objection-inbox .objection-answer", 0).await, 0, "nothing left to answer");
    assert!(answered.contains("异议不成立") && answered.contains(&receipt), "{answered}");
    let found = reqwest::get(format!("{}/o/{receipt}", app.base)).await.expect("receipt").text().await.expect("html");
    assert!(found.contains("车辆登记在其已分户的女儿名下"), "the objector reads the findings");

    // The same sender complains twice more; the 核查组 dismisses that sender's open ones at once.
    object_on_page(&app.base, &token, "1", "该户家里新买了小轿车，请核实！").await;
    object_on_page(&app.base, &token, "1", "再次反映：该户有小轿车。").await;
    client.goto(&format!("{}/notices/{notice}", app.base)).await.expect("the notice");
    text_when(client, "#notice-objections", |t| t.contains("再次反映")).await;
    click(client, "#notice-objections .objection-dismiss-sender").await;
    let what = text_when(client, "#dismiss-what", |t| t.contains("2 件")).await;
    assert!(what.contains("全部 2 件待答复异议"), "{what}");
    type_into(client, "#dismiss-findings", "与已答复的异议为同一事项，经核查组入户核实，车辆不属该户。").await;
    click(client, "#dismiss-submit").await;
    let confirm = text_when(client, ".dismiss-confirm", |t| t.contains("2 件")).await;
    assert!(confirm.contains("驳回 2 件异议"), "{confirm}");
    browser.screenshot(&format!("console-notices-dismiss-{backend:?}")).await;
    click(client, ".dismiss-confirm .el-button--primary").await;
    let result = text_when(client, "#notice-dismissed", |t| t.contains("已驳回")).await;
    assert!(result.contains("已驳回 2 件异议"), "{result}");
    assert_eq!(village.ok_get(&format!("/api/v1/notices/{notice}")).await["objections_open"], 0);

    // The village team closes the notice and records the 村民代表会决议.
    switch_user(&browser, &app, "village-1").await;
    run_out_and_close(&browser, &app, &village, "village-1", &notice).await;
    click(client, "#notice-resolution").await;
    type_into(client, "#resolution-members", "30").await;
    type_into(client, "#resolution-present", "25").await;
    type_into(client, "#resolution-agreeing", "24").await;
    click(client, "#resolution-confirm").await;
    let recorded = text_when(client, "#notice-resolutions", |t| t.contains("同意 24 人")).await;
    assert!(recorded.contains("组成人员 30 人"), "{recorded}");
    assert_eq!(step(village.ok_get(&format!("/api/v1/cases/{case}")).await), "township_review");

    // The township signs and publishes its notice; the county signs and announces.
    switch_user(&browser, &app, "township-1").await;
    sign_case(&browser, &app, &case, "乡镇审核", "审核通过").await;
    let (township_notice, _) = draft_and_publish(&browser, &township, &head, None).await;
    run_out_and_close(&browser, &app, &township, "township-1", &township_notice).await;
    assert_eq!(step(township.ok_get(&format!("/api/v1/cases/{case}")).await), "county_review");
    switch_user(&browser, &app, "county").await;
    sign_case(&browser, &app, &case, "县级复审", "复审通过").await;
    let (announcement, _) = draft_and_publish(&browser, &county, &head, None).await;
    run_out_and_close(&browser, &app, &county, "county", &announcement).await;
    let done = county.ok_get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(done["status"], "completed", "{done}");

    // 贫困户管理: the household is 在档贫困户.
    client.goto(&format!("{}/households?status=registered", app.base)).await.expect("households");
    let table = text_when(client, "#household-table", |t| t.contains(&head)).await;
    assert!(table.contains(&head) && table.contains("在档贫困户"), "{table}");
    assert_eq!(county.household(household).await["household"]["status"], "registered");
    browser.screenshot(&format!("console-notices-registered-{backend:?}")).await;
    browser.close().await;
}
