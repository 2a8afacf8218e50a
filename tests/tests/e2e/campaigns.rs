//! Campaigns and deadlines (C7): the 004 timeline created in one call over the test
//! county, progress computed from visits recorded on phones, reminders three and one
//! days before a milestone, an overdue milestone escalated one level up naming the
//! lagging village, a daily digest for each supervisor, a slot that runs once however
//! often it is asked for, and progress pulled by a supervisor's phone. Time moves on
//! the server's clock; the scheduler is driven through `run_due`.

use crate::harness::*;
use crate::on_both_backends;
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use uuid::Uuid;

on_both_backends!(
    a_campaign_from_the_004_template_reminds_escalates_and_digests,
    campaign_progress_is_scoped_audited_and_pulled_by_supervisors,
    the_004_template_measures_what_004_asks_on_004s_dates
);

/// A Beijing time in 2026, as the server's clock takes it.
fn beijing(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .expect("UTC+8")
        .with_ymd_and_hms(2026, month, day, hour, 0, 0)
        .single()
        .expect("a valid time")
        .with_timezone(&Utc)
}

/// One outbox row: event, dedup key, recipient's username, params.
#[derive(Debug, Clone)]
struct Sent {
    event: String,
    key: String,
    user: String,
    params: Value,
}

/// The e-mail rows of the outbox (every seeded user has an address, none a phone).
async fn outbox(app: &TestApp) -> Vec<Sent> {
    let conn = &app.state.db.conn;
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT n.event, n.dedup_key, u.username, n.params FROM notification n JOIN app_user u ON u.id = n.user_id \
             WHERE n.channel = 'email' ORDER BY n.created_at, n.id",
        ))
        .await
        .expect("outbox");
    rows.iter()
        .map(|r| {
            let params: String = r.try_get_by_index(3).expect("params");
            Sent {
                event: r.try_get_by_index(0).expect("event"),
                key: r.try_get_by_index(1).expect("key"),
                user: r.try_get_by_index(2).expect("user"),
                params: serde_json::from_str(&params).expect("params JSON"),
            }
        })
        .collect()
}

/// A DELETE or PATCH as `username` (the harness's `Admin` has neither); returns the status.
async fn send_as(app: &TestApp, username: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> u16 {
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": username, "password": PASSWORD, "device_id": format!("web-{}", Uuid::new_v4())}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    let token = login["token"].as_str().expect("token");
    let mut request = http.request(method, format!("{}{path}", app.base)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request").status().as_u16()
}

async fn run_at(app: &TestApp, at: DateTime<Utc>) -> Vec<String> {
    app.clock.set(at);
    jingzhun::scheduler::run_due(&app.state.db, &app.state.clock, &app.state.config.schedule)
        .await
        .expect("scheduled work runs")
}

/// The test county with e-mail addresses, a second supervisor (over the county), and
/// four households: both of 东村 visited during the collection, one of 西村's two.
async fn county_with_visits(app: &TestApp) {
    seed(app).await;
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "supervisor-county", "name": "县督查", "password": PASSWORD,
                   "roles": [{"role": "supervisor", "region_code": COUNTY}]}),
        )
        .await;
    app.execute_sql("UPDATE app_user SET email = username || '@example.cn'").await;
    let phone = app.phone("officer-a", "phone-a").await;
    for (village, visited) in [(VILLAGE_1, true), (VILLAGE_1, true), (VILLAGE_2, true), (VILLAGE_2, false)] {
        let (household, _) = create_household(&phone, village, 0).await;
        if visited {
            let visit = change(
                "visit_log",
                Uuid::new_v4(),
                Op::Create,
                0,
                json!({"household_id": household, "visited_on": "2026-10-20", "note": "入户采集"}),
            );
            let res = push(&phone, vec![changeset(vec![visit])]).await;
            assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
        }
    }
}

/// The id of the (first) milestone of `campaign` with this measure.
fn milestone_measuring(campaign: &Value, measure: &str) -> String {
    campaign["milestones"]
        .as_array()
        .expect("milestones")
        .iter()
        .find(|m| m["measure"] == measure)
        .and_then(|m| m["id"].as_str())
        .unwrap_or_else(|| panic!("a milestone measuring {measure}"))
        .to_owned()
}

/// A region's line in one milestone's progress.
fn line_of(progress: &Value, region: &str) -> Value {
    progress["milestones"][0]["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .find(|l| l["region_code"] == region)
        .cloned()
        .unwrap_or_else(|| panic!("{region} in {progress}"))
}

async fn a_campaign_from_the_004_template_reminds_escalates_and_digests(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.schedule.enabled = false).await;
    county_with_visits(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let campaign =
        county.ok_post("/api/v1/campaigns/from-template", json!({"region_code": COUNTY, "year": 2026})).await;
    let collection = milestone_measuring(&campaign, "households_visited");

    // An objection to a notice in 西村, open since 5 November.
    let objection = Uuid::new_v4().to_string();
    app.execute_sql(&format!(
        "INSERT INTO objection (id, notice_id, receipt, body, status, assigned_level, assigned_region, region_code, \
         due_at, source_hash, created_at, updated_at) VALUES ('{}', '{}', 'R20261105', '收入不实', 'open', 'village', \
         '{VILLAGE_2}', '{VILLAGE_2}', '2026-11-12T01:00:00+00:00', 'hash', '2026-11-05T01:00:00+00:00', \
         '2026-11-05T01:00:00+00:00')",
        objection,
        Uuid::new_v4()
    ))
    .await;

    // Three days before the collection is due: a reminder to the township team (西村 is
    // short) and to the county, and the day's digest to both supervisors.
    let ran = run_at(&app, beijing(11, 7, 9)).await;
    assert_eq!(ran.len(), 3, "progress, reminders and digest: {ran:?}");
    let sent = outbox(&app).await;
    let approaching: Vec<&Sent> =
        sent.iter().filter(|s| s.event == "milestone_approaching" && s.key.contains(&collection)).collect();
    let told: BTreeSet<&str> = approaching.iter().map(|s| s.user.as_str()).collect();
    assert_eq!(told, BTreeSet::from(["county", "township-1"]), "{approaching:?}");
    assert!(approaching.iter().all(|s| s.params["days_left"] == 3));
    let team = approaching.iter().find(|s| s.user == "township-1").expect("township reminder");
    assert_eq!(team.params["lagging"], "西村");
    assert_eq!(team.params["progress"], "75%");
    let digests: BTreeSet<&str> = sent.iter().filter(|s| s.event == "daily_digest").map(|s| s.user.as_str()).collect();
    assert_eq!(digests, BTreeSet::from(["supervisor", "supervisor-county"]));
    for d in sent.iter().filter(|s| s.event == "daily_digest") {
        assert_eq!(d.params["open_objections"], 1, "{}", d.params);
        assert_eq!(d.params["objections"][0]["id"], objection.as_str());
        assert_eq!(d.params["objections"][0]["age_days"], 2);
        assert_eq!(d.params["due"][0]["days_left"], 3);
        // 11/10's procedures and collection, and 11/11's summary report.
        assert_eq!(d.params["due_count"], 3);
    }

    // Two days before: nothing about this milestone; one day before: the second reminder.
    run_at(&app, beijing(11, 8, 9)).await;
    let count =
        |sent: &[Sent], event: &str| sent.iter().filter(|s| s.event == event && s.key.contains(&collection)).count();
    assert_eq!(count(&outbox(&app).await, "milestone_approaching"), 2);
    run_at(&app, beijing(11, 9, 9)).await;
    let sent = outbox(&app).await;
    assert_eq!(count(&sent, "milestone_approaching"), 4);
    assert!(
        sent.iter()
            .filter(|s| s.event == "milestone_approaching" && s.key.contains(&collection))
            .any(|s| s.params["days_left"] == 1)
    );

    // The day after: overdue, escalated one level up from the township (its county:
    // both the county's and the city's supervisor hold it), naming 西村 and not 东村.
    let before = outbox(&app).await.len();
    let at = beijing(11, 11, 9);
    app.clock.set(at);
    // A second server process on the same database, asking at the same moment: every
    // slot runs once.
    let mut config = jingzhun::Config::defaults().expect("defaults");
    config.database_url = app.database_url.clone();
    config.max_connections = 4;
    config.schedule.enabled = false;
    let other = jingzhun::prepare(config).await.expect("a second process starts");
    other.clock.set(at);
    let (first, second) = tokio::join!(
        jingzhun::scheduler::run_due(&app.state.db, &app.state.clock, &app.state.config.schedule),
        jingzhun::scheduler::run_due(&other.db, &other.clock, &other.config.schedule)
    );
    let mut ran = first.expect("first run");
    ran.extend(second.expect("second run"));
    let distinct: BTreeSet<&String> = ran.iter().collect();
    assert_eq!(ran.len(), 3, "each job once: {ran:?}");
    assert_eq!(distinct.len(), 3);
    let sent = outbox(&app).await;
    let overdue: Vec<&Sent> =
        sent.iter().filter(|s| s.event == "milestone_overdue" && s.key.contains(&collection)).collect();
    let escalated: BTreeSet<&str> =
        overdue.iter().filter(|s| s.key.ends_with(":supervisor")).map(|s| s.user.as_str()).collect();
    assert_eq!(escalated, BTreeSet::from(["supervisor", "supervisor-county"]), "{overdue:?}");
    for s in overdue.iter().filter(|s| s.key.ends_with(":supervisor")) {
        assert_eq!(s.params["escalated_to"], COUNTY);
        assert_eq!(s.params["region_code"], TOWNSHIP);
        assert_eq!(s.params["lagging"], "西村");
        assert_eq!(s.params["lagging_codes"], json!([VILLAGE_2]));
        assert_eq!(s.params["days_late"], 1);
    }
    assert!(overdue.iter().any(|s| s.user == "township-1"), "the responsible team hears too");
    let digests: Vec<&Sent> =
        sent.iter().filter(|s| s.event == "daily_digest" && s.key.ends_with("2026-11-11")).collect();
    assert_eq!(digests.len(), 2, "one digest per supervisor");
    for d in &digests {
        assert_eq!(d.params["late_count"], 1, "{}", d.params);
        assert_eq!(d.params["late"][0]["lagging_regions"], "西村");
        assert!(d.params["summary"].as_str().expect("summary").contains("西村"));
        assert_eq!(d.params["oldest_objection_days"], 6);
    }

    // The same slot again, and again from the background loop's side: nothing new.
    let grown = sent.len();
    assert!(grown > before);
    assert!(run_at(&app, at).await.is_empty());
    assert_eq!(outbox(&app).await.len(), grown);
    // The same day's reminders re-run under another slot still tell nobody twice.
    app.execute_sql("DELETE FROM schedule_run").await;
    assert_eq!(run_at(&app, at).await.len(), 3);
    assert_eq!(outbox(&app).await.len(), grown, "dedup keys hold across re-runs");

    // A claim left without an outcome by a process that died is taken over once stale;
    // a fresh one (a process at work right now) is left alone.
    app.execute_sql(
        "INSERT INTO schedule_run (job, slot, claimed_at) VALUES \
         ('daily_digest', '2026-11-12T00:30:00+00:00', '2026-11-12T00:31:00+00:00'), \
         ('milestone_reminders', '2026-11-12T00:00:00+00:00', '2026-11-12T00:55:00+00:00')",
    )
    .await;
    let ran = run_at(&app, beijing(11, 12, 9)).await;
    let jobs: BTreeSet<&str> = ran.iter().filter_map(|r| r.split('@').next()).collect();
    assert_eq!(jobs, BTreeSet::from(["campaign_progress", "daily_digest"]), "{ran:?}");
}

async fn campaign_progress_is_scoped_audited_and_pulled_by_supervisors(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.schedule.enabled = false).await;
    county_with_visits(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let supervisor = Admin::login(&app.base, "supervisor", PASSWORD).await;
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;

    // Only county staff create; bad measures are refused with a stable code.
    let (status, _) =
        supervisor.post("/api/v1/campaigns/from-template", json!({"region_code": COUNTY, "year": 2026})).await;
    assert_eq!(status, 403);
    let (status, body) = county
        .post(
            "/api/v1/campaigns",
            json!({"name": "走访", "region_code": COUNTY, "year": 2026,
                   "milestones": [{"name": "走访", "due_on": "2026-11-10", "measure": "visits"}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "unknown_measure");
    let campaign =
        county.ok_post("/api/v1/campaigns/from-template", json!({"region_code": COUNTY, "year": 2026})).await;
    let id = campaign["id"].as_str().expect("id").to_owned();
    let collection = milestone_measuring(&campaign, "households_visited");
    let added = county
        .ok_post(
            &format!("/api/v1/campaigns/{id}/milestones"),
            json!({"name": "案件过村级公示", "starts_on": "2026-11-01", "due_on": "2026-11-30",
                   "measure": "cases_past_step:village_notice", "remind_days_before": [5]}),
        )
        .await;
    assert_eq!(added["position"], 10);
    assert_eq!(added["remind_days_before"], json!([5]));

    // Progress from the data: 东村 2 of 2 visited, 西村 1 of 2, lagging once due.
    let progress =
        supervisor.ok_get(&format!("/api/v1/campaigns/{id}/progress?milestone_id={collection}&on=2026-11-11")).await;
    let lines = progress["milestones"][0]["regions"].as_array().expect("regions");
    let line = |code: &str| lines.iter().find(|l| l["region_code"] == code).cloned().expect(code);
    assert_eq!((line(COUNTY)["done"].clone(), line(COUNTY)["total"].clone()), (json!(3), json!(4)));
    assert_eq!(line(TOWNSHIP)["share_permille"], 750);
    assert_eq!(
        (line(VILLAGE_1)["share_permille"].clone(), line(VILLAGE_1)["lagging"].clone()),
        (json!(1000), json!(false))
    );
    assert_eq!(
        (line(VILLAGE_2)["share_permille"].clone(), line(VILLAGE_2)["lagging"].clone()),
        (json!(500), json!(true))
    );
    // Halfway through the window (15 of 31 days) about half is expected: 西村 is on track then.
    let early =
        supervisor.ok_get(&format!("/api/v1/campaigns/{id}/progress?milestone_id={collection}&on=2026-10-25")).await;
    let v2 = early["milestones"][0]["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .find(|l| l["region_code"] == VILLAGE_2)
        .cloned()
        .expect("西村");
    assert_eq!((v2["expected_permille"].clone(), v2["lagging"].clone()), (json!(483), json!(false)));
    // As a spreadsheet too.
    let (status, csv) = supervisor.get_text(&format!("/api/v1/campaigns/{id}/progress?format=csv&on=2026-11-11")).await;
    assert_eq!(status, 200);
    assert!(csv.contains("西村") && csv.contains("50.0"), "{csv}");
    let (status, xlsx) =
        supervisor.get_text(&format!("/api/v1/campaigns/{id}/progress?format=xlsx&on=2026-11-11")).await;
    assert!(status == 200 && xlsx.starts_with("PK"), "an XLSX workbook");
    // The API is documented.
    let doc: Value =
        reqwest::get(format!("{}/api/openapi.json", app.base)).await.expect("openapi").json().await.expect("json");
    for path in [
        "/api/v1/campaigns",
        "/api/v1/campaigns/from-template",
        "/api/v1/campaigns/{id}/progress",
        "/api/v1/milestones/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["RegionProgress"].is_object());
    // A village team does not read campaigns.
    let (status, _) = village.get(&format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(status, 403);
    assert_eq!(supervisor.ok_get("/api/v1/campaigns").await.as_array().map(Vec::len), Some(1));

    // Every change is audited.
    let conn = &app.state.db.conn;
    let audited = conn
        .query_one_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            if backend == Backend::Postgres {
                "SELECT COUNT(*) FROM audit_log WHERE entity IN ('campaign', 'milestone') AND action = $1"
            } else {
                "SELECT COUNT(*) FROM audit_log WHERE entity IN ('campaign', 'milestone') AND action = ?"
            },
            ["create".into()],
        ))
        .await
        .expect("audit")
        .expect("a row");
    assert_eq!(audited.try_get_by_index::<i64>(0).expect("count"), 1 + 9 + 1);

    // A supervisor's phone: what the scheduler computes arrives by pull.
    let phone = app.phone("supervisor", "phone-s").await;
    let (_, cursor) = phone.pull_all(None, None).await.expect("first pull");
    run_at(&app, beijing(11, 11, 9)).await;
    let (changes, _) = pull_until(&phone, Some(cursor), |changes| {
        changes.iter().any(|c| c.entity == "campaign_progress" && c.data["region_code"] == VILLAGE_2)
    })
    .await;
    let pulled = changes
        .iter()
        .find(|c| {
            c.entity == "campaign_progress"
                && c.data["region_code"] == VILLAGE_2
                && c.data["milestone_id"] == collection.as_str()
        })
        .expect("西村's progress pulled");
    assert_eq!(pulled.data["share_percent"], 50.0);
    assert_eq!(pulled.data["lagging"], true);
    assert_eq!(pulled.data["region_name"], "西村");
    // A first pull starts with it as well.
    let (fresh, _) = phone.pull_all(None, None).await.expect("fresh pull");
    assert!(fresh.iter().any(|c| c.entity == "campaign_progress" && c.data["region_code"] == COUNTY));

    // A removed milestone's progress leaves the phone.
    let (_, cursor) = phone.pull_all(None, None).await.expect("pull");
    let path = format!("/api/v1/milestones/{collection}");
    assert_eq!(send_as(&app, "county", reqwest::Method::DELETE, &path, None).await, 204);
    let (changes, _) = pull_until(&phone, Some(cursor), |changes| {
        changes.iter().any(|c| c.entity == "campaign_progress" && c.op == jingzhun_mobile_api::wire::PullOp::Delete)
    })
    .await;
    assert!(
        changes.iter().any(|c| c.entity == "campaign_progress" && c.op == jingzhun_mobile_api::wire::PullOp::Delete)
    );
    // Closing the campaign takes the rest off the phones; the log says so.
    let (left, cursor) = {
        let (all, cursor) = phone.pull_all(None, None).await.expect("pull");
        (all.iter().filter(|c| c.entity == "campaign_progress").count(), cursor)
    };
    assert!(left > 0);
    let path = format!("/api/v1/campaigns/{id}");
    let close = || Some(json!({"status": "closed"}));
    assert_eq!(send_as(&app, "supervisor", reqwest::Method::PATCH, &path, close()).await, 403);
    assert_eq!(send_as(&app, "county", reqwest::Method::PATCH, &path, close()).await, 200);
    let is_delete = |c: &&jingzhun_mobile_api::wire::PulledChange| {
        c.entity == "campaign_progress" && c.op == jingzhun_mobile_api::wire::PullOp::Delete
    };
    let (changes, _) =
        pull_until(&phone, Some(cursor), |changes| changes.iter().filter(is_delete).count() >= left).await;
    assert_eq!(changes.iter().filter(is_delete).count(), left);
    let (fresh, _) = phone.pull_all(None, None).await.expect("fresh pull");
    assert!(!fresh.iter().any(|c| c.entity == "campaign_progress"));
    let reopen = Some(json!({"status": "active"}));
    assert_eq!(send_as(&app, "county", reqwest::Method::PATCH, &path, reopen).await, 200);

    // The digest's day also tells officers of their help-plan tasks and teams of cases
    // waiting at a step for more than a week.
    let mut officer_phone = jingzhun_mobile_api::client::Client::new(&app.base);
    let officer = officer_phone.login("officer-a", PASSWORD, "phone-a2", "test phone").await.expect("login").user;
    let (household, _) = create_household(&officer_phone, VILLAGE_1, 0).await;
    let plan = Uuid::new_v4();
    let task = |title: &str, due: &str| {
        change(
            "plan_task",
            Uuid::new_v4(),
            Op::Create,
            0,
            json!({"household_id": household, "plan_id": plan, "title": title, "due_date": due, "officer_id": officer.id}),
        )
    };
    let res = push(
        &officer_phone,
        vec![changeset(vec![
            change(
                "help_plan",
                plan,
                Op::Create,
                0,
                json!({"household_id": household, "year": 2026, "goal": "发展种植"}),
            ),
            task("办理小额信贷", "2026-11-20"),
            task("技术培训", "2026-12-07"),
            task("年底回访", "2026-12-30"),
            task("早已逾期的任务", "2026-10-01"),
        ])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    county.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    // Records are stamped with the wall clock, not the test's: date the case's last move
    // before the runs below, whatever day the suite runs on.
    app.execute_sql(&format!(
        "UPDATE procedure_case SET updated_at = '2026-11-20 01:00:00+00:00' WHERE household_id = '{household}'"
    ))
    .await;
    // The case measure: this year's one case in 东村 has not passed the village notice.
    let added_id = added["id"].as_str().expect("milestone id");
    let cases =
        supervisor.ok_get(&format!("/api/v1/campaigns/{id}/progress?milestone_id={added_id}&on=2026-11-20")).await;
    let v1 = cases["milestones"][0]["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .find(|l| l["region_code"] == VILLAGE_1)
        .cloned()
        .expect("东村");
    assert_eq!((v1["done"].clone(), v1["total"].clone()), (json!(0), json!(1)), "{v1}");
    run_at(&app, beijing(12, 5, 9)).await;
    run_at(&app, beijing(12, 6, 9)).await;
    let sent = outbox(&app).await;
    let mut officer_heard: Vec<(&str, &str)> = sent
        .iter()
        .filter(|s| s.user == "officer-a")
        .map(|s| (s.event.as_str(), s.params["task"].as_str().unwrap_or_default()))
        .collect();
    officer_heard.sort();
    assert_eq!(officer_heard, [("task_due", "技术培训"), ("task_overdue", "办理小额信贷")], "each once");
    let waiting: Vec<&Sent> = sent.iter().filter(|s| s.event == "step_waiting").collect();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!((waiting[0].user.as_str(), waiting[0].params["step"].as_str()), ("village-1", Some("application")));
    let digest = sent
        .iter()
        .find(|s| s.event == "daily_digest" && s.user == "supervisor" && s.key.ends_with("2026-12-05"))
        .expect("digest");
    assert_eq!(digest.params["cases_waiting"], 1);
    assert_eq!(
        digest.params["overdue_tasks"], 2,
        "the digest counts long-overdue tasks the officer is no longer told of"
    );
}

/// 004 §二's days, each with what 004 asks for that day. A county whose procedures are
/// not all run to their end by 11/10 lags on 11/10 (even though every village was
/// visited in time), and the reminders go out on 004's days: before 11/10, overdue the
/// day after, before the 11/11 report, the 11/28 entry and the 11/30 查漏补缺.
async fn the_004_template_measures_what_004_asks_on_004s_dates(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.schedule.enabled = false).await;
    county_with_visits(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let supervisor = Admin::login(&app.base, "supervisor", PASSWORD).await;
    let campaign =
        county.ok_post("/api/v1/campaigns/from-template", json!({"region_code": COUNTY, "year": 2026})).await;
    let laid_out: Vec<(String, String, String, i64)> = campaign["milestones"]
        .as_array()
        .expect("milestones")
        .iter()
        .map(|m| {
            (
                m["starts_on"].as_str().unwrap_or_default().to_owned(),
                m["due_on"].as_str().expect("due").to_owned(),
                m["measure"].as_str().expect("measure").to_owned(),
                m["target_percent"].as_i64().expect("target"),
            )
        })
        .collect();
    let expected = [
        ("2026-10-10", "2026-11-10", "cases_completed", 100),
        ("2026-10-10", "2026-11-10", "households_visited", 100),
        ("", "2026-11-11", "households_collected", 100),
        ("2026-11-11", "2026-11-28", "households_collected", 100),
        ("2026-11-29", "2026-11-30", "households_complete", 100),
        ("2026-12-01", "2026-12-10", "quality_problems_left", 60),
        ("2026-12-11", "2026-12-20", "quality_problems_left", 80),
        ("2026-12-21", "2026-12-31", "quality_problems_left", 100),
        ("2027-01-01", "2027-01-05", "cases_completed", 100),
    ]
    .map(|(s, d, m, t)| (s.to_owned(), d.to_owned(), m.to_owned(), t));
    assert_eq!(laid_out, expected);
    let milestones = campaign["milestones"].as_array().expect("milestones");
    // What happens outside this system is named as such, not passed off as measured.
    for i in [2, 3, 8] {
        assert!(milestones[i]["name"].as_str().expect("name").contains("系统外"), "{}", milestones[i]);
    }
    let id = campaign["id"].as_str().expect("id").to_owned();
    let mid = |i: usize| milestones[i]["id"].as_str().expect("milestone id").to_owned();
    let (procedures, report, entry, complete) = (mid(0), mid(2), mid(3), mid(4));

    // Two identifications in 东村 this year: one refused at the home visit (its procedure
    // has run to its end), one still open. 西村 has none. A household in 西村 with no
    // head is an omission for 查漏补缺.
    let phone = app.phone("officer-a", "phone-a3").await;
    let (refused, _) = create_household(&phone, VILLAGE_1, 0).await;
    let (open, _) = create_household(&phone, VILLAGE_1, 0).await;
    let headless = Uuid::new_v4();
    let res = push(
        &phone,
        vec![changeset(vec![change(
            "household",
            headless,
            Op::Create,
            0,
            json!({"region_code": VILLAGE_2, "address": "西村二组2号", "standard": "national", "kind": "general",
                   "poverty_causes": ["illness"]}),
        )])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    let officer = Admin::login(&app.base, "officer-a", PASSWORD).await;
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let mut cases = Vec::new();
    for household in [refused, open] {
        let case = county.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
        cases.push(case["id"].as_str().expect("case id").to_owned());
    }
    let signoff = |step: &str, decision: &str| json!({"step": step, "decision": decision, "comment": decision});
    officer.ok_post(&format!("/api/v1/cases/{}/signoffs", cases[0]), signoff("application", "approve")).await;
    village.ok_post(&format!("/api/v1/cases/{}/signoffs", cases[0]), signoff("home_verification", "reject")).await;

    // On 11/10 by the server's clock: 东村 has one of its two procedures done and lags,
    // and so do its township and the county; 西村, with none, does not.
    app.clock.set(beijing(11, 10, 9));
    let on_the_day = supervisor.ok_get(&format!("/api/v1/campaigns/{id}/progress?milestone_id={procedures}")).await;
    assert_eq!(on_the_day["on"], "2026-11-10");
    let east = line_of(&on_the_day, VILLAGE_1);
    assert_eq!((east["done"].clone(), east["total"].clone()), (json!(1), json!(2)), "{east}");
    assert_eq!((east["expected_permille"].clone(), east["lagging"].clone()), (json!(1000), json!(true)));
    assert_eq!(line_of(&on_the_day, TOWNSHIP)["lagging"], true);
    assert_eq!(line_of(&on_the_day, COUNTY)["lagging"], true);
    let west = line_of(&on_the_day, VILLAGE_2);
    assert_eq!((west["total"].clone(), west["lagging"].clone()), (json!(0), json!(false)));
    // Halfway through the window, half done is on track.
    let early =
        supervisor.ok_get(&format!("/api/v1/campaigns/{id}/progress?milestone_id={procedures}&on=2026-10-25")).await;
    assert_eq!(line_of(&early, VILLAGE_1)["lagging"], false);
    // 查漏补缺 sees the headless household in 西村.
    let omissions =
        supervisor.ok_get(&format!("/api/v1/campaigns/{id}/progress?milestone_id={complete}&on=2026-11-30")).await;
    let west = line_of(&omissions, VILLAGE_2);
    assert!(west["done"].as_i64() < west["total"].as_i64() && west["lagging"] == true, "{west}");

    // The reminders, run by the scheduler on the days 004 sets.
    let heard = |sent: &[Sent], event: &str, milestone: &str, user: &str| -> Vec<Value> {
        sent.iter()
            .filter(|s| s.event == event && s.key.contains(milestone) && s.user == user)
            .map(|s| s.params.clone())
            .collect()
    };
    run_at(&app, beijing(11, 7, 9)).await;
    let sent = outbox(&app).await;
    let before = heard(&sent, "milestone_approaching", &procedures, "township-1");
    assert_eq!(before.len(), 1, "three days before 11/10");
    assert_eq!((before[0]["lagging"].clone(), before[0]["days_left"].clone()), (json!("东村"), json!(3)));
    run_at(&app, beijing(11, 8, 9)).await;
    assert_eq!(heard(&outbox(&app).await, "milestone_approaching", &procedures, "township-1").len(), 1);
    run_at(&app, beijing(11, 10, 9)).await;
    assert_eq!(heard(&outbox(&app).await, "milestone_due", &procedures, "township-1").len(), 1, "on 11/10");
    run_at(&app, beijing(11, 11, 9)).await;
    let sent = outbox(&app).await;
    let escalated: BTreeSet<&str> = sent
        .iter()
        .filter(|s| s.event == "milestone_overdue" && s.key.contains(&procedures) && s.key.ends_with(":supervisor"))
        .map(|s| s.user.as_str())
        .collect();
    assert_eq!(escalated, BTreeSet::from(["supervisor", "supervisor-county"]), "overdue the day after 11/10");
    let overdue = heard(&sent, "milestone_overdue", &procedures, "supervisor");
    assert_eq!((overdue[0]["lagging"].clone(), overdue[0]["days_late"].clone()), (json!("东村"), json!(1)));
    // 11/11's summary: 东村's open case and the unvisited households keep both villages short.
    let summary = heard(&sent, "milestone_due", &report, "township-1");
    assert_eq!(summary.len(), 1, "on 11/11");
    assert_eq!(summary[0]["lagging"], "东村、西村");
    // The entry by 11/28: three days and one day before, and on the day.
    run_at(&app, beijing(11, 24, 9)).await;
    assert!(heard(&outbox(&app).await, "milestone_approaching", &entry, "township-1").is_empty());
    run_at(&app, beijing(11, 25, 9)).await;
    let sent = outbox(&app).await;
    let entry_heard = heard(&sent, "milestone_approaching", &entry, "township-1");
    assert_eq!(entry_heard.len(), 1, "three days before 11/28");
    assert_eq!(entry_heard[0]["due"], "2026-11-28");
    // 查漏补缺 by 11/30, three days before: 西村's headless household is named.
    run_at(&app, beijing(11, 27, 9)).await;
    let sent = outbox(&app).await;
    let omission = heard(&sent, "milestone_approaching", &complete, "township-1");
    assert_eq!(omission.len(), 1, "three days before 11/30");
    assert!(omission[0]["lagging"].as_str().expect("lagging").contains("西村"), "{}", omission[0]);
    assert_eq!(heard(&sent, "milestone_approaching", &entry, "township-1").len(), 2, "and one day before 11/28");
    run_at(&app, beijing(11, 28, 9)).await;
    assert_eq!(heard(&outbox(&app).await, "milestone_due", &entry, "township-1").len(), 1, "on 11/28");
}

#[tokio::test]
async fn a_bad_schedule_stops_the_server_with_a_clear_message() {
    let mut config = jingzhun::Config::defaults().expect("defaults");
    config.schedule.digest = "0 30 8 * * 1-5".into();
    config.database_url = "sqlite::memory:".into();
    let err = match jingzhun::prepare(config).await {
        Ok(_) => panic!("a bad cron expression must stop the server"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("schedule.digest") && err.contains("by name"), "{err}");
}

/// What the scheduled work costs over the demo county (2,000 households with members,
/// incomes, plans, visits and cases): `cargo test -p jingzhun-tests --test e2e
/// campaign_work_over_the_demo_county -- --ignored --nocapture`. Figures go to BENCHMARKS.md.
async fn campaign_work_over_the_demo_county(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.schedule.enabled = false).await;
    let demo = jingzhun_tools::demo::load(&app.state.db, "demo1234").await.expect("demo county");
    let county = demo.county_code.clone();
    let campaign = jingzhun::campaigns::campaign::create(
        &app.state.db,
        &jingzhun::registry::Actor::CLI,
        jingzhun::campaigns::NewCampaign {
            name: "2026年度扶贫对象动态管理".into(),
            region_code: county,
            year: 2026,
            milestones: jingzhun::campaigns::template::dynamic_adjustment(2026),
        },
    )
    .await
    .expect("campaign");
    let conn = &app.state.db.conn;
    let time = |label: &'static str, started: std::time::Instant, n: usize| {
        eprintln!("{backend:?} {label}: {:.0} ms ({n} items)", started.elapsed().as_secs_f64() * 1000.0);
    };
    for (label, at) in [
        ("progress, collection window (visits)", beijing(10, 25, 9)),
        ("progress, December (plans, cases, quality)", beijing(12, 15, 9)),
    ] {
        let started = std::time::Instant::now();
        let lines = jingzhun::campaigns::jobs::plan_progress(conn, at).await.expect("progress");
        time(label, started, lines.iter().map(|m| m.lines.len()).sum());
    }
    let started = std::time::Instant::now();
    let digest = jingzhun::campaigns::jobs::plan_digest(conn, beijing(11, 11, 9), 7).await.expect("digest");
    time("digest and step/task notices on 11-11", started, digest.len());
    let started = std::time::Instant::now();
    let ran = run_at(&app, beijing(12, 15, 9)).await;
    time("run_due on 12-15 (three jobs, written)", started, ran.len());
    assert_eq!(campaign.milestones.len(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run it by name with --ignored"]
async fn campaign_work_over_the_demo_county_sqlite() {
    campaign_work_over_the_demo_county(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run it by name with --ignored"]
async fn campaign_work_over_the_demo_county_postgres() {
    campaign_work_over_the_demo_county(Backend::Postgres).await
}
