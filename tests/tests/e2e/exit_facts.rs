//! Rules that fire from stored data (issue 11, item 2): the 两不退 facts of 003 §五(二)
//! recorded from a phone stop an exit until they are met, the 低保兜底 rule follows the
//! region's 低保 standard, the exit assessment and the procedure agree, and 无 (no
//! dangerous house) answers 002's identification test where it used to read as unknown.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    each_two_no_exit_fact_refuses_the_exit_until_recorded_as_met,
    a_dibao_household_exits_only_where_the_dibao_standard_is_above_the_line,
    no_dangerous_house_answers_the_identification_test,
);

const YEAR: i64 = 2026;

async fn sign(who: &Admin, case: &str, step: &str) -> (u16, Value) {
    who.post(&format!("/api/v1/cases/{case}/signoffs"), json!({"step": step, "decision": "approve"})).await
}

async fn update(app: &TestApp, phone: &Client, household: Uuid, fields: Value) {
    let version = app.admin.household(household).await["household"]["version"].as_i64().expect("version");
    let res = push(phone, vec![changeset(vec![change("household", household, Op::Update, version, fields)])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
}

/// A one-person household registered through identification, with every guarantee
/// met and 9,000 yuan of wage in `YEAR` against a 4,000-yuan line: ready to exit but for
/// the 两不退 facts.
async fn ready_to_exit(app: &TestApp, phone: &Client) -> Uuid {
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let line = json!({"year": YEAR, "region_prefix": "320703", "standard": "national", "yuan": 4000, "source": "县扶贫办通知"});
    assert_eq!(county.put("/api/v1/thresholds", line).await.0, 204);
    let (household, _) = create_household(phone, VILLAGE_1, 0).await;
    let case = county.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("id").to_owned();
    for (step, who) in [
        ("application", "officer-a"),
        ("home_verification", "village-1"),
        ("comparison", "township-1"),
        ("village_assessment", "village-1"),
        ("village_notice", "village-1"),
        ("township_review", "township-1"),
        ("township_notice", "township-1"),
        ("county_review", "county"),
        ("announcement", "county"),
    ] {
        let signer = Admin::login(&app.base, who, PASSWORD).await;
        let (status, body) = pass_step(app, &signer, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let secure = json!({"food_clothing_secure": true, "education_secure": true, "medical_secure": true, "housing_secure": true, "water_secure": true});
    update(app, phone, household, secure).await;
    let income = json!({"household_id": household, "year": YEAR, "wage": 9000});
    let res = push(phone, vec![changeset(vec![change("income", Uuid::new_v4(), Op::Create, 0, income)])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);
    household
}

async fn assessment(county: &Admin, household: Uuid) -> Value {
    county.ok_get(&format!("/api/v1/households/{household}/assessment")).await
}

fn refused_fields(status: u16, body: &Value) -> Vec<String> {
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("exit_refused")), "{body}");
    body["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("field").to_owned())
        .collect()
}

fn obstacles(assessment: &Value) -> Vec<String> {
    assessment["exit"]["obstacles"]
        .as_array()
        .unwrap_or_else(|| panic!("{assessment}"))
        .iter()
        .map(|o| format!("{}:{}", o["type"].as_str().unwrap_or_default(), o["value"]).replace('"', ""))
        .collect()
}

async fn each_two_no_exit_fact_refuses_the_exit_until_recorded_as_met(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-exit").await;
    let household = ready_to_exit(&app, &phone).await;
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let officer = Admin::login(&app.base, "officer-a", PASSWORD).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let case = village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "exit"})).await;
    let case = case["id"].as_str().expect("id").to_owned();

    // Unrecorded is not met: both facts are named, by the procedure and the assessment.
    let (status, body) = sign(&officer, &case, "application").await;
    assert_eq!(refused_fields(status, &body), ["long_term_stable_income", "help_effective"]);
    assert_eq!(
        obstacles(&assessment(&county, household).await),
        ["unrecorded:long_term_stable_income", "unrecorded:help_effective"]
    );

    // Recorded as not met: each refuses on its own, with 003's words.
    update(&app, &phone, household, json!({"long_term_stable_income": false, "help_effective": true})).await;
    let (status, body) = sign(&officer, &case, "application").await;
    assert_eq!(refused_fields(status, &body), ["long_term_stable_income"]);
    assert!(
        body["error"]["fields"][0]["message_zh"].as_str().is_some_and(|m| m.contains("没有长期稳定收入来源")),
        "{body}"
    );
    update(&app, &phone, household, json!({"long_term_stable_income": true, "help_effective": false})).await;
    let (status, body) = sign(&officer, &case, "application").await;
    assert_eq!(refused_fields(status, &body), ["help_effective"]);
    assert!(body["error"]["fields"][0]["message_zh"].as_str().is_some_and(|m| m.contains("帮扶成效不显著")), "{body}");
    assert_eq!(obstacles(&assessment(&county, household).await), ["two_no_exit:help_not_effective"]);
    update(&app, &phone, household, json!({"help_effective": true})).await;

    // A relocation household must have moved in (易地搬迁未入住 may not exit).
    let measure = json!({"household_id": household, "category": "relocation", "name": "易地扶贫搬迁", "year": YEAR});
    let res = push(&phone, vec![changeset(vec![change("help_measure", Uuid::new_v4(), Op::Create, 0, measure)])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    let (status, body) = sign(&officer, &case, "application").await;
    assert_eq!(refused_fields(status, &body), ["relocation_moved_in"]);
    update(&app, &phone, household, json!({"relocation_moved_in": false})).await;
    let (status, body) = sign(&officer, &case, "application").await;
    assert_eq!(refused_fields(status, &body), ["relocation_moved_in"]);
    assert!(body["error"]["fields"][0]["message_zh"].as_str().is_some_and(|m| m.contains("易地搬迁未入住")), "{body}");
    // Water and housing refuse as guarantees, named once.
    update(&app, &phone, household, json!({"relocation_moved_in": true, "water_secure": false})).await;
    let (status, body) = sign(&officer, &case, "application").await;
    assert_eq!(refused_fields(status, &body), ["water_secure"]);
    update(&app, &phone, household, json!({"water_secure": true})).await;

    // Everything recorded as met: the assessment says it may exit and the procedure agrees.
    let ready = assessment(&county, household).await;
    assert_eq!(obstacles(&ready), Vec::<String>::new(), "{ready}");
    let (status, body) = sign(&officer, &case, "application").await;
    assert_eq!(status, 200, "{body}");
}

async fn a_dibao_household_exits_only_where_the_dibao_standard_is_above_the_line(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-dibao").await;
    let household = ready_to_exit(&app, &phone).await;
    update(&app, &phone, household, json!({"kind": "dibao", "long_term_stable_income": true, "help_effective": true}))
        .await;
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let officer = Admin::login(&app.base, "officer-a", PASSWORD).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let case = village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "exit"})).await;
    let case = case["id"].as_str().expect("id").to_owned();

    // No 低保 standard set for the region: a 低保兜底 household cannot be judged.
    let (status, body) = sign(&officer, &case, "application").await;
    assert_eq!(refused_fields(status, &body), ["dibao_standard"]);

    let policies = county.ok_get("/api/v1/rule-policies").await;
    let base = policies.as_array().expect("list")[0]["policy"].clone();
    let set_standard = |yuan: i64| {
        let mut policy = base.clone();
        policy["dibao_standard_fen"] = json!(yuan * 100);
        json!({"region_prefix": "320703", "policy": policy, "source": "县民政局低保标准"})
    };
    // 3,800 yuan is below the 4,000-yuan line: 003 §五(二) keeps the household in.
    assert_eq!(county.put("/api/v1/rule-policies", set_standard(3800)).await.0, 204);
    let (status, body) = sign(&officer, &case, "application").await;
    assert_eq!(refused_fields(status, &body), ["dibao_standard"]);
    assert!(body["error"]["fields"][0]["message_zh"].as_str().is_some_and(|m| m.contains("3800")), "{body}");
    let assessment = county.ok_get(&format!("/api/v1/households/{household}/assessment")).await;
    assert_eq!(obstacles(&assessment), ["two_no_exit:dibao_standard_not_above_line"]);
    // Equal to the line is not above it.
    assert_eq!(county.put("/api/v1/rule-policies", set_standard(4000)).await.0, 204);
    let (status, body) = sign(&officer, &case, "application").await;
    assert_eq!(refused_fields(status, &body), ["dibao_standard"]);
    // Above the line, the household may exit.
    assert_eq!(county.put("/api/v1/rule-policies", set_standard(4200)).await.0, 204);
    let (status, body) = sign(&officer, &case, "application").await;
    assert_eq!(status, 200, "{body}");
}

async fn no_dangerous_house_answers_the_identification_test(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let line = json!({"year": YEAR, "region_prefix": "320703", "standard": "national", "yuan": 4000, "source": "县扶贫办通知"});
    assert_eq!(county.put("/api/v1/thresholds", line).await.0, 204);
    // 002 §二(一)'s test for this county.
    let policies = county.ok_get("/api/v1/rule-policies").await;
    let mut policy = policies.as_array().expect("list")[0]["policy"].clone();
    policy["identification"] = json!("income_and_hardship");
    let body = json!({"region_prefix": "320703", "policy": policy, "source": "002 §二(一)"});
    assert_eq!(county.put("/api/v1/rule-policies", body).await.0, 204);

    // Two households below the line, both healthy: one with no dangerous house (无), one
    // in a C-grade house.
    let phone = app.phone("officer-a", "phone-r2").await;
    let mut cases = Vec::new();
    for grade in ["none", "c"] {
        let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
        update(&app, &phone, household, json!({"housing_grade": grade})).await;
        let income = json!({"household_id": household, "year": YEAR, "wage": 2000});
        push(&phone, vec![changeset(vec![change("income", Uuid::new_v4(), Op::Create, 0, income)])]).await;
        let assessment = county.ok_get(&format!("/api/v1/households/{household}/assessment")).await;
        cases.push((grade, household, assessment));
    }
    let criterion = |a: &Value, name: &str| {
        a["identification"]["criteria"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["criterion"] == name))
            .map(|c| c["answer"].clone())
    };
    // 无 is a firm no to 危房, so the household is not eligible (it used to be unknown).
    assert_eq!(criterion(&cases[0].2, "dangerous_house"), Some(json!("no")), "{}", cases[0].2);
    assert_eq!(cases[0].2["identification"]["eligible"], "no");
    assert_eq!(criterion(&cases[1].2, "dangerous_house"), Some(json!("yes")));
    assert_eq!(cases[1].2["identification"]["eligible"], "yes");

    // At the identify procedure's village assessment the same answer is kept with the
    // sign-off and shown on the case, with its reasons.
    for (grade, household, _) in &cases {
        let case = county.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
        let case = case["id"].as_str().expect("id").to_owned();
        for (step, who) in [
            ("application", "officer-a"),
            ("home_verification", "village-1"),
            ("comparison", "township-1"),
            ("village_assessment", "village-1"),
        ] {
            let signer = Admin::login(&app.base, who, PASSWORD).await;
            let (status, body) = pass_step(&app, &signer, &case, step).await;
            assert_eq!(status, 200, "{step}: {body}");
        }
        let view = county.ok_get(&format!("/api/v1/cases/{case}")).await;
        let signoffs = view["signoffs"].as_array().expect("signoffs");
        let assessed = signoffs.iter().find(|s| s["step"] == "village_assessment").expect("signed");
        let expected = if *grade == "none" { "no" } else { "yes" };
        assert_eq!(assessed["assessment"]["eligible"], expected, "{grade}: {assessed}");
        assert_eq!(assessed["assessment"]["rule"], "R2");
        let reasons = assessed["assessment"]["reasons_zh"].to_string();
        let house = if *grade == "none" { "居住C级、D级危房：否" } else { "居住C级、D级危房：是" };
        assert!(reasons.contains(house), "{reasons}");
        // Other steps carry no assessment.
        assert!(signoffs.iter().filter(|s| s["step"] != "village_assessment").all(|s| s["assessment"].is_null()));
    }
}
