//! 系统外人员 (001 §一): households identified while the national system was closed to
//! them, kept on paper and listed quarterly with the reason. Two nullable columns on
//! `household`; SQLite takes one column per ALTER TABLE, so each is its own statement.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table("household").add_column(boolean_null("outside_national_system")).to_owned(),
            )
            .await?;
        // At most 200 characters (the field catalogue's limit).
        manager
            .alter_table(
                Table::alter().table("household").add_column(string_len_null("outside_reason", 200)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("household").drop_column("outside_reason").to_owned()).await?;
        manager.alter_table(Table::alter().table("household").drop_column("outside_national_system").to_owned()).await
    }
}
