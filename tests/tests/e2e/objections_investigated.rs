//! 002 §三(七) end to end: "在村（组）内公开场所公示5天，若有举报，由动态管理工作核查组
//! 组织调查核实；没有举报，提交村民代表会作出决议，上报街道审定". The county sets up the
//! 核查组 (role `verifier`, granted township by township); it, not the village team whose
//! list it is, investigates and answers an objection to a village notice, and the
//! objector reads its findings by receipt. After the village notice the case waits for
//! the 村民代表会决议, which the village team records (day, members, present, agreeing)
//! and which is audited, before the township may review it.

use crate::harness::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    an_objection_to_a_village_notice_is_investigated_by_the_verification_group_not_the_village_team,
    after_a_village_notice_the_case_waits_for_the_representatives_resolution,
);

/// Publishes 东村's village notice: (notice id, token).
async fn publish(village: &Admin) -> (String, String) {
    let draft = village.ok_post("/api/v1/notices", json!({"step": "village_notice", "region_code": VILLAGE_1})).await;
    let id = draft["id"].as_str().expect("id").to_owned();
    let notice = village.ok_post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    let token = notice["url"].as_str().expect("url").rsplit('/').next().expect("token").to_owned();
    (id, token)
}

async fn step_of(app: &TestApp, case: &str) -> String {
    app.admin.ok_get(&format!("/api/v1/cases/{case}")).await["step"].as_str().expect("step").to_owned()
}

async fn last_signoff(app: &TestApp, case: &str) -> Value {
    let view = app.admin.ok_get(&format!("/api/v1/cases/{case}")).await;
    view["signoffs"].as_array().expect("signoffs").last().expect("a sign-off").clone()
}

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

async fn an_objection_to_a_village_notice_is_investigated_by_the_verification_group_not_the_village_team(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let [_, village, township, county] = users(&app).await;

    // The county sets up the 核查组 (002 §三(一): 由区农林局具体负责) township by
    // township; a township may not, nor may a group be set over one village.
    let group = |username: &str, region: &str| json!({"username": username, "name": "阿子营核查组", "password": PASSWORD, "roles": [{"role": "verifier", "region_code": region}]});
    let (status, body) = township.post("/api/v1/users", group("group-by-township", TOWNSHIP)).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = county.post("/api/v1/users", group("group-on-a-village", VILLAGE_1)).await;
    assert_eq!((status, code(&body)), (422, Some("region_code_level")), "{body}");
    county.ok_post("/api/v1/users", group("hechazu", TOWNSHIP)).await;
    let investigator = Admin::login(&app.base, "hechazu", PASSWORD).await;
    // A group over another township reads nothing here.
    app.admin
        .ok_post(
            "/api/v1/regions",
            json!({"code": "320703002000", "name": "二号镇", "level": "township", "parent_code": COUNTY}),
        )
        .await;
    county.ok_post("/api/v1/users", group("other-group", "320703002000")).await;
    let stranger = Admin::login(&app.base, "other-group", PASSWORD).await;

    let case = case_at_village_notice(&app).await;
    let (notice, token) = publish(&village).await;

    // A villager objects to the household through the public form.
    let receipt_path = object_on_page(&app.base, &token, "1", "该户儿子在县城有商品房一套。").await;

    // The group sees it, assigned to it; the group of another township does not.
    let listed = investigator.ok_get(&format!("/api/v1/objections?notice_id={notice}")).await;
    let objection = listed[0]["id"].as_str().expect("objection listed for the 核查组").to_owned();
    assert_eq!(listed[0]["assigned_level"], "verifier");
    assert_eq!(stranger.ok_get(&format!("/api/v1/objections?notice_id={notice}")).await, json!([]));

    // The village team whose list it is may not answer it, nor dismiss it in bulk, nor
    // may the township or the other township's group.
    let findings = "经核查组入户调查并查询不动产登记，该户儿子名下无商品房，举报不属实。";
    let answer = json!({"outcome": "dismissed", "findings": findings});
    let path = format!("/api/v1/objections/{objection}/answer");
    for (who, expected) in [(&village, 403), (&township, 403), (&stranger, 403)] {
        let (status, body) = who.post(&path, answer.clone()).await;
        assert_eq!(status, expected, "{body}");
    }
    let (status, _) = village
        .post(
            &format!("/api/v1/notices/{notice}/objections/dismiss"),
            json!({"objection_ids": [objection], "reason": "spam", "findings": "无效"}),
        )
        .await;
    assert_eq!(status, 403, "the team cannot wave away objections to its own list");
    // The notice waits for the investigation.
    app.clock.advance(chrono::Duration::days(7));
    let (status, body) = village.post(&format!("/api/v1/notices/{notice}/close"), json!({})).await;
    assert_eq!((status, code(&body)), (409, Some("objections_open")));

    // The 核查组 investigates and answers; the objector reads the findings by receipt.
    let answered = investigator.ok_post(&path, answer).await;
    assert_eq!((answered["status"].as_str(), answered["findings"].as_str()), (Some("dismissed"), Some(findings)));
    let receipt = reqwest::get(format!("{}{receipt_path}", app.base)).await.expect("receipt");
    let receipt = receipt.text().await.expect("html");
    assert!(receipt.contains("名下无商品房"), "{receipt}");
    let audited = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_log a JOIN app_user u ON u.id = a.user_id \
             WHERE a.action = 'objection_answer' AND a.entity_id = '{objection}' AND u.username = 'hechazu'"
        ))
        .await;
    assert_eq!(audited, 1, "the answer is audited as the 核查组's");

    // Dismissed, the notice closed with the answer and the case waits for the
    // representatives' resolution (not yet the township).
    let closed = village.ok_get(&format!("/api/v1/notices/{notice}")).await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(step_of(&app, &case).await, "village_resolution");
    // The group only reads: it cannot edit the household it investigated.
    let household = app.admin.ok_get(&format!("/api/v1/cases/{case}")).await["household_id"].clone();
    let checked = investigator.ok_get(&format!("/api/v1/households/{}", household.as_str().expect("id"))).await;
    assert!(checked["household"].is_object(), "{checked}");
}

async fn after_a_village_notice_the_case_waits_for_the_representatives_resolution(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let [_, village, township, _] = users(&app).await;
    let case = case_at_village_notice(&app).await;
    let turned_down = case_at_village_notice(&app).await;
    let (notice, _) = publish(&village).await;
    let resolution = format!("/api/v1/notices/{notice}/resolution");
    let today = || app.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string();
    let meeting = |present: u32, agreeing: u32| json!({"held_on": today(), "members": 31, "present": present, "agreeing": agreeing, "note": "村委会议室"});

    // Not while the notice is up.
    let (status, body) = village.post(&resolution, meeting(25, 24)).await;
    assert_eq!((status, code(&body)), (409, Some("resolution_not_due")), "{body}");

    // The period ends with no objection: the notice closes, and the cases wait.
    app.clock.advance(chrono::Duration::days(7));
    village.ok_post(&format!("/api/v1/notices/{notice}/close"), json!({})).await;
    assert_eq!(step_of(&app, &case).await, "village_resolution");
    // The township may not review it yet; the village team may not just sign it off.
    let (status, body) = township
        .post(&format!("/api/v1/cases/{case}/signoffs"), json!({"step": "township_review", "decision": "approve"}))
        .await;
    assert_eq!((status, code(&body)), (409, Some("step_mismatch")), "{body}");
    let (status, body) = village
        .post(&format!("/api/v1/cases/{case}/signoffs"), json!({"step": "village_resolution", "decision": "approve"}))
        .await;
    assert_eq!((status, code(&body)), (409, Some("resolution_required")), "{body}");
    // The representatives may turn one household down.
    let (status, body) = village
        .post(
            &format!("/api/v1/cases/{turned_down}/signoffs"),
            json!({"step": "village_resolution", "decision": "reject", "comment": "村民代表会议未通过"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Only the village's team records it; a meeting that could not resolve is no
    // resolution (two thirds present, a majority of them agreeing); no day ahead.
    let (status, body) = township.post(&resolution, meeting(25, 24)).await;
    assert_eq!((status, code(&body)), (403, Some("forbidden")), "{body}");
    let (status, body) = village.post(&resolution, meeting(20, 20)).await;
    assert_eq!((status, code(&body)), (422, Some("resolution_not_carried")), "{body}");
    let (status, body) = village.post(&resolution, meeting(25, 12)).await;
    assert_eq!((status, code(&body)), (422, Some("resolution_not_carried")), "{body}");
    let tomorrow = (app.clock.now() + chrono::Duration::days(1)).with_timezone(&chrono_tz::Asia::Shanghai);
    let ahead =
        json!({"held_on": tomorrow.format("%Y-%m-%d").to_string(), "members": 31, "present": 25, "agreeing": 24});
    let (status, body) = village.post(&resolution, ahead).await;
    assert_eq!((status, code(&body)), (400, Some("invalid_date")), "{body}");
    assert_eq!(step_of(&app, &case).await, "village_resolution", "nothing passed");
    assert_eq!(app.count("SELECT COUNT(*) FROM village_resolution").await, 0);

    // Recorded: the case goes on to the township, signed by the village team with the
    // meeting in the sign-off, and the resolution is audited and listed on the notice.
    let recorded = village.ok_post(&resolution, meeting(25, 24)).await;
    assert_eq!(recorded["case_ids"], json!([case]), "the turned-down case is not passed: {recorded}");
    assert_eq!((recorded["present"].as_i64(), recorded["agreeing"].as_i64()), (Some(25), Some(24)));
    assert_eq!(step_of(&app, &case).await, "township_review");
    assert_eq!(app.admin.ok_get(&format!("/api/v1/cases/{turned_down}")).await["status"], "rejected");
    let signed = last_signoff(&app, &case).await;
    assert_eq!(
        (signed["step"].as_str(), signed["decision"].as_str(), signed["role"].as_str()),
        (Some("village_resolution"), Some("approve"), Some("village"))
    );
    assert!(signed["comment"].as_str().is_some_and(|c| c.contains("到会25人") && c.contains("同意24人")), "{signed}");
    let id = recorded["id"].as_str().expect("resolution id");
    let audited = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_log a JOIN app_user u ON u.id = a.user_id \
             WHERE a.action = 'village_resolution' AND a.entity_id = '{id}' AND u.username = 'village-1'"
        ))
        .await;
    assert_eq!(audited, 1);
    let listed = township.ok_get(&resolution).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!((listed[0]["held_on"].as_str(), listed[0]["case_ids"].clone()), (Some(today().as_str()), json!([case])));
    // Once is enough: nothing waits any more.
    let (status, body) = village.post(&resolution, meeting(25, 24)).await;
    assert_eq!((status, code(&body)), (409, Some("resolution_not_due")), "{body}");
    let (status, body) = township
        .post(&format!("/api/v1/cases/{case}/signoffs"), json!({"step": "township_review", "decision": "approve"}))
        .await;
    assert_eq!(status, 200, "{body}");
}
