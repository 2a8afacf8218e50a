//! People without an 18-character ID number (issue 11 item 3, review gap 6):
//! `member.id_number` becomes nullable and 24 characters wide, so a 20-character 残疾人证
//! number (004 A4 "居民身份证(残疾人证)号码") fits and a person with no document at all
//! (001 附件1 note 3: an unregistered newborn) is stored as NULL, never as a shared "" that
//! the unique index `member_active_id_number` would take for one person; and
//! `member.no_id_reason` says why there is none (at most 100 characters, the catalogue's
//! limit).
//!
//! PostgreSQL changes the column in place. SQLite cannot drop a NOT NULL constraint, so
//! the table is rebuilt the way SQLite documents (create the new shape, copy, drop,
//! rename, recreate the indexes) from its own stored definition, whatever columns later
//! migrations added. Nothing references `member` by foreign key, and it has no triggers
//! or views.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Room for a 20-character 残疾人证 number and a little more, should its format grow.
const ID_NUMBER_LEN: u32 = 24;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(conn).await?,
            _ => {
                conn.execute_unprepared(&format!(
                    "ALTER TABLE member ALTER COLUMN id_number TYPE varchar({ID_NUMBER_LEN}), \
                     ALTER COLUMN id_number DROP NOT NULL"
                ))
                .await?;
            }
        }
        manager
            .alter_table(Table::alter().table("member").add_column(string_len_null("no_id_reason", 100)).to_owned())
            .await
    }

    /// Drops the reason. The number stays nullable: members recorded without one cannot be
    /// given one by a migration.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("member").drop_column("no_id_reason").to_owned()).await
    }
}

async fn rebuild_sqlite(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    let query = |sql: &str| Statement::from_string(DbBackend::Sqlite, sql.to_owned());
    let table = conn
        .query_one_raw(query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'member'"))
        .await?
        .ok_or_else(|| DbErr::Migration("no table member".into()))?
        .try_get::<String>("", "sql")?;
    let old_column = "\"id_number\" varchar(18) NOT NULL";
    if !table.contains(old_column) {
        return Err(DbErr::Migration(format!("member.id_number is not {old_column}: {table}")));
    }
    let created = table.replacen(old_column, &format!("\"id_number\" varchar({ID_NUMBER_LEN})"), 1).replacen(
        "CREATE TABLE \"member\"",
        "CREATE TABLE \"member_rebuilt\"",
        1,
    );
    if !created.contains("\"member_rebuilt\"") {
        return Err(DbErr::Migration(format!("unexpected definition of member: {table}")));
    }
    let indexes: Vec<String> = conn
        .query_all_raw(query(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'member' AND sql IS NOT NULL",
        ))
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "sql"))
        .collect::<Result<_, _>>()?;
    // One batch on one connection: run statement by statement, a pooled connection
    // still reading the old schema could see `member` after it was dropped. The
    // savepoint makes the batch all or nothing, inside a migration's transaction or not.
    let mut batch = vec![
        "SAVEPOINT member_identity".to_owned(),
        created,
        "INSERT INTO member_rebuilt SELECT * FROM member".to_owned(),
        "DROP TABLE member".to_owned(),
        "ALTER TABLE member_rebuilt RENAME TO member".to_owned(),
    ];
    batch.extend(indexes);
    batch.push("RELEASE member_identity".to_owned());
    conn.execute_unprepared(&batch.join(";\n")).await?;
    Ok(())
}
