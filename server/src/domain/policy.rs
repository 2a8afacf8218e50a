//! The regional rule variants (DESIGN C3: "thresholds and regional rule variants are
//! data, not code").
//!
//! Each seed document is one region's wording of the same national policy and they
//! differ: 000 §四(一) leaves the basic pension out of income, 002 §二(一) identifies by
//! hardship instead of guarantees, 004 §三(一) puts the edge ceiling at 1.5 × the
//! standard. A [`RulePolicy`] holds those choices; the named constructors give each
//! seed's values for tests and the demo. Amounts of money per year are not here but
//! in [`super::thresholds`].
//!
//! What this module must never do: hold a rule. It is configuration, read by the rules.

use serde::{Deserialize, Serialize};

/// Which identification test a region uses (R2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentificationVariant {
    /// 000 §四(一): 收入低于扶贫标准且未实现“两不愁、三保障”.
    IncomeAndGuarantees,
    /// 002 §二(一): income below the threshold and (C/D-grade house, serious illness or a
    /// heavy schooling burden); and 低保 households not yet at the exit standard.
    IncomeAndHardship,
}

/// How to read "家庭主要收入" (the household's main income, 001 附件2), which the seed
/// does not define.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MainIncomeReading {
    /// The largest of the household's income streams.
    LargestStream,
    /// More than half of the household's total income.
    MoreThanHalf,
}

/// One region's rule choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RulePolicy {
    /// Identification test (R2).
    pub identification: IdentificationVariant,
    /// Whether the basic pension (A29d) counts as income. 000 §四(一): 基础养老金暂不计入家庭收入.
    pub pension_counted: bool,
    /// First month of the yearly income period (003 §四(二)5: 10月1日).
    pub income_period_start_month: u32,
    /// First day of the yearly income period.
    pub income_period_start_day: u32,
    /// Edge ceiling in percent of the threshold (004 §三(一): 不超省定脱贫标准的1.5倍 → 150).
    pub edge_ceiling_percent: u32,
    /// Motor-vehicle price from which ownership is a removal reason (002 §二(二)3: 3万元以上).
    pub vehicle_value_limit_fen: i64,
    /// The local 低保 standard per person and year; 003 §五(二) keeps 低保兜底 households
    /// from exiting where it does not exceed the poverty line. `None`: not recorded.
    pub dibao_standard_fen: Option<i64>,
    /// What counts as a clear increase (明显增加, 001 附件2) over last year, in percent.
    /// 001 gives no figure; 0 means any increase.
    pub clear_increase_percent: u32,
    /// How "main income" is read (001 附件2).
    pub main_income: MainIncomeReading,
    /// Village exit when incidence is below this, in basis points (003 §一(一)2: 2% → 200).
    pub village_incidence_limit_basis_points: u32,
    /// Least share of exited villages a city spot-checks, percent (003 §一(二)3: 10%).
    pub village_spot_check_percent: u32,
    /// Youngest plausible age of a compulsory-education student (data quality, R8).
    pub compulsory_student_min_age: u32,
    /// Oldest plausible age of a compulsory-education student (data quality, R8).
    pub compulsory_student_max_age: u32,
}

impl RulePolicy {
    /// The values common to the seeds, before any region's own choice: identification by
    /// income and guarantees (000 §四(一)), pension counted as transfer income
    /// (003 附件2 and 004 A29d list it there), income period from 10/1 (003 §四(二)5,
    /// 004 §三(二)), edge ceiling 150% (004 §三(一)), vehicle limit 30,000 yuan
    /// (002 §二(二)3), village limit 2% and 10% spot checks (003 §一), clear increase 0%
    /// and main income as the largest stream (001 附件2 sets neither), compulsory-school
    /// ages 5 to 18 (a data-quality plausibility range, not a seed figure).
    pub fn baseline() -> Self {
        RulePolicy {
            identification: IdentificationVariant::IncomeAndGuarantees,
            pension_counted: true,
            income_period_start_month: 10,
            income_period_start_day: 1,
            edge_ceiling_percent: 150,
            vehicle_value_limit_fen: 3_000_000,
            dibao_standard_fen: None,
            clear_increase_percent: 0,
            main_income: MainIncomeReading::LargestStream,
            village_incidence_limit_basis_points: 200,
            village_spot_check_percent: 10,
            compulsory_student_min_age: 5,
            compulsory_student_max_age: 18,
        }
    }

    /// 000 (Jilin, 2017): the basic pension is left out of income (吉政办〔2016〕81号).
    pub fn jilin_000() -> Self {
        RulePolicy { pension_counted: false, ..Self::baseline() }
    }

    /// 002 (Kunming Panlong, 2017): identification by income and hardship.
    pub fn kunming_002() -> Self {
        RulePolicy { identification: IdentificationVariant::IncomeAndHardship, ..Self::baseline() }
    }

    /// 003 (Shanxi, 2017): the baseline; income period 2016-10-01 to 2017-09-30.
    pub fn shanxi_003() -> Self {
        Self::baseline()
    }

    /// 004 (Lianyungang, 2019): the baseline; income period 2018-10-01 to 2019-09-30.
    pub fn lianyungang_004() -> Self {
        Self::baseline()
    }
}

impl Default for RulePolicy {
    fn default() -> Self {
        Self::baseline()
    }
}
