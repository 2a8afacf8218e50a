//! Issue 9 (trust), the sync engine: pull cursors that cannot be rewound into data that
//! left the scope or borrowed from someone else (H1), officers whose assignment ended
//! (H2), conflict resolution under a push's checks (M4), no ID number oracle (M2), task
//! officers (M12), change sets at the documented maximum (M7), rejected change sets paged
//! and shown by household (L1), and a household's trail with its deleted records (L16).

use crate::harness::*;
use crate::on_both_backends;
use chrono::{Duration, Utc};
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::codes;
use jingzhun_mobile_api::fields::{self, FieldKind, Policy};
use jingzhun_mobile_api::wire::{ChangeSet, ChangeSetStatus, ChangeStatus, Op, PullOp, PushResponse};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    a_rewound_cursor_brings_no_household_that_left_the_scope,
    cursors_of_other_users_and_devices_are_refused,
    a_former_officers_offline_edit_is_judged_by_when_it_was_recorded,
    a_former_officer_cannot_delete_file_cases_upload_or_resolve,
    resolving_with_the_phones_value_respects_the_freeze_and_one_head,
    a_duplicate_id_number_outside_the_scope_is_not_confirmed,
    a_task_officer_must_follow_the_household,
    a_change_set_at_the_maximum_with_every_field_changed_applies,
    rejected_change_sets_are_paged_and_shown_by_household,
    the_household_trail_keeps_deleted_records_and_conflicts,
    a_county_announcement_of_5000_cases_closes,
);

fn error_codes(res: &PushResponse) -> Vec<String> {
    res.results[0].changes.iter().flat_map(|c| c.errors.iter().map(|e| e.code.clone())).collect()
}

fn recorded(changes: Vec<jingzhun_mobile_api::wire::Change>, at: chrono::DateTime<Utc>) -> ChangeSet {
    ChangeSet { recorded_at: Some(at), ..changeset(changes) }
}

/// A member of the household as the server holds it now.
async fn member_of(app: &TestApp, household: Uuid, member: Uuid) -> Value {
    let state = app.admin.household(household).await;
    let members = state["member"].as_array().expect("members");
    members.iter().find(|m| m["id"] == member.to_string()).expect("member").clone()
}

async fn user_id(app: &TestApp, username: &str) -> String {
    let users = app.admin.ok_get("/api/v1/users").await;
    let user = users.as_array().expect("users").iter().find(|u| u["username"] == username).expect("user");
    user["id"].as_str().expect("id").to_owned()
}

async fn assignment_of(app: &TestApp, household: Uuid) -> String {
    let list = app.admin.ok_get(&format!("/api/v1/assignments?household_id={household}")).await;
    let active = list.as_array().expect("list").iter().find(|a| a["end_date"].is_null()).expect("active assignment");
    active["id"].as_str().expect("id").to_owned()
}

/// Ends the assignment, dated `days_ago` days back (the end is a date).
async fn end_assignment(app: &TestApp, assignment: &str, days_ago: i64) {
    app.admin.ok_post(&format!("/api/v1/assignments/{assignment}/end"), json!({})).await;
    let day = (Utc::now() - Duration::days(days_ago)).date_naive();
    app.execute_sql(&format!("UPDATE assignment SET end_date = '{day}' WHERE id = '{assignment}'")).await;
}

/// A conflict on `household.kind` for officer A's value, with B holding the server's.
async fn open_kind_conflict(a: &Client, b: &Client, household: Uuid) -> Uuid {
    push(b, vec![changeset(vec![change("household", household, Op::Update, 1, json!({"kind": "dibao"}))])]).await;
    let res =
        push(a, vec![changeset(vec![change("household", household, Op::Update, 1, json!({"kind": "wubao"}))])]).await;
    assert_eq!(res.results[0].changes[0].status, ChangeStatus::Conflict, "{:?}", res.results[0]);
    res.results[0].changes[0].conflicts[0].id
}

async fn a_rewound_cursor_brings_no_household_that_left_the_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, _) = create_household(&a, VILLAGE_1, 1).await;
    let (first, start) = b.pull_all(None, None).await.expect("pull");
    assert!(first.is_empty());

    let assignment = app
        .admin
        .ok_post("/api/v1/assignments", json!({"officer_id": world.officer_b, "household_id": household}))
        .await;
    let (entered, cursor) = pull_until(&b, Some(start.clone()), |all| all.iter().any(|c| c.id == household)).await;
    assert!(entered.iter().any(|c| c.id == household && c.op == PullOp::Upsert));
    app.admin.ok_post(&format!("/api/v1/assignments/{}/end", assignment["id"].as_str().expect("id")), json!({})).await;
    push(&a, vec![changeset(vec![change("household", household, Op::Update, 1, json!({"address": "离开后才改的"}))])])
        .await;
    pull_until(&b, Some(cursor), |all| all.iter().any(|c| c.op == PullOp::Evict)).await;

    // B keeps the cursor from before the assignment and goes back to it: the old scope
    // entry is in the log, but the household is no longer B's, so nothing of it comes.
    let (rewound, _) = pull_until(&b, Some(start), |all| all.iter().any(|c| c.op == PullOp::Evict)).await;
    assert!(rewound.iter().all(|c| c.op != PullOp::Upsert), "household data after the end: {rewound:?}");
    assert_eq!(rewound.iter().filter(|c| c.op == PullOp::Evict && c.id == household).count(), 1);

    // The review's recipe: an unsigned cursor of the first version, `l1.0.0`
    // (base64url "bDEuMC4w"), is not followed; the phone is told to start over.
    let err = b.pull(Some("bDEuMC4w"), Some(2000)).await.expect_err("unsigned cursor");
    assert_eq!((err.status(), err.code()), (Some(410), Some("cursor_expired")));
    let (fresh, _) = b.pull_all(None, None).await.expect("starting over");
    assert!(fresh.iter().all(|c| c.id != household), "{fresh:?}");
}

async fn cursors_of_other_users_and_devices_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    create_household(&a, VILLAGE_1, 0).await;
    let (_, cursor) = a.pull_all(None, None).await.expect("pull");
    a.pull(Some(&cursor), None).await.expect("the owner follows it");

    let err = b.pull(Some(&cursor), None).await.expect_err("another user's cursor");
    assert_eq!((err.status(), err.code()), (Some(400), Some("invalid_cursor")));
    let a2 = app.phone("officer-a", "phone-a2").await;
    let err = a2.pull(Some(&cursor), None).await.expect_err("another device's cursor");
    assert_eq!((err.status(), err.code()), (Some(400), Some("invalid_cursor")));
    // Any edit breaks the signature.
    let mut forged: Vec<char> = cursor.chars().collect();
    let i = forged.len() / 3;
    forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    let err = a.pull(Some(&forged), None).await.expect_err("edited cursor");
    assert_eq!((err.status(), err.code()), (Some(400), Some("invalid_cursor")));
}

async fn a_former_officers_offline_edit_is_judged_by_when_it_was_recorded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let (household, members) = create_household(&a, VILLAGE_1, 1).await;
    let assignment = assignment_of(&app, household).await;
    end_assignment(&app, &assignment, 1).await;

    // Recorded offline two days ago, before the assignment ended yesterday: applied.
    let before = recorded(
        vec![
            change("member", members[1], Op::Update, 1, json!({"health": "disabled"})),
            change(
                "visit_log",
                Uuid::new_v4(),
                Op::Create,
                0,
                json!({"household_id": household, "visited_on": "2026-12-01", "note": "走访"}),
            ),
        ],
        Utc::now() - Duration::days(2),
    );
    let res = push(&a, vec![before]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    let audit = app.admin.ok_get(&format!("/api/v1/households/{household}/audit")).await;
    let edit = audit.as_array().expect("audit").iter().find(|e| e["field"] == "health").expect("audited");
    assert!(edit["note"].as_str().is_some_and(|n| n.contains("former assignment")), "{edit}");

    // Recorded today, after the end: kept for a supervisor, not applied.
    let after = recorded(vec![change("member", members[1], Op::Update, 2, json!({"health": "healthy"}))], Utc::now());
    let res = push(&a, vec![after.clone()]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Rejected);
    assert_eq!(error_codes(&res), ["assignment_ended"]);
    assert_eq!(member_of(&app, household, members[1]).await["health"], "disabled");

    // Past the grace window (14 days after the end) even an early edit is kept aside.
    app.clock.advance(Duration::days(15));
    let late = recorded(
        vec![change("member", members[1], Op::Update, 2, json!({"health": "serious_illness"}))],
        Utc::now() - Duration::days(3),
    );
    let res = push(&a, vec![late.clone()]).await;
    assert_eq!(error_codes(&res), ["assignment_ended"]);
    assert_eq!(member_of(&app, household, members[1]).await["health"], "disabled");
    let rejected = app.admin.ok_get("/api/v1/changesets/rejected").await;
    for kept in [after.id, late.id] {
        assert!(rejected.as_array().expect("list").iter().any(|r| r["changeset_id"] == kept.to_string()), "{kept}");
    }
}

async fn a_former_officer_cannot_delete_file_cases_upload_or_resolve(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, _) = create_household(&a, VILLAGE_1, 0).await;
    app.admin.ok_post("/api/v1/assignments", json!({"officer_id": world.officer_b, "household_id": household})).await;
    let visit = Uuid::new_v4();
    let created = push(
        &a,
        vec![changeset(vec![change(
            "visit_log",
            visit,
            Op::Create,
            0,
            json!({"household_id": household, "visited_on": "2026-12-01", "note": "走访"}),
        )])],
    )
    .await;
    assert_eq!(created.results[0].status, ChangeSetStatus::Applied);
    let conflict = open_kind_conflict(&a, &b, household).await;
    let assignment = assignment_of(&app, household).await;
    let a_assignment = {
        let list = app.admin.ok_get(&format!("/api/v1/assignments?household_id={household}")).await;
        let officer_a = user_id(&app, "officer-a").await;
        let mine = list.as_array().expect("list").iter().find(|x| x["officer_id"] == officer_a).expect("a's");
        mine["id"].as_str().expect("id").to_owned()
    };
    assert!(!assignment.is_empty());
    end_assignment(&app, &a_assignment, 0).await;
    let yesterday = Utc::now() - Duration::days(1);

    let delete = recorded(vec![change("visit_log", visit, Op::Delete, 1, json!({}))], yesterday);
    assert_eq!(error_codes(&push(&a, vec![delete]).await), ["assignment_ended"]);
    let case = recorded(
        vec![change("case", Uuid::new_v4(), Op::Create, 0, json!({"household_id": household, "kind": "identify"}))],
        yesterday,
    );
    assert_eq!(error_codes(&push(&a, vec![case]).await), ["assignment_ended"]);
    assert_eq!(app.admin.household(household).await["visit_log"].as_array().map(Vec::len), Some(1));

    let web = Admin::login(&app.base, "officer-a", PASSWORD).await;
    let (status, body) =
        web.post(&format!("/api/v1/conflicts/{conflict}/resolve"), json!({"resolution": "client"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("assignment_ended")), "{body}");
    assert_eq!(app.admin.household(household).await["household"]["kind"], "dibao");
    let (status, _) = web.post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    assert_ne!(status, 200, "a former officer files no case online either");
    let upload = a.upload_attachment(household, "x.png", "image/png", b"\x89PNG\r\n\x1a\nxxxx".to_vec()).await;
    assert_eq!(upload.expect_err("upload refused").status(), Some(403));

    // A supervisor reads and never resolves.
    let supervisor = Admin::login(&app.base, "supervisor", PASSWORD).await;
    let (status, body) =
        supervisor.post(&format!("/api/v1/conflicts/{conflict}/resolve"), json!({"resolution": "server"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
}

async fn resolving_with_the_phones_value_respects_the_freeze_and_one_head(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, members) = create_household(&a, VILLAGE_1, 1).await;
    app.admin.ok_post("/api/v1/assignments", json!({"officer_id": world.officer_b, "household_id": household})).await;
    let officer = Admin::login(&app.base, "officer-a", PASSWORD).await;
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;

    // R8: the phone's "head" for the second member would make two heads.
    push(&b, vec![changeset(vec![change("member", members[1], Op::Update, 1, json!({"relation": "daughter"}))])]).await;
    let res =
        push(&a, vec![changeset(vec![change("member", members[1], Op::Update, 1, json!({"relation": "head"}))])]).await;
    let heads = res.results[0].changes[0].conflicts[0].id;
    let (status, body) =
        village.post(&format!("/api/v1/conflicts/{heads}/resolve"), json!({"resolution": "client"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("multiple_heads")), "{body}");
    assert_eq!(member_of(&app, household, members[1]).await["relation"], "daughter");

    // The freeze: once the village has signed, the officer may not write the phone's value.
    let conflict = open_kind_conflict(&a, &b, household).await;
    let case = village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("id").to_owned();
    for (step, signer) in [
        ("application", &officer),
        ("home_verification", &officer),
        ("comparison", &township),
        ("village_assessment", &village),
    ] {
        assert_eq!(pass_step(&app, signer, &case, step).await.0, 200, "{step}");
    }
    let (status, body) =
        officer.post(&format!("/api/v1/conflicts/{conflict}/resolve"), json!({"resolution": "client"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("case_frozen")), "{body}");
    assert_eq!(app.admin.household(household).await["household"]["kind"], "dibao");
    // Keeping the server's value is still open.
    let kept = officer.ok_post(&format!("/api/v1/conflicts/{conflict}/resolve"), json!({"resolution": "server"})).await;
    assert_eq!(kept["resolution"], "server");
}

async fn a_duplicate_id_number_outside_the_scope_is_not_confirmed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let county = app.phone("county", "phone-c").await;
    let (mine, _) = create_household(&a, VILLAGE_1, 0).await;
    let (elsewhere, _) = create_household(&county, VILLAGE_2, 0).await;
    let registered = app.admin.household(elsewhere).await["member"][0]["id_number"].as_str().expect("id").to_owned();
    let own = app.admin.household(mine).await["member"][0]["id_number"].as_str().expect("id").to_owned();
    let probe = |id_number: &str| {
        changeset(vec![
            change(
                "member",
                Uuid::new_v4(),
                Op::Create,
                0,
                json!({"household_id": mine, "name": "探", "sex": "male", "id_number": id_number, "relation": "son"}),
            ),
            // The review's trick: a broken second change so nothing is written.
            change("nope", Uuid::new_v4(), Op::Create, 0, json!({})),
        ])
    };
    // In the officer's own scope the duplicate is named.
    assert!(error_codes(&push(&a, vec![probe(&own)]).await).contains(&"duplicate_person".to_owned()));
    // Outside it: a generic answer, and the look-up is audited.
    let res = push(&a, vec![probe(&registered)]).await;
    let codes = error_codes(&res);
    assert!(codes.contains(&"needs_review".to_owned()) && !codes.contains(&"duplicate_person".to_owned()), "{codes:?}");
    let audit = app.admin.ok_get(&format!("/api/v1/households/{mine}/audit")).await;
    let lookup = audit.as_array().expect("audit").iter().find(|e| e["action"] == "id_number_lookup").expect("audited");
    assert!(!lookup.to_string().contains(&registered), "the audit keeps the number masked: {lookup}");
    // Repeated hits: after a few a day, every ID number is refused unseen.
    for _ in 0..4 {
        push(&a, vec![probe(&registered)]).await;
    }
    let res = push(&a, vec![changeset(vec![probe(&fresh_id_number()).changes[0].clone()])]).await;
    assert_eq!(error_codes(&res), ["too_many_attempts"]);
}

async fn a_task_officer_must_follow_the_household(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&a, VILLAGE_1, 0).await;
    let officer_a = user_id(&app, "officer-a").await;
    let admin_id = user_id(&app, "admin").await;
    let plan = Uuid::new_v4();
    let res = push(
        &a,
        vec![changeset(vec![change(
            "help_plan",
            plan,
            Op::Create,
            0,
            json!({"household_id": household, "year": 2026}),
        )])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    let task = |officer: &str| {
        change(
            "plan_task",
            Uuid::new_v4(),
            Op::Create,
            0,
            json!({"household_id": household, "plan_id": plan, "title": "修缮房屋", "due_date": "2026-12-31", "officer_id": officer}),
        )
    };
    for stranger in [world.officer_b.as_str(), admin_id.as_str()] {
        let res = push(&a, vec![changeset(vec![task(stranger)])]).await;
        assert_eq!(res.results[0].changes[0].errors[0].field, "officer_id");
        assert_eq!(error_codes(&res), ["invalid_officer"]);
    }
    let mine = task(&officer_a);
    let task_id = mine.id;
    assert_eq!(push(&a, vec![changeset(vec![mine])]).await.results[0].status, ChangeSetStatus::Applied);
    let handover = change("plan_task", task_id, Op::Update, 1, json!({"officer_id": world.officer_b}));
    assert_eq!(error_codes(&push(&a, vec![changeset(vec![handover.clone()])]).await), ["invalid_officer"]);
    app.admin.ok_post("/api/v1/assignments", json!({"officer_id": world.officer_b, "household_id": household})).await;
    assert_eq!(push(&a, vec![changeset(vec![handover])]).await.results[0].status, ChangeSetStatus::Applied);
}

/// A valid value of `field` different from what `new_household`-style creates hold.
fn other_value(field: &fields::FieldSpec, i: usize, head: bool) -> Option<Value> {
    Some(match field.kind {
        FieldKind::Text { max_chars } => json!(format!("改{i}").chars().take(max_chars).collect::<String>()),
        FieldKind::Int { min, max } => json!((min + 1).min(max)),
        FieldKind::Bool => json!(true),
        FieldKind::IdNumber => json!(fresh_id_number()),
        FieldKind::Phone => json!("13900001111"),
        FieldKind::Code { table } => {
            let wanted = match (table, head) {
                ("relation", true) => return None,
                ("relation", false) => "daughter",
                ("sex", _) => "female",
                ("health", _) => "disabled",
                // The number given is an 18-digit ID; 无证件 (the table's last) takes none.
                ("id_type", _) => "resident_id_card",
                _ => codes::ALL.iter().find(|t| t.name == table)?.codes.last()?.code,
            };
            json!(wanted)
        }
        _ => return None,
    })
}

async fn a_change_set_at_the_maximum_with_every_field_changed_applies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let schema = a.schema().await.expect("schema");
    let max = schema.max_changes_per_changeset;
    assert_eq!(max, 500, "the largest change set is stated in /schema");

    // The household and 499 members, then one more: every change set at the maximum.
    let (household, mut members, changes) = new_household(VILLAGE_1, max - 2);
    assert_eq!(changes.len(), max);
    let res = push(&a, vec![changeset(changes)]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0].changes.first());
    let last = Uuid::new_v4();
    members.push(last);
    let more = change(
        "member",
        last,
        Op::Create,
        0,
        json!({"household_id": household, "name": "末", "sex": "male", "id_number": fresh_id_number(), "relation": "son"}),
    );
    assert_eq!(push(&a, vec![changeset(vec![more])]).await.results[0].status, ChangeSetStatus::Applied);

    // Every member, every field a phone may change: 500 × 27 audit entries in one set.
    let editable: Vec<&fields::FieldSpec> =
        fields::MEMBER.fields.iter().filter(|f| matches!(f.policy, Policy::Lww | Policy::Manual)).collect();
    let updates: Vec<_> = members
        .iter()
        .enumerate()
        .map(|(i, member)| {
            let values: serde_json::Map<String, Value> =
                editable.iter().filter_map(|f| other_value(f, i, i == 0).map(|v| (f.name.to_owned(), v))).collect();
            change("member", *member, Op::Update, 1, Value::Object(values))
        })
        .collect();
    assert_eq!(updates.len(), max);
    assert!(updates[1].fields.len() >= 25, "{}", updates[1].fields.len());
    let res = push(&a, vec![changeset(updates)]).await;
    assert_eq!(
        res.results[0].status,
        ChangeSetStatus::Applied,
        "{:?}",
        res.results[0].changes.iter().find(|c| !c.errors.is_empty())
    );
    let state = app.admin.household(household).await;
    let updated = state["member"].as_array().expect("members");
    assert_eq!(updated.len(), max);
    assert!(updated.iter().all(|m| m["version"] == 2 && m["phone"] == "13900001111"), "{}", updated[1]);
}

async fn rejected_change_sets_are_paged_and_shown_by_household(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    // A second county, and a village worker with a role in each county.
    for (code, level, parent) in [
        ("320704000000", "county", "320700000000"),
        ("320704001000", "township", "320704000000"),
        ("320704001001", "village", "320704001000"),
    ] {
        app.admin
            .ok_post("/api/v1/regions", json!({"code": code, "name": code, "level": level, "parent_code": parent}))
            .await;
    }
    for (username, roles) in [
        ("county-b", json!([{"role": "county", "region_code": "320704000000"}])),
        (
            "two-villages",
            json!([{"role": "village", "region_code": VILLAGE_1}, {"role": "village", "region_code": "320704001001"}]),
        ),
    ] {
        app.admin
            .ok_post(
                "/api/v1/users",
                json!({"username": username, "name": username, "password": PASSWORD, "roles": roles}),
            )
            .await;
    }
    let worker = app.phone("two-villages", "phone-w").await;
    let (in_b, _) = create_household(&worker, "320704001001", 0).await;
    let bad = changeset(vec![change("household", in_b, Op::Update, 1, json!({"address": "乙县的地址", "nope": 1}))]);
    assert_eq!(push(&worker, vec![bad.clone()]).await.results[0].status, ChangeSetStatus::Rejected);
    let listed = |list: &Value| list.as_array().expect("list").iter().any(|r| r["changeset_id"] == bad.id.to_string());
    let county_a = Admin::login(&app.base, "county", PASSWORD).await;
    let county_b = Admin::login(&app.base, "county-b", PASSWORD).await;
    assert!(!listed(&county_a.ok_get("/api/v1/changesets/rejected").await), "county A sees county B's household");
    assert!(listed(&county_b.ok_get("/api/v1/changesets/rejected").await));
    // Paged, newest first.
    let a = app.phone("officer-a", "phone-a").await;
    let (mine, _) = create_household(&a, VILLAGE_1, 0).await;
    let mut sent = Vec::new();
    for i in 0..3 {
        let cs =
            changeset(vec![change("household", mine, Op::Update, 1, json!({"address": format!("{i}"), "nope": i}))]);
        sent.push(cs.id.to_string());
        push(&a, vec![cs]).await;
    }
    let first = county_a.ok_get("/api/v1/changesets/rejected?limit=2").await;
    let first = first.as_array().expect("page").clone();
    assert_eq!(first.len(), 2);
    let after = first[1]["changeset_id"].as_str().expect("id");
    let second = county_a.ok_get(&format!("/api/v1/changesets/rejected?limit=2&after={after}")).await;
    let ids: Vec<String> = first
        .iter()
        .chain(second.as_array().expect("page"))
        .map(|r| r["changeset_id"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    sent.reverse();
    assert_eq!(ids, sent);

    // One change set across both counties: listed for each, its values for neither.
    let (in_a, _) = create_household(&worker, VILLAGE_1, 0).await;
    let across = changeset(vec![
        change("household", in_a, Op::Update, 1, json!({"address": "甲县的地址"})),
        change("household", in_b, Op::Update, 1, json!({"address": "乙县的地址二", "nope": 1})),
    ]);
    assert_eq!(push(&worker, vec![across.clone()]).await.results[0].status, ChangeSetStatus::Rejected);
    for county in [&county_a, &county_b] {
        let list = county.ok_get("/api/v1/changesets/rejected").await;
        let row = list.as_array().expect("list").iter().find(|r| r["changeset_id"] == across.id.to_string()).cloned();
        let row = row.expect("listed for a reader of either household");
        assert_eq!(row["values_withheld"], true, "{row}");
        assert!(!row.to_string().contains("地址"), "no values: {row}");
    }

    // An applied change set's stored copy keeps no ID number.
    let number = fresh_id_number();
    let add = change(
        "member",
        Uuid::new_v4(),
        Op::Create,
        0,
        json!({"household_id": mine, "name": "新", "sex": "male", "id_number": number, "relation": "son"}),
    );
    assert_eq!(push(&a, vec![changeset(vec![add])]).await.results[0].status, ChangeSetStatus::Applied);
    use sea_orm::{ConnectionTrait, Database, Statement};
    let conn = Database::connect(&app.database_url).await.expect("connect");
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT request FROM changeset_receipt WHERE status = 'applied'",
        ))
        .await
        .expect("receipts");
    assert!(!rows.is_empty());
    for row in rows {
        let request: String = row.try_get_by_index(0).expect("request");
        assert!(!request.contains(&number), "{request}");
    }
    let _ = conn.close().await;
}

async fn the_household_trail_keeps_deleted_records_and_conflicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, _) = create_household(&a, VILLAGE_1, 0).await;
    app.admin.ok_post("/api/v1/assignments", json!({"officer_id": world.officer_b, "household_id": household})).await;
    let visit = Uuid::new_v4();
    let create = change(
        "visit_log",
        visit,
        Op::Create,
        0,
        json!({"household_id": household, "visited_on": "2026-12-01", "note": "记错了"}),
    );
    push(&a, vec![changeset(vec![create])]).await;
    let res = push(&a, vec![changeset(vec![change("visit_log", visit, Op::Delete, 1, json!({}))])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);
    let conflict = open_kind_conflict(&a, &b, household).await;
    app.admin.ok_post(&format!("/api/v1/conflicts/{conflict}/resolve"), json!({"resolution": "server"})).await;

    let audit = app.admin.ok_get(&format!("/api/v1/households/{household}/audit")).await;
    let entries = audit.as_array().expect("audit");
    let has = |action: &str, id: &str| entries.iter().any(|e| e["action"] == action && e["entity_id"] == id);
    assert!(has("create", &visit.to_string()) && has("delete", &visit.to_string()), "{audit}");
    assert!(has("resolve_conflict", &conflict.to_string()), "{audit}");
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap_or(0)).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first, once each");
}

/// M7: closing a county announcement writes each case's move, sign-off, change-log and
/// audit rows in one transaction. With 5,000 cases that is far past a backend's bound
/// parameters for one statement; the writers chunk, so the close completes.
async fn a_county_announcement_of_5000_cases_closes(backend: Backend) {
    use sea_orm::{ConnectionTrait, Statement};
    const CASES: usize = 5_000;
    let app = TestApp::spawn(backend).await;
    jingzhun_tools::demo::load(&app.state.db, "demo1234").await.expect("demo county");
    let conn = &app.state.db.conn;
    let db = conn.get_database_backend();
    let households: Vec<String> = conn
        .query_all_raw(Statement::from_string(
            db,
            "SELECT id FROM household WHERE region_code LIKE '320703%' ORDER BY id",
        ))
        .await
        .expect("households")
        .iter()
        .map(|row| row.try_get_by_index(0).expect("id"))
        .collect();
    // Exit applications waiting at the county's announcement, as many as a big county's
    // year-end brings, spread over the demo county's households (marked by their note).
    let now = Utc::now().to_rfc3339();
    for chunk in (0..CASES).collect::<Vec<_>>().chunks(250) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "('{}', '{}', 'exit', 'M7', 'open', 'announcement', 1, '{{}}', '{now}', '{now}')",
                    Uuid::new_v4(),
                    households[i % households.len()]
                )
            })
            .collect();
        conn.execute_unprepared(&format!(
            "INSERT INTO procedure_case (id, household_id, kind, note, status, step, version, field_versions, created_at, updated_at) VALUES {}",
            rows.join(", ")
        ))
        .await
        .expect("cases");
    }
    let county = Admin::login(&app.base, "county", "demo1234").await;
    let notice =
        county.ok_post("/api/v1/notices", json!({"step": "announcement", "region_code": "320703000000"})).await;
    let id = notice["id"].as_str().expect("notice id").to_owned();
    let published = county.ok_post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    let listed = published["content"]["entries"].as_array().expect("entries").len();
    assert!(listed >= CASES, "every waiting case is listed: {listed}");
    app.clock.advance(Duration::days(8));
    // The close the server runs every minute (no request timeout around it).
    jingzhun::notices::notice::close(&app.state.db, &id, app.clock.now()).await.expect("the notice closes");
    let completed = app.count("SELECT COUNT(*) FROM procedure_case WHERE note = 'M7' AND status = 'completed'").await;
    assert_eq!(completed, CASES as i64);
    let signoffs = app.count(
        "SELECT COUNT(*) FROM case_signoff WHERE step = 'announcement' AND case_id IN (SELECT id FROM procedure_case WHERE note = 'M7')",
    )
    .await;
    assert_eq!(signoffs, CASES as i64);
}
