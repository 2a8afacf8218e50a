//! Each user's choice per event and channel (issue 12, 通知设置: which events by which
//! channel), beside the per-channel switch of `notification_preference`. Only explicit
//! choices are stored: without a row an event goes out on every channel that is on.
//! `event` and `channel` hold the codes of `notifications::codes` (at most 40 and 20
//! characters, as in `notification_template`); the API refuses any other.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("notification_event_preference")
                    .col(string_len("user_id", 36))
                    .col(string_len("event", 40))
                    .col(string_len("channel", 20))
                    .col(boolean("enabled"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("user_id").col("event").col("channel"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("notification_event_preference").to_owned()).await
    }
}
