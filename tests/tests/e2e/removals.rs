//! Removals the way 002 §二(二) and §三(五) say: reason 9 ("死亡人员、失踪人员、与户主不
//! 共享开支或收入的人员") takes the named person off the register and leaves the household
//! registered; a car (or post, town property, business) acquired after the 建档立卡 date as
//! the household's exit measure is "不认定为错评，按正常脱贫程序退出", so such a removal is
//! refused, while the same car owned before registration (错评) is removed.

use crate::harness::*;
use crate::on_both_backends;
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    reason_nine_removes_the_member_and_leaves_the_household_registered,
    a_car_bought_after_registration_as_exit_measure_is_no_removal,
    a_vehicle_lead_counts_from_the_stored_registration_date,
);

/// Runs a case opened by the village through all nine steps.
async fn run_full_case(app: &TestApp, case: &str) {
    pass_every_step(app, case).await;
    let [_, _, _, county] = users(app).await;
    let done = county.ok_get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(done["status"], "completed", "{done}");
}

/// A household of a head and `extra` sons, registered through identification.
async fn registered_household(app: &TestApp, extra: usize) -> (Uuid, Vec<Uuid>) {
    let phone = app.phone("officer-a", &format!("phone-{}", Uuid::new_v4())).await;
    let (household, members) = create_household(&phone, VILLAGE_1, extra).await;
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let case = village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    run_full_case(app, case["id"].as_str().expect("id")).await;
    (household, members)
}

fn field_codes(body: &Value) -> Vec<(String, String)> {
    body["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (f["field"].as_str().unwrap_or_default().to_owned(), f["code"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

async fn reason_nine_removes_the_member_and_leaves_the_household_registered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (household, members) = registered_household(&app, 1).await;
    let [_, village, _, _] = users(&app).await;
    let reason_nine = json!({"household_id": household, "kind": "remove", "reason": "dead_missing_or_separate"});

    // The seed names persons: the case must say which one.
    let (status, body) = village.post("/api/v1/cases", reason_nine.clone()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(field_codes(&body), vec![("member_id".to_owned(), "required".to_owned())]);

    let mut filed = reason_nine;
    filed["member_id"] = json!(members[1]);
    let case = village.ok_post("/api/v1/cases", filed).await;
    run_full_case(&app, case["id"].as_str().expect("id")).await;

    let id = household.to_string();
    let status_is = |status: &str| format!("SELECT COUNT(*) FROM household WHERE id = '{id}' AND status = '{status}'");
    assert_eq!(app.count(&status_is("registered")).await, 1, "the household stays registered");
    assert_eq!(app.count(&status_is("removed")).await, 0);
    let active = |member: Uuid| format!("SELECT COUNT(*) FROM member WHERE id = '{member}' AND active");
    assert_eq!(app.count(&active(members[1])).await, 0, "the named member left");
    assert_eq!(app.count(&active(members[0])).await, 1, "the head stays");
}

async fn a_car_bought_after_registration_as_exit_measure_is_no_removal(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (household, _) = registered_household(&app, 0).await;
    // 建档立卡 in 2015, as the register import stores it; identification here completed today.
    app.execute_sql(&format!("UPDATE household SET registered_on = '2015-06-01' WHERE id = '{household}'")).await;
    let [_, village, _, _] = users(&app).await;
    let removal = |acquired_on: &str, as_exit_measure: bool| {
        json!({"household_id": household, "kind": "remove", "reason": "vehicle",
               "acquired_on": acquired_on, "as_exit_measure": as_exit_measure})
    };

    // Bought in 2016 as the exit measure: before today's identification, but after the stored
    // 建档立卡 date, which is the one that counts.
    let (status, body) = village.post("/api/v1/cases", removal("2016-03-01", true)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(field_codes(&body), vec![("reason".to_owned(), "removal_is_normal_exit".to_owned())]);
    let message = body["error"]["fields"][0]["message_zh"].as_str().unwrap_or_default();
    assert!(message.contains("正常脱贫程序退出"), "{body}");
    let open = format!("SELECT COUNT(*) FROM procedure_case WHERE household_id = '{household}' AND kind = 'remove'");
    assert_eq!(app.count(&open).await, 0, "nothing was opened");

    // The same car owned before registration is 错评: the removal proceeds.
    let case = village.ok_post("/api/v1/cases", removal("2014-03-01", true)).await;
    run_full_case(&app, case["id"].as_str().expect("id")).await;
    let removed = format!("SELECT COUNT(*) FROM household WHERE id = '{household}' AND status = 'removed'");
    assert_eq!(app.count(&removed).await, 1);
}

async fn a_vehicle_lead_counts_from_the_stored_registration_date(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    let view = app.admin.household(household).await;
    let head_id = view["member"][0]["id_number"].as_str().expect("id").to_owned();
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let csv = format!("姓名,身份证号码,登记日期,价格\n户主,{head_id},2020-01-01,85000\n");
    let upload = || async {
        let form = reqwest::multipart::Form::new()
            .text("source", "vehicles")
            .part("file", reqwest::multipart::Part::bytes(csv.clone().into_bytes()).file_name("车辆.csv"));
        let (status, report) = county.post_multipart("/api/v1/comparisons", form).await;
        assert_eq!(status, 200, "{report}");
        report["leads"][0]["after_registration"].clone()
    };
    // Recorded today and never identified here: a 2020 car came before it.
    assert_eq!(upload().await, json!(false));
    // Loaded from the register with its 建档立卡 date: the same car came after it.
    app.execute_sql(&format!("UPDATE household SET registered_on = '2015-06-01' WHERE id = '{household}'")).await;
    assert_eq!(upload().await, json!(true));
}
