//! R1: per-capita net income (农民年人均纯收入) and the income period.
//!
//! 000 §四(一): 农民年人均纯收入 = （家庭总收入 − 家庭生产经营性支出）÷ 家庭常住人口数;
//! 家庭总收入 = 工资性收入 + 家庭经营收入 + 财产性收入 + 转移性收入. The same section
//! leaves the basic pension out of income in Jilin (a region's choice:
//! [`RulePolicy::pension_counted`]) and keeps the rigid expenses (教育支出、医疗支出)
//! out of the formula: they are recorded for the overall judgment, never subtracted.
//! The income period runs 10/1 to 9/30 (003 §四(二)5 for 2017; 004 §三(二) for 2019),
//! configurable per region.
//!
//! What this module must never do: subtract rigid expenses, divide by zero residents
//! (that is [`RuleError::NoResidents`]), or round before comparing with a threshold
//! (comparisons are exact; the rounded per-capita figure is for display).

use super::error::RuleError;
use super::facts::IncomeFacts;
use super::policy::RulePolicy;
use chrono::NaiveDate;
use serde::Serialize;
use std::cmp::Ordering;

/// The result of R1 for one household and year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NetIncome {
    /// 家庭总收入 as counted (the basic pension left out where the region says so).
    pub gross_fen: i64,
    /// The basic pension left out of `gross_fen` (0 where it is counted).
    pub excluded_pension_fen: i64,
    /// 家庭生产经营性支出.
    pub business_expense_fen: i64,
    /// Household net income: `gross_fen − business_expense_fen`.
    pub net_fen: i64,
    /// 家庭常住人口数.
    pub resident_members: u32,
    /// Net income per resident, rounded half away from zero to the fen, for display.
    pub per_capita_fen: i64,
    /// 刚性支出 recorded with the income, not subtracted (000 §四(一)).
    pub education_expense_fen: i64,
    pub medical_expense_fen: i64,
}

impl NetIncome {
    /// Exact comparison of the per-capita income with `percent`% of `amount_fen`
    /// (`net ÷ residents` against `amount × percent ÷ 100`, cross-multiplied, no rounding).
    pub fn compare_scaled(&self, amount_fen: i64, percent: u32) -> Ordering {
        let left = i128::from(self.net_fen) * 100;
        let right = i128::from(amount_fen) * i128::from(percent) * i128::from(self.resident_members);
        left.cmp(&right)
    }

    /// Per-capita income compared with an amount per person.
    pub fn compare(&self, amount_fen: i64) -> Ordering {
        self.compare_scaled(amount_fen, 100)
    }

    /// 低于 (strictly below) the amount per person.
    pub fn below(&self, amount_fen: i64) -> bool {
        self.compare(amount_fen) == Ordering::Less
    }

    /// 超过 (strictly above) the amount per person.
    pub fn above(&self, amount_fen: i64) -> bool {
        self.compare(amount_fen) == Ordering::Greater
    }
}

impl IncomeFacts {
    /// Checks that no figure is negative and no "of which" part exceeds its total.
    pub fn check(&self) -> Result<(), RuleError> {
        let amounts = [
            ("wage", self.wage),
            ("ecological_post_wage", self.ecological_post_wage),
            ("business", self.business),
            ("property", self.property),
            ("transfer", self.transfer),
            ("dibao", self.dibao),
            ("wubao", self.wubao),
            ("pension", self.pension),
            ("ecological_compensation", self.ecological_compensation),
            ("business_expense", self.business_expense),
            ("education_expense", self.education_expense),
            ("medical_expense", self.medical_expense),
            ("educated_member_wage", self.educated_member_wage),
            ("educated_member_business", self.educated_member_business),
        ];
        if let Some((field, _)) = amounts.iter().find(|(_, v)| *v < 0) {
            return Err(RuleError::NegativeAmount { field });
        }
        let transfer_parts = [self.dibao, self.wubao, self.pension, self.ecological_compensation]
            .iter()
            .try_fold(0_i64, |sum, v| sum.checked_add(*v))
            .ok_or(RuleError::AmountOverflow)?;
        let parts = [
            ("ecological_post_wage", self.ecological_post_wage, "wage", self.wage),
            ("educated_member_wage", self.educated_member_wage, "wage", self.wage),
            ("educated_member_business", self.educated_member_business, "business", self.business),
            ("dibao+wubao+pension+ecological_compensation", transfer_parts, "transfer", self.transfer),
        ];
        for (part, part_fen, total, total_fen) in parts {
            if part_fen > total_fen {
                return Err(RuleError::PartExceedsTotal { part, part_fen, total, total_fen });
            }
        }
        Ok(())
    }

    /// 家庭总收入 as counted under `policy`: wage + business + property + transfer,
    /// less the basic pension where the region leaves it out.
    pub fn counted_gross(&self, policy: &RulePolicy) -> Result<i64, RuleError> {
        self.check()?;
        let total = [self.wage, self.business, self.property, self.transfer]
            .iter()
            .try_fold(0_i64, |sum, v| sum.checked_add(*v))
            .ok_or(RuleError::AmountOverflow)?;
        Ok(if policy.pension_counted { total } else { total - self.pension })
    }
}

/// R1, 000 §四(一): (家庭总收入 − 家庭生产经营性支出) ÷ 家庭常住人口数.
pub fn net_income_per_capita(
    income: &IncomeFacts,
    resident_members: u32,
    policy: &RulePolicy,
) -> Result<NetIncome, RuleError> {
    if resident_members == 0 {
        return Err(RuleError::NoResidents);
    }
    let gross_fen = income.counted_gross(policy)?;
    let net_fen = gross_fen.checked_sub(income.business_expense).ok_or(RuleError::AmountOverflow)?;
    Ok(NetIncome {
        gross_fen,
        excluded_pension_fen: if policy.pension_counted { 0 } else { income.pension },
        business_expense_fen: income.business_expense,
        net_fen,
        resident_members,
        per_capita_fen: divide_rounded(net_fen, i64::from(resident_members)),
        education_expense_fen: income.education_expense,
        medical_expense_fen: income.medical_expense,
    })
}

/// `n ÷ d` rounded half away from zero (`d > 0`).
fn divide_rounded(n: i64, d: i64) -> i64 {
    let (q, r) = (n / d, n % d);
    if r.abs() * 2 >= d { q + n.signum() } else { q }
}

/// The income period whose figures count for `year` (both ends inclusive).
///
/// With the seeded start 10/1 the period of 2017 is 2016-10-01 to 2017-09-30
/// (003 §四(二)5) and that of 2019 is 2018-10-01 to 2019-09-30 (004 §三(二)). A start of
/// 1/1 gives the calendar year.
pub fn income_period(year: i32, policy: &RulePolicy) -> Result<(NaiveDate, NaiveDate), RuleError> {
    let (month, day) = (policy.income_period_start_month, policy.income_period_start_day);
    // February 29th would make the period move with leap years.
    let valid = NaiveDate::from_ymd_opt(2001, month, day).is_some();
    if !valid {
        return Err(RuleError::InvalidIncomePeriodStart { month, day });
    }
    let out_of_range = || RuleError::YearOutOfRange { year };
    let first_year = if (month, day) == (1, 1) { year } else { year.checked_sub(1).ok_or_else(out_of_range)? };
    let start = NaiveDate::from_ymd_opt(first_year, month, day).ok_or_else(out_of_range)?;
    let next_start = NaiveDate::from_ymd_opt(first_year.checked_add(1).ok_or_else(out_of_range)?, month, day)
        .ok_or_else(out_of_range)?;
    let end = next_start.pred_opt().ok_or_else(out_of_range)?;
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    const YUAN: i64 = 100;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn the_000_formula_over_its_four_income_kinds() {
        // (wage + business + property + transfer − business expense) ÷ residents.
        let income = IncomeFacts {
            wage: 6_000 * YUAN,
            business: 5_000 * YUAN,
            property: 400 * YUAN,
            transfer: 1_600 * YUAN,
            business_expense: 2_000 * YUAN,
            ..Default::default()
        };
        let r = net_income_per_capita(&income, 4, &RulePolicy::baseline()).expect("computes");
        assert_eq!(r.gross_fen, 13_000 * YUAN);
        assert_eq!(r.net_fen, 11_000 * YUAN);
        assert_eq!(r.per_capita_fen, 2_750 * YUAN);
    }

    #[test]
    fn pension_excluded_in_jilin_changes_the_result() {
        // 3 residents; 1,200 yuan of the transfer income is the basic pension.
        let income = IncomeFacts {
            wage: 8_000 * YUAN,
            transfer: 2_000 * YUAN,
            pension: 1_200 * YUAN,
            business: 1_000 * YUAN,
            business_expense: 1_400 * YUAN,
            ..Default::default()
        };
        let counted = net_income_per_capita(&income, 3, &RulePolicy::baseline()).expect("computes");
        let excluded = net_income_per_capita(&income, 3, &RulePolicy::jilin_000()).expect("computes");
        assert_eq!(counted.per_capita_fen, 3_200 * YUAN);
        assert_eq!(excluded.per_capita_fen, 2_800 * YUAN);
        assert_eq!(excluded.excluded_pension_fen, 1_200 * YUAN);
        // Against the 000 line of 3,200 the two readings disagree.
        assert!(!counted.below(3_200 * YUAN));
        assert!(excluded.below(3_200 * YUAN));
    }

    #[test]
    fn rigid_expenses_are_recorded_not_subtracted() {
        let base = IncomeFacts { wage: 9_000 * YUAN, ..Default::default() };
        let with_rigid = IncomeFacts { education_expense: 3_000 * YUAN, medical_expense: 5_000 * YUAN, ..base };
        let a = net_income_per_capita(&base, 3, &RulePolicy::baseline()).expect("computes");
        let b = net_income_per_capita(&with_rigid, 3, &RulePolicy::baseline()).expect("computes");
        assert_eq!(a.net_fen, b.net_fen);
        assert_eq!((b.education_expense_fen, b.medical_expense_fen), (3_000 * YUAN, 5_000 * YUAN));
    }

    #[test]
    fn zero_residents_is_an_error_not_a_panic() {
        let income = IncomeFacts { wage: 100, ..Default::default() };
        assert_eq!(net_income_per_capita(&income, 0, &RulePolicy::baseline()), Err(RuleError::NoResidents));
    }

    #[test]
    fn inconsistent_income_is_refused() {
        let cases = [
            (IncomeFacts { wage: -1, ..Default::default() }, "negative_amount"),
            (IncomeFacts { transfer: 100, pension: 101, ..Default::default() }, "income_part_exceeds_total"),
            (IncomeFacts { transfer: 100, dibao: 60, wubao: 60, ..Default::default() }, "income_part_exceeds_total"),
            (IncomeFacts { wage: 100, ecological_post_wage: 200, ..Default::default() }, "income_part_exceeds_total"),
            (IncomeFacts { wage: i64::MAX, business: 1, ..Default::default() }, "amount_overflow"),
        ];
        for (income, code) in cases {
            let err = net_income_per_capita(&income, 1, &RulePolicy::baseline()).expect_err("refused");
            assert_eq!(err.code(), code, "{income:?}");
        }
    }

    #[test]
    fn comparisons_are_exact_not_rounded() {
        // 8,855.99 yuan over 3 residents is 2,951.996… per person: rounds to 2,952.00
        // for display but is still below 2,952.
        let income = IncomeFacts { wage: 885_599, ..Default::default() };
        let r = net_income_per_capita(&income, 3, &RulePolicy::baseline()).expect("computes");
        assert_eq!(r.per_capita_fen, 2_952 * YUAN);
        assert!(r.below(2_952 * YUAN));
        assert!(!r.above(2_952 * YUAN));
        // Business expenses above income give a negative net income, rounded symmetrically.
        let loss = IncomeFacts { business: 100, business_expense: 251, ..Default::default() };
        assert_eq!(net_income_per_capita(&loss, 2, &RulePolicy::baseline()).expect("computes").per_capita_fen, -76);
    }

    #[test]
    fn income_periods_of_003_and_004() {
        let table = [
            (2017, RulePolicy::shanxi_003(), (date(2016, 10, 1), date(2017, 9, 30))),
            (2019, RulePolicy::lianyungang_004(), (date(2018, 10, 1), date(2019, 9, 30))),
            (
                2020,
                RulePolicy { income_period_start_month: 1, income_period_start_day: 1, ..RulePolicy::baseline() },
                (date(2020, 1, 1), date(2020, 12, 31)),
            ),
            (
                2016,
                RulePolicy { income_period_start_month: 3, income_period_start_day: 1, ..RulePolicy::baseline() },
                (date(2015, 3, 1), date(2016, 2, 29)),
            ),
        ];
        for (year, policy, expected) in table {
            assert_eq!(income_period(year, &policy), Ok(expected), "{year}");
        }
        let leap = RulePolicy { income_period_start_month: 2, income_period_start_day: 29, ..RulePolicy::baseline() };
        assert_eq!(income_period(2017, &leap), Err(RuleError::InvalidIncomePeriodStart { month: 2, day: 29 }));
        let nonsense = RulePolicy { income_period_start_month: 13, ..RulePolicy::baseline() };
        assert!(income_period(2017, &nonsense).is_err());
        assert!(income_period(i32::MAX, &RulePolicy::baseline()).is_err());
    }
}

/// The shared vectors `mobile-api/vectors/r1.json`: incomes with the per-capita figure
/// [`net_income_per_capita`] gives each (or the code of its error). The officer app's
/// live figure (`console/app/src/rules/income.js`) is tested on the same file, so the
/// preview an officer sees is the county's figure, fen for fen.
#[cfg(test)]
mod vectors {
    use super::*;
    use serde_json::Value;

    const R1: &str = include_str!("../../../mobile-api/vectors/r1.json");
    /// Amounts of the income record that R1 does not read ("of which" parts it never adds
    /// again, and the debt): a vector may carry them to show that they change nothing.
    const NOT_READ: [&str; 5] = ["family_planning", "other_transfer", "asset_dividend", "other_property", "debt"];

    fn cases() -> Vec<Value> {
        match serde_json::from_str(R1) {
            Ok(Value::Array(cases)) => cases,
            other => panic!("r1.json is not an array: {other:?}"),
        }
    }

    fn income_of(case: &Value) -> IncomeFacts {
        let mut facts = serde_json::to_value(IncomeFacts::default()).expect("facts");
        for (name, fen) in case["income"].as_object().unwrap_or_else(|| panic!("{case}: income")) {
            if !NOT_READ.contains(&name.as_str()) {
                assert!(facts.get(name).is_some(), "{case}: R1 reads no {name}");
                facts[name] = fen.clone();
            }
        }
        serde_json::from_value(facts).unwrap_or_else(|e| panic!("{case}: {e}"))
    }

    fn result_of(case: &Value) -> Result<i64, &'static str> {
        let residents = case["residents"].as_u64().and_then(|n| u32::try_from(n).ok());
        let policy = RulePolicy {
            pension_counted: case["pension_counted"].as_bool().unwrap_or_else(|| panic!("{case}: pension_counted")),
            ..RulePolicy::baseline()
        };
        net_income_per_capita(&income_of(case), residents.unwrap_or_else(|| panic!("{case}: residents")), &policy)
            .map(|r| r.per_capita_fen)
            .map_err(|e| e.code())
    }

    #[test]
    fn every_vector_gives_its_per_capita_figure() {
        let mut wrong = Vec::new();
        for case in cases() {
            let expected = match (case["per_capita"].as_i64(), case["error"].as_str()) {
                (Some(fen), None) => Ok(fen),
                (None, Some(code)) => Err(code),
                _ => panic!("{case}: a per_capita figure or an error, not both"),
            };
            let got = result_of(&case);
            if got != expected {
                wrong.push(format!("{case} gave {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{} vectors disagree with R1:\n{}", wrong.len(), wrong.join("\n"));
    }

    /// Every number is an integer JavaScript reads exactly (the app computes in BigInt
    /// from what `JSON.parse` gives it), and every amount the income record holds is
    /// one R1 reads or one it is known not to.
    #[test]
    fn vectors_read_the_same_in_javascript_and_name_real_amounts() {
        fn walk(value: &Value, case: &Value) {
            match value {
                Value::Number(n) => {
                    let exact = n.as_i64().is_some_and(|i| i != i64::MAX && i as f64 as i64 == i);
                    assert!(exact, "{case}: {n} is not an integer JavaScript holds exactly");
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, case)),
                Value::Object(map) => map.values().for_each(|v| walk(v, case)),
                _ => {}
            }
        }
        for case in cases() {
            walk(&case, &case);
        }
        let read = serde_json::to_value(IncomeFacts::default()).expect("facts");
        for field in jingzhun_mobile_api::fields::INCOME.fields {
            if matches!(field.kind, jingzhun_mobile_api::fields::FieldKind::Money) {
                let name = field.name;
                assert!(read.get(name).is_some() || NOT_READ.contains(&name), "R1 neither reads nor skips {name}");
            }
        }
    }
}
