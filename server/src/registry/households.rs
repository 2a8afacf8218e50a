//! The household register as the office reads it: one household whole, the households
//! in a caller's scope, a household's audit trail. Read only, and only within the
//! caller's read scope: households change through sync and procedures, never here.

use crate::audit::{self, KeptEntry};
use crate::auth::Caller;
use crate::db::sql;
use crate::error::Refusal;
use crate::records::{self, scope};
use jingzhun_mobile_api::fields;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Deserialize;
use serde_json::Value;

/// The household's village, for a caller who reads it: 404 for an unknown household,
/// 403 `out_of_scope` for one they do not read.
async fn readable(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> Result<String, Refusal> {
    let region = scope::household_region(conn, id).await?.ok_or_else(Refusal::not_found)?;
    if !scope::household_access(conn, caller, id, &region).await?.may_read() {
        return Err(Refusal::out_of_scope());
    }
    Ok(region)
}

/// A household with every record that hangs off it, as the server holds it now, and
/// the status to show (`pre_exit` while an exit case is open).
pub async fn whole(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> Result<Value, Refusal> {
    readable(conn, caller, id).await?;
    let mut out = serde_json::Map::new();
    for entity in fields::ENTITIES {
        let records = records::load_by_households(conn, entity, &[id.to_owned()]).await?;
        let list: Vec<Value> = records.iter().map(|r| r.to_json(entity)).collect();
        if entity.is_household() {
            out.insert("household".into(), list.into_iter().next().unwrap_or(Value::Null));
        } else {
            out.insert(entity.name.into(), Value::Array(list));
        }
    }
    // 预退出: while an exit case is open the household shows as pre-exit; its stored
    // status changes only when the case completes.
    let exiting = out
        .get(fields::CASE.name)
        .and_then(Value::as_array)
        .is_some_and(|cases| cases.iter().any(|c| c["kind"] == "exit" && c["status"] == "open"));
    let display = if exiting { Value::from("pre_exit") } else { out["household"]["status"].clone() };
    out.insert("display_status".into(), display);
    Ok(Value::Object(out))
}

/// Which households to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HouseholdFilter {
    /// Households in this region (any level).
    pub region_code: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u64>,
}

#[derive(FromQueryResult)]
struct IdRow {
    id: String,
}

/// Households in the caller's read scope, in id order, a page of at most `limit` (100
/// unless asked, 1,000 at most) after the id `after`.
pub async fn list(conn: &impl ConnectionTrait, caller: &Caller, filter: HouseholdFilter) -> Result<Vec<Value>, DbErr> {
    let (cond, mut values) = scope::households_condition(caller, "id", "region_code");
    let mut text = format!("SELECT id FROM household WHERE {cond} AND id > ?");
    values.push(filter.after.unwrap_or_default().into());
    if let Some(region) = filter.region_code {
        text.push_str(" AND region_code LIKE ?");
        // By level: a city's code is `3207` followed by zeros, not `320700`.
        values.push(format!("{}%", crate::auth::roles::region_prefix(&region)).into());
    }
    text.push_str(" ORDER BY id LIMIT ?");
    values.push((filter.limit.unwrap_or(100).min(1000) as i64).into());
    let ids: Vec<String> = IdRow::find_by_statement(sql(conn.get_database_backend(), &text, values))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let households = records::load_many(conn, &fields::HOUSEHOLD, &ids).await?;
    Ok(households.iter().map(|h| h.to_json(&fields::HOUSEHOLD)).collect())
}

#[derive(FromQueryResult)]
struct LinkRow {
    attachment_id: String,
}

/// The audit trail of a household and every record under it, oldest first: deleted
/// records, conflicts and attachment uploads included (entries carry their household).
/// Entries written without their household are found by the household's current
/// records and linked attachments.
pub async fn audit_trail(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> Result<Vec<KeptEntry>, Refusal> {
    readable(conn, caller, id).await?;
    let mut record_ids = Vec::new();
    for entity in fields::ENTITIES {
        let records = records::load_by_households(conn, entity, &[id.to_owned()]).await?;
        record_ids.extend(records.into_iter().map(|r| r.id));
    }
    let links = LinkRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT attachment_id FROM attachment_link WHERE household_id = ?",
        vec![id.into()],
    ))
    .all(conn)
    .await?;
    record_ids.extend(links.into_iter().map(|l| l.attachment_id));
    Ok(audit::household_trail(conn, id, &record_ids).await?)
}
