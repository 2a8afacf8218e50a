//! Campaigns and deadlines (C7): a campaign over a region with dated milestones, each
//! measured from the data; the last computed progress per milestone and region (what
//! supervisors' phones pull); and the claims that make scheduled work run once across
//! several server processes on one database.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("campaign")
                    .col(string_len("id", 36).primary_key())
                    .col(string("name"))
                    // The region it covers (a county, usually); progress is reported for
                    // the townships and villages below it.
                    .col(string_len("region_code", 12))
                    .col(integer("year"))
                    // active → closed.
                    .col(string_len("status", 20).default("active"))
                    .col(string_len_null("created_by", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("campaign_status").table("campaign").col("status").col("region_code").to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("milestone")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("campaign_id", 36))
                    .col(integer("position"))
                    .col(string("name"))
                    // Beijing dates, `YYYY-MM-DD` (text order is date order on both backends).
                    .col(string_len_null("starts_on", 10))
                    .col(string_len("due_on", 10))
                    // `households_visited`, `cases_past_step:<step>`, `quality_problems_left`,
                    // `help_plans_entered`.
                    .col(string_len("measure", 60))
                    // Percent of the measure that counts as done.
                    .col(integer("target_percent").default(100))
                    // Days before the due date a reminder goes out, as a JSON array.
                    .col(string_len("remind_days_before", 100).default("[3,1]"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("milestone_campaign")
                    .table("milestone")
                    .col("campaign_id")
                    .col("position")
                    .to_owned(),
            )
            .await?;

        // Written when progress is recomputed; one row per milestone and region.
        manager
            .create_table(
                Table::create()
                    .table("campaign_progress")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("campaign_id", 36))
                    .col(string_len("milestone_id", 36))
                    .col(string_len("region_code", 12))
                    .col(string_len("level", 20))
                    .col(big_integer("done"))
                    .col(big_integer("total"))
                    // Per mille, so both backends store the same integer.
                    .col(integer("share_permille"))
                    .col(integer("expected_permille"))
                    .col(boolean("lagging"))
                    .col(timestamp_with_time_zone("computed_at"))
                    .col(big_integer("version").default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("campaign_progress_milestone_region")
                    .table("campaign_progress")
                    .col("milestone_id")
                    .col("region_code")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("campaign_progress_region")
                    .table("campaign_progress")
                    .col("region_code")
                    .to_owned(),
            )
            .await?;

        // The claim on one firing of one scheduled job: whoever inserts it runs it.
        manager
            .create_table(
                Table::create()
                    .table("schedule_run")
                    .col(string_len("job", 50))
                    // The firing time, RFC 3339 UTC (text, so both backends compare it alike).
                    .col(string_len("slot", 40))
                    .col(timestamp_with_time_zone("claimed_at"))
                    .col(text_null("outcome"))
                    .primary_key(Index::create().col("job").col("slot"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
