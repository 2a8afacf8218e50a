//! The registry (C1): regions, accounts, households and what hangs off them.
//!
//! Ids are UUID text so a phone can make them offline and both backends store them the
//! same way. Money is whole fen (BIGINT). Every synced record carries `version` and
//! `field_versions` (the version at which each field last changed) for field merges.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Columns every synced record has.
fn synced(table: &mut TableCreateStatement) -> TableCreateStatement {
    table
        .col(big_integer("version").default(1))
        .col(text("field_versions").default("{}"))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .to_owned()
}

fn id() -> ColumnDef {
    string_len("id", 36).primary_key().to_owned()
}

fn household_ref() -> ColumnDef {
    string_len("household_id", 36)
}

async fn index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    name: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(*col);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("region")
                    .col(string_len("code", 12).primary_key())
                    .col(string("name"))
                    .col(string_len("level", 20))
                    .col(string_len_null("parent_code", 12))
                    .to_owned(),
            )
            .await?;
        index(manager, "region", "region_parent", &["parent_code"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("app_user")
                    .col(id())
                    .col(string_len_uniq("username", 64))
                    .col(string("name"))
                    .col(string_len_null("phone", 20))
                    .col(string_null("email"))
                    .col(string("password_hash"))
                    .col(boolean("active").default(true))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;

        // A role is always scoped to a region: an officer of a village, a county office.
        manager
            .create_table(
                Table::create()
                    .table("role_grant")
                    .col(id())
                    .col(string_len("user_id", 36))
                    .col(string_len("role", 20))
                    .col(string_len("region_code", 12))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "role_grant", "role_grant_user_role_region", &["user_id", "role", "region_code"], true).await?;

        manager
            .create_table(
                Table::create()
                    .table("device")
                    .col(string_len("id", 100).primary_key())
                    .col(string_len("user_id", 36))
                    .col(string("name"))
                    .col(string_len_null("revoked_mode", 10))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .col(string_len_null("revoked_by", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("last_seen_at"))
                    .to_owned(),
            )
            .await?;

        // Only the SHA-256 of a token is stored: a leaked table opens no phone.
        manager
            .create_table(
                Table::create()
                    .table("access_token")
                    .col(string_len("token_hash", 64).primary_key())
                    .col(string_len("user_id", 36))
                    .col(string_len("device_id", 100))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "access_token", "access_token_device", &["device_id"], false).await?;

        manager
            .create_table(synced(
                Table::create()
                    .table("household")
                    .col(id())
                    .col(string_len("region_code", 12))
                    .col(string_null("address"))
                    .col(string_len_null("phone", 20))
                    .col(string_len("standard", 20))
                    .col(string_len("kind", 20))
                    .col(string_len("status", 20).default("applicant"))
                    .col(text("poverty_causes").default("[]"))
                    .col(boolean_null("food_clothing_secure"))
                    .col(boolean_null("education_secure"))
                    .col(boolean_null("medical_secure"))
                    .col(boolean_null("housing_secure"))
                    .col(boolean_null("water_secure"))
                    .col(big_integer_null("planned_exit_year")),
            ))
            .await?;
        index(manager, "household", "household_region", &["region_code"], false).await?;

        manager
            .create_table(synced(
                Table::create()
                    .table("member")
                    .col(id())
                    .col(household_ref())
                    .col(string("name"))
                    .col(string_len("sex", 10))
                    .col(string_len("id_number", 18))
                    .col(string_len("relation", 30))
                    .col(string_len_null("health", 30))
                    .col(string_len_null("phone", 20))
                    .col(boolean("active").default(true)),
            ))
            .await?;
        index(manager, "member", "member_household", &["household_id"], false).await?;
        // R8: a person is in at most one active household. Same syntax on both backends.
        manager
            .get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX member_active_id_number ON member (id_number) WHERE active")
            .await?;

        manager
            .create_table(synced(
                Table::create()
                    .table("income_record")
                    .col(id())
                    .col(household_ref())
                    .col(big_integer("year"))
                    .col(big_integer_null("wage"))
                    .col(big_integer_null("business"))
                    .col(big_integer_null("property"))
                    .col(big_integer_null("transfer"))
                    .col(big_integer_null("business_expense"))
                    .col(big_integer_null("pension")),
            ))
            .await?;
        index(manager, "income_record", "income_household_year", &["household_id", "year"], true).await?;

        manager
            .create_table(synced(
                Table::create()
                    .table("help_measure")
                    .col(id())
                    .col(household_ref())
                    .col(string_len("category", 30))
                    .col(string("name"))
                    .col(big_integer_null("year"))
                    .col(string_len_null("start_date", 10))
                    .col(string_null("project_name"))
                    .col(string_null("scale"))
                    .col(big_integer_null("funds")),
            ))
            .await?;
        index(manager, "help_measure", "help_measure_household", &["household_id"], false).await?;

        manager
            .create_table(synced(
                Table::create()
                    .table("help_plan")
                    .col(id())
                    .col(household_ref())
                    .col(big_integer("year"))
                    .col(text_null("goal"))
                    .col(big_integer_null("planned_income")),
            ))
            .await?;
        index(manager, "help_plan", "help_plan_household", &["household_id"], false).await?;

        manager
            .create_table(synced(
                Table::create()
                    .table("plan_task")
                    .col(id())
                    .col(household_ref())
                    .col(string_len("plan_id", 36))
                    .col(string("title"))
                    .col(string_len("due_date", 10))
                    .col(string_len_null("officer_id", 36))
                    .col(boolean_null("done"))
                    .col(text_null("progress_note")),
            ))
            .await?;
        index(manager, "plan_task", "plan_task_household", &["household_id"], false).await?;
        index(manager, "plan_task", "plan_task_due", &["due_date"], false).await?;

        manager
            .create_table(synced(
                Table::create()
                    .table("visit_log")
                    .col(id())
                    .col(household_ref())
                    .col(string_len("visited_on", 10))
                    .col(text_null("note"))
                    .col(text("attachment_ids").default("[]"))
                    .col(string_len_null("officer_id", 36)),
            ))
            .await?;
        index(manager, "visit_log", "visit_log_household", &["household_id"], false).await?;

        // An officer is assigned to a household over a date range; history is kept.
        manager
            .create_table(
                Table::create()
                    .table("assignment")
                    .col(id())
                    .col(string_len("officer_id", 36))
                    .col(household_ref())
                    .col(date("start_date"))
                    .col(date_null("end_date"))
                    .col(string_len_null("created_by", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "assignment", "assignment_officer", &["officer_id", "end_date"], false).await?;
        index(manager, "assignment", "assignment_household", &["household_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("attachment")
                    .col(id())
                    .col(string_len_uniq("sha256", 64))
                    .col(big_integer("size"))
                    .col(string("content_type"))
                    .col(string("file_name"))
                    .col(blob("data"))
                    .col(string_len_null("uploaded_by", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        // Which households an attachment belongs to: what scope checks downloads.
        manager
            .create_table(
                Table::create()
                    .table("attachment_link")
                    .col(string_len("attachment_id", 36))
                    .col(household_ref())
                    .primary_key(Index::create().col("attachment_id").col("household_id"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
