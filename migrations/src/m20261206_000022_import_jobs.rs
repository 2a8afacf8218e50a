//! Register imports as jobs (issue 11 item 1): a county's upload answers at once with
//! a job, whose row says who imported what, where it stands and how it ended, so a
//! clerk whose browser closed, or whose server restarted mid-import, can see whether
//! the register was written. The write itself stays one transaction; this row is
//! written outside it (before and after), never inside.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("import_job")
                    .if_not_exists()
                    .col(string_len("id", 36).primary_key())
                    .col(string_len_null("user_id", 36))
                    // The importer's county or administrator region prefixes, comma-separated:
                    // who else may see the job.
                    .col(text("scope"))
                    .col(text("file_name"))
                    .col(boolean("dry_run"))
                    // running, done, failed or interrupted.
                    .col(string_len("state", 16))
                    // The server process running it: a running job of another process was
                    // cut off by a restart.
                    .col(string_len("instance", 36))
                    .col(big_integer_null("rows_total"))
                    .col(big_integer_null("households_total"))
                    // The ImportReport as JSON, once done.
                    .col(text_null("report"))
                    .col(string_len_null("error_code", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("import_job_created").table("import_job").col("created_at").to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("import_job").to_owned()).await
    }
}
