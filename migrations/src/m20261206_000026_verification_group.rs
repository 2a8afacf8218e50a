//! 002 §三(七) "没有举报，提交村民代表会作出决议，上报街道审定": one `village_resolution`
//! per meeting of the villagers' representatives on a closed village notice's list —
//! the village, the day, how many members the meeting has, how many came and how many
//! agreed, who recorded it. The cases it passed carry a `village_resolution` sign-off.
//! (The 动态管理工作核查组 of the same paragraph is a role, `verifier`, in `role_grant`:
//! no schema.)

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("village_resolution")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("notice_id", 36))
                    .col(string_len("region_code", 12))
                    // The meeting's day, YYYY-MM-DD.
                    .col(string_len("held_on", 10))
                    // 1–10000 each (the service refuses more): an INTEGER on both backends.
                    .col(integer("members"))
                    .col(integer("present"))
                    .col(integer("agreeing"))
                    .col(text_null("note"))
                    .col(string_len("recorded_by", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("village_resolution_notice")
                    .table("village_resolution")
                    .col("notice_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("village_resolution").to_owned()).await
    }
}
