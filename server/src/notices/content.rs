//! What a notice shows, frozen when it is published: built once from the cases, stored
//! as JSON with its SHA-256, and rendered from that copy only, so the page, the poster
//! and the hash printed on it always agree.
//!
//! What must never be in it (004 §三(一), DESIGN C5): a whole ID or phone number, any
//! health detail, income figures, whether a household is on an internal watch list
//! (边缘户 / 脱贫监测户). Only the fields below exist, so nothing else can leak.

use crate::procedures::steps::{CaseKind, Step};
use crate::records;
use chrono::NaiveDate;
use jingzhun_mobile_api::codes::{CASE_KIND, POVERTY_CAUSE, RELAPSE_CAUSE, REMOVAL_REASON};
use jingzhun_mobile_api::fields::{CASE, HOUSEHOLD, MEMBER};
use jingzhun_mobile_api::validate::mask_id_number;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoticeContent {
    pub title: String,
    /// village_notice, township_notice or announcement.
    pub step: String,
    /// 村级公示 / 乡镇公示 / 县级公告.
    pub kind_label: String,
    pub region_code: String,
    pub region_name: String,
    /// Who posts it: 某某村村民委员会, 某某镇人民政府, 某某县扶贫开发领导小组.
    pub publisher: String,
    pub period_days: u32,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub entries: Vec<Entry>,
}

/// One household on a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entry {
    /// 序号, from 1: objections about one household name it.
    pub no: u32,
    pub village: String,
    pub head_name: String,
    /// Masked: first 6 and last 4 digits.
    pub head_id_masked: String,
    pub members: u32,
    /// 贫困户识别 / 退出 / 清除 …
    pub case_kind: String,
    /// Poverty cause for an identification, R4 reason for a removal, relapse cause …
    pub reason: String,
}

impl NoticeContent {
    /// The stored form: the exact bytes hashed.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn sha256(stored: &str) -> String {
        hex::encode(Sha256::digest(stored.as_bytes()))
    }
}

pub fn kind_label(step: Step) -> &'static str {
    match step {
        Step::VillageNotice => "村级公示",
        Step::TownshipNotice => "乡镇公示",
        _ => "县级公告",
    }
}

pub fn publisher(step: Step, region_name: &str) -> String {
    match step {
        Step::VillageNotice => format!("{region_name}村民委员会"),
        Step::TownshipNotice => format!("{region_name}人民政府"),
        _ => format!("{region_name}扶贫开发领导小组"),
    }
}

/// The entries for these cases, in the given order.
pub async fn entries(conn: &impl ConnectionTrait, case_ids: &[String]) -> Result<Vec<Entry>, DbErr> {
    let cases = records::load_many(conn, &CASE, case_ids).await?;
    let household_ids: Vec<String> = cases.iter().filter_map(|c| c.text("household_id").map(str::to_owned)).collect();
    let households: HashMap<String, records::Record> =
        records::load_many(conn, &HOUSEHOLD, &household_ids).await?.into_iter().map(|h| (h.id.clone(), h)).collect();
    let mut members: HashMap<String, Vec<records::Record>> = HashMap::new();
    for m in records::load_by_households(conn, &MEMBER, &household_ids).await? {
        if m.flag("active") != Some(false) {
            members.entry(m.text("household_id").unwrap_or_default().to_owned()).or_default().push(m);
        }
    }
    let region_codes: Vec<String> =
        households.values().filter_map(|h| h.text("region_code").map(str::to_owned)).collect();
    let names = region_names(conn, &region_codes).await?;
    let by_id: HashMap<&str, &records::Record> = cases.iter().map(|c| (c.id.as_str(), c)).collect();

    let mut out = Vec::with_capacity(case_ids.len());
    for id in case_ids {
        let Some(case) = by_id.get(id.as_str()) else { continue };
        let household_id = case.text("household_id").unwrap_or_default();
        let Some(household) = households.get(household_id) else { continue };
        let people = members.get(household_id).map(Vec::as_slice).unwrap_or_default();
        let head = people.iter().find(|m| m.text("relation") == Some("head"));
        out.push(Entry {
            no: out.len() as u32 + 1,
            village: names.get(household.text("region_code").unwrap_or_default()).cloned().unwrap_or_default(),
            head_name: head.and_then(|m| m.text("name")).unwrap_or("（未登记户主）").to_owned(),
            head_id_masked: head.and_then(|m| m.text("id_number")).map(mask_id_number).unwrap_or_default(),
            members: people.len() as u32,
            case_kind: case_kind_label(case.text("kind").unwrap_or_default()),
            reason: reason(case, household),
        });
    }
    Ok(out)
}

fn case_kind_label(kind: &str) -> String {
    match CaseKind::parse(kind) {
        Some(CaseKind::Identify) => "新识别贫困户".into(),
        Some(CaseKind::Exit) => "贫困户退出".into(),
        Some(CaseKind::Remove) => "清除（错评）".into(),
        Some(CaseKind::Relapse) => "返贫".into(),
        Some(CaseKind::ExitReversal) => "错退纠正".into(),
        _ => CASE_KIND.label_of(kind).unwrap_or(kind).to_owned(),
    }
}

/// Why the household is on the notice, in public words. An identification names the
/// poverty causes (致贫原因) recorded for the household; nothing finer (no illness, no
/// disability kind) is ever shown.
fn reason(case: &records::Record, household: &records::Record) -> String {
    let code = case.text("reason").unwrap_or_default();
    match case.text("kind").and_then(CaseKind::parse) {
        Some(CaseKind::Identify) => {
            let causes: Vec<&str> =
                household.list("poverty_causes").iter().filter_map(|c| POVERTY_CAUSE.label_of(c)).collect();
            if causes.is_empty() { "—".into() } else { causes.join("、") }
        }
        Some(CaseKind::Remove) => REMOVAL_REASON.label_of(code).unwrap_or("—").to_owned(),
        Some(CaseKind::Relapse) => RELAPSE_CAUSE.label_of(code).unwrap_or("—").to_owned(),
        Some(CaseKind::Exit) => "收入稳定超过脱贫标准，“两不愁三保障”有保障".into(),
        Some(CaseKind::ExitReversal) => "退出不符合标准，恢复贫困户身份".into(),
        _ => "—".into(),
    }
}

pub async fn region_names(conn: &impl ConnectionTrait, codes: &[String]) -> Result<HashMap<String, String>, DbErr> {
    let mut codes = codes.to_vec();
    codes.sort();
    codes.dedup();
    let mut out = HashMap::new();
    #[derive(FromQueryResult)]
    struct Named {
        code: String,
        name: String,
    }
    for chunk in codes.chunks(500) {
        let rows = Named::find_by_statement(crate::db::sql(
            conn.get_database_backend(),
            &format!("SELECT code, name FROM region WHERE code IN ({})", crate::db::placeholders(chunk.len())),
            chunk.iter().map(|c| c.as_str().into()).collect(),
        ))
        .all(conn)
        .await?;
        out.extend(rows.into_iter().map(|r| (r.code, r.name)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NoticeContent {
        NoticeContent {
            title: "2026年新识别贫困户村级公示".into(),
            step: "village_notice".into(),
            kind_label: "村级公示".into(),
            region_code: "320703001001".into(),
            region_name: "东村".into(),
            publisher: "东村村民委员会".into(),
            period_days: 5,
            first_day: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
            last_day: NaiveDate::from_ymd_opt(2026, 11, 27).expect("date"),
            entries: vec![Entry {
                no: 1,
                village: "东村".into(),
                head_name: "张三".into(),
                head_id_masked: mask_id_number("320703198001011234"),
                members: 4,
                case_kind: "新识别贫困户".into(),
                reason: "因学".into(),
            }],
        }
    }

    #[test]
    fn the_hash_covers_every_byte_of_the_stored_content() {
        let content = sample();
        let stored = content.to_stored();
        let hash = NoticeContent::sha256(&stored);
        assert_eq!(hash.len(), 64);
        assert_eq!(NoticeContent::sha256(&content.clone().to_stored()), hash, "stable");
        let mut changed = content;
        changed.entries[0].members = 5;
        assert_ne!(NoticeContent::sha256(&changed.to_stored()), hash);
    }

    #[test]
    fn stored_content_carries_masked_ids_only() {
        let stored = sample().to_stored();
        assert!(stored.contains("320703********1234"), "{stored}");
        assert!(!stored.contains("320703198001011234"));
    }
}
