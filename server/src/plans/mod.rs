//! Help plans (一户一策, 001 §二: 确保帮扶责任、增收项目真正落实到户): one dated account of
//! what happened to a household, the plan tasks past their date in a region, and what
//! each year's plan achieved against the income it planned (001 附件1 帮扶成效).
//!
//! Everything here reads; nothing writes. Phones record plans, tasks, progress and
//! evidence through sync like any other record (`jingzhun_mobile_api::fields`).
//!
//! Who may ask is decided here, in the `*_for` functions: a household's timeline and
//! outcome for whoever may read the household, overdue tasks within the caller's scope.
//! [`timeline`], [`outcome`] and [`overdue_tasks`] themselves check nothing, for the
//! workers that call them on the system's behalf.
//!
//! What this module must never do: speak HTTP, or write.

pub mod outcome;
pub mod tasks;
pub mod timeline;

pub use crate::assess::facts::{facts_from_records, income_facts};
pub use outcome::{MainMeasureSuggestion, PlanMeasure, PlanOutcome, PlanResult, RuleProblem, outcome};
pub use tasks::{OverdueTask, overdue_tasks};
pub use timeline::{DatePrecision, TimelineEntry, TimelineKind, timeline};

use crate::auth::Caller;
use crate::auth::roles::prefix_len;
use crate::db::entities::region;
use crate::db::{placeholders, sql};
use crate::error::Refusal;
use crate::records::{self, Record, scope};
use chrono::{NaiveDate, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::fields::HOUSEHOLD;
use jingzhun_mobile_api::validate::fen_to_yuan;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, FromQueryResult, Value};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// Checks that the caller reads the household: `not_found` when there is none,
/// `out_of_scope` when it is not theirs to read.
async fn check_readable(conn: &impl ConnectionTrait, caller: &Caller, household_id: &str) -> Result<(), Refusal> {
    let household = records::load(conn, &HOUSEHOLD, household_id, false).await?.ok_or_else(Refusal::not_found)?;
    let region = household.text("region_code").unwrap_or_default();
    if !scope::household_access(conn, caller, household_id, region).await?.may_read() {
        return Err(Refusal::out_of_scope());
    }
    Ok(())
}

/// The household's [`timeline`], if the caller reads the household.
pub async fn timeline_for(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    household_id: &str,
) -> Result<Vec<TimelineEntry>, Refusal> {
    check_readable(conn, caller, household_id).await?;
    Ok(timeline(conn, household_id).await?)
}

/// The household's [`outcome`], if the caller reads the household.
pub async fn outcome_for(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    household_id: &str,
) -> Result<PlanOutcome, Refusal> {
    check_readable(conn, caller, household_id).await?;
    outcome(conn, household_id).await?.ok_or_else(Refusal::not_found)
}

/// The [`overdue_tasks`] of the households the caller reads, narrowed to `region_code`
/// (any level) when given; `invalid_region` when no such region exists.
pub async fn overdue_tasks_for(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    region_code: Option<&str>,
    today: NaiveDate,
) -> Result<Vec<OverdueTask>, Refusal> {
    let (mut condition, mut values) = scope::households_condition(caller, "h.id", "h.region_code");
    if let Some(code) = region_code {
        let region = region::Entity::find_by_id(code.to_owned())
            .one(conn)
            .await?
            .ok_or_else(|| Refusal::invalid(ErrorCode::InvalidRegion))?;
        let prefix = region.code.get(..prefix_len(&region.level)).unwrap_or(&region.code);
        condition = format!("{condition} AND h.region_code LIKE ?");
        values.push(format!("{prefix}%").into());
    }
    Ok(overdue_tasks(conn, (condition, values), today).await?)
}

// Due dates, visit dates and sign-off days are all Beijing dates.
pub use crate::clock::china_date;

/// Today in Beijing: what "overdue" is measured against.
pub fn today_in_china() -> NaiveDate {
    china_date(Utc::now())
}

/// Non-empty text of a field.
fn note_of<'a>(record: &'a Record, field: &str) -> Option<&'a str> {
    record.text(field).map(str::trim).filter(|s| !s.is_empty())
}

/// A plan task is done once it is ticked or has the day it was done.
fn task_done(task: &Record) -> bool {
    task.flag("done") == Some(true) || task.date("done_on").is_some()
}

/// Whole yuan, or yuan with two decimals, for Chinese text ("3000元", "1234.50元").
fn yuan_text(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    if abs.is_multiple_of(100) {
        format!("{sign}{}元", abs / 100)
    } else {
        format!("{sign}{}.{:02}元", abs / 100, abs % 100)
    }
}

/// Money kept in fen goes out in yuan, as every amount on the wire (DESIGN §5).
fn yuan<S: Serializer>(fen: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
    match fen {
        Some(fen) => fen_to_yuan(*fen).serialize(serializer),
        None => serializer.serialize_none(),
    }
}

#[derive(FromQueryResult)]
struct UserName {
    id: String,
    name: String,
}

/// The names of these users, by id (unknown ids are left out).
async fn user_names(conn: &impl ConnectionTrait, ids: &[String]) -> Result<BTreeMap<String, String>, DbErr> {
    let mut ids: Vec<&String> = ids.iter().collect();
    ids.sort();
    ids.dedup();
    let mut names = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let text = format!("SELECT id, name FROM app_user WHERE id IN ({})", placeholders(chunk.len()));
        let values = chunk.iter().map(|id| Value::from(id.as_str())).collect();
        for user in UserName::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await? {
            names.insert(user.id, user.name);
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_text_keeps_fen_only_when_there_are_some() {
        assert_eq!(yuan_text(300_000), "3000元");
        assert_eq!(yuan_text(123_450), "1234.50元");
        assert_eq!(yuan_text(-5), "-0.05元");
    }
}
