//! Statements whose rows are read by column position, run through sea-orm or, inside a
//! SQLite write transaction, on the writer connection's own handle.
//!
//! Through sqlx every statement is a hand-off to the connection's driver thread, and
//! every row is copied into owned values and sent back across a channel: about 30 µs a
//! record of forty columns, where SQLite itself takes under 10. A push group reads and
//! writes a thousand records or more in one transaction, so for the functions a group
//! runs (`Rows` in their signatures) the SQLite writer's transaction runs the same
//! statements through rusqlite on the connection sqlx opened, on the caller's thread
//! (`WriteTxn`, and `raw` for why that is sound). Everything else keeps sea-orm.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};
use std::future::Future;

/// One row of a statement, its columns taken by position.
pub trait Row {
    fn i64_at(&self, at: usize) -> Result<Option<i64>, DbErr>;
    fn text_at(&self, at: usize) -> Result<Option<String>, DbErr>;
    fn bool_at(&self, at: usize) -> Result<Option<bool>, DbErr>;
}

impl Row for QueryResult {
    fn i64_at(&self, at: usize) -> Result<Option<i64>, DbErr> {
        self.try_get_by_index(at)
    }
    fn text_at(&self, at: usize) -> Result<Option<String>, DbErr> {
        self.try_get_by_index(at)
    }
    fn bool_at(&self, at: usize) -> Result<Option<bool>, DbErr> {
        self.try_get_by_index(at)
    }
}

impl Row for rusqlite::Row<'_> {
    fn i64_at(&self, at: usize) -> Result<Option<i64>, DbErr> {
        self.get(at).map_err(query_err)
    }
    fn text_at(&self, at: usize) -> Result<Option<String>, DbErr> {
        self.get(at).map_err(query_err)
    }
    fn bool_at(&self, at: usize) -> Result<Option<bool>, DbErr> {
        self.get(at).map_err(query_err)
    }
}

/// Where such statements run: any sea-orm connection or transaction, or a
/// [`WriteTxn`](crate::WriteTxn) (on a SQLite file, its writer's own handle).
pub trait Rows: Sync {
    fn backend(&self) -> DbBackend;

    /// Whether a statement costs no more than its own row work (no hand-off to another
    /// thread): then one small statement a row, prepared once, beats one large
    /// statement whose text, and so whose parsing, is new each time.
    fn statements_are_cheap(&self) -> bool {
        false
    }

    /// Runs a query, reading each row with `each`.
    fn read<T: Send, F>(&self, stmt: Statement, each: F) -> impl Future<Output = Result<Vec<T>, DbErr>> + Send
    where
        F: FnMut(&dyn Row) -> Result<T, DbErr> + Send;

    /// Runs a statement; how many rows it changed.
    fn run(&self, stmt: Statement) -> impl Future<Output = Result<u64, DbErr>> + Send;
}

impl<C: ConnectionTrait + Sync> Rows for C {
    fn backend(&self) -> DbBackend {
        self.get_database_backend()
    }

    async fn read<T: Send, F>(&self, stmt: Statement, mut each: F) -> Result<Vec<T>, DbErr>
    where
        F: FnMut(&dyn Row) -> Result<T, DbErr> + Send,
    {
        self.query_all_raw(stmt).await?.iter().map(|row| each(row)).collect()
    }

    async fn run(&self, stmt: Statement) -> Result<u64, DbErr> {
        Ok(self.execute_raw(stmt).await?.rows_affected())
    }
}

/// The first column of a query's first row as a number; `None` when there is no row
/// or the value is NULL.
pub async fn query_scalar_i64(conn: &impl Rows, stmt: Statement) -> Result<Option<i64>, DbErr> {
    Ok(conn.read(stmt, |row| row.i64_at(0)).await?.into_iter().next().flatten())
}

/// The first column of a query's first row as text; `None` when there is no row or the
/// value is NULL.
pub async fn query_scalar_text(conn: &impl Rows, stmt: Statement) -> Result<Option<String>, DbErr> {
    Ok(conn.read(stmt, |row| row.text_at(0)).await?.into_iter().next().flatten())
}

/// The first column of a query's first row as a yes or no; `None` when there is no row
/// or the value is NULL.
pub async fn query_scalar_bool(conn: &impl Rows, stmt: Statement) -> Result<Option<bool>, DbErr> {
    Ok(conn.read(stmt, |row| row.bool_at(0)).await?.into_iter().next().flatten())
}

/// Runs a query on a rusqlite connection (the statement prepared once per transaction).
pub(crate) fn read_sqlite<T>(
    conn: &rusqlite::Connection,
    stmt: &Statement,
    mut each: impl FnMut(&dyn Row) -> Result<T, DbErr>,
) -> Result<Vec<T>, DbErr> {
    let mut prepared = conn.prepare_cached(&stmt.sql).map_err(query_err)?;
    bind(&mut prepared, stmt)?;
    let mut rows = prepared.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(query_err)? {
        out.push(each(row)?);
    }
    Ok(out)
}

/// Runs a statement on a rusqlite connection; how many rows it changed.
pub(crate) fn run_sqlite(conn: &rusqlite::Connection, stmt: &Statement) -> Result<u64, DbErr> {
    let mut prepared = conn.prepare_cached(&stmt.sql).map_err(exec_err)?;
    bind(&mut prepared, stmt)?;
    Ok(prepared.raw_execute().map_err(exec_err)? as u64)
}

/// Binds a statement's values as sqlx's SQLite driver would (sea-query-sqlx), so a
/// row written here reads back the same through sea-orm. A kind of value no statement
/// run here uses is refused rather than guessed at.
fn bind(prepared: &mut rusqlite::CachedStatement<'_>, stmt: &Statement) -> Result<(), DbErr> {
    use rusqlite::types::Value as Sql;
    let Some(values) = &stmt.values else { return Ok(()) };
    for (i, value) in values.0.iter().enumerate() {
        let sql: Option<Sql> = match value {
            Value::Bool(v) => v.map(|b| Sql::Integer(b.into())),
            Value::TinyInt(v) => v.map(|n| Sql::Integer(n.into())),
            Value::SmallInt(v) => v.map(|n| Sql::Integer(n.into())),
            Value::Int(v) => v.map(|n| Sql::Integer(n.into())),
            Value::BigInt(v) => v.map(Sql::Integer),
            Value::TinyUnsigned(v) => v.map(|n| Sql::Integer(n.into())),
            Value::SmallUnsigned(v) => v.map(|n| Sql::Integer(n.into())),
            Value::Unsigned(v) => v.map(|n| Sql::Integer(n.into())),
            Value::BigUnsigned(v) => match v {
                Some(n) => Some(Sql::Integer(i64::try_from(*n).map_err(|e| DbErr::Type(e.to_string()))?)),
                None => None,
            },
            Value::Float(v) => v.map(|f| Sql::Real(f.into())),
            Value::Double(v) => v.map(Sql::Real),
            Value::String(v) => v.clone().map(Sql::Text),
            Value::Char(v) => v.map(|c| Sql::Text(c.to_string())),
            Value::Bytes(v) => v.clone().map(Sql::Blob),
            Value::Json(v) => v.as_ref().map(|j| Sql::Text(j.to_string())),
            Value::ChronoDate(v) => v.map(|d| Sql::Text(d.format("%F").to_string())),
            Value::ChronoDateTimeUtc(v) => {
                v.map(|t| Sql::Text(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)))
            }
            other => {
                return Err(DbErr::Type(format!("the SQLite writer's own statements do not bind {other:?}")));
            }
        };
        prepared.raw_bind_parameter(i + 1, sql.unwrap_or(Sql::Null)).map_err(exec_err)?;
    }
    Ok(())
}

fn query_err(err: rusqlite::Error) -> DbErr {
    DbErr::Query(sea_orm::RuntimeErr::Internal(err.to_string()))
}

/// A failed write; a unique-key violation is marked so that `is_unique_violation` knows
/// it whichever driver ran the statement.
fn exec_err(err: rusqlite::Error) -> DbErr {
    let unique = matches!(
        err.sqlite_error().map(|e| e.extended_code),
        Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    );
    let prefix = if unique { UNIQUE_VIOLATION } else { "" };
    DbErr::Exec(sea_orm::RuntimeErr::Internal(format!("{prefix}{err}")))
}

/// How a unique-key violation met by a statement run here begins
/// ([`is_unique_violation`](crate::is_unique_violation) reads it).
pub(crate) const UNIQUE_VIOLATION: &str = "unique constraint violated: ";

#[cfg(test)]
mod tests {
    use crate::{Db, Rows, count, is_unique_violation, sql};
    use sea_orm::{ConnectionTrait, DbBackend, Value};

    /// A SQLite file of its own for one test, removed with its WAL when dropped.
    struct File(std::path::PathBuf);

    impl File {
        fn new(name: &str) -> File {
            File(std::env::temp_dir().join(format!("jingzhun-rows-{}-{name}.db", std::process::id())))
        }
        fn url(&self) -> String {
            format!("sqlite://{}?mode=rwc", self.0.display())
        }
    }

    impl Drop for File {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
            }
        }
    }

    fn insert(id: &str, now: chrono::DateTime<chrono::Utc>) -> sea_orm::Statement {
        let values: Vec<Value> = vec![
            id.into(),
            7i64.into(),
            true.into(),
            now.into(),
            serde_json::json!({"k": [1, "二"]}).into(),
            Option::<String>::None.into(),
        ];
        sql(DbBackend::Sqlite, "INSERT INTO t (id, n, flag, at, doc, note) VALUES (?, ?, ?, ?, ?, ?)", values)
    }

    type Stored = (Option<String>, Option<i64>, Option<bool>, Option<String>, Option<String>, Option<String>);

    async fn stored(conn: &impl Rows) -> Vec<Stored> {
        let stmt = sql(DbBackend::Sqlite, "SELECT id, n, flag, at, doc, note FROM t ORDER BY id", vec![]);
        conn.read(stmt, |row| {
            Ok((row.text_at(0)?, row.i64_at(1)?, row.bool_at(2)?, row.text_at(3)?, row.text_at(4)?, row.text_at(5)?))
        })
        .await
        .expect("read")
    }

    #[tokio::test]
    async fn the_sqlite_writers_own_statements_are_part_of_its_transaction_and_write_what_sea_orm_writes() {
        let file = File::new("shared");
        let db = Db::connect(&file.url(), 2).await.expect("connect");
        db.conn
            .execute_unprepared(
                "CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT, flag BOOLEAN, at TEXT, doc TEXT, note TEXT)",
            )
            .await
            .expect("create");
        let now = chrono::Utc::now();
        for round in 0..3 {
            let txn = db.begin_write().await.expect("begin");
            assert!(txn.statements_are_cheap(), "a SQLite file's writer runs them on its own handle");
            assert_eq!(txn.run(insert("a", now)).await.expect("through rusqlite"), 1);
            (*txn).execute_raw(insert("b", now)).await.expect("through sea-orm");
            // Each sees the other's row, and the rows are alike but for their ids.
            let seen = stored(&txn).await;
            assert_eq!(seen, stored(&*txn).await);
            assert_eq!(seen.len(), 2);
            assert_eq!(seen[0].0.as_deref(), Some("a"));
            let but_id = |s: &Stored| (s.1, s.2, s.3.clone(), s.4.clone(), s.5.clone());
            assert_eq!(but_id(&seen[0]), but_id(&seen[1]));
            assert_eq!(seen[0].1, Some(7));
            assert_eq!(seen[0].2, Some(true));
            assert_eq!(seen[0].5, None);
            let duplicate = txn.run(insert("b", now)).await.expect_err("a duplicate key");
            assert!(is_unique_violation(&duplicate), "{duplicate}");
            if round == 0 {
                txn.rollback().await.expect("rollback");
                assert_eq!(count(&db.conn, "SELECT COUNT(*) FROM t", vec![]).await.expect("count"), 0);
            } else {
                txn.commit().await.expect("commit");
                assert_eq!(count(&db.conn, "SELECT COUNT(*) FROM t", vec![]).await.expect("count"), 2);
                db.conn.execute_unprepared("DELETE FROM t").await.expect("clear");
            }
        }
    }

    #[tokio::test]
    async fn an_in_memory_database_runs_them_through_sea_orm() {
        let db = Db::connect("sqlite::memory:", 1).await.expect("connect");
        let txn = db.begin_write().await.expect("begin");
        assert!(!txn.statements_are_cheap());
        txn.run(sql(DbBackend::Sqlite, "CREATE TABLE t (id TEXT PRIMARY KEY)", vec![])).await.expect("create");
        txn.commit().await.expect("commit");
    }
}
