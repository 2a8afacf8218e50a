//! Issue 9 (trust), notifications and public notices: provider texts masked in the
//! delivery log, WeCom's "system busy" retried, start-ups safe to race, per-number
//! limits that hold across dispatchers, test sends only to people the caller manages,
//! objection floods capped and dismissed in bulk, one `objection_received` per notice
//! and hour, security headers on the public pages, and drafts kept from the levels below.

use jingzhun::Config;
use jingzhun::auth::Role;
use jingzhun::notifications::Recipients;
use jingzhun_notifier::Secret;
use jingzhun_notifier::outbox::Dispatcher;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Admin, Backend, PASSWORD, TOWNSHIP, TestApp, VILLAGE_1, create_household, pass_step, seed};
use crate::notices::{People, people};
use crate::notifications::{notify, objection};
use crate::on_both_backends;
use crate::standins::{stage, user};

on_both_backends!(
    two_servers_starting_together_on_a_fresh_database_both_start,
    an_aliyun_refusal_is_kept_without_the_phone_number,
    a_busy_wecom_robot_is_retried_then_delivered,
    the_per_number_limit_holds_across_two_dispatchers,
    a_slow_batch_records_each_message_as_it_is_sent,
    a_test_send_goes_only_to_people_the_caller_manages,
    an_objection_flood_is_capped_per_sender_and_dismissed_in_bulk,
    objection_messages_are_one_per_notice_and_hour,
    public_pages_send_security_headers_and_a_secure_cookie,
    a_village_user_cannot_read_a_township_draft,
);

/// A fresh, empty database for `backend`: its URL and a way to drop it.
async fn fresh_database(backend: Backend) -> (String, impl FnOnce()) {
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("jingzhun-race-{}.db", Uuid::new_v4().simple()));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let cleanup = move || {
                for suffix in ["", "-wal", "-shm", ".startup-lock"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            };
            (url, Box::new(cleanup) as Box<dyn FnOnce()>)
        }
        Backend::Postgres => {
            use sea_orm::{ConnectionTrait, Database};
            let admin_url = std::env::var("JINGZHUN_TEST_POSTGRES_URL").expect("JINGZHUN_TEST_POSTGRES_URL is not set");
            let name = format!("jz_race_{}", Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.expect("connect as admin");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
            let _ = admin.close().await;
            let url = match admin_url.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => format!("{admin_url}/{name}"),
            };
            let cleanup = move || {
                let _ = std::thread::spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        rt.block_on(async {
                            if let Ok(admin) = Database::connect(&admin_url).await {
                                let _ = admin
                                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                    .await;
                                let _ = admin.close().await;
                            }
                        });
                    }
                })
                .join();
            };
            (url, Box::new(cleanup) as Box<dyn FnOnce()>)
        }
    }
}

fn config_for(url: &str) -> Config {
    let mut config = Config::defaults().expect("defaults");
    config.database_url = url.to_owned();
    config.max_connections = 5;
    config.bootstrap.admin_password = crate::harness::ADMIN_PASSWORD.into();
    config.notify.dispatcher_enabled = false;
    config
}

async fn two_servers_starting_together_on_a_fresh_database_both_start(backend: Backend) {
    // Several rounds: the race is between migrations, the first administrator and every
    // seeded row (templates, thresholds, rule variants, the form key).
    for round in 0..3 {
        let (url, cleanup) = fresh_database(backend).await;
        let (first, second) = tokio::join!(jingzhun::prepare(config_for(&url)), jingzhun::prepare(config_for(&url)));
        let (first, second) = (first.map_err(|e| format!("{e:#}")), second.map_err(|e| format!("{e:#}")));
        assert!(first.is_ok() && second.is_ok(), "round {round}: {:?} / {:?}", first.err(), second.err());
        let (first, second) = (first.expect("first"), second.expect("second"));
        // One administrator, one set of seeded rows.
        let admins = jingzhun::db::count(&first.db.conn, "SELECT COUNT(*) FROM app_user", vec![]).await.expect("count");
        assert_eq!(admins, 1);
        let policies =
            jingzhun::db::count(&second.db.conn, "SELECT COUNT(*) FROM rule_policy", vec![]).await.expect("count");
        assert_eq!(policies, 4);
        let _ = first.db.conn.close().await;
        let _ = second.db.conn.close().await;
        cleanup();
    }
}

/// A dispatcher with a pool of its own, as another server process would have.
async fn other_dispatcher(app: &TestApp) -> Dispatcher {
    let db = jingzhun::db::Db::connect(&app.database_url, 10).await.expect("second pool");
    let config = &app.state.config.notify;
    Dispatcher::new(db, config.channels().expect("channels"), config.policy().expect("policy"))
}

async fn scalar_text(app: &TestApp, text: &str, values: Vec<sea_orm::Value>) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let stmt = jingzhun::db::sql(app.state.db.backend(), text, values);
    let rows = app.state.db.conn.query_all_raw(stmt).await.expect("rows");
    rows.iter().map(|row| row.try_get_by_index::<Option<String>>(0).expect("text").unwrap_or_default()).collect()
}

async fn statuses(app: &TestApp, user_id: &str) -> Vec<String> {
    scalar_text(app, "SELECT status FROM notification WHERE user_id = ? ORDER BY created_at, id", vec![user_id.into()])
        .await
}

async fn an_aliyun_refusal_is_kept_without_the_phone_number(backend: Backend) {
    // A wrong key secret: Aliyun refuses the signature and quotes its string to sign,
    // with the recipient's number in it.
    let stage = stage(backend, false, |config| {
        if let Some(aliyun) = config.notify.aliyun.as_mut() {
            aliyun.access_key_secret = Secret::new("not-the-secret");
        }
    })
    .await;
    let app = &stage.app;
    let officer = user(app, "officer-m", "officer", VILLAGE_1, Some("13800138021"), None).await;
    notify(app, objection("objection:m1", Recipients::Users(vec![officer.clone()]))).await;
    let outcome = jingzhun::notifications::dispatch::dispatcher(&app.state.db, &app.state.config.notify)
        .expect("dispatcher")
        .try_dispatch_once(app.clock.now())
        .await
        .expect("cycle");
    assert_eq!(outcome.failed, 1, "{outcome:?}");
    assert_eq!(stage.sms.requests(), 1);

    let stored = scalar_text(
        app,
        "SELECT last_error FROM notification WHERE user_id = ? UNION ALL SELECT a.detail FROM notification_attempt a \
         JOIN notification n ON n.id = a.notification_id WHERE n.user_id = ?",
        vec![officer.as_str().into(), officer.as_str().into()],
    )
    .await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    for text in &stored {
        assert!(text.contains("signature"), "the reason is kept: {text}");
        assert!(!text.contains("13800138021") && !text.contains("PhoneNumbers"), "stored whole: {text}");
    }
    let log = app.admin.ok_get(&format!("/api/v1/notifications?user_id={officer}")).await;
    assert_eq!(
        (log[0]["status"].as_str(), log[0]["provider_code"].as_str()),
        (Some("failed"), Some("SignatureDoesNotMatch"))
    );
    let attempts =
        app.admin.ok_get(&format!("/api/v1/notifications/{}/attempts", log[0]["id"].as_str().expect("id"))).await;
    let shown = format!("{log}{attempts}");
    assert!(!shown.contains("13800138021") && !shown.contains("string to sign"), "shown whole: {shown}");
}

async fn a_busy_wecom_robot_is_retried_then_delivered(backend: Backend) {
    let stage = stage(backend, false, |_| {}).await;
    let app = &stage.app;
    app.admin
        .ok_post(
            "/api/v1/notification-robots",
            json!({"region_code": TOWNSHIP, "name": "一号镇工作群", "robot_key": "robot-busy"}),
        )
        .await;
    stage.wecom.busy(1);
    let recipients = Recipients::Role { role: Role::Village, region_code: VILLAGE_1.into() };
    assert_eq!(notify(app, objection("objection:b1", recipients)).await, 1);
    let dispatcher =
        jingzhun::notifications::dispatch::dispatcher(&app.state.db, &app.state.config.notify).expect("dispatcher");
    let first = dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!((first.retried, first.failed), (1, 0), "errcode -1 is WeCom being busy: {first:?}");
    assert!(stage.wecom.received().is_empty());
    app.clock.advance(chrono::Duration::seconds(73));
    let second = dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!(second.sent, 1, "{second:?}");
    assert_eq!(stage.wecom.received().len(), 1);
}

async fn the_per_number_limit_holds_across_two_dispatchers(backend: Backend) {
    // One row per claim and a slow gateway: the two dispatchers' sends overlap.
    let stage = stage(backend, false, |config| config.notify.batch = 1).await;
    let app = &stage.app;
    let officer = user(app, "officer-l", "officer", VILLAGE_1, Some("13800138022"), None).await;
    for i in 0..3 {
        notify(app, objection(&format!("objection:l{i}"), Recipients::Users(vec![officer.clone()]))).await;
    }
    stage.sms.delay(std::time::Duration::from_millis(400));
    let now = app.clock.now();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let dispatcher = other_dispatcher(app).await;
        tasks.push(tokio::spawn(async move {
            loop {
                let outcome = dispatcher.try_dispatch_once(now).await.expect("cycle");
                if outcome.claimed == 0 {
                    return;
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("dispatcher");
    }
    // 1 a minute per number, whichever process sends.
    assert_eq!(stage.sms.received_by("13800138022"), 1);
    let mut rows = statuses(app, &officer).await;
    rows.sort();
    assert_eq!(rows, ["held", "held", "sent"]);
    // A minute later the next one goes, and only one.
    app.clock.advance(chrono::Duration::seconds(61));
    let (a, b) = (other_dispatcher(app).await, other_dispatcher(app).await);
    let now = app.clock.now();
    let (first, second) = tokio::join!(a.try_dispatch_once(now), b.try_dispatch_once(now));
    let sent = first.expect("cycle").sent + second.expect("cycle").sent;
    assert_eq!(sent, 1);
    assert_eq!(stage.sms.received_by("13800138022"), 2);
}

async fn a_slow_batch_records_each_message_as_it_is_sent(backend: Backend) {
    let stage = stage(backend, false, |config| config.notify.concurrency = 1).await;
    let app = &stage.app;
    let mut people = Vec::new();
    for i in 0..3 {
        let phone = format!("1380013803{i}");
        people.push(user(app, &format!("officer-s{i}"), "officer", VILLAGE_1, Some(&phone), None).await);
    }
    for (i, person) in people.iter().enumerate() {
        notify(app, objection(&format!("objection:s{i}"), Recipients::Users(vec![person.clone()]))).await;
    }
    stage.sms.delay(std::time::Duration::from_millis(500));
    let slow = other_dispatcher(app).await;
    let now = app.clock.now();
    let batch = tokio::spawn(async move { slow.try_dispatch_once(now).await.expect("cycle") });
    // While the first message is on its way, another process finds the lease run out.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let lease = chrono::Duration::seconds(app.state.config.notify.lease_secs as i64 + 1);
    other_dispatcher(app).await.try_dispatch_once(now + lease).await.expect("cycle");
    let outcome = batch.await.expect("batch");
    assert_eq!(outcome.sent, 3, "{outcome:?}");
    for (i, person) in people.iter().enumerate() {
        assert_eq!(statuses(app, person).await, ["sent"], "message {i}");
        assert_eq!(stage.sms.received_by(&format!("1380013803{i}")), 1);
    }
}

async fn a_test_send_goes_only_to_people_the_caller_manages(backend: Backend) {
    let stage = stage(backend, false, |_| {}).await;
    let app = &stage.app;
    app.execute_sql("UPDATE app_user SET phone = '13800138051' WHERE username = 'county'").await;
    user(app, "team-t", "village", VILLAGE_1, Some("13800138052"), None).await;
    app.admin
        .ok_post(
            "/api/v1/regions",
            json!({"code": "320706000000", "name": "另一县", "level": "county", "parent_code": "320700000000"}),
        )
        .await;
    user(app, "elsewhere", "county", "320706000000", Some("13800138053"), None).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let send = |address: &'static str| {
        let county = county.clone();
        async move { county.post("/api/v1/notifications/test-send", json!({"channel": "sms", "address": address})).await }
    };
    // Nobody's number, and a user of another county: refused, nothing sent.
    for stranger in ["13900001111", "13800138053"] {
        let (status, body) = send(stranger).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("recipient_not_allowed")),
            "{stranger}: {body}"
        );
    }
    // The caller's own phone, and a user they manage.
    for own in ["+86 138-0013-8051", "13800138052"] {
        let (status, body) = send(own).await;
        assert_eq!((status, body["sent"].as_bool()), (200, Some(true)), "{own}: {body}");
    }
    assert_eq!(stage.sms.received_by("13800138051"), 1);
    assert_eq!(stage.sms.received_by("13800138052"), 1);
    assert_eq!(stage.sms.received_by("13900001111") + stage.sms.received_by("13800138053"), 0);
    // The per-number limit holds for test sends too (1 a minute), and they show in the log.
    let (status, body) = send("13800138051").await;
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("rate_limited")), "{body}");
    assert_eq!(stage.sms.received_by("13800138051"), 1);
    let log = county.ok_get("/api/v1/notifications").await;
    assert!(
        log.as_array().expect("log").iter().any(|row| row["event"] == "test_send" && row["status"] == "sent"),
        "{log}"
    );
    // A few an hour per caller (5; the held one counted).
    for address in ["13800138052", "13800138051"] {
        app.clock.advance(chrono::Duration::minutes(5));
        let (status, body) = send(address).await;
        assert_eq!(status, 200, "{body}");
    }
    app.clock.advance(chrono::Duration::minutes(5));
    let (status, body) = send("13800138052").await;
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("rate_limited")), "{body}");
    assert_eq!(stage.sms.received_by("13800138052"), 2);
}

// ---- public notices -------------------------------------------------------------

async fn case_before(app: &TestApp, p: &People, until: &str) -> String {
    let phone = app.phone("officer-a", &format!("phone-{}", Uuid::new_v4())).await;
    let (household, _) = create_household(&phone, VILLAGE_1, 1).await;
    let case = p.village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("case id").to_owned();
    for (step, who) in [
        ("application", &p.officer),
        ("home_verification", &p.village),
        ("comparison", &p.township),
        ("village_assessment", &p.village),
        ("village_notice", &p.village),
        ("township_review", &p.township),
    ] {
        if step == until {
            break;
        }
        let (status, body) = pass_step(app, who, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    case
}

/// A published village notice over one case: (notice id, token).
async fn published_village_notice(app: &TestApp, p: &People) -> (String, String) {
    case_before(app, p, "village_notice").await;
    let draft = p.village.ok_post("/api/v1/notices", json!({"step": "village_notice", "region_code": VILLAGE_1})).await;
    let id = draft["id"].as_str().expect("id").to_owned();
    let notice = p.village.ok_post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    let token = notice["url"].as_str().expect("url").rsplit('/').next().expect("token").to_owned();
    (id, token)
}

/// Opens the page and posts the form from `address` (X-Real-IP): (status, Location).
async fn object_from(base: &str, token: &str, address: &str, body: &str) -> (u16, Option<String>) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = client.get(format!("{base}/n/{token}")).header("x-real-ip", address).send().await.expect("page");
    let html = page.text().await.expect("html");
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf field");
    let res = client
        .post(format!("{base}/n/{token}/objections"))
        .header("x-real-ip", address)
        .form(&[("csrf", csrf), ("body", body)])
        .send()
        .await
        .expect("post");
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (res.status().as_u16(), location)
}

async fn spawn_notices(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let app = TestApp::spawn_with(backend, |config| {
        config.notices.client_ip_header = "X-Real-IP".into();
        config.notify.dispatcher_enabled = false;
        tweak(config);
    })
    .await;
    seed(&app).await;
    app
}

async fn an_objection_flood_is_capped_per_sender_and_dismissed_in_bulk(backend: Backend) {
    let app = spawn_notices(backend, |_| {}).await;
    let p = people(&app).await;
    let (notice, token) = published_village_notice(&app, &p).await;

    // One sender: a few open objections, then refused (its hourly limit is 10).
    let mut answers = Vec::new();
    for i in 0..5 {
        answers.push(object_from(&app.base, &token, "203.0.113.7", &format!("刷屏{i}")).await.0);
    }
    assert_eq!(answers, [303, 303, 303, 429, 429]);
    // Another sender is not affected by the first one's flood.
    let mut receipts = Vec::new();
    for body in ["该户有人在城里买了房。", "同上"] {
        let (status, location) = object_from(&app.base, &token, "198.51.100.9", body).await;
        assert_eq!(status, 303);
        receipts.push(location.expect("receipt"));
    }
    let listed = p.village.ok_get(&format!("/api/v1/objections?notice_id={notice}&status=open")).await;
    let listed = listed.as_array().expect("objections");
    assert_eq!(listed.len(), 5);
    let flood_source = listed[0]["source"].as_str().expect("source label").to_owned();
    assert_eq!(listed.iter().filter(|o| o["source"] == flood_source.as_str()).count(), 3);
    let second: Vec<&str> =
        listed.iter().filter(|o| o["source"] != flood_source.as_str()).map(|o| o["id"].as_str().expect("id")).collect();

    // Only those who answer may dismiss (a village notice's: the 核查组, 002 §三(七), not
    // the village team whose list it is); a finding is required.
    let path = format!("/api/v1/notices/{notice}/objections/dismiss");
    let spam = json!({"source": flood_source, "reason": "spam", "findings": "经核实为同一来源的重复无效提交。"});
    for who in [&p.officer, &p.village] {
        let (status, _) = who.post(&path, spam.clone()).await;
        assert_eq!(status, 403);
    }
    let verifier = Admin::login(&app.base, "verifier-1", PASSWORD).await;
    let (status, body) = verifier.post(&path, json!({"source": flood_source, "reason": "spam", "findings": " "})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("note_required")));
    let done = verifier.ok_post(&path, spam).await;
    assert_eq!((done["dismissed"].as_u64(), done["objections_open"].as_i64()), (Some(3), Some(2)), "{done}");
    // Findings typed with a phone number: the public receipt page hides it (L8).
    let done = verifier
        .ok_post(
            &path,
            json!({"objection_ids": second, "reason": "duplicate", "findings": "已电话13812345678联系反映人，经核实该户2026年无购房记录。"}),
        )
        .await;
    assert_eq!((done["dismissed"].as_u64(), done["objections_open"].as_i64()), (Some(2), Some(0)), "{done}");
    let audited = jingzhun::db::count(
        &app.state.db.conn,
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'objection' AND action = 'objection_dismiss_bulk'",
        vec![],
    )
    .await
    .expect("audit");
    assert_eq!(audited, 5);
    let page = reqwest::get(format!("{}{}", app.base, receipts[0])).await.expect("receipt").text().await.expect("html");
    assert!(page.contains("经核实该户2026年无购房记录") && !page.contains("13812345678"), "{page}");

    // Nothing open any more: the notice closes when its period ends.
    app.clock.advance(chrono::Duration::days(7));
    let closed = p.village.ok_post(&format!("/api/v1/notices/{notice}/close"), json!({})).await;
    assert_eq!(closed["status"], "closed", "{closed}");
}

async fn objection_messages_are_one_per_notice_and_hour(backend: Backend) {
    let app = spawn_notices(backend, |_| {}).await;
    // The 核查组 is told of objections to a village notice (002 §三(七)).
    app.execute_sql("UPDATE app_user SET phone = '13800138061' WHERE username = 'verifier-1'").await;
    let p = people(&app).await;
    let (_, token) = published_village_notice(&app, &p).await;
    let messages = || async {
        jingzhun::db::count(
            &app.state.db.conn,
            "SELECT COUNT(*) FROM notification WHERE event = 'objection_received'",
            vec![],
        )
        .await
        .expect("count")
    };
    for (i, sender) in ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"].iter().enumerate() {
        let (status, _) = object_from(&app.base, &token, sender, &format!("异议{i}")).await;
        assert_eq!(status, 303);
    }
    assert_eq!(messages().await, 1, "one message for the hour, however many objections");
    app.clock.advance(chrono::Duration::hours(1));
    let (status, _) = object_from(&app.base, &token, "203.0.113.5", "又一条").await;
    assert_eq!(status, 303);
    assert_eq!(messages().await, 2, "the next hour's objections are told again");
}

async fn public_pages_send_security_headers_and_a_secure_cookie(backend: Backend) {
    let app =
        spawn_notices(backend, |config| config.notices.public_url = "https://jingzhun.example.gov.cn".into()).await;
    let p = people(&app).await;
    let (_, token) = published_village_notice(&app, &p).await;
    let (status, location) = object_from(&app.base, &token, "203.0.113.9", "该户有轿车。").await;
    assert_eq!(status, 303);
    let check = |res: &reqwest::Response, what: &str| {
        let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(header("content-security-policy").contains("frame-ancestors 'none'"), "{what}: {:?}", res.headers());
        assert!(header("content-security-policy").contains("default-src 'none'"), "{what}");
        assert_eq!(header("x-frame-options"), "DENY", "{what}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    };
    let page = reqwest::get(format!("{}/n/{token}", app.base)).await.expect("page");
    check(&page, "notice page");
    let cookie = page.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(cookie.contains("jz_csrf=") && cookie.contains("; Secure"), "{cookie}");
    let receipt = reqwest::get(format!("{}{}", app.base, location.expect("receipt"))).await.expect("receipt");
    check(&receipt, "receipt page");
    check(&reqwest::get(format!("{}/n/{token}/print", app.base)).await.expect("poster"), "poster");
    check(&reqwest::get(format!("{}/o/0000-0000-0000", app.base)).await.expect("404"), "not found page");
}

async fn a_village_user_cannot_read_a_township_draft(backend: Backend) {
    let app = spawn_notices(backend, |_| {}).await;
    let p = people(&app).await;
    case_before(&app, &p, "township_notice").await;
    let draft =
        p.township.ok_post("/api/v1/notices", json!({"step": "township_notice", "region_code": TOWNSHIP})).await;
    let id = draft["id"].as_str().expect("id").to_owned();
    let (status, body) = p.village.get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("out_of_scope")), "{body}");
    let listed: Value = p.village.ok_get("/api/v1/notices").await;
    assert!(listed.as_array().expect("list").iter().all(|n| n["id"] != id.as_str()), "{listed}");
    // The county above reads it; once published, the village does too.
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    assert_eq!(county.get(&format!("/api/v1/notices/{id}")).await.0, 200);
    p.township.ok_post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    assert_eq!(p.village.get(&format!("/api/v1/notices/{id}")).await.0, 200);
}
