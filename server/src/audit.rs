//! The audit log (C1): who, from which device, when, which field, old and new value.
//! Written in the same transaction as the change it describes; never updated. Every
//! entry is signed by an [`Actor`]: a signed-in caller or the command line.
//!
//! Entries go in multi-row INSERTs of at most [`ROWS_PER_STATEMENT`] rows: one change
//! set or notice close may write tens of thousands, and one statement for all of them
//! would pass a backend's bind-parameter limit (32,766 on SQLite, 65,535 on PostgreSQL)
//! and fail on every retry (M7 of the 2026-12 review).
//!
//! This module knows entries and who signs them, never the records they describe: the
//! record store writes through it, so it must not read records back.

use crate::auth::{Caller, Role};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::Serialize;

/// One entry, as written and as read back (with its number and time, [`KeptEntry`]).
#[derive(Debug, Clone, Default, Serialize, FromQueryResult, utoipa::ToSchema)]
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
    /// get it from `entity_id` when left empty. Not shown: a trail is read by household.
    #[serde(skip)]
    pub household_id: Option<String>,
}

/// An entry as the log keeps it: its number (the trail's order) and when it was written.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeptEntry {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

#[derive(FromQueryResult)]
struct KeptRow {
    id: i64,
    at: DateTime<Utc>,
    #[sea_orm(nested)]
    entry: AuditEntry,
}

/// Who is acting: a user from the API (whose grants the services check), or the
/// command line (the operator of the machine, trusted). Every audit entry is made here,
/// so none names a user or device by hand.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    caller: Option<Box<Caller>>,
}

impl Actor {
    pub const CLI: Actor = Actor { user_id: None, device_id: None, caller: None };

    pub fn of(caller: &Caller) -> Actor {
        Actor {
            user_id: Some(caller.user_id.clone()),
            device_id: Some(caller.device_id.clone()),
            caller: Some(Box::new(caller.clone())),
        }
    }

    /// The signed-in caller, if the actor is not the command line.
    pub fn caller(&self) -> Option<&Caller> {
        self.caller.as_deref()
    }

    /// Whether the actor runs accounts in this region (the command line runs all).
    pub fn manages_region(&self, region_code: &str) -> bool {
        self.caller().is_none_or(|c| c.manages_region(region_code))
    }

    /// Whether the actor runs accounts anywhere (the command line does).
    pub fn manages_any_region(&self) -> bool {
        self.caller().is_none_or(|c| c.grants.iter().any(|g| g.role.manages()))
    }

    /// Whether the actor edits households in this region (and so assigns officers there).
    pub fn edits_region(&self, region_code: &str) -> bool {
        self.caller().is_none_or(|c| c.edits_region(region_code))
    }

    /// Whether the actor may give `role` over `region_code`.
    pub fn may_grant(&self, role: Role, region_code: &str) -> bool {
        self.caller().is_none_or(|c| c.may_grant(role, region_code))
    }

    /// Whether the actor may change the account of a user holding these grants.
    pub fn manages_user(&self, their_grants: &[(Role, String)]) -> bool {
        self.caller().is_none_or(|c| c.manages_user(their_grants))
    }

    pub fn audit(&self, action: &str, entity: &str, entity_id: &str) -> AuditEntry {
        AuditEntry {
            user_id: self.user_id.clone(),
            device_id: self.device_id.clone(),
            action: action.to_owned(),
            entity: entity.to_owned(),
            entity_id: entity_id.to_owned(),
            note: self.user_id.is_none().then(|| "command line".to_owned()),
            ..AuditEntry::default()
        }
    }

    /// An entry about a record of a household, so the household's trail shows it.
    pub fn audit_household(&self, action: &str, entity: &str, entity_id: &str, household_id: &str) -> AuditEntry {
        AuditEntry { household_id: Some(household_id.to_owned()), ..self.audit(action, entity, entity_id) }
    }
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

pub async fn record(conn: &impl crate::db::Rows, entries: &[AuditEntry]) -> Result<(), DbErr> {
    let now = Utc::now();
    for chunk in entries.chunks(crate::db::rows_per_statement(conn, ROWS_PER_STATEMENT)) {
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
        conn.run(conn.backend().build(&insert)).await?;
    }
    Ok(())
}

/// What the log holds about a household, oldest first: entries written with the
/// household, and entries written without it about any of `record_ids` (by code that did
/// not say which household; the caller finds its records and linked attachments).
pub async fn household_trail(
    conn: &impl ConnectionTrait,
    household_id: &str,
    record_ids: &[String],
) -> Result<Vec<KeptEntry>, DbErr> {
    const COLUMNS: &str = "id, at, user_id, device_id, changeset_id, action, entity, entity_id, field, old_value, new_value, version, note, household_id";
    let backend = conn.get_database_backend();
    let mut statements = vec![(
        format!("SELECT {COLUMNS} FROM audit_log WHERE household_id = ? ORDER BY id"),
        vec![Value::from(household_id)],
    )];
    for chunk in record_ids.chunks(500) {
        let text = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE household_id IS NULL AND entity_id IN ({}) ORDER BY id",
            crate::db::placeholders(chunk.len())
        );
        statements.push((text, chunk.iter().map(|i| Value::from(i.as_str())).collect()));
    }
    let mut out = std::collections::BTreeMap::new();
    for (text, values) in statements {
        for row in KeptRow::find_by_statement(crate::db::sql(backend, &text, values)).all(conn).await? {
            out.insert(row.id, KeptEntry { id: row.id, at: row.at.to_rfc3339(), entry: row.entry });
        }
    }
    Ok(out.into_values().collect())
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
