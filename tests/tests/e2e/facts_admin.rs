//! Household facts written from the office (issue 11 item 2: every fact a rule reads is
//! recordable "through sync and the admin API"): the village team sets the facts of
//! 002's removal reasons and 000's review cases, records a vehicle, a member's post and
//! a year's income; the assessment reads them, a phone's next pull carries them, the
//! audit trail names each field. Scope, the catalogue's validators and the sign-off
//! freeze hold as they do for a push; a confirmed vehicle, town house or business lead
//! records it with the department's date, and the removal findings read it.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::{PullOp, PulledChange};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    the_village_team_records_the_facts_the_rules_read,
    the_office_writes_within_its_grant_and_the_catalogue,
    the_freeze_holds_the_office_but_not_the_village_at_its_assessment,
    a_confirmed_lead_records_the_possession_the_rules_read,
    confirmed_post_and_death_leads_set_the_members_facts,
);

async fn assessment(county: &Admin, household: Uuid) -> Value {
    county.ok_get(&format!("/api/v1/households/{household}/assessment")).await
}

/// The findings as `reason verdict`, sorted.
fn findings(assessment: &Value) -> Vec<String> {
    let all = assessment["removal_findings"].as_array().unwrap_or_else(|| panic!("{assessment}"));
    let mut out: Vec<String> = all
        .iter()
        .map(|f| format!("{} {}", f["reason"].as_str().unwrap_or("?"), f["verdict"]["type"].as_str().unwrap_or("?")))
        .collect();
    out.sort();
    out
}

fn flags(assessment: &Value) -> Vec<String> {
    let flags = assessment["review_flags"].as_array().unwrap_or_else(|| panic!("{assessment}"));
    let mut out: Vec<String> = flags.iter().map(|f| f.as_str().unwrap_or("?").to_owned()).collect();
    out.sort();
    out
}

fn error(body: &Value) -> (Option<&str>, Option<&str>) {
    (body["error"]["code"].as_str(), body["error"]["fields"][0]["field"].as_str())
}

/// A household of officer A's in village 1 with a head and two more, registered in 2015
/// as the register import stores it.
async fn registered_household(app: &TestApp) -> (Uuid, Vec<Uuid>) {
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, members) = create_household(&phone, VILLAGE_1, 2).await;
    app.execute_sql(&format!("UPDATE household SET registered_on = '2015-06-01' WHERE id = '{household}'")).await;
    (household, members)
}

fn upserted(changes: &[PulledChange], entity: &str, id: Uuid) -> Option<Value> {
    changes.iter().rev().find(|c| c.entity == entity && c.id == id && c.op == PullOp::Upsert).map(|c| c.data.clone())
}

async fn the_village_team_records_the_facts_the_rules_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let (household, members) = registered_household(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (_, cursor) = pull_until(&phone, None, |_| true).await;
    let before = assessment(&county, household).await;
    assert_eq!((findings(&before), flags(&before)), (vec![], vec![]), "{before}");

    // 002 §二(二)5 and 000 §四(一) 七, found by the village assessment.
    let facts = json!({"hires_workers_long_term": true, "absent_unreachable": true});
    let (status, stored) = village.patch(&format!("/api/v1/households/{household}"), facts.clone()).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!((&stored["hires_workers_long_term"], &stored["absent_unreachable"]), (&json!(true), &json!(true)));
    let version = stored["version"].as_i64().expect("version");
    let entries = app.count("SELECT COUNT(*) FROM audit_log").await;
    // A retry of the same body changes nothing: no new version, no audit entry.
    let (status, again) = village.patch(&format!("/api/v1/households/{household}"), facts).await;
    assert_eq!((status, again["version"].as_i64()), (200, Some(version)), "{again}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, entries, "a retry writes no audit entry");

    // 002 §二(二)3: a car of 45,000 yuan bought before registration, not as an exit measure.
    let car = Uuid::new_v4();
    let body = json!({"id": car, "kind": "motor_vehicle", "price": 45000, "owned": true,
                      "acquired_on": "2014-03-01", "as_exit_measure": false});
    let (status, vehicle) = village.post(&format!("/api/v1/households/{household}/vehicles"), body.clone()).await;
    assert_eq!(status, 201, "{vehicle}");
    assert_eq!((&vehicle["household_id"], &vehicle["price"]), (&json!(household), &json!(45000)), "{vehicle}");
    let (status, again) = village.post(&format!("/api/v1/households/{household}/vehicles"), body).await;
    assert_eq!((status, &again["version"]), (200, &json!(1)), "the same record sent again: {again}");
    // 002 §二(二)1: a son who became a civil servant after registration is a normal exit.
    let (status, son) = village
        .patch(
            &format!("/api/v1/members/{}", members[1]),
            json!({"public_servant": true, "public_servant_since": "2018-09-01"}),
        )
        .await;
    assert_eq!(status, 200, "{son}");
    // A year's income, created, then set again.
    let (status, income) =
        village.put(&format!("/api/v1/households/{household}/incomes/2026"), json!({"wage": 12000})).await;
    assert_eq!((status, &income["wage"], &income["year"]), (201, &json!(12000), &json!(2026)), "{income}");
    let income_id: Uuid = income["id"].as_str().expect("id").parse().expect("uuid");
    let (status, income) =
        village.put(&format!("/api/v1/households/{household}/incomes/2026"), json!({"wage": 12500})).await;
    assert_eq!((status, &income["wage"], &income["id"]), (200, &json!(12500), &json!(income_id)), "{income}");
    assert_eq!(app.admin.household(household).await["income"].as_array().map(Vec::len), Some(1));

    let after = assessment(&county, household).await;
    assert_eq!(
        findings(&after),
        ["hires_workers mis_registration", "public_servant normal_exit", "vehicle mis_registration"],
        "{after}"
    );
    assert_eq!(
        flags(&after),
        ["absent_nominal_or_split", "business_or_employer", "public_employee", "vehicles_or_machinery"],
        "{after}"
    );

    // The officer's phone gets each record on its next pull.
    let (pulled, _) = pull_until(&phone, Some(cursor), |all| {
        upserted(all, "vehicle", car).is_some() && upserted(all, "income", income_id).is_some()
    })
    .await;
    let h = upserted(&pulled, "household", household).expect("the household is pulled");
    assert_eq!(h["hires_workers_long_term"], true);
    assert_eq!(upserted(&pulled, "member", members[1]).expect("the son")["public_servant"], true);
    assert_eq!(upserted(&pulled, "vehicle", car).expect("the car")["acquired_on"], "2014-03-01");
    assert_eq!(upserted(&pulled, "income", income_id).expect("the income")["wage"], 12500);

    // The trail names each field, who changed it and from what.
    let trail = county.ok_get(&format!("/api/v1/households/{household}/audit")).await;
    let trail = trail.as_array().expect("entries");
    for field in ["hires_workers_long_term", "absent_unreachable", "public_servant", "public_servant_since", "wage"] {
        let entries: Vec<&Value> = trail.iter().filter(|e| e["field"] == field && e["action"] == "update").collect();
        assert_eq!(entries.len(), 1, "{field}: {trail:?}");
    }
    let absent = trail.iter().find(|e| e["field"] == "absent_unreachable").expect("entry");
    assert_eq!((&absent["old_value"], &absent["new_value"]), (&json!("null"), &json!("true")), "{absent}");
    assert!(trail.iter().any(|e| e["action"] == "create" && e["entity"] == "vehicle" && e["entity_id"] == json!(car)));

    // The car sold: deleted, its finding and flag go; deleting again is no error.
    let (status, _) = village.delete(&format!("/api/v1/households/{household}/vehicles/{car}")).await;
    assert_eq!(status, 204);
    let (status, _) = village.delete(&format!("/api/v1/households/{household}/vehicles/{car}")).await;
    assert_eq!(status, 204);
    let last = assessment(&county, household).await;
    assert!(!findings(&last).iter().any(|f| f.starts_with("vehicle")), "{last}");
    assert!(!flags(&last).contains(&"vehicles_or_machinery".to_owned()), "{last}");
}

async fn the_office_writes_within_its_grant_and_the_catalogue(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    app.admin
        .ok_post(
            "/api/v1/regions",
            json!({"code": "320703002000", "name": "二号镇", "level": "township", "parent_code": COUNTY}),
        )
        .await;
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "township-2", "name": "township-2", "password": PASSWORD,
                   "roles": [{"role": "township", "region_code": "320703002000"}]}),
        )
        .await;
    let (household, members) = registered_household(&app).await;
    let path = format!("/api/v1/households/{household}");
    let fact = json!({"nominal_hukou": true});

    // A township of another township, and the household's own officer (who uses sync).
    for who in ["township-2", "officer-a", "supervisor"] {
        let (status, body) = Admin::login(&app.base, who, PASSWORD).await.patch(&path, fact.clone()).await;
        assert_eq!((status, error(&body).0), (403, Some("out_of_scope")), "{who}: {body}");
    }
    let (status, body) = Admin::login(&app.base, "township-2", PASSWORD)
        .await
        .post(
            &format!("{path}/vehicles"),
            json!({"kind": "boat", "price": 50000, "owned": true, "as_exit_measure": false}),
        )
        .await;
    assert_eq!((status, error(&body).0), (403, Some("out_of_scope")), "{body}");
    assert_eq!(app.admin.household(household).await["household"]["nominal_hukou"], Value::Null);
    assert_eq!(app.count("SELECT COUNT(*) FROM household_vehicle").await, 0);

    // The catalogue's validators, each refusal naming its field; nothing is written.
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let version = app.admin.household(household).await["household"]["version"].clone();
    for (body, code, field) in [
        (json!({"nominal_hukou": "yes"}), "invalid_type", "nominal_hukou"),
        (json!({"nominal_hukou": true, "risks": ["no_such_risk"]}), "unknown_code", "risks"),
        (json!({"status": "exited"}), "read_only_field", "status"),
        (json!({"region_code": VILLAGE_2}), "read_only_field", "region_code"),
        (json!({"no_such_field": 1}), "unknown_field", "no_such_field"),
    ] {
        let (status, answer) = village.patch(&path, body.clone()).await;
        assert_eq!((status, error(&answer)), (422, (Some(code), Some(field))), "{body}: {answer}");
    }
    assert_eq!(app.admin.household(household).await["household"]["version"], version, "nothing written");
    let (status, answer) = village
        .post(&format!("{path}/vehicles"), json!({"kind": "motor_vehicle", "price": 50000, "owned": true}))
        .await;
    assert_eq!((status, error(&answer)), (422, (Some("required"), Some("as_exit_measure"))), "{answer}");
    let (status, answer) = village
        .post(
            &format!("{path}/vehicles"),
            json!({"kind": "tank", "price": 50000, "owned": true, "as_exit_measure": false}),
        )
        .await;
    assert_eq!((status, error(&answer)), (422, (Some("unknown_code"), Some("kind"))), "{answer}");
    let (status, answer) = village.put(&format!("{path}/incomes/2026"), json!({"wage": -5})).await;
    assert_eq!((status, error(&answer)), (422, (Some("invalid_money"), Some("wage"))), "{answer}");
    let (status, answer) = village.put(&format!("{path}/incomes/2026"), json!({"year": 2025, "wage": 5})).await;
    assert_eq!((status, error(&answer)), (422, (Some("read_only_field"), Some("year"))), "{answer}");
    // Who a person is changes through sync or a member-change procedure.
    let (status, answer) = village.patch(&format!("/api/v1/members/{}", members[1]), json!({"relation": "head"})).await;
    assert_eq!((status, error(&answer)), (422, (Some("not_editable_here"), Some("relation"))), "{answer}");
    // Unknown records.
    let (status, _) = village.patch(&format!("/api/v1/households/{}", Uuid::new_v4()), fact.clone()).await;
    assert_eq!(status, 404);
    let (status, _) = village.patch(&format!("/api/v1/members/{}", Uuid::new_v4()), json!({"deceased": true})).await;
    assert_eq!(status, 404);
    // The county writes anywhere in its county.
    let (status, stored) = Admin::login(&app.base, "county", PASSWORD).await.patch(&path, fact).await;
    assert_eq!((status, &stored["nominal_hukou"]), (200, &json!(true)), "{stored}");
}

async fn sign(who: &Admin, case: &str, step: &str) -> (u16, Value) {
    who.post(&format!("/api/v1/cases/{case}/signoffs"), json!({"step": step, "decision": "approve"})).await
}

async fn the_freeze_holds_the_office_but_not_the_village_at_its_assessment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let [officer, village_admin, township_admin, _] = users(&app).await;
    let (household, _) = registered_household(&app).await;
    let case = village_admin.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("id").to_owned();
    for (step, who) in [("application", &officer), ("home_verification", &officer), ("comparison", &township_admin)] {
        assert_eq!(sign(who, &case, step).await.0, 200, "{step}");
    }
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;
    let path = format!("/api/v1/households/{household}");
    // The township signed the comparison; at its own 民主评议 the village team corrects.
    let (status, body) = village.patch(&path, json!({"able_but_idle": true})).await;
    assert_eq!(status, 200, "the village team corrects at its assessment: {body}");
    let (status, body) = village
        .post(&format!("{path}/businesses"), json!({"name": "小卖部", "operating": true, "as_exit_measure": false}))
        .await;
    assert_eq!(status, 201, "{body}");
    let shop = body["id"].as_str().expect("id").to_owned();
    // Past its assessment the township's freeze holds the village again: 409, nothing written.
    assert_eq!(sign(&village_admin, &case, "village_assessment").await.0, 200);
    let (status, body) = village.patch(&path, json!({"able_but_idle": false})).await;
    assert_eq!((status, error(&body).0), (409, Some("case_frozen")), "{body}");
    let (status, body) = village.delete(&format!("{path}/businesses/{shop}")).await;
    assert_eq!((status, error(&body).0), (409, Some("case_frozen")), "{body}");
    let (status, body) = village.patch(&format!("{path}/businesses/{shop}"), json!({"operating": false})).await;
    assert_eq!((status, error(&body).0), (409, Some("case_frozen")), "{body}");
    let stored = app.admin.household(household).await;
    assert_eq!(stored["household"]["able_but_idle"], true);
    assert_eq!(stored["business"][0]["operating"], true);
    // The township, whose level signed, may.
    let (status, body) = township.patch(&path, json!({"able_but_idle": false})).await;
    assert_eq!((status, &body["able_but_idle"]), (200, &json!(false)), "{body}");
}

async fn upload(who: &Admin, source: &str, csv: String) -> Value {
    let form = reqwest::multipart::Form::new()
        .text("source", source.to_owned())
        .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("list.csv"));
    let (status, report) = who.post_multipart("/api/v1/comparisons", form).await;
    assert_eq!(status, 200, "{report}");
    report
}

async fn a_confirmed_lead_records_the_possession_the_rules_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let (household, _) = registered_household(&app).await;
    let view = app.admin.household(household).await;
    let members = view["member"].as_array().expect("members");
    let id_of = |relation: &str| {
        members.iter().find(|m| m["relation"] == relation).expect("member")["id_number"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let (head, son) = (id_of("head"), id_of("son"));
    // 公安交警's list: the head's car registered before 建档立卡, the son's after it.
    let csv = format!("姓名,身份证号码,登记日期,价格\n户主,{head},2014-01-10,85000\n儿子,{son},2019/5/1,\"36,000\"\n");
    let report = upload(&county, "vehicles", csv).await;
    let leads = report["leads"].as_array().expect("leads");
    let lead_of = |after: bool| {
        leads.iter().find(|l| l["after_registration"] == after).expect("lead")["id"].as_str().expect("id").to_owned()
    };
    let (before_lead, after_lead) = (lead_of(false), lead_of(true));
    let decide = |lead: &str| format!("/api/v1/comparisons/leads/{lead}/decide");

    // Whether it served as the exit measure the list cannot say: asked, and nothing is
    // decided without it (one transaction).
    let (status, body) =
        county.post(&decide(&before_lead), json!({"decision": "confirm", "note": "入户核实属实"})).await;
    assert_eq!((status, error(&body)), (422, (Some("required"), Some("as_exit_measure"))), "{body}");
    let open = county.ok_get(&format!("/api/v1/comparisons/leads?household_id={household}&status=open")).await;
    assert_eq!(open.as_array().map(Vec::len), Some(2), "the lead stays open: {open}");
    assert_eq!(app.count("SELECT COUNT(*) FROM household_vehicle").await, 0);

    let (status, body) = county
        .post(
            &decide(&before_lead),
            json!({"decision": "confirm", "note": "入户核实属实", "record": {"as_exit_measure": false}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["entity"], "vehicle");
    let car = &body["record"];
    assert_eq!(
        (&car["kind"], &car["price"], &car["owned"], &car["acquired_on"], &car["household_id"]),
        (&json!("motor_vehicle"), &json!(85000), &json!(true), &json!("2014-01-10"), &json!(household)),
        "the department's date and price: {car}"
    );
    let (status, body) = county
        .post(
            &decide(&after_lead),
            json!({"decision": "confirm", "note": "购车系发展运输脱贫", "record": {"as_exit_measure": true}}),
        )
        .await;
    assert_eq!((status, &body["record"]["price"]), (200, &json!(36000)), "{body}");
    // Decided once: a second confirmation is a conflict and records nothing more.
    let (status, _) = county
        .post(&decide(&after_lead), json!({"decision": "confirm", "note": "再次", "record": {"as_exit_measure": true}}))
        .await;
    assert_eq!(status, 409);
    assert_eq!(app.admin.household(household).await["vehicle"].as_array().map(Vec::len), Some(2));

    let found = assessment(&county, household).await;
    assert_eq!(findings(&found), ["vehicle mis_registration", "vehicle normal_exit"], "{found}");
    assert_eq!(flags(&found), ["vehicles_or_machinery"], "{found}");
    // A dismissed lead records nothing.
    let report =
        upload(&county, "vehicles", format!("姓名,身份证号码,登记日期,价格\n户主,{head},2020-01-01,90000\n")).await;
    let lead = report["leads"][0]["id"].as_str().expect("lead").to_owned();
    let (status, _) = county.post(&decide(&lead), json!({"decision": "dismiss", "note": "已转卖"})).await;
    assert_eq!(status, 204);
    assert_eq!(app.admin.household(household).await["vehicle"].as_array().map(Vec::len), Some(2));

    // 住建's list of town houses and 市场监管's of businesses: what the list cannot say
    // (the kind of house, a resettlement, whether the business operates) is asked.
    let report = upload(&county, "urban_property", format!("姓名,身份证号码,登记日期\n户主,{head},2012-08-08\n")).await;
    let flat = report["leads"][0]["id"].as_str().expect("lead").to_owned();
    let (status, body) = county
        .post(
            &decide(&flat),
            json!({"decision": "confirm", "note": "县城有商品房", "record": {"as_exit_measure": false}}),
        )
        .await;
    assert_eq!((status, error(&body)), (422, (Some("required"), Some("kind"))), "{body}");
    let record = json!({"kind": "commodity_housing", "as_exit_measure": false, "relocation_resettlement": false});
    let (status, body) =
        county.post(&decide(&flat), json!({"decision": "confirm", "note": "县城有商品房", "record": record})).await;
    assert_eq!(
        (status, &body["entity"], &body["record"]["acquired_on"]),
        (200, &json!("urban_property"), &json!("2012-08-08")),
        "{body}"
    );
    let report = upload(&county, "business", format!("姓名,身份证号码,成立日期\n户主,{head},2010-03-01\n")).await;
    let shop = report["leads"][0]["id"].as_str().expect("lead").to_owned();
    let record = json!({"operating": true, "as_exit_measure": false});
    let (status, body) =
        county.post(&decide(&shop), json!({"decision": "confirm", "note": "个体工商户在营", "record": record})).await;
    assert_eq!(
        (status, &body["entity"], &body["record"]["registered_on"]),
        (200, &json!("business"), &json!("2010-03-01")),
        "{body}"
    );
    let found = assessment(&county, household).await;
    assert_eq!(
        findings(&found),
        [
            "registered_business mis_registration",
            "urban_property mis_registration",
            "vehicle mis_registration",
            "vehicle normal_exit"
        ],
        "{found}"
    );
    assert_eq!(
        flags(&found),
        ["business_or_employer", "urban_housing_or_renovation", "vehicles_or_machinery"],
        "{found}"
    );
}

async fn confirmed_post_and_death_leads_set_the_members_facts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let (household, members) = registered_household(&app).await;
    let view = app.admin.household(household).await;
    let id_number = |member: Uuid| {
        let all = view["member"].as_array().expect("members");
        all.iter().find(|m| m["id"] == json!(member)).expect("member")["id_number"].as_str().expect("id").to_owned()
    };
    let decide = |lead: &str| format!("/api/v1/comparisons/leads/{lead}/decide");
    // 编办's list: the first son took a post paid from public funds after 建档立卡, which
    // 002 §二(二)1 says is a normal exit, not a mis-registration.
    let son = id_number(members[1]);
    let report = upload(&county, "public_servants", format!("姓名,身份证号码,入职日期\n儿子,{son},2018-09-01\n")).await;
    let lead = report["leads"][0]["id"].as_str().expect("lead").to_owned();
    let (status, body) = county.post(&decide(&lead), json!({"decision": "confirm", "note": "县人社局在编"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((&body["entity"], &body["record"]["id"]), (&json!("member"), &json!(members[1])), "{body}");
    assert_eq!(
        (&body["record"]["public_servant"], &body["record"]["public_servant_since"]),
        (&json!(true), &json!("2018-09-01"))
    );
    // 民政's death register names the second son: 002 §二(二)9 removes the person.
    let other = id_number(members[2]);
    let report = upload(&county, "deaths", format!("姓名,身份证号码,死亡日期\n儿子,{other},2026-10-01\n")).await;
    let lead = report["leads"][0]["id"].as_str().expect("lead").to_owned();
    let (status, body) = county.post(&decide(&lead), json!({"decision": "confirm", "note": "村委会证明已故"})).await;
    assert_eq!((status, &body["record"]["deceased"]), (200, &json!(true)), "{body}");

    let found = assessment(&county, household).await;
    assert_eq!(findings(&found), ["dead_missing_or_separate remove_member", "public_servant normal_exit"], "{found}");
    assert_eq!(flags(&found), ["public_employee"], "{found}");
    let trail = county.ok_get(&format!("/api/v1/households/{household}/audit")).await;
    let fields: Vec<&str> = trail
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "update" && e["entity"] == "member")
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["public_servant", "public_servant_since", "deceased"], "each field audited");
}
