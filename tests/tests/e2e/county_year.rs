//! A county's year on the 004 timeline (issue 11, "What it must show"), on the server's
//! clock: on 10/10 the county loads its register (a few hundred households, registered,
//! exited and removed) and starts the 004 campaign; officers' phones collect visits,
//! incomes and the 两不退 facts; the procedures run together the way a village posts
//! them (one notice per step and region): two identifications, an exit, an exit refused
//! by 两不退, a removal (错评), a removal that 002 turns into a normal exit, a birth and a
//! death; a villager objects to the village notice and the 核查组 investigates; the
//! campaign's reminders fire on 004's dates; and at 12/31 the 000 附件1 table adds up:
//! the county is the sum of its townships, and its figures are the ones the walk made.

use crate::harness::*;
use crate::on_both_backends;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

on_both_backends!(a_county_walks_its_year_on_the_004_timeline);

/// A second township with one village, so that "a county equals the sum of its
/// townships" sums more than one row.
const TOWNSHIP_2: &str = "320703002000";
const VILLAGE_3: &str = "320703002001";
const HOUSEHOLDS: u32 = 300;
/// The register's one 低保贫困户 (in 东村, 在档, three people).
const DIBAO: u32 = 21;

/// A Beijing time, as the server's clock takes it.
fn beijing(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(year, month, day, hour, 0, 0)
        .single()
        .expect("a valid time")
        .with_timezone(&Utc)
}

/// One household of the register file, as the test wrote it.
struct Registered {
    number: String,
    village: &'static str,
    status: &'static str,
    members: i64,
}

/// The register in 004 附件2's layout (docs/register-import.md), one row per member:
/// households spread over three villages in two townships; one in ten 已脱贫 (2019), one
/// in ten 已清除, the rest 在档; two or three members each; officer-a follows those of
/// the first township.
fn register() -> (String, Vec<Registered>) {
    let mut csv =
        String::from("户编号,行政区划代码,户状态,建档立卡日期,脱贫年度,帮扶责任人账号,A23,A24,A1,A2,A4,A5,A10\n");
    let mut households = Vec::new();
    for h in 0..HOUSEHOLDS {
        let village = [VILLAGE_1, VILLAGE_2, VILLAGE_3][(h % 3) as usize];
        let (status, code, year) = match h % 10 {
            8 => ("已脱贫", "exited", "2019"),
            9 => ("已清除", "removed", ""),
            _ => ("在档贫困户", "registered", ""),
        };
        let officer = if village == VILLAGE_3 { "" } else { "officer-a" };
        let members = 2 + h % 2;
        let number = format!("{village}{h:06}");
        // One 低保兜底 household in 东村, for the exit order.
        let kind = if h == DIBAO { "低保贫困户" } else { "一般贫困户" };
        for m in 0..members {
            let relation = ["户主", "配偶", "之子"][m as usize];
            // Born 1955: no other person of this test shares the birth day, so IDs are unique.
            let id = id_number("19550101", h * 3 + m);
            csv.push_str(&format!(
                "{number},{village},{status},2016-05-01,{year},{officer},国家,{kind},成员{m},男,{id},{relation},健康\n"
            ));
        }
        households.push(Registered { number, village, status: code, members: i64::from(members) });
    }
    (csv, households)
}

/// Uploads the register; a job (202) is followed to its end. The finished report.
async fn import(county: &Admin, csv: String) -> Value {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("台账.csv"));
    let (status, body) = county.post_multipart("/api/v1/imports?dry_run=false", form).await;
    if status == 200 {
        return body;
    }
    assert_eq!(status, 202, "{body}");
    let location = format!("/api/v1/imports/{}", body["id"].as_str().expect("job id"));
    for _ in 0..600 {
        let view = county.ok_get(&location).await;
        if !["queued", "checking", "writing"].contains(&view["stage"].as_str().unwrap_or_default()) {
            assert_eq!(view["stage"], "done", "{view}");
            return view["report"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the import did not end in a minute");
}

/// The ids of the stored households by household number.
async fn ids_by_number(app: &TestApp) -> BTreeMap<String, Uuid> {
    let conn = &app.state.db.conn;
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT id, household_number FROM household WHERE household_number IS NOT NULL",
        ))
        .await
        .expect("households");
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("", "id").expect("id");
            let number: String = r.try_get("", "household_number").expect("number");
            (number, id.parse().expect("uuid"))
        })
        .collect()
}

/// The signers of the test county, signed in afresh (the clock moves by weeks).
struct Team {
    village_1: Admin,
    village_3: Admin,
    township_1: Admin,
    township_2: Admin,
    county: Admin,
}

impl Team {
    async fn login(app: &TestApp) -> Team {
        let login = |user: &'static str| Admin::login(&app.base, user, PASSWORD);
        Team {
            village_1: login("village-1").await,
            village_3: login("village-3").await,
            township_1: login("township-1").await,
            township_2: login("township-2").await,
            county: login("county").await,
        }
    }

    /// Who signs `step` of a case in `village`, at the level 002/003/004 give it.
    fn signer(&self, step: &str, village: &str) -> &Admin {
        let first_township = village.starts_with(&TOWNSHIP[..9]);
        match step {
            "comparison" | "township_review" | "township_notice" if first_township => &self.township_1,
            "comparison" | "township_review" | "township_notice" => &self.township_2,
            "county_review" | "announcement" => &self.county,
            _ if village == VILLAGE_3 => &self.village_3,
            _ => &self.village_1,
        }
    }
}

/// What the walk's objection left to check.
struct Objection {
    receipt_path: String,
    findings: String,
}

/// Runs `cases` to their end together, as a county's dynamic adjustment runs: every
/// case signed at its step, and when every open case waits at a notice, one notice per
/// step and region, posted, its period run out on the server's clock, and closed (with
/// the 村民代表会决议 after a village notice). A villager objects to the first village
/// notice of 东村; the 核查组 (verifier-1) investigates it, not the village team.
async fn run_together(app: &TestApp, cases: &[String]) -> Objection {
    let mut team = Team::login(app).await;
    let mut objection: Option<(String, Objection)> = None;
    let mut investigated = false;
    for _round in 0..40 {
        let mut open = Vec::new();
        for case in cases {
            let view = team.county.ok_get(&format!("/api/v1/cases/{case}")).await;
            if view["status"] == "open" {
                let step = view["step"].as_str().expect("step").to_owned();
                open.push((case.clone(), step, view["region_code"].as_str().expect("region").to_owned()));
            }
        }
        if open.is_empty() {
            assert!(investigated, "the objection was investigated");
            return objection.expect("the village notice was objected to").1;
        }
        let is_notice = |step: &str| matches!(step, "village_notice" | "township_notice" | "announcement");
        if open.iter().any(|(_, step, _)| !is_notice(step)) {
            // In the order given: removals before additions (002 §三(五)).
            for (case, step, village) in open.iter().filter(|(_, step, _)| !is_notice(step)) {
                let now = team.county.ok_get(&format!("/api/v1/cases/{case}")).await;
                if now["step"] != step.as_str() || now["status"] != "open" {
                    continue; // one resolution passed its whole list
                }
                let (status, body) = pass_step(app, team.signer(step, village), case, step).await;
                if (status, body["error"]["code"].as_str()) == (409, Some("exit_order")) {
                    continue; // a 兜底 exit waits at the 评议 for the general ones (003 §一(一)2)
                }
                assert_eq!(status, 200, "{step} of {case}: {body}");
            }
            continue;
        }
        // Every open case waits at a notice: one per step and region.
        let posts: BTreeSet<(String, String, String)> = open
            .iter()
            .map(|(_, step, village)| (step.clone(), notice_region(step, village), village.clone()))
            .collect();
        let mut published = Vec::new();
        let mut longest = 0;
        let mut seen = BTreeSet::new();
        for (step, region, village) in posts {
            if !seen.insert((step.clone(), region.clone())) {
                continue;
            }
            let who = team.signer(&step, &village);
            let draft = who.ok_post("/api/v1/notices", json!({"step": step, "region_code": region})).await;
            let id = draft["id"].as_str().expect("notice id").to_owned();
            let notice = who.ok_post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
            longest = longest.max(notice["period_days"].as_i64().expect("period"));
            if step == "village_notice" && region == VILLAGE_1 && objection.is_none() {
                objection = Some(object(app, &notice).await);
            }
            published.push((id, step, village));
        }
        app.clock.advance(chrono::Duration::days(longest + 2));
        team = Team::login(app).await;
        if let (Some((id, o)), false) = (&objection, investigated) {
            investigate(app, &team, id, &o.findings).await;
            investigated = true;
        }
        for (id, step, village) in &published {
            // The server's notice worker closes a notice whose period has run out with no
            // objection open; whichever closes it first, it ends closed.
            let who = team.signer(step, village);
            let (status, body) = who.post(&format!("/api/v1/notices/{id}/close"), json!({})).await;
            let closed = who.ok_get(&format!("/api/v1/notices/{id}")).await;
            assert_eq!(closed["status"], "closed", "the {step} of {village} ({status}: {body}): {closed}");
        }
    }
    panic!("the cases did not end in 40 rounds");
}

/// A villager objects to the first household of 东村's village notice through its
/// public page; the objection's id and receipt.
async fn object(app: &TestApp, notice: &Value) -> (String, Objection) {
    let token = notice["url"].as_str().expect("url").rsplit('/').next().expect("token").to_owned();
    let receipt_path = object_on_page(&app.base, &token, "1", "该户在县城有门面房出租。").await;
    let verifier = Admin::login(&app.base, "verifier-1", PASSWORD).await;
    let notice_id = notice["id"].as_str().expect("id");
    let listed = verifier.ok_get(&format!("/api/v1/objections?notice_id={notice_id}")).await;
    let id = listed[0]["id"].as_str().expect("the objection is the 核查组's to investigate").to_owned();
    assert_eq!(listed[0]["assigned_level"], "verifier", "{listed}");
    let findings = "经核查组入户调查并查询不动产登记，该户无门面房，举报不属实。".to_owned();
    (id, Objection { receipt_path, findings })
}

/// 002 §三(七): "若有举报，由动态管理工作核查组组织调查核实". The village team whose
/// list it is may not answer; the 核查组 does.
async fn investigate(app: &TestApp, team: &Team, objection: &str, findings: &str) {
    let path = format!("/api/v1/objections/{objection}/answer");
    let answer = json!({"outcome": "dismissed", "findings": findings});
    let (status, body) = team.village_1.post(&path, answer.clone()).await;
    assert_eq!(status, 403, "the village team does not investigate its own list: {body}");
    let verifier = Admin::login(&app.base, "verifier-1", PASSWORD).await;
    let answered = verifier.ok_post(&path, answer).await;
    assert_eq!(answered["status"], "dismissed", "{answered}");
}

/// Pushes an update to a household from `phone` at its current version.
async fn update(app: &TestApp, phone: &Client, household: Uuid, fields: Value) {
    let version = app.admin.household(household).await["household"]["version"].as_i64().expect("version");
    let res = push(phone, vec![changeset(vec![change("household", household, Op::Update, version, fields)])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
}

/// The officer records what an exit needs: 两不愁三保障 met, the year's income above
/// the line, and 两不退's two facts (003 §五(二)) as `help_effective` says.
async fn collect_exit_facts(app: &TestApp, phone: &Client, household: Uuid, year: i32, help_effective: bool) {
    update(
        app,
        phone,
        household,
        json!({"food_clothing_secure": true, "education_secure": true, "medical_secure": true,
               "housing_secure": true, "water_secure": true,
               "long_term_stable_income": true, "help_effective": help_effective}),
    )
    .await;
    let income = json!({"household_id": household, "year": year, "wage": 20000});
    let res = push(phone, vec![changeset(vec![change("income", Uuid::new_v4(), Op::Create, 0, income)])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
}

/// One outbox e-mail: event, dedup key, recipient.
struct Sent {
    event: String,
    key: String,
    user: String,
}

async fn outbox(app: &TestApp) -> Vec<Sent> {
    let conn = &app.state.db.conn;
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT n.event AS event, n.dedup_key AS dedup_key, u.username AS username FROM notification n \
             JOIN app_user u ON u.id = n.user_id WHERE n.channel = 'email'",
        ))
        .await
        .expect("outbox");
    rows.iter()
        .map(|r| Sent {
            event: r.try_get("", "event").expect("event"),
            key: r.try_get("", "dedup_key").expect("key"),
            user: r.try_get("", "username").expect("user"),
        })
        .collect()
}

async fn run_scheduler_at(app: &TestApp, at: DateTime<Utc>) {
    app.clock.set(at);
    jingzhun::scheduler::run_due(&app.state.db, &app.state.clock, &app.state.config.schedule)
        .await
        .expect("scheduled work runs");
}

fn numbers(row: &Value) -> BTreeMap<String, i64> {
    row["values"]
        .as_object()
        .expect("values")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or_else(|| panic!("{k}: {v}"))))
        .collect()
}

async fn a_county_walks_its_year_on_the_004_timeline(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.schedule.enabled = false).await;
    seed(&app).await;
    app.admin
        .ok_post(
            "/api/v1/regions",
            json!({"code": TOWNSHIP_2, "name": "二号镇", "level": "township", "parent_code": COUNTY}),
        )
        .await;
    app.admin
        .ok_post(
            "/api/v1/regions",
            json!({"code": VILLAGE_3, "name": "南村", "level": "village", "parent_code": TOWNSHIP_2}),
        )
        .await;
    for (username, role, region) in [("village-3", "village", VILLAGE_3), ("township-2", "township", TOWNSHIP_2)] {
        app.admin
            .ok_post(
                "/api/v1/users",
                json!({"username": username, "name": username, "password": PASSWORD, "roles": [{"role": role, "region_code": region}]}),
            )
            .await;
    }
    app.execute_sql("UPDATE app_user SET email = username || '@example.cn'").await;

    // ---- 10/10: the county's first day --------------------------------------------
    let year = app.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).year();
    app.clock.set(beijing(year, 10, 10, 9));
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let campaign =
        county.ok_post("/api/v1/campaigns/from-template", json!({"region_code": COUNTY, "year": year})).await;
    let line = json!({"year": year, "region_prefix": "320703", "standard": "national", "yuan": 4000, "source": "县扶贫办通知"});
    assert_eq!(county.put("/api/v1/thresholds", line).await.0, 204);
    // The county's 低保 standard above the line: 低保兜底 households may exit (003 §五(二)).
    let policies = county.ok_get("/api/v1/rule-policies").await;
    let mut policy = policies.as_array().expect("policies")[0]["policy"].clone();
    policy["dibao_standard_fen"] = json!(4200 * 100);
    let body = json!({"region_prefix": "320703", "policy": policy, "source": "县民政局低保标准"});
    assert_eq!(county.put("/api/v1/rule-policies", body).await.0, 204);

    let (csv, households) = register();
    let report = import(&county, csv).await;
    assert_eq!(report["written"], true, "{report}");
    assert_eq!(report["households"]["created"].as_u64(), Some(u64::from(HOUSEHOLDS)), "{report}");
    let ids = ids_by_number(&app).await;
    assert_eq!(ids.len(), HOUSEHOLDS as usize);
    let id_of = |h: usize| ids[&households[h].number];
    // The poor people on the first day, by township: the register's 在档 households.
    let mut opening: BTreeMap<&str, i64> = BTreeMap::new();
    for h in households.iter().filter(|h| h.status == "registered") {
        *opening.entry(if h.village == VILLAGE_3 { TOWNSHIP_2 } else { TOWNSHIP }).or_default() += h.members;
    }

    // The households the year's procedures are about (东村 h % 3 == 0, 南村 h % 3 == 2).
    let (exits, refused_exit, wrong_registration, car_as_exit_measure, birth, death, dibao) =
        (id_of(0), id_of(3), id_of(6), id_of(12), id_of(15), id_of(2), id_of(DIBAO as usize));
    for h in [0, 3, 6, 12, 15, 2, DIBAO as usize] {
        assert_eq!(households[h].status, "registered");
    }

    // ---- 10/10–11/10: officers collect on their phones ------------------------------
    app.clock.set(beijing(year, 10, 12, 10));
    let phone = app.phone("officer-a", "phone-walk").await;
    // Visits to a few households of 东村 and 西村 only: the collection is short at 11/10.
    for h in (0..30).filter(|h| households[*h].village != VILLAGE_3) {
        let visit = change(
            "visit_log",
            Uuid::new_v4(),
            Op::Create,
            0,
            json!({"household_id": id_of(h), "visited_on": format!("{year}-10-12"), "note": "入户采集"}),
        );
        let res = push(&phone, vec![changeset(vec![visit])]).await;
        assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    }
    collect_exit_facts(&app, &phone, exits, year, true).await;
    collect_exit_facts(&app, &phone, car_as_exit_measure, year, true).await;
    // 003 §五(二) 两不退: "帮扶成效不显著的" may not exit.
    collect_exit_facts(&app, &phone, refused_exit, year, false).await;
    collect_exit_facts(&app, &phone, dibao, year, true).await;
    // Two new applicants in 东村.
    let (applicant_1, _) = create_household(&phone, VILLAGE_1, 1).await;
    let (applicant_2, _) = create_household(&phone, VILLAGE_1, 2).await;
    // A baby born into one household; a death in 南村.
    let baby = Uuid::new_v4();
    let newborn = json!({"household_id": birth, "name": "新生儿", "sex": "female",
        "id_number": id_number(&format!("{year}0901"), 901), "relation": "granddaughter", "health": "healthy"});
    let res = push(&phone, vec![changeset(vec![change("member", baby, Op::Create, 0, newborn)])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    let died = app.admin.household(death).await["member"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["relation"] != "head")
        .and_then(|m| m["id"].as_str())
        .expect("the spouse")
        .to_owned();

    // ---- The cases, filed by the village teams ------------------------------------
    let team = Team::login(&app).await;
    let file = |who: &Admin, body: Value| {
        let who = who.clone();
        async move {
            let case = who.ok_post("/api/v1/cases", body).await;
            case["id"].as_str().expect("case id").to_owned()
        }
    };
    // 002 §二(二): a car acquired after registration as the exit measure "不认定为错评，
    // 按正常脱贫程序退出": the removal is refused and the household exits instead.
    let car = |household: Uuid, acquired_on: String| json!({"household_id": household, "kind": "remove", "reason": "vehicle", "acquired_on": acquired_on, "as_exit_measure": true});
    let (status, body) = team.village_1.post("/api/v1/cases", car(car_as_exit_measure, format!("{year}-03-01"))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["fields"][0]["code"], "removal_is_normal_exit", "{body}");
    // The same car owned before the 建档立卡 date is 错评: removed.
    let removal = file(&team.village_1, car(wrong_registration, "2014-03-01".into())).await;
    let exit_1 = file(&team.village_1, json!({"household_id": exits, "kind": "exit"})).await;
    let exit_2 = file(&team.village_1, json!({"household_id": car_as_exit_measure, "kind": "exit"})).await;
    let identify_1 = file(&team.village_1, json!({"household_id": applicant_1, "kind": "identify"})).await;
    let identify_2 = file(&team.village_1, json!({"household_id": applicant_2, "kind": "identify"})).await;
    let born = file(
        &team.village_1,
        json!({"household_id": birth, "kind": "member_change", "reason": "newborn", "member_id": baby}),
    )
    .await;
    let dead = file(
        &team.village_3,
        json!({"household_id": death, "kind": "member_change", "reason": "death", "member_id": died}),
    )
    .await;
    // The exit refused by 两不退 stops at its application, with the fact named.
    let refused = file(&team.village_1, json!({"household_id": refused_exit, "kind": "exit"})).await;
    let (status, body) = team
        .village_1
        .post(&format!("/api/v1/cases/{refused}/signoffs"), json!({"step": "application", "decision": "approve"}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("exit_refused")), "{body}");
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
    assert_eq!(fields, ["help_effective"], "{body}");

    // 003 §一(一)2 "先一般贫困户，后低保政策兜底户": the 低保 household's exit, ready as it
    // is, may not pass the village's 评议 while general households' exits are before it.
    let dibao_exit = file(&team.village_1, json!({"household_id": dibao, "kind": "exit"})).await;
    for step in ["application", "home_verification"] {
        assert_eq!(pass_step(&app, &team.village_1, &dibao_exit, step).await.0, 200, "{step}");
    }
    let (status, body) = pass_step(&app, &team.village_1, &dibao_exit, "village_assessment").await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("exit_order")), "{body}");
    // The exit 两不退 refused counts as "before it" until the village ends it: its 评议
    // rejects it, and the household stays 在档.
    let (status, body) = team
        .village_1
        .post(
            &format!("/api/v1/cases/{refused}/signoffs"),
            json!({"step": "application", "decision": "reject", "comment": "帮扶成效不显著，暂不退出"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let objection =
        run_together(&app, &[removal, exit_1, exit_2, dibao_exit, identify_1, identify_2, born, dead]).await;
    let finished_on = app.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    assert!(
        finished_on < NaiveDate::from_ymd_opt(year, 11, 10).expect("date"),
        "procedures done by 11/10: {finished_on}"
    );
    // The objector reads the 核查组's findings by receipt.
    let receipt = reqwest::get(format!("{}{}", app.base, objection.receipt_path)).await.expect("receipt");
    assert!(receipt.text().await.expect("html").contains("举报不属实"));
    let status_of = |household: Uuid| {
        let admin = app.admin.clone();
        async move { admin.household(household).await["household"]["status"].as_str().expect("status").to_owned() }
    };
    assert_eq!(status_of(exits).await, "exited");
    assert_eq!(status_of(dibao).await, "exited", "after the general households");
    assert_eq!(status_of(car_as_exit_measure).await, "exited", "the car made it a normal exit");
    assert_eq!(status_of(wrong_registration).await, "removed");
    assert_eq!(status_of(refused_exit).await, "registered", "两不退 kept it in");
    assert_eq!(status_of(applicant_1).await, "registered");
    assert_eq!(status_of(applicant_2).await, "registered");

    // ---- The campaign's reminders on 004's dates ----------------------------------
    let milestones = campaign["milestones"].as_array().expect("milestones").clone();
    let campaign_id = campaign["id"].as_str().expect("id").to_owned();
    let mut due: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
    for m in &milestones {
        let on: NaiveDate = m["due_on"].as_str().expect("due").parse().expect("date");
        if on.year() == year {
            due.entry(on).or_default().push(m["id"].as_str().expect("id").to_owned());
        }
    }
    // 004: 11/10 procedures done, 11/11 汇总上报, 11/28 entry, 11/30 查漏补缺, 12/1–10 the
    // problem list, 12/11–31 correction.
    for (month, day) in [(11, 10), (11, 11), (11, 28), (11, 30), (12, 10), (12, 31)] {
        assert!(
            due.contains_key(&NaiveDate::from_ymd_opt(year, month, day).expect("date")),
            "{month}/{day} in {due:?}"
        );
    }
    let supervisor = Admin::login(&app.base, "supervisor", PASSWORD).await;
    let mut told_at_all = 0;
    for (on, ids) in &due {
        run_scheduler_at(&app, beijing(year, on.month(), on.day(), 9)).await;
        let sent = outbox(&app).await;
        for id in ids {
            let told: BTreeSet<String> = sent
                .iter()
                .filter(|s| s.event == "milestone_due" && s.key.contains(id.as_str()) && s.key.ends_with(":team"))
                .map(|s| s.user.clone())
                .collect();
            // Told: the township teams with a village short of the target that day.
            let progress =
                supervisor.ok_get(&format!("/api/v1/campaigns/{campaign_id}/progress?milestone_id={id}&on={on}")).await;
            let mut short = BTreeSet::new();
            for line in progress["milestones"][0]["regions"].as_array().expect("regions") {
                let code = line["region_code"].as_str().expect("code");
                let village = !code.ends_with("000");
                if village && line["total"].as_i64() > Some(0) && line["lagging"] == true {
                    short.insert(if code.starts_with(&TOWNSHIP[..9]) { "township-1" } else { "township-2" }.to_owned());
                }
            }
            assert_eq!(told, short, "milestone {id} due {on}: {progress}");
            told_at_all += told.len();
        }
    }
    // 11/10: the collection visited 20 of 东村's and 西村's households and none of 南村's.
    let visited = milestones.iter().find(|m| m["measure"] == "households_visited").expect("collection");
    let visited = visited["id"].as_str().expect("id");
    let told: BTreeSet<String> = outbox(&app)
        .await
        .into_iter()
        .filter(|s| s.event == "milestone_due" && s.key.contains(visited) && s.key.ends_with(":team"))
        .map(|s| s.user)
        .collect();
    assert_eq!(told, BTreeSet::from(["township-1".to_owned(), "township-2".to_owned()]));
    assert!(told_at_all >= 2);

    // ---- 12/31: 000 附件1 adds up --------------------------------------------------
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let period = format!("from={year}-10-10&to={year}-12-31");
    let table = |region: &str| format!("/api/v1/reports/dynamic_adjustment?region_code={region}&{period}&format=json");
    let whole = county.ok_get(&table(COUNTY)).await;
    let rows = whole["rows"].as_array().expect("rows");
    let codes: Vec<&str> = rows.iter().filter_map(|r| r["region_code"].as_str()).collect();
    assert_eq!(codes, [TOWNSHIP, TOWNSHIP_2]);
    let total = numbers(&whole["total"]);
    for (row, code) in rows.iter().zip([TOWNSHIP, TOWNSHIP_2]) {
        let own = county.ok_get(&table(code)).await;
        assert_eq!(numbers(row), numbers(&own["total"]), "the county's {code} row is that township's own total");
    }
    for (key, n) in &total {
        let sum: i64 = rows.iter().map(|r| numbers(r)[key]).sum();
        assert_eq!(*n, sum, "{key}: the county is the sum of its townships");
    }
    // The figures are the walk's: the register's 在档 people at the opening; in, the two
    // identified households (2 + 3) and the baby; out, three exits (2 + 2 + 3 people), one
    // removal (2) and a death.
    let township_1 = numbers(&rows[0]);
    let township_2 = numbers(&rows[1]);
    assert_eq!((township_1["baseline"], township_2["baseline"]), (opening[TOWNSHIP], opening[TOWNSHIP_2]));
    assert_eq!(total["new_identified"], 5);
    assert_eq!(total["increase_newborn"], 1);
    let exited = households[0].members + households[12].members + households[DIBAO as usize].members;
    // 附件1 has no 脱贫 column: exits are in the reconciliation printed apart under it,
    // whose county total is also the sum of its townships.
    let check = numbers(&whole["appendix"]["total"]);
    for (key, n) in &check {
        let sum: i64 = whole["appendix"]["rows"].as_array().expect("rows").iter().map(|r| numbers(r)[key]).sum();
        assert_eq!(*n, sum, "{key}: the reconciliation's county is the sum of its townships");
    }
    assert_eq!(check["exited"], exited);
    assert_eq!(total["removed"], households[6].members);
    assert_eq!((total["decrease_death"], township_2["decrease_death"]), (1, 1));
    // 附件1's closing figure: the opening plus additions minus exits and removals.
    let closing = check["baseline"] + check["in_subtotal"] + check["increase_other"]
        - check["out_subtotal"]
        - check["exited"]
        - check["decrease_other"];
    assert_eq!((check["remaining"], total["remaining"]), (closing, closing));
    assert_eq!(
        total["remaining"],
        opening[TOWNSHIP] + opening[TOWNSHIP_2] + 5 + 1 - exited - households[6].members - 1,
        "the closing figure is the walk's"
    );
    // And the store agrees, counted without the report's code.
    let stored = app
        .count(
            "SELECT COUNT(*) FROM member m JOIN household h ON h.id = m.household_id \
             WHERE m.active AND h.status = 'registered'",
        )
        .await;
    assert_eq!(total["remaining"], stored);
}
