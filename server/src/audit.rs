//! The audit log (C1): who, from which device, when, which field, old and new value.
//! Written in the same transaction as the change it describes; never updated.
//!
//! Entries go in multi-row INSERTs of at most [`ROWS_PER_STATEMENT`] rows: one change
//! set or notice close may write tens of thousands, and one statement for all of them
//! would pass a backend's bind-parameter limit (32,766 on SQLite, 65,535 on PostgreSQL)
//! and fail on every retry (M7 of the 2026-12 review).

use chrono::Utc;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DbErr, Value};

#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    pub changeset_id: Option<String>,
    /// `create`, `update`, `delete`, `conflict`, `assign`, `unassign`, `revoke_device`, …
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub version: Option<i64>,
    pub note: Option<String>,
    /// The household the entry is about, when there is one, so a household's trail
    /// also shows deleted records, conflicts and attachments. A household's own entries
    /// get it from `entity_id` when left empty.
    pub household_id: Option<String>,
}

/// Columns per row.
const COLUMNS: [&str; 13] = [
    "at",
    "user_id",
    "device_id",
    "changeset_id",
    "action",
    "entity",
    "entity_id",
    "field",
    "old_value",
    "new_value",
    "version",
    "note",
    "household_id",
];

/// Rows per INSERT: 13 parameters each, far below either backend's limit.
pub const ROWS_PER_STATEMENT: usize = 1000;

pub async fn record(conn: &impl ConnectionTrait, entries: &[AuditEntry]) -> Result<(), DbErr> {
    let now = Utc::now();
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        let mut insert = Query::insert();
        insert.into_table(Alias::new("audit_log")).columns(COLUMNS.map(Alias::new));
        for e in chunk {
            let household_id =
                e.household_id.clone().or_else(|| (e.entity == "household").then(|| e.entity_id.clone()));
            let row: [Value; COLUMNS.len()] = [
                now.into(),
                e.user_id.clone().into(),
                e.device_id.clone().into(),
                e.changeset_id.clone().into(),
                e.action.as_str().into(),
                e.entity.as_str().into(),
                e.entity_id.as_str().into(),
                e.field.clone().into(),
                e.old_value.clone().into(),
                e.new_value.clone().into(),
                e.version.into(),
                e.note.clone().into(),
                household_id.into(),
            ];
            insert.values(row.map(Into::into)).map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        conn.execute(&insert).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, sql};
    use crate::records::changelog::{self, LogEntry, LogOp};

    /// A county announcement of 5,000 cases writes a few audit and log rows per case in
    /// one transaction; far more than one statement's parameters on either backend.
    #[tokio::test]
    async fn one_transaction_writes_more_rows_than_a_statement_could_bind() {
        let path = std::env::temp_dir().join(format!("jingzhun-audit-{}.db", uuid::Uuid::new_v4()));
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", path.display()), 2).await.expect("connect");
        db.migrate().await.expect("migrate");
        let entries: Vec<AuditEntry> = (0..15_000)
            .map(|i| AuditEntry {
                action: "sign".into(),
                entity: "case".into(),
                entity_id: format!("case-{i}"),
                household_id: Some(format!("household-{i}")),
                ..AuditEntry::default()
            })
            .collect();
        let log: Vec<LogEntry> = (0..15_000)
            .map(|i| LogEntry {
                entity: "case",
                entity_id: format!("case-{i}"),
                household_id: Some(format!("household-{i}")),
                region_code: Some("320703001001".into()),
                target_user: None,
                op: LogOp::Upsert,
                version: 2,
            })
            .collect();
        let txn = db.begin_write().await.expect("begin");
        let tx = changelog::current_tx(&*txn).await.expect("tx");
        changelog::append(&*txn, tx, &log).await.expect("log rows");
        record(&*txn, &entries).await.expect("audit rows");
        txn.commit().await.expect("commit");
        for (table, expected) in [("audit_log", 15_000), ("change_log", 15_000)] {
            let n = crate::db::query_scalar_i64(
                &db.conn,
                sql(db.backend(), &format!("SELECT COUNT(*) FROM {table}"), vec![]),
            )
            .await
            .expect("count");
            assert_eq!(n, Some(expected), "{table}");
        }
        drop(db);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
