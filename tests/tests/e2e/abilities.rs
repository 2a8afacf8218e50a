//! `GET /api/v1/me/abilities` (review #9): what the console shows a user may do is what
//! the write routes then accept. For an officer, a village team, a township, the county,
//! an administrator over the county and the root administrator, each ability is checked
//! against the route itself: importing a department list, saving a message template,
//! previewing a report of each region offered (and of one not offered). Also the region
//! prefixes the console offers grants and rule variants by, as the server reads them.

use crate::harness::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(the_abilities_are_what_the_writes_accept);

async fn try_import(who: &Admin) -> u16 {
    let csv = format!("姓名,身份证号码,登记日期,价格\n某人,{},2014-01-10,85000\n", fresh_id_number());
    let form = reqwest::multipart::Form::new()
        .text("source", "vehicles")
        .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("车辆.csv"));
    who.post_multipart("/api/v1/comparisons", form).await.0
}

async fn the_abilities_are_what_the_writes_accept(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "county-admin", "name": "县管理员", "password": PASSWORD, "roles": [{"role": "admin", "region_code": COUNTY}]}),
        )
        .await;
    // A template as it stands: saving it unchanged is a write that changes nothing.
    let templates = app.admin.ok_get("/api/v1/notification-templates").await;
    let template = templates.as_array().and_then(|t| t.first()).expect("a template").clone();
    let path = format!(
        "/api/v1/notification-templates/{}/{}",
        template["event"].as_str().expect("event"),
        template["channel"].as_str().expect("channel")
    );
    let unchanged = json!({"subject": template["subject"], "body": template["body"], "sms_template_code": template["sms_template_code"]});

    let mut who = vec![("root admin", Admin::login(&app.base, "admin", ADMIN_PASSWORD).await)];
    for name in ["officer-a", "village-1", "township-1", "county", "county-admin"] {
        who.push((name, Admin::login(&app.base, name, PASSWORD).await));
    }
    let mut seen = Vec::new();
    for (name, user) in &who {
        let may = user.ok_get("/api/v1/me/abilities").await;
        let flag = |key: &str| may[key].as_bool().unwrap_or_else(|| panic!("{name}: {key} in {may}"));

        let status = try_import(user).await;
        assert_eq!(flag("may_import_comparison"), status != 403, "{name}: import answered {status}; {may}");
        if flag("may_import_comparison") {
            assert_eq!(status, 200, "{name}");
        }

        let (status, body) = user.put(&path, unchanged.clone()).await;
        assert_eq!(flag("may_edit_templates"), status != 403, "{name}: template save answered {status} {body}; {may}");
        if flag("may_edit_templates") {
            assert_eq!(status, 200, "{name}: {body}");
        }

        let regions: Vec<String> = may["report_regions"]
            .as_array()
            .expect("report_regions")
            .iter()
            .map(|r| r.as_str().expect("a code").to_owned())
            .collect();
        let reports = may["reports"].as_array().expect("reports");
        assert_eq!(regions.is_empty(), reports.is_empty(), "{name}: reports without a region or the reverse: {may}");
        let (status, _) = user.get("/api/v1/reports/dynamic_adjustment/preview").await;
        assert_eq!(regions.is_empty(), status == 403, "{name}: the default report answered {status}; {may}");
        for region in &regions {
            let (status, body) =
                user.get(&format!("/api/v1/reports/dynamic_adjustment/preview?region_code={region}")).await;
            assert_eq!(status, 200, "{name}: a region offered is reported on: {region} {body}");
        }
        if !regions.iter().any(|r| covers(r, COUNTY)) {
            let (status, _) =
                user.get(&format!("/api/v1/reports/dynamic_adjustment/preview?region_code={COUNTY}")).await;
            assert_eq!(status, 403, "{name}: the county, not offered, is refused");
        }
        for report in reports {
            let name_of = report["name"].as_str().expect("name");
            let whole = report["shows_whole_numbers"].as_bool().expect("shows_whole_numbers");
            assert_eq!(
                whole,
                matches!(name_of, "household_form" | "member_increase" | "member_decrease"),
                "the paper forms, and only they, print whole numbers: {report}"
            );
        }
        seen.push((*name, flag("may_import_comparison"), flag("may_edit_templates"), regions));
    }
    let expected: Vec<(&str, bool, bool, Vec<String>)> = vec![
        ("root admin", true, true, seen[0].3.clone()),
        ("officer-a", false, false, vec![]),
        ("village-1", false, false, vec![VILLAGE_1.into()]),
        ("township-1", false, false, vec![TOWNSHIP.into()]),
        ("county", true, false, vec![COUNTY.into()]),
        ("county-admin", true, false, vec![COUNTY.into()]),
    ];
    assert_eq!(seen, expected, "who may do what");
    assert!(!seen[0].3.is_empty(), "the root administrator reports");

    // The prefixes: as the server derives them from the code (a village covers itself).
    let county = &who[4].1;
    let regions = county.ok_get("/api/v1/regions").await;
    let prefix_of = |code: &str| -> Value {
        regions
            .as_array()
            .expect("regions")
            .iter()
            .find(|r| r["code"] == code)
            .map(|r| r["prefix"].clone())
            .unwrap_or_default()
    };
    assert_eq!(
        (prefix_of(COUNTY), prefix_of(TOWNSHIP), prefix_of(VILLAGE_1)),
        (json!("320703"), json!("320703001"), json!(VILLAGE_1))
    );
    let grantable = county.ok_get("/api/v1/grantable-roles").await;
    let village_team =
        grantable.as_array().expect("grantable").iter().find(|g| g["role"] == "village").expect("a village role");
    assert_eq!(village_team["within_prefix"], "320703", "{grantable}");
    let (status, body) = county
        .post("/api/v1/users", json!({"username": "new-village", "name": "新村委", "password": PASSWORD, "roles": [{"role": "village", "region_code": VILLAGE_2}]}))
        .await;
    assert_eq!(status, 200, "a region under the prefix offered is granted: {body}");
}

/// Whether `region` is `code` or above it, for this test's codes (whose villages do not
/// end in 0): its code without the trailing zeros starts `code`.
fn covers(region: &str, code: &str) -> bool {
    code.starts_with(region.trim_end_matches('0'))
}
