//! A village's rural population (乡村人口, from the statistics office, 002 附件), which
//! the village exit rule (R9, 003 §一(一)2) divides the remaining poor people by.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("region").add_column(big_integer_null("rural_population")).to_owned())
            .await
    }
}
