//! Who answers an objection, wherever it is filed (002 §三(七); review gap 9 and
//! 002-23): a village notice is published only where an active 核查组 (role `verifier`)
//! covers the township, since "若有举报，由动态管理工作核查组组织调查核实" and nobody else
//! may; when the county revokes the group while the notice runs, an objection goes to
//! the county office, which is told and may answer it; an objection to a township notice
//! is answered by the township ("若有举报，由街道组织核实"), not by the 核查组, the village
//! team or the county.

use crate::harness::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    a_village_notice_is_published_only_where_a_verification_group_covers_the_township,
    an_objection_filed_after_the_group_was_revoked_reaches_the_county_which_answers_it,
    an_objection_to_a_township_notice_is_answered_by_the_township,
    the_county_inbox_counts_an_objection_its_revoked_group_left_open,
);

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

/// A draft notice of `step` in `region`, by `who`: its id.
async fn draft(who: &Admin, step: &str, region: &str) -> String {
    let draft = who.ok_post("/api/v1/notices", json!({"step": step, "region_code": region})).await;
    draft["id"].as_str().expect("id").to_owned()
}

/// Publishes a draft: its public token.
async fn publish(who: &Admin, id: &str) -> String {
    let notice = who.ok_post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    notice["url"].as_str().expect("url").rsplit('/').next().expect("token").to_owned()
}

async fn user_id(app: &TestApp, username: &str) -> String {
    let users = app.admin.ok_get("/api/v1/users").await;
    let user = users.as_array().expect("users").iter().find(|u| u["username"] == username).expect("user listed");
    user["id"].as_str().expect("id").to_owned()
}

/// Notifications kept for `username` of `event`.
async fn told(app: &TestApp, event: &str, username: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM notification n JOIN app_user u ON u.id = n.user_id \
         WHERE n.event = '{event}' AND u.username = '{username}'"
    ))
    .await
}

async fn a_village_notice_is_published_only_where_a_verification_group_covers_the_township(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let [_, village, _, county] = users(&app).await;
    let verifier = user_id(&app, "verifier-1").await;
    let grant = json!({"role": "verifier", "region_code": TOWNSHIP});
    // The county takes the township's only 核查组 away.
    let (status, body) = county.post(&format!("/api/v1/users/{verifier}/roles/remove"), grant).await;
    assert_eq!(status, 204, "{body}");
    // A group over another township and a deactivated one over this township do not count.
    app.admin
        .ok_post(
            "/api/v1/regions",
            json!({"code": "320703002000", "name": "二号镇", "level": "township", "parent_code": COUNTY}),
        )
        .await;
    let group = |username: &str, region: &str| json!({"username": username, "name": "核查组", "password": PASSWORD, "roles": [{"role": "verifier", "region_code": region}]});
    county.ok_post("/api/v1/users", group("other-group", "320703002000")).await;
    let retired = county.ok_post("/api/v1/users", group("retired-group", TOWNSHIP)).await;
    let retired = retired["id"].as_str().expect("id").to_owned();
    county.ok_post(&format!("/api/v1/users/{retired}/active"), json!({"active": false})).await;

    let case = case_at_village_notice(&app).await;
    let notice = draft(&village, "village_notice", VILLAGE_1).await;
    let (status, body) = village.post(&format!("/api/v1/notices/{notice}/publish"), json!({})).await;
    assert_eq!((status, code(&body)), (409, Some("no_verifier")), "{body}");
    let message = body["error"]["message_zh"].as_str().unwrap_or_default();
    assert!(message.contains("核查组"), "the message tells the county what to do: {body}");
    let held = village.ok_get(&format!("/api/v1/notices/{notice}")).await;
    assert_eq!(held["status"], "draft");
    // The console is not offered 发布 the server would refuse, and is told why.
    assert_eq!(held["actions"], json!(["withdraw"]), "{held}");
    assert_eq!(held["publish_blocked"]["code"], "no_verifier", "{held}");
    assert_eq!(app.count("SELECT COUNT(*) FROM notice WHERE status = 'published'").await, 0);

    // The county sets up a group over the township: the same draft is published.
    county.ok_post("/api/v1/users", group("hechazu", TOWNSHIP)).await;
    let ready = village.ok_get(&format!("/api/v1/notices/{notice}")).await;
    assert_eq!(
        (&ready["actions"], &ready["publish_blocked"]),
        (&json!(["publish", "withdraw"]), &Value::Null),
        "{ready}"
    );
    let token = publish(&village, &notice).await;
    assert!(!token.is_empty());
    let published = village.ok_get(&format!("/api/v1/notices/{notice}")).await;
    assert_eq!(published["status"], "published");
    assert_eq!(published["cases"][0]["case_id"], case.as_str());
}

async fn an_objection_filed_after_the_group_was_revoked_reaches_the_county_which_answers_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let [_, village, township, county] = users(&app).await;
    // Everyone involved can be reached by SMS: a notification row is kept for each.
    for (user, phone) in [("county", "13800138011"), ("verifier-1", "13800138012"), ("village-1", "13800138013")] {
        app.execute_sql(&format!("UPDATE app_user SET phone = '{phone}' WHERE username = '{user}'")).await;
    }
    let first = case_at_village_notice(&app).await;
    let second = case_at_village_notice(&app).await;
    let notice = draft(&village, "village_notice", VILLAGE_1).await;
    let token = publish(&village, &notice).await;

    // One objection while the group covers the township: it is the group's.
    object_on_page(&app.base, &token, "1", "该户有一辆小轿车。").await;
    let group = Admin::login(&app.base, "verifier-1", PASSWORD).await;
    let listed = group.ok_get(&format!("/api/v1/objections?notice_id={notice}")).await;
    assert_eq!(listed[0]["assigned_level"], "verifier", "{listed}");
    let before = listed[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(told(&app, "objection_received", "verifier-1").await, 1);

    // The county revokes the group; a second objection is filed with the county office,
    // which is told, and the group is not.
    let verifier = user_id(&app, "verifier-1").await;
    let (status, body) = county
        .post(&format!("/api/v1/users/{verifier}/roles/remove"), json!({"role": "verifier", "region_code": TOWNSHIP}))
        .await;
    assert_eq!(status, 204, "{body}");
    // A later hour: the notification of the first objection does not swallow this one.
    app.clock.advance(chrono::Duration::hours(2));
    object_on_page(&app.base, &token, "2", "该户儿子是公职人员。").await;
    let listed = county.ok_get(&format!("/api/v1/objections?notice_id={notice}")).await;
    let after = listed
        .as_array()
        .expect("objections")
        .iter()
        .find(|o| o["id"] != before.as_str())
        .expect("the second objection")
        .clone();
    assert_eq!(after["assigned_level"], "county", "{after}");
    let after = after["id"].as_str().expect("id").to_owned();
    assert_eq!(told(&app, "objection_received", "county").await, 1, "the county office is told");
    assert_eq!(told(&app, "objection_received", "verifier-1").await, 1, "not the revoked group");

    // Both answers falling due are the county office's to be reminded of, the group's
    // first one included: no group covers the village any more.
    let due = app.clock.now() + chrono::Duration::days(5) - chrono::Duration::hours(12);
    jingzhun::notices::notice::remind(&app.state.db, due).await.expect("remind");
    assert_eq!(told(&app, "objection_due", "county").await, 2);
    assert_eq!(told(&app, "objection_due", "verifier-1").await, 0);

    // Neither the village team whose list it is nor the township may answer either one.
    let answer = |findings: &str| json!({"outcome": "dismissed", "findings": findings});
    for objection in [&before, &after] {
        let path = format!("/api/v1/objections/{objection}/answer");
        for who in [&village, &township] {
            let (status, body) = who.post(&path, answer("村里说没问题")).await;
            assert_eq!(status, 403, "{body}");
        }
    }
    // The county answers both: the one filed with it, and the group's that no group may
    // answer any more.
    for objection in [&before, &after] {
        let answered = county
            .ok_post(&format!("/api/v1/objections/{objection}/answer"), answer("县扶贫办入户核实，举报不属实。"))
            .await;
        assert_eq!(answered["status"], "dismissed", "{answered}");
    }
    let audited = app
        .count(
            "SELECT COUNT(*) FROM audit_log a JOIN app_user u ON u.id = a.user_id \
             WHERE a.action = 'objection_answer' AND u.username = 'county'",
        )
        .await;
    assert_eq!(audited, 2);
    // Answered, the notice closes at the end of its period and both cases go on.
    app.clock.advance(chrono::Duration::days(7));
    village.ok_post(&format!("/api/v1/notices/{notice}/close"), json!({})).await;
    for case in [&first, &second] {
        let step = app.admin.ok_get(&format!("/api/v1/cases/{case}")).await["step"].clone();
        assert_eq!(step, "village_resolution", "{case}");
    }
}

async fn an_objection_to_a_township_notice_is_answered_by_the_township(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let [_, village, township, county] = users(&app).await;
    let case = case_at_village_notice(&app).await;
    for (step, who) in [("village_notice", &village), ("township_review", &township)] {
        let (status, body) = pass_step(&app, who, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let notice = draft(&township, "township_notice", TOWNSHIP).await;
    let token = publish(&township, &notice).await;
    object_on_page(&app.base, &token, "1", "该户实际住在城里。").await;
    let listed = township.ok_get(&format!("/api/v1/objections?notice_id={notice}")).await;
    assert_eq!(listed[0]["assigned_level"], "township", "{listed}");
    let objection = listed[0]["id"].as_str().expect("id").to_owned();

    // 002 §三(七): "若有举报，由街道组织核实". Not the 核查组 (it investigates the village
    // notices), not the village team, not the county above.
    let group = Admin::login(&app.base, "verifier-1", PASSWORD).await;
    let path = format!("/api/v1/objections/{objection}/answer");
    let upheld = json!({"outcome": "upheld", "findings": "乡镇入户核实：该户已在县城购房居住。"});
    for who in [&group, &village, &county] {
        let (status, body) = who.post(&path, upheld.clone()).await;
        assert_eq!(status, 403, "{body}");
    }
    let answered = township.ok_post(&path, upheld).await;
    assert_eq!(answered["status"], "upheld", "{answered}");
    let view = app.admin.ok_get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(view["step"], "home_verification", "an upheld objection sends the case back: {view}");
    let signed = view["signoffs"].as_array().expect("signoffs").last().expect("a sign-off").clone();
    assert_eq!(
        (signed["decision"].as_str(), signed["role"].as_str()),
        (Some("objection_upheld"), Some("township")),
        "{signed}"
    );
}

/// Open objections in the 待办 of `who`.
async fn objections_waiting(who: &Admin) -> i64 {
    let inbox = who.ok_get("/api/v1/inbox").await;
    let items = inbox["items"].as_array().expect("items");
    let item = items.iter().find(|i| i["kind"] == "objections_to_answer").expect("objections item");
    item["count"].as_i64().expect("count")
}

async fn the_county_inbox_counts_an_objection_its_revoked_group_left_open(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let [_, village, _, county] = users(&app).await;
    case_at_village_notice(&app).await;
    let notice = draft(&village, "village_notice", VILLAGE_1).await;
    let token = publish(&village, &notice).await;
    object_on_page(&app.base, &token, "1", "该户有一辆小轿车。").await;
    let group = Admin::login(&app.base, "verifier-1", PASSWORD).await;
    assert_eq!(objections_waiting(&group).await, 1, "the group's while it covers the township");
    assert_eq!(objections_waiting(&county).await, 0);

    // The county revokes the group: the objection filed with it is the county's to
    // answer now (objections::answer), and so in the county's 待办.
    let verifier = user_id(&app, "verifier-1").await;
    let (status, body) = county
        .post(&format!("/api/v1/users/{verifier}/roles/remove"), json!({"role": "verifier", "region_code": TOWNSHIP}))
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(objections_waiting(&county).await, 1);
    assert_eq!(objections_waiting(&village).await, 0, "never the team whose list it is");
    let listed = county.ok_get(&format!("/api/v1/objections?notice_id={notice}")).await;
    let objection = listed[0]["id"].as_str().expect("id").to_owned();
    let answer = json!({"outcome": "dismissed", "findings": "县扶贫办入户核实，举报不属实。"});
    county.ok_post(&format!("/api/v1/objections/{objection}/answer"), answer).await;
    assert_eq!(objections_waiting(&county).await, 0, "answered, it waits no more");
}
