//! Why a rule could not be applied at all (as opposed to a rule's "no").
//!
//! A rule that meets impossible or inconsistent input (no resident members, an "of
//! which" part larger than its total, no threshold for the year) returns one of these
//! instead of panicking or guessing. Each has a stable `code` and a Chinese and an
//! English message, so the HTTP layer can pass it to a client as it is.
//! This module must never hold rule logic.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleError {
    /// 000 §四(一) divides by 家庭常住人口数; with none the per-capita income is undefined.
    #[error("the household has no resident members, so per-capita income is undefined")]
    NoResidents,
    #[error("income field {field} is negative")]
    NegativeAmount { field: &'static str },
    /// An "of which" figure (e.g. the basic pension within transfer income) exceeds its total.
    #[error("income part {part} ({part_fen} fen) exceeds its total {total} ({total_fen} fen)")]
    PartExceedsTotal { part: &'static str, part_fen: i64, total: &'static str, total_fen: i64 },
    #[error("income figures too large to compute with")]
    AmountOverflow,
    #[error("no threshold for year {year}, region {region_code}, standard {standard}")]
    NoThreshold { year: i32, region_code: String, standard: &'static str },
    #[error("more than one threshold for year {year}, region prefix {region_prefix}, standard {standard}")]
    AmbiguousThreshold { year: i32, region_prefix: String, standard: &'static str },
    #[error("the income period cannot start on month {month} day {day}")]
    InvalidIncomePeriodStart { month: u32, day: u32 },
    #[error("the income period of year {year} is outside the calendar")]
    YearOutOfRange { year: i32 },
    /// 003 §一(一)2: incidence is poor people ÷ rural population; with none it is undefined.
    #[error("the village has no rural population, so poverty incidence is undefined")]
    NoRuralPopulation,
    #[error("the village has more poor people ({poor}) than rural population ({population})")]
    MorePoorThanPopulation { poor: u32, population: u32 },
}

impl RuleError {
    /// Stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            RuleError::NoResidents => "no_resident_members",
            RuleError::NegativeAmount { .. } => "negative_amount",
            RuleError::PartExceedsTotal { .. } => "income_part_exceeds_total",
            RuleError::AmountOverflow => "amount_overflow",
            RuleError::NoThreshold { .. } => "no_threshold",
            RuleError::AmbiguousThreshold { .. } => "ambiguous_threshold",
            RuleError::InvalidIncomePeriodStart { .. } => "invalid_income_period_start",
            RuleError::YearOutOfRange { .. } => "year_out_of_range",
            RuleError::NoRuralPopulation => "no_rural_population",
            RuleError::MorePoorThanPopulation { .. } => "more_poor_than_population",
        }
    }

    /// Chinese message.
    pub fn zh(&self) -> String {
        match self {
            RuleError::NoResidents => "家庭常住人口数为0，无法计算人均纯收入".to_owned(),
            RuleError::NegativeAmount { field } => format!("收入项{field}不能为负数"),
            RuleError::PartExceedsTotal { part, total, .. } => format!("收入项“{part}”大于其所属的“{total}”"),
            RuleError::AmountOverflow => "收入数额过大，无法计算".to_owned(),
            RuleError::NoThreshold { year, region_code, standard } => {
                format!("未设定{year}年{region_code}地区{standard}扶贫标准")
            }
            RuleError::AmbiguousThreshold { year, region_prefix, standard } => {
                format!("{year}年{region_prefix}地区{standard}扶贫标准重复设定")
            }
            RuleError::InvalidIncomePeriodStart { month, day } => format!("收入计算周期起始日{month}月{day}日无效"),
            RuleError::YearOutOfRange { year } => format!("年度{year}超出范围"),
            RuleError::NoRuralPopulation => "村农村人口数为0，无法计算贫困发生率".to_owned(),
            RuleError::MorePoorThanPopulation { poor, population } => {
                format!("贫困人口数{poor}大于农村人口数{population}")
            }
        }
    }

    /// English message.
    pub fn en(&self) -> String {
        self.to_string()
    }
}
