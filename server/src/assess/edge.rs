//! R5 (边缘户 / 脱贫监测户, `crate::domain::edge`) applied to stored households: the line
//! it measures against, why an identification is held back from the public notices,
//! the 台账 (004 §一(四) "建立工作台账") and the list the village group decides
//! (004 §三(一) "由村两委、驻村干部、驻村第一书记、帮扶队员共同研究，提出名单").
//!
//! What this must never do: put anything on a public page (内部掌握 … 结果暂不公示),
//! show a whole ID number, or list or decide on a household outside the caller's scope.

use super::{facts, policy, thresholds};
use crate::audit::Actor;
use crate::auth::roles::region_prefix;
use crate::auth::{Caller, Role};
use crate::db::{Db, sql};
use crate::domain::Tri;
use crate::domain::edge::{self, EdgeAssessment, WatchList};
use crate::domain::eligibility;
use crate::domain::facts::{HouseholdStatus, Standard};
use crate::domain::thresholds::{Threshold, find_threshold};
use crate::error::Refusal;
use crate::records::scope;
use chrono::{DateTime, NaiveDate, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::validate::mask_id_number;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// The line R5 measures against: 004 §三(一) fixes the 省定 line ("不超省定脱贫标准的
/// 1.5倍"), whatever standard (A23) the household itself is recorded under. Where the
/// province sets no line of its own for the year, its line is the national one (003:
/// "国家现行扶贫标准（…省级确定的3200元扶贫指导线）"), so that one is used.
pub fn edge_line<'a>(all: &'a [Threshold], year: i32, region_code: &str) -> Option<&'a Threshold> {
    find_threshold(all, year, region_code, Standard::Provincial)
        .or_else(|_| find_threshold(all, year, region_code, Standard::National))
        .ok()
}

/// R5 on a household's latest income year (None: no household, no line, or no income
/// to judge), with the facts it read.
async fn judge(
    conn: &impl ConnectionTrait,
    household_id: &str,
) -> Result<Option<(facts::Read, EdgeAssessment, Threshold)>, DbErr> {
    let Some(read) = facts::household_facts(conn, household_id, None).await? else { return Ok(None) };
    let policy = policy::for_region(conn, &read.facts.region_code).await?;
    let all = thresholds::all(conn).await?;
    let Some(line) = edge_line(&all, read.year as i32, &read.facts.region_code).cloned() else { return Ok(None) };
    let Ok(assessment) = edge::assess_edge(&read.facts, &line, &policy) else { return Ok(None) };
    Ok(Some((read, assessment, line)))
}

/// Why an identification of this household is held back from every public notice, shown
/// to the village team instead of parking the case silently.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeldBack {
    /// edge (边缘户).
    pub list: String,
    pub reason_zh: String,
}

/// An identification is held back when R5 puts the household on the internal edge list
/// (listing it as an applicant would publish it, 004 §三(一)) — unless R2 says it is to
/// be identified: 002 §二(一) "符合低保条件并享受低保待遇，但尚未达到脱贫标准的，应纳入",
/// and such a household is an applicant, not an edge household.
pub async fn held_back(conn: &impl ConnectionTrait, household_id: &str) -> Result<Option<HeldBack>, DbErr> {
    let Some((read, r5, line)) = judge(conn, household_id).await? else { return Ok(None) };
    if r5.list != Some(WatchList::Edge) {
        return Ok(None);
    }
    let policy = policy::for_region(conn, &read.facts.region_code).await?;
    let all = thresholds::all(conn).await?;
    let own = read.facts.standard.unwrap_or(Standard::National);
    if let Ok(own_line) = find_threshold(&all, read.year as i32, &read.facts.region_code, own)
        && eligibility::assess_identification(&read.facts, own_line, &policy).is_ok_and(|r| r.eligible == Tri::Yes)
    {
        return Ok(None);
    }
    Ok(Some(HeldBack { list: WatchList::Edge.code().into(), reason_zh: reason_zh(&r5, &line) }))
}

fn yuan(fen: i64) -> String {
    format!("{:.2}", fen as f64 / 100.0)
}

/// Why R5 puts the household on its list, in the words the village team reads.
fn why_listed(r5: &EdgeAssessment, line: &Threshold) -> String {
    let risks: Vec<&str> = r5.risks.iter().map(|r| r.label()).collect();
    format!(
        "{}年人均纯收入{}元，高于{}扶贫标准{}元、不超过其{}%（{}元），且有返贫风险（{}）：按004 §三(一)属{}",
        line.year,
        yuan(r5.net_income.per_capita_fen),
        line.standard.label(),
        yuan(line.amount_fen),
        r5.ceiling_percent,
        yuan(line.amount_fen * i64::from(r5.ceiling_percent) / 100),
        risks.join("、"),
        r5.list.map_or("", |l| l.label()),
    )
}

/// Why an identification waits at the village notice, and what the team can do.
fn reason_zh(r5: &EdgeAssessment, line: &Threshold) -> String {
    format!(
        "{}，内部掌握，结果暂不公示，故不列入公示名单。请核实收入和风险后重新评议（退回民主评议环节），或作出不予识别的决定。",
        why_listed(r5, line)
    )
}

/// What the 台账 is asked for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct LedgerQuery {
    /// Any region in the caller's scope (village, township, county); all of it when absent.
    pub region_code: Option<String>,
    /// From 1.
    pub page: Option<u32>,
    /// 1–200, 50 by default.
    pub per_page: Option<u32>,
}

/// The village group's latest word on a household.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decided {
    pub decision_id: String,
    pub decided_on: String,
    pub included: bool,
    pub list: Option<String>,
    pub reason: Option<String>,
    pub participants: Vec<String>,
}

/// An identification of the household held back from the notices.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeldCase {
    pub case_id: String,
    pub step: String,
    pub reason_zh: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerEntry {
    pub household_id: String,
    pub region_code: String,
    pub head_name: Option<String>,
    /// Masked, as every list shows it.
    pub head_id_number: Option<String>,
    pub household_status: Option<String>,
    /// decided_in (the group put it on the list), decided_out (the group took it off or
    /// left it off) or candidate (R5 names it, the group has not decided).
    pub standing: String,
    /// The list R5 names now (edge, monitored), if any.
    pub r5_list: Option<String>,
    /// Why R5 names it, or says nothing (no line or income).
    pub reason_zh: Option<String>,
    pub per_capita_yuan: Option<f64>,
    pub line_yuan: Option<f64>,
    /// The 省定 line's standard the ceiling was taken from (provincial, or national
    /// where the province set none).
    pub line_standard: Option<String>,
    pub ceiling_yuan: Option<f64>,
    pub decided: Option<Decided>,
    pub held_case: Option<HeldCase>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ledger {
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub items: Vec<LedgerEntry>,
}

#[derive(FromQueryResult)]
struct CandidateRow {
    id: String,
    region_code: String,
    status: Option<String>,
    head_name: Option<String>,
    head_id_number: Option<String>,
}

#[derive(FromQueryResult)]
struct DecidedRow {
    household_id: String,
    decision_id: String,
    decided_on: String,
    included: bool,
    list: Option<String>,
    reason: Option<String>,
    participants: String,
}

#[derive(FromQueryResult)]
struct OpenCaseRow {
    id: String,
    household_id: String,
    step: String,
}

/// The 台账: every household in the caller's scope (and region) that R5 names or the
/// village group has decided on, village by village, with why. A household in the
/// register is on neither list (it is already helped), so only the others are judged.
pub async fn ledger(conn: &impl ConnectionTrait, caller: &Caller, query: LedgerQuery) -> Result<Ledger, Refusal> {
    let per_page = query.per_page.unwrap_or(50).clamp(1, 200);
    let page = query.page.unwrap_or(1).max(1);
    let (mut cond, mut values) = scope::households_condition(caller, "h.id", "h.region_code");
    if let Some(region) = query.region_code.as_deref().filter(|r| !r.is_empty()) {
        cond.push_str(" AND h.region_code LIKE ?");
        // By level, not by trailing zeros: village 010 is not the prefix of 011.
        values.push(format!("{}%", region_prefix(region)).into());
    }
    let backend = conn.get_database_backend();
    let rows = CandidateRow::find_by_statement(sql(
        backend,
        &format!(
            "SELECT h.id, h.region_code, h.status, \
             (SELECT MIN(m.name) FROM member m WHERE m.household_id = h.id AND m.relation = 'head' AND m.active) AS head_name, \
             (SELECT MIN(m.id_number) FROM member m WHERE m.household_id = h.id AND m.relation = 'head' AND m.active) AS head_id_number \
             FROM household h WHERE {cond} \
             AND (h.status IS NULL OR h.status NOT IN ('registered', 'pre_exit') \
                  OR h.id IN (SELECT household_id FROM edge_list_entry)) \
             ORDER BY h.region_code, h.id"
        ),
        values,
    ))
    .all(conn)
    .await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let decided = latest_decisions(conn, &ids).await?;
    let held_cases = open_identifications(conn, &ids).await?;
    let mut items = Vec::new();
    for row in rows {
        let judged = judge(conn, &row.id).await?;
        let r5_list = judged.as_ref().and_then(|(_, r5, _)| r5.list);
        let decision = decided.get(&row.id).cloned();
        let standing = match (&decision, r5_list) {
            (Some(d), _) if d.included => "decided_in",
            (Some(_), _) => "decided_out",
            (None, Some(_)) => "candidate",
            (None, None) => continue,
        };
        let held_case = match held_cases.get(&row.id) {
            Some(case) => held_back(conn, &row.id).await?.map(|h| HeldCase {
                case_id: case.id.clone(),
                step: case.step.clone(),
                reason_zh: h.reason_zh,
            }),
            None => None,
        };
        let money = |fen: i64| fen as f64 / 100.0;
        items.push(LedgerEntry {
            household_id: row.id,
            region_code: row.region_code,
            head_name: row.head_name,
            head_id_number: row.head_id_number.as_deref().map(mask_id_number),
            household_status: row.status,
            standing: standing.into(),
            r5_list: r5_list.map(|l| l.code().to_owned()),
            reason_zh: judged.as_ref().filter(|(_, r5, _)| r5.list.is_some()).map(|(_, r5, line)| why_listed(r5, line)),
            per_capita_yuan: judged.as_ref().map(|(_, r5, _)| money(r5.net_income.per_capita_fen)),
            line_yuan: judged.as_ref().map(|(_, _, line)| money(line.amount_fen)),
            line_standard: judged.as_ref().map(|(_, _, line)| line.standard.code().to_owned()),
            ceiling_yuan: judged
                .as_ref()
                .map(|(_, r5, line)| money(line.amount_fen * i64::from(r5.ceiling_percent) / 100)),
            decided: decision,
            held_case,
        });
    }
    let total = items.len() as u64;
    let items = items.into_iter().skip(((page - 1) * per_page) as usize).take(per_page as usize).collect();
    Ok(Ledger { total, page, per_page, items })
}

/// Each household's entry in the latest decision that named it.
async fn latest_decisions(conn: &impl ConnectionTrait, ids: &[String]) -> Result<HashMap<String, Decided>, DbErr> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = DecidedRow::find_by_statement(sql(
            conn.get_database_backend(),
            &format!(
                "SELECT e.household_id, e.decision_id, d.decided_on, e.included, e.list, e.reason, d.participants \
                 FROM edge_list_entry e JOIN edge_list_decision d ON d.id = e.decision_id \
                 WHERE e.household_id IN ({}) ORDER BY d.decided_on, d.created_at",
                crate::db::placeholders(chunk.len())
            ),
            chunk.iter().map(|id| sea_orm::Value::from(id.as_str())).collect(),
        ))
        .all(conn)
        .await?;
        // Later rows overwrite earlier ones: the latest meeting's word stands.
        for r in rows {
            out.insert(
                r.household_id,
                Decided {
                    decision_id: r.decision_id,
                    decided_on: r.decided_on,
                    included: r.included,
                    list: r.list,
                    reason: r.reason,
                    participants: serde_json::from_str(&r.participants).unwrap_or_default(),
                },
            );
        }
    }
    Ok(out)
}

/// The open identification of each of these households, if any.
async fn open_identifications(
    conn: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, OpenCaseRow>, DbErr> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = OpenCaseRow::find_by_statement(sql(
            conn.get_database_backend(),
            &format!(
                "SELECT id, household_id, step FROM procedure_case WHERE kind = 'identify' AND status = 'open' \
                 AND household_id IN ({})",
                crate::db::placeholders(chunk.len())
            ),
            chunk.iter().map(|id| sea_orm::Value::from(id.as_str())).collect(),
        ))
        .all(conn)
        .await?;
        for r in rows {
            out.insert(r.household_id.clone(), r);
        }
    }
    Ok(out)
}

/// One household the group decided on.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DecidedHousehold {
    pub household_id: String,
    /// true: on the list; false: off it (or left off although R5 names it).
    pub included: bool,
    /// edge or monitored; by default the list R5 names, else by the household's status.
    pub list: Option<String>,
    pub reason: Option<String>,
}

/// The village group's meeting: its list.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewDecision {
    /// The village.
    pub region_code: String,
    /// YYYY-MM-DD; today by default.
    pub decided_on: Option<String>,
    /// Who studied the list together (村两委、驻村干部、驻村第一书记、帮扶队员), by name or post.
    pub participants: Vec<String>,
    pub note: Option<String>,
    pub households: Vec<DecidedHousehold>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecisionView {
    pub id: String,
    pub region_code: String,
    pub decided_on: String,
    pub participants: Vec<String>,
    pub recorded_by: String,
    pub included: u32,
    pub excluded: u32,
}

#[derive(FromQueryResult)]
struct HouseholdRow {
    region_code: String,
    status: Option<String>,
}

/// Records the village group's decided list. The village team of that village records
/// it (the group meets in the village; 004 names no higher level), each household must
/// be one of the village's, and the whole meeting is one transaction with an audit entry
/// per household, so the 台账 shows who decided what and when.
pub async fn decide(db: &Db, caller: &Caller, new: NewDecision, now: DateTime<Utc>) -> Result<DecisionView, Refusal> {
    if !caller.grants.iter().any(|g| g.role == Role::Village && new.region_code.starts_with(&g.prefix)) {
        return Err(Refusal::forbidden());
    }
    let participants: Vec<String> = new
        .participants
        .iter()
        .map(|p| p.trim().chars().take(100).collect::<String>())
        .filter(|p| !p.is_empty())
        .collect();
    if participants.is_empty() || participants.len() > 50 {
        return Err(Refusal::invalid(ErrorCode::EdgeListParticipants));
    }
    if new.households.is_empty() || new.households.len() > 1000 {
        return Err(Refusal::invalid(ErrorCode::InvalidRequest));
    }
    let decided_on = match new.decided_on.as_deref() {
        Some(day) => {
            NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| Refusal::invalid(ErrorCode::InvalidDate))?
        }
        // The village's day, on the server's clock.
        None => crate::clock::china_date(now),
    };
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let mut lists = Vec::with_capacity(new.households.len());
    for h in &new.households {
        let row = HouseholdRow::find_by_statement(sql(
            backend,
            "SELECT region_code, status FROM household WHERE id = ?",
            vec![h.household_id.as_str().into()],
        ))
        .one(&*txn)
        .await?;
        let Some(row) = row.filter(|r| r.region_code == new.region_code) else {
            return Err(Refusal::invalid(ErrorCode::HouseholdNotFound));
        };
        let list = match h.list.as_deref() {
            Some(code) => Some(WatchList::from_code(code).ok_or_else(|| Refusal::invalid(ErrorCode::InvalidRequest))?),
            None if h.included => {
                Some(if row.status.as_deref().and_then(HouseholdStatus::from_code) == Some(HouseholdStatus::Exited) {
                    WatchList::Monitored
                } else {
                    WatchList::Edge
                })
            }
            None => None,
        };
        lists.push(if h.included { list } else { None });
    }
    let id = Uuid::new_v4().to_string();
    let participants_json = serde_json::to_string(&participants).unwrap_or_else(|_| "[]".into());
    txn.execute_raw(sql(
        backend,
        "INSERT INTO edge_list_decision (id, region_code, decided_on, participants, note, recorded_by, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            id.as_str().into(),
            new.region_code.as_str().into(),
            decided_on.format("%Y-%m-%d").to_string().into(),
            participants_json.into(),
            new.note.map(|n| n.chars().take(2000).collect::<String>()).into(),
            caller.user_id.as_str().into(),
            now.into(),
        ],
    ))
    .await?;
    let actor = Actor::of(caller);
    let mut audit = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (h, list) in new.households.iter().zip(lists) {
        if !seen.insert(h.household_id.as_str()) {
            return Err(Refusal::invalid(ErrorCode::InvalidRequest));
        }
        txn.execute_raw(sql(
            backend,
            "INSERT INTO edge_list_entry (decision_id, household_id, included, list, reason) VALUES (?, ?, ?, ?, ?)",
            vec![
                id.as_str().into(),
                h.household_id.as_str().into(),
                h.included.into(),
                list.map(|l| l.code().to_owned()).into(),
                h.reason.as_deref().map(|r| r.chars().take(500).collect::<String>()).into(),
            ],
        ))
        .await?;
        let mut entry = actor.audit_household(
            if h.included { "edge_list_in" } else { "edge_list_out" },
            "edge_list_decision",
            &id,
            &h.household_id,
        );
        entry.new_value = list.map(|l| l.code().to_owned());
        entry.note = Some(format!("{} 研究：{}", decided_on, participants.join("、")));
        audit.push(entry);
    }
    crate::audit::record(&*txn, &audit).await?;
    txn.commit().await?;
    let included = new.households.iter().filter(|h| h.included).count() as u32;
    Ok(DecisionView {
        id,
        region_code: new.region_code,
        decided_on: decided_on.format("%Y-%m-%d").to_string(),
        participants,
        recorded_by: caller.user_id.clone(),
        included,
        excluded: new.households.len() as u32 - included,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(prefix: &str, standard: Standard, yuan: i64) -> Threshold {
        Threshold { year: 2026, region_prefix: prefix.into(), standard, amount_fen: yuan * 100, source: "test".into() }
    }

    #[test]
    fn the_provincial_line_wins_and_the_national_one_stands_in() {
        let both = [line("32", Standard::National, 3000), line("32", Standard::Provincial, 4000)];
        assert_eq!(edge_line(&both, 2026, "320703001001").map(|t| t.standard), Some(Standard::Provincial));
        let national = [line("", Standard::National, 3000), line("14", Standard::Municipal, 5000)];
        assert_eq!(edge_line(&national, 2026, "140101001001").map(|t| t.amount_fen), Some(300_000));
        assert!(edge_line(&national, 2025, "140101001001").is_none(), "no line that year");
    }
}
