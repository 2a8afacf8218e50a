//! The change log: one row per change of a synced record or of a user's scope, read by
//! pulls in (tx, seq) order.
//!
//! Why (tx, seq) and not a timestamp or `seq` alone: on PostgreSQL a transaction that
//! took a smaller `seq` can commit after one with a larger `seq`, so a reader that
//! moved its cursor past the larger one would skip the smaller for ever. Here `tx` is
//! the writer's transaction id and a pull only reads rows of transactions older than
//! every transaction still running (`pg_snapshot_xmin`), so the rows below the cursor
//! never grow. On SQLite there is one writer at a time and `tx` simply counts them.

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

/// The id of the current write transaction, as the change log orders by it.
pub async fn current_tx(conn: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let backend = conn.get_database_backend();
    if backend == DbBackend::Postgres {
        let tx = crate::db::query_scalar_i64(conn, sql(backend, "SELECT pg_current_xact_id()::text::bigint", vec![]))
            .await?;
        return Ok(tx.unwrap_or(1));
    }
    // After a compaction the log may be empty; counting must go on past the horizon.
    let last = crate::db::query_scalar_i64(conn, sql(backend, "SELECT MAX(tx) FROM change_log", vec![])).await?;
    Ok(last.unwrap_or(0).max(horizon(conn).await?.tx) + 1)
}

/// Rows per INSERT: 9 parameters each, far below either backend's bind-parameter
/// limit however many rows one transaction writes (M7 of the 2026-12 review).
pub const ROWS_PER_STATEMENT: usize = 1000;

pub async fn append(conn: &impl ConnectionTrait, tx: i64, entries: &[LogEntry]) -> Result<(), DbErr> {
    let now = Utc::now();
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
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
        conn.execute(&insert).await?;
    }
    Ok(())
}

/// The newest row of the log (0, 0 when it is empty).
#[derive(FromQueryResult)]
struct Last {
    tx: i64,
    seq: i64,
}

/// The position up to which every row is final: rows at or below it will never change
/// and no new row will appear below it.
pub async fn stable_position(conn: &impl ConnectionTrait) -> Result<Position, DbErr> {
    let backend = conn.get_database_backend();
    match backend {
        DbBackend::Postgres => {
            let xmin = crate::db::query_scalar_i64(
                conn,
                sql(backend, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint", vec![]),
            )
            .await?;
            Ok(Position { tx: xmin.unwrap_or(1) - 1, seq: i64::MAX })
        }
        _ => {
            let row = Last::find_by_statement(sql(
                backend,
                "SELECT COALESCE(MAX(tx), 0) AS tx, COALESCE(MAX(seq), 0) AS seq FROM change_log",
                vec![],
            ))
            .one(conn)
            .await?;
            let last = match row {
                Some(row) => Position { tx: row.tx, seq: row.seq },
                None => Position::START,
            };
            Ok(last.max(horizon(conn).await?))
        }
    }
}

const HORIZON_KEY: &str = "change_log_horizon";

/// The oldest position a cursor may hold: rows before it were compacted away.
pub async fn horizon(conn: &impl ConnectionTrait) -> Result<Position, DbErr> {
    let backend = conn.get_database_backend();
    let row =
        conn.query_one_raw(sql(backend, "SELECT value FROM sync_meta WHERE key = ?", vec![HORIZON_KEY.into()])).await?;
    let Some(row) = row else {
        return Ok(Position::START);
    };
    let value: String = row.try_get("", "value")?;
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
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let stable = stable_position(&*txn).await?;
    // Only rows that are final may go, or the horizon could pass a row not yet delivered.
    let row = Newest::find_by_statement(sql(
        backend,
        "SELECT MAX(tx) AS tx, MAX(seq) AS seq FROM change_log WHERE at < ? AND (tx < ? OR (tx = ? AND seq <= ?))",
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
        .execute_raw(sql(backend, "DELETE FROM change_log WHERE tx <= ?", vec![max_tx.into()]))
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
