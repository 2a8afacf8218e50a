//! Posting photos uploaded from the office (issue 12, 公示公告): a photo of a notice on
//! the village board belongs to the notice, not to a household. Linking it to some
//! household of the village would let that household's officer read it and no one above
//! the notice's readers who does not read that household; a link to the notice lets
//! exactly the notice's readers read it (`attachments::load`). `linked_by` counts the
//! photo against its uploader's quota as `attachment_link.linked_by` does.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("attachment_notice_link")
                    .col(string_len("attachment_id", 36))
                    .col(string_len("notice_id", 36))
                    .col(string_len("linked_by", 36))
                    .col(timestamp_with_time_zone("linked_at"))
                    .primary_key(Index::create().col("attachment_id").col("notice_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("attachment_notice_link_linked_by")
                    .table("attachment_notice_link")
                    .col("linked_by")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("attachment_notice_link_notice")
                    .table("attachment_notice_link")
                    .col("notice_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("attachment_notice_link").to_owned()).await
    }
}
