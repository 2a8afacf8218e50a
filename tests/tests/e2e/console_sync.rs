//! 系统管理's phones and what they sent (issue 12 item 8): the township moves a leaving
//! officer's households to another officer in one action (scope, officers, retry), the
//! county's device table and a drain, and sync conflicts whose list masks ID numbers
//! while one conflict opened whole is an audited view; and in the browser, the same jobs
//! as the township and the county do them in 系统管理.

use crate::browser::{Browser, choose, click, count_when, sign_in, text_when};
use crate::harness::*;
use crate::on_both_backends;
use fantoccini::Locator;
use jingzhun_mobile_api::wire::{ChangeStatus, Op};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    the_township_moves_a_leaving_officers_households_in_one_action,
    the_county_sees_its_officers_devices_and_drains_one,
    conflict_lists_mask_id_numbers_and_one_conflict_opened_whole_is_a_view,
    in_the_console_the_township_moves_households_and_the_county_drains_a_phone,
);

async fn user_id(app: &TestApp, username: &str) -> String {
    let users = app.admin.ok_get("/api/v1/users").await;
    let user = users.as_array().expect("users").iter().find(|u| u["username"] == username).expect("user");
    user["id"].as_str().expect("id").to_owned()
}

fn households_of(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["household_id"].as_str().expect("text").to_owned())
        .collect();
    ids.sort();
    ids
}

async fn the_township_moves_a_leaving_officers_households_in_one_action(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let officer_a = user_id(&app, "officer-a").await;
    let a = app.phone("officer-a", "phone-a").await;
    let mut created = Vec::new();
    for village in [VILLAGE_1, VILLAGE_1, VILLAGE_2] {
        created.push(create_household(&a, village, 0).await.0.to_string());
    }
    created.sort();
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;
    let of_a = township.ok_get(&format!("/api/v1/assignment-summaries?officer_id={officer_a}")).await;
    assert_eq!((of_a["total"].as_i64(), households_of(&of_a)), (Some(3), created.clone()), "{of_a}");
    assert_eq!(of_a["items"][0]["officer_name"], "officer-a");
    assert_eq!(of_a["items"][0]["head_name"], "成员0");
    let east = township.ok_get(&format!("/api/v1/assignment-summaries?region_code={VILLAGE_1}&per_page=1")).await;
    assert_eq!((east["total"].as_i64(), east["items"].as_array().map(Vec::len)), (Some(2), Some(1)), "{east}");

    // Refused as a whole, nothing moved: to someone who is not an officer, by a reader.
    let village_team = user_id(&app, "village-1").await;
    let to_village = json!({"from_officer_id": officer_a, "to_officer_id": village_team});
    let (status, body) = township.post("/api/v1/assignments/reassign", to_village).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("not_an_officer")), "{body}");
    let supervisor = Admin::login(&app.base, "supervisor", PASSWORD).await;
    let move_all = json!({"from_officer_id": officer_a, "to_officer_id": world.officer_b});
    let (status, body) = supervisor.post("/api/v1/assignments/reassign", move_all.clone()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("out_of_scope")), "{body}");
    // The village team edits only its own village: one household of the three is not its.
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let (status, body) = village.post("/api/v1/assignments/reassign", move_all.clone()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("out_of_scope")), "{body}");
    let still = township.ok_get(&format!("/api/v1/assignment-summaries?officer_id={officer_a}")).await;
    assert_eq!(still["total"], 3, "a refused move moves nothing: {still}");

    let moved = township.ok_post("/api/v1/assignments/reassign", move_all.clone()).await;
    let mut ids: Vec<String> =
        moved["moved"].as_array().expect("a list").iter().map(|v| v.as_str().expect("text").into()).collect();
    ids.sort();
    assert_eq!(ids, created, "{moved}");
    let of_b = township.ok_get(&format!("/api/v1/assignment-summaries?officer_id={}", world.officer_b)).await;
    assert_eq!(households_of(&of_b), created);
    assert_eq!(of_b["items"][0]["officer_name"], "officer-b");
    let of_a = township.ok_get(&format!("/api/v1/assignment-summaries?officer_id={officer_a}")).await;
    assert_eq!(of_a["total"], 0);
    // The township chooses among its officers (it manages no accounts), with their loads.
    let officers = township.ok_get("/api/v1/officers").await;
    let load = |name: &str| {
        officers.as_array().expect("a list").iter().find(|o| o["name"] == name).map(|o| o["households"].clone())
    };
    assert_eq!(
        (load("officer-a"), load("officer-b"), load("village-1")),
        (Some(json!(0)), Some(json!(3)), None),
        "{officers}"
    );
    let ended = township.ok_get(&format!("/api/v1/assignment-summaries?officer_id={officer_a}&status=ended")).await;
    assert_eq!(ended["total"], 3, "the history stays");
    // A retry (the answer was lost) moves nothing twice; named households report as moved.
    let again = township.ok_post("/api/v1/assignments/reassign", move_all).await;
    assert_eq!(again["moved"], json!([]), "{again}");
    let named = json!({"from_officer_id": officer_a, "to_officer_id": world.officer_b, "household_ids": [created[0]]});
    let again = township.ok_post("/api/v1/assignments/reassign", named).await;
    assert_eq!((again["moved"].clone(), again["already"].clone()), (json!([]), json!([created[0]])), "{again}");
    let actives = app.count("SELECT COUNT(*) FROM assignment WHERE end_date IS NULL").await;
    assert_eq!(actives, 3, "one active assignment per household");
    // Audited as an end and an assignment each, by the township.
    let trail = township.ok_get(&format!("/api/v1/households/{}/audit", created[0])).await;
    let actions: Vec<&str> = trail.as_array().expect("a list").iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.ends_with(&["unassign", "assign"]), "{actions:?}");
    // The new officer's phone receives the households.
    let b = app.phone("officer-b", "phone-b").await;
    let (pulled, _) = pull_until(&b, None, |all| {
        created.iter().all(|h| all.iter().any(|c| c.entity == "household" && c.id.to_string() == *h))
    })
    .await;
    assert!(created.iter().all(|h| pulled.iter().any(|c| c.entity == "household" && c.id.to_string() == *h)));
}

async fn the_county_sees_its_officers_devices_and_drains_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    app.phone("officer-b", "phone-b").await;
    create_household(&a, VILLAGE_1, 0).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let page = county.ok_get("/api/v1/device-summaries").await;
    let ids: Vec<&str> = page["items"].as_array().expect("a list").iter().filter_map(|d| d["id"].as_str()).collect();
    assert!(ids.contains(&"phone-a") && ids.contains(&"phone-b"), "{page}");
    let phone_a =
        page["items"].as_array().expect("a list").iter().find(|d| d["id"] == "phone-a").expect("phone-a").clone();
    assert_eq!((phone_a["username"].as_str(), phone_a["user_name"].as_str()), (Some("officer-a"), Some("officer-a")));
    assert!(phone_a["last_push_at"].is_string() && phone_a["last_seen_at"].is_string(), "{phone_a}");
    let phone_b =
        page["items"].as_array().expect("a list").iter().find(|d| d["id"] == "phone-b").expect("phone-b").clone();
    assert!(phone_b["last_push_at"].is_null(), "phone-b never pushed: {phone_b}");
    // Devices are run by who manages their users: not the township.
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;
    let (status, body) = township.get("/api/v1/device-summaries").await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");

    county.ok_post("/api/v1/devices/phone-a/revoke", json!({"mode": "drain"})).await;
    let revoked = county.ok_get("/api/v1/device-summaries?status=revoked").await;
    assert_eq!(revoked["total"], 1, "{revoked}");
    assert_eq!(
        (revoked["items"][0]["id"].as_str(), revoked["items"][0]["revoked_mode"].as_str()),
        (Some("phone-a"), Some("drain"))
    );
    let active = county.ok_get("/api/v1/device-summaries?status=active&q=officer-b").await;
    assert_eq!((active["total"].as_i64(), active["items"][0]["id"].as_str()), (Some(1), Some("phone-b")), "{active}");
    // A drained phone still uploads what it holds.
    let (household, _) = create_household(&a, VILLAGE_1, 0).await;
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM household WHERE id = '{household}'")).await, 1);
}

async fn conflict_lists_mask_id_numbers_and_one_conflict_opened_whole_is_a_view(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, members) = create_household(&a, VILLAGE_1, 0).await;
    app.admin.ok_post("/api/v1/assignments", json!({"officer_id": world.officer_b, "household_id": household})).await;
    let (server_id, client_id) = (fresh_id_number(), fresh_id_number());
    let edit = |id: &str| vec![changeset(vec![change("member", members[0], Op::Update, 1, json!({"id_number": id}))])];
    push(&a, edit(&server_id)).await;
    let res = push(&b, edit(&client_id)).await;
    assert_eq!(res.results[0].changes[0].status, ChangeStatus::Conflict, "{:?}", res.results[0]);
    let conflict: Uuid = res.results[0].changes[0].conflicts[0].id;

    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let listed = village.ok_get("/api/v1/conflicts").await;
    let row = &listed[0];
    assert_eq!((row["id"].as_str(), row["field"].as_str()), (Some(conflict.to_string().as_str()), Some("id_number")));
    let text = listed.to_string();
    for whole in [&server_id, &client_id] {
        assert!(!text.contains(whole.as_str()), "the list carries a whole ID number: {text}");
    }
    assert_eq!(row["server_value"], jingzhun_mobile_api::validate::mask_id_number(&server_id));
    assert_eq!(row["client_value"], jingzhun_mobile_api::validate::mask_id_number(&client_id));
    assert_eq!((row["head_name"].as_str(), row["region_name"].as_str()), (Some("成员0"), Some("东村")), "{row}");

    let views = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'view' AND entity = 'conflict' AND entity_id = '{conflict}'"
    );
    assert_eq!(app.count(&views).await, 0, "listing is no view");
    // Another village's team: refused, and no entry.
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "village-2", "name": "village-2", "password": PASSWORD, "roles": [{"role": "village", "region_code": VILLAGE_2}]}),
        )
        .await;
    let other = Admin::login(&app.base, "village-2", PASSWORD).await;
    assert_eq!(other.ok_get("/api/v1/conflicts").await, json!([]));
    let (status, body) = other.get(&format!("/api/v1/conflicts/{conflict}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("out_of_scope")), "{body}");
    assert_eq!(app.count(&views).await, 0, "a refused view is no view");

    let opened = village.ok_get(&format!("/api/v1/conflicts/{conflict}")).await;
    assert_eq!(
        (opened["server_value"].as_str(), opened["client_value"].as_str()),
        (Some(server_id.as_str()), Some(client_id.as_str()))
    );
    assert_eq!(app.count(&views).await, 1, "one view, one entry");
    let trail = village.ok_get(&format!("/api/v1/households/{household}/audit")).await;
    assert!(
        trail
            .as_array()
            .expect("a list")
            .iter()
            .any(|e| e["action"] == "view" && e["entity"] == "conflict" && e["field"] == "id_number"),
        "the household's trail shows who opened the conflict: {trail}"
    );
    // Resolving answers masked too: it is no view.
    let resolved =
        village.ok_post(&format!("/api/v1/conflicts/{conflict}/resolve"), json!({"resolution": "server"})).await;
    assert!(!resolved.to_string().contains(server_id.as_str()), "{resolved}");
    assert_eq!(app.count(&views).await, 1);
}

/// An officer leaves: the township opens 帮扶分配 on their households, moves them all to
/// another officer in one action and sees the new officer in the list; the conflict list
/// shows an ID number masked, opened whole in its dialog. The county then drains the
/// leaving officer's phone in 设备, the confirmation saying what becomes of unsent edits,
/// and reads a refused change set's reason in 被拒绝的同步数据.
async fn in_the_console_the_township_moves_households_and_the_county_drains_a_phone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let officer_a = user_id(&app, "officer-a").await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    create_household(&a, VILLAGE_1, 0).await;
    create_household(&a, VILLAGE_2, 0).await;
    // A third household the two share, with a conflict on its head's ID number.
    let (shared, members) = create_household(&a, VILLAGE_1, 0).await;
    app.admin.ok_post("/api/v1/assignments", json!({"officer_id": world.officer_b, "household_id": shared})).await;
    let (server_id, client_id) = (fresh_id_number(), fresh_id_number());
    let edit = |id: &str| vec![changeset(vec![change("member", members[0], Op::Update, 1, json!({"id_number": id}))])];
    push(&a, edit(&server_id)).await;
    assert_eq!(push(&b, edit(&client_id)).await.results[0].changes[0].status, ChangeStatus::Conflict);

    // And a change set the server refused: an unknown 贫困户属性.
    let refused =
        push(&a, vec![changeset(vec![change("household", shared, Op::Update, 2, json!({"kind": "no_such_kind"}))])])
            .await;
    let refusal = refused.results[0].changes[0].errors.first().expect("a field error").clone();

    let browser = Browser::start_desktop().await;
    let client = &browser.client;
    sign_in(&browser, &app.base, "township-1", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    client.goto(&format!("{}/system/assignments?officer_id={officer_a}", app.base)).await.expect("open 帮扶分配");
    assert_eq!(count_when(client, "#assignment-table .el-table__body tr", 3).await, 3, "officer-a's three households");
    text_when(client, "#assignment-total", |t| t == "共 3 条").await;
    browser.screenshot(&format!("console-sync-assignments-{backend:?}")).await;

    click(client, "#assignment-reassign").await;
    choose(client, "#reassign-to", "officer-b").await;
    browser.screenshot(&format!("console-sync-reassign-{backend:?}")).await;
    click(client, "#reassign-confirm").await;
    // The list turns to the new officer's households: all three, officer-b on each.
    let officers = text_when(client, "#assignment-table .el-table__body", |t| {
        t.matches("officer-b").count() == 3 && !t.contains("officer-a")
    })
    .await;
    assert_eq!(officers.matches("officer-b").count(), 3, "{officers}");
    let of_b = app.admin.ok_get(&format!("/api/v1/assignment-summaries?officer_id={}", world.officer_b)).await;
    assert_eq!(of_b["total"], 3, "{of_b}");
    let of_a = app.admin.ok_get(&format!("/api/v1/assignment-summaries?officer_id={officer_a}")).await;
    assert_eq!(of_a["total"], 0, "{of_a}");
    browser.screenshot(&format!("console-sync-reassigned-{backend:?}")).await;

    // 同步冲突: the ID numbers masked in the list, whole in the opened conflict (a view).
    client.goto(&format!("{}/system/conflicts", app.base)).await.expect("open 同步冲突");
    let masked = jingzhun_mobile_api::validate::mask_id_number(&server_id);
    let table = text_when(client, "#conflict-table .el-table__body", |t| t.contains(&masked)).await;
    assert!(table.contains(&masked) && !table.contains(&server_id) && !table.contains(&client_id), "{table}");
    assert!(table.contains(&jingzhun_mobile_api::validate::mask_id_number(&client_id)), "{table}");
    assert!(table.contains("成员0") && table.contains("东村"), "whose record, by the head's name and village: {table}");
    browser.screenshot(&format!("console-sync-conflicts-{backend:?}")).await;
    click(client, ".conflict-open").await;
    assert_eq!(text_when(client, "#conflict-whole-client", |t| t == client_id).await, client_id);
    let views = "SELECT COUNT(*) FROM audit_log WHERE action = 'view' AND entity = 'conflict'";
    assert_eq!(app.count(views).await, 1, "opening the conflict is an audited view");
    browser.screenshot(&format!("console-sync-conflict-{backend:?}")).await;

    browser.close().await;

    // 设备: the county drains officer-a's phone.
    let browser = Browser::start_desktop().await;
    let client = &browser.client;
    sign_in(&browser, &app.base, "county", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    client.goto(&format!("{}/system/devices", app.base)).await.expect("open 设备");
    text_when(client, "#device-table .el-table__body", |t| t.contains("phone-a") && t.contains("phone-b")).await;
    browser.screenshot(&format!("console-sync-devices-{backend:?}")).await;
    let revoke = "//tr[contains(., 'phone-a')]//button[contains(@class,'device-revoke')]";
    client.find(Locator::XPath(revoke)).await.expect("phone-a's 注销").click().await.expect("click 注销");
    let hint = text_when(client, "#revoke-hint", |t| t.contains("尚未上传")).await;
    assert!(hint.contains("先上传尚未上传的修改"), "drain is the default and says the edits go up first: {hint}");
    browser.screenshot(&format!("console-sync-revoke-{backend:?}")).await;
    click(client, "#revoke-confirm").await;
    let status = text_when(client, "#device-table .el-table__body", |t| t.contains("上传后注销")).await;
    assert!(status.contains("上传后注销"), "{status}");
    let drained = "SELECT COUNT(*) FROM device WHERE id = 'phone-a' AND revoked_mode = 'drain'";
    assert_eq!(app.count(drained).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM device WHERE id = 'phone-b' AND revoked_mode IS NULL").await, 1);

    // 被拒绝的同步数据: the county reviews the refused change set: its code and message.
    client.goto(&format!("{}/system/rejected", app.base)).await.expect("open 被拒绝的同步数据");
    let rejected = text_when(client, "#rejected-table .el-table__body", |t| t.contains(&refusal.code)).await;
    assert!(rejected.contains(&refusal.code) && rejected.contains(&refusal.message_zh), "{rejected}");
    browser.screenshot(&format!("console-sync-rejected-{backend:?}")).await;
    browser.close().await;
}
