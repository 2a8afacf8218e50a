//! Help plans (一户一策): an officer's phone records a plan with dated tasks, progress
//! and evidence, a measure, a visit and the year's income; the household's timeline,
//! the overdue tasks of a region and the plan outcome show them, to those in scope only.

use crate::harness::*;
use crate::on_both_backends;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(a_plan_recorded_on_a_phone_shows_in_timeline_overdue_tasks_and_outcome);

/// Today in Beijing, where due dates are kept.
fn beijing_today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

fn date(value: &Value) -> NaiveDate {
    NaiveDate::parse_from_str(value.as_str().expect("a date"), "%Y-%m-%d").expect("YYYY-MM-DD")
}

async fn applied(phone: &Client, changes: Vec<jingzhun_mobile_api::wire::Change>) {
    let res = push(phone, vec![changeset(changes)]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
}

async fn a_plan_recorded_on_a_phone_shows_in_timeline_overdue_tasks_and_outcome(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let mut phone = Client::new(&app.base);
    let officer = phone.login("officer-a", PASSWORD, "phone-a", "test phone").await.expect("login").user;
    // A head and two sons: three residents.
    let (household, _) = create_household(&phone, VILLAGE_1, 2).await;
    let evidence = phone
        .upload_attachment(household, "loan-contract.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 signed contract".to_vec())
        .await
        .expect("upload");

    let today = beijing_today();
    let year = today.year();
    let day = |offset: i64| (today + Duration::days(offset)).format("%Y-%m-%d").to_string();
    let (plan, overdue, done, future, measure, visit, income) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let task = |id: Uuid, title: &str, due: String| {
        change(
            "plan_task",
            id,
            Op::Create,
            0,
            json!({"household_id": household, "plan_id": plan, "title": title, "due_date": due, "officer_id": officer.id}),
        )
    };
    applied(
        &phone,
        vec![
            change(
                "help_plan",
                plan,
                Op::Create,
                0,
                json!({"household_id": household, "year": year, "goal": "发展食用菌种植，年底人均纯收入达4000元", "planned_income": 4000}),
            ),
            task(overdue, "办理小额信贷", day(-10)),
            task(done, "购买菌棒", day(-5)),
            task(future, "技术培训", day(20)),
            change(
                "help_measure",
                measure,
                Op::Create,
                0,
                json!({"household_id": household, "category": "industry", "name": "产业扶持", "year": year, "start_date": day(-30),
                       "project_name": "食用菌种植", "scale": "2亩", "funds": 5000}),
            ),
        ],
    )
    .await;
    // Later, the officer marks one task done with a note and the photo as evidence,
    // records a visit and the year's income (and last year's, for R6).
    applied(
        &phone,
        vec![
            change(
                "plan_task",
                done,
                Op::Update,
                1,
                json!({"done": true, "done_on": day(-6), "progress_note": "已购菌棒2000棒", "evidence_ids": [evidence.id]}),
            ),
            change(
                "visit_log",
                visit,
                Op::Create,
                0,
                json!({"household_id": household, "visited_on": day(-7), "note": "查看菌棚建设", "attachment_ids": [evidence.id]}),
            ),
            change(
                "income",
                income,
                Op::Create,
                0,
                json!({"household_id": household, "year": year, "wage": 6000, "business": 9000, "transfer": 1000, "business_expense": 1000}),
            ),
            change(
                "income",
                Uuid::new_v4(),
                Op::Create,
                0,
                json!({"household_id": household, "year": year - 1, "wage": 6000, "business": 2000}),
            ),
        ],
    )
    .await;

    // The identification runs its steps; the last moves the household's status.
    let signer = |name: &'static str| Admin::login(&app.base, name, PASSWORD);
    let (officer_web, village, township, county) =
        (signer("officer-a").await, signer("village-1").await, signer("township-1").await, signer("county").await);
    let case = county.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("case id").to_owned();
    for (step, who) in [
        ("application", &officer_web),
        ("home_verification", &village),
        ("comparison", &township),
        ("village_assessment", &village),
        ("village_notice", &village),
        ("township_review", &township),
        ("township_notice", &township),
        ("county_review", &county),
        ("announcement", &county),
    ] {
        let (status, body) = pass_step(&app, who, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }

    // The timeline, in date order, tells it all.
    let timeline = officer_web.ok_get(&format!("/api/v1/households/{household}/timeline")).await;
    let entries = timeline.as_array().expect("entries");
    for pair in entries.windows(2) {
        let key = |e: &Value| (date(&e["date"]), e["at"].as_str().map(str::to_owned));
        assert!(key(&pair[0]) <= key(&pair[1]), "out of order: {} then {}", pair[0], pair[1]);
    }
    let of = |kind: &str, id: &str| {
        entries.iter().find(|e| e["kind"] == kind && e["record_id"] == id).unwrap_or_else(|| panic!("{kind} {id}"))
    };
    let seen = of("visit", &visit.to_string());
    assert_eq!(seen["date"], day(-7));
    assert!(seen["detail"].as_str().is_some_and(|d| d.contains("查看菌棚建设") && d.contains("officer-a")));
    assert_eq!(seen["attachment_ids"], json!([evidence.id]));
    let late = of("task_due", &overdue.to_string());
    assert_eq!(
        (late["date"].as_str(), late["title"].as_str()),
        (Some(day(-10).as_str()), Some("任务期限：办理小额信贷"))
    );
    assert!(late["detail"].as_str().is_some_and(|d| d.contains("未完成")));
    let finished = of("task_done", &done.to_string());
    assert_eq!(finished["date"], day(-6));
    assert!(finished["detail"].as_str().is_some_and(|d| d.contains("已购菌棒2000棒") && d.contains("佐证材料1份")));
    assert_eq!(finished["attachment_ids"], json!([evidence.id]));
    of("task_due", &future.to_string());
    of("help_plan", &plan.to_string());
    assert_eq!(of("help_measure", &measure.to_string())["date"], day(-30));
    let earned = of("income", &income.to_string());
    assert_eq!(
        (earned["title"].as_str(), earned["precision"].as_str()),
        (Some(format!("{year}年度收入").as_str()), Some("year"))
    );
    of("case_opened", &case);
    let steps: Vec<&str> =
        entries.iter().filter(|e| e["kind"] == "case_signoff").map(|e| e["title"].as_str().expect("title")).collect();
    assert_eq!(steps.len(), 10, "{steps:?}");
    assert_eq!(
        (steps[0], steps[5], steps[9]),
        ("新识别：农户申请通过", "新识别：村民代表会决议通过", "新识别：公告期满无异议")
    );
    let moved = entries.iter().find(|e| e["kind"] == "status_change").expect("status change");
    assert_eq!(moved["title"], "户状态：申请中 → 在档贫困户");
    let position = |e: &Value| entries.iter().position(|x| x == e).expect("listed");
    let announced = entries.iter().find(|e| e["title"] == "新识别：公告期满无异议").expect("announcement");
    assert!(position(of("case_opened", &case)) < position(announced));
    assert!(position(announced) < position(moved), "the status moves with the last sign-off");

    // Someone else's officer may not read it.
    let stranger = signer("officer-b").await;
    for path in ["timeline", "plan-outcome"] {
        let (status, body) = stranger.get(&format!("/api/v1/households/{household}/{path}")).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("out_of_scope")), "{path}");
    }

    // The township sees the late task, with its officer and village; not the done one.
    let report = township.ok_get("/api/v1/tasks/overdue").await;
    let server_today = date(&report["today"]);
    let tasks = report["tasks"].as_array().expect("tasks");
    let ids: Vec<&str> = tasks.iter().map(|t| t["task_id"].as_str().expect("id")).collect();
    assert_eq!(ids, [overdue.to_string()], "only the undone past-due task");
    let late = &tasks[0];
    assert_eq!(late["days_overdue"], (server_today - (today - Duration::days(10))).num_days());
    assert!((10..=11).contains(&late["days_overdue"].as_i64().expect("days")));
    assert_eq!(late["household_id"], household.to_string());
    assert_eq!((late["region_code"].as_str(), late["village_name"].as_str()), (Some(VILLAGE_1), Some("东村")));
    assert_eq!((late["officer_id"].clone(), late["officer_name"].as_str()), (json!(officer.id), Some("officer-a")));
    // Up the tree and for the assigned officer too; not another village, not another officer.
    for (who, query, expected) in [
        (signer("supervisor").await, String::new(), 1),
        (officer_web.clone(), String::new(), 1),
        (township.clone(), format!("?region_code={VILLAGE_1}"), 1),
        (township.clone(), format!("?region_code={VILLAGE_2}"), 0),
        (stranger.clone(), String::new(), 0),
    ] {
        let report = who.ok_get(&format!("/api/v1/tasks/overdue{query}")).await;
        assert_eq!(report["tasks"].as_array().map(Vec::len), Some(expected), "{query}: {report}");
    }
    let (status, body) = township.get("/api/v1/tasks/overdue?region_code=999999999999").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_region")));

    // 帮扶成效: (6000 + 9000 + 1000 − 1000) ÷ 3 = 5000 yuan against 4000 planned.
    let outcome = county.ok_get(&format!("/api/v1/households/{household}/plan-outcome")).await;
    let result = &outcome["plans"][0];
    assert_eq!(result["plan_id"], plan.to_string());
    assert_eq!(result["year"], year);
    assert_eq!(result["resident_members"], 3);
    assert_eq!(result["planned_per_capita"], 4000);
    assert_eq!(result["actual_per_capita"], 5000);
    assert_eq!(result["difference"], 1000);
    assert_eq!(result["reached"], true);
    assert_eq!((result["tasks_done"].as_i64(), result["tasks_total"].as_i64()), (Some(1), Some(3)));
    assert_eq!(result["measures"][0]["project_name"], "食用菌种植");
    assert_eq!(result["measures"][0]["funds"], 5000);
    // Business income up from last year and now the main income: 发展生产脱贫.
    assert_eq!(result["suggested_main_measure"]["category"], "industry");
}
