//! R9: village exit (贫困村退出/出列).
//!
//! 003 §一(一)2: 确保真正实现贫困村退出贫困发生率降至2%以下 — a village exits when its
//! poverty incidence (remaining poor people ÷ rural population) is below 2%
//! ([`RulePolicy::village_incidence_limit_basis_points`]); exited villages whose incidence
//! is above 2% are looked at again (回头看). 003 §一(二)2: 列入全省整自然村搬迁范围内的
//! 深度贫困村不搬迁不退出 — a deep-poverty village in the whole-village relocation scope
//! does not exit before it has moved. 003 §一(二)3: 每市抽检率原则上不低于全市退出村总数的
//! 10% — the least number of exited villages a city spot-checks. 003 §一(二)1: 各项退出
//! 指标是否达标由县级相关行业部门…进行认定，符合退出条件的贫困村方可退出 — the indicators
//! themselves are the province's (晋脱贫攻坚办[2017]53号, not in the seeds); what the
//! system keeps is the departments' finding, and without it a village does not exit.
//!
//! What this module must never do: round the incidence before comparing (1.999% is
//! below 2%, 2.000% is not), or divide by a zero population.

use super::error::RuleError;
use super::policy::RulePolicy;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// The facts R9 reads about one village.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VillageFacts {
    /// Poor people remaining in the register (未脱贫人口).
    pub remaining_poor: u32,
    /// Rural population (乡村人口; 002 附件: the statistics office provides it).
    pub rural_population: u32,
    /// A deep-poverty village (深度贫困村).
    pub deep_poverty: bool,
    /// Listed in the province's whole-village relocation scope (列入全省整自然村搬迁范围).
    pub whole_village_relocation: bool,
    /// The relocation has been carried out.
    pub relocation_done: bool,
    /// The county's sector departments found every exit indicator met; `None` while they
    /// have not said.
    pub indicators_met: Option<bool>,
}

/// A condition of R9 that a village does not meet, for naming it in a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unmet {
    /// Incidence at or above the limit.
    Incidence,
    /// 不搬迁不退出.
    Relocation,
    /// The departments found an indicator not met.
    Indicators,
    /// The departments' finding is not recorded.
    IndicatorsUnrecorded,
}

/// The outcome of R9.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VillageExit {
    /// Incidence in basis points (1/100 of a percent), rounded half up, for display.
    pub incidence_basis_points: u32,
    /// Incidence strictly below the limit.
    pub below_limit: bool,
    /// Held back by 不搬迁不退出.
    pub awaiting_relocation: bool,
    /// What holds the village back, in the order above; empty when it may exit.
    pub unmet: Vec<Unmet>,
    pub may_exit: bool,
}

/// R9 for one village.
pub fn assess_village_exit(village: &VillageFacts, policy: &RulePolicy) -> Result<VillageExit, RuleError> {
    let (poor, population) = (village.remaining_poor, village.rural_population);
    if population == 0 {
        return Err(RuleError::NoRuralPopulation);
    }
    if poor > population {
        return Err(RuleError::MorePoorThanPopulation { poor, population });
    }
    // poor ÷ population < limit ÷ 10,000, cross-multiplied.
    let left = u64::from(poor) * 10_000;
    let right = u64::from(policy.village_incidence_limit_basis_points) * u64::from(population);
    let below_limit = left.cmp(&right) == Ordering::Less;
    let incidence = (left * 2 + u64::from(population)) / (u64::from(population) * 2);
    // Only a deep-poverty village on the province's list waits for its move; a village
    // on neither list is the ordinary case, so an unset flag is "not listed".
    let awaiting_relocation = village.deep_poverty && village.whole_village_relocation && !village.relocation_done;
    let mut unmet = Vec::new();
    if !below_limit {
        unmet.push(Unmet::Incidence);
    }
    if awaiting_relocation {
        unmet.push(Unmet::Relocation);
    }
    match village.indicators_met {
        Some(true) => {}
        Some(false) => unmet.push(Unmet::Indicators),
        None => unmet.push(Unmet::IndicatorsUnrecorded),
    }
    Ok(VillageExit {
        incidence_basis_points: u32::try_from(incidence).unwrap_or(u32::MAX),
        below_limit,
        awaiting_relocation,
        may_exit: unmet.is_empty(),
        unmet,
    })
}

/// 003 §一(二)3: the least number of a city's exited villages to spot-check (rounded up).
pub fn spot_check_minimum(exited_villages: u32, policy: &RulePolicy) -> u32 {
    let n = u64::from(exited_villages) * u64::from(policy.village_spot_check_percent);
    u32::try_from(n.div_ceil(100)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn village(remaining_poor: u32, rural_population: u32) -> VillageFacts {
        VillageFacts { remaining_poor, rural_population, indicators_met: Some(true), ..Default::default() }
    }

    #[test]
    fn two_percent_is_not_below_two_percent() {
        let policy = RulePolicy::shanxi_003();
        let table = [
            ("1.99%", village(199, 10_000), 199, true),
            ("2.00%", village(200, 10_000), 200, false),
            ("1.999…%: rounds to 2.00% but is below", village(1_999, 100_001), 200, true),
            ("none left", village(0, 1_000), 0, true),
            ("2.5%", village(25, 1_000), 250, false),
        ];
        for (case, v, bp, may_exit) in table {
            let r = assess_village_exit(&v, &policy).expect("assessed");
            assert_eq!((r.incidence_basis_points, r.may_exit), (bp, may_exit), "{case}");
        }
    }

    #[test]
    fn no_exit_before_whole_village_relocation() {
        let policy = RulePolicy::shanxi_003();
        let pending = VillageFacts { deep_poverty: true, whole_village_relocation: true, ..village(0, 500) };
        let r = assess_village_exit(&pending, &policy).expect("assessed");
        assert_eq!((r.below_limit, r.awaiting_relocation, r.may_exit), (true, true, false));
        assert_eq!(r.unmet, vec![Unmet::Relocation]);
        let moved = VillageFacts { relocation_done: true, ..pending };
        assert!(assess_village_exit(&moved, &policy).expect("assessed").may_exit);
        // The rule is for deep-poverty villages on the list: another listed village exits.
        let ordinary = VillageFacts { deep_poverty: false, ..pending };
        assert!(assess_village_exit(&ordinary, &policy).expect("assessed").may_exit);
    }

    #[test]
    fn no_exit_without_the_departments_finding() {
        let policy = RulePolicy::shanxi_003();
        let unrecorded = VillageFacts { indicators_met: None, ..village(0, 500) };
        let r = assess_village_exit(&unrecorded, &policy).expect("assessed");
        assert_eq!((r.may_exit, r.unmet.clone()), (false, vec![Unmet::IndicatorsUnrecorded]));
        let failed = VillageFacts { indicators_met: Some(false), ..village(30, 500) };
        let r = assess_village_exit(&failed, &policy).expect("assessed");
        assert_eq!((r.may_exit, r.unmet.clone()), (false, vec![Unmet::Incidence, Unmet::Indicators]));
    }

    #[test]
    fn impossible_villages_are_errors() {
        let policy = RulePolicy::shanxi_003();
        assert_eq!(assess_village_exit(&village(0, 0), &policy), Err(RuleError::NoRuralPopulation));
        assert_eq!(
            assess_village_exit(&village(11, 10), &policy),
            Err(RuleError::MorePoorThanPopulation { poor: 11, population: 10 })
        );
    }

    #[test]
    fn ten_percent_spot_checks_round_up() {
        let policy = RulePolicy::shanxi_003();
        let table = [(0, 0), (1, 1), (10, 1), (11, 2), (95, 10), (100, 10)];
        for (exited, checks) in table {
            assert_eq!(spot_check_minimum(exited, &policy), checks, "{exited} exited villages");
        }
    }
}
