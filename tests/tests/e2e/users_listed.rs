//! `GET /api/v1/users` as the county's console reads it: each user with the officer
//! particulars the 001 register prints (性别, 政治面貌, 帮扶单位; set with
//! `PUT /api/v1/users/{id}/profile`), the phone and e-mail masked in the list and whole
//! on the user's own record; filtered by role, region and a part of the name, paged,
//! with the total in `X-Total-Count`. Without paging parameters the whole list, as
//! before.

use crate::harness::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(the_user_list_shows_officer_particulars_masks_contacts_filters_and_pages);

/// A GET with the county's token read whole: status, `X-Total-Count`, body.
async fn listing(base: &str, token: &str, query: &str) -> (u16, Option<usize>, Value) {
    let res = reqwest::Client::new()
        .get(format!("{base}/api/v1/users{query}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let total = res.headers().get("x-total-count").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    (status, total, res.json().await.unwrap_or(Value::Null))
}

fn usernames(users: &Value) -> Vec<&str> {
    users.as_array().expect("users").iter().map(|u| u["username"].as_str().expect("username")).collect()
}

async fn the_user_list_shows_officer_particulars_masks_contacts_filters_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let login = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": "county", "password": PASSWORD, "device_id": "web-users-listed"}))
        .send()
        .await
        .expect("login");
    let token = login.json::<Value>().await.expect("login body")["token"].as_str().expect("token").to_owned();
    let county = Admin::login(&app.base, "county", PASSWORD).await;

    // An officer with a phone, an address and the particulars the register prints.
    let created = county
        .ok_post(
            "/api/v1/users",
            json!({"username": "officer-zhang", "name": "张帮扶", "password": PASSWORD, "phone": "13812345678",
                   "email": "zhang@example.com", "roles": [{"role": "officer", "region_code": VILLAGE_1}]}),
        )
        .await;
    assert_eq!((created["phone"].as_str(), created["sex"].clone()), (Some("13812345678"), Value::Null), "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let (status, body) = county
        .put(
            &format!("/api/v1/users/{id}/profile"),
            json!({"sex": "female", "political_status": "party_member", "work_unit": "县农业农村局"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    // The whole list, as before: every user, by username, with the total.
    let (status, total, all) = listing(&app.base, &token, "").await;
    assert_eq!(status, 200, "{all}");
    let names = usernames(&all);
    assert_eq!(total, Some(names.len()));
    // The county's users (not the city's supervisor nor the administrator above it).
    assert_eq!(names, ["county", "officer-a", "officer-b", "officer-zhang", "township-1", "verifier-1", "village-1"]);
    let zhang = all.as_array().expect("users").iter().find(|u| u["username"] == "officer-zhang").expect("listed");
    assert_eq!(
        (zhang["sex"].as_str(), zhang["political_status"].as_str(), zhang["work_unit"].as_str()),
        (Some("female"), Some("party_member"), Some("县农业农村局")),
        "{zhang}"
    );
    assert_eq!(zhang["phone"], "138****5678", "a list never shows the whole number: {zhang}");
    assert_eq!(zhang["email"], "z***@example.com", "{zhang}");
    assert!(!all.to_string().contains("13812345678"));
    // The user's own record (here: the answer to deactivating it) shows them whole.
    let record = county.ok_post(&format!("/api/v1/users/{id}/active"), json!({"active": true})).await;
    assert_eq!((record["phone"].as_str(), record["work_unit"].as_str()), (Some("13812345678"), Some("县农业农村局")));

    // By role: the officers; by role and region: the one officer granted in 东村 (the
    // seeded officers are granted over the township, which contains it but is not in it).
    let (_, total, officers) = listing(&app.base, &token, "?role=officer").await;
    assert_eq!(usernames(&officers), ["officer-a", "officer-b", "officer-zhang"]);
    assert_eq!(total, Some(3));
    let (_, total, in_village) = listing(&app.base, &token, &format!("?role=officer&region_code={VILLAGE_1}")).await;
    assert_eq!((usernames(&in_village), total), (vec!["officer-zhang"], Some(1)));
    // The village team of 东村 is in 东村 but is not an officer.
    let (_, _, village) = listing(&app.base, &token, &format!("?region_code={VILLAGE_1}")).await;
    assert_eq!(usernames(&village), ["officer-zhang", "village-1"]);
    // By a part of the name or the username.
    let (_, total, found) = listing(&app.base, &token, "?q=%E5%B8%AE%E6%89%B6").await;
    assert_eq!((usernames(&found), total), (vec!["officer-zhang"], Some(1)), "q=帮扶 finds 张帮扶");
    let (_, _, found) = listing(&app.base, &token, "?q=OFFICER-").await;
    assert_eq!(usernames(&found), ["officer-a", "officer-b", "officer-zhang"]);

    // Pages of two: the same users in the same order, the total on each page.
    let mut paged = Vec::new();
    for page in 1.. {
        let (status, total, users) = listing(&app.base, &token, &format!("?per_page=2&page={page}")).await;
        assert_eq!((status, total), (200, Some(names.len())), "{users}");
        let users = usernames(&users).into_iter().map(str::to_owned).collect::<Vec<_>>();
        assert!(users.len() <= 2);
        if users.is_empty() {
            break;
        }
        paged.extend(users);
    }
    assert_eq!(paged, names);
    let (status, _, body) = listing(&app.base, &token, "?role=mayor").await;
    assert_eq!(status, 400, "an unknown role is refused, not ignored: {body}");

    // A village team manages no accounts: it lists nobody.
    let village_team = Admin::login(&app.base, "village-1", PASSWORD).await;
    let (status, _) = village_team.get("/api/v1/users").await;
    assert_eq!(status, 403);
}
