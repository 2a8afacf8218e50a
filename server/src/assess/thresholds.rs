//! Stored poverty lines (`threshold`), per income year, region prefix and standard: read
//! for the rules, set by county staff of the region (audited). The only module that
//! reads or writes the table.
//!
//! What this module must never do: pick the line a household is judged by (that is
//! `crate::domain::thresholds::find_threshold`, pure), or keep a line in yuan as a float
//! (lines are stored in fen; the API's yuan are converted once, here).

use chrono::Utc;
use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::{Deserialize, Serialize};

use super::setting::may_set_for;
use crate::audit;
use crate::auth::Caller;
use crate::db::{Db, sql};
use crate::domain::facts::Standard;
use crate::domain::thresholds::Threshold;
use crate::error::Refusal;
use crate::registry::Actor;

/// A poverty line as the API shows and takes it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ThresholdBody {
    /// Income year.
    pub year: i32,
    /// Leading digits of the division codes covered ("" for the whole country).
    pub region_prefix: String,
    /// national, provincial, municipal
    pub standard: String,
    /// Yuan per person and year.
    pub yuan: f64,
    /// The document that sets it.
    pub source: String,
}

#[derive(FromQueryResult)]
struct ThresholdRow {
    year: i64,
    region_prefix: String,
    standard: String,
    amount_fen: i64,
    source: String,
}

#[derive(FromQueryResult)]
struct AmountRow {
    amount_fen: i64,
}

/// Every stored line whose standard this server knows.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<Threshold>, DbErr> {
    let rows = ThresholdRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT year, region_prefix, standard, amount_fen, source FROM threshold ORDER BY year, region_prefix, standard",
        vec![],
    ))
    .all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(Threshold {
                year: row.year as i32,
                region_prefix: row.region_prefix,
                standard: Standard::from_code(&row.standard)?,
                amount_fen: row.amount_fen,
                source: row.source,
            })
        })
        .collect())
}

/// Every stored line, for anyone signed in.
pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<ThresholdBody>, Refusal> {
    Ok(all(conn)
        .await?
        .into_iter()
        .map(|t| ThresholdBody {
            year: t.year,
            region_prefix: t.region_prefix,
            standard: t.standard.code().into(),
            yuan: t.amount_fen as f64 / 100.0,
            source: t.source,
        })
        .collect())
}

/// Sets (or replaces) one line (county staff of its region), audited with the amount
/// before.
pub async fn set(db: &Db, caller: &Caller, body: ThresholdBody) -> Result<(), Refusal> {
    let standard = Standard::from_code(&body.standard).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownCode))?;
    if !(2000..=2100).contains(&body.year)
        || !body.region_prefix.bytes().all(|b| b.is_ascii_digit())
        || body.region_prefix.len() > 12
    {
        return Err(Refusal::invalid(ErrorCode::OutOfRange));
    }
    let amount_fen =
        jingzhun_mobile_api::validate::money_fen(&serde_json::json!(body.yuan)).map_err(Refusal::invalid)?;
    if !may_set_for(caller, &body.region_prefix) {
        return Err(Refusal::forbidden());
    }
    let line =
        Threshold { year: body.year, region_prefix: body.region_prefix, standard, amount_fen, source: body.source };
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let key = vec![i64::from(line.year).into(), line.region_prefix.as_str().into(), line.standard.code().into()];
    let old = AmountRow::find_by_statement(sql(
        backend,
        "SELECT amount_fen FROM threshold WHERE year = ? AND region_prefix = ? AND standard = ?",
        key.clone(),
    ))
    .one(&*txn)
    .await?;
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
    let id = format!("{}:{}:{}", line.year, line.region_prefix, line.standard.code());
    let mut entry = Actor::of(caller).audit("set_threshold", "threshold", &id);
    entry.old_value = old.map(|row| row.amount_fen.to_string());
    entry.new_value = Some(line.amount_fen.to_string());
    entry.note = Some(line.source.clone());
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}
