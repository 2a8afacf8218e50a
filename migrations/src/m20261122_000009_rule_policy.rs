//! Regional rule variants as data (DESIGN C3): per region prefix, the choices the
//! seed documents make differently (identification test, pension counted, income
//! period, edge ceiling, …), as a JSON document the rules read. Editable by county staff.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("rule_policy")
                    // Leading digits of the division codes covered; empty: the whole country.
                    .col(string_len("region_prefix", 12).primary_key())
                    .col(text("policy"))
                    .col(string("source"))
                    .col(string_len_null("updated_by", 36))
                    .col(timestamp_with_time_zone_null("updated_at"))
                    .to_owned(),
            )
            .await
    }
}
