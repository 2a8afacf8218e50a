//! The office console's cookie sessions (issue 12): a browser signs in with a password
//! and holds an HttpOnly cookie instead of a bearer token. Only the SHA-256 of the
//! cookie is stored, as for `access_token`; the CSRF token is stored as given out, since
//! it is worth nothing without the cookie and the console asks for it again on reload.
//! `last_used_at` carries the idle timeout; `expires_at` bounds a session's whole life.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("console_session")
                    .col(string_len("token_hash", 64).primary_key())
                    .col(string_len("user_id", 36))
                    .col(string_len("csrf_token", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("last_used_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("console_session_user").table("console_session").col("user_id").to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("console_session").to_owned()).await
    }
}
