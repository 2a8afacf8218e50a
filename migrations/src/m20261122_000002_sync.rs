//! What sync and the audit need (C2): the change log, change-set receipts, conflicts,
//! the audit log and the sync horizon.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per change of a synced record or of a user's scope. Pulls read it in
        // (tx, seq) order: `tx` is the writing transaction's id on PostgreSQL, so rows of
        // a transaction that commits late are still found after the cursor.
        manager
            .create_table(
                Table::create()
                    .table("change_log")
                    .col(big_pk_auto("seq"))
                    .col(big_integer("tx"))
                    .col(string_len("entity", 30))
                    .col(string_len("entity_id", 36))
                    .col(string_len_null("household_id", 36))
                    .col(string_len_null("region_code", 12))
                    .col(string_len_null("target_user", 36))
                    .col(string_len("op", 10))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("at"))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("change_log_position", &["tx", "seq"][..]),
            ("change_log_household", &["household_id", "tx"][..]),
            ("change_log_target", &["target_user", "tx"][..]),
            ("change_log_at", &["at"][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table("change_log");
            for col in cols {
                index.col(*col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        // The first answer to each change set, so a retry gets it back unchanged.
        // Rejected change sets stay here with their request for a supervisor.
        manager
            .create_table(
                Table::create()
                    .table("changeset_receipt")
                    .col(string_len("device_id", 100))
                    .col(string_len("changeset_id", 36))
                    .col(string_len("user_id", 36))
                    .col(string_len("status", 10))
                    .col(text("request"))
                    .col(text("response"))
                    .col(timestamp_with_time_zone("received_at"))
                    .col(string_len_null("reviewed_by", 36))
                    .col(timestamp_with_time_zone_null("reviewed_at"))
                    .primary_key(Index::create().col("device_id").col("changeset_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("changeset_receipt_status")
                    .table("changeset_receipt")
                    .col("status")
                    .col("received_at")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("sync_conflict")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("entity", 30))
                    .col(string_len("entity_id", 36))
                    .col(string_len("household_id", 36))
                    .col(string_len("field", 50))
                    .col(text("base_value"))
                    .col(text("server_value"))
                    .col(text("client_value"))
                    .col(string_len("user_id", 36))
                    .col(string_len("device_id", 100))
                    .col(string_len("changeset_id", 36))
                    .col(string_len("status", 10))
                    .col(string_len_null("resolution", 10))
                    .col(string_len_null("resolved_by", 36))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .col(big_integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sync_conflict_household")
                    .table("sync_conflict")
                    .col("household_id")
                    .col("status")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("sync_conflict_status").table("sync_conflict").col("status").to_owned())
            .await?;
        // A pushed update closes the open conflicts of its record: looked up by record.
        manager
            .create_index(
                Index::create()
                    .name("sync_conflict_record")
                    .table("sync_conflict")
                    .col("entity_id")
                    .col("status")
                    .to_owned(),
            )
            .await?;

        // Who, which device, when, which field, old and new value (C1).
        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(string_len_null("user_id", 36))
                    .col(string_len_null("device_id", 100))
                    .col(string_len_null("changeset_id", 36))
                    .col(string_len("action", 30))
                    .col(string_len("entity", 30))
                    .col(string_len("entity_id", 100))
                    .col(string_len_null("field", 50))
                    .col(text_null("old_value"))
                    .col(text_null("new_value"))
                    .col(big_integer_null("version"))
                    .col(text_null("note"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("audit_log_entity").table("audit_log").col("entity").col("entity_id").to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("sync_meta")
                    .col(string_len("key", 50).primary_key())
                    .col(text("value"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
