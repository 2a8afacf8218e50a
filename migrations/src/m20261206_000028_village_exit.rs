//! Village exit (贫困村退出/出列, 003 §一(二)): the facts R9 reads beyond incidence, on
//! `region` (nullable; only villages carry them), and `village_exit`, the county's
//! decision that a village exits for a year under a document.
//!
//! - `deep_poverty_village`, `whole_village_relocation`, `relocation_done`: 列入全省整
//!   自然村搬迁范围内的深度贫困村不搬迁不退出 (§一(二)2).
//! - `exit_indicators_met`: the county sector departments' finding on the exit indicators
//!   (§一(二)1: 由县级相关行业部门…进行认定); empty until they have said.
//!
//! One `village_exit` row per village while it stands exited: a revoked exit is deleted
//! (the audit trail keeps it), so a village exits again under a new decision. Text
//! without a length for the document number, so whatever the API accepts fits on both
//! backends. SQLite takes one column per ALTER TABLE, so each is its own statement.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 4] =
    ["deep_poverty_village", "whole_village_relocation", "relocation_done", "exit_indicators_met"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            manager.alter_table(Table::alter().table("region").add_column(boolean_null(column)).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("village_exit")
                    .col(string_len("village_code", 12).primary_key())
                    .col(integer("year"))
                    .col(text("document_no"))
                    // The Beijing day of the decision by the server clock, YYYY-MM-DD: the
                    // spot check draws from the villages decided in its period.
                    .col(string_len("decided_on", 10))
                    .col(string_len("decided_by", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("village_exit").to_owned()).await?;
        for column in COLUMNS.iter().rev() {
            manager.alter_table(Table::alter().table("region").drop_column(*column).to_owned()).await?;
        }
        Ok(())
    }
}
