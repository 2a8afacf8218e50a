//! The facts the removal reasons (002 §二(二)), the review cases (000 §四(一)), the
//! schooling burden (002 §二(一)), rigid expenses and debt (000 §四(一)), the
//! ecological-post wage (001 附件2), risks (004 §一(四)) and the officer's tick of the
//! main help measure (001 §三) read: columns on `household`, `member` and
//! `income_record`, and three synced tables for what a household may own several of
//! (vehicles, town property, businesses). Every new column is nullable: unrecorded is
//! not the same as no, and existing rows have no answer yet. Dates are `YYYY-MM-DD`
//! text and money whole fen, as elsewhere. SQLite takes one column per ALTER TABLE.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const HOUSEHOLD_FLAGS: [&str; 11] = [
    "schooling_burden_heavy",
    "hires_workers_long_term",
    "split_or_merged_for_benefits",
    "nominal_hukou",
    "favouritism_or_falsification",
    "high_standard_renovation",
    "living_costs_clearly_high",
    "absent_unreachable",
    "split_household",
    "able_but_idle",
    "wedding_debt",
];
const MEMBER_FLAGS: [&str; 5] = ["public_servant", "village_cadre", "deceased", "missing", "shares_budget_with_head"];
const MEMBER_DATES: [&str; 2] = ["public_servant_since", "village_cadre_since"];
const INCOME_MONEY: [&str; 6] = [
    "ecological_post_wage",
    "educated_member_wage",
    "educated_member_business",
    "education_expense",
    "medical_expense",
    "debt",
];
const TABLES: [&str; 3] = ["household_vehicle", "household_urban_property", "household_business"];

fn add(table: &'static str, column: ColumnDef) -> TableAlterStatement {
    Table::alter().table(table).add_column(column).to_owned()
}

fn drop(table: &'static str, column: &'static str) -> TableAlterStatement {
    Table::alter().table(table).drop_column(column).to_owned()
}

/// The columns every synced table carries (as migration 000001's `synced`).
fn synced(table: &mut TableCreateStatement) -> TableCreateStatement {
    table
        .col(string_len("id", 36).primary_key())
        .col(string_len("household_id", 36))
        .col(big_integer("version").default(1))
        .col(text("field_versions").default("{}"))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in HOUSEHOLD_FLAGS {
            manager.alter_table(add("household", boolean_null(column))).await?;
        }
        manager.alter_table(add("household", text_null("risks"))).await?;
        manager.alter_table(add("household", string_len_null("main_measure", 30))).await?;
        for column in MEMBER_FLAGS {
            manager.alter_table(add("member", boolean_null(column))).await?;
        }
        for column in MEMBER_DATES {
            manager.alter_table(add("member", string_len_null(column, 10))).await?;
        }
        for column in INCOME_MONEY {
            manager.alter_table(add("income_record", big_integer_null(column))).await?;
        }
        manager
            .create_table(synced(
                Table::create()
                    .table("household_vehicle")
                    .col(string_len("kind", 30))
                    .col(big_integer("price"))
                    .col(boolean("owned"))
                    .col(string_len_null("acquired_on", 10))
                    .col(boolean("as_exit_measure"))
                    .col(string_null("note")),
            ))
            .await?;
        manager
            .create_table(synced(
                Table::create()
                    .table("household_urban_property")
                    .col(string_len("kind", 30))
                    .col(string_len_null("acquired_on", 10))
                    .col(boolean("as_exit_measure"))
                    .col(boolean("relocation_resettlement"))
                    .col(string_null("note")),
            ))
            .await?;
        manager
            .create_table(synced(
                Table::create()
                    .table("household_business")
                    .col(string_null("name"))
                    .col(string_len_null("registered_on", 10))
                    .col(boolean("operating"))
                    .col(boolean("as_exit_measure")),
            ))
            .await?;
        for table in TABLES {
            manager
                .create_index(
                    Index::create().name(format!("{table}_household")).table(table).col("household_id").to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager.drop_table(Table::drop().table(*table).to_owned()).await?;
        }
        for column in INCOME_MONEY.iter().rev() {
            manager.alter_table(drop("income_record", column)).await?;
        }
        for column in MEMBER_DATES.iter().chain(MEMBER_FLAGS.iter()).rev() {
            manager.alter_table(drop("member", column)).await?;
        }
        manager.alter_table(drop("household", "main_measure")).await?;
        manager.alter_table(drop("household", "risks")).await?;
        for column in HOUSEHOLD_FLAGS.iter().rev() {
            manager.alter_table(drop("household", column)).await?;
        }
        Ok(())
    }
}
