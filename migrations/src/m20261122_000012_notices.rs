//! Public notices (C5, R10): a notice lists the cases waiting at one notice step in one
//! region for a period of whole days; villagers object to it; objections are
//! investigated and answered. Plus a table of server-wide secrets shared by every
//! process (the key that signs the notice form's CSRF tokens).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("notice")
                    .col(string_len("id", 36).primary_key())
                    // village_notice, township_notice or announcement (the case step it closes).
                    .col(string_len("step", 30))
                    // The region it is posted in: a village, a township or a county.
                    .col(string_len("region_code", 12))
                    // Its households' codes start with this (village: 12 digits, township 9, county 6).
                    .col(string_len("region_prefix", 12))
                    .col(string("title"))
                    // draft → published → closed; or withdrawn before publishing.
                    .col(string_len("status", 20).default("draft"))
                    .col(integer("period_days"))
                    // Frozen at publishing: the JSON the pages render, and its SHA-256.
                    .col(text_null("content"))
                    .col(string_len_null("content_sha256", 64))
                    .col(string_len_null("token", 64))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .col(string_len_null("published_by", 36))
                    // The period: the day after publishing to the end of its last day, Beijing time.
                    .col(timestamp_with_time_zone_null("starts_at"))
                    .col(timestamp_with_time_zone_null("ends_at"))
                    .col(timestamp_with_time_zone_null("closed_at"))
                    // Photos of the notice on the village board (attachment ids).
                    .col(text("posting_attachment_ids").default("[]"))
                    .col(string_len("created_by", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("notice_status_ends").table("notice").col("status").col("ends_at").to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("notice_token").table("notice").col("token").unique().to_owned())
            .await?;
        manager
            .create_index(Index::create().name("notice_region").table("notice").col("region_code").to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("notice_case")
                    .col(string_len("notice_id", 36))
                    .col(string_len("case_id", 36))
                    .col(string_len("household_id", 36))
                    .col(integer("position"))
                    // listed → advanced (went on at close) or returned (an upheld objection sent it back).
                    .col(string_len("status", 20).default("listed"))
                    .primary_key(Index::create().col("notice_id").col("case_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("notice_case_case").table("notice_case").col("case_id").col("status").to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("objection")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("notice_id", 36))
                    // Empty: about the whole notice.
                    .col(string_len_null("case_id", 36))
                    .col(string_len_null("household_id", 36))
                    // What the objector keeps to check the status at /o/{receipt}.
                    .col(string_len_uniq("receipt", 32))
                    // Empty when anonymous.
                    .col(string_len_null("objector_name", 50))
                    .col(string_len_null("objector_phone", 20))
                    .col(text("body"))
                    // open → upheld or dismissed.
                    .col(string_len("status", 20).default("open"))
                    // The level that published the notice investigates, over this region.
                    .col(string_len("assigned_level", 20))
                    .col(string_len("assigned_region", 12))
                    // The village the objection concerns (pull scope for the village team).
                    .col(string_len("region_code", 12))
                    .col(timestamp_with_time_zone("due_at"))
                    .col(text_null("findings"))
                    .col(string_len_null("answered_by", 36))
                    .col(timestamp_with_time_zone_null("answered_at"))
                    // A keyed hash of the sender's address, for per-address limits; never the address.
                    .col(string_len("source_hash", 64))
                    .col(big_integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("objection_notice", &["notice_id", "status"][..]),
            ("objection_region", &["region_code", "status"][..]),
            ("objection_source", &["source_hash", "created_at"][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table("objection");
            for col in cols {
                index.col(*col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("server_secret")
                    .col(string_len("name", 50).primary_key())
                    .col(string("value"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await
    }
}
