//! The paper the national system is filled from (issue 11 item 6): the 对照表 a page per
//! household with 004 附件2's columns, the member-change tables of 004 附件3–4 with
//! exactly the seed's columns, whole ID numbers audited per household, and the 10%
//! spot check of 003 drawn from a stated seed.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::{Value, json};
use std::io::Read;
use uuid::Uuid;

on_both_backends!(
    paper_forms_have_the_seeds_columns_and_a_page_per_household,
    spot_check_draws_at_least_ten_percent_the_same_way_twice
);

/// 004 附件3's member columns as the seed prints them (`004_a793f3f42615c351.txt`
/// lines 371–399), spaces and all; compared without whitespace.
const SEED_INCREASE_COLUMNS: [&str; 27] = [
    "序号",
    "A1 姓名",
    "A2 性别",
    "A3 证件类型",
    "A4 居民身份证(残疾人证)号码",
    "A5 与户主关系",
    "A6 民族",
    "A7 政治面貌",
    "A8 文化程度",
    "A9在校生状况",
    "A10健康状况",
    "A11 劳动技能",
    "A12务 工区域",
    "A13务工时间",
    "A14 失学或辍学原因",
    "A15 是否会讲普通话",
    "A16 是否参加城乡居民基本养老保险",
    "A17 是否参加城乡居民基本医疗保险",
    "A18 是否参加大病保险",
    "A19 是否享受农村居民最低生活保障",
    "A20 是否参加商业补充医疗保险",
    "A21 是否享受人身意外保险补贴",
    "A51是否接受医疗救助",
    "增加原因",
    "务工企业名称",
    "所属行业",
    "就业渠道",
];

/// 004 附件4 (lines 493–497).
const SEED_DECREASE_COLUMNS: [&str; 5] =
    ["户主姓名", "户主证件号码", "减少家庭成员姓名", "减少家庭成员证件号码", "减少原因"];

/// 004 附件2 六、帮扶责任人 (lines 327–334).
const SEED_OFFICER_COLUMNS: [&str; 8] =
    ["序号", "姓名", "性别", "政治面貌", "帮扶（选派）单位名称", "帮扶开始时间", "帮扶结束时间", "联系电话"];

const MEMBER_CHANGE: [(&str, &str); 4] = [
    ("application", "village-1"),
    ("home_verification", "village-1"),
    ("township_review", "township-1"),
    ("county_review", "county"),
];

fn squeezed(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn captions(value: &Value) -> Vec<String> {
    value.as_array().expect("columns").iter().map(|c| squeezed(c.as_str().expect("caption"))).collect()
}

fn seed_captions(seed: &[&str]) -> Vec<String> {
    seed.iter().map(|c| squeezed(c)).collect()
}

async fn complete_member_change(app: &TestApp, body: Value) {
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let case = village.ok_post("/api/v1/cases", body).await;
    let id = case["id"].as_str().expect("case id").to_owned();
    for (step, who) in MEMBER_CHANGE {
        let signer = Admin::login(&app.base, who, PASSWORD).await;
        let (status, answer) = pass_step(app, &signer, &id, step).await;
        assert_eq!(status, 200, "{step}: {answer}");
    }
}

async fn xlsx(app: &TestApp, query: &str) -> Vec<u8> {
    let body = json!({"username": "county", "password": PASSWORD, "device_id": format!("web-{}", Uuid::new_v4())});
    let http = reqwest::Client::new();
    let login = http.post(format!("{}/api/v1/auth/login", app.base)).json(&body).send().await.expect("login");
    let token = login.json::<Value>().await.expect("login body")["token"].as_str().expect("token").to_owned();
    let res =
        http.get(format!("{}/api/v1/reports/{query}", app.base)).bearer_auth(token).send().await.expect("request");
    assert_eq!(res.status(), 200);
    res.bytes().await.expect("body").to_vec()
}

/// The worksheet's XML: page setup and breaks are not in calamine's view.
fn sheet_xml(bytes: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an XLSX is a zip");
    let mut xml = String::new();
    archive.by_name("xl/worksheets/sheet1.xml").expect("sheet1").read_to_string(&mut xml).expect("utf-8");
    xml
}

async fn paper_forms_have_the_seeds_columns_and_a_page_per_household(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-paper").await;
    // 东村: A (head and son; the son dies), B (head; a baby is born). 西村: C (three people).
    let (a, a_members) = create_household(&phone, VILLAGE_1, 1).await;
    let (b, _) = create_household(&phone, VILLAGE_1, 0).await;
    let (c, _) = create_household(&phone, VILLAGE_2, 2).await;
    let baby = Uuid::new_v4();
    let baby_id = id_number("20250301", 902);
    let res = push(
        &phone,
        vec![changeset(vec![change(
            "member",
            baby,
            Op::Create,
            0,
            json!({"household_id": b, "name": "新生儿", "sex": "female", "id_number": baby_id, "relation": "granddaughter", "health": "healthy"}),
        )])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    complete_member_change(
        &app,
        json!({"household_id": a, "kind": "member_change", "reason": "death", "member_id": a_members[1]}),
    )
    .await;
    complete_member_change(
        &app,
        json!({"household_id": b, "kind": "member_change", "reason": "newborn", "member_id": baby}),
    )
    .await;
    let whole = app.admin.household(a).await;
    let son_id = whole["member"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["id"] == a_members[1].to_string())
        .and_then(|m| m["id_number"].as_str())
        .expect("the son's number")
        .to_owned();

    // The officer's 性别, 政治面貌 and 单位 (001 附件1, 004 附件2 六), set by a manager.
    let users = app.admin.ok_get("/api/v1/users").await;
    let officer_id = users
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == "officer-a")
        .and_then(|u| u["id"].as_str())
        .expect("officer-a")
        .to_owned();
    let profile = format!("/api/v1/users/{officer_id}/profile");
    let (status, body) = app.admin.put(&profile, json!({"sex": "female", "political_status": "nobody"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("unknown_code")), "{body}");
    let (status, _) = app.admin.put(&profile, json!({"work_unit": "单".repeat(101)})).await;
    assert_eq!(status, 400, "a unit name past 100 characters");
    let (status, body) = app
        .admin
        .put(&profile, json!({"sex": "female", "political_status": "party_member", "work_unit": "测试县农业农村局"}))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = Admin::login(&app.base, "village-1", PASSWORD).await.put(&profile, json!({"sex": "male"})).await;
    assert_eq!(status, 403, "a village team does not manage a township officer");

    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let to = (chrono::Utc::now() + chrono::Duration::days(2)).date_naive();
    let period = format!("from=2020-01-01&to={to}");
    let audited_before = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'print'").await;

    // 对照表: every household of the township, a page each, 004 附件2's columns.
    let form =
        county.ok_get(&format!("/api/v1/reports/household_form?region_code={TOWNSHIP}&{period}&format=json")).await;
    assert_eq!(form["title"], "贫困户信息对照表");
    let households = form["households"].as_array().expect("households");
    assert_eq!(households.len(), 3, "{form}");
    let mut member_seed = seed_captions(&SEED_INCREASE_COLUMNS);
    member_seed.retain(|c| c != "增加原因");
    for h in households {
        assert_eq!(captions(&h["member_columns"]), member_seed);
        assert_eq!(captions(&h["officer_columns"]), seed_captions(&SEED_OFFICER_COLUMNS));
        let codes: Vec<String> = h["conditions"]
            .as_array()
            .expect("conditions")
            .iter()
            .map(|c| squeezed(c["label"].as_str().expect("l")))
            .collect();
        assert!(
            codes.first().is_some_and(|c| c.starts_with("A33")) && codes.last().is_some_and(|c| c.starts_with("A48"))
        );
    }
    let block_a = households.iter().find(|h| h["id"] == a.to_string()).expect("A");
    assert_eq!(block_a["members"].as_array().map(Vec::len), Some(1), "the son has died");
    assert_eq!(block_a["officers"][0][0], "officer-a");
    let officer_row = block_a["officers"][0].as_array().expect("an officer row");
    assert_eq!(officer_row[1..4], [json!("女"), json!("中共党员"), json!("测试县农业农村局")], "{block_a}");
    let head_id = block_a["members"][0][3].as_str().expect("A4");
    assert_eq!(head_id.len(), 18, "the form carries the whole number: {head_id}");
    assert!(!head_id.contains('*'));
    // Each printed household is a whole-record view in its trail.
    let audited = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'print'").await;
    assert_eq!(audited - audited_before, 3);
    let trail = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'print' AND household_id = '{a}' AND entity_id = '{a}'"
        ))
        .await;
    assert_eq!(trail, 1);

    // The XLSX: a page per household (two breaks for three), A4, header rows repeated.
    let bytes = xlsx(&app, &format!("household_form?region_code={TOWNSHIP}&{period}")).await;
    let xml = sheet_xml(&bytes);
    assert_eq!(xml.matches("<brk ").count(), 2, "a page break before every household but the first");
    assert!(xml.contains("paperSize=\"9\"") && xml.contains("orientation=\"landscape\""), "A4 landscape");
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("calamine opens it");
    let range = workbook.worksheet_range_at(0).expect("a sheet").expect("readable");
    let titles = range.rows().filter(|r| r[0] == Data::String("贫困户信息对照表".into())).count();
    assert_eq!(titles, 3, "one form per household");
    assert!(range.cells().any(|(_, _, d)| *d == Data::String(head_id.to_owned())), "whole numbers on paper");

    // A list of households: exactly those; one the caller may not read is refused.
    let one = county
        .ok_get(&format!("/api/v1/reports/household_form?region_code={TOWNSHIP}&households={c}&format=json"))
        .await;
    assert_eq!(one["households"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["households"][0]["id"], c.to_string());
    let (status, body) = county
        .get(&format!(
            "/api/v1/reports/household_form?region_code={TOWNSHIP}&households={c},{}&format=json",
            Uuid::new_v4()
        ))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("out_of_scope")), "{body}");
    let village_1 = Admin::login(&app.base, "village-1", PASSWORD).await;
    let (status, _) = village_1
        .get(&format!("/api/v1/reports/household_form?region_code={VILLAGE_1}&households={c}&format=json"))
        .await;
    assert_eq!(status, 403, "西村's household is not on 东村's form");
    let officer = Admin::login(&app.base, "officer-a", PASSWORD).await;
    let (status, _) = officer.get(&format!("/api/v1/reports/household_form?region_code={TOWNSHIP}&format=json")).await;
    assert_eq!(status, 403, "officers get no reports");

    // 附件3: B's baby, reason 1, with the seed's columns.
    let increase =
        county.ok_get(&format!("/api/v1/reports/member_increase?region_code={TOWNSHIP}&{period}&format=json")).await;
    assert_eq!(increase["title"], "低收入农户家庭成员自然增加情况表");
    assert_eq!(captions(&increase["columns"]), seed_captions(&SEED_INCREASE_COLUMNS));
    let blocks = increase["households"].as_array().expect("households");
    assert_eq!(blocks.len(), 1, "{increase}");
    assert_eq!(blocks[0]["household_id"], b.to_string());
    assert_eq!(blocks[0]["village_code"], VILLAGE_1);
    let row = blocks[0]["rows"][0].as_array().expect("a row");
    assert_eq!(
        (row[0].as_str(), row[3].as_str(), row[22].as_str()),
        (Some("新生儿"), Some(baby_id.as_str()), Some("1"))
    );

    // 附件4: 东村's block, A's son, reason 1 (死亡).
    let decrease =
        county.ok_get(&format!("/api/v1/reports/member_decrease?region_code={TOWNSHIP}&{period}&format=json")).await;
    assert_eq!(captions(&decrease["columns"]), seed_captions(&SEED_DECREASE_COLUMNS));
    let villages = decrease["villages"].as_array().expect("villages");
    assert_eq!(villages.len(), 1, "{decrease}");
    assert_eq!(
        (villages[0]["village_code"].as_str(), villages[0]["village_name"].as_str()),
        (Some(VILLAGE_1), Some("东村"))
    );
    let row = villages[0]["rows"][0].as_array().expect("a row");
    assert_eq!((row[2].as_str(), row[3].as_str(), row[4].as_i64()), (Some("成员1"), Some(son_id.as_str()), Some(1)));
    // Before the period there was nothing.
    let empty = county
        .ok_get(&format!(
            "/api/v1/reports/member_decrease?region_code={TOWNSHIP}&from=2020-01-01&to=2020-12-31&format=json"
        ))
        .await;
    assert_eq!(empty["villages"].as_array().map(Vec::len), Some(0));
    let bytes = xlsx(&app, &format!("member_decrease?region_code={TOWNSHIP}&{period}")).await;
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("calamine opens it");
    let range = workbook.worksheet_range_at(0).expect("a sheet").expect("readable");
    let header = range.rows().find(|r| r[0] == Data::String("户主姓名".into())).expect("the header row");
    let header: Vec<String> = header.iter().take(5).map(|d| d.to_string()).collect();
    assert_eq!(header, SEED_DECREASE_COLUMNS.map(str::to_owned).to_vec());
}

async fn spot_check_draws_at_least_ten_percent_the_same_way_twice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    // Fourteen villages the county decided to exit (出列), and one that may exit but was
    // not decided, so it is not drawn from.
    let mut villages = vec![VILLAGE_1.to_owned(), VILLAGE_2.to_owned()];
    for n in 3..=15 {
        let code = format!("320703001{n:03}");
        app.admin
            .ok_post(
                "/api/v1/regions",
                json!({"code": code, "name": format!("{n}号村"), "level": "village", "parent_code": TOWNSHIP}),
            )
            .await;
        villages.push(code);
    }
    for (i, code) in villages.iter().enumerate() {
        let (status, body) =
            app.admin.put(&format!("/api/v1/villages/{code}/population"), json!({"rural_population": 800})).await;
        assert!(status < 300, "{body}");
        let (status, body) =
            app.admin.put(&format!("/api/v1/villages/{code}/facts"), json!({"exit_indicators_met": true})).await;
        assert!(status < 300, "{body}");
        if i < 14 {
            app.admin
                .ok_post(
                    &format!("/api/v1/villages/{code}/exit"),
                    json!({"year": 2026, "document_no": format!("{i}号")}),
                )
                .await;
        }
    }
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let ask = |seed: u64| format!("/api/v1/reports/spot_check?region_code={TOWNSHIP}&seed={seed}&format=json");
    let first = county.ok_get(&ask(20261220)).await;
    assert_eq!(first["title"], "贫困村退出抽检报告");
    assert_eq!(first["exiting_villages"].as_array().map(Vec::len), Some(14));
    assert_eq!(first["not_assessed"], json!([]));
    assert!(!first["exiting_villages"].as_array().expect("codes").contains(&json!(villages[14])));
    let sample: Vec<String> = first["sample"]
        .as_array()
        .expect("sample")
        .iter()
        .map(|v| v["code"].as_str().expect("code").to_owned())
        .collect();
    assert!(sample.len() * 10 >= 14, "at least 10%: {sample:?}");
    assert_eq!(sample.len(), 2, "10% of 14 rounded up");
    assert!(sample.iter().all(|c| villages[..14].contains(c)));
    let again = county.ok_get(&ask(20261220)).await;
    assert_eq!(again["sample"], first["sample"], "the same seed draws the same villages");
    let mut differs = false;
    for seed in 1..30 {
        differs |= county.ok_get(&ask(seed)).await["sample"] != first["sample"];
    }
    assert!(differs, "the seed decides the draw");
    let (status, body) =
        county.get(&format!("/api/v1/reports/spot_check?region_code={TOWNSHIP}&seed=abc&format=json")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("out_of_range")));
    // The XLSX states the seed and lists the sample under the seed's heading.
    let bytes = xlsx(&app, &format!("spot_check?region_code={TOWNSHIP}&seed=20261220")).await;
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("calamine opens it");
    let range = workbook.worksheet_range_at(0).expect("a sheet").expect("readable");
    assert!(range.cells().any(|(_, _, d)| matches!(d, Data::String(s) if s.contains("随机种子：20261220"))));
    for code in &sample {
        assert!(range.cells().any(|(_, _, d)| *d == Data::String(code.clone())), "{code} listed");
    }
}
