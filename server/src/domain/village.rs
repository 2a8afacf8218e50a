//! R9: village exit (贫困村退出/出列).
//!
//! 003 §一(一)2: 确保真正实现贫困村退出贫困发生率降至2%以下 — a village exits when its
//! poverty incidence (remaining poor people ÷ rural population) is below 2%
//! ([`RulePolicy::village_incidence_limit_basis_points`]); exited villages whose incidence
//! is above 2% are looked at again (回头看). 003 §一(二)2: 列入全省整自然村搬迁范围内的
//! 深度贫困村不搬迁不退出 — a deep-poverty village in the whole-village relocation scope
//! does not exit before it has moved. 003 §一(二)3: 每市抽检率原则上不低于全市退出村总数的
//! 10% — the least number of exited villages a city spot-checks.
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
    /// A deep-poverty village in the province's whole-village relocation scope.
    pub whole_village_relocation: bool,
    /// The relocation has been carried out.
    pub relocation_done: bool,
}

/// The outcome of R9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VillageExit {
    /// Incidence in basis points (1/100 of a percent), rounded half up, for display.
    pub incidence_basis_points: u32,
    /// Incidence strictly below the limit.
    pub below_limit: bool,
    /// Held back by 不搬迁不退出.
    pub awaiting_relocation: bool,
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
    let awaiting_relocation = village.whole_village_relocation && !village.relocation_done;
    Ok(VillageExit {
        incidence_basis_points: u32::try_from(incidence).unwrap_or(u32::MAX),
        below_limit,
        awaiting_relocation,
        may_exit: below_limit && !awaiting_relocation,
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
        VillageFacts { remaining_poor, rural_population, ..Default::default() }
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
        let pending = VillageFacts { whole_village_relocation: true, ..village(0, 500) };
        let r = assess_village_exit(&pending, &policy).expect("assessed");
        assert_eq!((r.below_limit, r.awaiting_relocation, r.may_exit), (true, true, false));
        let moved = VillageFacts { relocation_done: true, ..pending };
        assert!(assess_village_exit(&moved, &policy).expect("assessed").may_exit);
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
