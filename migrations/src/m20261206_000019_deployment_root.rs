//! The deployment's root region: the one region whose administrator may act
//! deployment-wide (notification templates, change-log compaction).
//!
//! "An admin grant on a region without a parent" is not enough: before issue 9 a county
//! could create parentless regions and grant itself `admin` on them (C1, H3 of the
//! 2026-12 review). The root is written once, at bootstrap; on an existing deployment
//! it is the country if it exists, else the region of the first administrator ever
//! granted (the bootstrap one). Regions also get the parent their code names, where
//! that parent exists.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create().table("deployment_root").col(string_len("region_code", 12).primary_key()).to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "INSERT INTO deployment_root (region_code) \
             SELECT code FROM region WHERE code = '000000000000' \
             UNION ALL \
             SELECT region_code FROM (SELECT region_code FROM role_grant WHERE role = 'admin' ORDER BY created_at, id LIMIT 1) first_admin \
             WHERE NOT EXISTS (SELECT 1 FROM region WHERE code = '000000000000')",
        )
        .await?;
        conn.execute_unprepared(
            "UPDATE region SET parent_code = (CASE level \
               WHEN 'village' THEN substr(code, 1, 9) || '000' \
               WHEN 'township' THEN substr(code, 1, 6) || '000000' \
               WHEN 'county' THEN substr(code, 1, 4) || '00000000' \
               WHEN 'city' THEN substr(code, 1, 2) || '0000000000' \
               ELSE '000000000000' END) \
             WHERE level IN ('village', 'township', 'county', 'city', 'province') \
               AND EXISTS (SELECT 1 FROM region p WHERE p.code = (CASE region.level \
                 WHEN 'village' THEN substr(region.code, 1, 9) || '000' \
                 WHEN 'township' THEN substr(region.code, 1, 6) || '000000' \
                 WHEN 'county' THEN substr(region.code, 1, 4) || '00000000' \
                 WHEN 'city' THEN substr(region.code, 1, 2) || '0000000000' \
                 ELSE '000000000000' END))",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("deployment_root").to_owned()).await
    }
}
