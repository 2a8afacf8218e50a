//! Procedures (C4): a case per household and kind moving through the seeded steps,
//! and the sign-off at each step.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Synced to phones like other records (the field catalogue's `case`).
        manager
            .create_table(
                Table::create()
                    .table("procedure_case")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("household_id", 36))
                    .col(string_len("kind", 20))
                    .col(string_len_null("reason", 50))
                    .col(string_len_null("member_id", 36))
                    .col(text_null("note"))
                    .col(string_len("status", 20).default("open"))
                    .col(string_len("step", 30).default("application"))
                    .col(string_len_null("opened_by", 36))
                    // The highest level that has signed: lower levels may no longer change
                    // the case or its household.
                    .col(string_len_null("frozen_level", 20))
                    .col(timestamp_with_time_zone_null("closed_at"))
                    .col(big_integer("version").default(1))
                    .col(text("field_versions").default("{}"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("procedure_case_household")
                    .table("procedure_case")
                    .col("household_id")
                    .col("status")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("procedure_case_open")
                    .table("procedure_case")
                    .col("status")
                    .col("kind")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("case_signoff")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("case_id", 36))
                    .col(string_len("step", 30))
                    // approve, reject, resubmit, reopen
                    .col(string_len("decision", 20))
                    .col(string_len("user_id", 36))
                    .col(string_len("role", 20))
                    .col(string_len("region_code", 12))
                    .col(text_null("comment"))
                    .col(text("attachment_ids").default("[]"))
                    .col(timestamp_with_time_zone("at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("case_signoff_case").table("case_signoff").col("case_id").col("at").to_owned(),
            )
            .await
    }
}
