//! Issue 9, authority and accounts: no one widens their own reach (C1, H3, L2, L3, L13),
//! sign-ins are throttled before the password hash (H4), a device id is not taken over
//! (M3), and a county can run its accounts (M10).

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::wire::Op;
use serde_json::{Value, json};

on_both_backends!(
    a_county_cannot_make_a_region_that_covers_more_than_its_code,
    a_stored_level_no_longer_widens_a_grant,
    managers_grant_only_lower_roles_inside_their_region,
    deployment_wide_actions_need_the_root_administrator,
    assignments_go_only_to_officers_of_the_region,
    a_county_deployment_admin_governs_the_county,
    sign_ins_lock_before_the_password_is_checked,
    a_flood_from_one_address_does_not_lock_out_others,
    a_device_id_is_not_taken_over,
    a_county_runs_its_accounts,
    a_draining_device_stops_after_its_deadline,
    an_acknowledged_commit_is_on_disk,
    metrics_are_for_the_scraper,
);

const SIBLING_COUNTY: &str = "320704000000";
const SIBLING_TOWNSHIP: &str = "320704001000";
const SIBLING_VILLAGE: &str = "320704001001";

/// The harness county plus a sibling county with a township, a village and a county user.
async fn two_counties(app: &TestApp) -> World {
    let world = seed(app).await;
    for (code, level) in [(SIBLING_COUNTY, "county"), (SIBLING_TOWNSHIP, "township"), (SIBLING_VILLAGE, "village")] {
        app.admin.ok_post("/api/v1/regions", json!({"code": code, "name": code, "level": level})).await;
    }
    for (username, role, region) in
        [("county-b", "county", SIBLING_COUNTY), ("officer-sibling", "officer", SIBLING_TOWNSHIP)]
    {
        app.admin
            .ok_post(
                "/api/v1/users",
                json!({"username": username, "name": username, "password": PASSWORD, "roles": [{"role": role, "region_code": region}]}),
            )
            .await;
    }
    world
}

async fn user_id(admin: &Admin, username: &str) -> String {
    let users = admin.ok_get("/api/v1/users").await;
    users
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == username)
        .and_then(|u| u["id"].as_str())
        .unwrap_or_else(|| panic!("user {username} listed"))
        .to_owned()
}

fn code_of(value: &Value) -> &str {
    value["error"]["code"].as_str().unwrap_or("")
}

/// C1: the review's recipe. The fake `province` region under the county is refused, and
/// so is any code whose level or parent disagrees with what is stated.
async fn a_county_cannot_make_a_region_that_covers_more_than_its_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_counties(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let (status, _) = county.get(&format!("/api/v1/villages/{SIBLING_VILLAGE}/natural-villages")).await;
    assert_eq!(status, 403, "a sibling county's village is out of scope");

    let (status, body) =
        county.post("/api/v1/regions", json!({"code": "320703999999", "name": "x", "level": "province"})).await;
    assert_eq!((status, code_of(&body)), (422, "region_code_level"), "{body}");
    let (status, body) = county
        .post(
            "/api/v1/regions",
            json!({"code": "320703999999", "name": "x", "level": "village", "parent_code": COUNTY}),
        )
        .await;
    assert_eq!((status, code_of(&body)), (422, "region_code_level"), "a village's parent is its township: {body}");
    let (status, body) =
        county.post("/api/v1/regions", json!({"code": "320703999999", "name": "x", "level": "village"})).await;
    assert_eq!((status, code_of(&body)), (422, "region_code_level"), "its township 320703999 does not exist: {body}");
    // A new township in the county, and a village in it, are the county's to make.
    county.ok_post("/api/v1/regions", json!({"code": "320703002000", "name": "二号镇", "level": "township"})).await;
    let village =
        county.ok_post("/api/v1/regions", json!({"code": "320703002001", "name": "南村", "level": "village"})).await;
    assert_eq!(village["parent_code"], "320703002000", "the parent follows from the code");
    // Another county's region is not.
    let (status, _) =
        county.post("/api/v1/regions", json!({"code": "320704002000", "name": "邻镇", "level": "township"})).await;
    assert_eq!(status, 403);
    let (status, body) =
        county.post("/api/v1/regions", json!({"code": SIBLING_COUNTY, "name": "邻县", "level": "county"})).await;
    assert!(status == 403 || status == 409, "{status} {body}");
    let me = user_id(&app.admin, "county").await;
    let (status, body) = county
        .post(&format!("/api/v1/users/{me}/roles"), json!({"role": "county", "region_code": "320703002001"}))
        .await;
    assert_eq!(status, 422, "a county grant sits on a county: {body}");
    let (status, _) = county.get(&format!("/api/v1/villages/{SIBLING_VILLAGE}/natural-villages")).await;
    assert_eq!(status, 403, "still out of scope");
}

/// C1 at the root: a region stored with an inflated level before this fix (or written
/// by hand) and a grant on it give no more than the code says.
async fn a_stored_level_no_longer_widens_a_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_counties(&app).await;
    let me = user_id(&app.admin, "county").await;
    app.execute_sql(
        "INSERT INTO region (code, name, level, parent_code) VALUES ('320703999999', 'x', 'province', NULL)",
    )
    .await;
    app.execute_sql(&format!(
        "INSERT INTO role_grant (id, user_id, role, region_code, created_at) VALUES ('00000000-0000-4000-8000-000000000001', '{me}', 'county', '320703999999', '2026-12-01 00:00:00+00:00')"
    ))
    .await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let (status, _) = county.get(&format!("/api/v1/villages/{SIBLING_VILLAGE}/natural-villages")).await;
    assert_eq!(status, 403, "the grant covers 320703999999 alone");
    let (status, _) = county.get("/api/v1/reports/register?region_code=320700000000&format=json").await;
    assert_eq!(status, 403, "no city-wide register");
    let (status, _) =
        county.post("/api/v1/regions", json!({"code": "320704002000", "name": "邻镇", "level": "township"})).await;
    assert_eq!(status, 403);
    // Nor does an `admin` grant on such a parentless region (H3 left over from before the
    // fix) make its holder the deployment's administrator.
    app.execute_sql(&format!(
        "INSERT INTO role_grant (id, user_id, role, region_code, created_at) VALUES ('00000000-0000-4000-8000-000000000002', '{me}', 'admin', '320703999999', '2026-12-01 00:00:00+00:00')"
    ))
    .await;
    let (status, body) =
        county.put("/api/v1/notification-templates/daily_digest/email", json!({"subject": "x", "body": "x"})).await;
    assert_eq!((status, code_of(&body)), (403, "root_admin_required"), "{body}");
}

/// H3 and L2: a county grants officer, village, township and supervisor roles inside the
/// county, to users inside it; never county or admin, never elsewhere.
async fn managers_grant_only_lower_roles_inside_their_region(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_counties(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let me = user_id(&app.admin, "county").await;
    for (role, region) in [("admin", COUNTY), ("county", COUNTY), ("admin", VILLAGE_1)] {
        let (status, body) =
            county.post(&format!("/api/v1/users/{me}/roles"), json!({"role": role, "region_code": region})).await;
        assert_eq!((status, code_of(&body)), (403, "grant_not_allowed"), "{role} on {region}: {body}");
    }
    // A new user: only with roles the county may give, inside the county.
    let (status, body) = county
        .post("/api/v1/users", json!({"username": "x1", "name": "x", "password": PASSWORD, "roles": [{"role": "county", "region_code": COUNTY}]}))
        .await;
    assert_eq!((status, code_of(&body)), (403, "grant_not_allowed"), "{body}");
    let (status, body) = county
        .post("/api/v1/users", json!({"username": "x2", "name": "x", "password": PASSWORD, "roles": [{"role": "officer", "region_code": SIBLING_TOWNSHIP}]}))
        .await;
    assert_eq!((status, code_of(&body)), (403, "grant_not_allowed"), "{body}");
    let (status, body) =
        county.post("/api/v1/users", json!({"username": "x3", "name": "x", "password": PASSWORD, "roles": []})).await;
    assert_eq!((status, code_of(&body)), (403, "grant_not_allowed"), "an account nobody manages: {body}");
    let (status, body) = county
        .post("/api/v1/users", json!({"username": "x4", "name": "x", "password": "12345678", "roles": [{"role": "officer", "region_code": TOWNSHIP}]}))
        .await;
    assert_eq!((status, code_of(&body)), (422, "weak_password"), "{body}");
    let (status, body) = county
        .post("/api/v1/users", json!({"username": "x5", "name": "x", "password": PASSWORD, "roles": [{"role": "village", "region_code": TOWNSHIP}]}))
        .await;
    assert_eq!((status, code_of(&body)), (422, "region_code_level"), "a village team works a village: {body}");
    for (phone, email, expected) in [
        ("1380013800x", "", (422, "invalid_phone")),
        ("", "not an address", (422, "invalid_address")),
        ("", "a@b\u{0}.cn", (400, "control_character")),
    ] {
        let (status, body) = county
            .post("/api/v1/users", json!({"username": "x6", "name": "x", "password": PASSWORD, "phone": phone, "email": email, "roles": [{"role": "officer", "region_code": TOWNSHIP}]}))
            .await;
        assert_eq!((status, code_of(&body)), expected, "{body}");
    }
    county
        .ok_post("/api/v1/users", json!({"username": "clerk", "name": "新干部", "password": PASSWORD, "phone": "+86 138-0013-8000", "roles": [{"role": "officer", "region_code": TOWNSHIP}]}))
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM app_user WHERE username = 'clerk' AND phone = '13800138000'").await, 1);
    // L2: a user of the sibling county is not this county's to grant anything to.
    let stranger = user_id(&app.admin, "officer-sibling").await;
    let (status, body) = county
        .post(&format!("/api/v1/users/{stranger}/roles"), json!({"role": "officer", "region_code": TOWNSHIP}))
        .await;
    assert_eq!((status, code_of(&body)), (403, "grant_not_allowed"), "{body}");
    // The grants that were refused left nothing behind.
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM role_grant WHERE user_id = '{me}'")).await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM app_user WHERE username IN ('x1', 'x2', 'x3', 'x4', 'x5', 'x6')").await,
        0
    );
}

/// H3: templates and compaction are deployment-wide: an `admin` grant on a county (given
/// by the root) does not unlock them; the root administrator does.
async fn deployment_wide_actions_need_the_root_administrator(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_counties(&app).await;
    let county_admin_id = user_id(&app.admin, "county").await;
    app.admin
        .ok_post(&format!("/api/v1/users/{county_admin_id}/roles"), json!({"role": "admin", "region_code": COUNTY}))
        .await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let phishing =
        json!({"subject": "【重要】账号需重新验证", "body": "请于今日内登录 http://evil.example/login 完成验证"});
    let (status, body) = county.put("/api/v1/notification-templates/daily_digest/email", phishing.clone()).await;
    assert_eq!((status, code_of(&body)), (403, "root_admin_required"), "{body}");
    let (status, body) = county.post("/api/v1/sync/compact", json!({"older_than_seconds": 0})).await;
    assert_eq!((status, code_of(&body)), (403, "root_admin_required"), "{body}");
    // A robot for a region that does not exist, or outside the county, is refused.
    let (status, _) = county
        .post("/api/v1/notification-robots", json!({"region_code": "320703999999", "name": "x", "robot_key": "k"}))
        .await;
    assert_eq!(status, 422);
    let (status, _) = county
        .post("/api/v1/notification-robots", json!({"region_code": SIBLING_COUNTY, "name": "x", "robot_key": "k"}))
        .await;
    assert_eq!(status, 403);
    // The root administrator may.
    let (status, body) = app.admin.put("/api/v1/notification-templates/daily_digest/email", phishing).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.admin.post("/api/v1/sync/compact", json!({"older_than_seconds": 86_400})).await;
    assert_eq!(status, 200, "{body}");
}

/// L13: an assignment opens a household's whole record, so it goes only to an active
/// user holding an officer grant over the household's region.
async fn assignments_go_only_to_officers_of_the_region(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = two_counties(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    for username in ["village-1", "supervisor", "officer-sibling"] {
        let id = user_id(&app.admin, username).await;
        let (status, body) =
            county.post("/api/v1/assignments", json!({"officer_id": id, "household_id": household})).await;
        assert_eq!((status, code_of(&body)), (422, "not_an_officer"), "{username}: {body}");
    }
    let (status, body) = county
        .post(
            "/api/v1/assignments",
            json!({"officer_id": "00000000-0000-4000-8000-00000000dead", "household_id": household}),
        )
        .await;
    assert_eq!((status, code_of(&body)), (422, "not_an_officer"), "{body}");
    county.ok_post("/api/v1/assignments", json!({"officer_id": world.officer_b, "household_id": household})).await;
    // The sibling county's manager may not assign anyone to this county's household.
    let county_b = Admin::login(&app.base, "county-b", PASSWORD).await;
    let (status, _) =
        county_b.post("/api/v1/assignments", json!({"officer_id": world.officer_b, "household_id": household})).await;
    assert_eq!(status, 403);
}

/// L3: a deployment for one county: the first administrator's region is the county,
/// with the county's reach, and is the root of that deployment.
async fn a_county_deployment_admin_governs_the_county(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.bootstrap.admin_region = COUNTY.into()).await;
    let region = app.admin.ok_get("/api/v1/regions").await;
    let county = region.as_array().expect("regions").iter().find(|r| r["code"] == COUNTY).expect("county made").clone();
    assert_eq!(county["level"], "county", "{county}");
    app.admin.ok_post("/api/v1/regions", json!({"code": TOWNSHIP, "name": "一号镇", "level": "township"})).await;
    let (status, _) =
        app.admin.post("/api/v1/regions", json!({"code": "320704000000", "name": "邻县", "level": "county"})).await;
    assert_eq!(status, 403, "outside the county");
    let (status, body) = app
        .admin
        .put("/api/v1/notification-templates/daily_digest/email", json!({"subject": "日报", "body": "{{body}}"}))
        .await;
    assert_eq!(status, 200, "the county deployment's admin is its root: {body}");
}

async fn raw_login(app: &TestApp, username: &str, password: &str, address: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/mobile/v1/auth/login", app.base))
        .header("X-Real-IP", address)
        .json(&json!({"username": username, "password": password, "device_id": format!("dev-{username}"), "device_name": "t"}))
        .send()
        .await
        .expect("login request")
}

/// H4: the review's 40 wrong passwords. After five the username is locked, with a
/// growing Retry-After; the right password is not even checked until the lock ends.
async fn sign_ins_lock_before_the_password_is_checked(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.notices.client_ip_header = "X-Real-IP".into()).await;
    seed(&app).await;
    let mut statuses = Vec::new();
    let mut retry_after = Vec::new();
    for i in 0..40 {
        // Spread over addresses, so only the per-user count can stop it.
        let res = raw_login(&app, "county", "wrong-guess-1", &format!("203.0.113.{}", i % 4)).await;
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            retry_after.push(res.headers()["retry-after"].to_str().expect("header").parse::<i64>().expect("seconds"));
            let body: Value = res.json().await.expect("json");
            assert_eq!(code_of(&body), "too_many_attempts");
        }
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "locked after five: {statuses:?}");
    assert!(retry_after.iter().all(|s| (1..=30).contains(s)), "the first lock is 30 s: {retry_after:?}");
    let res = raw_login(&app, "county", PASSWORD, "198.51.100.7").await;
    assert_eq!(res.status(), 429, "the right password waits for the lock too");
    // The lock ends; the right password works and forgets the failures.
    app.clock.advance(chrono::Duration::seconds(31));
    let res = raw_login(&app, "county", PASSWORD, "198.51.100.7").await;
    assert_eq!(res.status(), 200);
    for _ in 0..4 {
        assert_eq!(raw_login(&app, "county", "wrong-again-1", "198.51.100.7").await.status(), 401);
    }
    // Failures past the threshold double the lock.
    assert_eq!(raw_login(&app, "county", "wrong-again-1", "198.51.100.7").await.status(), 401);
    app.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(raw_login(&app, "county", "wrong-again-1", "198.51.100.7").await.status(), 401);
    let res = raw_login(&app, "county", PASSWORD, "198.51.100.7").await;
    assert_eq!(res.status(), 429);
    let after: i64 = res.headers()["retry-after"].to_str().expect("header").parse().expect("seconds");
    assert!((31..=60).contains(&after), "the second lock is 60 s: {after}");
}

/// H4: one address guessing at many usernames locks itself, not the officers signing in
/// from elsewhere.
async fn a_flood_from_one_address_does_not_lock_out_others(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.notices.client_ip_header = "X-Real-IP".into()).await;
    seed(&app).await;
    let mut last = 0;
    for i in 0..31 {
        last = raw_login(&app, &format!("nobody-{i}"), "xxxxxxxx1", "2001:db8:7:7::1").await.status().as_u16();
    }
    assert_eq!(last, 429, "the address is locked after 30 failures");
    let res = raw_login(&app, "officer-a", PASSWORD, "2001:db8:7:7:ffff::2").await;
    assert_eq!(res.status(), 429, "the whole /64 is one sender");
    let res = raw_login(&app, "officer-a", PASSWORD, "203.0.113.50").await;
    assert_eq!(res.status(), 200, "another address signs in");
    assert!(app.count("SELECT COUNT(*) FROM login_throttle").await >= 2, "counted in the database");
}

/// M3: a device id belongs to the user who first signed in on it.
async fn a_device_id_is_not_taken_over(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let victim = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&victim, VILLAGE_1, 0).await;
    let mut thief = Client::new(&app.base);
    let err = thief.login("officer-b", PASSWORD, "phone-a", "p").await.expect_err("bound to officer-a");
    assert_eq!((err.status(), err.code()), (Some(409), Some("device_in_use")));
    let devices =
        app.admin.ok_get(&format!("/api/v1/devices?user_id={}", user_id(&app.admin, "officer-a").await)).await;
    assert!(devices.as_array().expect("devices").iter().any(|d| d["id"] == "phone-a"), "still officer-a's: {devices}");
    // officer-a signs in again on it as usual.
    let mut again = Client::new(&app.base);
    again.login("officer-a", PASSWORD, "phone-a", "p").await.expect("the owner signs in");
    let res = push(
        &again,
        vec![changeset(vec![change("household", household, Op::Update, 1, json!({"address": "东村一组2号"}))])],
    )
    .await;
    assert_eq!(res.results[0].status, jingzhun_mobile_api::wire::ChangeSetStatus::Applied);
}

/// M10: logout, password change and reset, deactivation and role removal, each ending
/// the tokens it should and each audited.
async fn a_county_runs_its_accounts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_counties(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let officer_id = user_id(&app.admin, "officer-a").await;

    // Logout ends this token only.
    let phone = app.phone("officer-a", "phone-a").await;
    let other = app.phone("officer-a", "phone-a2").await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/mobile/v1/auth/logout", app.base))
        .bearer_auth(phone.token().expect("token"))
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 204);
    assert_eq!(phone.status().await.expect_err("logged out").status(), Some(401));
    other.status().await.expect("the other phone stays signed in");

    // Deactivation: every token ends and no sign-in works.
    let body = county.ok_post(&format!("/api/v1/users/{officer_id}/active"), json!({"active": false})).await;
    assert_eq!(body["active"], false);
    assert_eq!(other.status().await.expect_err("deactivated").status(), Some(401));
    let mut client = Client::new(&app.base);
    let err = client.login("officer-a", PASSWORD, "phone-a", "p").await.expect_err("inactive");
    assert_eq!(err.code(), Some("invalid_credentials"));
    county.ok_post(&format!("/api/v1/users/{officer_id}/active"), json!({"active": true})).await;

    // A reset by the county ends every token; the new password works.
    let phone = app.phone("officer-a", "phone-a").await;
    let (status, body) =
        county.post(&format!("/api/v1/users/{officer_id}/password"), json!({"password": "short"})).await;
    assert_eq!((status, code_of(&body)), (422, "weak_password"));
    let (status, _) =
        county.post(&format!("/api/v1/users/{officer_id}/password"), json!({"password": "new-pass-5678"})).await;
    assert_eq!(status, 204);
    assert_eq!(phone.status().await.expect_err("reset").status(), Some(401));
    let officer = Admin::login(&app.base, "officer-a", "new-pass-5678").await;

    // The user changes it back, proving the current one; other tokens end.
    let second = Admin::login(&app.base, "officer-a", "new-pass-5678").await;
    let (status, body) = officer
        .post("/api/v1/auth/password", json!({"current_password": "wrong-1234", "new_password": PASSWORD}))
        .await;
    assert_eq!((status, code_of(&body)), (403, "wrong_password"));
    let (status, _) = officer
        .post("/api/v1/auth/password", json!({"current_password": "new-pass-5678", "new_password": PASSWORD}))
        .await;
    assert_eq!(status, 204);
    officer.ok_get("/api/v1/households").await;
    assert_eq!(second.get("/api/v1/households").await.0, 401, "the other session ended");

    // The sibling county cannot touch this county's officer.
    let county_b = Admin::login(&app.base, "county-b", PASSWORD).await;
    let (status, _) = county_b.post(&format!("/api/v1/users/{officer_id}/active"), json!({"active": false})).await;
    assert_eq!(status, 403);
    let (status, _) =
        county_b.post(&format!("/api/v1/users/{officer_id}/password"), json!({"password": "taken-over-1"})).await;
    assert_eq!(status, 403);

    // Role removal: the grant is gone at once, with the same token.
    let village_id = user_id(&app.admin, "village-1").await;
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    village.ok_get(&format!("/api/v1/villages/{VILLAGE_1}/natural-villages")).await;
    let (status, _) = county
        .post(&format!("/api/v1/users/{village_id}/roles/remove"), json!({"role": "village", "region_code": VILLAGE_1}))
        .await;
    assert_eq!(status, 204);
    assert_eq!(village.get(&format!("/api/v1/villages/{VILLAGE_1}/natural-villages")).await.0, 403);

    for action in ["logout", "deactivate_user", "activate_user", "reset_password", "change_password", "remove_role"] {
        assert!(
            app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'")).await >= 1,
            "{action} is audited"
        );
    }
}

/// M10: a device revoked in `drain` mode pushes what it holds for `auth.drain_days`, then
/// counts as wiped.
async fn a_draining_device_stops_after_its_deadline(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let retired = app.phone("officer-a", "phone-retired").await;
    let (household, _) = create_household(&retired, VILLAGE_1, 0).await;
    app.admin.ok_post("/api/v1/devices/phone-retired/revoke", json!({"mode": "drain"})).await;
    app.execute_sql("UPDATE device SET revoked_at = '2020-01-01 00:00:00+00:00' WHERE id = 'phone-retired'").await;
    let err = retired
        .push(&jingzhun_mobile_api::wire::PushRequest {
            changesets: vec![changeset(vec![change(
                "household",
                household,
                Op::Update,
                1,
                json!({"address": "迟到"}),
            )])],
        })
        .await
        .expect_err("past the drain deadline");
    assert_eq!((err.code(), err.revoked_mode()), (Some("device_revoked"), Some("wipe")));
}

/// M6: SQLite fsyncs every commit (WAL with `synchronous=FULL`), as PostgreSQL does, so
/// nothing a phone was told is applied goes away with the power.
async fn an_acknowledged_commit_is_on_disk(backend: Backend) {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn(backend).await;
    let conn = &app.state.db.conn;
    let query = match backend {
        Backend::Sqlite => "PRAGMA synchronous",
        Backend::Postgres => "SELECT current_setting('synchronous_commit') || ',' || current_setting('fsync')",
    };
    // Every pooled connection, not only the first: ask more times than the pool is wide.
    for _ in 0..20 {
        let row = conn
            .query_one_raw(Statement::from_string(conn.get_database_backend(), query.to_owned()))
            .await
            .expect("query")
            .expect("row");
        match backend {
            Backend::Sqlite => assert_eq!(row.try_get_by_index::<i64>(0).expect("level"), 2, "2 is FULL"),
            Backend::Postgres => assert_eq!(row.try_get_by_index::<String>(0).expect("settings"), "on,on"),
        }
    }
}

/// L6: `/metrics` tells who is busy with what; it answers the scraper's token, or with
/// no token configured only this machine.
async fn metrics_are_for_the_scraper(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.notices.client_ip_header = "X-Real-IP".into()).await;
    let get = |address: &'static str, token: Option<&'static str>| {
        let mut request = reqwest::Client::new().get(format!("{}/metrics", app.base)).header("X-Real-IP", address);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.expect("metrics").status().as_u16() }
    };
    assert_eq!(get("127.0.0.1", None).await, 200, "this machine");
    assert_eq!(get("203.0.113.9", None).await, 403, "anyone else");
    drop(app);
    let app = TestApp::spawn_with(backend, |config| {
        config.notices.client_ip_header = "X-Real-IP".into();
        config.http.metrics_token = "scrape-secret-1".into();
    })
    .await;
    let status = |token: Option<&'static str>| {
        let mut request =
            reqwest::Client::new().get(format!("{}/metrics", app.base)).header("X-Real-IP", "203.0.113.9");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.expect("metrics").status().as_u16() }
    };
    assert_eq!(status(None).await, 403);
    assert_eq!(status(Some("scrape-secret-2")).await, 403);
    assert_eq!(status(Some("scrape-secret-1")).await, 200);
}
