//! `/api/v1/villages/{code}/natural-villages`: the natural villages of an administrative
//! village (003 附件3), kept by the village team (or above). Poor households and people
//! are counted from the household records, as the form says (由户表生成).

use super::error::ApiResult;
use crate::error::Refusal;
use super::extract::AppJson;
use crate::state::AppState;
use crate::auth::Caller;
use crate::db::sql;
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::{get, put};
use chrono::Utc;
use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{ConnectionTrait, Value as SqlValue};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/villages/{code}/natural-villages", get(list))
        .route("/villages/{code}/natural-villages/{id}", put(save))
}

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
    pub counts: std::collections::BTreeMap<String, i64>,
    /// 到行政村距离 (km).
    pub distance_to_village_km: Option<f64>,
    /// paved_road (通沥青/水泥路), household_power, production_power, broadband.
    #[serde(default)]
    pub conditions: std::collections::BTreeMap<String, bool>,
}

/// Creates or replaces a natural village of the village.
#[utoipa::path(put, path = "/api/v1/villages/{code}/natural-villages/{id}", tag = "registry",
    params(("code" = String, Path), ("id" = Uuid, Path)), request_body = NaturalVillage,
    responses((status = 204), (status = 400), (status = 403)), security(("bearer" = [])))]
pub async fn save(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, id)): Path<(String, Uuid)>,
    AppJson(body): AppJson<NaturalVillage>,
) -> ApiResult<axum::http::StatusCode> {
    if !caller.edits_region(&code) || code.len() != 12 {
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
            jingzhun_mobile_api::validate::canonical_phone(p)
                .ok_or_else(|| Refusal::invalid(ErrorCode::InvalidPhone))
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
    let mut values: Vec<SqlValue> = vec![
        id.to_string().into(),
        code.as_str().into(),
        name.into(),
        body.group_no.clone().into(),
        body.leader.clone().into(),
        phone.into(),
        body.distance_to_village_km.map(|d| (d * 100.0).round() as i64).into(),
        caller.user_id.as_str().into(),
        Utc::now().into(),
    ];
    for count in COUNTS {
        columns.push(count);
        values.push(body.counts.get(count).copied().into());
    }
    for flag in FLAGS {
        columns.push(flag);
        values.push(body.conditions.get(flag).copied().into());
    }
    let txn = state.db.begin_write().await?;
    let backend = txn.get_database_backend();
    txn.execute_raw(sql(
        backend,
        "DELETE FROM natural_village WHERE id = ? AND village_code = ?",
        vec![id.to_string().into(), code.as_str().into()],
    ))
    .await?;
    let text = format!(
        "INSERT INTO natural_village ({}) VALUES ({})",
        columns.join(", "),
        crate::db::placeholders(columns.len())
    );
    if let Err(err) = txn.execute_raw(sql(backend, &text, values)).await {
        return Err(if crate::db::is_unique_violation(&err) {
            Refusal::conflict(ErrorCode::AlreadyExists)
        } else {
            err.into()
        });
    }
    let mut entry =
        crate::registry::Actor::of(&caller).audit("save_natural_village", "natural_village", &id.to_string());
    entry.new_value = serde_json::to_string(&body).ok();
    crate::audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The natural villages of a village, with poor households and people counted from
/// the household records (status registered or pre-exit, by the household's 自然村).
#[utoipa::path(get, path = "/api/v1/villages/{code}/natural-villages", tag = "registry", params(("code" = String, Path)),
    responses((status = 200, description = "natural villages with their counts")), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    if !caller.reads_region(&code) {
        return Err(Refusal::forbidden());
    }
    let conn = &state.db.conn;
    let backend = state.db.backend();
    let select = format!(
        "SELECT id, name, group_no, leader, phone, distance_to_village, {}, {} FROM natural_village WHERE village_code = ? ORDER BY name",
        COUNTS.join(", "),
        FLAGS.join(", ")
    );
    let rows = conn.query_all_raw(sql(backend, &select, vec![code.as_str().into()])).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get_by_index(1)?;
        let poor = conn
            .query_one_raw(sql(
                backend,
                "SELECT COUNT(DISTINCT h.id), COUNT(m.id) FROM household h LEFT JOIN member m ON m.household_id = h.id AND m.active \
                 WHERE h.region_code = ? AND h.natural_village = ? AND h.status IN ('registered', 'pre_exit')",
                vec![code.as_str().into(), name.as_str().into()],
            ))
            .await?;
        let (poor_households, poor_people): (i64, i64) = match poor {
            Some(r) => (r.try_get_by_index(0)?, r.try_get_by_index(1)?),
            None => (0, 0),
        };
        let mut counts = serde_json::Map::new();
        for (i, count) in COUNTS.iter().enumerate() {
            counts.insert((*count).into(), row.try_get_by_index::<Option<i64>>(6 + i)?.into());
        }
        let mut conditions = serde_json::Map::new();
        for (i, flag) in FLAGS.iter().enumerate() {
            conditions.insert((*flag).into(), row.try_get_by_index::<Option<bool>>(6 + COUNTS.len() + i)?.into());
        }
        let distance: Option<i64> = row.try_get_by_index(5)?;
        out.push(serde_json::json!({
            "id": row.try_get_by_index::<String>(0)?,
            "village_code": code,
            "name": name,
            "group_no": row.try_get_by_index::<Option<String>>(2)?,
            "leader": row.try_get_by_index::<Option<String>>(3)?,
            "phone": row.try_get_by_index::<Option<String>>(4)?,
            "distance_to_village_km": distance.map(|d| d as f64 / 100.0),
            "counts": counts,
            "conditions": conditions,
            "poor_households": poor_households,
            "poor_people": poor_people,
        }));
    }
    Ok(Json(out))
}
