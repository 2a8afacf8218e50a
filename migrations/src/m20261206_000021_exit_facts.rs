//! 两不退 (003 §五(二)) facts on `household`: 长期稳定收入来源, 帮扶成效显著 and
//! 易地搬迁已入住, nullable because unrecorded is not the same as no (the exit check
//! refuses on both, naming which). And the rules' answer kept with a sign-off
//! (`case_signoff.assessment`, JSON): R2 at the village assessment of an identification
//! says why the household was or was not eligible, and the case view shows it.
//! SQLite takes one column per ALTER TABLE, so each is its own statement.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const HOUSEHOLD_FACTS: [&str; 3] = ["long_term_stable_income", "help_effective", "relocation_moved_in"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in HOUSEHOLD_FACTS {
            manager.alter_table(Table::alter().table("household").add_column(boolean_null(column)).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table("case_signoff").add_column(text_null("assessment")).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("case_signoff").drop_column("assessment").to_owned()).await?;
        for column in HOUSEHOLD_FACTS.iter().rev() {
            manager.alter_table(Table::alter().table("household").drop_column(*column).to_owned()).await?;
        }
        Ok(())
    }
}
