//! The database layer of Jingzhun, shared by the server and the notifier: connection,
//! migrations, write transactions and small SQL helpers. Both go through one [`Db`], so
//! the notifier's dispatcher queues for the same SQLite writer slot as the server's
//! handlers when they run in one process.
//!
//! SQLite has one writer: write transactions take a process-wide lock first, so they
//! queue here instead of failing with `SQLITE_BUSY`. PostgreSQL writers run side by side
//! and rely on row locks.
//!
//! Acknowledged means on disk on both backends: SQLite runs WAL with `synchronous=FULL`,
//! so a commit is fsynced before a phone is told `applied` (with `NORMAL` a power loss
//! may take back the last commits). BENCHMARKS.md gives what it costs. A thread of its
//! own copies SQLite's log back into the database file (`checkpoint`), and a write
//! transaction's `Rows` statements run on the writer's own handle (`rows`, `raw`).

use jingzhun_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

mod checkpoint;
#[allow(unsafe_code)]
mod raw;
pub mod rows;
pub use rows::{Row, Rows, query_scalar_bool, query_scalar_i64, query_scalar_text};

/// How SQLite commits: `Full` fsyncs every commit (the default: acknowledged means on
/// disk); `Normal` only at checkpoints, for a machine with battery-backed storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqliteSync {
    Full,
    Normal,
}

#[derive(Clone, Debug)]
pub struct Db {
    pub conn: DatabaseConnection,
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// Where write transactions run: on SQLite one connection of its own, so its page
    /// cache stays warm (no other connection writes, so SQLite never has to drop it)
    /// and a write never waits for a pooled connection behind readers; on PostgreSQL,
    /// and for an in-memory SQLite database, the pool.
    writer: DatabaseConnection,
    /// The SQLite writer connection's handle, for statements run on it directly (`rows`).
    writer_handle: Option<raw::WriterHandle>,
    /// Held while any clone of this `Db` lives: the checkpoint thread stops after it.
    _alive: Arc<()>,
}

/// The SQLite writer's page cache, in KiB (SQLite's default is 2 MiB a connection).
const SQLITE_WRITER_CACHE_KIB: i64 = 32 * 1024;

/// Statements the SQLite writer's transaction keeps prepared on its own handle.
const SQLITE_WRITER_STATEMENTS: usize = 128;

/// Rows the SQLite writer's driver thread may hand over before the reader takes them.
const SQLITE_WRITER_ROWS_IN_FLIGHT: usize = 2048;

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, DbErr> {
        Db::connect_with(url, max_connections, SqliteSync::Full).await
    }

    /// Connects with SQLite's fsync level chosen (`sqlite_synchronous` in the config;
    /// PostgreSQL ignores it).
    pub async fn connect_with(url: &str, max_connections: u32, sync: SqliteSync) -> Result<Db, DbErr> {
        let conn = Database::connect(options(url, max_connections, sync, None)).await?;
        if conn.get_database_backend() != DbBackend::Sqlite {
            return Ok(Db {
                writer: conn.clone(),
                conn,
                sqlite_writer: None,
                writer_handle: None,
                _alive: Arc::new(()),
            });
        }
        // A second connection to `:memory:` would be another, empty, database.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let alive = Arc::new(());
        if !in_memory {
            let path = url
                .parse::<sea_orm::sqlx::sqlite::SqliteConnectOptions>()
                .map_err(|e| DbErr::Custom(format!("SQLite URL: {e}")))?
                .get_filename()
                .to_owned();
            checkpoint::start(path, &alive)
                .map_err(|e| DbErr::Custom(format!("starting the checkpoint thread: {e}")))?;
        }
        let (writer, writer_handle) = if in_memory {
            (conn.clone(), None)
        } else {
            let handle = raw::WriterHandle::default();
            let mut writer_options = options(url, 1, sync, Some(SQLITE_WRITER_CACHE_KIB));
            let hooks = handle.clone();
            writer_options.map_sqlx_sqlite_pool_opts(move |pool| hooks.pool_options(pool));
            (Database::connect(writer_options).await?, Some(handle))
        };
        Ok(Db { conn, writer, sqlite_writer: Some(Arc::new(Mutex::new(()))), writer_handle, _alive: alive })
    }

    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.conn, None).await
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    pub fn is_postgres(&self) -> bool {
        self.backend() == DbBackend::Postgres
    }

    /// Begins a write transaction; on SQLite waits for the single writer slot first.
    pub async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        let guard = match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        // IMMEDIATE takes SQLite's write lock now, so a writer outside this process (or
        // an autocommit write) makes it wait, not fail later with a stale snapshot.
        let options = TransactionOptions {
            sqlite_transaction_mode: guard.is_some().then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let txn = self.writer.begin_with_options(options).await?;
        let sqlite = self.writer_handle.as_ref().and_then(|h| h.lend_to(&txn)).map(|conn| {
            // A push group's statements differ in their IN lists' lengths and the
            // fields they set: more than rusqlite's 16 a connection.
            conn.set_prepared_statement_cache_capacity(SQLITE_WRITER_STATEMENTS);
            std::sync::Mutex::new(conn)
        });
        Ok(WriteTxn { sqlite, txn, _guard: guard })
    }
}

/// The pool's options: WAL and the chosen fsync level on SQLite; `cache_kib` sets a
/// connection's page cache.
fn options(url: &str, max_connections: u32, sync: SqliteSync, cache_kib: Option<i64>) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        // sqlx pings a pooled connection at every checkout: one more round trip per
        // statement (a hand-off to the driver's thread on SQLite). Only a connection
        // idle long enough for a restart or a firewall to have dropped it is pinged.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            let opts = opts
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(match sync {
                    SqliteSync::Full => SqliteSynchronous::Full,
                    SqliteSync::Normal => SqliteSynchronous::Normal,
                })
                .busy_timeout(Duration::from_secs(30))
                .create_if_missing(true);
            match cache_kib {
                // The writer. A push group reads a thousand records or more at once: the
                // driver's thread may run 2,048 rows ahead of the reader (its default, 50,
                // holds it back every 50). Statement journals (each multi-row write in a
                // transaction keeps one) stay in memory instead of a temporary file.
                // Serialized, because push groups also run statements on its handle
                // from their own thread (`raw`). Checkpoints are the checkpoint
                // thread's (`checkpoint`).
                Some(kib) => opts
                    .serialized(true)
                    .pragma("wal_autocheckpoint", checkpoint::WRITER_CHECKPOINT_PAGES.to_string())
                    .pragma("journal_size_limit", checkpoint::LOG_SIZE_LIMIT.to_string())
                    .pragma("cache_size", format!("-{kib}"))
                    .pragma("temp_store", "memory")
                    .row_buffer_size(SQLITE_WRITER_ROWS_IN_FLIGHT),
                None => opts,
            }
        });
    options
}

/// A transaction that holds the SQLite writer slot, if any, until it ends.
pub struct WriteTxn {
    /// On a SQLite file, the writer connection's own handle, where `Rows` statements
    /// run. Declared first: dropped (its statements finalized) before `txn` ends.
    sqlite: Option<std::sync::Mutex<rusqlite::Connection>>,
    txn: DatabaseTransaction,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        let WriteTxn { sqlite, txn, _guard } = self;
        drop(sqlite);
        txn.commit().await
    }
    pub async fn rollback(self) -> Result<(), DbErr> {
        let WriteTxn { sqlite, txn, _guard } = self;
        drop(sqlite);
        txn.rollback().await
    }

    fn sqlite(&self) -> Option<std::sync::MutexGuard<'_, rusqlite::Connection>> {
        // A panic while it was held leaves the connection as usable as before.
        self.sqlite.as_ref().map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl Rows for WriteTxn {
    fn backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    fn statements_are_cheap(&self) -> bool {
        self.sqlite.is_some()
    }

    async fn read<T: Send, F>(&self, stmt: Statement, each: F) -> Result<Vec<T>, DbErr>
    where
        F: FnMut(&dyn Row) -> Result<T, DbErr> + Send,
    {
        if let Some(conn) = self.sqlite() {
            return rows::read_sqlite(&conn, &stmt, each);
        }
        self.txn.read(stmt, each).await
    }

    async fn run(&self, stmt: Statement) -> Result<u64, DbErr> {
        if let Some(conn) = self.sqlite() {
            return rows::run_sqlite(&conn, &stmt);
        }
        self.txn.run(stmt).await
    }
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

/// A statement from SQL written with `?` placeholders, numbered for PostgreSQL.
/// The SQL must hold no `?` inside string literals.
pub fn sql(backend: DbBackend, text: &str, values: Vec<Value>) -> Statement {
    let text = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(text.len() + 8);
        let mut n = 0;
        for c in text.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    } else {
        text.to_owned()
    };
    Statement::from_sql_and_values(backend, text, values)
}

/// `?, ?, ?` for an `IN (…)` list of `n` values.
pub fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// How many rows a multi-row write puts in one statement: `many`, or one where
/// statements are cheap (`Rows::statements_are_cheap`), since a one-row statement's
/// text recurs and is parsed once.
pub fn rows_per_statement(conn: &impl Rows, many: usize) -> usize {
    if conn.statements_are_cheap() { 1 } else { many }
}

/// Whether an error is a unique-constraint violation (same meaning on both backends).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
        || matches!(err, DbErr::Exec(sea_orm::RuntimeErr::Internal(m)) if m.starts_with(rows::UNIQUE_VIOLATION))
}

/// A `LIKE … ESCAPE '\'` pattern matching `text` anywhere: `%` and `_` the user typed are
/// literal, not wildcards.
pub fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// `SELECT COUNT(*) …` written with `?` placeholders; 0 when nothing matches.
pub async fn count(conn: &impl ConnectionTrait, text: &str, values: Vec<Value>) -> Result<i64, DbErr> {
    Ok(query_scalar_i64(conn, sql(conn.get_database_backend(), text, values)).await?.unwrap_or(0))
}

/// A page of a table the console lists: 1-based `page`, `per_page` rows (the table's
/// default unless asked, never more than [`Paging::MAX_PER_PAGE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u64,
    pub per_page: u64,
}

impl Paging {
    pub const MAX_PER_PAGE: u64 = 200;

    pub fn new(page: Option<u64>, per_page: Option<u64>, default_per_page: u64) -> Paging {
        Paging {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(default_per_page).clamp(1, Self::MAX_PER_PAGE),
        }
    }

    /// The values of `LIMIT ? OFFSET ?`, in that order.
    pub fn limit_offset(self) -> [Value; 2] {
        let offset = (self.page - 1).saturating_mul(self.per_page);
        [i64::try_from(self.per_page).unwrap_or(i64::MAX).into(), i64::try_from(offset).unwrap_or(i64::MAX).into()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_never_empty_nor_unbounded() {
        assert_eq!(Paging::new(None, None, 20), Paging { page: 1, per_page: 20 });
        assert_eq!(Paging::new(Some(0), Some(0), 20), Paging { page: 1, per_page: 1 });
        assert_eq!(Paging::new(Some(3), Some(10_000), 20).per_page, Paging::MAX_PER_PAGE);
        assert_eq!(Paging::new(Some(3), Some(50), 20).limit_offset(), [Value::from(50i64), Value::from(100i64)]);
    }

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let text = "SELECT id FROM t WHERE a = ? AND b IN (?, ?)";
        assert_eq!(sql(DbBackend::Sqlite, text, vec![]).sql, text);
        assert_eq!(sql(DbBackend::Postgres, text, vec![]).sql, "SELECT id FROM t WHERE a = $1 AND b IN ($2, $3)");
        assert_eq!(placeholders(3), "?, ?, ?");
        assert_eq!(placeholders(0), "");
    }

    #[tokio::test]
    async fn writes_queue_for_the_sqlite_writer_slot() {
        let db = Db::connect("sqlite::memory:", 1).await.expect("connect");
        assert!(!db.is_postgres());
        let txn = db.begin_write().await.expect("begin");
        txn.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY)").await.expect("create");
        txn.execute_raw(sql(db.backend(), "INSERT INTO t (id) VALUES (?), (?)", vec![1.into(), 2.into()]))
            .await
            .expect("insert");
        // The slot is held: a second writer waits until the first ends.
        let waiting = tokio::spawn({
            let db = db.clone();
            async move { db.begin_write().await.map(drop) }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        txn.commit().await.expect("commit");
        waiting.await.expect("join").expect("second writer");
        assert_eq!(count(&db.conn, "SELECT COUNT(*) FROM t WHERE id > ?", vec![0.into()]).await.expect("count"), 2);
        assert_eq!(count(&db.conn, "SELECT COUNT(*) FROM t WHERE id > ?", vec![5.into()]).await.expect("count"), 0);
        let duplicate = db
            .conn
            .execute_raw(sql(db.backend(), "INSERT INTO t (id) VALUES (?)", vec![1.into()]))
            .await
            .expect_err("duplicate");
        assert!(is_unique_violation(&duplicate));
    }
}
