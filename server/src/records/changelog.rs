//! The change log: one row per change of a synced record or of a user's scope, read by
//! pulls in (tx, seq) order. What lives here: writing rows, numbering committed
//! transactions, the position up to which rows are final, whether committed changes
//! are still waiting for their number, and compaction. It never decides who may read
//! a row (sync/pull.rs does).
//!
//! Why (tx, seq) and not a timestamp or `seq` alone: on PostgreSQL a transaction that
//! took a smaller `seq` can commit after one with a larger `seq`, so a reader that
//! moved its cursor past the larger one would skip the smaller for ever. `tx` is
//! therefore a number given after commit, in an order of our own: a writer commits its
//! rows under the provisional `-xid` (never served: cursors start at 0), and a pull
//! first numbers every transaction committed since the last numbering, from the
//! sequence `change_log_commit`, in one short transaction that holds the advisory lock
//! [`NUMBER_LOCK`] until it has committed. Numberings run one at a time and each
//! becomes visible whole, so a reader that sees number n sees every number below it:
//! the newest numbered row is a stable point, writers' commits are never serialized,
//! and no transaction of anyone else, in this database or another of the cluster, can
//! hold a pull back (it used to: pulls waited for `pg_snapshot_xmin`, the oldest
//! transaction running anywhere in the cluster).
//! On SQLite there is one writer at a time and `tx` simply counts them.

use crate::db::sql;
use chrono::Utc;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Value};

/// A point in the change log: everything at or before it has been delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub tx: i64,
    pub seq: i64,
}

impl Position {
    pub const START: Position = Position { tx: 0, seq: 0 };
}

/// What a log row says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOp {
    /// The record changed or was created: send its current state.
    Upsert,
    Delete,
    /// A household entered `target_user`'s scope: send it whole.
    Enter,
    /// A household left `target_user`'s scope.
    Evict,
}

impl LogOp {
    pub fn as_str(self) -> &'static str {
        match self {
            LogOp::Upsert => "upsert",
            LogOp::Delete => "delete",
            LogOp::Enter => "enter",
            LogOp::Evict => "evict",
        }
    }
    pub fn parse(s: &str) -> Option<LogOp> {
        [LogOp::Upsert, LogOp::Delete, LogOp::Enter, LogOp::Evict].into_iter().find(|op| op.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct LogEntry {
    pub entity: &'static str,
    pub entity_id: String,
    pub household_id: Option<String>,
    /// The household's village, for users scoped by region.
    pub region_code: Option<String>,
    /// Set for scope events, which concern one user only.
    pub target_user: Option<String>,
    pub op: LogOp,
    pub version: i64,
}

/// The `tx` to write the current transaction's log rows with. Call it inside the write
/// transaction that appends them (every caller does): on PostgreSQL it is the
/// provisional `-xid` (64 bits with its epoch, so never reused), replaced by a commit
/// number by [`number_committed`] once the transaction has committed.
pub async fn current_tx(conn: &impl crate::db::Rows) -> Result<i64, DbErr> {
    let backend = conn.backend();
    let scalar = |text: &str| crate::db::query_scalar_i64(conn, sql(backend, text, vec![]));
    if backend == DbBackend::Postgres {
        let xid = scalar("SELECT pg_current_xact_id()::text::bigint").await?;
        return xid.map(|xid| -xid).ok_or_else(|| DbErr::Custom("no transaction id".into()));
    }
    // After a compaction the log may be empty; counting must go on past the horizon.
    let last = scalar("SELECT MAX(tx) FROM change_log").await?;
    Ok(last.unwrap_or(0).max(horizon(conn).await?.tx) + 1)
}

/// The `tx` for log rows a write transaction appends as the last thing before it
/// commits; the caller commits right after (a push group does). On PostgreSQL the
/// transaction takes its commit number now, under [`NUMBER_LOCK`] held until it
/// commits, so numbers still become visible in their order; the rows it logged before
/// under its provisional `-xid` (a case a change set opened) take the number too. Its
/// rows then need no numbering after the commit, which rewrites every row with an entry in
/// each of the log's six indexes (`tx` is in four of them, so no such update is HOT).
///
/// A writer never waits long for a number: when the lock stays taken (other groups
/// committing, or a numbering of a backlog, which can take seconds after an import) it
/// logs under `-xid` as [`current_tx`] does, and a numbering serves it later. The lock
/// is held only for the last statements and the commit; push groups are large and few
/// (a handful a second), so they seldom meet here. Small transactions committing by the
/// thousand would queue on it (BENCHMARKS.md "Commit order on PostgreSQL") and keep
/// [`current_tx`]. Nothing done under the lock waits for a lock another writer holds:
/// the holder appends new rows and renumbers its own; a numbering rewrites committed
/// rows only.
pub async fn commit_number(conn: &impl crate::db::Rows) -> Result<i64, DbErr> {
    let backend = conn.backend();
    if backend != DbBackend::Postgres {
        return current_tx(conn).await;
    }
    let try_lock = || {
        let stmt = sql(backend, "SELECT pg_try_advisory_xact_lock(?)", vec![NUMBER_LOCK.into()]);
        crate::db::query_scalar_bool(conn, stmt)
    };
    let mut waits = COMMIT_NUMBER_WAITS_MS.iter();
    loop {
        if try_lock().await? == Some(true) {
            let number = crate::db::query_scalar_i64(conn, sql(backend, "SELECT nextval('change_log_commit')", vec![]))
                .await?
                .ok_or_else(|| DbErr::Custom("no commit number".into()))?;
            conn.run(sql(
                backend,
                "UPDATE change_log SET tx = ? WHERE tx = (SELECT -(pg_current_xact_id()::text::bigint))",
                vec![number.into()],
            ))
            .await?;
            return Ok(number);
        }
        match waits.next() {
            Some(&ms) => tokio::time::sleep(std::time::Duration::from_millis(ms)).await,
            None => return current_tx(conn).await,
        }
    }
}

/// The pauses between a writer's tries for [`NUMBER_LOCK`] (254 ms in all) before it
/// logs under a provisional number instead. A push group holds the lock for its log
/// insert and its commit, tens of ms. Giving up sooner costs more than the wait: with
/// 30 ms, a quarter of `bench sync`'s groups on PostgreSQL logged provisionally, and
/// the numberings that rewrote their rows held the lock against the next groups.
const COMMIT_NUMBER_WAITS_MS: [u64; 7] = [2, 4, 8, 16, 32, 64, 128];

/// The advisory lock a PostgreSQL numbering holds until it has committed, so that
/// numberings run one at a time and each is visible before the next draws a number.
pub const NUMBER_LOCK: i64 = 0x6a7a_636c;

/// Gives every transaction committed on PostgreSQL since the last numbering its
/// commit number (in the order of their first rows), so pulls serve it. Nothing to do
/// on SQLite. Numberings run one at a time; one that finds another running waits for
/// it a moment ([`NUMBER_WAIT_MS`]: each push group numbers its own commit, so one is
/// often running) and otherwise gives up: what committed before this call may then be
/// held back, and the answer says so.
pub async fn number_committed(db: &crate::db::Db) -> Result<Freshness, DbErr> {
    if db.backend() != DbBackend::Postgres || !unnumbered(&db.conn).await? {
        return Ok(Freshness::CURRENT);
    }
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    txn.execute_unprepared(&format!("SET LOCAL lock_timeout = '{NUMBER_WAIT_MS}ms'")).await?;
    let locked = txn.execute_raw(sql(backend, "SELECT pg_advisory_xact_lock(?)", vec![NUMBER_LOCK.into()])).await;
    match locked {
        Ok(_) => {}
        // 55P03 lock_not_available: another numbering held on past the wait.
        Err(err) if err.to_string().contains("55P03") || err.to_string().contains("lock timeout") => {
            txn.rollback().await?;
            return Ok(Freshness::WAITING);
        }
        Err(err) => return Err(err),
    }
    // MATERIALIZED: each transaction draws one number, however the join is planned.
    txn.execute_raw(sql(
        backend,
        "WITH committed AS MATERIALIZED (SELECT tx, MIN(seq) AS first FROM change_log WHERE tx < 0 GROUP BY tx), \
         numbered AS MATERIALIZED (SELECT tx AS provisional, nextval('change_log_commit') AS n \
           FROM (SELECT tx FROM committed ORDER BY first) AS ordered) \
         UPDATE change_log SET tx = numbered.n FROM numbered WHERE change_log.tx = numbered.provisional",
        vec![],
    ))
    .await?;
    txn.commit().await?;
    Ok(Freshness::CURRENT)
}

/// How long a numbering waits for one already running before it answers `behind`.
pub const NUMBER_WAIT_MS: u64 = 500;

/// A yes-or-no answer of PostgreSQL.
#[derive(FromQueryResult)]
struct Waiting {
    waiting: bool,
}

/// Whether committed rows wait for their number (PostgreSQL only).
async fn unnumbered(conn: &impl ConnectionTrait) -> Result<bool, DbErr> {
    // `ORDER BY tx LIMIT 1` walks `change_log_position` from its start even before the
    // table has statistics; a bare `EXISTS` was planned as a scan of the whole log on a
    // fresh or unanalyzed database, on every pull (`freshness` asks the same way).
    let row = conn
        .query_one_raw(sql(
            conn.get_database_backend(),
            "SELECT tx FROM change_log WHERE tx < 0 ORDER BY tx LIMIT 1",
            vec![],
        ))
        .await?;
    Ok(row.is_some())
}

/// Rows per INSERT: 9 parameters each, far below either backend's bind-parameter
/// limit however many rows one transaction writes (M7 of the 2026-12 review).
pub const ROWS_PER_STATEMENT: usize = 1000;

pub async fn append(conn: &impl crate::db::Rows, tx: i64, entries: &[LogEntry]) -> Result<(), DbErr> {
    let now = Utc::now();
    for chunk in entries.chunks(crate::db::rows_per_statement(conn, ROWS_PER_STATEMENT)) {
        let mut insert = Query::insert();
        insert.into_table(Alias::new("change_log")).columns(
            ["tx", "entity", "entity_id", "household_id", "region_code", "target_user", "op", "version", "at"]
                .map(Alias::new),
        );
        for e in chunk {
            let row: [Value; 9] = [
                tx.into(),
                e.entity.into(),
                e.entity_id.as_str().into(),
                e.household_id.clone().into(),
                e.region_code.clone().into(),
                e.target_user.clone().into(),
                e.op.as_str().into(),
                e.version.into(),
                now.into(),
            ];
            insert.values(row.map(Into::into)).map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        conn.run(conn.backend().build(&insert)).await?;
    }
    Ok(())
}

/// The newest committed row of the log.
#[derive(FromQueryResult)]
struct Last {
    tx: i64,
    seq: i64,
}

/// The position up to which every row is final: rows at or below it will never change
/// and no new row will appear below it. It is the newest numbered row this connection
/// sees (or the horizon, when compaction left nothing newer): numbers become visible in
/// their order, on both backends.
pub async fn stable_position(conn: &impl ConnectionTrait) -> Result<Position, DbErr> {
    let horizon = horizon(conn).await?;
    stable_position_above(conn, horizon).await
}

/// [`stable_position`] with the horizon already read (a pull reads it once).
pub async fn stable_position_above(conn: &impl ConnectionTrait, horizon: Position) -> Result<Position, DbErr> {
    let backend = conn.get_database_backend();
    let row = Last::find_by_statement(sql(
        backend,
        "SELECT tx, seq FROM change_log WHERE tx > 0 ORDER BY tx DESC, seq DESC LIMIT 1",
        vec![],
    ))
    .one(conn)
    .await?;
    let last = row.map_or(Position::START, |row| Position { tx: row.tx, seq: row.seq });
    Ok(last.max(horizon))
}

/// Whether what a pull sees now is held back, and when to ask again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub behind: bool,
    /// Seconds, when behind.
    pub retry_after: Option<u32>,
}

impl Freshness {
    pub const CURRENT: Freshness = Freshness { behind: false, retry_after: None };
    /// A numbering takes milliseconds; a second is the least a phone can be told.
    pub const WAITING: Freshness = Freshness { behind: true, retry_after: Some(1) };
}

/// Whether a pull started now would be held back: committed rows wait for their number
/// while a numbering runs (which may not include them, and a pull does not wait for
/// it). Rows that merely committed since the last pull are not held back: the next
/// pull numbers and serves them. Never on SQLite (numbered before it commits).
pub async fn freshness(conn: &impl ConnectionTrait) -> Result<Freshness, DbErr> {
    let backend = conn.get_database_backend();
    if backend != DbBackend::Postgres {
        return Ok(Freshness::CURRENT);
    }
    let row = Waiting::find_by_statement(sql(
        backend,
        &format!(
            "SELECT EXISTS (SELECT 1 FROM (SELECT tx FROM change_log WHERE tx < 0 ORDER BY tx LIMIT 1) AS first) \
               AND EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
                 AND classid = {} AND objid = {} AND objsubid = 1 \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS waiting",
            NUMBER_LOCK >> 32,
            NUMBER_LOCK & 0xffff_ffff
        ),
        vec![],
    ))
    .one(conn)
    .await?;
    Ok(if row.is_some_and(|row| row.waiting) { Freshness::WAITING } else { Freshness::CURRENT })
}

const HORIZON_KEY: &str = "change_log_horizon";

/// The oldest position a cursor may hold: rows before it were compacted away.
pub async fn horizon(conn: &impl crate::db::Rows) -> Result<Position, DbErr> {
    let stmt = sql(conn.backend(), "SELECT value FROM sync_meta WHERE key = ?", vec![HORIZON_KEY.into()]);
    let Some(value) = crate::db::query_scalar_text(conn, stmt).await? else {
        return Ok(Position::START);
    };
    let mut parts = value.split(':').map(|p| p.parse::<i64>().unwrap_or(0));
    Ok(Position { tx: parts.next().unwrap_or(0), seq: parts.next().unwrap_or(0) })
}

/// The newest final row older than a cutoff; both absent when there is none.
#[derive(FromQueryResult)]
struct Newest {
    tx: Option<i64>,
    seq: Option<i64>,
}

/// Drops log rows older than `cutoff` and moves the horizon past them. A phone whose
/// cursor is older gets 410 `cursor_expired` and starts over with a full pull.
pub async fn compact(db: &crate::db::Db, cutoff: chrono::DateTime<Utc>) -> Result<u64, DbErr> {
    // What committed before the compaction counts as old as it is, numbered or not yet.
    number_committed(db).await?;
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let stable = stable_position(&*txn).await?;
    // Only rows that are final may go, or the horizon could pass a row not yet delivered;
    // rows waiting for their number (negative) stay.
    let row = Newest::find_by_statement(sql(
        backend,
        "SELECT MAX(tx) AS tx, MAX(seq) AS seq FROM change_log WHERE at < ? AND tx > 0 AND (tx < ? OR (tx = ? AND seq <= ?))",
        vec![cutoff.into(), stable.tx.into(), stable.tx.into(), stable.seq.into()],
    ))
    .one(&*txn)
    .await?;
    let Some(Newest { tx: Some(max_tx), seq: Some(_) }) = row else {
        txn.commit().await?;
        return Ok(0);
    };
    // Whole transactions only: a page never splits one.
    let max_seq = crate::db::query_scalar_i64(
        &*txn,
        sql(backend, "SELECT MAX(seq) FROM change_log WHERE tx = ?", vec![max_tx.into()]),
    )
    .await?
    .unwrap_or(0);
    let deleted = txn
        .execute_raw(sql(backend, "DELETE FROM change_log WHERE tx > 0 AND tx <= ?", vec![max_tx.into()]))
        .await?
        .rows_affected();
    let value = format!("{max_tx}:{max_seq}");
    let updated = txn
        .execute_raw(sql(
            backend,
            "UPDATE sync_meta SET value = ? WHERE key = ?",
            vec![value.clone().into(), HORIZON_KEY.into()],
        ))
        .await?
        .rows_affected();
    if updated == 0 {
        txn.execute_raw(sql(
            backend,
            "INSERT INTO sync_meta (key, value) VALUES (?, ?)",
            vec![HORIZON_KEY.into(), value.into()],
        ))
        .await?;
    }
    txn.commit().await?;
    Ok(deleted)
}
