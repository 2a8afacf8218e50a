//! The full household record of the collection forms (004 附件2, 003 附件2): the rest of
//! the basic information, the living conditions A33–A48, the member details A3, A6–A21,
//! A51 with employment, and the income sub-items A29a–f, A31a–b.
//!
//! Every new column is nullable: a household recorded before this step simply has
//! nothing recorded there yet. Areas and distances are whole hundredths (BIGINT) like
//! money; the bank account is stored in full and masked on every output by the server.
//! SQLite takes one column per ALTER TABLE, so each column is its own statement.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What a new column holds.
#[derive(Clone, Copy)]
enum Column {
    /// Free text.
    Text,
    /// Short text: a code of a code table, or a bank account number.
    Short,
    Bool,
    /// An integer, whole hundredths or whole fen.
    Number,
}

const HOUSEHOLD: &[(&str, Column)] = &[
    ("natural_village", Column::Text),
    ("bank_name", Column::Text),
    ("bank_account", Column::Short),
    ("military_family", Column::Bool),
    ("consumption_assistance", Column::Bool),
    ("order_farming", Column::Bool),
    ("farmland_area", Column::Number),
    ("grassland_area", Column::Number),
    ("water_surface_area", Column::Number),
    ("forest_area", Column::Number),
    ("returned_forest_area", Column::Number),
    ("orchard_area", Column::Number),
    ("access_road", Column::Short),
    ("main_road_distance", Column::Number),
    ("cooperative_member", Column::Bool),
    ("housing_grade", Column::Short),
    ("housing_area", Column::Number),
    ("has_electricity", Column::Bool),
    ("has_sanitary_toilet", Column::Bool),
    ("main_fuel", Column::Short),
    ("leading_enterprise", Column::Bool),
    ("entrepreneur_led", Column::Bool),
    ("has_radio_tv", Column::Bool),
];

const MEMBER: &[(&str, Column)] = &[
    ("id_type", Column::Short),
    ("ethnicity", Column::Short),
    ("political_status", Column::Short),
    ("education", Column::Short),
    ("school_status", Column::Short),
    ("labour_skill", Column::Short),
    ("work_area", Column::Short),
    ("work_months", Column::Number),
    ("dropout_reason", Column::Short),
    ("speaks_mandarin", Column::Bool),
    ("pension_insured", Column::Bool),
    ("medical_insured", Column::Bool),
    ("critical_illness_insured", Column::Bool),
    ("dibao_recipient", Column::Bool),
    ("commercial_medical_insured", Column::Bool),
    ("accident_insurance_subsidy", Column::Bool),
    ("medical_assistance", Column::Bool),
    ("work_place", Column::Text),
    ("employer", Column::Text),
    ("industry", Column::Short),
    ("employment_channel", Column::Short),
];

const INCOME_RECORD: &[(&str, Column)] = &[
    ("family_planning", Column::Number),
    ("dibao", Column::Number),
    ("wubao", Column::Number),
    ("ecological_compensation", Column::Number),
    ("other_transfer", Column::Number),
    ("asset_dividend", Column::Number),
    ("other_property", Column::Number),
];

const TABLES: &[(&str, &[(&str, Column)])] =
    &[("household", HOUSEHOLD), ("member", MEMBER), ("income_record", INCOME_RECORD)];

fn column(name: &'static str, kind: Column) -> ColumnDef {
    match kind {
        Column::Text => string_null(name),
        // The longest code has 35 characters, an account at most 30 digits.
        Column::Short => string_len_null(name, 40),
        Column::Bool => boolean_null(name),
        Column::Number => big_integer_null(name),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in TABLES {
            for (name, kind) in *columns {
                manager.alter_table(Table::alter().table(*table).add_column(column(name, *kind)).to_owned()).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in TABLES {
            for (name, _) in columns.iter().rev() {
                manager.alter_table(Table::alter().table(*table).drop_column(*name).to_owned()).await?;
            }
        }
        Ok(())
    }
}
