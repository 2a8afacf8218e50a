//! Rules that fire from stored data (issue 11 item 2, review gaps 11, 14 and 8): the facts
//! of 002 §二(二)'s removal reasons and their exceptions, 000 §四(一)'s eight review cases,
//! the rigid expenses and the ecological-post wage, 002's schooling burden and 004's
//! 突发事件 risk, recorded from a phone, come back from `/households/{id}/assessment`
//! as the seeds read them; and whatever the catalogue accepts for them, the database
//! stores, on both backends.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    review_flags_and_removal_findings_fire_from_recorded_facts,
    rigid_expenses_and_the_ecological_post_wage_count_as_the_seeds_say,
    the_schooling_burden_answers_kunmings_identification_test,
    an_emergency_is_a_risk_of_its_own,
    what_the_catalogue_accepts_the_database_stores,
);

const YEAR: i64 = 2026;

async fn apply(phone: &Client, changes: Vec<jingzhun_mobile_api::wire::Change>) {
    let res = push(phone, vec![changeset(changes)]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
}

/// The stored record `id` of `entity` under `household`, as the admin API shows it.
async fn stored(app: &TestApp, household: Uuid, entity: &str, id: Uuid) -> Value {
    let view = app.admin.household(household).await;
    if entity == "household" {
        return view["household"].clone();
    }
    let list = view[entity].as_array().unwrap_or_else(|| panic!("{entity}: {view}"));
    list.iter().find(|r| r["id"] == id.to_string()).cloned().unwrap_or_else(|| panic!("{entity} {id}: {view}"))
}

/// Updates record `id` of `entity` under `household` from the phone, on its stored version.
async fn update(app: &TestApp, phone: &Client, household: Uuid, entity: &str, id: Uuid, fields: Value) {
    let version = stored(app, household, entity, id).await["version"].as_i64().expect("version");
    apply(phone, vec![change(entity, id, Op::Update, version, fields)]).await;
}

async fn create(phone: &Client, entity: &str, fields: Value) -> Uuid {
    let id = Uuid::new_v4();
    apply(phone, vec![change(entity, id, Op::Create, 0, fields)]).await;
    id
}

async fn assessment(county: &Admin, household: Uuid) -> Value {
    county.ok_get(&format!("/api/v1/households/{household}/assessment")).await
}

/// The findings as `reason verdict`, sorted: members and records come back in storage
/// order, which is not the order they were recorded in.
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
    flags.iter().map(|f| f.as_str().unwrap_or("?").to_owned()).collect()
}

async fn set_line(county: &Admin, standard: &str, yuan: i64) {
    let line =
        json!({"year": YEAR, "region_prefix": "320703", "standard": standard, "yuan": yuan, "source": "县扶贫办通知"});
    let (status, body) = county.put("/api/v1/thresholds", line).await;
    assert_eq!(status, 204, "{body}");
}

async fn review_flags_and_removal_findings_fire_from_recorded_facts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let phone = app.phone("officer-a", "phone-facts").await;
    let (household, members) = create_household(&phone, VILLAGE_1, 2).await;
    // 建档立卡 in 2015, as the register import stores it.
    app.execute_sql(&format!("UPDATE household SET registered_on = '2015-06-01' WHERE id = '{household}'")).await;

    // Nothing recorded: nothing found, nothing flagged (what every household used to show).
    let before = assessment(&county, household).await;
    assert_eq!((findings(&before), flags(&before)), (vec![], vec![]), "{before}");

    // 000 §四(一) 二, 六, 七, 八 and 002 §二(二) 5 and 8, found at the home visit.
    update(
        &app,
        &phone,
        household,
        "household",
        household,
        json!({"living_costs_clearly_high": true, "absent_unreachable": true, "able_but_idle": true,
               "wedding_debt": true, "hires_workers_long_term": true, "nominal_hukou": true,
               "favouritism_or_falsification": false}),
    )
    .await;
    // 002 §二(二)1: "建档立卡后有家庭成员考入财政供养系列的，不认定为错评，按正常脱贫程序退出".
    update(
        &app,
        &phone,
        household,
        "member",
        members[1],
        json!({"public_servant": true, "public_servant_since": "2018-09-01"}),
    )
    .await;
    // 002 §二(二)2: a cadre since before registration is 错评.
    update(
        &app,
        &phone,
        household,
        "member",
        members[2],
        json!({"village_cadre": true, "village_cadre_since": "2014-01-01"}),
    )
    .await;
    // 002 §二(二)3 "拥有价格3万元以上机动车": bought before registration, not as an exit
    // measure, is 错评; one bought after it "并作为脱贫措施" is a normal exit; a tractor
    // only used is a review case (000 三 使用) but no removal.
    let car = json!({"household_id": household, "kind": "motor_vehicle", "price": 45000, "owned": true,
                     "acquired_on": "2014-03-01", "as_exit_measure": false});
    create(&phone, "vehicle", car).await;
    let van = json!({"household_id": household, "kind": "motor_vehicle", "price": 30000, "owned": true,
                     "acquired_on": "2019-05-01", "as_exit_measure": true});
    create(&phone, "vehicle", van).await;
    let tractor = json!({"household_id": household, "kind": "large_farm_machinery", "price": 80000, "owned": false,
                         "as_exit_measure": false});
    create(&phone, "vehicle", tractor).await;
    // 002 §二(二)4: "易地搬迁进城安置户" is never 错评; the bought flat is 000's case 一.
    let flat = json!({"household_id": household, "kind": "commodity_housing", "acquired_on": "2013-01-01",
                      "as_exit_measure": false, "relocation_resettlement": true});
    create(&phone, "urban_property", flat).await;
    // 002 §二(二)6: registered after 建档立卡 as the exit measure, but the date is unrecorded.
    let shop = json!({"household_id": household, "name": "农家乐", "operating": true, "as_exit_measure": true});
    create(&phone, "business", shop).await;

    let after = assessment(&county, household).await;
    assert_eq!(
        flags(&after),
        [
            "urban_housing_or_renovation",
            "high_living_costs",
            "vehicles_or_machinery",
            "business_or_employer",
            "public_employee",
            "absent_nominal_or_split",
            "idle_able_bodied",
            "wedding_debt",
        ],
        "all eight cases of 000 §四(一), each from its own recorded fact: {after}"
    );
    assert_eq!(
        findings(&after),
        [
            "hires_workers mis_registration",
            "nominal_hukou mis_registration",
            "public_servant normal_exit",
            "registered_business undetermined",
            "urban_property normal_exit",
            "vehicle mis_registration",
            "vehicle normal_exit",
            "village_cadre mis_registration",
        ],
        "{after}"
    );
    let business =
        after["removal_findings"].as_array().expect("findings").iter().find(|f| f["reason"] == "registered_business");
    assert_eq!(business.expect("business")["verdict"]["value"]["missing"], "business.registered");

    // 002 §二(二)9 "死亡人员、失踪人员、与户主不共享开支或收入的人员": the person leaves,
    // as 004 附件4's 死亡 / 失联.
    update(&app, &phone, household, "member", members[1], json!({"deceased": true})).await;
    update(&app, &phone, household, "member", members[2], json!({"missing": true})).await;
    let last = assessment(&county, household).await;
    let mut persons: Vec<(Value, Value)> = last["removal_findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["reason"] == "dead_missing_or_separate")
        .map(|f| (f["verdict"]["type"].clone(), f["verdict"]["value"]["decrease"].clone()))
        .collect();
    persons.sort_by_key(|p| p.1.to_string());
    assert_eq!(
        persons,
        [(json!("remove_member"), json!("death")), (json!("remove_member"), json!("missing"))],
        "one finding per person, none for the head: {last}"
    );

    // The car sold (deleted from the phone): its finding goes with it.
    let view = app.admin.household(household).await;
    let sold = view["vehicle"].as_array().expect("vehicles").iter().find(|v| v["acquired_on"] == "2014-03-01").cloned();
    let sold = sold.expect("the car is listed with the household");
    let id: Uuid = sold["id"].as_str().expect("id").parse().expect("uuid");
    apply(&phone, vec![change("vehicle", id, Op::Delete, sold["version"].as_i64().expect("version"), json!({}))]).await;
    let sold_off = assessment(&county, household).await;
    let vehicles: Vec<String> = findings(&sold_off).into_iter().filter(|f| f.starts_with("vehicle ")).collect();
    assert_eq!(vehicles, ["vehicle normal_exit"], "{sold_off}");
}

async fn rigid_expenses_and_the_ecological_post_wage_count_as_the_seeds_say(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    set_line(&county, "national", 4000).await;
    let phone = app.phone("officer-a", "phone-income").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    let last_year = json!({"household_id": household, "year": YEAR - 1, "wage": 3000, "education_expense": 4000});
    create(&phone, "income", last_year).await;
    let this_year = create(&phone, "income", json!({"household_id": household, "year": YEAR, "wage": 9000})).await;
    let categories = |a: &Value| a["main_measure"]["matched"].clone();

    // Without the 公益岗 part, 9,000 yuan of wage is ordinary wage: 促进就业.
    let plain = assessment(&county, household).await;
    assert_eq!(categories(&plain), json!(["employment"]), "{plain}");
    let per_capita = plain["net_income"]["per_capita_fen"].clone();
    assert_eq!(per_capita, json!(900_000));

    // 001 附件2 2: "工资性收入（从事生态保护公益性岗位获得的收入除外)"; 5: "从事生态保护
    // 公益性岗位收入和生态补偿金收入为家庭主要收入". 000 §四(一): 刚性支出 "不作为年人均纯收入
    // 计算内容，但是可以作为贫困状况综合评定的重要依据".
    update(
        &app,
        &phone,
        household,
        "income",
        this_year,
        json!({"ecological_post_wage": 6000, "education_expense": 1000, "medical_expense": 5000, "debt": 20000}),
    )
    .await;
    let counted = assessment(&county, household).await;
    assert_eq!(categories(&counted), json!(["ecological_compensation"]), "{counted}");
    assert_eq!(counted["net_income"]["per_capita_fen"], per_capita, "rigid expenses are not subtracted");
    assert_eq!(counted["net_income"]["education_expense_fen"], 100_000);
    assert_eq!(counted["net_income"]["medical_expense_fen"], 500_000);

    // 001 附件2 4: 主要致贫原因"因学" and 教育支出 down from last year's 4,000 yuan.
    update(&app, &phone, household, "household", household, json!({"poverty_causes": ["schooling"]})).await;
    let schooling = assessment(&county, household).await;
    assert_eq!(categories(&schooling), json!(["education", "ecological_compensation"]), "{schooling}");

    // The officer ticks the 主导帮扶措施 (001 §三); the suggestion stays a suggestion.
    update(&app, &phone, household, "household", household, json!({"main_measure": "education"})).await;
    assert_eq!(app.admin.household(household).await["household"]["main_measure"], "education");
}

async fn the_schooling_burden_answers_kunmings_identification_test(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    set_line(&county, "national", 4000).await;
    // 002 §二(一)'s test for this county.
    let policies = county.ok_get("/api/v1/rule-policies").await;
    let mut policy = policies.as_array().expect("list")[0]["policy"].clone();
    policy["identification"] = json!("income_and_hardship");
    let body = json!({"region_prefix": "320703", "policy": policy, "source": "002 §二(一)"});
    assert_eq!(county.put("/api/v1/rule-policies", body).await.0, 204);

    // Below the line, healthy, no dangerous house, a son at 普通高中.
    let phone = app.phone("officer-a", "phone-school").await;
    let (household, members) = create_household(&phone, VILLAGE_1, 1).await;
    update(&app, &phone, household, "household", household, json!({"housing_grade": "none"})).await;
    update(&app, &phone, household, "member", members[1], json!({"school_status": "senior_secondary"})).await;
    create(&phone, "income", json!({"household_id": household, "year": YEAR, "wage": 4000})).await;
    let answer = |a: &Value| {
        let criteria = a["identification"]["criteria"].as_array().unwrap_or_else(|| panic!("{a}"));
        let burden = criteria.iter().find(|c| c["criterion"] == "schooling_burden").expect("criterion");
        (burden["answer"].clone(), a["identification"]["eligible"].clone())
    };
    // "有义务教育阶段外就读学生且经济负担较重": the burden unrecorded leaves it unknown.
    assert_eq!(answer(&assessment(&county, household).await), (json!("unknown"), json!("unknown")));
    update(&app, &phone, household, "household", household, json!({"schooling_burden_heavy": true})).await;
    assert_eq!(answer(&assessment(&county, household).await), (json!("yes"), json!("yes")));
    update(&app, &phone, household, "household", household, json!({"schooling_burden_heavy": false})).await;
    assert_eq!(answer(&assessment(&county, household).await), (json!("no"), json!("no")));
}

async fn an_emergency_is_a_risk_of_its_own(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    set_line(&county, "national", 4000).await;
    set_line(&county, "provincial", 4000).await;
    let phone = app.phone("officer-a", "phone-risk").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    // Just above the line, no cause that is a risk.
    update(&app, &phone, household, "household", household, json!({"poverty_causes": ["lack_of_skills"]})).await;
    create(&phone, "income", json!({"household_id": household, "year": YEAR, "wage": 4500})).await;
    let risks = |a: &Value| a["edge"]["risks"].clone();
    assert_eq!(risks(&assessment(&county, household).await), json!([]));
    // 004 §三(四): "因病、因灾、因学、突发事件等原因" — 突发事件 is no poverty cause, so it has its own field.
    update(&app, &phone, household, "household", household, json!({"risks": ["emergency"]})).await;
    let edge = assessment(&county, household).await;
    assert_eq!(risks(&edge), json!(["emergency"]), "{edge}");
    assert!(edge["edge"]["list"].is_string(), "above the line, under the ceiling, with a risk: {edge}");
}

async fn what_the_catalogue_accepts_the_database_stores(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-limits").await;
    let (household, members) = create_household(&phone, VILLAGE_1, 0).await;
    let most = 10_000_000_000_i64; // yuan: the catalogue's largest amount
    let long = |n: usize| "帮".repeat(n);
    let yes = |names: &[&str]| Value::Object(names.iter().map(|n| ((*n).to_owned(), json!(true))).collect());
    let mut household_facts = yes(&[
        "schooling_burden_heavy",
        "hires_workers_long_term",
        "split_or_merged_for_benefits",
        "nominal_hukou",
        "favouritism_or_falsification",
        "high_standard_renovation",
        "living_costs_clearly_high",
        "absent_unreachable",
        "split_household",
        "able_but_idle",
        "wedding_debt",
    ]);
    household_facts["risks"] = json!(["illness", "disaster", "schooling", "emergency"]);
    household_facts["main_measure"] = json!("social_security");
    update(&app, &phone, household, "household", household, household_facts).await;
    let mut member_facts = yes(&["public_servant", "village_cadre", "deceased", "missing"]);
    member_facts["shares_budget_with_head"] = json!(false);
    member_facts["public_servant_since"] = json!("2100-12-31");
    member_facts["village_cadre_since"] = json!("1900-01-01");
    update(&app, &phone, household, "member", members[0], member_facts).await;
    let mut income = json!({"household_id": household, "year": 2100});
    for field in [
        "ecological_post_wage",
        "educated_member_wage",
        "educated_member_business",
        "education_expense",
        "medical_expense",
        "debt",
    ] {
        income[field] = json!(most);
    }
    create(&phone, "income", income).await;
    for kind in ["motor_vehicle", "boat", "construction_machinery", "large_farm_machinery"] {
        let vehicle = json!({"household_id": household, "kind": kind, "price": most, "owned": false,
                             "acquired_on": "2099-02-28", "as_exit_measure": true, "note": long(200)});
        create(&phone, "vehicle", vehicle).await;
    }
    for kind in ["self_built", "commodity_housing", "shopfront"] {
        let property = json!({"household_id": household, "kind": kind, "as_exit_measure": false,
                              "relocation_resettlement": false, "note": long(200)});
        create(&phone, "urban_property", property).await;
    }
    let business = json!({"household_id": household, "name": long(100), "registered_on": "2000-02-29",
                          "operating": false, "as_exit_measure": false});
    create(&phone, "business", business).await;

    // And every value reads back as it was written.
    let view = app.admin.household(household).await;
    assert_eq!(view["household"]["risks"], json!(["illness", "disaster", "schooling", "emergency"]));
    assert_eq!(view["member"][0]["public_servant_since"], "2100-12-31");
    assert_eq!(view["vehicle"].as_array().map(Vec::len), Some(4));
    assert_eq!(view["vehicle"][0]["note"].as_str().map(|s| s.chars().count()), Some(200));
    assert_eq!(view["urban_property"].as_array().map(Vec::len), Some(3));
    assert_eq!(view["business"][0]["name"].as_str().map(|s| s.chars().count()), Some(100));

    // A required fact left out is refused by the catalogue, never by the database.
    let bare = json!({"household_id": household, "kind": "motor_vehicle", "price": 50000});
    let res = push(&phone, vec![changeset(vec![change("vehicle", Uuid::new_v4(), Op::Create, 0, bare)])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Rejected, "{:?}", res.results[0]);

    // The phone's schema lists the new fields, entities and code tables.
    let schema: Value =
        reqwest::get(format!("{}/api/mobile/v1/schema", app.base)).await.expect("schema").json().await.expect("json");
    let entity = |name: &str| {
        schema["entities"].as_array().expect("entities").iter().find(|e| e["name"] == name).cloned().unwrap_or_default()
    };
    let field_names = |e: &Value| -> Vec<String> {
        e["fields"]
            .as_array()
            .map(|f| f.iter().map(|f| f["name"].as_str().unwrap_or("").to_owned()).collect())
            .unwrap_or_default()
    };
    assert!(field_names(&entity("household")).contains(&"wedding_debt".to_owned()));
    assert!(field_names(&entity("income")).contains(&"ecological_post_wage".to_owned()));
    assert!(field_names(&entity("vehicle")).contains(&"as_exit_measure".to_owned()));
    let tables = schema["code_tables"].as_array().expect("tables");
    let risk = tables.iter().find(|t| t["name"] == "risk").expect("risk table");
    assert!(risk["codes"].as_array().expect("codes").iter().any(|c| c["label"] == "突发事件"));
}
