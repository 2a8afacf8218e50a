//! Notifications end to end: events written with `notify::notify` in a transaction,
//! dispatched through the real channels to local stand-ins (an Aliyun gateway that checks
//! the signature like Aliyun, aiosmtpd on loopback), time moved with the server's clock.
//! The server's own dispatcher loop is off here; tests run cycles with
//! `try_dispatch_once` so each step is visible.

use chrono::{DateTime, Utc};
use jingzhun::auth::Role;
use jingzhun::notifications::{Event, Notification, Recipients};
use jingzhun_notifier::Secret;
use jingzhun_notifier::config::TencentSection;
use jingzhun_notifier::outbox::Dispatcher;
use jingzhun_tools::standins::{TENCENT_SECRET_ID, TENCENT_SECRET_KEY, TencentGateway};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::harness::{Admin, Backend, PASSWORD, TestApp, VILLAGE_1, VILLAGE_2};
use crate::on_both_backends;
use crate::standins::{beijing, stage, user};

on_both_backends!(
    an_objection_reaches_the_village_team_by_sms_and_email,
    a_throttled_sms_is_retried_and_delivered_once,
    a_permanent_error_is_not_retried_and_shows_the_provider_code,
    an_sms_due_at_23_is_held_until_8,
    two_dispatchers_send_each_message_once,
    the_same_dedup_key_notifies_once,
    the_region_wecom_group_hears_about_it,
    the_admin_api_edits_templates_preferences_and_shows_the_log,
    an_unknown_outcome_is_never_resent,
    sms_to_one_number_keep_to_the_limits,
    urgent_sms_pass_quiet_hours_when_configured,
    tencent_sms_get_their_variables_in_template_order,
    the_server_dispatches_by_itself,
);

pub(crate) async fn notify(app: &TestApp, notification: Notification) -> usize {
    let txn = app.state.db.begin_write().await.expect("begin");
    let inserted = jingzhun::notifications::notify(&*txn, app.clock.now(), notification).await.expect("notify");
    txn.commit().await.expect("commit");
    inserted
}

pub(crate) fn objection(dedup_key: &str, recipients: Recipients) -> Notification {
    let params =
        json!({"notice_title": "东村第3批村级公示", "region": "东村", "due": "11月30日", "region_code": VILLAGE_1});
    Notification {
        event: Event::ObjectionReceived,
        dedup_key: dedup_key.into(),
        recipients,
        params: params.as_object().cloned().expect("object"),
        urgent: false,
    }
}

fn dispatcher(app: &TestApp) -> Dispatcher {
    jingzhun::notifications::dispatch::dispatcher(&app.state.db, &app.state.config.notify).expect("dispatcher")
}

/// The outbox rows of a user: (channel, status, attempts, provider_code, provider_message_id, last_error).
async fn rows_of(app: &TestApp, user_id: &str) -> Vec<Value> {
    let backend = app.state.db.backend();
    let text = "SELECT channel, status, attempts, provider_code, provider_message_id, last_error, next_attempt_at, \
                address FROM notification WHERE user_id = ? ORDER BY channel";
    let stmt = jingzhun::db::sql(backend, text, vec![user_id.into()]);
    let rows = app.state.db.conn.query_all_raw(stmt).await.expect("rows");
    rows.iter()
        .map(|row| {
            json!({
                "channel": row.try_get_by_index::<String>(0).expect("channel"),
                "status": row.try_get_by_index::<String>(1).expect("status"),
                "attempts": row.try_get_by_index::<i32>(2).expect("attempts"),
                "provider_code": row.try_get_by_index::<Option<String>>(3).expect("code"),
                "provider_message_id": row.try_get_by_index::<Option<String>>(4).expect("id"),
                "last_error": row.try_get_by_index::<Option<String>>(5).expect("error"),
                "next_attempt_at": row.try_get_by_index::<DateTime<Utc>>(6).expect("next").to_rfc3339(),
                "address": row.try_get_by_index::<Option<String>>(7).expect("address"),
            })
        })
        .collect()
}

async fn an_objection_reaches_the_village_team_by_sms_and_email(backend: Backend) {
    let stage = stage(backend, true, |_| {}).await;
    let app = &stage.app;
    let team =
        user(app, "team-east", "village", VILLAGE_1, Some("+86 138-0013-8001"), Some("team@east.example.org")).await;
    // A number one digit short: accounts refuse it now, but rows from before may hold one.
    let typo = user(app, "team-typo", "village", VILLAGE_1, None, None).await;
    app.execute_sql("UPDATE app_user SET phone = '1380013800' WHERE username = 'team-typo'").await;
    let west = user(app, "team-west", "village", VILLAGE_2, Some("13800138002"), Some("team@west.example.org")).await;

    let inserted =
        notify(app, objection("objection:1", Recipients::Role { role: Role::Village, region_code: VILLAGE_1.into() }))
            .await;
    // The east team by SMS and email, the typo'd phone as a failed row; the west team not at all.
    assert_eq!(inserted, 3);
    assert!(rows_of(app, &west).await.is_empty());
    let typo_rows = rows_of(app, &typo).await;
    assert_eq!(typo_rows.len(), 1);
    assert_eq!(typo_rows[0]["status"], "failed");
    assert_eq!(typo_rows[0]["provider_code"], "invalid_mobile");
    assert!(typo_rows[0]["last_error"].as_str().expect("reason").contains("11 digits"), "{typo_rows:?}");

    let outcome = dispatcher(app).try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!((outcome.claimed, outcome.sent), (2, 2), "{outcome:?}");

    // SMS: signed like Aliyun, to the normalised number, with the template's variables.
    assert_eq!(stage.sms.received_by("13800138001"), 1);
    let sms = stage.sms.accepted().pop().expect("accepted");
    assert_eq!(sms["TemplateCode"], "SMS_JZ_OBJECTION_RECEIVED");
    assert_eq!(sms["SignName"], "精准扶贫");
    let params: Value = serde_json::from_str(&sms["TemplateParam"]).expect("json");
    assert_eq!(params, json!({"notice_title": "东村第3批村级公示", "due": "11月30日"}));

    // Email: a real SMTP server decoded the Chinese subject and body.
    let mail = stage.smtp.as_ref().expect("smtp").messages();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0]["subject"], "【精准扶贫】公示收到异议");
    assert_eq!(mail[0]["rcpt_to"], json!(["team@east.example.org"]));
    assert!(mail[0]["html"].as_str().expect("html").contains("<p>东村的公示《东村第3批村级公示》"), "{mail:?}");
    assert!(
        mail[0]["plain"].as_str().expect("body").contains("东村的公示《东村第3批村级公示》收到新的异议"),
        "{mail:?}"
    );

    let rows = rows_of(app, &team).await;
    for row in &rows {
        assert_eq!(row["status"], "sent", "{rows:?}");
        assert_eq!(row["attempts"], 1);
    }
    assert_eq!(rows[1]["channel"], "sms");
    assert_eq!(rows[1]["provider_code"], "OK");
    assert!(rows[1]["provider_message_id"].as_str().expect("biz id").ends_with("^0"));
    assert_eq!(rows[0]["provider_code"], "250");

    // Nothing is sent twice.
    let again = dispatcher(app).try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!(again.claimed, 0);
    assert_eq!(stage.sms.requests(), 1);
}

async fn a_throttled_sms_is_retried_and_delivered_once(backend: Backend) {
    let stage = stage(backend, false, |_| {}).await;
    let app = &stage.app;
    let officer = user(app, "officer-x", "officer", VILLAGE_1, Some("13800138003"), None).await;
    stage.sms.throttle("13800138003", 1);
    assert_eq!(notify(app, objection("objection:2", Recipients::Users(vec![officer.clone()]))).await, 1);

    let dispatcher = dispatcher(app);
    let first = dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!((first.claimed, first.retried, first.sent), (1, 1, 0), "{first:?}");
    let rows = rows_of(app, &officer).await;
    assert_eq!((rows[0]["status"].as_str(), rows[0]["attempts"].as_i64()), (Some("queued"), Some(1)));
    assert_eq!(rows[0]["provider_code"], "isv.BUSINESS_LIMIT_CONTROL");
    // Backoff: not due again at once…
    assert_eq!(dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle").claimed, 0);
    // …but after the first delay (60 s, plus at most 20 % jitter).
    app.clock.advance(chrono::Duration::seconds(73));
    let second = dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!(second.sent, 1, "{second:?}");
    assert_eq!(stage.sms.received_by("13800138003"), 1);
    assert_eq!(stage.sms.requests(), 2);
    let rows = rows_of(app, &officer).await;
    assert_eq!((rows[0]["status"].as_str(), rows[0]["attempts"].as_i64()), (Some("sent"), Some(2)));
    assert_eq!(rows[0]["provider_code"], "OK");
    app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle").claimed, 0);
    assert_eq!(stage.sms.received_by("13800138003"), 1);
}

async fn a_permanent_error_is_not_retried_and_shows_the_provider_code(backend: Backend) {
    let stage = stage(backend, false, |_| {}).await;
    let app = &stage.app;
    let officer = user(app, "officer-y", "officer", VILLAGE_1, Some("13800138004"), None).await;
    stage.sms.refuse("13800138004", "isv.MOBILE_NUMBER_ILLEGAL");
    notify(app, objection("objection:3", Recipients::Users(vec![officer.clone()]))).await;

    let dispatcher = dispatcher(app);
    let outcome = dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!((outcome.claimed, outcome.failed), (1, 1), "{outcome:?}");
    let rows = rows_of(app, &officer).await;
    assert_eq!(rows[0]["status"], "failed");
    assert_eq!(rows[0]["provider_code"], "isv.MOBILE_NUMBER_ILLEGAL");
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle").claimed, 0);
    assert_eq!(stage.sms.requests(), 1);
}

async fn an_sms_due_at_23_is_held_until_8(backend: Backend) {
    let stage = stage(backend, false, |_| {}).await;
    let app = &stage.app;
    let officer = user(app, "officer-z", "officer", VILLAGE_1, Some("13800138005"), None).await;
    app.clock.set(beijing(23, 23, 0));
    notify(app, objection("objection:4", Recipients::Users(vec![officer.clone()]))).await;

    let dispatcher = dispatcher(app);
    let outcome = dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!((outcome.held, outcome.sent), (1, 0), "{outcome:?}");
    let rows = rows_of(app, &officer).await;
    assert_eq!(rows[0]["status"], "held");
    assert_eq!(rows[0]["provider_code"], "quiet_hours");
    assert_eq!(rows[0]["attempts"], 0);
    let next: DateTime<Utc> = rows[0]["next_attempt_at"].as_str().expect("next").parse().expect("time");
    assert_eq!(next, beijing(24, 8, 0));

    app.clock.set(beijing(24, 7, 59));
    assert_eq!(dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle").claimed, 0);
    assert_eq!(stage.sms.requests(), 0);
    app.clock.set(beijing(24, 8, 0) + chrono::Duration::seconds(1));
    let morning = dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!(morning.sent, 1, "{morning:?}");
    assert_eq!(stage.sms.received_by("13800138005"), 1);
}

async fn two_dispatchers_send_each_message_once(backend: Backend) {
    // Small batches so the two dispatchers interleave many times.
    let stage = stage(backend, false, |config| config.notify.batch = 15).await;
    let app = &stage.app;
    const PEOPLE: usize = 150;
    let mut ids = Vec::new();
    let backend_kind = app.state.db.backend();
    for i in 0..PEOPLE {
        let id = uuid::Uuid::new_v4().to_string();
        let stmt = jingzhun::db::sql(
            backend_kind,
            "INSERT INTO app_user (id, username, name, phone, email, password_hash, active, created_at) \
             VALUES (?, ?, ?, ?, NULL, 'x', ?, ?)",
            vec![
                id.as_str().into(),
                format!("bulk-{i}").into(),
                format!("干部{i}").into(),
                format!("1390000{i:04}").into(),
                true.into(),
                app.clock.now().into(),
            ],
        );
        app.state.db.conn.execute_raw(stmt).await.expect("user");
        ids.push(id);
    }
    assert_eq!(notify(app, objection("objection:5", Recipients::Users(ids))).await, PEOPLE);

    // Two dispatchers, each with its own connection pool, as two server processes would.
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let db = jingzhun::db::Db::connect(&app.database_url, 10).await.expect("second pool");
        let config = &app.state.config.notify;
        let dispatcher = Dispatcher::new(db, config.channels().expect("channels"), config.policy().expect("policy"));
        let now = app.clock.now();
        tasks.push(tokio::spawn(async move {
            let mut sent = 0;
            loop {
                let outcome = dispatcher.try_dispatch_once(now).await.expect("cycle");
                sent += outcome.sent;
                if outcome.claimed == 0 {
                    return sent;
                }
            }
        }));
    }
    let mut per_dispatcher = Vec::new();
    for task in tasks {
        per_dispatcher.push(task.await.expect("dispatcher task"));
    }
    assert_eq!(per_dispatcher.iter().sum::<usize>(), PEOPLE, "{per_dispatcher:?}");
    let accepted = stage.sms.accepted();
    assert_eq!(accepted.len(), PEOPLE);
    let phones: std::collections::BTreeSet<String> =
        accepted.iter().map(|params| params["PhoneNumbers"].clone()).collect();
    assert_eq!(phones.len(), PEOPLE, "a number got two messages");
    assert_eq!(stage.sms.requests(), PEOPLE);
    let sent = app
        .state
        .db
        .conn
        .query_one_raw(Statement::from_string(
            backend_kind,
            "SELECT COUNT(*) FROM notification WHERE status = 'sent' AND attempts = 1",
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get_by_index::<i64>(0)
        .expect("count");
    assert_eq!(sent as usize, PEOPLE);
}

async fn the_same_dedup_key_notifies_once(backend: Backend) {
    let stage = stage(backend, false, |_| {}).await;
    let app = &stage.app;
    let officer = user(app, "officer-d", "officer", VILLAGE_1, Some("13800138006"), Some("d@example.org")).await;
    let recipients = Recipients::Users(vec![officer.clone()]);
    assert_eq!(notify(app, objection("objection:6", recipients.clone())).await, 2);
    assert_eq!(notify(app, objection("objection:6", recipients.clone())).await, 0);
    assert_eq!(rows_of(app, &officer).await.len(), 2);
    // Another event is another message.
    assert_eq!(notify(app, objection("objection:7", recipients)).await, 2);
}

async fn the_region_wecom_group_hears_about_it(backend: Backend) {
    let stage = stage(backend, false, |_| {}).await;
    let app = &stage.app;
    let robot = app
        .admin
        .ok_post(
            "/api/v1/notification-robots",
            json!({"region_code": crate::harness::TOWNSHIP, "name": "一号镇工作群", "robot_key": "robot-key-1"}),
        )
        .await;
    assert_eq!(robot["key_hint"], "***ey-1");
    let listed = app.admin.ok_get("/api/v1/notification-robots").await;
    assert_eq!(listed.as_array().expect("robots").len(), 1);
    assert!(!listed.to_string().contains("robot-key-1"), "the key leaks: {listed}");
    let recipients = Recipients::Role { role: Role::Village, region_code: VILLAGE_1.into() };
    assert_eq!(notify(app, objection("objection:8", recipients.clone())).await, 1);
    assert_eq!(notify(app, objection("objection:8", recipients)).await, 0);
    let outcome = dispatcher(app).try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!(outcome.sent, 1, "{outcome:?}");
    let received = stage.wecom.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0, "robot-key-1");
    assert!(received[0].1["text"]["content"].as_str().expect("text").contains("收到新的异议"));

    // WeCom takes at most 20 messages a minute per robot: the 21st waits a minute.
    for i in 0..20 {
        let recipients = Recipients::Role { role: Role::Village, region_code: VILLAGE_1.into() };
        notify(app, objection(&format!("objection:w{i}"), recipients)).await;
    }
    let dispatcher = dispatcher(app);
    let busy = dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!((busy.sent, busy.held), (19, 1), "{busy:?}");
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle").sent, 1);
    assert_eq!(stage.wecom.received().len(), 21);

    // A robot turned off hears nothing more.
    let (status, off) = app
        .admin
        .put(&format!("/api/v1/notification-robots/{}", robot["id"].as_str().expect("id")), json!({"active": false}))
        .await;
    assert_eq!((status, off["active"].as_bool()), (200, Some(false)), "{off}");
    let recipients = Recipients::Role { role: Role::Village, region_code: VILLAGE_1.into() };
    assert_eq!(notify(app, objection("objection:12", recipients)).await, 0);
}

async fn the_admin_api_edits_templates_preferences_and_shows_the_log(backend: Backend) {
    let stage = stage(backend, true, |_| {}).await;
    let app = &stage.app;
    let admin = &app.admin;

    // Templates: seeded in Chinese; an administrator edits one, and the edit is audited.
    let templates = admin.ok_get("/api/v1/notification-templates").await;
    assert_eq!(templates.as_array().expect("list").len(), 33);
    let (status, edited) = admin
        .put(
            "/api/v1/notification-templates/objection_received/email",
            json!({"subject": "【精准扶贫】{region}收到异议", "body": "《{notice_title}》收到异议，请于{due}前处理。", "sms_template_code": null}),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    let (status, refused) =
        admin.put("/api/v1/notification-templates/objection_received/fax", json!({"body": "x"})).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("unknown_channel")));
    let audited = jingzhun::db::count(
        &app.state.db.conn,
        "SELECT COUNT(*) FROM audit_log WHERE entity = ? AND action = ?",
        vec!["notification_template".into(), "update".into()],
    )
    .await
    .expect("audit");
    assert_eq!(audited, 1);

    // Preferences: the officer turns SMS off for themselves; only email goes out.
    let officer = user(app, "officer-p", "officer", VILLAGE_1, Some("13800138007"), Some("p@example.org")).await;
    let officer_api = Admin::login(&app.base, "officer-p", PASSWORD).await;
    let prefs = officer_api.ok_get("/api/v1/notification-preferences").await;
    assert_eq!(prefs["channels"][0], json!({"channel": "sms", "enabled": true, "has_address": true}));
    let (status, prefs) =
        officer_api.put("/api/v1/notification-preferences", json!({"channel": "sms", "enabled": false})).await;
    assert_eq!(status, 200, "{prefs}");
    assert_eq!(prefs["channels"][0]["enabled"], false);
    assert_eq!(notify(app, objection("objection:9", Recipients::Users(vec![officer.clone()]))).await, 1);
    dispatcher(app).try_dispatch_once(app.clock.now()).await.expect("cycle");
    let mail = stage.smtp.as_ref().expect("smtp").messages();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["subject"], "【精准扶贫】东村收到异议");

    // The delivery log: the officer sees their own message, masked; the admin sees it too.
    let own = officer_api.ok_get("/api/v1/notifications").await;
    assert_eq!(own.as_array().expect("log").len(), 1, "{own}");
    assert_eq!(own[0]["status"], "sent");
    assert_eq!(own[0]["address"], "p***@example.org");
    let attempts =
        officer_api.ok_get(&format!("/api/v1/notifications/{}/attempts", own[0]["id"].as_str().expect("id"))).await;
    assert_eq!(attempts[0]["outcome"], "sent");
    let all = admin.ok_get(&format!("/api/v1/notifications?user_id={officer}")).await;
    assert_eq!(all.as_array().expect("log").len(), 1);
    // Another officer sees nothing of it.
    user(app, "officer-q", "officer", VILLAGE_2, None, None).await;
    let other = Admin::login(&app.base, "officer-q", PASSWORD).await;
    assert_eq!(other.ok_get("/api/v1/notifications").await, json!([]));
    let (status, _) = other.get(&format!("/api/v1/users/{officer}/notification-preferences")).await;
    assert_eq!(status, 403);

    // Test send through the SMS channel reaches the stand-in (only a managed user's
    // number: test sends are no relay); a bad number is refused.
    user(app, "officer-w", "officer", VILLAGE_1, Some("13800138008"), None).await;
    let (status, sent) =
        admin.post("/api/v1/notifications/test-send", json!({"channel": "sms", "address": "+8613800138008"})).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!((sent["sent"].as_bool(), sent["provider_code"].as_str()), (Some(true), Some("OK")));
    assert_eq!(stage.sms.received_by("13800138008"), 1);
    let (status, refused) =
        admin.post("/api/v1/notifications/test-send", json!({"channel": "sms", "address": "12345"})).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("invalid_address")));
}

async fn an_unknown_outcome_is_never_resent(backend: Backend) {
    let stage = stage(backend, false, |_| {}).await;
    let app = &stage.app;
    // The gateway took the text but its answer is unreadable: it may have been sent.
    let garbled = user(app, "officer-u", "officer", VILLAGE_1, Some("13800138009"), None).await;
    stage.sms.garble("13800138009");
    notify(app, objection("objection:10", Recipients::Users(vec![garbled.clone()]))).await;
    let dispatcher = dispatcher(app);
    let outcome = dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!(outcome.unknown, 1, "{outcome:?}");
    let rows = rows_of(app, &garbled).await;
    assert_eq!(rows[0]["status"], "unknown");
    assert_eq!(rows[0]["provider_code"], "unreadable_answer");

    // A dispatcher that died while sending: its lease runs out and the row becomes
    // unknown, not sent again.
    let crashed = user(app, "officer-v", "officer", VILLAGE_1, Some("13800138010"), None).await;
    notify(app, objection("objection:11", Recipients::Users(vec![crashed.clone()]))).await;
    let stmt = jingzhun::db::sql(
        app.state.db.backend(),
        "UPDATE notification SET status = 'sending', claimed_by = 'dead-dispatcher', claimed_until = ? WHERE user_id = ?",
        vec![(app.clock.now() + chrono::Duration::minutes(5)).into(), crashed.as_str().into()],
    );
    app.state.db.conn.execute_raw(stmt).await.expect("claim");
    assert_eq!(dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle").claimed, 0);
    app.clock.advance(chrono::Duration::minutes(6));
    let outcome = dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!((outcome.unknown, outcome.claimed), (1, 0), "{outcome:?}");
    assert_eq!(rows_of(app, &crashed).await[0]["status"], "unknown");

    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle").claimed, 0);
    assert_eq!(stage.sms.received_by("13800138009"), 1);
    assert_eq!(stage.sms.received_by("13800138010"), 0);

    // A person checked: the crashed one never arrived, so it is queued again and sent;
    // the garbled one did, so it is cancelled. Both decisions are audited.
    let log_of = |user: &str| {
        let path = format!("/api/v1/notifications?user_id={user}");
        async move { app.admin.ok_get(&path).await }
    };
    let crashed_id = log_of(&crashed).await[0]["id"].as_str().expect("id").to_owned();
    let garbled_id = log_of(&garbled).await[0]["id"].as_str().expect("id").to_owned();
    let (status, _) = app.admin.post(&format!("/api/v1/notifications/{crashed_id}/resend"), json!({})).await;
    assert_eq!(status, 204);
    let (status, _) = app.admin.post(&format!("/api/v1/notifications/{garbled_id}/cancel"), json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle").sent, 1);
    assert_eq!(stage.sms.received_by("13800138010"), 1);
    assert_eq!(log_of(&garbled).await[0]["status"], "cancelled");
    let (status, refused) = app.admin.post(&format!("/api/v1/notifications/{crashed_id}/cancel"), json!({})).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (409, Some("notification_state")));
    let audited = jingzhun::db::count(
        &app.state.db.conn,
        "SELECT COUNT(*) FROM audit_log WHERE entity = ?",
        vec!["notification".into()],
    )
    .await
    .expect("audit");
    assert_eq!(audited, 2);
}

async fn sms_to_one_number_keep_to_the_limits(backend: Backend) {
    let stage = stage(backend, false, |_| {}).await;
    let app = &stage.app;
    let officer = user(app, "officer-r", "officer", VILLAGE_1, Some("13800138011"), None).await;
    for i in 0..7 {
        notify(app, objection(&format!("objection:r{i}"), Recipients::Users(vec![officer.clone()]))).await;
    }
    let dispatcher = dispatcher(app);
    let start = app.clock.now();
    // 1 a minute and 5 an hour: one goes now, the rest wait.
    let first = dispatcher.try_dispatch_once(start).await.expect("cycle");
    assert_eq!((first.sent, first.held), (1, 6), "{first:?}");
    let rows = rows_of(app, &officer).await;
    assert!(rows.iter().filter(|row| row["status"] == "held").all(|row| row["provider_code"] == "rate_limit"));
    // A minute at a time: one more each minute until five in the hour.
    for minute in 1..=4 {
        app.clock.set(start + chrono::Duration::seconds(61 * minute));
        let outcome = dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle");
        assert_eq!(outcome.sent, 1, "minute {minute}: {outcome:?}");
    }
    app.clock.set(start + chrono::Duration::minutes(10));
    assert_eq!(dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle").sent, 0);
    assert_eq!(stage.sms.received_by("13800138011"), 5);
    // The hour after the first send, the sixth goes.
    app.clock.set(start + chrono::Duration::minutes(61));
    assert_eq!(dispatcher.try_dispatch_once(app.clock.now()).await.expect("cycle").sent, 1);
    assert_eq!(stage.sms.received_by("13800138011"), 6);
}

async fn urgent_sms_pass_quiet_hours_when_configured(backend: Backend) {
    let stage = stage(backend, false, |config| config.notify.urgent_passes_quiet_hours = true).await;
    let app = &stage.app;
    let officer = user(app, "officer-n", "officer", VILLAGE_1, Some("13800138012"), None).await;
    app.clock.set(beijing(23, 23, 30));
    let mut urgent = objection("objection:n1", Recipients::Users(vec![officer.clone()]));
    urgent.urgent = true;
    notify(app, urgent).await;
    notify(app, objection("objection:n2", Recipients::Users(vec![officer.clone()]))).await;
    let outcome = dispatcher(app).try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!((outcome.sent, outcome.held), (1, 1), "{outcome:?}");
    assert_eq!(stage.sms.received_by("13800138012"), 1);
}

async fn tencent_sms_get_their_variables_in_template_order(backend: Backend) {
    let (tencent, endpoint) = TencentGateway::start().await.expect("tencent stand-in");
    let stage = stage(backend, false, |config| {
        config.notify.sms_provider = "tencent".into();
        config.notify.tencent = Some(TencentSection {
            endpoint,
            secret_id: TENCENT_SECRET_ID.into(),
            secret_key: Secret::new(TENCENT_SECRET_KEY),
            sdk_app_id: "1400006666".into(),
            sign_name: "精准扶贫".into(),
            region: String::new(),
        });
    })
    .await;
    let app = &stage.app;
    // Tencent's templates are positional: the template names its variables in order.
    let (status, body) = app
        .admin
        .put(
            "/api/v1/notification-templates/objection_received/sms",
            json!({"body": "{region}的公示《{notice_title}》收到异议，请在{due}前处理。", "sms_template_code": "1110", "sms_params": "due,notice_title"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let officer = user(app, "officer-t", "officer", VILLAGE_1, Some("13800138013"), None).await;
    notify(app, objection("objection:t1", Recipients::Users(vec![officer.clone()]))).await;
    let outcome = dispatcher(app).try_dispatch_once(app.clock.now()).await.expect("cycle");
    assert_eq!(outcome.sent, 1, "{outcome:?}");
    let accepted = tencent.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["TemplateId"], "1110");
    assert_eq!(accepted[0]["TemplateParamSet"], json!(["11月30日", "东村第3批村级公示"]));
    assert_eq!(accepted[0]["PhoneNumberSet"], json!(["+8613800138013"]));
    let rows = rows_of(app, &officer).await;
    assert_eq!((rows[0]["status"].as_str(), rows[0]["provider_code"].as_str()), (Some("sent"), Some("Ok")));
    assert!(rows[0]["provider_message_id"].as_str().expect("serial").starts_with("5000:"));
    assert_eq!(stage.sms.requests(), 0);
}

async fn the_server_dispatches_by_itself(backend: Backend) {
    // The dispatcher `serve_state` starts, on the server's clock, a cycle a second.
    let stage = stage(backend, false, |config| {
        config.notify.dispatcher_enabled = true;
        config.notify.dispatcher_interval_secs = 1;
    })
    .await;
    let app = &stage.app;
    let officer = user(app, "officer-s", "officer", VILLAGE_1, Some("13800138014"), None).await;
    notify(app, objection("objection:s1", Recipients::Users(vec![officer.clone()]))).await;
    // Waiting for the background task (time itself is not moved here): a few cycles at most.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while stage.sms.received_by("13800138014") == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(stage.sms.received_by("13800138014"), 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while rows_of(app, &officer).await[0]["status"] != "sent" && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(rows_of(app, &officer).await[0]["status"], "sent");
}
