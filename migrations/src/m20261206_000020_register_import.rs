//! What a county's existing register carries that a household created on a phone does
//! not (issue 11, register import): the national system's household number (户编号,
//! what a re-import matches on), the 建档立卡 date and the year of exit (脱贫年度).
//! All nullable: households identified inside the system have none until a procedure or
//! an import sets them. SQLite takes one column per ALTER TABLE, so each is its own
//! statement. Household numbers are unique; NULLs do not collide on either backend.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let alter = |column| Table::alter().table("household").add_column(column).to_owned();
        manager.alter_table(alter(string_len_null("household_number", 30))).await?;
        manager.alter_table(alter(string_len_null("registered_on", 10))).await?;
        manager.alter_table(alter(big_integer_null("exit_year"))).await?;
        manager
            .create_index(
                Index::create()
                    .name("household_number_unique")
                    .table("household")
                    .col("household_number")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("household_number_unique").table("household").to_owned()).await?;
        for column in ["exit_year", "registered_on", "household_number"] {
            manager.alter_table(Table::alter().table("household").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
