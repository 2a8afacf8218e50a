//! Photo ids made by phones (issue 13, officer app): a phone names a photo with its own
//! UUID when the camera takes it, so a visit log can reference it offline, before the
//! upload. New bytes are stored under that id; bytes already stored under another id get
//! an `attachment_alias` row instead, so each file is still kept once. Who may read an
//! id is decided by the household links of that id (`attachment_link.attachment_id`
//! holds the id the phone used), never by the aliased attachment's other links.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("attachment_alias")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("attachment_id", 36))
                    .col(string_len("created_by", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("attachment_alias_attachment")
                            .from("attachment_alias", "attachment_id")
                            .to("attachment", "id"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("attachment_alias").to_owned()).await
    }
}
