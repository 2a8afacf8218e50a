//! Attachment quotas (issue 9, M8): who linked each attachment to a household.
//!
//! A per-user quota counts every link a user made, at the attachment's size, whether the
//! bytes were new or already stored: an upload of existing bytes costs the same as a new
//! one, so neither the answer nor the quota tells the uploader that a file exists (L10).
//! Links made before this migration count for the attachment's first uploader.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table("attachment_link").add_column(string_len_null("linked_by", 36)).to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE attachment_link SET linked_by = \
                 (SELECT a.uploaded_by FROM attachment a WHERE a.id = attachment_link.attachment_id)",
            )
            .await?;
        manager
            .create_index(
                Index::create().name("attachment_link_linked_by").table("attachment_link").col("linked_by").to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("attachment_link_household")
                    .table("attachment_link")
                    .col("household_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("attachment_link_household").table("attachment_link").to_owned()).await?;
        manager.drop_index(Index::drop().name("attachment_link_linked_by").table("attachment_link").to_owned()).await?;
        manager.alter_table(Table::alter().table("attachment_link").drop_column("linked_by").to_owned()).await
    }
}
