//! The natural villages of an administrative village (003 附件3): the form's counts and
//! conditions, kept by the village team (or above), read by whoever reads the village.
//! Poor households and people are not kept: they are counted from the household
//! records, as the form says (由户表生成).
//!
//! What this module must never do: store a poor household or person count (the records
//! are the only source), or write a household's `natural_village` (that is a synced
//! field the officers edit).

use std::collections::BTreeMap;

use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{ConnectionTrait, FromQueryResult, QueryResult, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::Actor;
use crate::audit;
use crate::auth::Caller;
use crate::db::{Db, is_unique_violation, placeholders, sql};
use crate::error::Refusal;

/// The counts of the form, in its order.
const COUNTS: [&str; 11] = [
    "total_households",
    "dibao_households",
    "wubao_households",
    "total_population",
    "dibao_population",
    "wubao_population",
    "minority_population",
    "women_population",
    "disabled_population",
    "labour_force",
    "migrant_workers",
];
const FLAGS: [&str; 4] = ["paved_road", "household_power", "production_power", "broadband"];

/// A natural village as the village team fills the form in.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NaturalVillage {
    pub name: String,
    pub group_no: Option<String>,
    /// 负责人.
    pub leader: Option<String>,
    pub phone: Option<String>,
    /// The form's counts by name (total_households, dibao_households, wubao_households,
    /// total_population, dibao_population, wubao_population, minority_population,
    /// women_population, disabled_population, labour_force, migrant_workers).
    #[serde(default)]
    pub counts: BTreeMap<String, i64>,
    /// 到行政村距离 (km).
    pub distance_to_village_km: Option<f64>,
    /// paved_road (通沥青/水泥路), household_power, production_power, broadband.
    #[serde(default)]
    pub conditions: BTreeMap<String, bool>,
}

#[derive(FromQueryResult)]
struct PoorRow {
    households: i64,
    people: i64,
}

/// Creates or replaces a natural village of the village (the village team or above),
/// audited with the form as sent.
pub async fn save(
    db: &Db,
    caller: &Caller,
    village_code: &str,
    id: Uuid,
    body: &NaturalVillage,
) -> Result<(), Refusal> {
    if !caller.edits_region(village_code) || village_code.len() != 12 {
        return Err(Refusal::forbidden());
    }
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(Refusal::invalid(ErrorCode::Required));
    }
    if body.counts.keys().any(|k| !COUNTS.contains(&k.as_str()))
        || body.conditions.keys().any(|k| !FLAGS.contains(&k.as_str()))
    {
        return Err(Refusal::invalid(ErrorCode::UnknownField));
    }
    if body.counts.values().any(|n| *n < 0) || body.distance_to_village_km.is_some_and(|d| !(0.0..=1000.0).contains(&d))
    {
        return Err(Refusal::invalid(ErrorCode::OutOfRange));
    }
    // Stored as digits: as typed, separators could overflow the column.
    let phone = body
        .phone
        .as_deref()
        .map(|p| {
            jingzhun_mobile_api::validate::canonical_phone(p).ok_or_else(|| Refusal::invalid(ErrorCode::InvalidPhone))
        })
        .transpose()?;
    let mut columns = vec![
        "id",
        "village_code",
        "name",
        "group_no",
        "leader",
        "phone",
        "distance_to_village",
        "updated_by",
        "updated_at",
    ];
    let mut values: Vec<Value> = vec![
        id.to_string().into(),
        village_code.into(),
        name.into(),
        body.group_no.clone().into(),
        body.leader.clone().into(),
        phone.into(),
        // Hundredths of a kilometre: an integer column reads the same on both backends.
        body.distance_to_village_km.map(|d| (d * 100.0).round() as i64).into(),
        caller.user_id.as_str().into(),
        chrono::Utc::now().into(),
    ];
    for count in COUNTS {
        columns.push(count);
        values.push(body.counts.get(count).copied().into());
    }
    for flag in FLAGS {
        columns.push(flag);
        values.push(body.conditions.get(flag).copied().into());
    }
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    txn.execute_raw(sql(
        backend,
        "DELETE FROM natural_village WHERE id = ? AND village_code = ?",
        vec![id.to_string().into(), village_code.into()],
    ))
    .await?;
    let text = format!("INSERT INTO natural_village ({}) VALUES ({})", columns.join(", "), placeholders(columns.len()));
    // The id may be another village's, or the name taken in this one.
    if let Err(err) = txn.execute_raw(sql(backend, &text, values)).await {
        return Err(if is_unique_violation(&err) { Refusal::conflict(ErrorCode::AlreadyExists) } else { err.into() });
    }
    let mut entry = Actor::of(caller).audit("save_natural_village", "natural_village", &id.to_string());
    entry.new_value = serde_json::to_string(body).ok();
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}

/// The natural villages of a village (whoever reads the village), each with its poor
/// households and people counted from the household records (status registered or
/// pre-exit, by the household's 自然村).
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    village_code: &str,
) -> Result<Vec<serde_json::Value>, Refusal> {
    if !caller.reads_region(village_code) {
        return Err(Refusal::forbidden());
    }
    let backend = conn.get_database_backend();
    let select = format!(
        "SELECT id, name, group_no, leader, phone, distance_to_village, {}, {} FROM natural_village WHERE village_code = ? ORDER BY name",
        COUNTS.join(", "),
        FLAGS.join(", ")
    );
    let rows = conn.query_all_raw(sql(backend, &select, vec![village_code.into()])).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get("", "name")?;
        let poor = PoorRow::find_by_statement(sql(
            backend,
            "SELECT COUNT(DISTINCT h.id) AS households, COUNT(m.id) AS people FROM household h \
             LEFT JOIN member m ON m.household_id = h.id AND m.active \
             WHERE h.region_code = ? AND h.natural_village = ? AND h.status IN ('registered', 'pre_exit')",
            vec![village_code.into(), name.as_str().into()],
        ))
        .one(conn)
        .await?;
        let (poor_households, poor_people) = poor.map_or((0, 0), |poor| (poor.households, poor.people));
        out.push(village_json(&row, village_code, name, poor_households, poor_people)?);
    }
    Ok(out)
}

/// One stored village as the API shows it; the form's counts and conditions are read
/// by their column names, which are the names the API uses.
fn village_json(
    row: &QueryResult,
    village_code: &str,
    name: String,
    poor_households: i64,
    poor_people: i64,
) -> Result<serde_json::Value, Refusal> {
    let mut counts = serde_json::Map::new();
    for count in COUNTS {
        counts.insert(count.into(), row.try_get::<Option<i64>>("", count)?.into());
    }
    let mut conditions = serde_json::Map::new();
    for flag in FLAGS {
        conditions.insert(flag.into(), row.try_get::<Option<bool>>("", flag)?.into());
    }
    let distance: Option<i64> = row.try_get("", "distance_to_village")?;
    Ok(json!({
        "id": row.try_get::<String>("", "id")?,
        "village_code": village_code,
        "name": name,
        "group_no": row.try_get::<Option<String>>("", "group_no")?,
        "leader": row.try_get::<Option<String>>("", "leader")?,
        "phone": row.try_get::<Option<String>>("", "phone")?,
        "distance_to_village_km": distance.map(|d| d as f64 / 100.0),
        "counts": counts,
        "conditions": conditions,
        "poor_households": poor_households,
        "poor_people": poor_people,
    }))
}
