//! At most one open assignment per officer and household: a unique index over
//! `(officer_id, household_id)` where `end_date IS NULL`, so two moves at once (a double
//! click on 批量转移, two clerks) cannot give an officer the same household twice
//! (`registry::assignments` writes `ON CONFLICT DO NOTHING` against it). Duplicates left
//! by such a race before this index are closed first: the oldest open row of each pair
//! stays, the later ones end on their own start day, so the history keeps them and the
//! officer's scope does not change (they still hold the household through the oldest).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        // The oldest open row of a pair is never updated, so the result is the same
        // whichever order the database visits the rows in.
        conn.execute_unprepared(
            "UPDATE assignment SET end_date = start_date WHERE end_date IS NULL AND EXISTS ( \
               SELECT 1 FROM assignment b WHERE b.officer_id = assignment.officer_id \
               AND b.household_id = assignment.household_id AND b.end_date IS NULL \
               AND (b.created_at < assignment.created_at OR (b.created_at = assignment.created_at AND b.id < assignment.id)))",
        )
        .await?;
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX assignment_active ON assignment (officer_id, household_id) WHERE end_date IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("assignment_active").table("assignment").to_owned()).await
    }
}
