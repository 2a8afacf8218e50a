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
