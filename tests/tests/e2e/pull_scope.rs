//! Pull by scope (issue 14 item 2): an incremental pull reads the caller's part of the
//! change log, not every row after the cursor. One test proves the plan of the very
//! statement the pull runs on a log of many counties (no whole scan of `change_log`), the
//! other that each caller's incremental pull after many changes outside its scope
//! returns exactly the changes inside it.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun::records::changelog::Position;
use jingzhun::records::scope::LogScope;
use jingzhun::sync::pull::log_statement;
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op, PullOp, PulledChange};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use uuid::Uuid;

on_both_backends!(
    the_log_is_read_by_index_ranges_of_the_scope,
    an_incremental_pull_after_many_changes_elsewhere_returns_exactly_the_callers,
);

/// Log rows of other counties, townships and villages, 2,000 households in all: enough
/// that walking the log by position costs far more than walking one scope.
const OTHER_ROWS: i64 = 20_000;

/// The indexes that walk one part of a scope. `change_log_position` walks everything
/// after the cursor, whoever asks: the cost this issue removes.
const SCOPE_INDEXES: [&str; 3] = ["change_log_household", "change_log_target", "change_log_region"];

async fn the_log_is_read_by_index_ranges_of_the_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    create_household(&a, VILLAGE_1, 1).await;
    create_household(&a, VILLAGE_2, 0).await;
    let officer_id = user_id(&app, "officer-a").await;

    // 20 counties of 5 townships of 9 villages, one transaction per row.
    app.execute_sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {OTHER_ROWS}) \
         INSERT INTO change_log (tx, entity, entity_id, household_id, region_code, target_user, op, version, at) \
         SELECT 100000 + i, 'household', 'e' || CAST(i AS TEXT), 'h' || CAST(i % 2000 AS TEXT), \
         CAST(320700000000 + (1 + i % 20) * 1000000 + (1 + (i / 20) % 5) * 1000 + (1 + (i / 100) % 9) AS TEXT), \
         NULL, 'upsert', 1, CURRENT_TIMESTAMP FROM n"
    ))
    .await;

    // Before the tables have statistics (a database just loaded, before autovacuum's
    // first ANALYZE: PostgreSQL then walked `change_log_target` for `target_user IS NULL`)
    // and after.
    for analyzed in [false, true] {
        if analyzed {
            app.execute_sql("ANALYZE").await;
        }
        check_plans(&app, &officer_id, analyzed).await;
    }
}

async fn check_plans(app: &TestApp, officer_id: &str, analyzed: bool) {
    let conn = &app.state.db.conn;
    let officer_id = officer_id.to_owned();
    let upto = Position { tx: i64::MAX, seq: i64::MAX };
    let scopes = [
        ("an officer", LogScope { user_id: officer_id.clone(), officer: true, prefixes: vec![] }),
        ("a village team", LogScope { user_id: officer_id.clone(), officer: false, prefixes: vec![VILLAGE_1.into()] }),
        ("a township", LogScope { user_id: officer_id.clone(), officer: false, prefixes: vec!["320703001".into()] }),
        ("a county", LogScope { user_id: officer_id.clone(), officer: false, prefixes: vec!["320703".into()] }),
        (
            "an officer who also reads a village",
            LogScope { user_id: officer_id.clone(), officer: true, prefixes: vec![VILLAGE_2.into()] },
        ),
    ];
    for (who, scope) in scopes {
        // Each part of the scope by its own index: the scope events by the user, the
        // officer's households by household, the regions by region. A part that walks
        // another index (`change_log_target` for `target_user IS NULL`: every row) fails.
        let mut expected = vec!["change_log_target"];
        if scope.officer {
            expected.push("change_log_household");
        }
        expected.extend(scope.prefixes.iter().map(|_| "change_log_region"));
        expected.sort();
        // From the very start, and from a cursor in the middle of the log.
        for after in [Position::START, Position { tx: 100000 + OTHER_ROWS / 2, seq: 0 }] {
            let statement = log_statement(conn.get_database_backend(), &scope, after, upto, 501);
            let plan = explain(conn, &statement).await;
            for (node, index) in &plan {
                match index.as_deref() {
                    Some(index) if SCOPE_INDEXES.contains(&index) => {}
                    _ => panic!(
                        "{who} (analyzed: {analyzed}): the change log is walked whole ({node}) in {plan:?}\n{}",
                        statement.sql
                    ),
                }
            }
            let mut used: Vec<&str> = plan.iter().filter_map(|(_, index)| index.as_deref()).collect();
            used.sort();
            assert_eq!(
                used, expected,
                "{who} (analyzed: {analyzed}): each part by its own index in {plan:?}\n{}",
                statement.sql
            );
        }
    }
}

/// How the plan reads `change_log`: each access with the index it walks (None: a scan
/// of the table itself).
async fn explain(conn: &sea_orm::DatabaseConnection, statement: &Statement) -> Vec<(String, Option<String>)> {
    let backend = conn.get_database_backend();
    let values = statement.values.clone().map(|v| v.0).unwrap_or_default();
    let mut out = Vec::new();
    if backend == sea_orm::DbBackend::Postgres {
        let text = format!("EXPLAIN (FORMAT JSON) {}", statement.sql);
        let row = conn
            .query_one_raw(Statement::from_sql_and_values(backend, text, values))
            .await
            .expect("explain")
            .expect("a plan");
        let plan: Value = row.try_get("", "QUERY PLAN").expect("the plan as JSON");
        walk(&plan, &mut out);
    } else {
        let text = format!("EXPLAIN QUERY PLAN {}", statement.sql);
        for row in conn.query_all_raw(Statement::from_sql_and_values(backend, text, values)).await.expect("explain") {
            let detail: String = row.try_get("", "detail").expect("detail");
            // "SEARCH change_log USING INDEX change_log_household (household_id=? AND tx>?)",
            // "SCAN change_log", "SCAN change_log USING INDEX change_log_position".
            let mut words = detail.split_whitespace();
            let (Some(_), Some("change_log")) = (words.next(), words.next()) else { continue };
            let index = if detail.starts_with("SEARCH") {
                detail.split_whitespace().skip_while(|w| *w != "INDEX").nth(1).map(str::to_owned)
            } else {
                None
            };
            out.push((detail, index));
        }
    }
    out
}

/// The PostgreSQL plan's accesses to `change_log`: a bitmap heap scan is found through
/// the bitmap index scan beneath it, which names the index but not the table.
fn walk(node: &Value, out: &mut Vec<(String, Option<String>)>) {
    match node {
        Value::Array(items) => items.iter().for_each(|n| walk(n, out)),
        Value::Object(map) => {
            let kind = map.get("Node Type").and_then(Value::as_str).unwrap_or_default();
            let index = map.get("Index Name").and_then(Value::as_str);
            let on_log = map.get("Relation Name").and_then(Value::as_str) == Some("change_log")
                || index.is_some_and(|i| i.starts_with("change_log"));
            if on_log && kind != "Bitmap Heap Scan" {
                out.push((format!("{kind} {}", index.unwrap_or("")), index.map(str::to_owned)));
            }
            for (key, value) in map {
                if key == "Plan" || key == "Plans" {
                    walk(value, out);
                }
            }
        }
        _ => {}
    }
}

async fn user_id(app: &TestApp, username: &str) -> String {
    let conn = &app.state.db.conn;
    let statement = jingzhun::db::sql(
        conn.get_database_backend(),
        "SELECT id FROM app_user WHERE username = ?",
        vec![username.into()],
    );
    let row = conn.query_one_raw(statement).await.expect("query").expect("the user");
    row.try_get("", "id").expect("id")
}

async fn an_incremental_pull_after_many_changes_elsewhere_returns_exactly_the_callers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let county = app.phone("county", "phone-c").await;
    let (mine, _) = create_household(&a, VILLAGE_1, 1).await;
    let (theirs, _) = create_household(&b, VILLAGE_1, 0).await;
    let (elsewhere, _) = create_household(&county, VILLAGE_2, 0).await;
    let village = app.phone("village-1", "phone-v").await;
    // An officer of the township who is also the team of village 1: its households in
    // village 2 come by assignment, village 1 whole by region, none lost between them.
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "both", "name": "both", "password": PASSWORD, "roles": [
                {"role": "officer", "region_code": TOWNSHIP}, {"role": "village", "region_code": VILLAGE_1}]}),
        )
        .await;
    let both = app.phone("both", "phone-both").await;
    let (both_1, _) = create_household(&both, VILLAGE_1, 0).await;
    let (both_2, _) = create_household(&both, VILLAGE_2, 0).await;

    let mut cursors = Vec::new();
    for phone in [&a, &b, &village, &county, &both] {
        cursors.push(pull_from(phone, None, |_| true).await.1);
    }

    // Many changes outside officer A's scope, A's own two among them.
    let mut versions = [(theirs, 1, &b), (elsewhere, 1, &county)];
    let mut own = 1;
    for round in 0..15 {
        for (household, version, phone) in &mut versions {
            *version = update(phone, *household, *version, &format!("{round}号")).await;
        }
        if round == 5 {
            own = update(&a, mine, own, "甲一").await;
        }
        if round == 10 {
            own = update(&a, mine, own, "甲二").await;
        }
        if round == 7 {
            update(&both, both_1, 1, "双一").await;
            update(&both, both_2, 1, "双二").await;
        }
    }

    assert_eq!(own, 3, "officer A's own two changes applied");

    // Each caller, in pages of one, until its last change has arrived.
    let last_of = |household: Uuid, address: &'static str| {
        move |all: &[PulledChange]| {
            all.iter().any(|c| c.entity == "household" && c.id == household && c.data["address"] == address)
        }
    };
    let (pulled, _) = pull_from(&a, Some(cursors[0].clone()), last_of(mine, "甲二")).await;
    assert_eq!(touched(&pulled), BTreeSet::from([mine]), "officer A gets exactly its own: {pulled:?}");
    assert!(pulled.iter().all(|c| c.entity == "household"), "only the two address changes: {pulled:?}");

    let (pulled, _) = pull_from(&b, Some(cursors[1].clone()), last_of(theirs, "14号")).await;
    assert_eq!(touched(&pulled), BTreeSet::from([theirs]), "officer B: {pulled:?}");

    let (pulled, _) = pull_from(&village, Some(cursors[2].clone()), last_of(theirs, "14号")).await;
    assert_eq!(
        touched(&pulled),
        BTreeSet::from([mine, theirs, both_1]),
        "the village team reads its village: {pulled:?}"
    );

    let (pulled, _) = pull_from(&county, Some(cursors[3].clone()), last_of(elsewhere, "14号")).await;
    assert_eq!(
        touched(&pulled),
        BTreeSet::from([mine, theirs, elsewhere, both_1, both_2]),
        "the county reads it all: {pulled:?}"
    );

    let (pulled, _) = pull_from(&both, Some(cursors[4].clone()), |all| {
        last_of(both_1, "双一")(all) && last_of(both_2, "双二")(all) && last_of(theirs, "14号")(all)
    })
    .await;
    assert_eq!(
        touched(&pulled),
        BTreeSet::from([mine, theirs, both_1, both_2]),
        "an officer who is also a village team: its village and its households elsewhere: {pulled:?}"
    );

    // Nothing more: the cursor moved past every row outside the scope as well.
    let (_, cursor) = pull_from(&a, Some(cursors[0].clone()), last_of(mine, "甲二")).await;
    let (again, _) = a.pull_all(Some(cursor), Some(1)).await.expect("pull");
    assert!(again.is_empty(), "pulled twice: {again:?}");
}

/// The households a pull's changes belong to.
fn touched(changes: &[PulledChange]) -> BTreeSet<Uuid> {
    changes
        .iter()
        .map(|c| match c.entity.as_str() {
            "household" => c.id,
            _ => c.data["household_id"].as_str().and_then(|h| Uuid::parse_str(h).ok()).unwrap_or_default(),
        })
        .collect()
}

/// Pulls in pages of one record until `done` holds for what arrived (on PostgreSQL a
/// change may become visible a moment after its push is answered), or ten seconds pass.
async fn pull_from(
    phone: &Client,
    cursor: Option<String>,
    done: impl Fn(&[PulledChange]) -> bool,
) -> (Vec<PulledChange>, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut all = Vec::new();
    let mut cursor = cursor;
    loop {
        let (changes, next) = phone.pull_all(cursor.clone(), Some(1)).await.expect("pull");
        assert!(changes.iter().all(|c| c.op == PullOp::Upsert), "only upserts here: {changes:?}");
        all.extend(changes);
        cursor = Some(next.clone());
        if done(&all) || std::time::Instant::now() > deadline {
            return (all, next);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Sets a household's address from a phone; answers the new version.
async fn update(phone: &Client, household: Uuid, base_version: i64, address: &str) -> i64 {
    let res = push(
        phone,
        vec![changeset(vec![change("household", household, Op::Update, base_version, json!({"address": address}))])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    res.results[0].changes[0].version
}
