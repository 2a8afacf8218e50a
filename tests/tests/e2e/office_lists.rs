//! The office's device and conflict tables (issue 12, review #7 and #11) are scoped,
//! counted and paged by the server: more devices than a page, each page and the total
//! within the caller's managed users only (a user with a grant outside is not theirs);
//! a `q` whose `%` and `_` are literal and whose case does not matter on either backend;
//! conflicts in two townships, each township's table and 待办 count its own only.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::{ChangeStatus, Op};
use serde_json::{Value, json};
use std::collections::BTreeSet;

on_both_backends!(
    the_device_table_pages_and_counts_only_managed_users_devices,
    each_township_pages_only_its_own_conflicts
);

const FAR_COUNTY: &str = "320704000000";
const FAR_TOWNSHIP: &str = "320704001000";
const TOWNSHIP_2: &str = "320703002000";
const VILLAGE_3: &str = "320703002001";

async fn region(app: &TestApp, code: &str, name: &str, level: &str, parent: &str) {
    app.admin
        .ok_post("/api/v1/regions", json!({"code": code, "name": name, "level": level, "parent_code": parent}))
        .await;
}

/// A user with these (role, region) grants; their id.
async fn user(app: &TestApp, username: &str, name: &str, roles: &[(&str, &str)]) -> String {
    let roles: Vec<Value> = roles.iter().map(|(role, region)| json!({"role": role, "region_code": region})).collect();
    let made = app
        .admin
        .ok_post("/api/v1/users", json!({"username": username, "name": name, "password": PASSWORD, "roles": roles}))
        .await;
    made["id"].as_str().expect("id").to_owned()
}

/// Devices written straight into the table: a phone's sign-in each would take longer
/// and tell nothing more about the table.
async fn devices(app: &TestApp, user_id: &str, ids: &[String]) {
    for id in ids {
        app.execute_sql(&format!(
            "INSERT INTO device (id, user_id, name, created_at) VALUES ('{id}', '{user_id}', 'test phone', '2026-12-01T00:00:00+00:00')"
        ))
        .await;
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|d| d["id"].as_str().expect("id").to_owned()).collect()
}

async fn the_device_table_pages_and_counts_only_managed_users_devices(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    region(&app, FAR_COUNTY, "远县", "county", "320700000000").await;
    region(&app, FAR_TOWNSHIP, "远镇", "township", FAR_COUNTY).await;
    user(&app, "county-far", "county-far", &[("county", FAR_COUNTY)]).await;

    let many = user(&app, "many", "many", &[("officer", TOWNSHIP)]).await;
    let mut ours: Vec<String> = (0..21).map(|i| format!("many-{i:02}")).collect();
    devices(&app, &many, &ours).await;
    for (username, name) in [("zhang", "Zhang San"), ("under", "王_明"), ("other", "王x明"), ("full", "满分100%")]
    {
        let id = user(&app, username, name, &[("officer", TOWNSHIP)]).await;
        let device = format!("{username}-phone");
        devices(&app, &id, std::slice::from_ref(&device)).await;
        ours.push(device);
    }
    let far = user(&app, "far", "far", &[("officer", FAR_TOWNSHIP)]).await;
    devices(&app, &far, &["far-0".to_owned(), "far-1".to_owned()]).await;
    // Officer in both counties: wholly in neither county's region, so neither county's.
    let both = user(&app, "both", "both", &[("officer", TOWNSHIP), ("officer", FAR_TOWNSHIP)]).await;
    devices(&app, &both, &["both-phone".to_owned()]).await;

    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let mut seen = Vec::new();
    for page in 1..=3 {
        let answer = county.ok_get(&format!("/api/v1/device-summaries?per_page=10&page={page}")).await;
        assert_eq!((answer["total"].as_i64(), answer["page"].as_u64()), (Some(25), Some(page)), "{answer}");
        assert_eq!(ids(&answer).len(), if page < 3 { 10 } else { 5 }, "{answer}");
        seen.extend(ids(&answer));
    }
    let distinct: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "a device on two pages: {seen:?}");
    assert_eq!(distinct, ours.iter().collect::<BTreeSet<_>>(), "the county's devices, and only those");
    let past = county.ok_get("/api/v1/device-summaries?per_page=10&page=4").await;
    assert_eq!((past["total"].as_i64(), ids(&past).len()), (Some(25), 0), "{past}");
    let (status, body) = county.get(&format!("/api/v1/device-summaries?page={}", u64::MAX)).await;
    assert_eq!((status, body["items"].as_array().map(Vec::len)), (200, Some(0)), "{body}");

    let far_county = Admin::login(&app.base, "county-far", PASSWORD).await;
    let theirs = far_county.ok_get("/api/v1/device-summaries").await;
    assert_eq!(theirs["total"], 2, "{theirs}");
    assert_eq!(ids(&theirs).into_iter().collect::<BTreeSet<_>>(), BTreeSet::from(["far-0".into(), "far-1".into()]));
    // The root administrator manages everyone.
    let all = app.admin.ok_get("/api/v1/device-summaries?q=both").await;
    assert_eq!(ids(&all), ["both-phone"], "{all}");

    // `_` and `%` are the characters themselves, not wildcards; case does not matter.
    for (q, expected) in [
        ("_", "under-phone"),
        ("%25", "full-phone"),
        ("zhang", "zhang-phone"),
        ("ZHANG", "zhang-phone"),
        ("SAN", "zhang-phone"),
    ] {
        let found = county.ok_get(&format!("/api/v1/device-summaries?q={q}")).await;
        assert_eq!((found["total"].as_i64(), ids(&found)), (Some(1), vec![expected.to_owned()]), "q={q}: {found}");
    }
    let found = county.ok_get("/api/v1/device-summaries?q=MANY&status=active&per_page=5").await;
    assert_eq!((found["total"].as_i64(), ids(&found).len()), (Some(21), 5), "{found}");
}

/// Opens `n` conflicts on one household of `village`: `first` edits each member's ID
/// number, `second` then edits it from the same version.
async fn conflicts_in(
    app: &TestApp,
    first: &jingzhun_mobile_api::client::Client,
    second: &jingzhun_mobile_api::client::Client,
    second_id: &str,
    village: &str,
    n: usize,
) -> BTreeSet<String> {
    let (household, members) = create_household(first, village, n - 1).await;
    app.admin.ok_post("/api/v1/assignments", json!({"officer_id": second_id, "household_id": household})).await;
    let edit = || {
        vec![changeset(
            members
                .iter()
                .map(|m| change("member", *m, Op::Update, 1, json!({"id_number": fresh_id_number()})))
                .collect(),
        )]
    };
    push(first, edit()).await;
    let res = push(second, edit()).await;
    res.results[0]
        .changes
        .iter()
        .map(|c| {
            assert_eq!(c.status, ChangeStatus::Conflict, "{:?}", res.results[0]);
            c.conflicts[0].id.to_string()
        })
        .collect()
}

async fn each_township_pages_only_its_own_conflicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    region(&app, TOWNSHIP_2, "二号镇", "township", COUNTY).await;
    region(&app, VILLAGE_3, "南村", "village", TOWNSHIP_2).await;
    user(&app, "township-2", "township-2", &[("township", TOWNSHIP_2)]).await;
    user(&app, "officer-c", "officer-c", &[("officer", TOWNSHIP_2)]).await;
    let officer_d = user(&app, "officer-d", "officer-d", &[("officer", TOWNSHIP_2)]).await;

    let (a, b) = (app.phone("officer-a", "phone-a").await, app.phone("officer-b", "phone-b").await);
    let (c, d) = (app.phone("officer-c", "phone-c").await, app.phone("officer-d", "phone-d").await);
    let first = conflicts_in(&app, &a, &b, &world.officer_b, VILLAGE_1, 3).await;
    let second = conflicts_in(&app, &c, &d, &officer_d, VILLAGE_3, 2).await;

    for (username, own, total) in [("township-1", &first, 3), ("township-2", &second, 2)] {
        let who = Admin::login(&app.base, username, PASSWORD).await;
        let mut seen = BTreeSet::new();
        for page in 1..=2 {
            let answer = who.ok_get(&format!("/api/v1/conflict-summaries?per_page=2&page={page}")).await;
            assert_eq!(answer["total"].as_i64(), Some(total), "{username}: {answer}");
            seen.extend(ids(&answer));
        }
        assert_eq!(&seen, own, "{username} pages through its own conflicts only");
        let inbox = who.ok_get("/api/v1/inbox").await;
        let item = inbox["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["kind"] == "sync_conflicts")
            .cloned()
            .expect("the 待办 counts conflicts");
        assert_eq!(item["count"].as_i64(), Some(total), "{username}'s 待办: {item}");
    }
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let all = county.ok_get("/api/v1/conflict-summaries?per_page=200").await;
    assert_eq!(all["total"], 5, "{all}");
    // Masked in the table, with whose household it is.
    let row = &all["items"][0];
    assert!(row["server_value"].as_str().is_some_and(|v| v.contains('*')), "{row}");
    assert!(row["head_name"].is_string() && row["region_name"].is_string(), "{row}");
    let resolved = county.ok_get("/api/v1/conflict-summaries?status=resolved").await;
    assert_eq!(resolved["total"], 0, "{resolved}");
}
