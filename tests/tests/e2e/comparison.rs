//! Data comparison (C8): a department list flags the right households, changes
//! nothing else, and a malformed file is rejected whole.

use crate::harness::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(department_lists_raise_leads_and_change_nothing_else);

async fn upload(who: &Admin, source: &str, file_name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .text("source", source.to_owned())
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()));
    who.post_multipart("/api/v1/comparisons", form).await
}

async fn department_lists_raise_leads_and_change_nothing_else(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 1).await;
    let (other, _) = create_household(&phone, VILLAGE_2, 0).await;
    let before = app.admin.household(household).await;
    let head_id = before["member"].as_array().expect("members").iter().find(|m| m["relation"] == "head").expect("head")
        ["id_number"]
        .as_str()
        .expect("id")
        .to_owned();
    let son_id = before["member"].as_array().expect("members").iter().find(|m| m["relation"] == "son").expect("son")["id_number"]
        .as_str()
        .expect("id")
        .to_owned();
    let stranger = fresh_id_number();
    let county = Admin::login(&app.base, "county", PASSWORD).await;

    let csv = format!(
        "姓名,身份证号码,登记日期,价格\n户主,{head_id},2020-01-01,85000\n儿子,{son_id},2021/3/2,20000\n外人,{stranger},2022-01-01,90000\n错号,110105194912310021,2022-01-01,90000\n"
    );
    let (status, report) = upload(&county, "vehicles", "车辆.csv", csv.into_bytes()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (&report["rows_total"], &report["rows_accepted"], &report["rows_rejected"], &report["rows_matched"]),
        (&json!(4), &json!(3), &json!(1), &json!(1))
    );
    assert_eq!(report["rejected"][0]["line"], 5);
    assert_eq!(report["rejected"][0]["code"], "invalid_id_number");
    let lead = &report["leads"][0];
    assert_eq!(lead["household_id"], household.to_string());
    assert_eq!(lead["reason"], "vehicle");
    assert_eq!(lead["after_registration"], false, "owned before registration: a mis-registration to look into");
    assert!(!lead["details"].to_string().contains(&head_id), "the stored row masks the ID number");
    assert_eq!(app.admin.household(household).await, before, "a match is never applied to the household");

    // A malformed file is rejected whole: nothing is recorded.
    let (status, body) = upload(&county, "vehicles", "车辆.csv", "姓名,电话\n张三,138\n".as_bytes().to_vec()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_file")));
    let (status, body) = upload(&county, "vehicles", "车辆.xlsx", b"PK\x03\x04broken".to_vec()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_file")));
    let all = county.ok_get("/api/v1/comparisons/leads").await;
    assert_eq!(all.as_array().map(Vec::len), Some(1));

    // An XLSX death register, with the date as an Excel date.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "姓名").expect("cell");
    sheet.write_string(0, 1, "公民身份号码").expect("cell");
    sheet.write_string(0, 2, "死亡日期").expect("cell");
    sheet.write_string(1, 0, "儿子").expect("cell");
    sheet.write_string(1, 1, &son_id).expect("cell");
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 10, 1).expect("date");
    sheet
        .write_datetime_with_format(1, 2, &date, &rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd"))
        .expect("cell");
    let bytes = workbook.save_to_buffer().expect("xlsx");
    let (status, report) = upload(&county, "deaths", "死亡人员.xlsx", bytes).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["leads"][0]["reason"], "dead_missing_or_separate");
    assert_eq!(report["leads"][0]["details"]["死亡日期"], "2026-10-01");

    // Officer B sees no leads of A's households; the village decides with a field note.
    let b = Admin::login(&app.base, "officer-b", PASSWORD).await;
    assert_eq!(b.ok_get("/api/v1/comparisons/leads").await.as_array().map(Vec::len), Some(0));
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let lead_id = lead["id"].as_str().expect("id");
    let (status, body) = village
        .post(&format!("/api/v1/comparisons/leads/{lead_id}/decide"), json!({"decision": "dismiss", "note": " "}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("note_required")));
    let (status, _) = village
        .post(
            &format!("/api/v1/comparisons/leads/{lead_id}/decide"),
            json!({"decision": "dismiss", "note": "车辆已于2020年转卖，入户核实无车"}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = village
        .post(&format!("/api/v1/comparisons/leads/{lead_id}/decide"), json!({"decision": "confirm", "note": "x"}))
        .await;
    assert_eq!(status, 409);
    let decided = county.ok_get(&format!("/api/v1/comparisons/leads?household_id={household}&status=dismissed")).await;
    assert_eq!(decided[0]["note"], "车辆已于2020年转卖，入户核实无车");
    assert_eq!(app.admin.household(household).await, before);
    let _ = other;
}
