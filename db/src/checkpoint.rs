//! SQLite's WAL checkpoints on a thread of their own, not inside the writer's commits.
//!
//! In WAL mode a commit appends the changed pages to the log; a checkpoint copies them
//! back into the database file. By default the connection that commits does that once
//! the log passes 1,000 pages, inside its commit: a push group of a thousand changes
//! touches about that many, so nearly every group paid for a checkpoint, about half its
//! commit (`bench sync`: 40–47 ms a commit against 21 ms without, BENCHMARKS.md). Here a
//! connection of its own copies pages back while the writer goes on (a `PASSIVE`
//! checkpoint takes no lock a writer needs), and once the log is long it looks for a
//! moment when no writer nor reader needs it and has the next commit write from its
//! start again (`RESTART`, tried without waiting), so the log stays short. The file is
//! reused, not truncated: appending to a file that was just cut back cost a group more
//! than overwriting it (p99 344–397 against 281–295 ms); the writer's
//! `journal_size_limit` cuts back a log that grew past the limit while readers held it.
//! The writer still checkpoints itself past [`WRITER_CHECKPOINT_PAGES`], should this
//! thread be stopped or fall behind.
//!
//! Durability is untouched: a commit is on disk once its log pages are (`synchronous`),
//! whoever copies them back later.

use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Log pages past which the writer's own commits checkpoint (SQLite's default: 1,000).
pub(crate) const WRITER_CHECKPOINT_PAGES: u32 = 40_000;

/// Log pages (4 KiB each) past which the log starts over: 64 MiB.
const RESTART_PAGES: i64 = 16_000;

/// The size past which a log that starts over is cut back (`journal_size_limit`).
pub(crate) const LOG_SIZE_LIMIT: i64 = 2 * RESTART_PAGES * 4096;

/// How long the thread rests after a checkpoint with work, and when there was none.
const BUSY_PAUSE: Duration = Duration::from_millis(20);
const IDLE_PAUSE: Duration = Duration::from_millis(250);

/// Starts checkpointing the database at `path`, until `alive` has no strong holder left.
pub(crate) fn start(path: PathBuf, alive: &Arc<()>) -> std::io::Result<()> {
    let alive: Weak<()> = Arc::downgrade(alive);
    std::thread::Builder::new().name("sqlite-checkpoint".into()).spawn(move || {
        let conn = match Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE) {
            Ok(conn) => conn,
            Err(err) => {
                tracing::error!(error = %err, path = %path.display(), "the checkpoint thread could not open the database; the writer checkpoints alone");
                return;
            }
        };
        // Never wait: a RESTART that waited for readers held the writer back meanwhile
        // (25 ms to 1 s a time in `bench sync`); one that cannot run now is tried again
        // in the next round.
        if let Err(err) = conn.busy_timeout(Duration::ZERO) {
            tracing::warn!(error = %err, "checkpoint thread: busy timeout not set");
        }
        let mut last = 0;
        while alive.upgrade().is_some() {
            let pause = match checkpoint(&conn) {
                // The log moved since the last round: the writer is busy.
                Ok(log) if log != last => {
                    last = log;
                    BUSY_PAUSE
                }
                Ok(_) => IDLE_PAUSE,
                Err(err) => {
                    tracing::warn!(error = %err, "checkpoint failed; trying again");
                    IDLE_PAUSE
                }
            };
            std::thread::sleep(pause);
        }
    })?;
    Ok(())
}

/// One round: copies back what it can, and starts a long log over. The log's length
/// in pages.
fn checkpoint(conn: &Connection) -> rusqlite::Result<i64> {
    // (busy, pages in the log, pages copied back)
    let log: i64 = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?;
    if log > RESTART_PAGES {
        let started = std::time::Instant::now();
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get(0))?;
        tracing::debug!(pages = log, busy, ms = started.elapsed().as_secs_f64() * 1e3, "log restart");
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use crate::{Db, sql};
    use sea_orm::{ConnectionTrait, DbBackend};
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn committed_pages_reach_the_database_file_without_the_writer_checkpointing() {
        let path = std::env::temp_dir().join(format!("jingzhun-checkpoint-{}.db", std::process::id()));
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", path.display()), 1).await.expect("connect");
        let txn = db.begin_write().await.expect("begin");
        txn.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)").await.expect("create");
        // About 2 MiB: 500 pages, far below the writer's own threshold.
        for id in 0..500 {
            let stmt = sql(
                DbBackend::Sqlite,
                "INSERT INTO t (id, body) VALUES (?, ?)",
                vec![id.into(), "x".repeat(4000).into()],
            );
            txn.execute_raw(stmt).await.expect("insert");
        }
        txn.commit().await.expect("commit");
        let size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let started = Instant::now();
        while size() < 2_000_000 && started.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let copied = size();
        drop(db);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        assert!(copied >= 2_000_000, "the database file is {copied} bytes: the pages stayed in the log");
    }
}
