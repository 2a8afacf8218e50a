//! The village group's decided list of 边缘户 and 脱贫监测户 (004 §三(一): 由村两委、驻村
//! 干部、驻村第一书记、帮扶队员共同研究，提出名单): one `edge_list_decision` per meeting (the
//! village, the day, who took part, who recorded it) and one `edge_list_entry` per
//! household the group put on the list or took off it, with the group's reason. The
//! 台账 shows the latest entry of each household as decided, R5's answer as a candidate.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("edge_list_decision")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("region_code", 12))
                    // The meeting's day, YYYY-MM-DD.
                    .col(string_len("decided_on", 10))
                    // JSON list of who took part, as the group wrote them.
                    .col(text("participants"))
                    .col(text_null("note"))
                    .col(string_len("recorded_by", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("edge_list_decision_region")
                    .table("edge_list_decision")
                    .col("region_code")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("edge_list_entry")
                    .col(string_len("decision_id", 36))
                    .col(string_len("household_id", 36))
                    .col(boolean("included"))
                    // edge or monitored; empty when the group took the household off.
                    .col(string_len_null("list", 20))
                    .col(text_null("reason"))
                    .primary_key(Index::create().col("decision_id").col("household_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("edge_list_entry_household")
                    .table("edge_list_entry")
                    .col("household_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("edge_list_entry").to_owned()).await?;
        manager.drop_table(Table::drop().table("edge_list_decision").to_owned()).await
    }
}
