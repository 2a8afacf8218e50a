//! Authority that cannot be widened (issue 9): login failure counters shared by every
//! server process, and region levels made to agree with their codes.
//!
//! A grant's coverage used to follow the region's stored `level`, which a county could
//! set freely (C1 of the 2026-12 security review). Coverage now follows the 12-digit code;
//! this migration rewrites any stored level that disagrees, so the reports and notices
//! that still read `level` agree with what grants cover.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("login_throttle")
                    // `user:<username>` or `addr:<client address, IPv6 by /64>`.
                    .col(string_len("key", 200).primary_key())
                    // Failures since the last success (per user) or in the window.
                    .col(integer("failures").default(0))
                    .col(timestamp_with_time_zone("last_failure_at"))
                    // No password is checked for this key before this time.
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE region SET level = CASE \
                   WHEN code = '000000000000' THEN 'country' \
                   WHEN substr(code, 3) = '0000000000' THEN 'province' \
                   WHEN substr(code, 5) = '00000000' THEN 'city' \
                   WHEN substr(code, 7) = '000000' THEN 'county' \
                   WHEN substr(code, 10) = '000' THEN 'township' \
                   ELSE 'village' END \
                 WHERE level <> 'natural_village' AND length(code) = 12",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("login_throttle").to_owned()).await
    }
}
