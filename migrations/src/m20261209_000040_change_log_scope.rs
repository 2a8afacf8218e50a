//! The change log and the households readable by scope (issue 14 item 2): a pull reads
//! the rows of the caller's households, regions and scope events as index ranges that
//! start at the cursor, instead of every row after it.
//!
//! `change_log_household (household_id, tx)` and `change_log_target (target_user, tx)`
//! from the sync migration already serve an officer's households and scope events; a
//! region user's rows need `(region_code, tx, seq)`, and a region user's first pull walks
//! the region's households in id order through `(region_code, id)`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str, &[&str]); 2] = [
    ("change_log_region", "change_log", &["region_code", "tx", "seq"]),
    ("household_region_id", "household", &["region_code", "id"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, cols) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(table);
            for col in cols {
                index.col(*col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager.drop_index(Index::drop().name(name).table(table).to_owned()).await?;
        }
        Ok(())
    }
}
