//! Push: idempotent change sets, all-or-nothing, field merges, conflicts, validation.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::{ChangeSetStatus, ChangeStatus, Op};
use serde_json::json;
use uuid::Uuid;

on_both_backends!(
    retried_changeset_is_applied_once,
    bad_field_rejects_its_changeset_whole_and_the_next_applies,
    offline_edits_of_different_fields_both_survive,
    same_sensitive_field_opens_a_conflict_that_is_listed_pulled_and_resolved,
    field_rules_give_stable_codes,
    status_is_read_only_to_phones,
    offline_edit_survives_reassignment,
    push_outside_scope_is_rejected,
    a_later_write_of_the_field_supersedes_its_conflict,
);

async fn retried_changeset_is_applied_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 1).await;

    let edit = changeset(vec![change("household", household, Op::Update, 1, json!({"address": "东村二组5号"}))]);
    let first = push(&phone, vec![edit.clone()]).await;
    assert_eq!(first.results[0].status, ChangeSetStatus::Applied);
    assert_eq!(first.results[0].changes[0].version, 2);

    // The answer was lost on the way back; the phone sends the same change set again.
    let again = push(&phone, vec![edit.clone()]).await;
    assert_eq!(again.results[0].status, ChangeSetStatus::Duplicate);
    assert_eq!(again.results[0].changes, first.results[0].changes, "the stored first answer comes back");
    let state = app.admin.household(household).await;
    assert_eq!(state["household"]["version"], 2, "applied once: {state}");
    assert_eq!(state["household"]["address"], "东村二组5号");

    // A create retried must not fail as "already exists" either.
    let (other, _, create) = new_household(VILLAGE_1, 0);
    let create = changeset(create);
    assert_eq!(push(&phone, vec![create.clone()]).await.results[0].status, ChangeSetStatus::Applied);
    assert_eq!(push(&phone, vec![create]).await.results[0].status, ChangeSetStatus::Duplicate);
    assert_eq!(app.admin.household(other).await["member"].as_array().map(Vec::len), Some(1));
}

async fn bad_field_rejects_its_changeset_whole_and_the_next_applies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;

    let bad = changeset(vec![
        change("household", household, Op::Update, 1, json!({"address": "不应写入"})),
        change(
            "member",
            Uuid::new_v4(),
            Op::Create,
            0,
            json!({"household_id": household, "name": "李四", "sex": "male", "id_number": "110105194912310021", "relation": "son"}),
        ),
    ]);
    let good = changeset(vec![change("household", household, Op::Update, 1, json!({"phone": "13900001111"}))]);
    let res = push(&phone, vec![bad.clone(), good]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Rejected);
    assert!(res.results[0].changes.iter().all(|c| c.status == ChangeStatus::Rejected));
    let error = &res.results[0].changes[1].errors[0];
    assert_eq!((error.field.as_str(), error.code.as_str()), ("id_number", "invalid_id_number"));
    assert!(error.message_zh.contains("身份证") && error.message_en.contains("ID number"));
    assert_eq!(res.results[1].status, ChangeSetStatus::Applied, "the next change set is not blocked");

    let state = app.admin.household(household).await;
    assert_eq!(state["household"]["address"], "东村一组1号", "nothing of the rejected set was written");
    assert_eq!(state["household"]["phone"], "13900001111");
    assert_eq!(state["member"].as_array().map(Vec::len), Some(1));

    // Kept for a supervisor, with the request.
    let rejected = app.admin.ok_get("/api/v1/changesets/rejected").await;
    let kept =
        rejected.as_array().expect("list").iter().find(|r| r["changeset_id"] == bad.id.to_string()).expect("kept");
    // Listed with the ID number masked; whole only when the one change set is opened (audited).
    assert_eq!(kept["request"]["changes"][1]["fields"]["id_number"], "110105********0021");
    let whole = app
        .admin
        .ok_get(&format!("/api/v1/changesets/rejected/{}/{}", kept["device_id"].as_str().expect("device"), bad.id))
        .await;
    assert_eq!(whole["request"]["changes"][1]["fields"]["id_number"], "110105194912310021");
    // Sent again, it stays rejected rather than vanishing as a duplicate.
    assert_eq!(push(&phone, vec![bad]).await.results[0].status, ChangeSetStatus::Rejected);
    assert_eq!(phone.status().await.expect("status").rejected_changesets, 1);
}

/// Assigns officer B to a household officer A created.
async fn share_with_b(app: &TestApp, world: &World, household: Uuid) {
    app.admin.ok_post("/api/v1/assignments", json!({"officer_id": world.officer_b, "household_id": household})).await;
}

async fn offline_edits_of_different_fields_both_survive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, members) = create_household(&a, VILLAGE_1, 1).await;
    share_with_b(&app, &world, household).await;

    // Both saw version 1 and edit offline; B pushes after A.
    let ra =
        push(&a, vec![changeset(vec![change("household", household, Op::Update, 1, json!({"address": "A改的地址"}))])])
            .await;
    let rb =
        push(&b, vec![changeset(vec![change("household", household, Op::Update, 1, json!({"phone": "13700002222"}))])])
            .await;
    assert_eq!(ra.results[0].changes[0].status, ChangeStatus::Applied);
    assert_eq!(rb.results[0].changes[0].status, ChangeStatus::Applied);
    let state = app.admin.household(household).await;
    assert_eq!(state["household"]["address"], "A改的地址");
    assert_eq!(state["household"]["phone"], "13700002222");
    assert_eq!(state["household"]["version"], 3);

    // The same ordinary field: the later arrival wins and no conflict is opened.
    push(&a, vec![changeset(vec![change("member", members[1], Op::Update, 1, json!({"health": "chronic_illness"}))])])
        .await;
    let rb =
        push(&b, vec![changeset(vec![change("member", members[1], Op::Update, 1, json!({"health": "disabled"}))])])
            .await;
    assert_eq!(rb.results[0].changes[0].status, ChangeStatus::Applied);
    let state = app.admin.household(household).await;
    let member = state["member"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["id"] == members[1].to_string())
        .expect("member")
        .clone();
    assert_eq!(member["health"], "disabled");
    // The overwritten value is kept in the audit log, with who wrote each.
    let audit = app.admin.ok_get(&format!("/api/v1/households/{household}/audit")).await;
    let health: Vec<_> = audit.as_array().expect("audit").iter().filter(|e| e["field"] == "health").collect();
    assert_eq!(health.len(), 2, "{health:?}");
    assert_eq!(
        (health[1]["old_value"].as_str(), health[1]["new_value"].as_str()),
        (Some("\"chronic_illness\""), Some("\"disabled\""))
    );
    assert!(health[1]["note"].as_str().is_some_and(|n| n.contains("last writer wins")));
    assert_ne!(health[0]["device_id"], health[1]["device_id"]);
    let open = app.admin.ok_get("/api/v1/conflicts").await;
    assert_eq!(open.as_array().map(Vec::len), Some(0));
}

async fn same_sensitive_field_opens_a_conflict_that_is_listed_pulled_and_resolved(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, _) = create_household(&a, VILLAGE_1, 0).await;
    share_with_b(&app, &world, household).await;
    let (_, b_cursor) = b.pull_all(None, None).await.expect("b pulls");

    push(&a, vec![changeset(vec![change("household", household, Op::Update, 1, json!({"kind": "dibao"}))])]).await;
    let rb = push(
        &b,
        vec![changeset(vec![change(
            "household",
            household,
            Op::Update,
            1,
            json!({"kind": "wubao", "address": "B改的地址"}),
        )])],
    )
    .await;
    let result = &rb.results[0].changes[0];
    assert_eq!(rb.results[0].status, ChangeSetStatus::Applied, "the rest of the change applies");
    assert_eq!(result.status, ChangeStatus::Conflict);
    let conflict = &result.conflicts[0];
    assert_eq!(conflict.field, "kind");
    assert_eq!(
        (conflict.base_value.clone(), conflict.server_value.clone(), conflict.client_value.clone()),
        (json!("general"), json!("dibao"), json!("wubao"))
    );
    let state = app.admin.household(household).await;
    assert_eq!(state["household"]["kind"], "dibao", "the server value stays");
    assert_eq!(state["household"]["address"], "B改的地址", "the ordinary field merged");

    let listed = app.admin.ok_get("/api/v1/conflicts").await;
    assert_eq!(listed[0]["id"], conflict.id.to_string());
    assert_eq!(b.status().await.expect("status").open_conflicts, 1);
    let is_open = |c: &jingzhun_mobile_api::wire::PulledChange| {
        c.entity == "conflict" && c.id == conflict.id && c.data["status"] == "open"
    };
    let (pulled, _) = pull_until(&b, Some(b_cursor), |all| all.iter().any(is_open)).await;
    assert!(pulled.iter().any(is_open), "{pulled:?}");

    // A supervisor takes the phone's value.
    let resolved =
        app.admin.ok_post(&format!("/api/v1/conflicts/{}/resolve", conflict.id), json!({"resolution": "client"})).await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(app.admin.household(household).await["household"]["kind"], "wubao");
    let (status, again) =
        app.admin.post(&format!("/api/v1/conflicts/{}/resolve", conflict.id), json!({"resolution": "server"})).await;
    assert_eq!((status, again["error"]["code"].as_str()), (409, Some("conflict")));
    assert_eq!(app.admin.ok_get("/api/v1/conflicts").await.as_array().map(Vec::len), Some(0));
}

async fn field_rules_give_stable_codes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, members) = create_household(&phone, VILLAGE_1, 0).await;
    let member = |fields: serde_json::Value| change("member", Uuid::new_v4(), Op::Create, 0, fields);
    let taken = app.admin.household(household).await["member"][0]["id_number"].as_str().expect("id").to_owned();
    let cases = vec![
        (
            member(
                json!({"household_id": household, "name": "甲", "sex": "male", "id_number": fresh_id_number(), "relation": "head"}),
            ),
            "relation",
            "multiple_heads",
        ),
        (
            member(
                json!({"household_id": household, "name": "乙", "sex": "male", "id_number": taken, "relation": "son"}),
            ),
            "id_number",
            "duplicate_person",
        ),
        (
            member(
                json!({"household_id": household, "name": "丙", "sex": "男", "id_number": fresh_id_number(), "relation": "son"}),
            ),
            "sex",
            "unknown_code",
        ),
        (
            member(
                json!({"household_id": Uuid::new_v4(), "name": "丁", "sex": "male", "id_number": fresh_id_number(), "relation": "son"}),
            ),
            "household_id",
            "household_not_found",
        ),
        (
            member(
                json!({"household_id": household, "sex": "male", "id_number": fresh_id_number(), "relation": "son"}),
            ),
            "name",
            "required",
        ),
        (
            change(
                "household",
                household,
                Op::Update,
                1,
                json!({"poverty_causes": ["illness", "disability", "schooling", "disaster"]}),
            ),
            "poverty_causes",
            "too_many_values",
        ),
        (change("household", household, Op::Update, 1, json!({"nickname": "x"})), "nickname", "unknown_field"),
        (change("member", members[0], Op::Update, 1, json!({"relation": "son"})), "relation", "no_head"),
        (change("member", members[0], Op::Delete, 1, json!({})), "", "delete_not_allowed"),
        (
            change(
                "income",
                Uuid::new_v4(),
                Op::Create,
                0,
                json!({"household_id": household, "year": 2025, "wage": 12.345}),
            ),
            "wage",
            "invalid_money",
        ),
        (change("household", Uuid::new_v4(), Op::Update, 1, json!({"address": "x"})), "", "record_not_found"),
        (change("household", household, Op::Update, 9, json!({"address": "x"})), "", "version_ahead"),
        (change("parcel", Uuid::new_v4(), Op::Create, 0, json!({})), "", "unknown_entity"),
    ];
    for (bad, field, code) in cases {
        let res = push(&phone, vec![changeset(vec![bad])]).await;
        assert_eq!(res.results[0].status, ChangeSetStatus::Rejected, "{code}");
        let errors = &res.results[0].changes[0].errors;
        assert!(errors.iter().any(|e| e.field == field && e.code == code), "expected {field}/{code}, got {errors:?}");
    }
    // One income record per household and year.
    let income =
        |id| change("income", id, Op::Create, 0, json!({"household_id": household, "year": 2025, "wage": 1200.5}));
    assert_eq!(
        push(&phone, vec![changeset(vec![income(Uuid::new_v4())])]).await.results[0].status,
        ChangeSetStatus::Applied
    );
    let dup = push(&phone, vec![changeset(vec![income(Uuid::new_v4())])]).await;
    assert_eq!(dup.results[0].changes[0].errors[0].code, "duplicate_year");
    assert_eq!(app.admin.household(household).await["income"][0]["wage"], 1200.5);
}

async fn status_is_read_only_to_phones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    assert_eq!(app.admin.household(household).await["household"]["status"], "applicant");
    let res = push(
        &phone,
        vec![changeset(vec![change("household", household, Op::Update, 1, json!({"status": "registered"}))])],
    )
    .await;
    assert_eq!(res.results[0].changes[0].errors[0].code, "read_only_field");
    let (h2, _, mut create) = new_household(VILLAGE_1, 0);
    create[0].fields.insert("status".into(), json!("exited"));
    let res = push(&phone, vec![changeset(create)]).await;
    assert_eq!(res.results[0].changes[0].errors[0].code, "read_only_field");
    assert_eq!(app.admin.get(&format!("/api/v1/households/{h2}")).await.0, 404);
    assert_eq!(app.admin.household(household).await["household"]["status"], "applicant");
}

async fn offline_edit_survives_reassignment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&a, VILLAGE_1, 0).await;
    // While A is offline in the village, the county moves the household to B.
    let assignments = app.admin.ok_get(&format!("/api/v1/assignments?household_id={household}")).await;
    let a_assignment = assignments[0]["id"].as_str().expect("id").to_owned();
    app.admin.ok_post(&format!("/api/v1/assignments/{a_assignment}/end"), json!({})).await;
    share_with_b(&app, &world, household).await;
    // A comes back online with the visit's edit: it is applied, not lost.
    let res = push(
        &a,
        vec![changeset(vec![change("household", household, Op::Update, 1, json!({"address": "走访时更正的地址"}))])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    assert_eq!(app.admin.household(household).await["household"]["address"], "走访时更正的地址");
    let audit = app.admin.ok_get(&format!("/api/v1/households/{household}/audit")).await;
    let edit = audit.as_array().expect("audit").iter().find(|e| e["field"] == "address").expect("audited");
    assert_eq!(edit["device_id"], "phone-a");
    assert!(edit["note"].as_str().is_some_and(|n| n.contains("former assignment")), "{edit}");
    // B sees it.
    let b = app.phone("officer-b", "phone-b").await;
    let (pulled, _) = b.pull_all(None, None).await.expect("pull");
    let h = pulled.iter().find(|c| c.entity == "household" && c.id == household).expect("B has the household");
    assert_eq!(h.data["address"], "走访时更正的地址");
}

async fn push_outside_scope_is_rejected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, members) = create_household(&a, VILLAGE_1, 0).await;
    let res =
        push(&b, vec![changeset(vec![change("household", household, Op::Update, 1, json!({"address": "越权"}))])])
            .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Rejected);
    assert_eq!(res.results[0].changes[0].errors[0].code, "out_of_scope");
    let res = push(&b, vec![changeset(vec![change("member", Uuid::new_v4(), Op::Create, 0, json!({"household_id": household, "name": "x", "sex": "male", "id_number": fresh_id_number(), "relation": "son"}))])]).await;
    assert_eq!(res.results[0].changes[0].errors[0].code, "household_not_found");
    let res =
        push(&b, vec![changeset(vec![change("member", members[0], Op::Update, 1, json!({"name": "越权"}))])]).await;
    assert_eq!(res.results[0].changes[0].errors[0].code, "out_of_scope");
    // A new household outside the officer's township.
    let (_, _, mut create) = new_household(VILLAGE_1, 0);
    create[0].fields.insert("region_code".into(), json!("320703002001"));
    let res = push(&b, vec![changeset(create)]).await;
    assert_eq!(res.results[0].changes[0].errors[0].code, "invalid_region");
    // Supervisors read but never write.
    let s = app.phone("supervisor", "phone-s").await;
    let res =
        push(&s, vec![changeset(vec![change("household", household, Op::Update, 1, json!({"address": "x"}))])]).await;
    assert_eq!(res.results[0].changes[0].errors[0].code, "forbidden");
    assert_eq!(app.admin.household(household).await["household"]["address"], "东村一组1号");
}

async fn a_later_write_of_the_field_supersedes_its_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, _) = create_household(&a, VILLAGE_1, 0).await;
    share_with_b(&app, &world, household).await;
    push(&a, vec![changeset(vec![change("household", household, Op::Update, 1, json!({"kind": "dibao"}))])]).await;
    let rb =
        push(&b, vec![changeset(vec![change("household", household, Op::Update, 1, json!({"kind": "wubao"}))])]).await;
    assert_eq!(rb.results[0].changes[0].status, ChangeStatus::Conflict);
    assert_eq!(app.admin.ok_get("/api/v1/conflicts").await.as_array().map(Vec::len), Some(1));
    // B has seen the server's value (version 2) and decides: wubao after all.
    let rb =
        push(&b, vec![changeset(vec![change("household", household, Op::Update, 2, json!({"kind": "wubao"}))])]).await;
    assert_eq!(rb.results[0].changes[0].status, ChangeStatus::Applied);
    assert_eq!(app.admin.household(household).await["household"]["kind"], "wubao");
    assert_eq!(app.admin.ok_get("/api/v1/conflicts").await.as_array().map(Vec::len), Some(0), "superseded");
    let closed = app.admin.ok_get("/api/v1/conflicts?status=resolved").await;
    assert_eq!(closed[0]["resolution"], "superseded");
}
