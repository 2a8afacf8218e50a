//! The start-up lock: several server processes started together on one database take
//! turns to migrate and seed it. Migrations are not idempotent (two processes creating
//! the same table, or inserting the same seeded template, fail the second), so only one
//! process at a time runs them; the others wait, then find the work done.
//!
//! PostgreSQL: a session advisory lock held on a connection of its own (the migrations
//! run on the pool, so the lock cannot live in one of its transactions). SQLite: an
//! exclusive lock on a file beside the database (`<file>.startup-lock`), which also
//! holds between two pools of one process. An in-memory database needs none.
//!
//! The lock only orders start-ups; every seeding step is also written to be safe to run
//! twice (`ON CONFLICT DO NOTHING`, or a unique violation read as "already there").

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement};

/// The advisory-lock key of the start-up (an arbitrary constant: "jz-start").
const ADVISORY_KEY: i64 = 0x6a7a_2d73_7461_7274;

/// Held until [`StartupLock::release`] (or drop, which releases it too: the connection
/// or the file closes).
pub enum StartupLock {
    Postgres(DatabaseConnection),
    File(std::fs::File),
    None,
}

impl StartupLock {
    /// Waits for the lock of the database at `url`.
    pub async fn acquire(url: &str) -> Result<StartupLock, DbErr> {
        if url.starts_with("postgres") {
            let mut options = ConnectOptions::new(url.to_owned());
            options.max_connections(1).min_connections(1).sqlx_logging(false);
            let conn = Database::connect(options).await?;
            conn.execute_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT pg_advisory_lock({ADVISORY_KEY})"),
            ))
            .await?;
            return Ok(StartupLock::Postgres(conn));
        }
        let Some(path) = sqlite_path(url) else { return Ok(StartupLock::None) };
        let lock_path = format!("{path}.startup-lock");
        let file = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path)?;
            file.lock()?;
            Ok(file)
        })
        .await
        .map_err(|err| DbErr::Custom(format!("start-up lock: {err}")))?
        .map_err(|err| DbErr::Custom(format!("start-up lock: {err}")))?;
        Ok(StartupLock::File(file))
    }

    /// Lets the next process start.
    pub async fn release(self) -> Result<(), DbErr> {
        match self {
            StartupLock::Postgres(conn) => {
                conn.execute_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!("SELECT pg_advisory_unlock({ADVISORY_KEY})"),
                ))
                .await?;
                conn.close().await
            }
            StartupLock::File(file) => file.unlock().map_err(|err| DbErr::Custom(format!("start-up lock: {err}"))),
            StartupLock::None => Ok(()),
        }
    }
}

/// The file of a SQLite URL (`sqlite://path?mode=rwc`, `sqlite:path`); None for an
/// in-memory database.
fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:" && !url.contains("mode=memory")).then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(sqlite_path("sqlite:///tmp/a.db?mode=rwc").as_deref(), Some("/tmp/a.db"));
        assert_eq!(sqlite_path("sqlite://data/jz.db").as_deref(), Some("data/jz.db"));
        assert_eq!(sqlite_path("sqlite:jz.db").as_deref(), Some("jz.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("sqlite://shared?mode=memory&cache=shared"), None);
        assert_eq!(sqlite_path("postgres://u:p@h/db"), None);
    }

    #[tokio::test]
    async fn a_second_taker_waits_for_the_first() {
        let path = std::env::temp_dir().join(format!("jz-startup-{}.db", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let first = StartupLock::acquire(&url).await.expect("first");
        let waiting = tokio::spawn({
            let url = url.clone();
            async move { StartupLock::acquire(&url).await.expect("second") }
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!waiting.is_finished(), "the second start-up waits");
        first.release().await.expect("release");
        let second =
            tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await.expect("woken").expect("task");
        second.release().await.expect("release");
        let _ = std::fs::remove_file(format!("{}.startup-lock", path.display()));
    }
}
