//! The office console's server side (issue 12): the cookie session with its CSRF token
//! and idle timeout, the embedded front end and its SPA fallback, the 待办 inbox and the
//! masked household table.

use crate::harness::*;
use jingzhun_mobile_api::wire::Op;
use serde_json::{Value, json};
use uuid::Uuid;

const TOWNSHIP_2: &str = "320703002000";
const VILLAGE_3: &str = "320703002001";

/// A browser without a cookie jar: the test sends the cookie itself, so it sees exactly
/// what the server set.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl Browser {
    async fn sign_in(base: &str, username: &str, password: &str) -> (Browser, Value, String) {
        let http = reqwest::Client::new();
        let res = http
            .post(format!("{base}/api/v1/auth/session"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("session request");
        assert_eq!(res.status(), 200, "session sign-in");
        let set_cookie = res.headers().get("set-cookie").expect("a cookie").to_str().expect("ascii").to_owned();
        let body: Value = res.json().await.expect("body");
        let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
        let csrf = body["csrf_token"].as_str().expect("csrf_token").to_owned();
        (Browser { base: base.to_owned(), http, cookie, csrf }, body, set_cookie)
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>, csrf: Option<&str>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).header("cookie", &self.cookie);
        if let Some(csrf) = csrf {
            req = req.header("x-csrf-token", csrf);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None, None).await
    }
}

fn region_body(code: &str, name: &str, level: &str, parent: &str) -> Value {
    json!({"code": code, "name": name, "level": level, "parent_code": parent})
}

async fn a_cookie_session_reads_writes_with_its_csrf_token_and_ends(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (browser, body, set_cookie) = Browser::sign_in(&app.base, "township-1", PASSWORD).await;
    assert!(set_cookie.starts_with("jz_session="), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{attribute} in {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain-HTTP loopback keeps working: {set_cookie}");
    assert_eq!(body["user"]["username"], "township-1");
    assert_eq!(body["user"]["display_name"], "township-1");
    assert_eq!(body["user"]["grants"], json!([{"role": "township", "region_code": TOWNSHIP, "region_name": "一号镇"}]));
    assert_eq!(body["idle_timeout_seconds"], 1800);
    assert!(body.get("token").is_none(), "no bearer token in a browser's hands: {body}");

    // The session answers again after a reload, with the same CSRF token.
    let (status, again) = browser.get("/api/v1/auth/session").await;
    assert_eq!((status, &again["csrf_token"]), (200, &body["csrf_token"]));
    assert_eq!(again["user"]["id"], body["user"]["id"]);

    // Reads need only the cookie; the scope is the user's, as with a token.
    let (status, households) = browser.get("/api/v1/households").await;
    assert_eq!(status, 200, "{households}");
    let (status, regions) = browser.get("/api/v1/regions").await;
    assert_eq!(status, 200, "{regions}");

    // A write with the cookie must repeat the session's CSRF token.
    let admin_browser = Browser::sign_in(&app.base, "admin", ADMIN_PASSWORD).await.0;
    let new_village = region_body("320703001003", "南村", "village", TOWNSHIP);
    let post = reqwest::Method::POST;
    let (status, refused) = admin_browser.send(post.clone(), "/api/v1/regions", Some(new_village.clone()), None).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("csrf")), "{refused}");
    assert!(!refused["error"]["message_zh"].as_str().unwrap_or_default().is_empty());
    let (status, refused) =
        admin_browser.send(post.clone(), "/api/v1/regions", Some(new_village.clone()), Some(&browser.csrf)).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("csrf")), "another session's token: {refused}");
    let csrf = admin_browser.csrf.clone();
    let (status, created) =
        admin_browser.send(post.clone(), "/api/v1/regions", Some(new_village.clone()), Some(&csrf)).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(app.count("SELECT COUNT(*) FROM region WHERE code = '320703001003'").await, 1);

    // Bearer callers (phones, scripts) are unchanged: no CSRF token.
    app.admin.ok_post("/api/v1/regions", region_body("320703001004", "北村", "village", TOWNSHIP)).await;

    // Behind a TLS-terminating proxy the cookie is Secure.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/session", app.base))
        .header("x-forwarded-proto", "https")
        .json(&json!({"username": "county", "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let secure = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(secure.contains("; Secure"), "{secure}");

    // A wrong password: our error body, and the phones' lockout counts it.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/session", app.base))
        .json(&json!({"username": "township-1", "password": "wrong-pass-1234"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("set-cookie").is_none());
    let refused: Value = res.json().await.expect("body");
    assert_eq!(refused["error"]["code"], "invalid_credentials");

    // Signing out needs the CSRF token too (a cross-site form must not sign anyone out),
    // then revokes the session and clears the cookie.
    let delete = reqwest::Method::DELETE;
    let (status, refused) = browser.send(delete.clone(), "/api/v1/auth/session", None, None).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("csrf")));
    let res = browser
        .http
        .delete(format!("{}/api/v1/auth/session", app.base))
        .header("cookie", &browser.cookie)
        .header("x-csrf-token", &browser.csrf)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 204);
    let cleared = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(cleared.starts_with("jz_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    let (status, _) = browser.get("/api/v1/auth/session").await;
    assert_eq!(status, 401);
    let (status, refused) = browser.get("/api/v1/households").await;
    assert_eq!((status, refused["error"]["code"].as_str()), (401, Some("unauthenticated")));

    // Start and end are in the audit trail, as a phone's sign-out is.
    let audit =
        |action: &str| format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND note = 'console session'");
    assert_eq!(app.count(&audit("login")).await, 3, "township-1, admin and county signed in");
    assert_eq!(app.count(&audit("logout")).await, 1);
}

async fn an_idle_session_expires_and_use_keeps_it_alive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (browser, _, _) = Browser::sign_in(&app.base, "village-1", PASSWORD).await;
    // Used every 20 minutes, a session with a 30-minute idle limit stays open.
    for _ in 0..3 {
        app.clock.advance(chrono::Duration::minutes(20));
        let (status, body) = browser.get("/api/v1/auth/session").await;
        assert_eq!(status, 200, "{body}");
    }
    app.clock.advance(chrono::Duration::minutes(31));
    let (status, refused) = browser.get("/api/v1/households").await;
    assert_eq!((status, refused["error"]["code"].as_str()), (401, Some("session_expired")), "{refused}");
    let (status, refused) = browser.get("/api/v1/auth/session").await;
    assert_eq!((status, refused["error"]["code"].as_str()), (401, Some("session_expired")));
    // A bearer token of the same user is not a console session and does not expire so.
    let token_user = Admin::login(&app.base, "village-1", PASSWORD).await;
    token_user.ok_get("/api/v1/households").await;
}

async fn a_new_password_ends_the_other_console_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (here, body, _) = Browser::sign_in(&app.base, "village-1", PASSWORD).await;
    let (elsewhere, _, _) = Browser::sign_in(&app.base, "village-1", PASSWORD).await;
    let change = json!({"current_password": PASSWORD, "new_password": "new-pass-5678"});
    let post = reqwest::Method::POST;
    let (status, refused) = here.send(post.clone(), "/api/v1/auth/password", Some(change.clone()), None).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("csrf")));
    let (status, answer) = here.send(post, "/api/v1/auth/password", Some(change), Some(&here.csrf)).await;
    assert_eq!(status, 204, "{answer}");
    assert_eq!(here.get("/api/v1/auth/session").await.0, 200, "the session that changed it stays");
    assert_eq!(elsewhere.get("/api/v1/auth/session").await.0, 401, "the other one ends");
    // The phones' sign-out route ends a console session too, not only a token.
    let (third, _, _) = Browser::sign_in(&app.base, "village-1", "new-pass-5678").await;
    let (status, _) = third.send(reqwest::Method::POST, "/api/v1/auth/logout", None, Some(&third.csrf)).await;
    assert_eq!(status, 204);
    assert_eq!(third.get("/api/v1/auth/session").await.0, 401);
    // A manager's reset (a forgotten or leaked password) ends every session.
    let user = body["user"]["id"].as_str().expect("id");
    let (status, _) =
        app.admin.post(&format!("/api/v1/users/{user}/password"), json!({"password": "reset-pass-9012"})).await;
    assert_eq!(status, 204);
    assert_eq!(here.get("/api/v1/households").await.0, 401);
    Browser::sign_in(&app.base, "village-1", "reset-pass-9012").await;
}

async fn the_console_is_served_beside_the_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let http = reqwest::Client::new();
    let page = |path: &str| http.get(format!("{}{path}", app.base)).header("accept", "text/html,*/*;q=0.8").send();
    let mut index = String::new();
    for path in ["/", "/households/123", "/cases?status=open"] {
        let res = page(path).await.expect("request");
        assert_eq!(res.status(), 200, "{path}");
        let content_type = res.headers()["content-type"].to_str().expect("ascii").to_owned();
        assert!(content_type.starts_with("text/html"), "{path}: {content_type}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
        index = res.text().await.expect("body");
        assert!(index.contains("id=\"app\""), "{path}: the console's index.html");
    }
    // Its hashed assets are cached for a year.
    let asset = index
        .split("\"/assets/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("index.html loads a hashed asset (console/dist is built)");
    let res = http.get(format!("{}/assets/{asset}", app.base)).send().await.expect("asset");
    assert_eq!(res.status(), 200, "{asset}");
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    let res = http.get(format!("{}/assets/no-such-file.js", app.base)).send().await.expect("asset");
    assert_eq!(res.status(), 404);

    // The API, the notice pages and the ops routes keep their own answers.
    for path in ["/api/v1/nope", "/api/nope", "/app/assets/nope.js", "/healthz/x"] {
        let res = page(path).await.expect("request");
        assert_eq!(res.status(), 404, "{path}");
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(body["error"]["code"], "not_found", "{path}: our JSON 404");
    }
    // A page under /app/ is the officer app's (issue 13), never the console's.
    let res = page("/app/anything").await.expect("request");
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("body").contains("/app/manifest.webmanifest"), "the officer app's index.html");
    let res = page("/n/no-such-notice").await.expect("request");
    assert_eq!(res.status(), 404);
    let body = res.text().await.expect("body");
    assert!(body.contains("未找到公示") && !body.contains("id=\"app\""), "the notice page's own 404");
    // Not a page request: a client that does not ask for HTML gets JSON.
    let res = http.get(format!("{}/households/123", app.base)).header("accept", "application/json").send().await;
    assert_eq!(res.expect("request").status(), 404);
}

/// A household in `village` pushed by officer-a; returns its id and its head's ID number.
async fn household_with_head(
    phone: &jingzhun_mobile_api::client::Client,
    village: &str,
    extra: usize,
) -> (Uuid, String) {
    let (household, _, changes) = new_household(village, extra);
    let id_number = changes[1].fields["id_number"].as_str().expect("id number").to_owned();
    assert!(matches!(changes[1].op, Op::Create));
    let res = push(phone, vec![changeset(changes)]).await;
    assert_eq!(res.results[0].status, jingzhun_mobile_api::wire::ChangeSetStatus::Applied);
    (household, id_number)
}

async fn the_inbox_counts_cases_for_who_may_sign_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    app.admin.ok_post("/api/v1/regions", region_body(TOWNSHIP_2, "二号镇", "township", COUNTY)).await;
    app.admin.ok_post("/api/v1/regions", region_body(VILLAGE_3, "南村", "village", TOWNSHIP_2)).await;
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "township-2", "name": "township-2", "password": PASSWORD, "roles": [{"role": "township", "region_code": TOWNSHIP_2}]}),
        )
        .await;
    let phone = app.phone("officer-a", &format!("phone-{}", Uuid::new_v4())).await;
    let (household, _) = household_with_head(&phone, VILLAGE_1, 0).await;
    let [officer, village, township, county] = users(&app).await;
    let other_township = Admin::login(&app.base, "township-2", PASSWORD).await;
    let case = county.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("id").to_owned();

    let cases_to_sign = |inbox: &Value| -> Value {
        inbox["items"].as_array().expect("items").iter().find(|i| i["kind"] == "cases_to_sign").cloned().expect("item")
    };
    // At the application: the assigned officer's, nobody else's below the village team.
    let mine = cases_to_sign(&officer.ok_get("/api/v1/inbox").await);
    assert_eq!(mine["count"], 1, "{mine}");
    let officer_b = Admin::login(&app.base, "officer-b", PASSWORD).await;
    assert_eq!(cases_to_sign(&officer_b.ok_get("/api/v1/inbox").await)["count"], 0);
    assert_eq!(cases_to_sign(&township.ok_get("/api/v1/inbox").await)["count"], 0);

    for (step, signer) in [("application", &officer), ("home_verification", &village)] {
        let (status, body) = pass_step(&app, signer, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    // At the comparison (比对): the township over the village signs it, with its village
    // named; the other township sees nothing of it, nor does the village team.
    let waiting = cases_to_sign(&township.ok_get("/api/v1/inbox").await);
    assert_eq!(waiting["count"], 1, "{waiting}");
    assert_eq!(waiting["by_region"], json!([{"region_code": VILLAGE_1, "region_name": "东村", "count": 1}]));
    assert!(!waiting["title_zh"].as_str().unwrap_or_default().is_empty() && waiting["link"].is_string());
    let elsewhere = other_township.ok_get("/api/v1/inbox").await;
    assert_eq!(cases_to_sign(&elsewhere)["count"], 0, "{elsewhere}");
    assert!(
        elsewhere["items"].as_array().expect("items").iter().all(|i| i["count"] == 0),
        "another township has nothing waiting: {elsewhere}"
    );
    assert_eq!(cases_to_sign(&village.ok_get("/api/v1/inbox").await)["count"], 0);
    assert_eq!(cases_to_sign(&officer.ok_get("/api/v1/inbox").await)["count"], 0);

    // The console reads it with its cookie.
    let (browser, _, _) = Browser::sign_in(&app.base, "township-1", PASSWORD).await;
    let (status, inbox) = browser.get("/api/v1/inbox").await;
    assert_eq!(status, 200);
    assert_eq!(cases_to_sign(&inbox)["count"], 1);
    // A milestone due within the week is the campaign's readers' to see; one due later is not yet.
    let today = app.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let due = |days: i64| (today + chrono::Duration::days(days)).format("%Y-%m-%d").to_string();
    county
        .ok_post(
            "/api/v1/campaigns",
            json!({"name": "走访", "region_code": COUNTY, "year": today.format("%Y").to_string().parse::<i32>().expect("year"),
                   "milestones": [{"name": "走访过半", "due_on": due(3), "measure": "households_visited"},
                                  {"name": "走访完成", "due_on": due(20), "measure": "households_visited"}]}),
        )
        .await;
    let milestones = county.ok_get("/api/v1/inbox").await["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["kind"] == "milestones_due")
        .cloned()
        .expect("milestones_due");
    assert_eq!(milestones["count"], 1, "{milestones}");
    assert_eq!(milestones["by_region"], json!([{"region_code": COUNTY, "region_name": "测试县", "count": 1}]));
    // An objection to the village notice waits for the 核查组 over the township, not for
    // the village team whose list it is, nor for another township.
    for (step, signer) in [("comparison", &township), ("village_assessment", &village)] {
        let (status, body) = pass_step(&app, signer, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let draft = village.ok_post("/api/v1/notices", json!({"step": "village_notice", "region_code": VILLAGE_1})).await;
    let published =
        village.ok_post(&format!("/api/v1/notices/{}/publish", draft["id"].as_str().expect("id")), json!({})).await;
    let token = published["url"].as_str().expect("url").rsplit('/').next().expect("token").to_owned();
    object_on_page(&app.base, &token, "1", "该户儿子在县城有商品房一套。").await;
    let objections_of = |inbox: Value| -> i64 {
        inbox["items"].as_array().expect("items").iter().find(|i| i["kind"] == "objections_to_answer").expect("item")
            ["count"]
            .as_i64()
            .expect("count")
    };
    let verifier = Admin::login(&app.base, "verifier-1", PASSWORD).await;
    assert_eq!(objections_of(verifier.ok_get("/api/v1/inbox").await), 1);
    assert_eq!(objections_of(village.ok_get("/api/v1/inbox").await), 0);
    assert_eq!(objections_of(other_township.ok_get("/api/v1/inbox").await), 0);
    // Every kind of waiting work is listed, counted or not.
    let kinds: Vec<&str> =
        inbox["items"].as_array().expect("items").iter().filter_map(|i| i["kind"].as_str()).collect();
    for kind in ["cases_to_sign", "objections_to_answer", "sync_conflicts", "milestones_due"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}

async fn the_household_table_pages_filters_and_masks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", &format!("phone-{}", Uuid::new_v4())).await;
    let mut heads = Vec::new();
    for (village, extra) in [(VILLAGE_1, 0), (VILLAGE_1, 1), (VILLAGE_1, 2), (VILLAGE_2, 3)] {
        heads.push(household_with_head(&phone, village, extra).await);
    }
    let (status, page) = app.admin.get("/api/v1/household-summaries?per_page=3").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!((page["total"].as_i64(), page["page"].as_u64(), page["per_page"].as_u64()), (Some(4), Some(1), Some(3)));
    assert_eq!(page["items"].as_array().expect("items").len(), 3);
    let second = app.admin.ok_get("/api/v1/household-summaries?per_page=3&page=2").await;
    assert_eq!((second["total"].as_i64(), second["items"].as_array().map(Vec::len)), (Some(4), Some(1)));
    let mut seen: Vec<String> = page["items"]
        .as_array()
        .into_iter()
        .chain(second["items"].as_array())
        .flatten()
        .filter_map(|i| i["id"].as_str().map(str::to_owned))
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4, "two pages list each household once");

    // ID and phone numbers are masked in the list, whoever asks.
    let whole = app.admin.ok_get("/api/v1/household-summaries?per_page=100").await;
    let text = whole.to_string();
    for (_, id_number) in &heads {
        assert!(!text.contains(id_number.as_str()), "an ID number in a list: {text}");
    }
    assert!(!text.contains("13812345678"), "a phone number in a list");
    let village_2 = app.admin.ok_get(&format!("/api/v1/household-summaries?region_code={VILLAGE_2}")).await;
    assert_eq!(village_2["total"], 1);
    let row = &village_2["items"][0];
    let head_id = &heads[3].1;
    assert_eq!(row["id"], heads[3].0.to_string());
    assert_eq!(row["head_id_number_masked"], format!("{}********{}", &head_id[..6], &head_id[14..]));
    assert_eq!(row["phone_masked"], "138****5678");
    assert_eq!((row["region_code"].as_str(), row["region_name"].as_str()), (Some(VILLAGE_2), Some("西村")));
    assert_eq!(row["residents"], 4);
    assert_eq!((row["head_name"].as_str(), row["kind"].as_str()), (Some("成员0"), Some("general")));
    assert_eq!(row["officer_name"], "officer-a");

    // Filters: kind, standard, status; a name; an ID number only whole.
    assert_eq!(app.admin.ok_get("/api/v1/household-summaries?kind=general&standard=national").await["total"], 4);
    assert_eq!(app.admin.ok_get("/api/v1/household-summaries?kind=dibao").await["total"], 0);
    let status = row["status"].as_str().map(str::to_owned).unwrap_or_default();
    if !status.is_empty() {
        assert_eq!(app.admin.ok_get(&format!("/api/v1/household-summaries?status={status}")).await["total"], 4);
    }
    assert_eq!(app.admin.ok_get("/api/v1/household-summaries?status=no-such-status").await["total"], 0);
    assert_eq!(app.admin.ok_get("/api/v1/household-summaries?q=%E6%88%90%E5%91%983").await["total"], 1, "成员3");
    // A search counts its matches in the page query: the total holds on every page, and
    // past the last one too.
    for (page, items) in [(1, 3), (2, 1), (9, 0)] {
        let found =
            app.admin.ok_get(&format!("/api/v1/household-summaries?q=%E6%88%90%E5%91%98&per_page=3&page={page}")).await;
        assert_eq!(
            (found["total"].as_i64(), found["items"].as_array().map(Vec::len)),
            (Some(4), Some(items)),
            "page {page}"
        );
    }
    assert_eq!(app.admin.ok_get(&format!("/api/v1/household-summaries?q={head_id}")).await["total"], 1);
    assert_eq!(app.admin.ok_get(&format!("/api/v1/household-summaries?q={}", &head_id[..14])).await["total"], 0);
    // As the list shows it, copied back into the search; a shorter mask tells nothing.
    let masked = row["head_id_number_masked"].as_str().expect("masked").replace('*', "%2A");
    assert_eq!(app.admin.ok_get(&format!("/api/v1/household-summaries?q={masked}")).await["total"], 1, "{masked}");
    // A hidden digit shown (a probe for the whole number, digit by digit) finds nothing.
    let probe = format!("{}{}{}", &head_id[..7], "%2A".repeat(7), &head_id[14..]);
    assert_eq!(app.admin.ok_get(&format!("/api/v1/household-summaries?q={probe}")).await["total"], 0, "{probe}");
    let short = format!("{}%2A%2A%2A", &head_id[..6]);
    assert_eq!(app.admin.ok_get(&format!("/api/v1/household-summaries?q={short}")).await["total"], 0, "{short}");
    assert_eq!(app.admin.ok_get("/api/v1/household-summaries?q=%25").await["total"], 0, "% is not a wildcard");

    // Scope: a village team sees its village only; the list of phones is unchanged.
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    assert_eq!(village.ok_get("/api/v1/household-summaries").await["total"], 3);
    let (browser, _, _) = Browser::sign_in(&app.base, "village-1", PASSWORD).await;
    let (status, by_cookie) = browser.get("/api/v1/household-summaries").await;
    assert_eq!((status, by_cookie["total"].as_i64()), (200, Some(3)));
    let phones_list = app.admin.ok_get("/api/v1/households").await;
    assert_eq!(phones_list.as_array().map(Vec::len), Some(4), "GET /api/v1/households keeps its shape");
}

crate::on_both_backends!(
    a_cookie_session_reads_writes_with_its_csrf_token_and_ends,
    an_idle_session_expires_and_use_keeps_it_alive,
    a_new_password_ends_the_other_console_sessions,
    the_console_is_served_beside_the_api,
    the_inbox_counts_cases_for_who_may_sign_them,
    the_household_table_pages_filters_and_masks,
);
