//! The 帮扶责任人's 性别, 政治面貌 and 帮扶（选派）单位 on `app_user` (001 附件1 and 004
//! 附件2 六). Nullable: accounts made before this, and every account that is not an
//! officer, have none. Codes of the `sex` and `political_status` tables and free text
//! for the unit, as text columns without a length, so whatever the user admin API
//! accepts (a code, a unit name of up to 100 characters) fits on both backends.
//! SQLite takes one column per ALTER TABLE, so each is its own statement.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 3] = ["sex", "political_status", "work_unit"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            manager.alter_table(Table::alter().table("app_user").add_column(text_null(column)).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS.iter().rev() {
            manager.alter_table(Table::alter().table("app_user").drop_column(*column).to_owned()).await?;
        }
        Ok(())
    }
}
