//! R9 for a village (003 §一(二), 贫困村退出/出列) applied to stored data: poverty
//! incidence = people of households still in the register ÷ the rural population the
//! statistics office gave, plus the facts county staff record on the village
//! (`region`: deep-poverty village, whole-village relocation scope and whether it moved,
//! the sector departments' finding on the exit indicators), all audited. Also the
//! county's exit decision (`village_exit`), its revocation, the 回头看 list of exited
//! villages whose incidence is back at or above the limit (003 §一(一)2), and the exited
//! villages the 10% spot check draws from.
//!
//! What this module must never do: estimate a population that was not given (a village
//! without one is refused, not judged), count people of households that left the
//! register, or record an exit R9 does not allow.

use chrono::{DateTime, NaiveDate, Utc};
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::audit;
use crate::auth::Caller;
use crate::auth::roles::region_prefix;
use crate::db::{Db, count, sql};
use crate::domain::policy::RulePolicy;
use crate::domain::village::{Unmet, VillageExit, VillageFacts, assess_village_exit};
use crate::error::Refusal;
use crate::registry::Actor;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PopulationBody {
    pub rural_population: i64,
}

/// The village's exit facts; the whole set is replaced, and `null` means not recorded.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct VillageFactsBody {
    /// 深度贫困村.
    pub deep_poverty_village: Option<bool>,
    /// 列入全省整自然村搬迁范围.
    pub whole_village_relocation: Option<bool>,
    /// The whole-village relocation has been carried out.
    pub relocation_done: Option<bool>,
    /// The county sector departments found every exit indicator met (县级行业部门认定达标).
    pub exit_indicators_met: Option<bool>,
}

/// The county's exit decision (出列) for a village.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ExitBody {
    pub year: i32,
    /// The county's document (文号).
    pub document_no: String,
}

#[derive(FromQueryResult)]
struct VillageRow {
    code: String,
    name: String,
    rural_population: Option<i64>,
    deep_poverty_village: Option<bool>,
    whole_village_relocation: Option<bool>,
    relocation_done: Option<bool>,
    exit_indicators_met: Option<bool>,
}

impl VillageRow {
    fn facts_body(&self) -> VillageFactsBody {
        VillageFactsBody {
            deep_poverty_village: self.deep_poverty_village,
            whole_village_relocation: self.whole_village_relocation,
            relocation_done: self.relocation_done,
            exit_indicators_met: self.exit_indicators_met,
        }
    }

    fn facts(&self, remaining_poor: i64, population: i64) -> VillageFacts {
        VillageFacts {
            remaining_poor: u32::try_from(remaining_poor).unwrap_or(u32::MAX),
            rural_population: u32::try_from(population).unwrap_or(u32::MAX),
            deep_poverty: self.deep_poverty_village.unwrap_or(false),
            whole_village_relocation: self.whole_village_relocation.unwrap_or(false),
            relocation_done: self.relocation_done.unwrap_or(false),
            indicators_met: self.exit_indicators_met,
        }
    }
}

const VILLAGE_COLUMNS: &str = "code, name, rural_population, deep_poverty_village, whole_village_relocation, \
     relocation_done, exit_indicators_met";

/// A village's standing exit decision.
#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct ExitRecord {
    pub year: i32,
    pub document_no: String,
    pub decided_on: String,
    pub decided_by: String,
}

async fn village(conn: &impl ConnectionTrait, code: &str) -> Result<VillageRow, Refusal> {
    VillageRow::find_by_statement(sql(
        conn.get_database_backend(),
        &format!("SELECT {VILLAGE_COLUMNS} FROM region WHERE code = ? AND level = 'village'"),
        vec![code.into()],
    ))
    .one(conn)
    .await?
    .ok_or_else(Refusal::not_found)
}

async fn exit_record(conn: &impl ConnectionTrait, code: &str) -> Result<Option<ExitRecord>, DbErr> {
    ExitRecord::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT year, document_no, decided_on, decided_by FROM village_exit WHERE village_code = ?",
        vec![code.into()],
    ))
    .one(conn)
    .await
}

async fn remaining_poor(conn: &impl ConnectionTrait, code: &str) -> Result<i64, DbErr> {
    count(
        conn,
        "SELECT COUNT(*) FROM member m JOIN household h ON h.id = m.household_id WHERE m.active AND h.region_code = ? AND h.status IN ('registered', 'pre_exit')",
        vec![code.into()],
    )
    .await
}

/// The facts and R9's verdict of one village; `required` (conflict) without a population.
async fn judge(conn: &impl ConnectionTrait, row: &VillageRow) -> Result<(VillageFacts, VillageExit), Refusal> {
    let population = row.rural_population.ok_or_else(|| Refusal::conflict(ErrorCode::Required))?;
    let facts = row.facts(remaining_poor(conn, &row.code).await?, population);
    let policy = super::policy::for_region(conn, &row.code).await?;
    let verdict = assess_village_exit(&facts, &policy).map_err(|_| Refusal::conflict(ErrorCode::OutOfRange))?;
    Ok((facts, verdict))
}

/// Whether the village may exit (whoever reads the village): its facts, the verdict
/// under its region's variants, and the county's exit decision if there is one.
/// `required` (conflict) when no rural population is recorded.
pub async fn exit_assessment(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    village_code: &str,
) -> Result<Value, Refusal> {
    if !caller.reads_region(village_code) {
        return Err(Refusal::forbidden());
    }
    let row = village(conn, village_code).await?;
    let (facts, verdict) = judge(conn, &row).await?;
    let decision = exit_record(conn, village_code).await?;
    // An exited village back at or above the limit is on the 回头看 list.
    let review = decision.is_some() && !verdict.below_limit;
    Ok(json!({
        "village": village_code,
        "facts": facts,
        "recorded": row.facts_body(),
        "exit": verdict,
        "decision": decision,
        "review": review,
    }))
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

fn shown(value: Option<bool>) -> Option<String> {
    value.map(|v| v.to_string())
}

/// Records the village's exit facts (county staff of the village): one audit entry per
/// fact that changed, with its old and new value.
pub async fn set_facts(db: &Db, caller: &Caller, village_code: &str, body: &VillageFactsBody) -> Result<(), Refusal> {
    if !caller.manages_region(village_code) {
        return Err(Refusal::forbidden());
    }
    let txn = db.begin_write().await?;
    let old = village(&*txn, village_code).await?.facts_body();
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "UPDATE region SET deep_poverty_village = ?, whole_village_relocation = ?, relocation_done = ?, \
         exit_indicators_met = ? WHERE code = ? AND level = 'village'",
        vec![
            body.deep_poverty_village.into(),
            body.whole_village_relocation.into(),
            body.relocation_done.into(),
            body.exit_indicators_met.into(),
            village_code.into(),
        ],
    ))
    .await?;
    let actor = Actor::of(caller);
    let mut entries = Vec::new();
    for (field, before, after) in [
        ("deep_poverty_village", old.deep_poverty_village, body.deep_poverty_village),
        ("whole_village_relocation", old.whole_village_relocation, body.whole_village_relocation),
        ("relocation_done", old.relocation_done, body.relocation_done),
        ("exit_indicators_met", old.exit_indicators_met, body.exit_indicators_met),
    ] {
        if before != after {
            let mut entry = actor.audit("set_village_facts", "region", village_code);
            entry.field = Some(field.to_owned());
            entry.old_value = shown(before);
            entry.new_value = shown(after);
            entries.push(entry);
        }
    }
    audit::record(&*txn, &entries).await?;
    txn.commit().await?;
    Ok(())
}

/// What a refusal says about one unmet condition.
fn unmet_error(unmet: Unmet, verdict: &VillageExit, policy: &RulePolicy) -> FieldError {
    let incidence = percent(verdict.incidence_basis_points);
    let limit = percent(policy.village_incidence_limit_basis_points);
    let (field, zh, en) = match unmet {
        Unmet::Incidence => (
            "incidence",
            format!("贫困发生率{incidence}%，未降至{limit}%以下"),
            format!("incidence {incidence}% is not below {limit}%"),
        ),
        Unmet::Relocation => (
            "relocation_done",
            "列入全省整自然村搬迁范围的深度贫困村，尚未搬迁（不搬迁不退出）".to_owned(),
            "a deep-poverty village in the whole-village relocation scope that has not moved yet".to_owned(),
        ),
        Unmet::Indicators => (
            "exit_indicators_met",
            "县级行业部门认定退出指标未达标".to_owned(),
            "the county's sector departments found an exit indicator not met".to_owned(),
        ),
        Unmet::IndicatorsUnrecorded => (
            "exit_indicators_met",
            "县级行业部门对退出指标的认定尚未录入".to_owned(),
            "the sector departments' finding on the exit indicators is not recorded".to_owned(),
        ),
    };
    FieldError {
        field: field.to_owned(),
        code: ErrorCode::VillageNotReady.code().to_owned(),
        message_zh: zh,
        message_en: en,
    }
}

/// Percent with two decimals from basis points (`150` → `1.50`).
pub fn percent(basis_points: u32) -> String {
    format!("{}.{:02}", basis_points / 100, basis_points % 100)
}

/// The county office decides that a village exits (出列) for a year under a document:
/// refused with `village_not_ready`, naming each unmet condition, when R9 does not let
/// it exit. Posting the same decision again changes nothing; another one while the
/// first stands is `village_already_exited`.
pub async fn decide_exit(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    village_code: &str,
    body: &ExitBody,
) -> Result<ExitRecord, Refusal> {
    if !caller.manages_region(village_code) {
        return Err(Refusal::forbidden());
    }
    if !(2000..=2100).contains(&body.year) {
        return Err(Refusal::invalid(ErrorCode::OutOfRange).on_field("year"));
    }
    let document_no = body.document_no.trim();
    if document_no.is_empty() {
        return Err(Refusal::invalid(ErrorCode::Required).on_field("document_no"));
    }
    if document_no.chars().count() > 100 {
        return Err(Refusal::invalid(ErrorCode::TooLong).on_field("document_no"));
    }
    let txn = db.begin_write().await?;
    let row = village(&*txn, village_code).await?;
    if let Some(existing) = exit_record(&*txn, village_code).await? {
        if existing.year == body.year && existing.document_no == document_no {
            return Ok(existing);
        }
        return Err(Refusal::conflict(ErrorCode::VillageAlreadyExited));
    }
    let (_, verdict) = judge(&*txn, &row).await?;
    if !verdict.may_exit {
        let policy = super::policy::for_region(&*txn, village_code).await?;
        let reasons = verdict.unmet.iter().map(|u| unmet_error(*u, &verdict, &policy)).collect();
        return Err(Refusal::conflict(ErrorCode::VillageNotReady).with_fields(reasons));
    }
    let record = ExitRecord {
        year: body.year,
        document_no: document_no.to_owned(),
        decided_on: crate::clock::china_date(now).format("%Y-%m-%d").to_string(),
        decided_by: caller.user_id.clone(),
    };
    // Two county clerks posting at once on PostgreSQL both find no decision; the second
    // insert then does nothing and is answered as a repeat (or a different decision).
    let inserted = txn
        .execute_raw(sql(
            txn.get_database_backend(),
            "INSERT INTO village_exit (village_code, year, document_no, decided_on, decided_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (village_code) DO NOTHING",
            vec![
                village_code.into(),
                record.year.into(),
                record.document_no.as_str().into(),
                record.decided_on.as_str().into(),
                record.decided_by.as_str().into(),
                Utc::now().into(),
            ],
        ))
        .await?
        .rows_affected();
    if inserted == 0 {
        let existing = exit_record(&*txn, village_code).await?.ok_or_else(|| Refusal::internal("exit vanished"))?;
        if existing.year == body.year && existing.document_no == document_no {
            return Ok(existing);
        }
        return Err(Refusal::conflict(ErrorCode::VillageAlreadyExited));
    }
    let mut entry = Actor::of(caller).audit("village_exit", "region", village_code);
    entry.new_value = Some(format!("{} {}", record.year, record.document_no));
    entry.note = Some(format!("贫困发生率{}%", percent(verdict.incidence_basis_points)));
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(record)
}

/// The county office revokes a village's exit decision, audited with what it was.
pub async fn revoke_exit(db: &Db, caller: &Caller, village_code: &str) -> Result<(), Refusal> {
    if !caller.manages_region(village_code) {
        return Err(Refusal::forbidden());
    }
    let txn = db.begin_write().await?;
    let existing = exit_record(&*txn, village_code).await?.ok_or_else(Refusal::not_found)?;
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "DELETE FROM village_exit WHERE village_code = ?",
        vec![village_code.into()],
    ))
    .await?;
    let mut entry = Actor::of(caller).audit("revoke_village_exit", "region", village_code);
    entry.old_value = Some(format!("{} {}", existing.year, existing.document_no));
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}

/// An exited village with its figures today.
#[derive(Debug, Clone, Serialize)]
pub struct ExitedVillage {
    pub code: String,
    pub name: String,
    pub rural_population: Option<i64>,
    /// People of its households still in the register.
    pub remaining_poor: i64,
    pub facts: VillageFactsBody,
    pub exit: ExitRecord,
    /// R9 today; `None` without a population.
    pub verdict: Option<VillageExit>,
    /// The rules of its region (the incidence limit).
    #[serde(skip)]
    pub policy: RulePolicy,
}

#[derive(FromQueryResult)]
struct ExitedRow {
    code: String,
    name: String,
    rural_population: Option<i64>,
    deep_poverty_village: Option<bool>,
    whole_village_relocation: Option<bool>,
    relocation_done: Option<bool>,
    exit_indicators_met: Option<bool>,
    year: i32,
    document_no: String,
    decided_on: String,
    decided_by: String,
}

/// Exited villages under `prefix`, optionally only those decided between `from` and
/// `to` (Beijing days, inclusive), each judged by R9 today. Read whole, not by the
/// caller's household scope: these are villages, and whoever reads the region reads them.
pub async fn exited_villages(
    conn: &impl ConnectionTrait,
    prefix: &str,
    decided: Option<(NaiveDate, NaiveDate)>,
) -> Result<Vec<ExitedVillage>, DbErr> {
    let backend = conn.get_database_backend();
    let mut text = "SELECT r.code, r.name, r.rural_population, r.deep_poverty_village, r.whole_village_relocation, \
         r.relocation_done, r.exit_indicators_met, e.year, e.document_no, e.decided_on, e.decided_by \
         FROM village_exit e JOIN region r ON r.code = e.village_code WHERE r.code LIKE ?"
        .to_owned();
    let mut values = vec![format!("{prefix}%").into()];
    if let Some((from, to)) = decided {
        text.push_str(" AND e.decided_on >= ? AND e.decided_on <= ?");
        values.push(from.format("%Y-%m-%d").to_string().into());
        values.push(to.format("%Y-%m-%d").to_string().into());
    }
    text.push_str(" ORDER BY r.code");
    let rows = ExitedRow::find_by_statement(sql(backend, &text, values)).all(conn).await?;
    #[derive(FromQueryResult)]
    struct Remaining {
        region_code: String,
        n: i64,
    }
    let remaining = Remaining::find_by_statement(sql(
        backend,
        "SELECT h.region_code, COUNT(*) AS n FROM member m JOIN household h ON h.id = m.household_id \
         WHERE m.active AND h.region_code LIKE ? AND h.status IN ('registered', 'pre_exit') GROUP BY h.region_code",
        vec![format!("{prefix}%").into()],
    ))
    .all(conn)
    .await?;
    let remaining: HashMap<String, i64> = remaining.into_iter().map(|r| (r.region_code, r.n)).collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let village = VillageRow {
            code: r.code,
            name: r.name,
            rural_population: r.rural_population,
            deep_poverty_village: r.deep_poverty_village,
            whole_village_relocation: r.whole_village_relocation,
            relocation_done: r.relocation_done,
            exit_indicators_met: r.exit_indicators_met,
        };
        let poor = remaining.get(&village.code).copied().unwrap_or(0);
        let policy = super::policy::for_region(conn, &village.code).await?;
        let verdict = village.rural_population.and_then(|p| assess_village_exit(&village.facts(poor, p), &policy).ok());
        out.push(ExitedVillage {
            facts: village.facts_body(),
            code: village.code,
            name: village.name,
            rural_population: village.rural_population,
            remaining_poor: poor,
            exit: ExitRecord {
                year: r.year,
                document_no: r.document_no,
                decided_on: r.decided_on,
                decided_by: r.decided_by,
            },
            verdict,
            policy,
        });
    }
    Ok(out)
}

/// 回头看 (003 §一(一)2): exited villages of the region whose incidence is now at or
/// above their region's limit, with their figures (whoever reads the region).
pub async fn review_list(conn: &impl ConnectionTrait, caller: &Caller, region_code: &str) -> Result<Value, Refusal> {
    if !caller.reads_region(region_code) {
        return Err(Refusal::forbidden());
    }
    let villages = exited_villages(conn, region_prefix(region_code), None).await?;
    let listed: Vec<Value> = villages
        .iter()
        .filter_map(|v| {
            let verdict = v.verdict.as_ref()?;
            (!verdict.below_limit).then(|| {
                json!({
                    "code": v.code,
                    "name": v.name,
                    "exit": v.exit,
                    "rural_population": v.rural_population,
                    "remaining_poor": v.remaining_poor,
                    "incidence_basis_points": verdict.incidence_basis_points,
                    "limit_basis_points": v.policy.village_incidence_limit_basis_points,
                })
            })
        })
        .collect();
    Ok(json!({ "region_code": region_code, "villages": listed }))
}
