//! The audit log (C1): who, from which device, when, which field, old and new value.
//! Written in the same transaction as the change it describes; never updated.

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
}

pub async fn record(conn: &impl ConnectionTrait, entries: &[AuditEntry]) -> Result<(), DbErr> {
    if entries.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut insert = Query::insert();
    insert.into_table(Alias::new("audit_log")).columns(
        [
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
        ]
        .map(Alias::new),
    );
    for e in entries {
        let row: [Value; 12] = [
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
        ];
        insert.values(row.map(Into::into)).map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    conn.execute(&insert).await.map(|_| ())
}
