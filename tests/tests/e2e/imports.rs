//! Register import (issue 11 item 1): a county loads its existing register from the
//! sample file; households, members, statuses and officers arrive over the admin API
//! and on the officers' phones; a second import changes nothing; a broken file names
//! its bad cells and writes nothing; only a county (or administrator) imports. People
//! without an ID card (an unregistered newborn, a 20-character 残疾人证) come in as sync
//! takes them, count as residents, are matched again on re-import inside their own
//! household only, and a row that gives neither a number nor a reason is named.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun::registry::Actor;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    a_county_imports_its_register_once_and_a_broken_file_writes_nothing,
    a_full_register_file_is_read_and_its_report_comes_as_a_workbook,
    a_large_register_runs_as_a_job_past_the_request_timeout,
    a_village_report_holds_that_village_only_though_its_code_prefixes_its_neighbours,
    a_newborn_without_an_id_and_a_disability_card_are_imported_counted_and_matched_again,
    a_row_without_a_number_or_a_reason_is_named_and_nothing_is_written,
    two_unregistered_children_of_one_name_in_two_households_are_two_people,
);

const SAMPLE: &str = include_str!("../../../docs/samples/register-sample.csv");

async fn upload(who: &Admin, dry_run: bool, file_name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()));
    who.post_multipart(&format!("/api/v1/imports?dry_run={dry_run}"), form).await
}

fn counts(report: &Value, what: &str) -> (i64, i64, i64) {
    let c = &report[what];
    (c["created"].as_i64().unwrap_or(-1), c["updated"].as_i64().unwrap_or(-1), c["unchanged"].as_i64().unwrap_or(-1))
}

async fn a_county_imports_its_register_once_and_a_broken_file_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let officer_a = app.phone("officer-a", "phone-a").await;

    // A dry run reports what would happen and writes nothing.
    let (status, report) = upload(&county, true, "register.csv", SAMPLE.as_bytes().to_vec()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!((report["written"].as_bool(), report["errors_total"].as_i64()), (Some(false), Some(0)), "{report}");
    assert_eq!((counts(&report, "households"), counts(&report, "members")), ((4, 0, 0), (9, 0, 0)));
    // 王小花 (无证件, 未报户口) and 周桂兰's 残疾人证 are counted apart.
    assert_eq!(
        (report["members_without_number"].as_i64(), report["members_with_disability_card"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM household").await, 0);

    let (status, report) = upload(&county, false, "register.csv", SAMPLE.as_bytes().to_vec()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["written"], true, "{report}");
    assert_eq!(report["assignments_created"], 4);
    if backend == Backend::Postgres {
        // The planner knows the tables are no longer empty (ANALYZE after the import;
        // autovacuum would come a minute or more later).
        let analyzed = "SELECT COUNT(*) FROM pg_class WHERE relname IN ('household', 'member') \
                        AND relkind = 'r' AND reltuples >= 4";
        assert_eq!(app.count(analyzed).await, 2, "statistics taken");
    }

    // Statuses, members and the register columns as the county reads them.
    let list = county.ok_get("/api/v1/households?limit=100").await;
    let households = list.as_array().or_else(|| list["items"].as_array()).expect("households").clone();
    assert_eq!(households.len(), 4, "{list}");
    let mut statuses: Vec<String> =
        households.iter().map(|h| h["status"].as_str().unwrap_or_default().to_owned()).collect();
    statuses.sort();
    assert_eq!(statuses, ["exited", "registered", "registered", "removed"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM member WHERE active").await, 9);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM household WHERE household_number = '320703001001000002' AND exit_year = 2019 AND registered_on = '2015-03-01'").await,
        1
    );
    let dibao = households.iter().find(|h| h["kind"] == "dibao").expect("the 低保 household");
    assert_eq!((dibao["standard"].as_str(), dibao["region_code"].as_str()), (Some("provincial"), Some(VILLAGE_2)));
    let id: uuid::Uuid = dibao["id"].as_str().expect("id").parse().expect("uuid");
    let whole = county.household(id).await;
    assert_eq!(whole["member"].as_array().map(Vec::len), Some(2), "{whole}");
    assert_eq!(whole["household"]["poverty_causes"], serde_json::json!(["disability"]), "{whole}");
    let assigned = county.ok_get(&format!("/api/v1/assignments?household_id={id}")).await;
    assert_eq!(assigned.as_array().map(Vec::len), Some(2), "officer-a and officer-b: {assigned}");
    let trail = county.ok_get(&format!("/api/v1/households/{id}/audit")).await;
    assert!(trail.as_array().expect("trail").iter().any(|e| e["action"] == "import"), "{trail}");

    // Officer A's phone pulls its two households whole, with their status.
    let (pulled, _) = pull_until(&officer_a, None, |c| c.iter().filter(|c| c.entity == "household").count() >= 2).await;
    let mut mine: Vec<String> = pulled
        .iter()
        .filter(|c| c.entity == "household")
        .map(|c| c.data["status"].as_str().unwrap_or_default().to_owned())
        .collect();
    mine.sort();
    mine.dedup();
    assert_eq!(mine, ["registered"], "officer-a follows the two registered households");
    assert!(pulled.iter().filter(|c| c.entity == "member").count() >= 5, "members come with them");

    // The same file again changes nothing, and says so.
    let changes_before = app.count("SELECT COUNT(*) FROM change_log").await;
    // The job itself is audited (who started which import, how it ended); the records are not touched.
    let audit_before = app.count("SELECT COUNT(*) FROM audit_log WHERE entity <> 'import_job'").await;
    let (status, report) = upload(&county, false, "register.csv", SAMPLE.as_bytes().to_vec()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["written"], false, "{report}");
    assert_eq!((counts(&report, "households"), counts(&report, "members")), ((0, 0, 4), (0, 0, 9)));
    assert_eq!(report["assignments_created"], 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM change_log").await, changes_before);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE entity <> 'import_job'").await, audit_before);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'import_job' AND action IN ('import_start', 'import_finish')"
        )
        .await,
        2 * 3,
        "each of the three imports so far: its start and its end"
    );

    // A corrected cell updates that household only.
    let edited = SAMPLE.replace("西村二组5号", "西村二组6号");
    let (_, report) = upload(&county, false, "register.csv", edited.into_bytes()).await;
    assert_eq!((report["written"].as_bool(), counts(&report, "households")), (Some(true), (0, 1, 3)), "{report}");

    // A broken file: every bad cell named in Chinese, nothing written, even without dry_run.
    let households_before = app.count("SELECT COUNT(*) FROM household").await;
    let broken = "户编号,行政区划代码,户状态,建档立卡日期,脱贫年度,A23 识别标准,A24 贫困户属性,A1 姓名,A2 性别,A4 证件号码,A5 与户主关系\n\
                  320703001001000009,320703001001,已脱贫,2016-01-01,,国家,一般贫困户,钱一,男,320703197001010000,户主\n\
                  320703001001000010,320704001001,申请中,2016/1/1,,国定,一般贫困户,钱二,男,"
        .to_owned()
        + &fresh_id_number()
        + ",户主\n";
    let (status, report) = upload(&county, false, "broken.csv", broken.into_bytes()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["written"], false);
    let errors: Vec<(String, String)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["cell"].as_str().unwrap_or_default().to_owned(), e["code"].as_str().unwrap_or_default().to_owned()))
        .collect();
    for expected in [
        ("E2", "required"),          // exited without its year
        ("J2", "invalid_id_number"), // check digit
        ("C3", "import_status_not_allowed"),
        ("F3", "unknown_code"), // 国定 is no standard
        ("B3", "out_of_scope"), // another county
    ] {
        assert!(errors.iter().any(|(c, k)| (c.as_str(), k.as_str()) == expected), "{expected:?} in {errors:?}");
    }
    let first = report["errors"][0]["message_zh"].as_str().unwrap_or_default();
    assert!(first.starts_with("第2行「"), "{first}");
    assert_eq!(app.count("SELECT COUNT(*) FROM household").await, households_before);

    // A file without the ID column is refused with the column named.
    let (_, report) = upload(&county, true, "x.csv", "户编号,A1 姓名\n1,张三\n".as_bytes().to_vec()).await;
    assert!(
        report["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|e| e["code"] == "import_column_missing" && e["column"] == "A4 证件号码"),
        "{report}"
    );

    // Only a county or an administrator imports.
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;
    let (status, _) = upload(&township, true, "register.csv", SAMPLE.as_bytes().to_vec()).await;
    assert_eq!(status, 403);
}

/// The upload answered as bytes (the workbook), with its status and content type.
async fn upload_raw(base: &str, query: &str, file_name: &str, bytes: Vec<u8>) -> (u16, String, Vec<u8>) {
    let http = reqwest::Client::new();
    let login = serde_json::json!({"username": "county", "password": PASSWORD, "device_id": "web-import-report"});
    let session: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("token");
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()));
    let res = http
        .post(format!("{base}/api/v1/imports?{query}"))
        .bearer_auth(session["token"].as_str().expect("token"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = res.status().as_u16();
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, content_type, res.bytes().await.expect("body").to_vec())
}

async fn a_full_register_file_is_read_and_its_report_comes_as_a_workbook(backend: Backend) {
    use calamine::{Reader, Xlsx};
    use jingzhun::imports::layout::{COLUMNS, column_of};
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;

    // The sample with every column of the layout, and ten the import does not read (a
    // national export carries income and remarks besides): past the general 50-column
    // cap of department lists, which refused a county's whole file.
    let mut lines: Vec<String> = SAMPLE.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
    let present: Vec<&'static str> = lines[0].split(',').filter_map(column_of).map(|c| c.header).collect();
    let mut extra: Vec<String> =
        COLUMNS.iter().filter(|c| !present.contains(&c.header)).map(|c| c.header.to_owned()).collect();
    extra.extend((1..=10).map(|i| format!("备注{i}")));
    lines[0] = format!("{},{}", lines[0], extra.join(","));
    for line in &mut lines[1..] {
        line.push_str(&",".repeat(extra.len()));
    }
    let width = lines[0].split(',').count();
    assert!(width >= COLUMNS.len() + 10 && width > 50, "{width} columns");
    let full = lines.join("\n") + "\n";
    let (status, report) = upload(&county, true, "full.csv", full.into_bytes()).await;
    assert_eq!(status, 200, "a {width}-column register is read: {report}");
    assert_eq!(report["errors_total"], 0, "{report}");
    assert_eq!(counts(&report, "households"), (4, 0, 0), "{report}");
    assert_eq!(report["ignored_columns"].as_array().map(Vec::len), Some(10), "{report}");

    // The report of a broken file as a workbook: Chinese headers, one row per failing cell.
    let broken = "户编号,行政区划代码,户状态,建档立卡日期,脱贫年度,A23 识别标准,A24 贫困户属性,A1 姓名,A2 性别,A4 证件号码,A5 与户主关系\n\
                  320703001001000009,320703001001,已脱贫,2016-01-01,,国家,一般贫困户,钱一,男,320703197001010000,户主\n";
    let (status, content_type, bytes) =
        upload_raw(&app.base, "dry_run=true&format=xlsx", "broken.csv", broken.as_bytes().to_vec()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert!(content_type.contains("spreadsheetml"), "{content_type}");
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("the workbook opens");
    let sheet = book.worksheet_range("错误").expect("sheet 错误");
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0], ["行", "列", "字段", "问题"]);
    let named = |line: &str, col: &str, field: &str| {
        rows.iter().any(|r| r[0] == line && r[1] == col && r[2] == field && r[3].starts_with(&format!("第{line}行")))
    };
    assert!(named("2", "E", "脱贫年度"), "exited without its year: {rows:?}");
    assert!(named("2", "J", "A4 证件号码"), "the ID's check digit: {rows:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM household").await, 0, "a report writes nothing");

    // An unknown format is refused, not answered as JSON.
    let (status, _, _) =
        upload_raw(&app.base, "dry_run=true&format=pdf", "broken.csv", broken.as_bytes().to_vec()).await;
    assert_eq!(status, 400);
}

/// The yardstick: 20,000 households (60,000 member rows), printed, never
/// asserted (BENCHMARKS.md). `cargo test -p jingzhun-tests --test e2e twenty_thousand -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a check (BENCHMARKS.md): run it by name with --ignored"]
async fn twenty_thousand_households_import_timed() {
    twenty_thousand_households(Backend::Sqlite).await;
}

/// The same on PostgreSQL (needs JINGZHUN_TEST_POSTGRES_URL).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a check (BENCHMARKS.md): run it by name with --ignored"]
async fn twenty_thousand_households_import_timed_postgres() {
    twenty_thousand_households(Backend::Postgres).await;
}

async fn twenty_thousand_households(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let csv = register_csv(20_000);
    // Through the service, as `jingzhun import register` runs it: over HTTP the
    // server's 30 s request timeout answers 408 before PostgreSQL finishes (debug build).
    let state = &app.state;
    let import = |bytes: Vec<u8>| async move {
        let request = jingzhun::imports::register::ImportRequest { file_name: "big.csv".into(), bytes, dry_run: false };
        let caps = jingzhun::imports::register::caps(&state.config.uploads);
        jingzhun::imports::register::run(&state.db, &Actor::CLI, request, &state.gates.parsing, caps, &|_| {})
            .await
            .expect("imported")
    };
    let started = std::time::Instant::now();
    let report = import(csv.clone().into_bytes()).await;
    let first = started.elapsed();
    assert!(report.written, "{:?}", report.errors.first());
    let started = std::time::Instant::now();
    let again = import(csv.into_bytes()).await;
    println!(
        "register import, 20,000 households / 60,000 members on {backend:?}: {:.1} s; re-import (no change): {:.1} s ({:?})",
        first.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        again.households
    );
}

/// A register of `households` households of three members each, alternating between
/// the two villages and the three statuses, every one followed by officer-a.
fn register_csv(households: u32) -> String {
    let mut csv =
        String::from("户编号,行政区划代码,户状态,建档立卡日期,脱贫年度,帮扶责任人账号,A23,A24,A1,A2,A4,A5,A10\n");
    let statuses = ["在档贫困户", "已脱贫", "已清除"];
    for h in 0..households {
        let village = if h % 2 == 0 { VILLAGE_1 } else { VILLAGE_2 };
        let status = statuses[(h % 3) as usize];
        let year = if status == "已脱贫" { "2019" } else { "" };
        for (m, relation) in ["户主", "配偶", "之子"].iter().enumerate() {
            // Distinct valid ID numbers: birth day by household, sequence by member.
            let day =
                chrono::NaiveDate::from_ymd_opt(1940, 1, 1).expect("date") + chrono::Days::new(u64::from(h / 300));
            let id = id_number(&day.format("%Y%m%d").to_string(), (h % 300) * 3 + m as u32);
            csv.push_str(&format!(
                "{village}{h:06},{village},{status},2016-05-01,{year},officer-a,国家,一般贫困户,成员{m},男,{id},{relation},健康\n"
            ));
        }
    }
    csv
}

/// Uploads with `Prefer: respond-async` when asked; the answer's status, `Location` and body.
async fn upload_job(base: &str, token: &str, query: &str, bytes: Vec<u8>, respond_async: bool) -> (u16, String, Value) {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("register.csv".to_owned()));
    let mut request =
        reqwest::Client::new().post(format!("{base}/api/v1/imports?{query}")).bearer_auth(token).multipart(form);
    if respond_async {
        request = request.header("Prefer", "respond-async");
    }
    let res = request.send().await.expect("upload");
    let status = res.status().as_u16();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, location, res.json().await.unwrap_or(Value::Null))
}

async fn token_of(base: &str, username: &str) -> String {
    let login =
        serde_json::json!({"username": username, "password": PASSWORD, "device_id": format!("web-{username}-jobs")});
    let session: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("token");
    session["token"].as_str().expect("token").to_owned()
}

/// Polls a job until it has ended; every view seen, the last one finished.
async fn follow(who: &Admin, location: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for _ in 0..1200 {
        let view = who.ok_get(location).await;
        let stage = view["stage"].as_str().unwrap_or_default().to_owned();
        seen.push(view);
        if !["queued", "checking", "writing"].contains(&stage.as_str()) {
            return seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the job did not end in two minutes: {:?}", seen.last());
}

/// A register too large for one request (the server's timeout cut to 4 s here; 30 s in
/// production, which 20,000 households overrun on PostgreSQL) is answered 202 with a job
/// instead of 408; the job shows its progress and then its report; a dry run of it
/// writes nothing; importing it again changes nothing; another county's clerk cannot
/// see the job, and a job cut off by a restart reads as interrupted.
async fn a_large_register_runs_as_a_job_past_the_request_timeout(backend: Backend) {
    // Sign-ins hash passwords, slow in a debug build on a busy machine: 4 s for every
    // request, and a register that takes longer than half of it to import.
    const HOUSEHOLDS: u32 = 4000;
    let app = TestApp::spawn_with(backend, |config| config.http.request_timeout_secs = 4).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let token = token_of(&app.base, "county").await;
    let csv = register_csv(HOUSEHOLDS);

    // A dry run, followed: checked and counted, nothing written.
    let (status, location, job) = upload_job(&app.base, &token, "dry_run=true", csv.clone().into_bytes(), true).await;
    assert_eq!(status, 202, "{job}");
    assert_eq!(location, format!("/api/v1/imports/{}", job["id"].as_str().unwrap_or_default()));
    let done = follow(&county, &location).await.pop().expect("a view");
    assert_eq!(done["stage"], "done", "{done}");
    assert_eq!((done["report"]["dry_run"].as_bool(), done["report"]["written"].as_bool()), (Some(true), Some(false)));
    assert_eq!(counts(&done["report"], "households"), (i64::from(HOUSEHOLDS), 0, 0), "{done}");
    assert_eq!(app.count("SELECT COUNT(*) FROM household").await, 0, "a dry run writes nothing");

    // The real import, asked as a browser would: it outlasts the request timeout, so the
    // answer is the job (never 408), and its page shows how far it has got.
    let (status, location, job) = upload_job(&app.base, &token, "", csv.clone().into_bytes(), false).await;
    assert_eq!(status, 202, "a large import answers with its job, not 408: {job}");
    assert_ne!(job["stage"], "done", "{job}");
    assert!(job["stage_zh"].as_str().is_some_and(|s| s.contains("未写入") || s.contains("写入中")), "{job}");
    let seen = follow(&county, &location).await;
    let done = seen.last().expect("a view");
    assert_eq!(done["stage"], "done", "{done}");
    assert_eq!(done["report"]["written"], true, "{done}");
    assert_eq!(done["stage_zh"], "已完成，已写入");
    assert_eq!(done["rows_total"].as_u64(), Some(u64::from(HOUSEHOLDS) * 3), "{done}");
    assert_eq!(done["rows_checked"], done["rows_total"]);
    assert_eq!(done["households_total"].as_u64(), Some(u64::from(HOUSEHOLDS)));
    assert_eq!(done["households_written"], done["households_total"], "{done}");
    // Progress was visible on the way: every view counts up, never past the total.
    for view in &seen {
        let written = view["households_written"].as_u64().unwrap_or(u64::MAX);
        assert!(written <= u64::from(HOUSEHOLDS), "{view}");
    }
    let written: Vec<u64> = seen.iter().filter_map(|v| v["households_written"].as_u64()).collect();
    assert!(written.windows(2).all(|w| w[0] <= w[1]), "{written:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM household").await, i64::from(HOUSEHOLDS));
    assert_eq!(app.count("SELECT COUNT(*) FROM member WHERE active").await, i64::from(HOUSEHOLDS) * 3);
    // The report of the finished job, as a workbook.
    let (status, _) = county.get_text(&format!("{location}?format=xlsx")).await;
    assert_eq!(status, 200);

    // Again: the same file changes nothing, and the job says so.
    let (status, location2, _) = upload_job(&app.base, &token, "", csv.into_bytes(), true).await;
    assert_eq!(status, 202);
    let again = follow(&county, &location2).await.pop().expect("a view");
    assert_eq!((again["stage"].as_str(), again["report"]["written"].as_bool()), (Some("done"), Some(false)), "{again}");
    assert_eq!(counts(&again["report"], "households"), (0, 0, i64::from(HOUSEHOLDS)), "{again}");
    assert_eq!(again["stage_zh"], "已完成，与已有数据一致，无需写入");
    assert_eq!(app.count("SELECT COUNT(*) FROM household").await, i64::from(HOUSEHOLDS));

    // Who sees the job: its county and the administrator; not another county's clerk,
    // nor a township (which does not import).
    app.admin
        .ok_post("/api/v1/regions", serde_json::json!({"code": "320704000000", "name": "邻县", "level": "county", "parent_code": "320700000000"}))
        .await;
    app.admin
        .ok_post(
            "/api/v1/users",
            serde_json::json!({"username": "county-b", "name": "county-b", "password": PASSWORD, "roles": [{"role": "county", "region_code": "320704000000"}]}),
        )
        .await;
    let neighbour = Admin::login(&app.base, "county-b", PASSWORD).await;
    assert_eq!(neighbour.get(&location).await.0, 404);
    assert_eq!(neighbour.get(&format!("{location}?format=xlsx")).await.0, 404);
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;
    assert_eq!(township.get(&location).await.0, 403);
    assert_eq!(app.admin.get(&location).await.0, 200);

    // A job another server process was running when it stopped: interrupted, and says
    // nothing was written.
    app.execute_sql(
        "INSERT INTO import_job (id, user_id, scope, file_name, dry_run, state, instance, created_at) \
         VALUES ('00000000-0000-0000-0000-000000000022', NULL, '320703', 'old.csv', false, 'running', 'a-process-gone', '2026-12-06 10:00:00+00:00')",
    )
    .await;
    let cut = county.ok_get("/api/v1/imports/00000000-0000-0000-0000-000000000022").await;
    assert_eq!(cut["stage"], "interrupted", "{cut}");
    assert!(cut["stage_zh"].as_str().is_some_and(|s| s.contains("未写入任何数据")), "{cut}");
    assert_eq!(app.count("SELECT COUNT(*) FROM import_job WHERE state = 'interrupted'").await, 1);
    let (status, _) = county.get("/api/v1/imports/00000000-0000-0000-0000-000000000022?format=xlsx").await;
    assert_eq!(status, 409, "no report for a job that did not finish");
}

/// Village 010's code with its zeros trimmed (`32070300101`) also starts village 011's:
/// a region is matched by its level's prefix, never by trailing zeros.
async fn a_village_report_holds_that_village_only_though_its_code_prefixes_its_neighbours(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let (ten, eleven) = ("320703001010", "320703001011");
    for (code, name) in [(ten, "十村"), (eleven, "十一村")] {
        let body = json!({"code": code, "name": name, "level": "village", "parent_code": TOWNSHIP});
        county.ok_post("/api/v1/regions", body).await;
    }
    let mut csv = String::from("户编号,行政区划代码,户状态,建档立卡日期,A23,A24,A1,A2,A4,A5,A10\n");
    for (n, village) in [ten, eleven].iter().enumerate() {
        let id = id_number("19600101", n as u32);
        csv.push_str(&format!(
            "{village}000001,{village},在档贫困户,2016-05-01,国家,一般贫困户,户主{n},男,{id},户主,健康\n"
        ));
    }
    let (status, report) = upload(&county, false, "register.csv", csv.into_bytes()).await;
    assert_eq!(status, 200, "{report}");
    let listed = county.ok_get(&format!("/api/v1/quality?region_code={ten}")).await;
    let regions: Vec<&str> =
        listed.as_array().expect("list").iter().filter_map(|h| h["region_code"].as_str()).collect();
    assert_eq!(regions, [ten], "only village 010's household, with its missing data: {listed}");
    // The household list at every level: a city's or province's code names all below it.
    for (region, expected) in
        [(ten, vec![ten]), ("320700000000", vec![ten, eleven]), ("320000000000", vec![ten, eleven])]
    {
        let listed = county.ok_get(&format!("/api/v1/households?region_code={region}&limit=1000")).await;
        let mut regions: Vec<&str> = listed
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|h| h["region_code"].as_str())
            .filter(|r| [ten, eleven].contains(r))
            .collect();
        regions.sort();
        assert_eq!(regions, expected, "households listed for {region}: {listed}");
    }
}

/// The header of the small registers below: the identity columns as 004 附件2 and the
/// sync catalogue name them (A3 证件类型, A4, 无证件原因).
const IDENTITY_HEADER: &str = "户编号,行政区划代码,户状态,建档立卡日期,帮扶责任人账号,A23,A24,A1 姓名,A2 性别,A3 证件类型,A4 证件号码,无证件原因,A5 与户主关系\n";

/// One member row of a registered household in `village`, followed by officer-a.
fn identity_row(
    number: &str,
    village: &str,
    name: &str,
    id_type: &str,
    id: &str,
    reason: &str,
    relation: &str,
) -> String {
    format!(
        "{number},{village},在档贫困户,2016-05-01,officer-a,国家,一般贫困户,{name},女,{id_type},{id},{reason},{relation}\n"
    )
}

/// The household a file's household number became.
async fn imported(app: &TestApp, number: &str) -> Uuid {
    use sea_orm::{ConnectionTrait, Statement};
    let conn = &app.state.db.conn;
    let query = format!("SELECT id FROM household WHERE household_number = '{number}'");
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), query))
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("household {number} imported"));
    row.try_get::<String>("", "id").expect("id").parse().expect("uuid")
}

async fn a_newborn_without_an_id_and_a_disability_card_are_imported_counted_and_matched_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let (east, west) = (format!("{VILLAGE_1}900001"), format!("{VILLAGE_2}900002"));
    let (mother, head) = (fresh_id_number(), fresh_id_number());
    // The west head's 残疾人证 (肢体残疾二级): 20 characters, no 证件类型 written; the
    // number says what it is.
    let card = format!("{head}42");
    let mut csv = IDENTITY_HEADER.to_owned();
    csv += &identity_row(&east, VILLAGE_1, "陈红", "居民身份证", &mother, "", "户主");
    csv += &identity_row(&east, VILLAGE_1, "陈小小", "无证件", "", "未报户口", "之女");
    csv += &identity_row(&west, VILLAGE_2, "刘兰", "", &card, "", "户主");

    let (status, report) = upload(&county, true, "register.csv", csv.clone().into_bytes()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["errors_total"], 0, "a row without a number that says why is valid: {report}");
    assert_eq!(counts(&report, "members"), (3, 0, 0), "{report}");
    assert_eq!(
        (report["members_without_number"].as_i64(), report["members_with_disability_card"].as_i64()),
        (Some(1), Some(1))
    );
    let (status, report) = upload(&county, false, "register.csv", csv.clone().into_bytes()).await;
    assert_eq!((status, report["written"].as_bool()), (200, Some(true)), "{report}");

    // Stored as sync stores them: no number at all (never ""), the type and the reason;
    // the 残疾人证 whole, with the type its length implies.
    let east_id = imported(&app, &east).await;
    let stored = county.household(east_id).await;
    let members = stored["member"].as_array().expect("members");
    let baby = members.iter().find(|m| m["name"] == "陈小小").unwrap_or_else(|| panic!("the newborn: {stored}"));
    assert_eq!(
        (&baby["id_number"], &baby["id_type"], &baby["no_id_reason"]),
        (&Value::Null, &json!("none"), &json!("未报户口"))
    );
    let west_id = imported(&app, &west).await;
    let west_head = county.household(west_id).await["member"][0].clone();
    assert_eq!(
        (west_head["id_number"].as_str(), west_head["id_type"].as_str()),
        (Some(card.as_str()), Some("disability_card"))
    );

    // She is a resident: 8,000 yuan of wage recorded from the officer's phone is shared by two.
    let phone = app.phone("officer-a", "phone-import-newborn").await;
    let income = json!({"household_id": east_id, "year": 2026, "wage": 8000});
    let res = push(&phone, vec![changeset(vec![change("income", Uuid::new_v4(), Op::Create, 0, income)])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    let assessment = county.ok_get(&format!("/api/v1/households/{east_id}/assessment?year=2026")).await;
    assert_eq!(assessment["net_income"]["resident_members"], 2, "{assessment}");
    assert_eq!(assessment["net_income"]["per_capita_fen"], 400_000, "{assessment}");

    // Her household is on the 系统外 list, with why (001 附件1 note 3).
    let outside = county.ok_get(&format!("/api/v1/reports/outside_system?region_code={TOWNSHIP}&format=json")).await;
    let listed = outside["households"].as_array().expect("households");
    let entry = listed.iter().find(|h| h["id"] == east_id.to_string()).unwrap_or_else(|| panic!("listed: {outside}"));
    assert!(entry["reason"].as_str().is_some_and(|r| r.contains("陈小小") && r.contains("未报户口")), "{entry}");

    // The same file again: nothing changes, she is not added a second time.
    let members_before = app.count("SELECT COUNT(*) FROM member").await;
    let changes_before = app.count("SELECT COUNT(*) FROM change_log").await;
    let (_, again) = upload(&county, false, "register.csv", csv.clone().into_bytes()).await;
    assert_eq!(again["written"], false, "{again}");
    assert_eq!((counts(&again, "households"), counts(&again, "members")), ((0, 0, 2), (0, 0, 3)), "{again}");
    assert!(again["members_without_number"] == 1, "the dry-run and real report count her: {again}");
    assert_eq!(app.count("SELECT COUNT(*) FROM member").await, members_before);
    assert_eq!(app.count("SELECT COUNT(*) FROM change_log").await, changes_before);

    // Registered since: the county's next file brings her number. She is the same person
    // (found by name and relation in her household), now an ID holder, not a second child.
    let her_id = id_number("20260101", 2);
    let registered = csv.replace("陈小小,女,无证件,,未报户口", &format!("陈小小,女,,{her_id},"));
    let (_, report) = upload(&county, false, "register.csv", registered.into_bytes()).await;
    assert_eq!((report["written"].as_bool(), counts(&report, "members")), (Some(true), (0, 1, 2)), "{report}");
    assert_eq!(app.count("SELECT COUNT(*) FROM member").await, members_before);
    let baby = county.household(east_id).await["member"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["name"] == "陈小小")
        .cloned()
        .expect("her");
    assert_eq!(
        (baby["id_number"].as_str(), baby["id_type"].as_str()),
        (Some(her_id.as_str()), Some("resident_id_card"))
    );

    // The old file, which still says 无证件 for her, is named (her line, A4), never
    // taken as a second child without a number, and writes nothing.
    let (_, stale) = upload(&county, false, "register.csv", csv.into_bytes()).await;
    assert_eq!(stale["written"], false, "{stale}");
    let errors: Vec<(&str, &str)> = stale["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["cell"].as_str().unwrap_or_default(), e["code"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(errors, [("K3", "id_type_mismatch")], "{stale}");
    assert_eq!(app.count("SELECT COUNT(*) FROM member").await, members_before);
}

async fn a_row_without_a_number_or_a_reason_is_named_and_nothing_is_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let number = format!("{VILLAGE_1}900003");
    let mut csv = IDENTITY_HEADER.to_owned();
    csv += &identity_row(&number, VILLAGE_1, "马芳", "居民身份证", &fresh_id_number(), "", "户主");
    csv += &identity_row(&number, VILLAGE_1, "马小一", "", "", "", "之子"); // line 3: neither
    csv += &identity_row(&number, VILLAGE_1, "马小二", "无证件", "", "", "之女"); // line 4: no reason
    for dry_run in [true, false] {
        let (status, report) = upload(&county, dry_run, "register.csv", csv.clone().into_bytes()).await;
        assert_eq!((status, report["written"].as_bool()), (200, Some(false)), "{report}");
        let errors: Vec<(String, String, String)> = report["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| {
                let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                (text("cell"), text("code"), text("message_zh"))
            })
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        // Columns: K is A4, L is 无证件原因.
        assert_eq!((errors[0].0.as_str(), errors[0].1.as_str()), ("K3", "required"), "{errors:?}");
        assert!(errors[0].2.starts_with("第3行「A4 证件号码」（K3）"), "{errors:?}");
        assert_eq!((errors[1].0.as_str(), errors[1].1.as_str()), ("L4", "required"), "{errors:?}");
        assert!(errors[1].2.starts_with("第4行「无证件原因」（L4）"), "{errors:?}");
        assert_eq!(app.count("SELECT COUNT(*) FROM household").await, 0, "nothing written");
        assert_eq!(app.count("SELECT COUNT(*) FROM member").await, 0);
    }
    // A 20-character number that is no 残疾人证 (category 8) is its own error, once.
    let bad = csv.replace("马小一,女,,,", &format!("马小一,女,,{}81,", fresh_id_number()));
    let (_, report) = upload(&county, true, "register.csv", bad.into_bytes()).await;
    let codes: Vec<&str> =
        report["errors"].as_array().expect("errors").iter().filter_map(|e| e["code"].as_str()).collect();
    assert_eq!(codes, ["invalid_disability_card", "required"], "{report}");
}

async fn two_unregistered_children_of_one_name_in_two_households_are_two_people(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let (one, two) = (format!("{VILLAGE_1}900004"), format!("{VILLAGE_2}900005"));
    let mut csv = IDENTITY_HEADER.to_owned();
    csv += &identity_row(&one, VILLAGE_1, "张梅", "居民身份证", &fresh_id_number(), "", "户主");
    csv += &identity_row(&one, VILLAGE_1, "张小宝", "无证件", "", "未报户口", "之女");
    csv += &identity_row(&two, VILLAGE_2, "张兰", "居民身份证", &fresh_id_number(), "", "户主");
    csv += &identity_row(&two, VILLAGE_2, "张小宝", "无证件", "", "未报户口", "之女");
    let (_, report) = upload(&county, false, "register.csv", csv.clone().into_bytes()).await;
    assert_eq!(
        (report["written"].as_bool(), report["errors_total"].as_i64()),
        (Some(true), Some(0)),
        "no duplicate: {report}"
    );
    assert_eq!(counts(&report, "members"), (4, 0, 0), "{report}");
    assert_eq!(app.count("SELECT COUNT(*) FROM member WHERE id_number IS NULL AND name = '张小宝'").await, 2);
    for number in [&one, &two] {
        let id = imported(&app, number).await;
        let members = county.household(id).await["member"].as_array().map(Vec::len);
        assert_eq!(members, Some(2), "each child in her own household");
    }
    // Again: each is matched in her own household, never with the other.
    let (_, again) = upload(&county, false, "register.csv", csv.clone().into_bytes()).await;
    assert_eq!((again["written"].as_bool(), counts(&again, "members")), (Some(false), (0, 0, 4)), "{again}");
    assert_eq!(app.count("SELECT COUNT(*) FROM member").await, 4);

    // Two of them in one household could never be told apart on the next import: named.
    let three = format!("{VILLAGE_1}900006");
    let mut twins = IDENTITY_HEADER.to_owned();
    twins += &identity_row(&three, VILLAGE_1, "李梅", "居民身份证", &fresh_id_number(), "", "户主");
    twins += &identity_row(&three, VILLAGE_1, "李小宝", "无证件", "", "未报户口", "之女");
    twins += &identity_row(&three, VILLAGE_1, "李小宝", "无证件", "", "未报户口", "之女");
    let (_, report) = upload(&county, true, "register.csv", twins.into_bytes()).await;
    let errors: Vec<(&str, &str)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["cell"].as_str().unwrap_or_default(), e["code"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(errors, [("H4", "duplicate_person")], "{report}");
}
