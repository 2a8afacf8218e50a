//! Poverty lines (扶贫标准) as data: per income year, region prefix and standard,
//! editable by county staff. Seeded with the lines the policy documents state.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("threshold")
                    .col(big_integer("year"))
                    // Leading digits of the division codes covered; empty: the whole country.
                    .col(string_len("region_prefix", 12))
                    .col(string_len("standard", 20))
                    .col(big_integer("amount_fen"))
                    .col(string("source"))
                    .col(string_len_null("updated_by", 36))
                    .col(timestamp_with_time_zone_null("updated_at"))
                    .primary_key(Index::create().col("year").col("region_prefix").col("standard"))
                    .to_owned(),
            )
            .await?;
        // 002 §二(一) (盘龙区), 000 §四(一) (吉林), 003 §一(一)1 (山西).
        for (year, prefix, fen, source) in [
            (2016, "530103", 295_200, "002 §二(一)"),
            (2016, "22", 320_000, "000 §四(一)"),
            (2017, "14", 320_000, "003 §一(一)1"),
        ] {
            let insert = Query::insert()
                .into_table("threshold")
                .columns(["year", "region_prefix", "standard", "amount_fen", "source"])
                .values_panic([year.into(), prefix.into(), "national".into(), fen.into(), source.into()])
                .to_owned();
            manager.exec_stmt(insert).await?;
        }
        Ok(())
    }
}
