//! 边缘户 and 脱贫监测户 (R5) around the core function, the exit order and the freeze at
//! the village's own assessment (issue 11 item 2; review gaps 7 and 13): the ceiling is
//! 1.5 × the 省定 line whatever the household's own standard, the 台账 lists households
//! with why and the village group's decided list, a held-back identification shows its
//! reason to the village team, exits go general households first, and the village team
//! may correct data while a case sits at its assessment after the township's comparison.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    a_national_standard_household_is_measured_against_the_provincial_line,
    the_ledger_lists_candidates_and_the_groups_decided_list,
    a_held_back_identification_shows_its_reason_to_the_village_team,
    general_households_exit_before_dibao_households,
    the_village_team_corrects_data_at_its_own_assessment,
);

const YEAR: i64 = 2026;

async fn set_line(county: &Admin, standard: &str, yuan: i64) {
    let line = json!({"year": YEAR, "region_prefix": "320703", "standard": standard, "yuan": yuan, "source": "测试"});
    assert_eq!(county.put("/api/v1/thresholds", line).await.0, 204);
}

/// A two-person household (A23 national, cause 因病) in `village` with `wage` yuan in
/// `YEAR`, and `fields` on top: (household, head's ID number).
async fn household(phone: &Client, village: &str, wage: i64, fields: Value) -> (Uuid, String) {
    let (household, _, mut changes) = new_household(village, 1);
    for (k, v) in fields.as_object().expect("object") {
        changes[0].fields.insert(k.clone(), v.clone());
    }
    let head_id = changes[1].fields["id_number"].as_str().expect("id").to_owned();
    let income = json!({"household_id": household, "year": YEAR, "wage": wage});
    changes.push(change("income", Uuid::new_v4(), Op::Create, 0, income));
    let res = push(phone, vec![changeset(changes)]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    (household, head_id)
}

async fn edge_of(county: &Admin, household: Uuid) -> Value {
    county.ok_get(&format!("/api/v1/households/{household}/assessment")).await["edge"].clone()
}

async fn sign(who: &Admin, case: &str, step: &str) -> (u16, Value) {
    who.post(&format!("/api/v1/cases/{case}/signoffs"), json!({"step": step, "decision": "approve"})).await
}

async fn a_national_standard_household_is_measured_against_the_provincial_line(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    // 国家 3,000 (ceiling 4,500), 省定 4,000 (ceiling 6,000).
    set_line(&county, "national", 3000).await;
    set_line(&county, "provincial", 4000).await;
    let phone = app.phone("officer-a", "phone-a").await;
    // 5,000 a head: above the national ceiling, within the provincial one.
    let (above_national, _) = household(&phone, VILLAGE_1, 10_000, json!({})).await;
    let edge = edge_of(&county, above_national).await;
    assert_eq!(
        (edge["list"].as_str(), edge["line_standard"].as_str(), edge["threshold_fen"].as_i64()),
        (Some("edge"), Some("provincial"), Some(400_000)),
        "004 §三(一) measures against the 省定 line: {edge}"
    );
    // 3,500 a head: above the national line but below the provincial one: not an edge household.
    let (below_provincial, _) = household(&phone, VILLAGE_1, 7_000, json!({})).await;
    let edge = edge_of(&county, below_provincial).await;
    assert_eq!((edge["list"].clone(), edge["above_threshold"].as_bool()), (Value::Null, Some(false)), "{edge}");
}

async fn the_ledger_lists_candidates_and_the_groups_decided_list(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;
    let officer = Admin::login(&app.base, "officer-a", PASSWORD).await;
    set_line(&county, "provincial", 4000).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (first, first_id) = household(&phone, VILLAGE_1, 9_000, json!({})).await;
    let (second, _) = household(&phone, VILLAGE_1, 10_000, json!({})).await;
    let (rich, _) = household(&phone, VILLAGE_1, 40_000, json!({})).await;
    let (elsewhere, _) = household(&phone, VILLAGE_2, 9_000, json!({})).await;

    let ledger = village.ok_get(&format!("/api/v1/edge-households?region_code={VILLAGE_1}")).await;
    let items = ledger["items"].as_array().expect("items");
    let listed: Vec<&str> = items.iter().filter_map(|i| i["household_id"].as_str()).collect();
    assert!(listed.contains(&first.to_string().as_str()) && listed.contains(&second.to_string().as_str()), "{ledger}");
    assert!(!listed.contains(&rich.to_string().as_str()), "above the ceiling: not on the 台账");
    assert!(!listed.contains(&elsewhere.to_string().as_str()), "another village");
    let entry = items.iter().find(|i| i["household_id"] == first.to_string()).expect("first");
    assert_eq!(entry["standing"], "candidate");
    assert_eq!(entry["r5_list"], "edge");
    assert!(entry["reason_zh"].as_str().is_some_and(|r| r.contains("省定") && r.contains("因病")), "{entry}");
    let masked = entry["head_id_number"].as_str().expect("masked id");
    assert!(masked.contains('*') && masked != first_id, "{masked}");
    assert!(!ledger.to_string().contains(&first_id), "no whole ID number on the list");
    // Paged.
    let page = village.ok_get(&format!("/api/v1/edge-households?region_code={VILLAGE_1}&per_page=1&page=2")).await;
    assert_eq!((page["total"].as_u64(), page["items"].as_array().map(Vec::len)), (Some(2), Some(1)), "{page}");

    // The village group decides: the first on the list, the second left off.
    let decision = json!({
        "region_code": VILLAGE_1,
        "decided_on": "2026-10-20",
        "participants": ["村党支部书记 王", "村委会主任 李", "驻村第一书记 张", "帮扶队员 赵"],
        "households": [
            {"household_id": first, "included": true, "reason": "因病支出大"},
            {"household_id": second, "included": false, "reason": "务工收入稳定"}
        ]
    });
    let (status, body) = officer.post("/api/v1/edge-households/decisions", decision.clone()).await;
    assert_eq!(status, 403, "the village team records it, not an officer: {body}");
    let mut nobody = decision.clone();
    nobody["participants"] = json!([]);
    let (status, body) = village.post("/api/v1/edge-households/decisions", nobody).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("edge_list_participants")), "{body}");
    let mut foreign = decision.clone();
    foreign["households"] = json!([{"household_id": elsewhere, "included": true}]);
    let (status, _) = village.post("/api/v1/edge-households/decisions", foreign).await;
    assert_eq!(status, 400, "a household of another village");
    let recorded = village.ok_post("/api/v1/edge-households/decisions", decision).await;
    assert_eq!((recorded["included"].as_u64(), recorded["excluded"].as_u64()), (Some(1), Some(1)));

    let ledger = township.ok_get(&format!("/api/v1/edge-households?region_code={TOWNSHIP}")).await;
    let items = ledger["items"].as_array().expect("items");
    let standing = |h: Uuid| {
        items.iter().find(|i| i["household_id"] == h.to_string()).map(|i| i["standing"].clone()).unwrap_or_default()
    };
    assert_eq!(standing(first), "decided_in");
    assert_eq!(standing(second), "decided_out");
    assert_eq!(standing(elsewhere), "candidate", "the other village has not decided");
    let entry = items.iter().find(|i| i["household_id"] == first.to_string()).expect("first");
    assert_eq!(entry["decided"]["decided_on"], "2026-10-20");
    assert_eq!(entry["decided"]["list"], "edge");
    assert_eq!(entry["decided"]["participants"].as_array().map(Vec::len), Some(4));
    let audited = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'edge_list_decision' AND household_id = '{first}' AND action = 'edge_list_in'"
        ))
        .await;
    assert_eq!(audited, 1);
}

async fn a_held_back_identification_shows_its_reason_to_the_village_team(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let [officer, village, township, _] = users(&app).await;
    set_line(&county, "national", 3800).await;
    // 002's test for this county, so a 低保 household not yet at the exit standard is
    // to be identified even when R5 would name it (002 §二(一)).
    let policies = county.ok_get("/api/v1/rule-policies").await;
    let mut policy = policies.as_array().expect("list")[0]["policy"].clone();
    policy["identification"] = json!("income_and_hardship");
    let body = json!({"region_prefix": "320703", "policy": policy, "source": "002 §二(一)"});
    assert_eq!(county.put("/api/v1/rule-policies", body).await.0, 204);
    let phone = app.phone("officer-a", "phone-a").await;
    let (plain, _) = household(&phone, VILLAGE_1, 2_000, json!({})).await;
    let (edge, _) = household(&phone, VILLAGE_1, 8_000, json!({})).await;
    let (dibao, _) = household(&phone, VILLAGE_1, 8_000, json!({"kind": "dibao", "housing_secure": false})).await;
    let mut cases = Vec::new();
    for h in [plain, edge, dibao] {
        let case = village.ok_post("/api/v1/cases", json!({"household_id": h, "kind": "identify"})).await;
        let case = case["id"].as_str().expect("id").to_owned();
        for (step, who) in [
            ("application", &officer),
            ("home_verification", &village),
            ("comparison", &township),
            ("village_assessment", &village),
        ] {
            let (status, body) = sign(who, &case, step).await;
            assert_eq!(status, 200, "{step}: {body}");
        }
        cases.push(case);
    }
    let edge_case = &cases[1];

    let draft = village.ok_post("/api/v1/notices", json!({"step": "village_notice", "region_code": VILLAGE_1})).await;
    let listed: Vec<&str> =
        draft["cases"].as_array().expect("cases").iter().filter_map(|c| c["case_id"].as_str()).collect();
    assert_eq!(listed, [cases[0].as_str(), cases[2].as_str()], "the 002-eligible 低保 household is listed");
    let held = draft["held_back"].as_array().expect("held_back");
    assert_eq!(held.len(), 1, "{draft}");
    assert_eq!(held[0]["case_id"], edge_case.as_str());
    let reason = held[0]["reason_zh"].as_str().expect("reason");
    assert!(reason.contains("边缘户") && reason.contains("3800.00") && reason.contains("暂不公示"), "{reason}");
    // The case says so too, and the 台账 points at it.
    let view = village.ok_get(&format!("/api/v1/cases/{edge_case}")).await;
    assert_eq!(view["held_back"]["list"], "edge", "{view}");
    let listed_view = village.ok_get(&format!("/api/v1/cases/{}", cases[0])).await;
    assert_eq!(listed_view["held_back"], Value::Null);
    let ledger = village.ok_get("/api/v1/edge-households").await;
    let entry = ledger["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["household_id"] == edge.to_string())
        .cloned()
        .expect("on the 台账");
    assert_eq!(entry["held_case"]["case_id"], edge_case.as_str(), "{entry}");
    // Published, it still lists only the two; the held case waits, shown, at the step.
    let id = draft["id"].as_str().expect("id");
    let notice = village.ok_post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    assert_eq!(notice["content"]["entries"].as_array().map(Vec::len), Some(2));
    let view = village.ok_get(&format!("/api/v1/cases/{edge_case}")).await;
    assert_eq!((view["step"].as_str(), view["held_back"]["list"].as_str()), (Some("village_notice"), Some("edge")));
}

/// A registered two-person household of `kind` ready to exit: through the nine steps,
/// every guarantee and both 两不退 facts met, 9,000 yuan a head against a 4,000 line.
async fn ready_to_exit(app: &TestApp, phone: &Client, kind: &str) -> Uuid {
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let (household, _, changes) = new_household(VILLAGE_1, 1);
    let res = push(phone, vec![changeset(changes)]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);
    let case = county.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    pass_every_step(app, case["id"].as_str().expect("id")).await;
    let version = app.admin.household(household).await["household"]["version"].as_i64().expect("version");
    let facts = json!({"kind": kind, "food_clothing_secure": true, "education_secure": true, "medical_secure": true,
        "housing_secure": true, "water_secure": true, "long_term_stable_income": true, "help_effective": true});
    let income = json!({"household_id": household, "year": YEAR, "wage": 18_000});
    let res = push(
        phone,
        vec![changeset(vec![
            change("household", household, Op::Update, version, facts),
            change("income", Uuid::new_v4(), Op::Create, 0, income),
        ])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    household
}

async fn general_households_exit_before_dibao_households(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let [officer, village, ..] = users(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    set_line(&county, "national", 4000).await;
    let policies = county.ok_get("/api/v1/rule-policies").await;
    let mut policy = policies.as_array().expect("list")[0]["policy"].clone();
    policy["dibao_standard_fen"] = json!(4200 * 100);
    let body = json!({"region_prefix": "320703", "policy": policy, "source": "县民政局低保标准"});
    assert_eq!(county.put("/api/v1/rule-policies", body).await.0, 204);
    let phone = app.phone("officer-a", "phone-a").await;
    let dibao = ready_to_exit(&app, &phone, "dibao").await;
    let general = ready_to_exit(&app, &phone, "general").await;
    // The 低保 household's exit is filed first.
    let dibao_case = village.ok_post("/api/v1/cases", json!({"household_id": dibao, "kind": "exit"})).await;
    let dibao_case = dibao_case["id"].as_str().expect("id").to_owned();
    let general_case = village.ok_post("/api/v1/cases", json!({"household_id": general, "kind": "exit"})).await;
    let general_case = general_case["id"].as_str().expect("id").to_owned();
    for (step, who) in [("application", &officer), ("home_verification", &village)] {
        assert_eq!(sign(who, &dibao_case, step).await.0, 200, "{step}");
    }
    // 003 §一(一)2 先一般贫困户，后低保政策兜底户: it waits at the 评议 for the general one.
    let (status, body) = sign(&village, &dibao_case, "village_assessment").await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("exit_order")), "{body}");
    // The refusal names the exit it waits for, so the team knows which one to decide.
    let blocking: Vec<&str> =
        body["error"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
    assert_eq!(blocking, [format!("cases/{general_case}")], "{body}");
    for (step, who) in [("application", &officer), ("home_verification", &village), ("village_assessment", &village)] {
        assert_eq!(sign(who, &general_case, step).await.0, 200, "{step}");
    }
    let (status, body) = sign(&village, &dibao_case, "village_assessment").await;
    assert_eq!(status, 200, "the general household went first: {body}");
    // The notice lists the general household's exit first, though it was filed later.
    let draft = village.ok_post("/api/v1/notices", json!({"step": "village_notice", "region_code": VILLAGE_1})).await;
    let order: Vec<&str> =
        draft["cases"].as_array().expect("cases").iter().filter_map(|c| c["case_id"].as_str()).collect();
    assert_eq!(order, [general_case.as_str(), dibao_case.as_str()], "{draft}");
    // And so does the list of exits the offices work from.
    let listed = village.ok_get("/api/v1/cases?kind=exit").await;
    let order: Vec<&str> = listed.as_array().expect("cases").iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(order, [general_case.as_str(), dibao_case.as_str()], "{listed}");
}

async fn the_village_team_corrects_data_at_its_own_assessment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let [officer, village, township, _] = users(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let village_phone = app.phone("village-1", "phone-village").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    let case = village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("id").to_owned();
    for (step, who) in [("application", &officer), ("home_verification", &officer), ("comparison", &township)] {
        assert_eq!(sign(who, &case, step).await.0, 200, "{step}");
    }
    let edit = |version: i64, address: &str| {
        changeset(vec![change("household", household, Op::Update, version, json!({"address": address}))])
    };
    let version = || async { app.admin.household(household).await["household"]["version"].as_i64().expect("version") };
    // The township signed the comparison; the case sits at the village's 民主评议.
    let res = push(&village_phone, vec![edit(version().await, "评议时更正的地址")]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "the village team corrects: {:?}", res.results[0]);
    assert_eq!(app.admin.household(household).await["household"]["address"], "评议时更正的地址");
    let res = push(&phone, vec![edit(version().await, "干部改的")]).await;
    assert_eq!(res.results[0].changes[0].errors[0].code, "case_frozen", "the officer stays frozen out");
    // Past its assessment, the township's freeze holds for the village again.
    assert_eq!(sign(&village, &case, "village_assessment").await.0, 200);
    let res = push(&village_phone, vec![edit(version().await, "评议后改的")]).await;
    assert_eq!(res.results[0].changes[0].errors[0].code, "case_frozen");
}
