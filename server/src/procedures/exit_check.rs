//! The exit check a case must pass before it moves (R3; 003 §一(一)1: income stably
//! above the line and 两不愁三保障; 004 §三(三): the system refuses an exit while any
//! guarantee is unmet; 003 §五(二) 两不退: 凡存在没有长期稳定收入来源、饮水和住房安全
//! 未保障、易地搬迁未入住、帮扶成效不显著的贫困户不能退出；低保标准未超过国家扶贫标准地区的
//! “低保兜底一批”贫困户不能退出).
//!
//! The 两不退 verdicts come from `domain::exit::two_no_exit`, the same function the
//! household's assessment reads, so the procedure and `/assessment` cannot disagree.
//! What this must never do: let an exit through on a fact nobody recorded, or refuse
//! without naming the field that would let it through.

use crate::assess;
use crate::db::WriteTxn;
use crate::domain::exit::{ExitFact, ExitObstacle, TwoNoExit, two_no_exit};
use crate::domain::facts::{Guarantee, Standard};
use crate::domain::policy::RulePolicy;
use crate::domain::thresholds::Threshold;
use crate::domain::{income::net_income_per_capita, thresholds::find_threshold};
use crate::records::Record;
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use jingzhun_mobile_api::fields::HOUSEHOLD;
use sea_orm::DbErr;

/// Each unmet condition, as a field error naming it. Unknown counts as unmet.
pub async fn unmet(txn: &WriteTxn, household: &Record) -> Result<Vec<FieldError>, DbErr> {
    let Some(read) = assess::facts::household_facts(&**txn, &household.id, None).await? else { return Ok(Vec::new()) };
    let mut errors = Vec::new();
    for guarantee in Guarantee::ALL {
        if read.facts.guarantees.get(*guarantee) != Some(true) {
            let field = guarantee.code();
            errors.push(refusal(
                field,
                format!("未实现“{}”，不能脱贫", label(field)),
                format!("{field} is not ensured: the household cannot exit"),
            ));
        }
    }
    let thresholds = assess::thresholds::all(&**txn).await?;
    let standard = read.facts.standard.unwrap_or(Standard::National);
    let policy = assess::policy::for_region(&**txn, &read.facts.region_code).await?;
    let line = find_threshold(&thresholds, read.year as i32, &read.facts.region_code, standard).ok();
    match line {
        None => errors.push(refusal(
            "threshold",
            format!("未设定{}年度该地区的扶贫标准，无法核定收入", read.year),
            format!("no poverty line is set for {} in this region: income cannot be checked", read.year),
        )),
        Some(line) => {
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
    errors.extend(
        two_no_exit(&read.facts, line, &policy).into_iter().filter_map(|o| two_no_exit_error(o, line, &policy)),
    );
    Ok(errors)
}

/// One 两不退 obstacle as the field that would clear it. Water and housing are left
/// out: the guarantees above already name `water_secure` and `housing_secure`.
fn two_no_exit_error(obstacle: ExitObstacle, line: Option<&Threshold>, policy: &RulePolicy) -> Option<FieldError> {
    let fact_field = |fact: ExitFact| match fact {
        ExitFact::StableIncome => Some("long_term_stable_income"),
        ExitFact::HelpEffective => Some("help_effective"),
        ExitFact::RelocationMovedIn => Some("relocation_moved_in"),
        ExitFact::Kind => Some("kind"),
        ExitFact::Status | ExitFact::DibaoStandard => None,
    };
    let yuan = |fen: i64| fen / 100;
    match obstacle {
        ExitObstacle::Unrecorded(ExitFact::DibaoStandard) => Some(refusal(
            "dibao_standard",
            "两不退：未设定当地低保标准，无法判断“低保兜底”户能否脱贫".to_owned(),
            "two no-exits: the region's dibao standard is not set, so a dibao household cannot exit".to_owned(),
        )),
        ExitObstacle::Unrecorded(fact) => fact_field(fact).map(|field| {
            refusal(
                field,
                format!("两不退：未登记“{}”，不能脱贫", label(field)),
                format!("two no-exits: {field} is not recorded, so the household cannot exit"),
            )
        }),
        ExitObstacle::TwoNoExit(TwoNoExit::DibaoStandardNotAboveLine) => {
            let standard = yuan(policy.dibao_standard_fen.unwrap_or(0));
            let line = yuan(line.map_or(0, |l| l.amount_fen));
            Some(refusal(
                "dibao_standard",
                format!("两不退：当地低保标准{standard}元未超过扶贫标准{line}元，“低保兜底”户不能脱贫"),
                format!(
                    "two no-exits: the dibao standard of {standard} yuan is not above the line of {line} yuan, so a dibao household cannot exit"
                ),
            ))
        }
        ExitObstacle::TwoNoExit(TwoNoExit::WaterNotSecure | TwoNoExit::HousingNotSecure) => None,
        ExitObstacle::TwoNoExit(reason) => {
            let field = match reason {
                TwoNoExit::NoLongTermStableIncome => "long_term_stable_income",
                TwoNoExit::HelpNotEffective => "help_effective",
                _ => "relocation_moved_in",
            };
            Some(refusal(
                field,
                format!("两不退：{}，不能脱贫", reason.label()),
                format!("two no-exits: {}, so the household cannot exit", reason.code()),
            ))
        }
        // Status and income are checked by the case and above.
        ExitObstacle::NotInRegister(_)
        | ExitObstacle::IncomeNotAbove
        | ExitObstacle::GuaranteeUnmet(_)
        | ExitObstacle::GuaranteeUnrecorded(_) => None,
    }
}

fn label(field: &str) -> &str {
    HOUSEHOLD.field(field).map_or(field, |f| f.label)
}

fn refusal(field: &str, zh: String, en: String) -> FieldError {
    let mut error = FieldError::new(field, ErrorCode::ExitRefused);
    error.message_zh = zh;
    error.message_en = en;
    error
}
