//! The exit check a case must pass before it moves (R3; 003 §一(一)1: income stably
//! above the line and 两不愁三保障; 004 §三(三): the system refuses an exit while any
//! guarantee is unmet).
//!
//! The guarantees and the income line are checked here; the 两不退 facts the rules also
//! know (stable income source, relocation moved in, help effective) are not recorded on
//! the household yet, so they do not block.

use crate::db::WriteTxn;
use crate::domain::facts::{Guarantee, Standard};
use crate::domain::{income::net_income_per_capita, thresholds::find_threshold};
use crate::records::Record;
use crate::assess;
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use sea_orm::DbErr;

/// Each unmet condition, as a field error naming it. Unknown counts as unmet.
pub async fn unmet(txn: &WriteTxn, household: &Record) -> Result<Vec<FieldError>, DbErr> {
    let Some(read) = assess::facts::household_facts(&**txn, &household.id, None).await? else { return Ok(Vec::new()) };
    let mut errors = Vec::new();
    for guarantee in Guarantee::ALL {
        if read.facts.guarantees.get(*guarantee) != Some(true) {
            let field = guarantee.code();
            let label = jingzhun_mobile_api::fields::HOUSEHOLD.field(field).map_or(field, |f| f.label);
            errors.push(refusal(
                field,
                format!("未实现“{label}”，不能脱贫"),
                format!("{field} is not ensured: the household cannot exit"),
            ));
        }
    }
    let thresholds = assess::thresholds::all(&**txn).await?;
    let standard = read.facts.standard.unwrap_or(Standard::National);
    match find_threshold(&thresholds, read.year as i32, &read.facts.region_code, standard) {
        Err(_) => errors.push(refusal(
            "threshold",
            format!("未设定{}年度该地区的扶贫标准，无法核定收入", read.year),
            format!("no poverty line is set for {} in this region: income cannot be checked", read.year),
        )),
        Ok(line) => {
            let policy = assess::policy::for_region(&**txn, &read.facts.region_code).await?;
            let above = net_income_per_capita(&read.facts.income, read.facts.resident_members, &policy)
                .is_ok_and(|income| income.above(line.amount_fen));
            if !above {
                errors.push(refusal(
                    "net_income_per_capita",
                    format!("{}年人均纯收入未超过扶贫标准{}元", read.year, line.amount_fen / 100),
                    format!(
                        "net income per head in {} is not above the line of {} yuan",
                        read.year,
                        line.amount_fen / 100
                    ),
                ));
            }
        }
    }
    Ok(errors)
}

fn refusal(field: &str, zh: String, en: String) -> FieldError {
    let mut error = FieldError::new(field, ErrorCode::ExitRefused);
    error.message_zh = zh;
    error.message_en = en;
    error
}
