//! R9 for a village: poverty incidence = people of households still in the register ÷
//! the rural population the statistics office gave, which county staff record here
//! (`region.rural_population`, audited).
//!
//! What this module must never do: estimate a population that was not given (a village
//! without one is refused, not judged), or count people of households that left the
//! register.

use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::audit;
use crate::auth::Caller;
use crate::db::{Db, count, sql};
use crate::domain::village::{VillageFacts, assess_village_exit};
use crate::error::Refusal;
use crate::registry::Actor;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PopulationBody {
    pub rural_population: i64,
}

#[derive(FromQueryResult)]
struct PopulationRow {
    rural_population: Option<i64>,
}

/// Whether the village may exit (whoever reads the village): its facts and the verdict
/// under its region's variants. `required` (conflict) when no rural population is recorded.
pub async fn exit_assessment(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    village_code: &str,
) -> Result<Value, Refusal> {
    if !caller.reads_region(village_code) {
        return Err(Refusal::forbidden());
    }
    let row = PopulationRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT rural_population FROM region WHERE code = ? AND level = 'village'",
        vec![village_code.into()],
    ))
    .one(conn)
    .await?
    .ok_or_else(Refusal::not_found)?;
    let population = row.rural_population.ok_or_else(|| Refusal::conflict(ErrorCode::Required))?;
    let remaining = count(
        conn,
        "SELECT COUNT(*) FROM member m JOIN household h ON h.id = m.household_id WHERE m.active AND h.region_code = ? AND h.status IN ('registered', 'pre_exit')",
        vec![village_code.into()],
    )
    .await?;
    let facts = VillageFacts {
        remaining_poor: u32::try_from(remaining).unwrap_or(u32::MAX),
        rural_population: u32::try_from(population).unwrap_or(u32::MAX),
        ..Default::default()
    };
    let policy = super::policy::for_region(conn, village_code).await?;
    let verdict = assess_village_exit(&facts, &policy).map_err(|_| Refusal::conflict(ErrorCode::OutOfRange))?;
    Ok(json!({ "village": village_code, "facts": facts, "exit": verdict }))
}

/// Records a village's rural population (county staff of the village), audited.
pub async fn set_population(
    db: &Db,
    caller: &Caller,
    village_code: &str,
    body: &PopulationBody,
) -> Result<(), Refusal> {
    if !caller.manages_region(village_code) {
        return Err(Refusal::forbidden());
    }
    if body.rural_population <= 0 {
        return Err(Refusal::invalid(ErrorCode::OutOfRange));
    }
    let txn = db.begin_write().await?;
    let updated = txn
        .execute_raw(sql(
            txn.get_database_backend(),
            "UPDATE region SET rural_population = ? WHERE code = ? AND level = 'village'",
            vec![body.rural_population.into(), village_code.into()],
        ))
        .await?
        .rows_affected();
    if updated == 0 {
        return Err(Refusal::not_found());
    }
    let mut entry = Actor::of(caller).audit("set_population", "region", village_code);
    entry.new_value = Some(body.rural_population.to_string());
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}
