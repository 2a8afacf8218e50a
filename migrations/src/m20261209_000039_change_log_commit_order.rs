//! A commit order of our own for the change log on PostgreSQL (issue 14 item 3).
//!
//! Until now a log row's `tx` was its writer's transaction id, and a pull served only
//! rows older than every transaction running anywhere in the cluster
//! (`pg_snapshot_xmin`): one idle transaction in another database froze every phone's
//! pull. From here on a writer commits its rows under the provisional `-xid`, and a
//! pull numbers the transactions committed since the last one from the sequence
//! `change_log_commit`, in one transaction of its own at a time
//! (`server/src/records/changelog.rs`): nothing outside our writers can hold a pull back.
//!
//! The sequence starts above every position a phone may hold: the newest `tx` in the
//! log, the compaction horizon, and the current transaction id (the old stable point
//! was the oldest running transaction id minus one, never above it). SQLite has one
//! writer at a time and keeps counting its transactions: nothing to do there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

// CACHE 1: numbers are drawn in the order the numbering transactions run, never from
// a range a session set aside earlier.
const UP: &str = r"DO $$
DECLARE start bigint;
BEGIN
  SELECT GREATEST(
    COALESCE((SELECT MAX(tx) FROM change_log), 0),
    pg_current_xact_id()::text::bigint,
    COALESCE((SELECT split_part(value, ':', 1)::bigint FROM sync_meta WHERE key = 'change_log_horizon'), 0)
  ) + 1 INTO start;
  EXECUTE format('CREATE SEQUENCE change_log_commit START WITH %s CACHE 1', start);
END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager.get_connection().execute_unprepared("DROP SEQUENCE IF EXISTS change_log_commit").await?;
        Ok(())
    }
}
