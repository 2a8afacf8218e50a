//! The household page of the office console (贫困户管理 · 户详情) as the people who work on
//! it use it, on both backends: a county clerk edits the record in the catalogue form (an
//! out-of-range year stopped inline, a phone number the server refuses shown next to the
//! field, a valid address saved and found in the audit trail), a village team files 增人
//! for a newborn and lands on the new case, the visits tab draws a visit's photo through
//! the console's cookie session, and a supervisor, who reads but does not edit, gets no
//! edit button. Screenshots of every tab go to target/test-artifacts/console-household-*.
//! And `GET /api/v1/households/{id}/rights`, which those buttons follow, agrees with what
//! the writes accept, the sign-off freeze included.

use crate::browser::{Browser, choose, click, count_when, element, sign_in, text_when, type_into};
use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::Op;
use serde_json::{Value, json};
use uuid::Uuid;

/// A 96×64 PNG (a red house on a green field under a blue sky): a photo a browser draws.
const PHOTO: &[u8] = &[
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 96, 0, 0, 0, 64, 8, 2, 0, 0, 0, 106, 86,
    229, 89, 0, 0, 0, 135, 73, 68, 65, 84, 120, 218, 237, 208, 49, 13, 128, 48, 20, 69, 209, 106, 98, 102, 70, 4, 74,
    144, 131, 136, 138, 192, 75, 77, 116, 239, 208, 229, 231, 37, 12, 39, 185, 2, 110, 78, 123, 250, 208, 166, 134, 0,
    16, 32, 64, 128, 0, 1, 2, 4, 72, 128, 0, 1, 2, 4, 8, 16, 32, 64, 2, 4, 8, 16, 32, 64, 128, 0, 1, 18, 32, 64, 191,
    5, 250, 206, 35, 23, 32, 64, 128, 0, 1, 2, 4, 8, 80, 25, 232, 126, 175, 80, 81, 160, 220, 246, 18, 32, 64, 128, 0,
    1, 2, 4, 8, 16, 32, 64, 128, 0, 1, 2, 4, 8, 16, 32, 64, 2, 4, 8, 16, 32, 64, 128, 0, 1, 18, 32, 64, 197, 38, 213,
    204, 106, 75, 239, 15, 91, 13, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

/// Ctrl+A then Backspace: empties an input the way a person does, so Vue sees the input.
const SELECT_ALL_AND_DELETE: &str = "\u{E009}a\u{E000}\u{E003}";

/// Empties the input at `css` and types `text` into it.
async fn retype(client: &fantoccini::Client, css: &str, text: &str) {
    type_into(client, css, SELECT_ALL_AND_DELETE).await;
    type_into(client, css, text).await;
}

/// The width the browser drew the first visit photo at its natural size; 0 until it loads.
async fn photo_width(client: &fantoccini::Client) -> u64 {
    for _ in 0..100 {
        let width = client
            .execute(
                "const img = document.querySelector('#visits .photo img'); return img && img.complete ? img.naturalWidth : 0;",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        if width > 0 {
            return width;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    0
}

async fn the_household_page_is_worked_on(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let officer = app.phone("officer-a", "household-phone").await;
    let (household, _) = create_household(&officer, VILLAGE_1, 1).await;
    let photo = officer.upload_attachment(household, "visit.png", "image/png", PHOTO.to_vec()).await.expect("upload");
    let visit = changeset(vec![change(
        "visit_log",
        Uuid::new_v4(),
        Op::Create,
        0,
        json!({"household_id": household, "visited_on": "2026-11-20", "note": "入户核实住房和收入", "attachment_ids": [photo.id]}),
    )]);
    let res = push(&officer, vec![visit]).await;
    assert_eq!(res.results[0].status, jingzhun_mobile_api::wire::ChangeSetStatus::Applied, "{:?}", res.results[0]);
    // A poverty line and a year's income, so R1 has figures and the rules an answer.
    let line = json!({"year": 2026, "region_prefix": "320703", "standard": "national", "yuan": 4000, "source": "测试"});
    assert_eq!(Admin::login(&app.base, "county", PASSWORD).await.put("/api/v1/thresholds", line).await.0, 204);
    // …and a help plan with a task and a measure, for the help tab.
    let plan = Uuid::new_v4();
    let income = changeset(vec![
        change(
            "income",
            Uuid::new_v4(),
            Op::Create,
            0,
            json!({"household_id": household, "year": 2026, "wage": 3000, "business": 2000, "business_expense": 500}),
        ),
        change(
            "help_plan",
            plan,
            Op::Create,
            0,
            json!({"household_id": household, "year": 2026, "goal": "发展食用菌种植，人均增收2000元", "planned_income": 5000}),
        ),
        change(
            "plan_task",
            Uuid::new_v4(),
            Op::Create,
            0,
            json!({"household_id": household, "plan_id": plan, "title": "建设菌棚一座", "due_date": "2026-12-31"}),
        ),
        change(
            "help_measure",
            Uuid::new_v4(),
            Op::Create,
            0,
            json!({"household_id": household, "category": "industry", "name": "食用菌种植补助", "year": 2026, "funds": 3000}),
        ),
    ]);
    let res = push(&officer, vec![income]).await;
    assert_eq!(res.results[0].status, jingzhun_mobile_api::wire::ChangeSetStatus::Applied, "{:?}", res.results[0]);
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let page = format!("{}/households/{household}", app.base);

    let browser = Browser::start_desktop().await;
    let client = &browser.client;

    // The county clerk opens the household and its record form.
    sign_in(&browser, &app.base, "county", PASSWORD).await;
    browser.wait_for_path("/home").await;
    client.goto(&page).await.expect("open the household");
    text_when(client, "#household-head", |t| t == "成员0").await;
    browser.screenshot(&format!("console-household-record-{backend:?}")).await;
    click(client, "#edit-record").await;

    // A year before any plan could be: stopped in the form, next to the field, unsent.
    type_into(client, "#f-household-planned_exit_year", "1999").await;
    let inline = text_when(client, ".field-planned_exit_year .el-form-item__error", |t| !t.is_empty()).await;
    assert_eq!(inline, "应在 2014 至 2100 之间", "the catalogue's range, in Chinese");
    click(client, "#save-household").await;
    let (_, trail) = county.get(&format!("/api/v1/households/{household}/audit")).await;
    let updates = |trail: &Value| trail.as_array().expect("trail").iter().filter(|e| e["action"] == "update").count();
    assert_eq!(updates(&trail), 0, "an invalid form is not sent");
    browser.screenshot(&format!("console-household-edit-invalid-{backend:?}")).await;

    // A phone number only the server knows is wrong: its refusal, in Chinese, at the phone.
    retype(client, "#f-household-planned_exit_year", "2027").await;
    retype(client, "#f-household-phone", "12345").await;
    retype(client, "#f-household-address", "东村二组8号").await;
    click(client, "#save-household").await;
    let refused = text_when(client, ".field-phone .el-form-item__error", |t| !t.is_empty()).await;
    assert_eq!(refused, "电话号码格式错误", "the server's refusal next to the phone field");
    let stored = county.get(&format!("/api/v1/households/{household}")).await.1;
    assert_eq!(stored["household"]["address"], "东村一组1号", "a refused write stores nothing");
    browser.screenshot(&format!("console-household-edit-refused-{backend:?}")).await;

    // A valid phone: saved, shown on the record, and in the audit trail with its field's name.
    retype(client, "#f-household-phone", "13900001111").await;
    let views = format!("SELECT COUNT(*) FROM audit_log WHERE action = 'view' AND entity_id = '{household}'");
    let viewed = app.count(&views).await;
    click(client, "#save-household").await;
    let address = text_when(client, "#sheet-record .value-address", |t| t == "东村二组8号").await;
    assert_eq!(address, "东村二组8号", "the record shows the saved address");
    // The page shows what the write answered: a save is not another view of the record.
    assert_eq!(app.count(&views).await, viewed, "no view recorded per save");
    let stored = county.get(&format!("/api/v1/households/{household}")).await.1;
    assert_eq!(stored["household"]["planned_exit_year"], 2027);
    assert_eq!(stored["household"]["phone"], "13900001111");
    click(client, "#tab-audit").await;
    let trail = text_when(client, "#audit-table", |t| t.contains("东村二组8号")).await;
    assert!(trail.contains("户 · 住址") && trail.contains("东村一组1号"), "old and new address in the trail: {trail}");
    browser.screenshot(&format!("console-household-audit-{backend:?}")).await;

    // Every other tab, as the county sees it.
    for tab in ["living", "members", "income", "help", "assessment"] {
        click(client, &format!("#tab-{tab}")).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        browser.screenshot(&format!("console-household-{tab}-{backend:?}")).await;
    }
    // A member's form: who the person is stays locked here (sync or a member-change case).
    click(client, "#tab-members").await;
    click(client, "#member-table .edit-member").await;
    let id_number = element(client, "#f-member-id_number").await;
    assert_eq!(
        id_number.attr("disabled").await.expect("attribute").as_deref(),
        Some("true"),
        "the ID number is locked"
    );
    browser.screenshot(&format!("console-household-member-edit-{backend:?}")).await;
    click(client, "#cancel-member").await;

    // The help tab: the measure, the plan with its task count and outcome, the timeline.
    click(client, "#tab-help").await;
    let card = text_when(client, "#plan-2026", |t| t.contains("发展食用菌种植")).await;
    assert!(card.contains("已完成 0 / 共 1") && card.contains("¥5,000.00"), "the plan's outcome: {card}");
    let measures = text_when(client, "#measure-table", |t| t.contains("食用菌种植补助")).await;
    assert!(measures.contains("发展生产脱贫"), "the measure's category by name: {measures}");
    text_when(client, "#timeline", |t| t.contains("菌棚")).await;

    // R1 as the server computed it: (3000 + 2000 − 500) ÷ 2 residents.
    let (_, assessment) = county.get(&format!("/api/v1/households/{household}/assessment")).await;
    assert_eq!(assessment["net_income"]["per_capita_fen"], 225_000, "{assessment}");
    click(client, "#tab-income").await;
    assert_eq!(text_when(client, "#r1-per-capita", |t| !t.is_empty()).await, "¥2,250.00");
    click(client, "#tab-assessment").await;
    let rules = text_when(client, "#assessment", |t| t.contains("R6")).await;
    assert!(rules.contains("人均纯收入低于标准：是"), "R2's criteria in words: {rules}");
    for rule in ["R2 识别", "R3 退出", "R4 核查疑点", "R5 边缘户", "R6 主导帮扶措施"] {
        assert!(rules.contains(rule), "{rule} on the assessment tab: {rules}");
    }

    // The visits tab draws the officer's photo, read with the console's cookie session.
    click(client, "#tab-visits").await;
    let visits = text_when(client, "#visits", |t| t.contains("入户核实住房和收入")).await;
    assert!(visits.contains("2026年11月20日"), "the visit's day: {visits}");
    assert_eq!(photo_width(client).await, 96, "the photo loaded at its own size");
    browser.screenshot(&format!("console-household-visits-{backend:?}")).await;

    // A supervisor reads the household but has no edit button, and the server agrees.
    client.delete_all_cookies().await.expect("sign out");
    sign_in(&browser, &app.base, "supervisor", PASSWORD).await;
    browser.wait_for_path("/home").await;
    client.goto(&page).await.expect("open the household");
    element(client, "#read-only-tag").await;
    assert_eq!(count_when(client, "#edit-record", 0).await, 0, "no edit button for a supervisor");
    assert_eq!(count_when(client, "#member-increase", 0).await, 0, "no 增人 for a supervisor");
    let supervisor = Admin::login(&app.base, "supervisor", PASSWORD).await;
    let (status, body) = supervisor.patch(&format!("/api/v1/households/{household}"), json!({"address": "x"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("out_of_scope")), "{body}");

    // The village team files 增人 for a newborn and lands on the new case.
    client.delete_all_cookies().await.expect("sign out");
    sign_in(&browser, &app.base, "village-1", PASSWORD).await;
    browser.wait_for_path("/home").await;
    client.goto(&page).await.expect("open the household");
    click(client, "#tab-members").await;
    click(client, "#member-increase").await;
    choose(client, "#member-change-reason", "新生儿").await;
    type_into(client, "#member-change-note", "户主之孙，2026年11月出生").await;
    browser.screenshot(&format!("console-household-increase-{backend:?}")).await;
    click(client, "#member-change-submit").await;
    let path = browser.wait_for_path("/cases/").await;
    let case_id = path.trim_start_matches("/cases/").to_owned();
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let (status, case) = village.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(status, 200, "{case}");
    assert_eq!(
        (case["household_id"].as_str(), case["kind"].as_str(), case["reason"].as_str()),
        (Some(household.to_string().as_str()), Some("member_change"), Some("newborn")),
        "the case filed: {case}"
    );
    browser.screenshot(&format!("console-household-increase-case-{backend:?}")).await;
    browser.close().await;
}

/// What the page's buttons follow: the county and the village team edit their household
/// and file cases for it, a supervisor only reads it, and a village team asking about
/// another village's household is refused — each as the writes themselves judge it.
async fn household_rights_agree_with_the_writes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let officer = app.phone("officer-a", "rights-phone").await;
    let (east, east_members) = create_household(&officer, VILLAGE_1, 0).await;
    let (west, _) = create_household(&officer, VILLAGE_2, 0).await;
    let rights = |who: &'static str, household: Uuid| {
        let base = app.base.clone();
        async move {
            let office = Admin::login(&base, who, PASSWORD).await;
            office.get(&format!("/api/v1/households/{household}/rights")).await
        }
    };

    for who in ["county", "village-1"] {
        let (status, body) = rights(who, east).await;
        assert_eq!(status, 200, "{who}: {body}");
        assert_eq!(
            (body["edit"].as_bool(), body["open_case"].as_bool(), body["frozen"].as_bool()),
            (Some(true), Some(true), Some(false)),
            "{who}: {body}"
        );
        let locked: Vec<&str> =
            body["not_editable_here"].as_array().expect("list").iter().filter_map(Value::as_str).collect();
        assert!(locked.contains(&"member.id_number") && locked.contains(&"member.relation"), "{body}");
        let office = Admin::login(&app.base, who, PASSWORD).await;
        let (status, body) =
            office.patch(&format!("/api/v1/households/{east}"), json!({"address": format!("{who}改")})).await;
        assert_eq!(status, 200, "{who} edits what rights says it edits: {body}");
    }
    // The locked fields are refused by the write too.
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let (status, body) =
        county.patch(&format!("/api/v1/members/{}", east_members[0]), json!({"relation": "son"})).await;
    assert_eq!((status, body["error"]["fields"][0]["code"].as_str()), (422, Some("not_editable_here")), "{body}");

    let (status, body) = rights("supervisor", east).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["edit"].as_bool(), body["open_case"].as_bool()),
        (Some(false), Some(false)),
        "a supervisor reads only: {body}"
    );
    // And the writes say the same: no edit, no case.
    let supervisor = Admin::login(&app.base, "supervisor", PASSWORD).await;
    let (status, body) = supervisor.patch(&format!("/api/v1/households/{east}"), json!({"address": "督查改"})).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = supervisor
        .post("/api/v1/cases", json!({"household_id": east, "kind": "member_change", "reason": "birth"}))
        .await;
    // Refused as a push would refuse it (procedures::case::open).
    assert_eq!((status, body["error"]["fields"][0]["code"].as_str()), (400, Some("forbidden")), "{body}");

    let (status, body) = rights("village-1", west).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("out_of_scope")),
        "another village's household: {body}"
    );
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let (status, _) = village.patch(&format!("/api/v1/households/{west}"), json!({"address": "越权"})).await;
    assert_eq!(status, 403, "and the write is refused alike");

    let (status, _) = rights("county", Uuid::new_v4()).await;
    assert_eq!(status, 404, "an unknown household");

    // Past the village's assessment the township's sign-off holds the village team:
    // rights says frozen and the write answers case_frozen; the county, above, still edits.
    let [officer_admin, village_admin, township_admin, _] = users(&app).await;
    let case = village_admin.ok_post("/api/v1/cases", json!({"household_id": east, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("id").to_owned();
    for (step, who) in [
        ("application", &officer_admin),
        ("home_verification", &officer_admin),
        ("comparison", &township_admin),
        ("village_assessment", &village_admin),
    ] {
        let (status, body) = pass_step(&app, who, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let (_, body) = rights("village-1", east).await;
    assert_eq!((body["edit"].as_bool(), body["frozen"].as_bool()), (Some(true), Some(true)), "{body}");
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let (status, body) = village.patch(&format!("/api/v1/households/{east}"), json!({"address": "冻结后"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("case_frozen")), "{body}");
    let (_, body) = rights("county", east).await;
    assert_eq!(body["frozen"].as_bool(), Some(false), "the county signs above the township: {body}");
    let (status, body) = county.patch(&format!("/api/v1/households/{east}"), json!({"address": "县级改"})).await;
    assert_eq!(status, 200, "and its write is taken: {body}");
}

on_both_backends!(the_household_page_is_worked_on, household_rights_agree_with_the_writes);
