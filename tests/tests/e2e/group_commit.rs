//! Group commit: change sets that arrive together share one transaction, yet each is
//! still all-or-nothing, answered once, and sees what the change sets before it wrote.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::json;
use std::sync::Arc;

on_both_backends!(
    pushes_arriving_together_are_each_all_or_nothing,
    a_change_set_sees_its_own_held_back_updates,
    earlier_answers_are_found_by_key_not_by_a_scan,
    a_write_the_database_refuses_fails_only_its_own_request,
    held_back_updates_are_seen_by_a_later_change_sets_check
);

const PHONES: usize = 24;

async fn pushes_arriving_together_are_each_all_or_nothing(backend: Backend) {
    let app = Arc::new(TestApp::spawn(backend).await);
    seed(&app).await;
    let first = app.phone("village-1", "phone-seed").await;
    let (household, members) = create_household(&first, VILLAGE_1, PHONES).await;
    let audit_before = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'update'").await;

    // Every phone at once: half send a good change set (one member renamed), half a bad
    // one whose first change is good (the household's phone) and whose second is not.
    let mut tasks = Vec::new();
    for p in 0..PHONES {
        let app = app.clone();
        let member = members[p + 1];
        tasks.push(tokio::spawn(async move {
            let phone = app.phone("village-1", &format!("phone-{p}")).await;
            let rename = change("member", member, Op::Update, 1, json!({"name": format!("改名{p}")}));
            let set = if p % 2 == 0 {
                changeset(vec![rename])
            } else {
                let good = change("household", household, Op::Update, 1, json!({"phone": format!("1390000{p:04}")}));
                let bad = change("member", member, Op::Update, 1, json!({"no_such_field": 1}));
                changeset(vec![good, rename, bad])
            };
            // The good ones are sent twice at once: the second copy is the same change set.
            let copies = if p % 2 == 0 { 2 } else { 1 };
            let mut answers = Vec::new();
            let sends: Vec<_> = (0..copies).map(|_| push(&phone, vec![set.clone()])).collect();
            for response in futures::future::join_all(sends).await {
                answers.push(response.results[0].status);
            }
            (p, answers)
        }));
    }
    let mut applied = 0;
    for task in tasks {
        let (p, mut answers) = task.await.expect("phone");
        answers.sort_by_key(|s| format!("{s:?}"));
        if p % 2 == 0 {
            assert_eq!(answers, vec![ChangeSetStatus::Applied, ChangeSetStatus::Duplicate], "phone {p}: applied once");
            applied += 1;
        } else {
            assert_eq!(answers, vec![ChangeSetStatus::Rejected], "phone {p}: its bad change rejects the set");
        }
    }
    assert_eq!(applied, PHONES / 2);

    // Nothing of a rejected change set stayed: its good first change was rolled back with it.
    let whole = app.admin.household(household).await;
    assert_eq!(whole["household"]["phone"], "13812345678", "the rejected sets' household edits are not applied");
    let names: Vec<String> =
        whole["member"].as_array().expect("members").iter().map(|m| m["name"].as_str().unwrap_or("").into()).collect();
    for p in 0..PHONES {
        let renamed = names.contains(&format!("改名{p}"));
        assert_eq!(renamed, p % 2 == 0, "phone {p}: renamed only by an applied set");
    }
    // Each applied change set wrote its audit entry once; each rejected one is kept.
    let audit_after = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'update'").await;
    assert_eq!(audit_after - audit_before, (PHONES / 2) as i64, "one audit entry per applied rename");
    let kept = app.count("SELECT COUNT(*) FROM changeset_receipt WHERE status = 'rejected'").await;
    assert_eq!(kept, (PHONES / 2) as i64, "every rejected set kept for a supervisor");

    // A puller sees every applied rename.
    let reader = app.phone("village-1", "phone-reader").await;
    let (changes, _) = pull_until(&reader, None, |changes| {
        (0..PHONES).step_by(2).all(|p| changes.iter().any(|c| c.data["name"] == format!("改名{p}")))
    })
    .await;
    for p in (0..PHONES).step_by(2) {
        assert!(changes.iter().any(|c| c.data["name"] == format!("改名{p}")), "rename {p} pulled");
    }
}

async fn a_change_set_sees_its_own_held_back_updates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("village-1", "phone-1").await;
    let (household, members) = create_household(&phone, VILLAGE_1, 2).await;

    // Two edits of one record in one change set: both land, one version each.
    let res = push(
        &phone,
        vec![changeset(vec![
            change("member", members[1], Op::Update, 1, json!({"name": "第一次"})),
            change("member", members[1], Op::Update, 2, json!({"phone": "13900001111"})),
            change("household", household, Op::Update, 1, json!({"address": "东村二组2号"})),
        ])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
    assert_eq!(res.results[0].changes[1].version, 3);
    let whole = app.admin.household(household).await;
    let member =
        whole["member"].as_array().expect("members").iter().find(|m| m["id"] == members[1].to_string()).cloned();
    let member = member.expect("member");
    assert_eq!((member["name"].as_str(), member["phone"].as_str()), (Some("第一次"), Some("13900001111")));
    assert_eq!(member["version"], 3);
    assert_eq!(whole["household"]["address"], "东村二组2号");

    // One member takes an ID number and another member is given the same number in the
    // same change set: the second check must see the first, held-back, update.
    let number = fresh_id_number();
    let res = push(
        &phone,
        vec![changeset(vec![
            change("member", members[1], Op::Update, 3, json!({"id_number": number})),
            change("member", members[2], Op::Update, 1, json!({"id_number": number})),
        ])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Rejected, "{:?}", res.results[0]);
    assert_eq!(res.results[0].changes[1].errors[0].code, "duplicate_person");
    let holders = app.count(&format!("SELECT COUNT(*) FROM member WHERE id_number = '{number}'")).await;
    assert_eq!(holders, 0, "the rejected set left no member with the number");
}

/// A group looks its change sets' earlier answers up by key: receipts are kept for
/// ever, so a scan of them would make every push slower as the years go by.
async fn earlier_answers_are_found_by_key_not_by_a_scan(backend: Backend) {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    let app = TestApp::spawn(backend).await;
    let keys: Vec<(String, String)> =
        (0..3).map(|i| (format!("phone-{i}"), uuid::Uuid::new_v4().to_string())).collect();
    let db = &app.state.db;
    let statement = jingzhun::sync::receipts::stored_answers_statement(db.backend(), &keys);
    let values = statement.values.clone().map(|v| v.0).unwrap_or_default();
    let txn = db.conn.begin().await.expect("begin");
    let plan: Vec<String> = if db.is_postgres() {
        // The table is small here: ask whether the key index can answer, as it will
        // once the table is large.
        txn.execute_unprepared("SET LOCAL enable_seqscan = off").await.expect("set");
        let text = format!("EXPLAIN {}", statement.sql);
        let rows = txn.query_all_raw(Statement::from_sql_and_values(db.backend(), text, values)).await.expect("plan");
        rows.iter().map(|r| r.try_get::<String>("", "QUERY PLAN").expect("line")).collect()
    } else {
        let text = format!("EXPLAIN QUERY PLAN {}", statement.sql);
        let rows = txn.query_all_raw(Statement::from_sql_and_values(db.backend(), text, values)).await.expect("plan");
        rows.iter().map(|r| r.try_get::<String>("", "detail").expect("detail")).collect()
    };
    txn.rollback().await.expect("rollback");
    let whole = plan.join("\n");
    assert!(
        !whole.contains("SCAN changeset_receipt") && !whole.contains("Seq Scan"),
        "no scan of the receipts:\n{whole}"
    );
    let probes = plan
        .iter()
        .filter(|l| l.contains("changeset_receipt_pkey") || l.contains("sqlite_autoindex_changeset_receipt"))
        .count();
    assert!(probes >= 3, "one key probe per change set:\n{whole}");
}

/// A group holds its change sets' updates back and writes them together at its end. If
/// the database refuses that write (here a test trigger refuses one name), no one can
/// tell whose change set it was: the group is applied again change set by change set,
/// and only the request whose write is refused fails.
async fn a_write_the_database_refuses_fails_only_its_own_request(backend: Backend) {
    let app = Arc::new(TestApp::spawn(backend).await);
    seed(&app).await;
    let first = app.phone("village-1", "phone-seed").await;
    let (_, members) = create_household(&first, VILLAGE_1, PHONES + 1).await;
    if backend == Backend::Postgres {
        app.execute_sql(
            "CREATE FUNCTION refuse_a_name() RETURNS trigger AS $$ BEGIN \
             IF NEW.name = '拒收' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        )
        .await;
        app.execute_sql(
            "CREATE TRIGGER refuse_a_name BEFORE UPDATE ON member FOR EACH ROW EXECUTE FUNCTION refuse_a_name()",
        )
        .await;
    } else {
        app.execute_sql(
            "CREATE TRIGGER refuse_a_name BEFORE UPDATE ON member WHEN NEW.name = '拒收' \
             BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END",
        )
        .await;
    }
    let audit_before = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'update'").await;

    // Signed in first, so that the pushes arrive together. The refused phone sends a
    // good change set and the refused one in one request, which is one group whatever
    // the timing: its good set must still apply, on its own.
    let refused = PHONES / 2;
    let mut phones = Vec::new();
    for p in 0..PHONES {
        phones.push(app.phone("village-1", &format!("phone-{p}")).await);
    }
    let mut tasks = Vec::new();
    for (p, phone) in phones.into_iter().enumerate() {
        let member = members[p + 1];
        let refused_member = members[PHONES + 1];
        tasks.push(tokio::spawn(async move {
            let mut sets =
                vec![changeset(vec![change("member", member, Op::Update, 1, json!({ "name": format!("改名{p}") }))])];
            if p == refused {
                sets.push(changeset(vec![change("member", refused_member, Op::Update, 1, json!({"name": "拒收"}))]));
            }
            (p, phone.push(&jingzhun_mobile_api::wire::PushRequest { changesets: sets }).await)
        }));
    }
    for task in tasks {
        let (p, answer) = task.await.expect("phone");
        if p == refused {
            assert!(answer.is_err(), "the refused write fails its request: {answer:?}");
        } else {
            let answer = answer.unwrap_or_else(|e| panic!("phone {p}: a write of another request fails it: {e:?}"));
            assert_eq!(answer.results[0].status, ChangeSetStatus::Applied, "phone {p}");
        }
    }
    let names = app.count("SELECT COUNT(*) FROM member WHERE name LIKE '改名%'").await;
    assert_eq!(names, PHONES as i64, "every good rename applied, the refused phone's too");
    assert_eq!(app.count("SELECT COUNT(*) FROM member WHERE name = '拒收'").await, 0);
    let audit_after = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'update'").await;
    assert_eq!(audit_after - audit_before, PHONES as i64, "audited once each, the refused one not at all");
    let receipts = app.count("SELECT COUNT(*) FROM changeset_receipt WHERE status = 'applied'").await;
    assert_eq!(receipts, PHONES as i64 + 1, "a receipt for each applied set (and the household's creation)");
}

/// A change set whose check reads other records (an ID number given) comes after
/// others in the same group that changed those records without writing them yet: the
/// check must see them.
async fn held_back_updates_are_seen_by_a_later_change_sets_check(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("village-1", "phone-1").await;
    let (_, members) = create_household(&phone, VILLAGE_1, 3).await;
    let number = fresh_id_number();
    // One request, so one group: the first set gives member 1 the number (held back);
    // the second gives member 2 the same number and must be refused; the third renames.
    let res = push(
        &phone,
        vec![
            changeset(vec![change("member", members[1], Op::Update, 1, json!({"id_number": number}))]),
            changeset(vec![change("member", members[2], Op::Update, 1, json!({"id_number": number}))]),
            changeset(vec![change("member", members[3], Op::Update, 1, json!({"name": "第三人"}))]),
        ],
    )
    .await;
    let statuses: Vec<ChangeSetStatus> = res.results.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![ChangeSetStatus::Applied, ChangeSetStatus::Rejected, ChangeSetStatus::Applied]);
    assert_eq!(res.results[1].changes[0].errors[0].code, "duplicate_person");
    let holders = app.count(&format!("SELECT COUNT(*) FROM member WHERE id_number = '{number}'")).await;
    assert_eq!(holders, 1, "only the first member holds the number");
    assert_eq!(app.count("SELECT COUNT(*) FROM member WHERE name = '第三人'").await, 1);
}
