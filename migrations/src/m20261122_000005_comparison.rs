//! Data comparison (C8): department lists imported by the county, and the leads (疑点)
//! their rows raise on households. A lead is only ever decided by a person.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("comparison_import")
                    .col(string_len("id", 36).primary_key())
                    // vehicles, urban_property, business, public_servants, village_cadres, deaths
                    .col(string_len("source", 30))
                    .col(string("file_name"))
                    .col(string_len("sha256", 64))
                    .col(string_len("region_code", 12))
                    .col(big_integer("rows_total"))
                    .col(big_integer("rows_accepted"))
                    .col(big_integer("rows_rejected"))
                    .col(big_integer("rows_matched"))
                    // The rejected rows with their reasons, as JSON.
                    .col(text("rejected"))
                    .col(string_len("imported_by", 36))
                    .col(timestamp_with_time_zone("imported_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("comparison_lead")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("import_id", 36))
                    .col(string_len("household_id", 36))
                    .col(string_len("member_id", 36))
                    .col(string_len("source", 30))
                    // The R4 removal reason (002 §二(二)) the match points to.
                    .col(string_len("reason", 30))
                    // The department's row, as JSON.
                    .col(text("details"))
                    // Acquired after the household was registered: possibly an exit measure,
                    // which is a normal exit and not a mis-registration.
                    .col(boolean("after_registration").default(false))
                    .col(string_len("status", 20).default("open"))
                    .col(text_null("note"))
                    .col(string_len_null("decided_by", 36))
                    .col(timestamp_with_time_zone_null("decided_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("comparison_lead_household")
                    .table("comparison_lead")
                    .col("household_id")
                    .col("status")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("comparison_lead_import").table("comparison_lead").col("import_id").to_owned(),
            )
            .await
    }
}
