//! Public notices (C5, R10) end to end: cases gathered and published, the page and its
//! QR code read by a real decoder, an objection filed through the form, investigated
//! and upheld by the 核查组 (002 §三(七)), the notice closing only when no objection is
//! open, then the 村民代表会决议; what a public page must never show; a real browser
//! filing an objection. More on the 核查组 and the resolution: `objections_investigated.rs`.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::ChangeSetStatus;
use jingzhun_mobile_api::wire::Op;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    a_notice_runs_from_publishing_through_an_upheld_objection_to_closing,
    public_pages_hide_ids_phones_health_and_watch_lists_and_escape_input,
    the_objection_form_refuses_forged_floods_and_oversized_posts,
    a_phone_sized_browser_files_an_objection_through_the_form,
    an_objection_on_the_page_reaches_the_verification_group_by_sms_and_email,
);

/// A household in `village` whose head is `head` with a known ID number and phone.
async fn household(app: &TestApp, village: &str, head: &str, health: &str) -> (Uuid, String) {
    let phone = app.phone("officer-a", &format!("phone-{}", Uuid::new_v4())).await;
    let household = Uuid::new_v4();
    let id_number = fresh_id_number();
    let res = push(
        &phone,
        vec![changeset(vec![
            change(
                "household",
                household,
                Op::Create,
                0,
                json!({"region_code": village, "address": "东村二组8号", "phone": "13987654321", "standard": "national", "kind": "general", "poverty_causes": ["schooling"]}),
            ),
            change(
                "member",
                Uuid::new_v4(),
                Op::Create,
                0,
                json!({"household_id": household, "name": head, "sex": "female", "id_number": id_number, "relation": "head", "health": health, "phone": "13700001111"}),
            ),
            change(
                "member",
                Uuid::new_v4(),
                Op::Create,
                0,
                json!({"household_id": household, "name": format!("{head}之子"), "sex": "male", "id_number": fresh_id_number(), "relation": "son", "health": "healthy"}),
            ),
        ])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    (household, id_number)
}

pub(crate) struct People {
    pub(crate) officer: Admin,
    pub(crate) village: Admin,
    pub(crate) township: Admin,
}

pub(crate) async fn people(app: &TestApp) -> People {
    People {
        officer: Admin::login(&app.base, "officer-a", PASSWORD).await,
        village: Admin::login(&app.base, "village-1", PASSWORD).await,
        township: Admin::login(&app.base, "township-1", PASSWORD).await,
    }
}

/// Opens an identification for the household and takes it to the village notice.
async fn to_village_notice(app: &TestApp, p: &People, household: Uuid) -> String {
    let case = p.village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("case id").to_owned();
    for (step, who) in [
        ("application", &p.officer),
        ("home_verification", &p.village),
        ("comparison", &p.township),
        ("village_assessment", &p.village),
    ] {
        let (status, body) = pass_step(app, who, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    case
}

async fn case_step(app: &TestApp, case: &str) -> String {
    app.admin.ok_get(&format!("/api/v1/cases/{case}")).await["step"].as_str().expect("step").to_owned()
}

/// A published village notice over the households' cases: (notice, token).
async fn publish_village_notice(p: &People) -> (Value, String) {
    let draft = p.village.ok_post("/api/v1/notices", json!({"step": "village_notice", "region_code": VILLAGE_1})).await;
    assert_eq!(draft["status"], "draft");
    let id = draft["id"].as_str().expect("id");
    let notice = p.village.ok_post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    assert_eq!(notice["status"], "published");
    let url = notice["url"].as_str().expect("url");
    let token = url.rsplit('/').next().expect("token").to_owned();
    (notice, token)
}

/// A browser-like client: keeps cookies, does not follow redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// Opens the page and posts the form as a villager would: (status, Location, body).
async fn object(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    let page = client.get(format!("{base}/n/{token}")).send().await.expect("page").text().await.expect("html");
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf field");
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    let res = client.post(format!("{base}/n/{token}/objections")).form(&form).send().await.expect("post");
    let status = res.status().as_u16();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, location, res.text().await.expect("body"))
}

/// Decodes a PNG with zbarimg (Debian's zbar-tools), as a phone camera would.
fn decode_qr(png: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("jingzhun-qr-{}.png", Uuid::new_v4().simple()));
    std::fs::write(&path, png).expect("write png");
    let out = std::process::Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&path)
        .output()
        .expect("zbarimg is installed (apt-get install zbar-tools; .ci/run does it)");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "zbarimg found no code: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}

/// Outbox rows of an event addressed to `username`.
async fn outbox(app: &TestApp, event: &str, username: &str) -> i64 {
    let row = app
        .state
        .db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(
            app.state.db.backend(),
            format!(
                "SELECT COUNT(*) FROM notification n JOIN app_user u ON u.id = n.user_id \
                 WHERE n.event = '{event}' AND u.username = '{username}'"
            ),
        ))
        .await
        .expect("query")
        .expect("row");
    row.try_get_by_index::<i64>(0).expect("count")
}

async fn a_notice_runs_from_publishing_through_an_upheld_objection_to_closing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let p = people(&app).await;
    let (first, first_id) = household(&app, VILLAGE_1, "王秀英", "healthy").await;
    let (second, _) = household(&app, VILLAGE_1, "李建国", "healthy").await;
    let first_case = to_village_notice(&app, &p, first).await;
    let second_case = to_village_notice(&app, &p, second).await;
    let village_phone = app.phone("village-1", "phone-village").await;
    let (_, cursor) = village_phone.pull_all(None, None).await.expect("first pull");
    // The village team and the 核查组 can be reached by SMS (notifications are queued for them).
    app.execute_sql("UPDATE app_user SET phone = '13800138001' WHERE username = 'village-1'").await;
    app.execute_sql("UPDATE app_user SET phone = '13800138002' WHERE username = 'verifier-1'").await;

    // A notice step is passed by a notice, not a signature.
    let (status, body) = p
        .village
        .post(&format!("/api/v1/cases/{first_case}/signoffs"), json!({"step": "village_notice", "decision": "approve"}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("notice_step")));

    let (notice, token) = publish_village_notice(&p).await;
    let id = notice["id"].as_str().expect("id").to_owned();
    let hash = notice["content_sha256"].as_str().expect("hash").to_owned();
    assert_eq!(hash.len(), 64);
    let entries = notice["content"]["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0]["no"].as_i64(), entries[0]["head_name"].as_str()), (Some(1), Some("王秀英")));
    assert_eq!(entries[0]["members"], 2);
    assert_eq!(entries[0]["reason"], "因学");
    assert_eq!(notice["period_days"], 5);

    // The page, the poster, and the QR code a phone camera reads back to the page.
    let client = browser();
    let page = client.get(format!("{}/n/{token}", app.base)).send().await.expect("page");
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().expect("type").starts_with("text/html"));
    let html = page.text().await.expect("html");
    assert!(html.contains("王秀英") && html.contains("李建国") && html.contains(&hash), "{html}");
    assert!(html.contains(&format!("{}********{}", &first_id[..6], &first_id[14..])), "masked ID shown");
    assert!(html.len() < 20_000, "a light page: {} bytes", html.len());
    assert!(
        !html.contains("<script") && !html.contains("http://") && !html.contains("https://"),
        "no script, no external asset"
    );
    let png = reqwest::get(format!("{}/n/{token}/qr.png", app.base)).await.expect("png");
    assert_eq!(png.headers()["content-type"], "image/png");
    let decoded = decode_qr(&png.bytes().await.expect("bytes"));
    assert_eq!(decoded, format!("{}/n/{token}", app.base));
    assert_eq!(reqwest::get(&decoded).await.expect("decoded url").status(), 200, "the code opens the page");
    let svg = reqwest::get(format!("{}/n/{token}/qr.svg", app.base)).await.expect("svg").text().await.expect("svg");
    assert!(svg.contains("<svg"));
    let poster =
        reqwest::get(format!("{}/n/{token}/print", app.base)).await.expect("poster").text().await.expect("html");
    assert!(
        poster.contains("size:A4") && poster.contains("<svg") && poster.contains(&hash) && poster.contains("王秀英")
    );

    // Published content is frozen: the record may change, the notice does not.
    let version = app.admin.household(first).await["household"]["version"].as_i64().expect("version");
    // The township signed the comparison: only the county may still edit the household.
    let county_phone = app.phone("county", "phone-county").await;
    let res = push(
        &county_phone,
        vec![changeset(vec![change("household", first, Op::Update, version, json!({"poverty_causes": ["disaster"]}))])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);
    let again = p.village.ok_get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(
        (again["content_sha256"].as_str(), again["content"]["entries"][0]["reason"].as_str()),
        (Some(hash.as_str()), Some("因学"))
    );
    let (status, body) = p.village.post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("notice_not_draft")));
    // A photo of the notice on the village board is kept as evidence; the content hash stays.
    let photo = village_phone
        .upload_attachment(first, "公示张贴.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 posted on the board".to_vec())
        .await
        .expect("upload");
    let posted = p.village.ok_post(&format!("/api/v1/notices/{id}/postings"), json!({"attachment_id": photo.id})).await;
    assert_eq!(posted["posting_attachment_ids"], json!([photo.id.to_string()]));
    assert_eq!(posted["content_sha256"], hash.as_str());
    // A photo of another village's household is no evidence of this posting (L7).
    let west_phone = app.phone("officer-a", "phone-west").await;
    let (west, _) = create_household(&west_phone, VILLAGE_2, 0).await;
    let stranger = west_phone
        .upload_attachment(west, "别处.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 another village".to_vec())
        .await
        .expect("upload");
    let (status, _) =
        p.village.post(&format!("/api/v1/notices/{id}/postings"), json!({"attachment_id": stranger.id})).await;
    assert_eq!(status, 404);
    // While the notice is up its cases stay put.
    let (status, body) =
        p.township.post(&format!("/api/v1/cases/{first_case}/reopen"), json!({"step": "home_verification"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("case_on_notice")), "{body}");

    // A villager objects to the first household through the form.
    let (status, location, _) = object(
        &client,
        &app.base,
        &token,
        &[("entry", "1"), ("body", "王秀英家有小轿车，不符合条件"), ("name", "张三"), ("phone", "13600002222")],
    )
    .await;
    assert_eq!(status, 303);
    let location = location.expect("redirect to the receipt");
    assert!(location.starts_with("/o/"), "{location}");
    let receipt = location.trim_start_matches("/o/").split('?').next().expect("receipt").to_owned();
    let status_page =
        client.get(format!("{}{location}", app.base)).send().await.expect("receipt").text().await.expect("html");
    assert!(status_page.contains(&receipt) && status_page.contains("办理中") && status_page.contains("异议已提交"));

    // The village team's phone pulls it, with the objector's phone masked.
    let (pulled, _) = pull_until(&village_phone, Some(cursor), |all| all.iter().any(|c| c.entity == "objection")).await;
    let objection = pulled.iter().find(|c| c.entity == "objection").expect("objection pulled");
    assert_eq!(objection.data["status"], "open");
    assert_eq!(objection.data["entry_no"], 1);
    assert_eq!(objection.data["objector_phone"], "136****2222");
    assert!(objection.data["due_at"].is_string());

    // The 核查组 is told of the objection and, the day before the end, of the answer due;
    // the village team of its notice ending. Reminders run every minute, each sent once.
    assert_eq!(outbox(&app, "objection_received", "verifier-1").await, 1);
    assert_eq!(outbox(&app, "objection_received", "village-1").await, 0, "not the team whose list it is");
    let ends_at: chrono::DateTime<chrono::Utc> = notice["ends_at"].as_str().expect("ends_at").parse().expect("time");
    for _ in 0..2 {
        jingzhun::notices::notice::remind(&app.state.db, ends_at - chrono::Duration::hours(12)).await.expect("remind");
    }
    assert_eq!(
        (outbox(&app, "notice_ending", "village-1").await, outbox(&app, "objection_due", "verifier-1").await),
        (1, 1)
    );
    assert_eq!(outbox(&app, "objection_due", "village-1").await, 0);

    // The period runs; the notice cannot close while the objection is open.
    let (status, body) = p.village.post(&format!("/api/v1/notices/{id}/close"), json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("notice_period_running")));
    app.clock.advance(chrono::Duration::days(7));
    let (status, body) = p.village.post(&format!("/api/v1/notices/{id}/close"), json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("objections_open")));
    assert_eq!(case_step(&app, &second_case).await, "village_notice", "nothing moved");
    let closed_form =
        client.get(format!("{}/n/{token}", app.base)).send().await.expect("page").text().await.expect("html");
    assert!(!closed_form.contains("<form method=\"post\""), "no objections after the period");

    // Investigated by the 核查组 (002 §三(七)), not by the village team whose list it is,
    // nor by the township.
    let verifier = Admin::login(&app.base, "verifier-1", PASSWORD).await;
    let listed = verifier.ok_get(&format!("/api/v1/objections?notice_id={id}")).await;
    let objection_id = listed[0]["id"].as_str().expect("objection id").to_owned();
    assert_eq!(
        (listed[0]["objector_name"].as_str(), listed[0]["assigned_level"].as_str()),
        (Some("张三"), Some("verifier"))
    );
    let answer = json!({"outcome": "upheld", "findings": "经入户核实，该户2026年购买小轿车一辆，退回重新核实。"});
    for who in [&p.township, &p.village] {
        let (status, body) = who.post(&format!("/api/v1/objections/{objection_id}/answer"), answer.clone()).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    }
    let answered = verifier.ok_post(&format!("/api/v1/objections/{objection_id}/answer"), answer.clone()).await;
    assert_eq!(answered["status"], "upheld");
    let (status, body) = verifier.post(&format!("/api/v1/objections/{objection_id}/answer"), answer).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("objection_answered")));

    // Upheld: the first case is back at verification; the notice closed with its last
    // objection answered, and the second case went on to the 村民代表会决议.
    assert_eq!(case_step(&app, &first_case).await, "home_verification");
    assert_eq!(case_step(&app, &second_case).await, "village_resolution");
    let closed = p.village.ok_get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(closed["status"], "closed");
    let statuses: Vec<&str> =
        closed["cases"].as_array().expect("cases").iter().map(|c| c["status"].as_str().expect("status")).collect();
    assert_eq!(statuses, ["returned", "advanced"]);
    let signoffs = app.admin.ok_get(&format!("/api/v1/cases/{second_case}")).await["signoffs"].clone();
    let last = signoffs.as_array().expect("signoffs").last().expect("a sign-off").clone();
    assert_eq!(
        (last["step"].as_str(), last["decision"].as_str(), last["role"].as_str()),
        (Some("village_notice"), Some("notice"), Some("village"))
    );
    let upheld = app.admin.ok_get(&format!("/api/v1/cases/{first_case}")).await["signoffs"].clone();
    let upheld = upheld.as_array().expect("signoffs").last().expect("a sign-off").clone();
    assert_eq!(
        (upheld["step"].as_str(), upheld["decision"].as_str(), upheld["role"].as_str()),
        (Some("village_notice"), Some("objection_upheld"), Some("verifier"))
    );
    let (status, body) = record_resolution(&app, &p.village, &second_case).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["case_ids"], json!([second_case]));
    assert_eq!(case_step(&app, &second_case).await, "township_review");

    // The objector reads the answer by receipt, typed sloppily.
    let sloppy = receipt.to_lowercase().replace('-', " ");
    let found = client.get(format!("{}/o?receipt={sloppy}", app.base)).send().await.expect("lookup");
    assert_eq!(found.status(), 303);
    let page =
        client.get(format!("{}/o/{receipt}", app.base)).send().await.expect("receipt").text().await.expect("html");
    assert!(page.contains("异议成立") && page.contains("购买小轿车一辆"), "{page}");

    // The clock restarts for the returned case: it is listed again on a new notice.
    for (step, who) in
        [("home_verification", &p.village), ("comparison", &p.township), ("village_assessment", &p.village)]
    {
        assert_eq!(pass_step(&app, who, &first_case, step).await.0, 200, "{step}");
    }
    let (status, _) = pass_step(&app, &p.village, &first_case, "village_notice").await;
    assert_eq!(status, 200);
    assert_eq!(case_step(&app, &first_case).await, "township_review");

    // Every action is in the audit log.
    for action in
        ["notice_draft", "notice_publish", "objection_file", "objection_answer", "notice_close", "village_resolution"]
    {
        let count = app
            .state
            .db
            .conn
            .query_one_raw(sea_orm::Statement::from_string(
                app.state.db.backend(),
                format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"),
            ))
            .await
            .expect("query")
            .expect("row")
            .try_get_by_index::<i64>(0)
            .expect("count");
        assert!(count > 0, "{action} audited");
    }
}

async fn public_pages_hide_ids_phones_health_and_watch_lists_and_escape_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let p = people(&app).await;
    let (listed, listed_id) = household(&app, VILLAGE_1, "赵桂兰", "serious_illness").await;
    // An edge household (边缘户, R5): 4,000 yuan a head, above this county's 3,800 line
    // and within 1.5 times it, with a risk (因学). It applies, and its application waits
    // at the village notice too — but the edge list is internal (004 §三(一)).
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let year = chrono::Utc::now().format("%Y").to_string().parse::<i64>().expect("year");
    let line = json!({"year": year, "region_prefix": "320703", "standard": "national", "yuan": 3800, "source": "县定"});
    assert_eq!(county.put("/api/v1/thresholds", line).await.0, 204);
    let (edge, edge_id) = household(&app, VILLAGE_1, "钱边缘", "disabled").await;
    let phone = app.phone("officer-a", "phone-income").await;
    let income = json!({"household_id": edge, "year": year, "wage": 8000});
    let res = push(&phone, vec![changeset(vec![change("income", Uuid::new_v4(), Op::Create, 0, income)])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);
    let assessment = county.ok_get(&format!("/api/v1/households/{edge}/assessment")).await;
    assert_eq!(assessment["edge"]["list"], "edge", "{assessment}");
    to_village_notice(&app, &p, listed).await;
    let edge_case = to_village_notice(&app, &p, edge).await;
    let (notice, token) = publish_village_notice(&p).await;
    let entries = notice["content"]["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "the edge household is held back: {entries:?}");
    assert_eq!(entries[0]["head_name"], "赵桂兰");
    // It waits at the step, but not silently: the village team's view of the case says why.
    let view = p.village.ok_get(&format!("/api/v1/cases/{edge_case}")).await;
    assert_eq!(view["step"], "village_notice", "it waits");
    assert!(view["held_back"]["reason_zh"].as_str().is_some_and(|r| r.contains("边缘户")), "{view}");

    let client = browser();
    let (status, location, _) = object(
        &client,
        &app.base,
        &token,
        &[("body", "<script>alert('x')</script> 名单有误"), ("name", "<img src=x onerror=alert(1)>")],
    )
    .await;
    assert_eq!(status, 303);
    let receipt_path = location.expect("receipt");
    let mut pages = Vec::new();
    for path in [format!("/n/{token}"), format!("/n/{token}/print"), receipt_path.clone()] {
        let res = client.get(format!("{}{path}", app.base)).send().await.expect("page");
        assert_eq!(res.status(), 200, "{path}");
        pages.push((path, res.text().await.expect("html")));
    }
    for (path, html) in &pages {
        for secret in [
            listed_id.as_str(),
            edge_id.as_str(),
            "13987654321",
            "13700001111",
            "患有大病",
            "残疾",
            "长期慢性病",
            "钱边缘",
            "边缘户",
            "监测户",
        ] {
            assert!(!html.contains(secret), "{path} shows {secret}");
        }
    }
    let receipt = &pages[2].1;
    assert!(receipt.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; 名单有误"), "{receipt}");
    assert!(!receipt.contains("<script") && !receipt.contains("<img"), "shown as text");
    // The objector's name is not on the public receipt at all.
    assert!(!receipt.contains("onerror"));
}

async fn the_objection_form_refuses_forged_floods_and_oversized_posts(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.notices.objections_per_ip_per_hour = 5).await;
    seed(&app).await;
    let p = people(&app).await;
    let (h, _) = household(&app, VILLAGE_1, "孙立新", "healthy").await;
    to_village_notice(&app, &p, h).await;
    let (notice, token) = publish_village_notice(&p).await;

    // No cookie (a post from another site): refused, nothing stored.
    let stranger = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let page = stranger.get(format!("{}/n/{token}", app.base)).send().await.expect("page").text().await.expect("html");
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf").to_owned();
    let res = stranger
        .post(format!("{}/n/{token}/objections", app.base))
        .form(&[("csrf", csrf.as_str()), ("body", "伪造的提交")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    // A forged token with a matching cookie: refused.
    let client = browser();
    let forged = "1700000000.00000000000000000000000000000000";
    let res = client
        .post(format!("{}/n/{token}/objections", app.base))
        .header("cookie", format!("jz_csrf={forged}"))
        .form(&[("csrf", forged), ("body", "伪造的提交")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);

    // Empty and too long bodies get a clear message on the page.
    let (status, _, html) = object(&client, &app.base, &token, &[("body", "  ")]).await;
    assert_eq!(status, 400);
    assert!(html.contains("请填写异议内容"));
    let (status, _, html) = object(&client, &app.base, &token, &[("body", &"长".repeat(1001))]).await;
    assert_eq!(status, 400);
    assert!(html.contains("异议内容过长"));
    // A body far past the form's size is cut off before it is read.
    let res = client
        .post(format!("{}/n/{token}/objections", app.base))
        .form(&[("csrf", csrf.as_str()), ("body", &"x".repeat(64 * 1024))])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 413);

    // One sender's flood stops at the limit (5 an hour here, the five refused posts
    // above included); the page still answers.
    let (status, _, _) = object(&client, &app.base, &token, &[("body", "第一条")]).await;
    assert_eq!(status, 429);
    assert_eq!(reqwest::get(format!("{}/n/{token}", app.base)).await.expect("page").status(), 200);
    let id = notice["id"].as_str().expect("id");
    let stored = p.village.ok_get(&format!("/api/v1/objections?notice_id={id}")).await;
    assert_eq!(stored.as_array().expect("list").len(), 0, "nothing refused was stored");
    // Unknown notices and receipts are plain 404 pages.
    assert_eq!(reqwest::get(format!("{}/n/not-a-token", app.base)).await.expect("page").status(), 404);
    assert_eq!(reqwest::get(format!("{}/o/0000-0000-0000", app.base)).await.expect("page").status(), 404);
}

async fn a_phone_sized_browser_files_an_objection_through_the_form(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let p = people(&app).await;
    let (h, _) = household(&app, VILLAGE_1, "周美玲", "healthy").await;
    to_village_notice(&app, &p, h).await;
    let (notice, token) = publish_village_notice(&p).await;

    let browser = crate::browser::Browser::start().await;
    let client = &browser.client;
    client.goto(&format!("{}/n/{token}", app.base)).await.expect("open the page");
    let entry = client.find(fantoccini::Locator::Css("select[name=entry]")).await.expect("select");
    entry.select_by_value("1").await.expect("choose the household");
    client
        .find(fantoccini::Locator::Css("textarea[name=body]"))
        .await
        .expect("textarea")
        .send_keys("该户儿子在县城有商品房，请核实。")
        .await
        .expect("type");
    client.find(fantoccini::Locator::Css("button[type=submit]")).await.expect("button").click().await.expect("submit");
    let url = browser.wait_for_path("/o/").await;
    let text = client.find(fantoccini::Locator::Css("body")).await.expect("body").text().await.expect("text");
    assert!(url.starts_with("/o/"), "reached the receipt page: {url}\n{text}");
    assert!(text.contains("异议已提交") && text.contains("办理中"), "{text}");
    browser.screenshot(&format!("notice-objection-receipt-{backend:?}")).await;

    let id = notice["id"].as_str().expect("id");
    let stored = p.village.ok_get(&format!("/api/v1/objections?notice_id={id}")).await;
    assert_eq!(stored[0]["entry_no"], 1);
    assert_eq!(stored[0]["body"], "该户儿子在县城有商品房，请核实。");
    browser.close().await;
}

async fn an_objection_on_the_page_reaches_the_verification_group_by_sms_and_email(backend: Backend) {
    // SMS to a stand-in that checks Aliyun's signature, email to aiosmtpd; 10:00 Beijing.
    let stage = crate::standins::stage(backend, true, |_| {}).await;
    let app = &stage.app;
    // The 核查组 over the township is told; the village team whose list it is is not.
    let team = "hechazu@xian.example.org";
    crate::standins::user(app, "check-group", "verifier", TOWNSHIP, Some("13800138001"), Some(team)).await;
    crate::standins::user(
        app,
        "east-team",
        "village",
        VILLAGE_1,
        Some("13800138003"),
        Some("team@dongcun.example.org"),
    )
    .await;
    let p = people(app).await;
    let (h, _) = household(app, VILLAGE_1, "吴春花", "healthy").await;
    to_village_notice(app, &p, h).await;
    let (_, token) = publish_village_notice(&p).await;

    let (status, _, _) =
        object(&browser(), &app.base, &token, &[("entry", "1"), ("body", "该户有人在城里买了房。")]).await;
    assert_eq!(status, 303);
    let dispatcher =
        jingzhun::notifications::dispatch::dispatcher(&app.state.db, &app.state.config.notify).expect("dispatcher");
    let outcome = dispatcher.try_dispatch_once(app.clock.now()).await.expect("one cycle");
    assert_eq!(outcome.sent, 2, "{outcome:?}");

    assert_eq!((stage.sms.received_by("13800138001"), stage.sms.received_by("13800138003")), (1, 0));
    let sms = stage.sms.accepted().pop().expect("accepted");
    assert_eq!(sms["TemplateCode"], "SMS_JZ_OBJECTION_RECEIVED");
    let params: Value = serde_json::from_str(&sms["TemplateParam"]).expect("json");
    assert_eq!(params["notice_title"], "东村村级公示");
    let mail = stage.smtp.as_ref().expect("smtp").messages();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(
        (mail[0]["subject"].as_str(), mail[0]["rcpt_to"].clone()),
        (Some("【精准扶贫】公示收到异议"), json!([team]))
    );
    assert!(mail[0]["plain"].as_str().expect("text").contains("东村的公示《东村村级公示》收到新的异议"), "{mail:?}");
    // Nothing goes twice.
    assert_eq!(dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle").claimed, 0);
}
