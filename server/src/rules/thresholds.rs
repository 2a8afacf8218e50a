//! Stored poverty lines: read for the rules, set by county staff (audited).

use crate::audit::{self, AuditEntry};
use crate::auth::Caller;
use crate::db::{Db, sql};
use crate::domain::facts::Standard;
use crate::domain::thresholds::Threshold;
use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr};

pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<Threshold>, DbErr> {
    let rows = conn
        .query_all_raw(sql(
            conn.get_database_backend(),
            "SELECT year, region_prefix, standard, amount_fen, source FROM threshold ORDER BY year, region_prefix, standard",
            vec![],
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let standard: String = row.try_get_by_index(2)?;
        let Some(standard) = Standard::from_code(&standard) else { continue };
        out.push(Threshold {
            year: row.try_get_by_index::<i64>(0)? as i32,
            region_prefix: row.try_get_by_index(1)?,
            standard,
            amount_fen: row.try_get_by_index(3)?,
            source: row.try_get_by_index(4)?,
        });
    }
    Ok(out)
}

/// Sets (or replaces) one line.
pub async fn set(db: &Db, caller: &Caller, line: &Threshold) -> Result<(), DbErr> {
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let key = vec![i64::from(line.year).into(), line.region_prefix.as_str().into(), line.standard.code().into()];
    let old = txn
        .query_one_raw(sql(
            backend,
            "SELECT amount_fen FROM threshold WHERE year = ? AND region_prefix = ? AND standard = ?",
            key.clone(),
        ))
        .await?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?;
    txn.execute_raw(sql(backend, "DELETE FROM threshold WHERE year = ? AND region_prefix = ? AND standard = ?", key))
        .await?;
    txn.execute_raw(sql(
        backend,
        "INSERT INTO threshold (year, region_prefix, standard, amount_fen, source, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            i64::from(line.year).into(),
            line.region_prefix.as_str().into(),
            line.standard.code().into(),
            line.amount_fen.into(),
            line.source.as_str().into(),
            caller.user_id.as_str().into(),
            Utc::now().into(),
        ],
    ))
    .await?;
    audit::record(
        &*txn,
        &[AuditEntry {
            user_id: Some(caller.user_id.clone()),
            device_id: Some(caller.device_id.clone()),
            action: "set_threshold".into(),
            entity: "threshold".into(),
            entity_id: format!("{}:{}:{}", line.year, line.region_prefix, line.standard.code()),
            old_value: old.map(|f| f.to_string()),
            new_value: Some(line.amount_fen.to_string()),
            note: Some(line.source.clone()),
            ..AuditEntry::default()
        }],
    )
    .await?;
    txn.commit().await
}
