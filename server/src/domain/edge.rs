//! R5: edge households (边缘户) and monitored exited households (脱贫监测户).
//!
//! 004 §一(四) and §三(一): 人均纯收入略高于现行省定脱贫标准且有返贫风险 — income above
//! the standard but 不超省定脱贫标准的1.5倍 (at most 1.5 × it, [`RulePolicy::edge_ceiling_percent`]),
//! with a risk; 重点关注因病、因灾、因学等支出较大的农户家庭. Those not registered are edge
//! households; exited ones are monitored (对非建档立卡的边缘户和已脱贫户进行摸底监测).
//! A household still in the register is neither: it is already helped.
//!
//! 004 §三(一): 内部掌握 … 不申请，结果暂不公示 — the list is internal.
//!
//! What this module must never do: produce anything meant for a public notice, or
//! start an application: it only says which watch list a household belongs on.

use super::error::RuleError;
use super::facts::{HouseholdFacts, HouseholdStatus, Risk, coded};
use super::income::{NetIncome, net_income_per_capita};
use super::policy::RulePolicy;
use super::thresholds::Threshold;
use serde::Serialize;
use std::cmp::Ordering;

coded! {
    /// Which internal list. Never published (004 §三(一)).
    WatchList {
        /// 边缘户: not registered.
        Edge => "edge", "边缘户";
        /// 脱贫监测户: exited.
        Monitored => "monitored", "脱贫监测户";
    }
}

/// The outcome of R5 for one household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EdgeAssessment {
    pub net_income: NetIncome,
    pub threshold_fen: i64,
    /// The ceiling, `threshold × edge_ceiling_percent ÷ 100` per person.
    pub ceiling_percent: u32,
    /// Income strictly above the threshold.
    pub above_threshold: bool,
    /// Income at most the ceiling.
    pub within_ceiling: bool,
    /// The risks recorded.
    pub risks: Vec<Risk>,
    /// The list the household belongs on, if any.
    pub list: Option<WatchList>,
}

/// R5: whether the household belongs on an internal watch list.
pub fn assess_edge(
    facts: &HouseholdFacts,
    threshold: &Threshold,
    policy: &RulePolicy,
) -> Result<EdgeAssessment, RuleError> {
    let net_income = net_income_per_capita(&facts.income, facts.resident_members, policy)?;
    let above_threshold = net_income.above(threshold.amount_fen);
    let within_ceiling =
        net_income.compare_scaled(threshold.amount_fen, policy.edge_ceiling_percent) != Ordering::Greater;
    let mut risks = facts.risks.clone();
    risks.sort();
    risks.dedup();
    let which = match facts.status {
        Some(HouseholdStatus::Exited) => Some(WatchList::Monitored),
        Some(HouseholdStatus::Registered | HouseholdStatus::PreExit) => None,
        // Never registered, rejected, removed, or applying: outside the register.
        Some(HouseholdStatus::Applicant | HouseholdStatus::Rejected | HouseholdStatus::Removed) | None => {
            Some(WatchList::Edge)
        }
    };
    let list = which.filter(|_| above_threshold && within_ceiling && !risks.is_empty());
    Ok(EdgeAssessment {
        net_income,
        threshold_fen: threshold.amount_fen,
        ceiling_percent: policy.edge_ceiling_percent,
        above_threshold,
        within_ceiling,
        risks,
        list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::{IncomeFacts, Standard};

    fn threshold(yuan: i64) -> Threshold {
        Threshold {
            year: 2019,
            region_prefix: String::new(),
            standard: Standard::Provincial,
            amount_fen: yuan * 100,
            source: "test".into(),
        }
    }

    /// One resident with `fen` of income.
    fn household(fen: i64, status: Option<HouseholdStatus>, risks: Vec<Risk>) -> HouseholdFacts {
        HouseholdFacts {
            status,
            resident_members: 1,
            income: IncomeFacts { wage: fen, ..Default::default() },
            risks,
            ..Default::default()
        }
    }

    #[test]
    fn edge_at_the_one_and_a_half_boundary() {
        // A line of 3,200 yuan: the ceiling is 4,800 yuan.
        let line = threshold(3_200);
        let policy = RulePolicy::lianyungang_004();
        let ill = || vec![Risk::Illness];
        let table = [
            ("at the line is not above it", 320_000, ill(), None),
            ("a fen above the line", 320_001, ill(), Some(WatchList::Edge)),
            ("exactly 1.5 ×", 480_000, ill(), Some(WatchList::Edge)),
            ("a fen above 1.5 ×", 480_001, ill(), None),
            ("no risk", 400_000, vec![], None),
            ("disaster", 400_000, vec![Risk::Disaster], Some(WatchList::Edge)),
            ("schooling", 400_000, vec![Risk::Schooling], Some(WatchList::Edge)),
        ];
        for (case, fen, risks, expected) in table {
            let r = assess_edge(&household(fen, None, risks), &line, &policy).expect("assessed");
            assert_eq!(r.list, expected, "{case}");
        }
    }

    #[test]
    fn exited_households_are_monitored_registered_ones_are_neither() {
        let line = threshold(3_200);
        let policy = RulePolicy::lianyungang_004();
        let table = [
            (Some(HouseholdStatus::Exited), Some(WatchList::Monitored)),
            (Some(HouseholdStatus::Registered), None),
            (Some(HouseholdStatus::PreExit), None),
            (Some(HouseholdStatus::Removed), Some(WatchList::Edge)),
            (Some(HouseholdStatus::Rejected), Some(WatchList::Edge)),
        ];
        for (status, expected) in table {
            let r = assess_edge(&household(400_000, status, vec![Risk::Emergency]), &line, &policy).expect("assessed");
            assert_eq!(r.list, expected, "{status:?}");
        }
    }

    #[test]
    fn the_ceiling_is_data() {
        let line = threshold(3_200);
        let policy = RulePolicy { edge_ceiling_percent: 130, ..RulePolicy::lianyungang_004() };
        let r = assess_edge(&household(480_000, None, vec![Risk::Illness]), &line, &policy).expect("assessed");
        assert_eq!((r.above_threshold, r.within_ceiling, r.list), (true, false, None));
    }
}
