//! Help plans and their timelines (一户一策, 001 §二 and 附件1 帮扶措施/帮扶成效): a task's
//! evidence (attachment ids) and the day it was done, and a plan's outcome in words.
//!
//! Every new column is nullable: a task or plan recorded before this step simply has
//! nothing recorded there yet (an empty evidence list reads as `[]`). SQLite takes one
//! column per ALTER TABLE, so each column is its own statement.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each new column: table, name, and its length for short text (`None`: free text).
const COLUMNS: &[(&str, &str, Option<u32>)] = &[
    // A JSON array of attachment ids, like `visit_log.attachment_ids`.
    ("plan_task", "evidence_ids", None),
    // `YYYY-MM-DD`, like `due_date`.
    ("plan_task", "done_on", Some(10)),
    ("help_plan", "outcome_note", None),
];

fn column(name: &'static str, len: Option<u32>) -> ColumnDef {
    match len {
        Some(len) => string_len_null(name, len),
        None => text_null(name),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, name, len) in COLUMNS {
            manager.alter_table(Table::alter().table(*table).add_column(column(name, *len)).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, name, _) in COLUMNS.iter().rev() {
            manager.alter_table(Table::alter().table(*table).drop_column(*name).to_owned()).await?;
        }
        Ok(())
    }
}
