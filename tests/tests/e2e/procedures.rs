//! Procedures (C4): a case filed from a phone goes through every step with the right
//! role at each; wrong roles, skipped steps, unmet exit conditions and additions
//! before removals are refused.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    identification_from_a_phone_runs_every_step_to_registration,
    exit_with_an_unmet_guarantee_is_refused_with_the_reason,
    removals_go_before_additions_in_a_village,
    signed_data_is_frozen_for_lower_levels_and_rejection_restarts,
);

async fn sign(who: &Admin, case: &str, step: &str, decision: &str) -> (u16, Value) {
    who.post(
        &format!("/api/v1/cases/{case}/signoffs"),
        json!({"step": step, "decision": decision, "comment": format!("{step} {decision}")}),
    )
    .await
}

async fn identification_from_a_phone_runs_every_step_to_registration(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 1).await;
    let case = Uuid::new_v4();
    let res = push(
        &phone,
        vec![changeset(vec![change(
            "case",
            case,
            Op::Create,
            0,
            json!({"household_id": household, "kind": "identify", "note": "农户申请"}),
        )])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    // A second identification while one is open is refused.
    let dup = push(
        &phone,
        vec![changeset(vec![change(
            "case",
            Uuid::new_v4(),
            Op::Create,
            0,
            json!({"household_id": household, "kind": "identify"}),
        )])],
    )
    .await;
    assert_eq!(dup.results[0].changes[0].errors[0].code, "case_open");

    let [officer, village, township, county] = users(&app).await;
    let case = case.to_string();
    // Each step with who signs it and someone whose role may not.
    let steps = [
        ("application", &officer, &township),
        ("home_verification", &officer, &county),
        ("comparison", &county, &village),
        ("village_assessment", &village, &township),
        ("village_notice", &village, &officer),
        ("township_review", &township, &village),
        ("township_notice", &township, &county),
        ("county_review", &county, &township),
        ("announcement", &county, &village),
    ];
    let (_, start) = phone.pull_all(None, None).await.expect("pull");
    for (i, (step, signer, wrong)) in steps.iter().enumerate() {
        // Nobody may sign a later step first, and the wrong role is refused.
        if let Some((next, next_signer, _)) = steps.get(i + 1) {
            let (status, body) = sign(next_signer, &case, next, "approve").await;
            assert_eq!((status, body["error"]["code"].as_str()), (409, Some("step_mismatch")), "{next} before {step}");
        }
        let (status, body) = sign(wrong, &case, step, "approve").await;
        if step.ends_with("notice") || *step == "announcement" {
            // A notice step is passed by a published notice, never by a sign-off.
            assert_eq!((status, body["error"]["code"].as_str()), (409, Some("notice_step")), "{step}");
        } else {
            assert_eq!((status, body["error"]["code"].as_str()), (403, Some("wrong_role")), "wrong role at {step}");
        }
        assert_eq!(
            app.admin.household(household).await["household"]["status"],
            "applicant",
            "status moves only at the end"
        );
        let (status, body) = pass_step(&app, signer, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let view = app.admin.ok_get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(view["status"], "completed");
    let signoffs = view["signoffs"].as_array().expect("signoffs");
    // Nine steps and, after the village notice, the 村民代表会决议 (002 §三(七)).
    assert_eq!(signoffs.len(), 10);
    assert_eq!(
        (signoffs[5]["step"].as_str(), signoffs[5]["role"].as_str()),
        (Some("village_resolution"), Some("village"))
    );
    assert_eq!(signoffs[6]["role"], "township");
    assert_eq!(app.admin.household(household).await["household"]["status"], "registered");
    let (status, body) = sign(&county, &case, "announcement", "approve").await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("case_closed")));

    // The officer's phone sees the case completed and the household registered.
    let (pulled, _) = pull_until(&phone, Some(start), |all| {
        all.iter().any(|c| c.entity == "household" && c.data["status"] == "registered")
    })
    .await;
    assert!(pulled.iter().any(|c| c.entity == "case" && c.data["status"] == "completed"), "{pulled:?}");
    assert!(pulled.iter().any(|c| c.entity == "household" && c.data["status"] == "registered"));
    // And the audit records who moved the status.
    let audit = app.admin.ok_get(&format!("/api/v1/households/{household}/audit")).await;
    assert!(
        audit
            .as_array()
            .expect("audit")
            .iter()
            .any(|e| e["field"] == "status" && e["action"] == "procedure" && e["new_value"] == "\"registered\"")
    );
}

/// A household taken to `registered` through the admin API, for the tests below.
async fn registered_household(app: &TestApp) -> Uuid {
    let phone = app.phone("officer-a", &format!("phone-{}", Uuid::new_v4())).await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    let [_, _, _, county] = users(app).await;
    let case = county.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("id").to_owned();
    pass_every_step(app, &case).await;
    household
}

async fn exit_with_an_unmet_guarantee_is_refused_with_the_reason(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let household = registered_household(&app).await;
    let [officer, village, ..] = users(&app).await;
    let phone = app.phone("officer-a", "phone-exit").await;
    let version = app.admin.household(household).await["household"]["version"].as_i64().expect("version");
    let secure = json!({"food_clothing_secure": true, "education_secure": true, "medical_secure": true, "housing_secure": false, "water_secure": true});
    let res = push(&phone, vec![changeset(vec![change("household", household, Op::Update, version, secure)])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);

    let case = village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "exit"})).await;
    let case = case["id"].as_str().expect("id").to_owned();
    let state = app.admin.household(household).await;
    assert_eq!(
        (state["display_status"].as_str(), state["household"]["status"].as_str()),
        (Some("pre_exit"), Some("registered")),
        "预退出 shows while the exit runs"
    );
    let (status, body) = sign(&officer, &case, "application", "approve").await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("exit_refused")), "{body}");
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().expect("reasons").iter().filter_map(|r| r["field"].as_str()).collect();
    assert_eq!(
        fields,
        ["housing_secure", "threshold", "long_term_stable_income", "help_effective"],
        "an unmet guarantee, no poverty line to check income against, and 两不退's facts unrecorded"
    );

    // The county sets its line; the officer records the year's income above it.
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let (status, _) = county.put("/api/v1/thresholds", json!({"year": 2026, "region_prefix": "320703", "standard": "national", "yuan": 4000, "source": "县扶贫办通知"})).await;
    assert_eq!(status, 204);
    let income = json!({"household_id": household, "year": 2026, "wage": 3900});
    push(&phone, vec![changeset(vec![change("income", Uuid::new_v4(), Op::Create, 0, income)])]).await;
    let (status, body) = sign(&officer, &case, "application", "approve").await;
    assert_eq!(status, 422);
    let reasons = body["error"]["fields"].as_array().expect("reasons");
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert_eq!(reasons[0]["field"], "housing_secure");
    assert!(reasons[0]["message_zh"].as_str().is_some_and(|m| m.contains("住房安全")));
    assert_eq!(reasons[1]["field"], "net_income_per_capita", "3900 yuan for one person is below 4000");
    let incomes = app.admin.household(household).await["income"].clone();
    let income_id = incomes[0]["id"].as_str().expect("id").to_owned();
    let res = push(
        &phone,
        vec![changeset(vec![change(
            "income",
            income_id.parse().expect("uuid"),
            Op::Update,
            1,
            json!({"business": 1500}),
        )])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);

    // Once the house is made safe and 两不退's facts are recorded (003 §五(二)) the exit moves on.
    let version = app.admin.household(household).await["household"]["version"].as_i64().expect("version");
    let settled = json!({"housing_secure": true, "long_term_stable_income": true, "help_effective": true});
    push(&phone, vec![changeset(vec![change("household", household, Op::Update, version, settled)])]).await;
    let (status, _) = sign(&officer, &case, "application", "approve").await;
    assert_eq!(status, 200);
}

async fn removals_go_before_additions_in_a_village(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let registered = registered_household(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (applicant, _) = create_household(&phone, VILLAGE_1, 0).await;
    let [officer, village, township, _county] = users(&app).await;
    let removal = village
        .ok_post("/api/v1/cases", json!({"household_id": registered, "kind": "remove", "reason": "vehicle"}))
        .await;
    let removal = removal["id"].as_str().expect("id").to_owned();
    let addition = village.ok_post("/api/v1/cases", json!({"household_id": applicant, "kind": "identify"})).await;
    let addition = addition["id"].as_str().expect("id").to_owned();
    for (step, signer) in [("application", &officer), ("home_verification", &officer), ("comparison", &township)] {
        assert_eq!(sign(signer, &addition, step, "approve").await.0, 200);
    }
    let (status, body) = sign(&village, &addition, "village_assessment", "approve").await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("removals_first")));
    for (step, signer) in [
        ("application", &officer),
        ("home_verification", &officer),
        ("comparison", &township),
        ("village_assessment", &village),
    ] {
        assert_eq!(sign(signer, &removal, step, "approve").await.0, 200, "{step}");
    }
    assert_eq!(sign(&village, &addition, "village_assessment", "approve").await.0, 200, "removals went first");
}

async fn signed_data_is_frozen_for_lower_levels_and_rejection_restarts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    let [officer, village, township, _] = users(&app).await;
    let case = village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("id").to_owned();
    for (step, signer) in [
        ("application", &officer),
        ("home_verification", &officer),
        ("comparison", &township),
        ("village_assessment", &village),
        ("village_notice", &village),
        ("township_review", &township),
    ] {
        assert_eq!(pass_step(&app, signer, &case, step).await.0, 200, "{step}");
    }
    // The township has signed: the officer's edit is refused, the county's is not.
    let edit =
        |address: &str| changeset(vec![change("household", household, Op::Update, 1, json!({"address": address}))]);
    let res = push(&phone, vec![edit("村里改的")]).await;
    assert_eq!(res.results[0].changes[0].errors[0].code, "case_frozen");
    let county_phone = app.phone("county", "phone-county").await;
    assert_eq!(push(&county_phone, vec![edit("县里改的")]).await.results[0].status, ChangeSetStatus::Applied);
    // The village may not reopen what the township froze; the township may.
    let (status, body) =
        village.post(&format!("/api/v1/cases/{case}/reopen"), json!({"step": "home_verification"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("wrong_role")));
    let reopened = township
        .ok_post(
            &format!("/api/v1/cases/{case}/reopen"),
            json!({"step": "home_verification", "comment": "入户核实记录不全"}),
        )
        .await;
    assert_eq!(reopened["step"], "home_verification");
    assert_eq!(reopened["frozen_level"], Value::Null, "the steps to redo are open to their levels again");
    let res = push(&phone, vec![edit("重新核实后改的")]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);

    // The village rejects: the case stops, and starts again from the application.
    assert_eq!(sign(&village, &case, "home_verification", "reject").await.0, 200);
    assert_eq!(app.admin.household(household).await["household"]["status"], "rejected");
    let (status, body) = sign(&village, &case, "home_verification", "approve").await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("case_closed")));
    let again = officer.ok_post(&format!("/api/v1/cases/{case}/resubmit"), json!({"comment": "补充材料"})).await;
    assert_eq!((again["status"].as_str(), again["step"].as_str()), (Some("open"), Some("application")));
    let decisions: Vec<&str> =
        again["signoffs"].as_array().expect("signoffs").iter().filter_map(|s| s["decision"].as_str()).collect();
    assert_eq!(decisions.last(), Some(&"resubmit"));
    assert!(decisions.contains(&"reject") && decisions.contains(&"reopen"), "history is kept: {decisions:?}");
}
