//! The rules (R1–R9, `crate::domain`) applied to stored households: facts read from
//! the records, thresholds stored as data per year, region and standard, and the
//! assessments county staff and the procedures use.
//!
//! The domain functions stay pure; this is where they meet the database. Who may read
//! an assessment or set the rules' data is decided here too (`&Caller` in, `Refusal`
//! out); what this module must never do is judge a household the caller may not read,
//! or change a record (it reads them, and stores only lines, variants and populations).

pub mod edge;
pub mod facts;
pub mod policy;
pub mod setting;
pub mod thresholds;
pub mod village;

use crate::auth::Caller;
use crate::auth::roles::region_prefix;
use crate::domain::{
    eligibility, exit, main_measure, policy::RulePolicy, quality, removal, thresholds::find_threshold,
};
use crate::error::Refusal;
use crate::records::{self, scope};
use jingzhun_mobile_api::fields;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde_json::{Value, json};

#[derive(FromQueryResult)]
struct IdRow {
    id: String,
}

#[derive(FromQueryResult)]
struct CountRow {
    n: i64,
}

/// Every rule's verdict on a household the caller reads, for an income year (default:
/// the household's latest).
pub async fn assessment(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    household_id: &str,
    year: Option<i64>,
) -> Result<Value, Refusal> {
    let household =
        records::load(conn, &fields::HOUSEHOLD, household_id, false).await?.ok_or_else(Refusal::not_found)?;
    let region = household.text("region_code").unwrap_or_default();
    if !scope::household_access(conn, caller, household_id, region).await?.may_read() {
        return Err(Refusal::out_of_scope());
    }
    assess(conn, household_id, year).await?.ok_or_else(Refusal::not_found)
}

/// Every rule's verdict on one household for one income year, as JSON for the API.
pub async fn assess(
    conn: &impl ConnectionTrait,
    household_id: &str,
    year: Option<i64>,
) -> Result<Option<Value>, DbErr> {
    let Some(read) = facts::household_facts(conn, household_id, year).await? else { return Ok(None) };
    let policy = policy::for_region(conn, &read.facts.region_code).await?;
    let thresholds = thresholds::all(conn).await?;
    let standard = read.facts.standard.unwrap_or(crate::domain::facts::Standard::National);
    let threshold = find_threshold(&thresholds, read.year as i32, &read.facts.region_code, standard).ok().cloned();
    let outcome = |r: Result<Value, String>| r.unwrap_or_else(|e| json!({ "error": e }));
    let income = crate::domain::income::net_income_per_capita(&read.facts.income, read.facts.resident_members, &policy);
    let mut out = json!({
        "household_id": household_id,
        "year": read.year,
        "threshold": threshold.as_ref().map(|t| json!({"year": t.year, "region_prefix": t.region_prefix, "standard": t.standard.code(), "yuan": t.amount_fen as f64 / 100.0, "source": t.source})),
        "net_income": outcome(income.map(|n| serde_json::to_value(n).unwrap_or_default()).map_err(|e| e.to_string())),
        "removal_findings": serde_json::to_value(removal::removal_findings(&read.facts, &policy)).unwrap_or_default(),
        "review_flags": serde_json::to_value(removal::review_flags(&read.facts)).unwrap_or_default(),
        "main_measure": outcome(main_measure::classify_main_measure(&read.facts, read.last_year.as_ref(), &policy).map(|m| serde_json::to_value(m).unwrap_or_default()).map_err(|e| e.to_string())),
        "quality": serde_json::to_value(quality::check_quality(&read.facts, chrono::Utc::now().date_naive(), &read.ids_elsewhere, &policy)).unwrap_or_default(),
    });
    match &threshold {
        Some(t) => {
            out["identification"] = outcome(
                eligibility::assess_identification(&read.facts, t, &policy)
                    .map(|r| serde_json::to_value(r).unwrap_or_default())
                    .map_err(|e| e.to_string()),
            );
            out["exit"] = outcome(
                exit::check_exit(&read.facts, t, &policy)
                    .map(|r| serde_json::to_value(r).unwrap_or_default())
                    .map_err(|e| e.to_string()),
            );
        }
        None => {
            let missing = json!({ "error": "no_threshold: no poverty line is set for this year, region and standard" });
            out["identification"] = missing.clone();
            out["exit"] = missing;
        }
    }
    // R5 measures against the 省定 line, not the household's own standard (004 §三(一)).
    out["edge"] = match edge::edge_line(&thresholds, read.year as i32, &read.facts.region_code) {
        Some(line) => outcome(
            crate::domain::edge::assess_edge(&read.facts, line, &policy)
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or_default();
                    v["line_standard"] = json!(line.standard.code());
                    v
                })
                .map_err(|e| e.to_string()),
        ),
        None => json!({ "error": "no_threshold: no provincial or national line is set for this year and region" }),
    };
    Ok(Some(out))
}

/// R2 on a household's latest income year, as kept with the village assessment's
/// sign-off of an identification (000 §四(一), 002 §二(一)): eligible yes, no or
/// unknown, and each criterion with its answer so the sign-off says why. No poverty
/// line set is an answer too (`unknown`, with the reason), never an error.
pub async fn identification(conn: &impl ConnectionTrait, household_id: &str) -> Result<Option<Value>, DbErr> {
    let Some(read) = facts::household_facts(conn, household_id, None).await? else { return Ok(None) };
    let policy = policy::for_region(conn, &read.facts.region_code).await?;
    let thresholds = thresholds::all(conn).await?;
    let standard = read.facts.standard.unwrap_or(crate::domain::facts::Standard::National);
    let unknown = |code: &str, zh: String| json!({ "rule": "R2", "year": read.year, "eligible": "unknown", "error": code, "reasons_zh": [zh] });
    let Ok(line) = find_threshold(&thresholds, read.year as i32, &read.facts.region_code, standard) else {
        return Ok(Some(unknown(
            "no_threshold",
            format!("未设定{}年度该地区的扶贫标准，无法判断是否符合识别条件", read.year),
        )));
    };
    let r = match eligibility::assess_identification(&read.facts, line, &policy) {
        Ok(r) => r,
        Err(e) => return Ok(Some(unknown("not_assessable", format!("无法判断是否符合识别条件：{e}")))),
    };
    let answer = |t: crate::domain::Tri| match t {
        crate::domain::Tri::Yes => "是",
        crate::domain::Tri::No => "否",
        crate::domain::Tri::Unknown => "未登记",
    };
    let reasons: Vec<String> =
        r.criteria.iter().map(|c| format!("{}：{}", c.criterion.label(), answer(c.answer))).collect();
    let mut out = serde_json::to_value(&r).unwrap_or_default();
    out["rule"] = json!("R2");
    out["year"] = json!(read.year);
    out["reasons_zh"] = json!(reasons);
    Ok(Some(out))
}

/// Households read per query by [`quality_problems`].
const QUALITY_PAGE: usize = 1000;

/// R8 over every household matching `condition` (a SQL condition on `household h`):
/// the households with problems, each with its list.
///
/// Every matching household is checked, a page of ids at a time: there is no cut-off,
/// so a campaign measure counted from it misses none (M9 found a silent one at 20,000).
/// It takes several queries per household; callers serving a request bound the work
/// first, with [`count_households`] and a gate.
pub async fn quality_problems(
    conn: &impl ConnectionTrait,
    condition: (String, Vec<sea_orm::Value>),
) -> Result<Vec<Value>, DbErr> {
    let (cond, values) = condition;
    let policies = policy::all(conn).await?;
    let today = chrono::Utc::now().date_naive();
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let mut page_values = values.clone();
        page_values.push(after.as_str().into());
        let rows = IdRow::find_by_statement(crate::db::sql(
            conn.get_database_backend(),
            &format!("SELECT h.id FROM household h WHERE ({cond}) AND h.id > ? ORDER BY h.id LIMIT {QUALITY_PAGE}"),
            page_values,
        ))
        .all(conn)
        .await?;
        for row in &rows {
            let id = row.id.clone();
            after.clone_from(&id);
            let Some(read) = facts::household_facts(conn, &id, None).await? else { continue };
            let policy = policies
                .iter()
                .filter(|p| read.facts.region_code.starts_with(&p.region_prefix))
                .max_by_key(|p| p.region_prefix.len())
                .map_or_else(RulePolicy::baseline, |p| p.policy.clone());
            let problems = quality::check_quality(&read.facts, today, &read.ids_elsewhere, &policy);
            if !problems.is_empty() {
                out.push(json!({ "household_id": id, "region_code": read.facts.region_code, "problems": problems }));
            }
        }
        if rows.len() < QUALITY_PAGE {
            return Ok(out);
        }
    }
}

/// The households a quality check covers for the caller: those in their scope, and in
/// `region_code` (any level) when given. A SQL condition on `household h`.
pub fn quality_scope(caller: &Caller, region_code: Option<&str>) -> (String, Vec<sea_orm::Value>) {
    let (mut cond, mut values) = scope::households_condition(caller, "h.id", "h.region_code");
    if let Some(region) = region_code {
        cond.push_str(" AND h.region_code LIKE ?");
        // By level, not by trailing zeros: village 010 is not the prefix of 011.
        values.push(format!("{}%", region_prefix(region)).into());
    }
    (cond, values)
}

/// How many households match `condition` (a SQL condition on `household h`).
pub async fn count_households(
    conn: &impl ConnectionTrait,
    condition: &(String, Vec<sea_orm::Value>),
) -> Result<u64, DbErr> {
    let row = CountRow::find_by_statement(crate::db::sql(
        conn.get_database_backend(),
        &format!("SELECT COUNT(*) AS n FROM household h WHERE {}", condition.0),
        condition.1.clone(),
    ))
    .one(conn)
    .await?;
    Ok(row.map_or(0, |row| row.n).max(0) as u64)
}
