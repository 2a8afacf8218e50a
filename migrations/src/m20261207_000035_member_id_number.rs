//! An index on `member.id_number` for every member, active or not: the console's search
//! by a whole ID number (`registry::households::summaries`) reads it by equality, and the
//! unique `member_active_id_number` covers only active members, so the search read the
//! whole member table (130–165 ms on 20,000 households, `jingzhun bench console`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(Index::create().name("member_id_number").table("member").col("id_number").to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("member_id_number").table("member").to_owned()).await
    }
}
