//! The full household record of the collection forms (004 附件2): basic information,
//! living conditions A33–A48, member details A3–A21 and A51 with employment, income
//! sub-items A29a–f and A31a–b. Recorded on a phone, it comes back whole through the
//! admin API and a fresh pull, the bank account masked everywhere, and bad values are
//! refused with stable codes.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::{ChangeSetStatus, ChangeStatus, Op, PullOp, PulledChange};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

on_both_backends!(full_record_comes_back_whole_with_the_bank_account_masked, bad_values_are_refused_with_stable_codes);

const ACCOUNT: &str = "6228480012345678";
const MASKED: &str = "************5678";
const NEW_ACCOUNT: &str = "6217001234567890123";
const NEW_MASKED: &str = "***************0123";

fn household_fields() -> Value {
    json!({
        "region_code": VILLAGE_1, "address": "东村一组1号", "phone": "13812345678",
        "standard": "provincial", "kind": "dibao", "poverty_causes": ["illness", "lack_of_labour", "poor_transport"],
        "food_clothing_secure": true, "education_secure": true, "medical_secure": false, "housing_secure": false,
        "water_secure": true, "planned_exit_year": 2020,
        "natural_village": "前庄", "bank_name": "江苏省农村信用社", "bank_account": "6228 4800 1234 5678",
        "military_family": false, "consumption_assistance": true, "order_farming": true,
        "farmland_area": 3.5, "grassland_area": 0, "water_surface_area": 0.25, "forest_area": 12,
        "returned_forest_area": 1.75, "orchard_area": 0.6, "access_road": "gravel", "main_road_distance": 0.35,
        "cooperative_member": true, "housing_grade": "c", "housing_area": 86.4, "has_electricity": true,
        "has_sanitary_toilet": false, "main_fuel": "firewood", "leading_enterprise": false,
        "entrepreneur_led": true, "has_radio_tv": true,
    })
}

fn head_fields(household: Uuid) -> Value {
    json!({
        "household_id": household, "name": "王建国", "sex": "male", "id_number": fresh_id_number(),
        "relation": "head", "health": "chronic_illness", "phone": "13912345678",
        "id_type": "resident_id_card", "ethnicity": "han", "political_status": "masses", "education": "primary",
        "school_status": "not_in_school", "labour_skill": "ordinary", "work_area": "within_province",
        "work_months": 8, "speaks_mandarin": true, "pension_insured": true, "medical_insured": true,
        "critical_illness_insured": true, "dibao_recipient": true, "commercial_medical_insured": false,
        "accident_insurance_subsidy": true, "medical_assistance": true, "work_place": "江苏省苏州市",
        "employer": "苏州某电子有限公司", "industry": "manufacturing", "employment_channel": "government_organised",
    })
}

fn student_fields(household: Uuid) -> Value {
    json!({
        "household_id": household, "name": "王小梅", "sex": "female", "id_number": id_number("20080305", 22),
        "relation": "daughter", "health": "healthy", "id_type": "disability_card", "ethnicity": "hui",
        "education": "junior_secondary", "school_status": "junior_secondary", "labour_skill": "none",
        "work_months": 0, "dropout_reason": null, "speaks_mandarin": true, "medical_insured": true,
        "critical_illness_insured": true,
    })
}

fn income_fields(household: Uuid) -> Value {
    json!({
        "household_id": household, "year": 2019, "wage": 18000, "business": 2500.5, "property": 600,
        "transfer": 7300.8, "business_expense": 800, "pension": 1320, "family_planning": 960,
        "dibao": 3600.8, "wubao": 0, "ecological_compensation": 220, "other_transfer": 1200,
        "asset_dividend": 500, "other_property": 100,
    })
}

/// Every pushed field comes back as pushed, but the bank account: masked.
fn assert_has(record: &Value, pushed: &Value, what: &str) {
    for (name, value) in pushed.as_object().expect("object") {
        let value = if name == "bank_account" { json!(mask(value)) } else { value.clone() };
        assert_eq!(record[name], value, "{what}.{name} in {record}");
    }
}

fn mask(account: &Value) -> &'static str {
    match account.as_str().map(|a| a.replace(' ', "")) {
        Some(a) if a == ACCOUNT => MASKED,
        Some(a) if a == NEW_ACCOUNT => NEW_MASKED,
        other => panic!("unexpected account {other:?}"),
    }
}

fn by_id(list: &Value, id: Uuid) -> Value {
    list.as_array().expect("list").iter().find(|r| r["id"] == id.to_string()).cloned().unwrap_or(Value::Null)
}

fn upsert_of(changes: &[PulledChange], entity: &str, id: Uuid) -> Option<Value> {
    changes.iter().rev().find(|c| c.entity == entity && c.id == id && c.op == PullOp::Upsert).map(|c| c.data.clone())
}

async fn full_record_comes_back_whole_with_the_bank_account_masked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;

    // The officer fills the whole form offline; one change set carries it.
    let (household, head, student, income) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let (h, m1, m2, inc) =
        (household_fields(), head_fields(household), student_fields(household), income_fields(household));
    let res = push(
        &phone,
        vec![changeset(vec![
            change("household", household, Op::Create, 0, h.clone()),
            change("member", head, Op::Create, 0, m1.clone()),
            change("member", student, Op::Create, 0, m2.clone()),
            change("income", income, Op::Create, 0, inc.clone()),
        ])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);

    // The admin API shows every value as recorded, the account masked.
    let state = app.admin.household(household).await;
    assert_has(&state["household"], &h, "household");
    assert_has(&by_id(&state["member"], head), &m1, "head");
    assert_has(&by_id(&state["member"], student), &m2, "student");
    assert_has(&by_id(&state["income"], income), &inc, "income");
    assert_eq!(state["household"]["bank_account"], MASKED);
    assert_eq!(by_id(&state["member"], student)["dropout_reason"], Value::Null);
    let listed = app.admin.ok_get(&format!("/api/v1/households?region_code={VILLAGE_1}")).await;
    assert_eq!(by_id(&listed, household)["bank_account"], MASKED);

    // A new account replaces the old one; the audit trail holds neither in full.
    let res = push(
        &phone,
        vec![changeset(vec![change(
            "household",
            household,
            Op::Update,
            1,
            json!({"bank_account": NEW_ACCOUNT, "farmland_area": 4.25}),
        )])],
    )
    .await;
    assert_eq!(res.results[0].changes[0].status, ChangeStatus::Applied, "{:?}", res.results[0]);
    let state = app.admin.household(household).await;
    assert_eq!(state["household"]["bank_account"], NEW_MASKED);
    assert_eq!(state["household"]["farmland_area"], json!(4.25));
    let audit = app.admin.ok_get(&format!("/api/v1/households/{household}/audit")).await;
    let text = audit.to_string();
    assert!(!text.contains(ACCOUNT) && !text.contains(NEW_ACCOUNT), "an account in full in the audit: {text}");
    let account_edit = audit
        .as_array()
        .expect("audit")
        .iter()
        .find(|e| e["field"] == "bank_account")
        .unwrap_or_else(|| panic!("the account edit is audited: {audit}"));
    assert_eq!(
        (account_edit["old_value"].as_str(), account_edit["new_value"].as_str()),
        (Some(format!("\"{MASKED}\"").as_str()), Some(format!("\"{NEW_MASKED}\"").as_str()))
    );

    // A fresh phone of the same officer pulls the whole household, account masked.
    let fresh = app.phone("officer-a", "phone-a2").await;
    let (pulled, _) = pull_until(&fresh, None, |c| upsert_of(c, "income", income).is_some()).await;
    let pulled_household = upsert_of(&pulled, "household", household).expect("household pulled");
    let mut now = h.clone();
    now["bank_account"] = json!(NEW_ACCOUNT);
    now["farmland_area"] = json!(4.25);
    assert_has(&pulled_household, &now, "pulled household");
    assert_eq!(pulled_household["bank_account"], NEW_MASKED);
    assert_has(&upsert_of(&pulled, "member", head).expect("head pulled"), &m1, "pulled head");
    assert_has(&upsert_of(&pulled, "member", student).expect("student pulled"), &m2, "pulled student");
    assert_has(&upsert_of(&pulled, "income", income).expect("income pulled"), &inc, "pulled income");
    let everything = serde_json::to_string(&pulled.iter().map(|c| &c.data).collect::<Vec<_>>()).expect("json");
    assert!(!everything.contains(NEW_ACCOUNT) && !everything.contains(ACCOUNT), "an account in full in a pull");

    // The phone learns the tables from the schema.
    let schema = fresh.schema().await.expect("schema");
    let tables: BTreeMap<String, usize> = schema
        .code_tables
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| (t["name"].as_str().unwrap_or("").to_owned(), t["codes"].as_array().map_or(0, Vec::len)))
        .collect();
    assert_eq!(tables.get("ethnicity"), Some(&56));
    for table in ["id_type", "political_status", "education", "school_status", "labour_skill", "work_area"] {
        assert!(tables.contains_key(table), "{table} missing from the schema");
    }
    for table in ["dropout_reason", "industry", "employment_channel", "access_road", "housing_grade", "fuel"] {
        assert!(tables.contains_key(table), "{table} missing from the schema");
    }
}

async fn bad_values_are_refused_with_stable_codes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, members) = create_household(&phone, VILLAGE_1, 0).await;
    let income = Uuid::new_v4();
    let res = push(
        &phone,
        vec![changeset(vec![change(
            "income",
            income,
            Op::Create,
            0,
            json!({"household_id": household, "year": 2019, "wage": 1000}),
        )])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);

    let bad = vec![
        changeset(vec![change(
            "household",
            household,
            Op::Update,
            1,
            json!({
                "housing_grade": "E", "farmland_area": 2.345, "housing_area": -3, "main_road_distance": "0.5",
                "bank_account": MASKED, "access_road": "水泥路", "natural_village": "前庄",
            }),
        )]),
        changeset(vec![change(
            "member",
            members[0],
            Op::Update,
            1,
            json!({"ethnicity": "汉族", "work_months": 13, "labour_skill": "strong", "speaks_mandarin": "是"}),
        )]),
        changeset(vec![change("income", income, Op::Update, 1, json!({"dibao": 1.234, "asset_dividend": -5}))]),
    ];
    let res = push(&phone, bad).await;
    let errors = |i: usize| -> BTreeMap<String, String> {
        assert_eq!(res.results[i].status, ChangeSetStatus::Rejected, "{:?}", res.results[i]);
        res.results[i].changes[0].errors.iter().map(|e| (e.field.clone(), e.code.clone())).collect()
    };
    let expect = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(f, c)| ((*f).to_owned(), (*c).to_owned())).collect()
    };
    assert_eq!(
        errors(0),
        expect(&[
            ("housing_grade", "unknown_code"),
            ("farmland_area", "invalid_decimal"),
            ("housing_area", "out_of_range"),
            ("main_road_distance", "invalid_type"),
            ("bank_account", "invalid_bank_account"),
            ("access_road", "unknown_code"),
        ])
    );
    assert_eq!(
        errors(1),
        expect(&[
            ("ethnicity", "unknown_code"),
            ("work_months", "out_of_range"),
            ("labour_skill", "unknown_code"),
            ("speaks_mandarin", "invalid_type"),
        ])
    );
    assert_eq!(errors(2), expect(&[("dibao", "invalid_money"), ("asset_dividend", "invalid_money")]));
    let decimal = res.results[0].changes[0].errors.iter().find(|e| e.field == "farmland_area").expect("error");
    assert!(decimal.message_zh.contains("两位小数") && decimal.message_en.contains("two decimals"), "{decimal:?}");

    // Nothing of a rejected change set was written, the valid field next to bad ones included.
    let state = app.admin.household(household).await;
    for field in ["housing_grade", "farmland_area", "natural_village", "bank_account"] {
        assert_eq!(state["household"][field], Value::Null, "{field}");
    }
    assert_eq!(state["household"]["version"], 1);
    assert_eq!(by_id(&state["member"], members[0])["ethnicity"], Value::Null);
    assert_eq!(by_id(&state["income"], income)["dibao"], Value::Null);

    // Fixed, the same edit goes through.
    let res = push(
        &phone,
        vec![changeset(vec![change(
            "household",
            household,
            Op::Update,
            1,
            json!({"housing_grade": "d", "farmland_area": 2.35, "housing_area": 3}),
        )])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    let state = app.admin.household(household).await;
    assert_eq!(
        (
            &state["household"]["housing_grade"],
            &state["household"]["farmland_area"],
            &state["household"]["housing_area"]
        ),
        (&json!("d"), &json!(2.35), &json!(3))
    );
}
