//! 帮扶分配's bulk move in the cases the happy path in `console_sync` leaves out: an
//! officer whose role was removed (listed by `/officers` as one who holds households but
//! no role, and moved away from), two moves at once (a double click, two clerks) that
//! must not give a household twice, each refusal with its own code, and `/officers`
//! only for those who assign, counting their own households only.

use crate::harness::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(a_removed_officers_households_are_listed_and_moved, two_moves_at_once_give_no_household_twice,);

async fn user_id(app: &TestApp, username: &str) -> String {
    let users = app.admin.ok_get("/api/v1/users").await;
    let user = users.as_array().expect("users").iter().find(|u| u["username"] == username).expect("user");
    user["id"].as_str().expect("id").to_owned()
}

fn choice<'a>(officers: &'a Value, name: &str) -> Option<&'a Value> {
    officers.as_array().expect("a list").iter().find(|o| o["name"] == name)
}

fn texts(list: &Value) -> Vec<String> {
    let mut out: Vec<String> =
        list.as_array().expect("a list").iter().map(|v| v.as_str().expect("text").into()).collect();
    out.sort();
    out
}

async fn a_removed_officers_households_are_listed_and_moved(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let officer_a = user_id(&app, "officer-a").await;
    let a = app.phone("officer-a", "phone-a").await;
    let mut created = vec![
        create_household(&a, VILLAGE_1, 0).await.0.to_string(),
        create_household(&a, VILLAGE_2, 0).await.0.to_string(),
    ];
    created.sort();
    // officer-a leaves: the county takes the role away; the assignments stay behind.
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let (status, body) = county
        .post(&format!("/api/v1/users/{officer_a}/roles/remove"), json!({"role": "officer", "region_code": TOWNSHIP}))
        .await;
    assert_eq!(status, 204, "{body}");

    // The township still finds them, as one holding households and no role.
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;
    let officers = township.ok_get("/api/v1/officers").await;
    let former = choice(&officers, "officer-a").expect("officer-a listed while holding households");
    assert_eq!(
        (former["officer_role"].clone(), former["households"].clone(), former["region_code"].clone()),
        (json!(false), json!(2), Value::Null),
        "{officers}"
    );
    let b = choice(&officers, "officer-b").expect("officer-b");
    assert_eq!((b["officer_role"].clone(), b["households"].clone()), (json!(true), json!(0)), "{officers}");

    // Refusals, each with its own code, nothing moved.
    let same = json!({"from_officer_id": officer_a, "to_officer_id": officer_a});
    let (status, body) = township.post("/api/v1/assignments/reassign", same).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("same_officer")), "{body}");
    let to_former = json!({"from_officer_id": world.officer_b, "to_officer_id": officer_a});
    let (status, body) = township.post("/api/v1/assignments/reassign", to_former).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("not_an_officer")),
        "the one who left takes none: {body}"
    );
    let (status, body) = township.get("/api/v1/assignment-summaries?status=finished").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("unknown_assignment_status")), "{body}");
    assert!(body["error"]["message_zh"].as_str().is_some_and(|m| m.contains("active")), "{body}");
    // A household officer-a never held (officer-b's own) is not theirs to move.
    let bs = create_household(&app.phone("officer-b", "phone-b").await, VILLAGE_1, 0).await.0.to_string();
    let officer_c = county
        .ok_post(
            "/api/v1/users",
            json!({"username": "officer-c", "name": "officer-c", "password": PASSWORD,
                   "roles": [{"role": "officer", "region_code": TOWNSHIP}]}),
        )
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let not_theirs = json!({"from_officer_id": officer_a, "to_officer_id": officer_c, "household_ids": [bs]});
    let (status, body) = township.post("/api/v1/assignments/reassign", not_theirs).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("not_assigned_to_officer")), "{body}");
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM assignment WHERE officer_id = '{officer_a}' AND end_date IS NULL"))
            .await,
        2
    );

    // The move itself: the per-household edit scope is the guard, not the leaver's role.
    let moved = township
        .ok_post(
            "/api/v1/assignments/reassign",
            json!({"from_officer_id": officer_a, "to_officer_id": world.officer_b}),
        )
        .await;
    assert_eq!((texts(&moved["moved"]), texts(&moved["already"])), (created.clone(), vec![]), "{moved}");
    let of_b = township.ok_get(&format!("/api/v1/assignment-summaries?officer_id={}", world.officer_b)).await;
    assert_eq!(of_b["total"], 3, "officer-b's own and officer-a's two: {of_b}");
    // Once they hold nothing here, the one who left drops out of the choices.
    let officers = township.ok_get("/api/v1/officers").await;
    assert!(choice(&officers, "officer-a").is_none(), "{officers}");
    assert_eq!(choice(&officers, "officer-b").map(|o| o["households"].clone()), Some(json!(3)), "{officers}");

    // The village team counts only its own village's households (two of officer-b's three).
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let officers = village.ok_get("/api/v1/officers").await;
    assert_eq!(choice(&officers, "officer-b").map(|o| o["households"].clone()), Some(json!(2)), "{officers}");
    // Who only reads, or is an officer, gets no list of sign-in names.
    for who in ["verifier-1", "supervisor", "officer-b"] {
        let reader = Admin::login(&app.base, who, PASSWORD).await;
        let (status, body) = reader.get("/api/v1/officers").await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{who}: {body}");
    }
}

async fn two_moves_at_once_give_no_household_twice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let officer_a = user_id(&app, "officer-a").await;
    let a = app.phone("officer-a", "phone-a").await;
    let mut created = Vec::new();
    for village in [VILLAGE_1, VILLAGE_1, VILLAGE_2, VILLAGE_2] {
        created.push(create_household(&a, village, 0).await.0.to_string());
    }
    created.sort();
    let first = Admin::login(&app.base, "township-1", PASSWORD).await;
    let second = Admin::login(&app.base, "township-1", PASSWORD).await;
    let enters_before = app.count("SELECT COUNT(*) FROM change_log WHERE op = 'enter'").await;
    // Back and forth, a double click each way: every round must leave one open assignment
    // per household, with the one officer it went to. A race, so five rounds: with the end
    // unguarded (no `end_date IS NULL`) three rounds failed two runs in three on PostgreSQL.
    let mut rounds = 0;
    let (a_to_b, b_to_a) = ((&officer_a, &world.officer_b), (&world.officer_b, &officer_a));
    for (from, to) in [a_to_b, b_to_a, a_to_b, b_to_a, a_to_b] {
        let body = json!({"from_officer_id": from, "to_officer_id": to});
        let ((s1, r1), (s2, r2)) = tokio::join!(
            first.post("/api/v1/assignments/reassign", body.clone()),
            second.post("/api/v1/assignments/reassign", body.clone()),
        );
        assert_eq!((s1, s2), (200, 200), "{r1} {r2}");
        let mut moved = texts(&r1["moved"]);
        moved.extend(texts(&r2["moved"]));
        moved.sort();
        assert_eq!(moved, created, "each household moved by exactly one of the two: {r1} {r2}");
        let open = app.count("SELECT COUNT(*) FROM assignment WHERE end_date IS NULL").await;
        assert_eq!(open, 4, "one open assignment per household after round {rounds}");
        let theirs =
            app.count(&format!("SELECT COUNT(*) FROM assignment WHERE end_date IS NULL AND officer_id = '{to}'")).await;
        assert_eq!(theirs, 4, "all with the officer they went to");
        rounds += 1;
    }
    // Each household entered a phone once per round, never twice.
    let enters = app.count("SELECT COUNT(*) FROM change_log WHERE op = 'enter'").await - enters_before;
    assert_eq!(enters, 4 * rounds, "one enter event per household and move");
    let assigns = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'assign' AND note LIKE 'reassigned%'").await;
    assert_eq!(assigns, 4 * rounds, "one assign entry per household and move");

    // The same assignment asked twice at once: one is made, the other is told it exists.
    let household = &created[0];
    let body = json!({"officer_id": officer_a, "household_id": household});
    let ((s1, r1), (s2, r2)) = tokio::join!(
        first.post("/api/v1/assignments", body.clone()),
        second.post("/api/v1/assignments", body.clone()),
    );
    let mut statuses = [s1, s2];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{r1} {r2}");
    let held = app
        .count(&format!("SELECT COUNT(*) FROM assignment WHERE end_date IS NULL AND household_id = '{household}'"))
        .await;
    assert_eq!(held, 2, "officer-b's and officer-a's, once each");
}
