//! Sync trust (issue 9): audit entries carry their household, rejected change sets
//! remember which households they touch, and applied change sets no longer keep a copy
//! of what was pushed.
//!
//! - `audit_log.household_id`: a household's trail is read by it, so deleted records,
//!   conflicts and attachment uploads show too (L16 of the 2026-12 review). Filled for
//!   existing rows from the records, the conflicts and the JSON of create, delete and
//!   upload entries.
//! - `changeset_household`: the households (and their villages) a stored change set
//!   touches; rejected change sets are shown to whoever reads one of them, not by the
//!   submitter's grants (L1).
//! - Applied change sets kept their whole request (ID numbers, phones, health) for ever,
//!   though nothing reads it: the audit log holds what was applied. It is emptied here,
//!   and push keeps only the shape (entities, ids, field names) from now on.
//! - `id_number_lookup`: pushes that named an ID number registered outside the pusher's
//!   scope, counted per user so an officer cannot probe the register (M2).

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Entities hanging off a household, with their tables.
const CHILDREN: [(&str, &str); 7] = [
    ("member", "member"),
    ("income", "income_record"),
    ("help_measure", "help_measure"),
    ("help_plan", "help_plan"),
    ("plan_task", "plan_task"),
    ("visit_log", "visit_log"),
    ("case", "procedure_case"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("audit_log").add_column(string_len_null("household_id", 36)).to_owned())
            .await?;
        manager
            .create_index(
                Index::create().name("audit_log_household").table("audit_log").col("household_id").col("id").to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        conn.execute_unprepared("UPDATE audit_log SET household_id = entity_id WHERE entity = 'household'").await?;
        conn.execute_unprepared(
            "UPDATE audit_log SET household_id = (SELECT c.household_id FROM sync_conflict c WHERE c.id = audit_log.entity_id) \
             WHERE entity = 'conflict' AND household_id IS NULL",
        )
        .await?;
        for (entity, table) in CHILDREN {
            conn.execute_unprepared(&format!(
                "UPDATE audit_log SET household_id = (SELECT r.household_id FROM {table} r WHERE r.id = audit_log.entity_id) \
                 WHERE entity = '{entity}' AND household_id IS NULL"
            ))
            .await?;
        }
        // Deleted records and uploads: their create, delete or upload entry holds the
        // record as JSON, household_id included.
        let find = match manager.get_database_backend() {
            DbBackend::Postgres => "strpos",
            _ => "instr",
        };
        let key = r#""household_id":""#;
        for (action, column) in [("create", "new_value"), ("upload", "new_value"), ("delete", "old_value")] {
            conn.execute_unprepared(&format!(
                "UPDATE audit_log SET household_id = substr({column}, {find}({column}, '{key}') + {len}, 36) \
                 WHERE household_id IS NULL AND action = '{action}' AND entity <> 'household' AND {find}({column}, '{key}') > 0",
                len = key.len()
            ))
            .await?;
        }
        // The rest of a deleted record's entries follow its create or delete entry.
        conn.execute_unprepared(
            "UPDATE audit_log SET household_id = (SELECT MAX(a.household_id) FROM audit_log a \
               WHERE a.entity = audit_log.entity AND a.entity_id = audit_log.entity_id AND a.household_id IS NOT NULL) \
             WHERE household_id IS NULL AND entity IN ('member', 'income', 'help_measure', 'help_plan', 'plan_task', 'visit_log', 'case', 'attachment')",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("changeset_household")
                    .col(string_len("device_id", 100))
                    .col(string_len("changeset_id", 36))
                    .col(string_len("household_id", 36))
                    // The household's village, or the one a new household was pushed into.
                    .col(string_len("region_code", 12))
                    .primary_key(Index::create().col("device_id").col("changeset_id").col("household_id"))
                    .to_owned(),
            )
            .await?;
        conn.execute_unprepared("UPDATE changeset_receipt SET request = '{}' WHERE status = 'applied'").await?;

        // An ID number pushed that belongs to a household outside the pusher's scope:
        // counted per user, so repeated probing is refused (M2).
        manager
            .create_table(
                Table::create()
                    .table("id_number_lookup")
                    .col(big_pk_auto("id"))
                    .col(string_len("user_id", 36))
                    .col(timestamp_with_time_zone("at"))
                    .col(string_len("household_id", 36))
                    .col(string_len("other_household_id", 36))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("id_number_lookup_user")
                    .table("id_number_lookup")
                    .col("user_id")
                    .col("at")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("id_number_lookup").to_owned()).await?;
        manager.drop_table(Table::drop().table("changeset_household").to_owned()).await?;
        manager.drop_index(Index::drop().name("audit_log_household").table("audit_log").to_owned()).await?;
        manager.alter_table(Table::alter().table("audit_log").drop_column("household_id").to_owned()).await
    }
}
