//! Natural villages (自然村, 村民小组) of an administrative village, with the facts of
//! 003 附件3 自然村信息采集表. Their poor households and people are not stored: the form
//! says they are generated from the household records.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table("natural_village")
            .col(string_len("id", 36).primary_key())
            .col(string_len("village_code", 12))
            .col(string("name"))
            .col(string_len_null("group_no", 20))
            .col(string_null("leader"))
            .col(string_len_null("phone", 20));
        for count in [
            "total_households",
            "dibao_households",
            "wubao_households",
            "total_population",
            "dibao_population",
            "wubao_population",
            "minority_population",
            "women_population",
            "disabled_population",
            "labour_force",
            "migrant_workers",
            // 到行政村距离, in hundredths of a kilometre.
            "distance_to_village",
        ] {
            table.col(big_integer_null(count));
        }
        for flag in ["paved_road", "household_power", "production_power", "broadband"] {
            table.col(boolean_null(flag));
        }
        table.col(string_len_null("updated_by", 36)).col(timestamp_with_time_zone("updated_at"));
        manager.create_table(table.to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("natural_village_name")
                    .table("natural_village")
                    .col("village_code")
                    .col("name")
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
