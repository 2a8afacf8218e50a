//! Pull freshness (issue 14 item 3): on PostgreSQL nothing outside our own writers can
//! hold a phone's pull back, and a pull says `behind` exactly while committed changes
//! wait for their number.
//!
//! Before the commit order, a pull served only changes older than every transaction
//! running anywhere in the cluster: an idle `BEGIN` in another database froze every
//! phone's pull. Each stranger here first checks that it does hold the cluster's
//! horizon back (so the test would fail under that design), then a phone's edit must
//! arrive in the very next pull of another phone.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun::records::changelog::{self, LogEntry, LogOp};
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op, PullOp};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, Statement, TransactionTrait};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

on_both_backends!(
    a_stranger_in_another_database_holds_no_pull_back,
    a_stranger_in_our_database_holds_no_pull_back,
    a_pull_says_behind_while_commits_wait_for_their_number,
    a_push_group_numbers_its_log_rows_before_it_commits,
);

/// Two phones of the village team: `a` edits, `b` has pulled everything so far.
struct Phones {
    a: Client,
    b: Client,
    household: Uuid,
    cursor: String,
}

async fn phones(app: &TestApp) -> Phones {
    seed(app).await;
    let a = app.phone("village-1", "phone-a").await;
    let b = app.phone("village-1", "phone-b").await;
    let (household, _) = create_household(&a, VILLAGE_1, 0).await;
    let (changes, cursor) = pull_until(&b, None, |c| c.iter().any(|c| c.id == household)).await;
    assert!(changes.iter().any(|c| c.id == household), "b holds the household");
    Phones { a, b, household, cursor }
}

/// A's edit of the household's phone number, base version `base`.
async fn edit(a: &Client, household: Uuid, base: i64, phone: &str) {
    let res =
        push(a, vec![changeset(vec![change("household", household, Op::Update, base, json!({"phone": phone}))])]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
}

fn holds(changes: &[jingzhun_mobile_api::wire::PulledChange], household: Uuid, phone: &str) -> bool {
    changes.iter().any(|c| c.id == household && c.op == PullOp::Upsert && c.data["phone"] == phone)
}

/// The edit is in b's very next pull, which does not say it is behind.
async fn edit_arrives_at_once(p: &Phones) {
    edit(&p.a, p.household, 1, "13900000001").await;
    let page = p.b.pull(Some(&p.cursor), None).await.expect("pull");
    assert!(holds(&page.changes, p.household, "13900000001"), "the edit is pulled at once: {:?}", page.changes);
    assert!(!page.has_more);
    assert_eq!((page.behind, page.retry_after), (false, None), "nothing is held back");
    let status = p.b.status().await.expect("status");
    assert_eq!((status.behind, status.retry_after), (false, None));
}

async fn scalar(conn: &impl ConnectionTrait, query: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), query.to_owned()))
        .await
        .expect("query")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

/// The oldest transaction the cluster still waits for, as seen from our database.
async fn cluster_xmin(app: &TestApp) -> i64 {
    scalar(&app.state.db.conn, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS n").await
}

/// A transaction that has taken an id and stays open, doing nothing more.
async fn idle_transaction(conn: &DatabaseConnection) -> (DatabaseTransaction, i64) {
    let txn = conn.begin().await.expect("begin");
    let xid = scalar(&txn, "SELECT pg_current_xact_id()::text::bigint AS n").await;
    (txn, xid)
}

async fn a_stranger_in_another_database_holds_no_pull_back(backend: Backend) {
    if backend == Backend::Sqlite {
        // A SQLite file has no cluster: nobody else's database can touch it.
        return;
    }
    let app = TestApp::spawn(backend).await;
    let p = phones(&app).await;
    let admin_url = std::env::var("JINGZHUN_TEST_POSTGRES_URL").expect("JINGZHUN_TEST_POSTGRES_URL");
    let name = format!("jz_stranger_{}", Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url).await.expect("connect as admin");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create the stranger's database");
    let url = match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => unreachable!("a database URL names its database"),
    };
    let stranger = Database::connect(&url).await.expect("connect to the stranger's database");
    let (txn, xid) = idle_transaction(&stranger).await;
    assert!(cluster_xmin(&app).await <= xid, "the stranger holds the cluster's horizon back");

    edit_arrives_at_once(&p).await;

    txn.rollback().await.expect("rollback");
    let _ = stranger.close().await;
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.expect("drop");
    let _ = admin.close().await;
}

async fn a_stranger_in_our_database_holds_no_pull_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let p = phones(&app).await;
    let conn = Database::connect(&app.database_url).await.expect("connect to our database");
    let txn = match backend {
        Backend::Postgres => {
            // A tool of someone else's writing a table of its own and staying open.
            conn.execute_unprepared("CREATE TABLE stranger_work (id integer)").await.expect("create");
            let (txn, xid) = idle_transaction(&conn).await;
            txn.execute_unprepared("INSERT INTO stranger_work VALUES (1)").await.expect("insert");
            assert!(cluster_xmin(&app).await <= xid, "the stranger holds the horizon back");
            txn
        }
        Backend::Sqlite => {
            // SQLite has one writer at a time; a reader holding its snapshot open must not
            // hide a later commit from pulls.
            let txn = conn.begin().await.expect("begin");
            assert!(scalar(&txn, "SELECT COUNT(*) AS n FROM household").await >= 1);
            txn
        }
    };

    edit_arrives_at_once(&p).await;

    txn.rollback().await.expect("rollback");
    let _ = conn.close().await;
}

/// A numbering running, as far as anyone can tell: another connection to our database
/// holds the numbering lock until the transaction returned ends.
async fn numbering_runs(app: &TestApp) -> (DatabaseConnection, DatabaseTransaction) {
    let conn = Database::connect(&app.database_url).await.expect("connect to our database");
    let numbering = conn.begin().await.expect("begin");
    numbering
        .execute_unprepared(&format!("SELECT pg_advisory_xact_lock({})", changelog::NUMBER_LOCK))
        .await
        .expect("hold the numbering lock");
    (conn, numbering)
}

/// While a numbering runs (a test connection holds its lock), a phone's edit still
/// commits within a quarter second, but no pull can number it: pulls say `behind`
/// until the numbering ends, and the next pull serves the edit.
async fn a_pull_says_behind_while_commits_wait_for_their_number(backend: Backend) {
    if backend == Backend::Sqlite {
        // One writer at a time, numbered before it commits: never behind (the other
        // tests here check the field is false on SQLite).
        return;
    }
    let app = TestApp::spawn(backend).await;
    let p = phones(&app).await;
    let page = p.b.pull(Some(&p.cursor), None).await.expect("pull");
    assert_eq!((page.behind, page.retry_after), (false, None), "nothing waits");
    let cursor = page.cursor;

    let (conn, numbering) = numbering_runs(&app).await;

    // Writers wait for a number a quarter second at most: the edit is applied and
    // acknowledged, under its provisional number.
    tokio::time::timeout(Duration::from_secs(10), edit(&p.a, p.household, 1, "13900000002"))
        .await
        .expect("the push is answered while a numbering runs");
    assert!(app.count("SELECT COUNT(*) FROM change_log WHERE tx < 0").await > 0, "committed, not numbered");
    let page = p.b.pull(Some(&cursor), None).await.expect("pull");
    assert!(!holds(&page.changes, p.household, "13900000002"), "not served before its number");
    assert_eq!((page.behind, page.retry_after), (true, Some(1)), "the phone is told to come back");
    let status = p.b.status().await.expect("status");
    assert_eq!((status.behind, status.retry_after), (true, Some(1)));

    numbering.commit().await.expect("end the numbering");
    let page = p.b.pull(Some(&cursor), None).await.expect("pull");
    assert!(holds(&page.changes, p.household, "13900000002"), "the edit arrives: {:?}", page.changes);
    assert_eq!((page.behind, page.retry_after), (false, None), "nothing waits any more");
    let status = p.b.status().await.expect("status");
    assert_eq!((status.behind, status.retry_after), (false, None));
    assert_eq!(app.count("SELECT COUNT(*) FROM change_log WHERE tx < 0").await, 0);
    let _ = conn.close().await;
}

/// Log rows as a push group writes them: some under the transaction's provisional
/// number as it goes (a case a change set opened), the rest at the end under
/// `commit_number`.
async fn log_as_a_group(app: &TestApp, id: &str) -> i64 {
    let entry = |suffix: &str| LogEntry {
        entity: "household",
        entity_id: format!("{id}-{suffix}"),
        household_id: Some(id.to_owned()),
        region_code: Some("320703001001".to_owned()),
        target_user: None,
        op: LogOp::Upsert,
        version: 1,
    };
    let txn = app.state.db.begin_write().await.expect("begin");
    let early = changelog::current_tx(&txn).await.expect("provisional number");
    changelog::append(&txn, early, &[entry("early")]).await.expect("log as it goes");
    let number = changelog::commit_number(&txn).await.expect("commit number");
    changelog::append(&txn, number, &[entry("late")]).await.expect("log at the end");
    txn.commit().await.expect("commit");
    number
}

/// A push group's rows are numbered by the group itself, under the numbering lock
/// held through its commit, and its earlier provisional rows with them: nothing is left
/// for a numbering to rewrite. When the lock stays taken, the group does not wait for
/// it: it logs under its provisional number, and a numbering serves it later.
async fn a_push_group_numbers_its_log_rows_before_it_commits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let number = log_as_a_group(&app, "free").await;
    assert!(number > 0, "a final number: {number}");
    if backend == Backend::Sqlite {
        // Numbered before it commits anyway (one writer): only nothing provisional.
        assert_eq!(app.count("SELECT COUNT(*) FROM change_log WHERE household_id = 'free' AND tx <= 0").await, 0);
        return;
    }
    let under_number = format!("SELECT COUNT(*) FROM change_log WHERE household_id = 'free' AND tx = {number}");
    assert_eq!(app.count(&under_number).await, 2, "both rows under the commit number");
    assert_eq!(app.count("SELECT COUNT(*) FROM change_log WHERE tx < 0").await, 0, "nothing to number");

    let (conn, numbering) = numbering_runs(&app).await;
    let provisional = tokio::time::timeout(Duration::from_secs(10), log_as_a_group(&app, "held"))
        .await
        .expect("the group does not wait for the numbering");
    assert!(provisional < 0, "a provisional number while the lock is taken: {provisional}");
    assert_eq!(app.count("SELECT COUNT(*) FROM change_log WHERE household_id = 'held' AND tx < 0").await, 2);
    numbering.commit().await.expect("end the numbering");
    assert_eq!(changelog::number_committed(&app.state.db).await.expect("number"), changelog::Freshness::CURRENT);
    assert_eq!(app.count("SELECT COUNT(*) FROM change_log WHERE household_id = 'held' AND tx > 0").await, 2);
    let _ = conn.close().await;
}
