//! The SQLite writer connection's own handle, for the statements a write transaction
//! runs on it through rusqlite (`rows`).
//!
//! Why using the handle sqlx opened is sound:
//! - The writer's pool holds exactly one connection, and its `after_connect` hook
//!   records that connection's handle whenever one is opened. sqlx opens every
//!   connection through that hook (a replacement for one it closed, too), so right after
//!   `BEGIN` the slot names the connection the transaction holds. Recording it again at
//!   each checkout would cost a hand-off to sqlx's driver thread per write transaction.
//! - A `WriteTxn` holds that checkout for its whole life, and the writer slot (`Db`)
//!   admits one transaction at a time: the handle is open and nobody else's.
//! - The connection is opened in SQLite's serialized mode (`SQLITE_OPEN_FULLMUTEX`):
//!   were a sea-orm statement of the same transaction on sqlx's driver thread at the
//!   same moment as a rusqlite call on ours, SQLite would make them take turns.
//! - What rusqlite prepared is finalized when the `WriteTxn` ends, before the
//!   connection goes back to the pool: sqlx closes a connection with `sqlite3_close`,
//!   which fails (and sqlx panics) on statements left open.

use sea_orm::sqlx::pool::PoolOptions;
use sea_orm::sqlx::sqlite::SqliteConnection;
use sea_orm::sqlx::{self, Sqlite};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

struct Handle(NonNull<rusqlite::ffi::sqlite3>);

// SAFETY: a pointer to a connection opened in serialized mode, used only as above.
unsafe impl Send for Handle {}

/// Where the writer pool's hook records the handle of its one connection.
#[derive(Clone, Default)]
pub(crate) struct WriterHandle(Arc<Mutex<Option<Handle>>>);

impl std::fmt::Debug for WriterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriterHandle")
    }
}

impl WriterHandle {
    /// The writer's pool: one connection, kept open, its handle recorded.
    pub(crate) fn pool_options(&self, options: PoolOptions<Sqlite>) -> PoolOptions<Sqlite> {
        let opened = self.clone();
        options.max_connections(1).idle_timeout(None).max_lifetime(None).test_before_acquire(false).after_connect(
            move |conn, _| {
                let slot = opened.clone();
                Box::pin(async move { slot.record(conn).await })
            },
        )
    }

    async fn record(&self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        let handle = conn.lock_handle().await?.as_raw_handle();
        *self.0.lock().map_err(|_| sqlx::Error::PoolClosed)? = Some(Handle(handle));
        Ok(())
    }

    /// A rusqlite connection on the handle of the connection `txn` (just begun on the
    /// writer pool) holds, closing nothing when dropped. The caller drops it before
    /// `txn` ends (`WriteTxn` does).
    pub(crate) fn lend_to(&self, _txn: &sea_orm::DatabaseTransaction) -> Option<rusqlite::Connection> {
        let slot = self.0.lock().ok()?;
        let handle = slot.as_ref()?;
        // SAFETY: `txn` holds the writer pool's one connection, whose handle the hook
        // recorded when it was opened (see the module's comment);
        // `from_handle` leaves the connection open when the rusqlite side is dropped.
        unsafe { rusqlite::Connection::from_handle(handle.0.as_ptr()) }.ok()
    }
}
