//! Issue 9 (trust), item 7: input the validators passed but a database refused, and
//! errors without our body.
//!
//! A NUL in a text field is refused inside its change set and the phone's next change
//! set goes through; phones and dates are stored in their one canonical form, so a task
//! due `2026-9-1` is overdue like any other; every error a client can get (a bad path or
//! query, an unknown route or method, an unknown `Content-Encoding`, a wrong content
//! type, a broken multipart body, a timeout) carries `{"error": {code, …}}`; a compaction
//! asked for an absurd age does not panic; and every catalogue field fits its column.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::fields::{self, FieldKind, Policy};
use jingzhun_mobile_api::validate::{self, FieldValue};
use jingzhun_mobile_api::wire::{ChangeSetStatus, ChangeStatus, Op};
use serde_json::{Value, json};
use uuid::Uuid;

mod fuzz;

on_both_backends!(
    a_nul_in_a_text_field_is_refused_and_the_next_changeset_applies,
    phones_and_dates_are_stored_canonical,
    a_task_due_on_a_short_date_is_stored_canonical_and_overdue,
    control_characters_in_urls_and_office_json_are_refused,
    every_error_has_our_body,
    compaction_with_an_absurd_age_answers,
    a_request_that_takes_too_long_gets_408_with_our_body,
    every_catalogue_field_fits_its_column,
    the_objection_form_refuses_controls_and_keeps_phones_as_digits,
    half_an_emoji_does_not_wedge_the_outbox,
);

/// The `(field, code)` pairs of a rejected change.
fn errors(change: &jingzhun_mobile_api::wire::ChangeResult) -> Vec<(String, String)> {
    change.errors.iter().map(|e| (e.field.clone(), e.code.clone())).collect()
}

async fn a_nul_in_a_text_field_is_refused_and_the_next_changeset_applies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, members) = create_household(&phone, VILLAGE_1, 0).await;

    let bad = changeset(vec![
        change("household", household, Op::Update, 1, json!({"address": "东村\u{0}一组"})),
        change("member", members[0], Op::Update, 1, json!({"name": "张\u{0}三"})),
    ]);
    let next = changeset(vec![change("household", household, Op::Update, 1, json!({"phone": "13900001111"}))]);
    let res = push(&phone, vec![bad.clone(), next]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Rejected, "{:?}", res.results[0]);
    assert_eq!(errors(&res.results[0].changes[0]), [("address".to_owned(), "control_character".to_owned())]);
    assert_eq!(errors(&res.results[0].changes[1]), [("name".to_owned(), "control_character".to_owned())]);
    assert!(res.results[0].changes[0].errors[0].message_zh.contains("控制字符"));
    assert_eq!(res.results[1].status, ChangeSetStatus::Applied, "the next change set is not blocked");

    // Sent again (the phone never saw the answer): the same refusal, not a 500.
    let again = push(&phone, vec![bad]).await;
    assert_eq!(again.results[0].status, ChangeSetStatus::Rejected);
    // And the outbox goes on.
    let later = changeset(vec![change("household", household, Op::Update, 2, json!({"address": "东村二组"}))]);
    assert_eq!(push(&phone, vec![later]).await.results[0].status, ChangeSetStatus::Applied);

    let state = app.admin.household(household).await;
    assert_eq!(state["household"]["address"], "东村二组");
    assert_eq!(state["household"]["phone"], "13900001111");
    assert_eq!(state["member"][0]["name"], "成员0", "nothing of the refused set was written");
    // Kept for a supervisor; the list still reads.
    let (status, _) = app.admin.get("/api/v1/changesets/rejected").await;
    assert_eq!(status, 200);
}

async fn phones_and_dates_are_stored_canonical(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, members) = create_household(&phone, VILLAGE_1, 0).await;
    let (measure, visit) = (Uuid::new_v4(), Uuid::new_v4());
    let padded = format!("0518{}85821234", " -".repeat(100));
    let res = push(
        &phone,
        vec![changeset(vec![
            change("household", household, Op::Update, 1, json!({"phone": padded})),
            change("member", members[0], Op::Update, 1, json!({"phone": "+86 138-1234-5678"})),
            change(
                "help_measure",
                measure,
                Op::Create,
                0,
                json!({"household_id": household, "category": "industry", "name": "产业扶持", "start_date": " 2026-01-05"}),
            ),
            change(
                "visit_log",
                visit,
                Op::Create,
                0,
                json!({"household_id": household, "visited_on": "2026-9-1", "note": "第一行\r\n第二行"}),
            ),
        ])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);

    let state = app.admin.household(household).await;
    assert_eq!(state["household"]["phone"], "051885821234", "digits only");
    assert_eq!(state["member"][0]["phone"], "13812345678", "+86 dropped");
    assert_eq!(state["help_measure"][0]["start_date"], "2026-01-05");
    assert_eq!(state["visit_log"][0]["visited_on"], "2026-09-01");
    assert_eq!(state["visit_log"][0]["note"], "第一行\n第二行", "free text keeps its lines, one line end");

    // A signed year is not a date a phone means: refused with a field error.
    let res = push(
        &phone,
        vec![changeset(vec![change("help_measure", measure, Op::Update, 1, json!({"start_date": "+2026-01-05"}))])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Rejected);
    assert_eq!(errors(&res.results[0].changes[0]), [("start_date".to_owned(), "invalid_date".to_owned())]);
    assert_eq!(res.results[0].changes[0].status, ChangeStatus::Rejected);
}

async fn a_task_due_on_a_short_date_is_stored_canonical_and_overdue(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    let (plan, task) = (Uuid::new_v4(), Uuid::new_v4());
    let res = push(
        &phone,
        vec![changeset(vec![
            change("help_plan", plan, Op::Create, 0, json!({"household_id": household, "year": 2026})),
            change(
                "plan_task",
                task,
                Op::Create,
                0,
                json!({"household_id": household, "plan_id": plan, "title": "办理小额信贷", "due_date": "2026-9-1"}),
            ),
        ])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    let state = app.admin.household(household).await;
    assert_eq!(state["plan_task"][0]["due_date"], "2026-09-01");

    // Stored as sent, "2026-9-1" sorted after any December date and was never overdue.
    let report = app.admin.ok_get("/api/v1/tasks/overdue").await;
    let ids: Vec<&str> =
        report["tasks"].as_array().expect("tasks").iter().filter_map(|t| t["task_id"].as_str()).collect();
    assert_eq!(ids, [task.to_string()], "{report}");
    assert_eq!(report["tasks"][0]["due_date"], "2026-09-01");
}

async fn control_characters_in_urls_and_office_json_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (status, body) = app.admin.get("/api/v1/tasks/overdue?region_code=320703%00").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("control_character")), "{body}");
    let (status, body) = app.admin.get("/o/ABCD%00EFGH").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("control_character")), "{body}");

    // An office form: a NUL in a region's name never reaches the database.
    let (status, body) = app
        .admin
        .post(
            "/api/v1/regions",
            json!({"code": "320703001009", "name": "北\u{0}村", "level": "village", "parent_code": TOWNSHIP}),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("control_character")), "{body}");
    let regions = app.admin.ok_get("/api/v1/regions").await;
    assert!(!regions.to_string().contains("320703001009"), "nothing written");
    // Line breaks in office text stay allowed.
    let (status, body) = app
        .admin
        .post(
            "/api/v1/regions",
            json!({"code": "320703001009", "name": "北村\n", "level": "village", "parent_code": TOWNSHIP}),
        )
        .await;
    assert_ne!(body["error"]["code"], "control_character", "{status}: {body}");
}

/// Sends a raw request; answers the status, the content type and the parsed body.
async fn raw(request: reqwest::RequestBuilder) -> (u16, String, Value) {
    let res = request.send().await.expect("request");
    let status = res.status().as_u16();
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let text = res.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| json!({"not_json": text}));
    (status, content_type, body)
}

fn assert_error_body(answer: &(u16, String, Value), status: u16, code: &str) {
    let (got, content_type, body) = answer;
    assert_eq!((*got, body["error"]["code"].as_str()), (status, Some(code)), "{body}");
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let error = &body["error"];
    assert!(error["message_zh"].as_str().is_some_and(|m| !m.is_empty()) && error["message_en"].is_string());
}

async fn every_error_has_our_body(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let token = phone.token().expect("token").to_owned();
    let http = reqwest::Client::builder().no_gzip().build().expect("client");
    let (base, push_url) = (app.base.clone(), format!("{}/api/mobile/v1/sync/push", app.base));
    let get = |path: &str| http.get(format!("{base}{path}")).bearer_auth(&token);

    // A path or query that does not parse.
    assert_error_body(&raw(get("/api/v1/households/not-a-uuid")).await, 400, "invalid_request");
    assert_error_body(&raw(get("/api/mobile/v1/sync/pull?limit=many")).await, 400, "invalid_request");
    // An unknown route, a known one with the wrong method.
    assert_error_body(&raw(get("/api/v1/no-such-thing")).await, 404, "not_found");
    assert_error_body(&raw(http.delete(&push_url).bearer_auth(&token)).await, 405, "method_not_allowed");
    // A body in an encoding we do not speak, or not declared JSON.
    let encoded = http
        .post(&push_url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("content-encoding", "br")
        .body("{\"changesets\": []}");
    assert_error_body(&raw(encoded).await, 415, "unsupported_encoding");
    let untyped =
        http.post(&push_url).bearer_auth(&token).header("content-type", "text/plain").body("{\"changesets\": []}");
    assert_error_body(&raw(untyped).await, 415, "unsupported_media_type");
    // A multipart upload without its boundary.
    let multipart = http
        .post(format!("{base}/api/mobile/v1/attachments"))
        .bearer_auth(&token)
        .header("content-type", "multipart/form-data")
        .body("--x\r\n");
    let answer = raw(multipart).await;
    assert_eq!(answer.0, 400, "{:?}", answer.2);
    assert!(answer.2["error"]["code"].is_string() && answer.1.starts_with("application/json"), "{:?}", answer.2);
    // A body over the limit, on a route whose extractor is not ours.
    let huge = "x".repeat(5 * 1024 * 1024);
    let big = http
        .post(format!("{base}/api/v1/regions"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{huge}\"}}"));
    assert_error_body(&raw(big).await, 413, "payload_too_large");
}

async fn compaction_with_an_absurd_age_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    create_household(&phone, VILLAGE_1, 0).await;
    for age in [i64::MAX, 9_000_000_000_000, 4_000_000_000] {
        let (status, body) = app.admin.post("/api/v1/sync/compact", json!({"older_than_seconds": age})).await;
        assert_eq!((status, &body["removed"]), (200, &json!(0)), "{age}: {body}");
    }
    // The server is still there, and the change log whole.
    let (changes, _) = phone.pull_all(None, None).await.expect("pull");
    assert!(!changes.is_empty());
    // A negative age is no age: everything before now.
    let (status, body) = app.admin.post("/api/v1/sync/compact", json!({"older_than_seconds": i64::MIN})).await;
    assert!(status == 200 && body["removed"].is_u64(), "{status}: {body}");
}

async fn a_request_that_takes_too_long_gets_408_with_our_body(backend: Backend) {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn_with(backend, |config| config.http.request_timeout_secs = 1).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let token = phone.token().expect("token").to_owned();
    // A client that announces a body and sends only its first byte: the handler waits for
    // the rest until the timeout answers.
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
    let head = format!(
        "POST /api/mobile/v1/sync/push HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let answer = read_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    // The body may come chunked; the JSON object is in it whole.
    let json = body.find('{').zip(body.rfind('}')).map_or("", |(start, end)| &body[start..=end]);
    let value: Value = serde_json::from_str(json).unwrap_or_else(|_| panic!("a JSON body: {answer}"));
    assert_eq!(value["error"]["code"], "request_timeout", "{value}");
}

/// An HTTP/1.1 answer read off a raw connection: until its body is complete (by
/// `Content-Length` or the last chunk), the connection closes, or 20 seconds pass.
async fn read_answer(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let head = head.to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|n| n.trim().parse::<usize>().ok());
            if length.is_some_and(|n| body.len() >= n) || body.ends_with("0\r\n\r\n") {
                return text;
            }
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => return String::from_utf8_lossy(&answer).into_owned(),
        }
    }
}

/// What a column has to hold for each kind: the longest canonical value, in characters,
/// or `None` for numbers and flags.
fn longest(kind: FieldKind) -> Option<usize> {
    let code_len = |table: &str| {
        fields::code_table(table).expect("table").codes.iter().map(|c| c.code.chars().count()).max().unwrap_or(0)
    };
    match kind {
        FieldKind::Text { max_chars } => Some(max_chars),
        FieldKind::Int { .. } | FieldKind::Money | FieldKind::Decimal { .. } | FieldKind::Bool => None,
        FieldKind::Date => Some(10),
        FieldKind::Uuid => Some(36),
        FieldKind::UuidList { max } => Some(2 + max * 39),
        FieldKind::Code { table } => Some(code_len(table)),
        FieldKind::Codes { table, max } => Some(2 + max * (code_len(table) + 3)),
        FieldKind::IdNumber => Some(18),
        FieldKind::Phone | FieldKind::RegionCode => Some(12),
        FieldKind::BankAccount => Some(30),
    }
}

async fn every_catalogue_field_fits_its_column(backend: Backend) {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let app = TestApp::spawn(backend).await;
    let conn = Database::connect(&app.database_url).await.expect("connect");
    let db = conn.get_database_backend();
    for entity in fields::ENTITIES {
        // (column, declared type, length limit in characters if any, nullable)
        let mut columns: Vec<(String, String, Option<usize>, bool)> = Vec::new();
        let rows = match backend {
            Backend::Postgres => {
                let sql = "SELECT column_name::text, data_type::text, character_maximum_length::int4, \
                           is_nullable::text = 'YES' FROM information_schema.columns \
                           WHERE table_name = $1 AND table_schema = current_schema()";
                conn.query_all_raw(Statement::from_sql_and_values(db, sql, [entity.table.into()])).await
            }
            Backend::Sqlite => {
                let sql =
                    format!("SELECT name, type, NULL, \"notnull\" = 0 FROM pragma_table_info('{}')", entity.table);
                conn.query_all_raw(Statement::from_string(db, sql)).await
            }
        }
        .expect("columns");
        for row in rows {
            let name: String = row.try_get_by_index(0).expect("name");
            let declared: String = row.try_get_by_index(1).expect("type");
            let limit: Option<i32> = row.try_get_by_index(2).ok().flatten();
            let nullable: bool = row.try_get_by_index(3).expect("nullable");
            // SQLite keeps the declared `varchar(n)`, and does not enforce it; check it anyway.
            let limit = limit.map(|n| n as usize).or_else(|| {
                let open = declared.find('(')?;
                declared[open + 1..declared.find(')')?].trim().parse().ok()
            });
            columns.push((name, declared.to_ascii_lowercase(), limit, nullable));
        }
        for field in entity.fields {
            let (_, declared, limit, nullable) = columns
                .iter()
                .find(|(name, ..)| name == field.name)
                .unwrap_or_else(|| panic!("{}.{} has no column", entity.table, field.name));
            // What the validator stores for a cleared field must fit the column too (the
            // server sets read-only ones; a phone's value for them is refused).
            let cleared = validate::field(field, &Value::Null);
            assert!(
                *nullable || field.policy == Policy::ReadOnly || cleared != Ok(FieldValue::Null),
                "{}.{} may be cleared to NULL, the column is NOT NULL",
                entity.table,
                field.name
            );
            match longest(field.kind) {
                Some(needed) => {
                    assert!(
                        declared.contains("char") || declared.contains("text"),
                        "{}.{}: {declared}",
                        entity.table,
                        field.name
                    );
                    assert!(
                        limit.is_none_or(|n| n >= needed),
                        "{}.{} holds {limit:?} characters, the catalogue allows {needed}",
                        entity.table,
                        field.name
                    );
                }
                None if matches!(field.kind, FieldKind::Bool) => {
                    assert!(declared.contains("bool"), "{}.{}: {declared}", entity.table, field.name)
                }
                // SQLite integers are 64-bit whatever their declared name.
                None => assert!(
                    declared.contains(if backend == Backend::Postgres { "bigint" } else { "int" }),
                    "{}.{}: {declared}",
                    entity.table,
                    field.name
                ),
            }
        }
    }
    let _ = conn.close().await;
}

/// The public objection form: a NUL in the text was a 503 with nothing logged (the
/// database refused it); a phone padded with spaces overflowed its column.
async fn the_objection_form_refuses_controls_and_keeps_phones_as_digits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    let officer = Admin::login(&app.base, "officer-a", PASSWORD).await;
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;
    let case = village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("case id").to_owned();
    for (step, who) in [
        ("application", &officer),
        ("home_verification", &village),
        ("comparison", &township),
        ("village_assessment", &village),
    ] {
        let (status, body) = pass_step(&app, who, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let draft = village.ok_post("/api/v1/notices", json!({"step": "village_notice", "region_code": VILLAGE_1})).await;
    let id = draft["id"].as_str().expect("id").to_owned();
    let notice = village.ok_post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    let token = notice["url"].as_str().and_then(|u| u.rsplit('/').next()).expect("token").to_owned();

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let post = |fields: Vec<(&'static str, String)>| {
        let (browser, base, token) = (browser.clone(), app.base.clone(), token.clone());
        async move {
            let page = browser.get(format!("{base}/n/{token}")).send().await.expect("page").text().await.expect("html");
            let csrf = page.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf");
            let mut form = vec![("csrf", csrf.to_owned())];
            form.extend(fields);
            let res = browser.post(format!("{base}/n/{token}/objections")).form(&form).send().await.expect("post");
            (res.status().as_u16(), res.text().await.unwrap_or_default())
        }
    };
    let (status, page) = post(vec![("body", "名单有误\u{0}".to_owned())]).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("控制字符"), "{page}");
    let padded = format!("138{}1234 5678", " ".repeat(200));
    let (status, page) = post(vec![("body", "第一行\r\n第二行".to_owned()), ("phone", padded)]).await;
    assert_eq!(status, 303, "{page}");
    let listed = village.ok_get(&format!("/api/v1/objections?notice_id={id}")).await;
    let text = listed.to_string();
    assert!(text.contains("138****5678"), "stored as digits, shown masked: {listed}");
    assert!(text.contains("第一行\\n第二行"), "one line end: {listed}");
}

/// A browser's text field cut at its length limit can leave half an emoji, which
/// `JSON.stringify` writes as a lone `\ud83d`: the whole push was refused as invalid
/// JSON on every retry. It is read as U+FFFD, as a browser's own encoder would.
async fn half_an_emoji_does_not_wedge_the_outbox(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    let body = format!(
        r#"{{"changesets": [{{"id": "{}", "changes": [{{"entity": "household", "id": "{household}", "op": "update",
            "base_version": 1, "fields": {{"address": "东村一组\ud83d"}}}}]}}]}}"#,
        Uuid::new_v4()
    );
    let res = reqwest::Client::new()
        .post(format!("{}/api/mobile/v1/sync/push", app.base))
        .bearer_auth(phone.token().expect("token"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("push");
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.expect("json");
    assert_eq!(answer["results"][0]["status"], "applied", "{answer}");
    assert_eq!(app.admin.household(household).await["household"]["address"], "东村一组\u{fffd}");
}
