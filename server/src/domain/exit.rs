//! R3: household exit (脱贫) — may this household be listed to exit, and in what order.
//!
//! - 003 §一(一)1: 家庭人均收入稳定超过国家现行扶贫标准，不愁吃、不愁穿，饮水安全、义务
//!   教育、基本医疗和住房安全有保障 — income stably and strictly above the threshold
//!   and every guarantee met (000 §四(一) says the same: 收入稳定达到扶贫标准，有稳定增收
//!   渠道和收入来源，且实现“两不愁、三保障”).
//! - 004 §三(三): the system refuses 脱贫 while any guarantee shows unresolved; here an
//!   unrecorded guarantee refuses it too, naming the guarantee.
//! - 003 §五(二) 两不退: 凡存在没有长期稳定收入来源、饮水和住房安全未保障、易地搬迁未入住、
//!   帮扶成效不显著的贫困户不能退出；低保标准未超过国家扶贫标准地区的“低保兜底一批”贫困户
//!   不能退出.
//! - 003 §一(一)2: 先一般贫困户，后低保政策兜底户 — the exit order.
//!
//! What this module must never do: let an exit through on an unrecorded fact, or change
//! a household's status (procedures do that after notices; this only says whether the
//! facts allow it and why not).

use super::error::RuleError;
use super::facts::{Guarantee, HouseholdFacts, HouseholdStatus, Kind, coded};
use super::income::{NetIncome, net_income_per_capita};
use super::policy::RulePolicy;
use super::thresholds::Threshold;
use serde::Serialize;

coded! {
    /// 两不退 (003 §五(二)): a case that may not exit.
    TwoNoExit {
        NoLongTermStableIncome => "no_long_term_stable_income", "没有长期稳定收入来源";
        WaterNotSecure => "water_not_secure", "饮水安全未保障";
        HousingNotSecure => "housing_not_secure", "住房安全未保障";
        RelocationNotMovedIn => "relocation_not_moved_in", "易地搬迁未入住";
        HelpNotEffective => "help_not_effective", "帮扶成效不显著";
        /// 低保标准未超过国家扶贫标准地区的“低保兜底一批”.
        DibaoStandardNotAboveLine => "dibao_standard_not_above_line", "低保标准未超过扶贫标准的低保兜底户";
    }
}

coded! {
    /// A fact the exit depends on that nobody has recorded.
    ExitFact {
        StableIncome => "long_term_stable_income", "是否有长期稳定收入来源";
        HelpEffective => "help_effective", "帮扶成效是否显著";
        RelocationMovedIn => "relocation_moved_in", "易地搬迁是否入住";
        /// The region's 低保 standard, for 低保兜底 households.
        DibaoStandard => "dibao_standard", "当地低保标准";
        Kind => "kind", "贫困户属性";
        Status => "status", "户状态";
    }
}

/// Why an exit is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum ExitObstacle {
    /// Only a registered household exits (status shown).
    NotInRegister(HouseholdStatus),
    /// Per-capita income not strictly above the threshold.
    IncomeNotAbove,
    /// A guarantee recorded as not met (004 §三(三)).
    GuaranteeUnmet(Guarantee),
    /// A guarantee not recorded: unknown is not secure.
    GuaranteeUnrecorded(Guarantee),
    /// 两不退 (003 §五(二)).
    TwoNoExit(TwoNoExit),
    /// A fact the exit depends on is not recorded.
    Unrecorded(ExitFact),
}

impl ExitObstacle {
    pub fn code(&self) -> String {
        match self {
            ExitObstacle::NotInRegister(_) => "not_in_register".to_owned(),
            ExitObstacle::IncomeNotAbove => "income_not_above_threshold".to_owned(),
            ExitObstacle::GuaranteeUnmet(g) => format!("guarantee_unmet:{}", g.code()),
            ExitObstacle::GuaranteeUnrecorded(g) => format!("guarantee_unrecorded:{}", g.code()),
            ExitObstacle::TwoNoExit(r) => format!("two_no_exit:{}", r.code()),
            ExitObstacle::Unrecorded(f) => format!("unrecorded:{}", f.code()),
        }
    }

    pub fn zh(&self) -> String {
        match self {
            ExitObstacle::NotInRegister(s) => format!("户状态为“{}”，不在档内", s.label()),
            ExitObstacle::IncomeNotAbove => "人均纯收入未稳定超过扶贫标准".to_owned(),
            ExitObstacle::GuaranteeUnmet(g) => format!("“{}”未解决", g.label()),
            ExitObstacle::GuaranteeUnrecorded(g) => format!("“{}”未核实", g.label()),
            ExitObstacle::TwoNoExit(r) => format!("两不退：{}", r.label()),
            ExitObstacle::Unrecorded(f) => format!("未登记：{}", f.label()),
        }
    }

    pub fn en(&self) -> String {
        match self {
            ExitObstacle::NotInRegister(s) => format!("the household is {}, not in the register", s.code()),
            ExitObstacle::IncomeNotAbove => "per-capita net income is not above the threshold".to_owned(),
            ExitObstacle::GuaranteeUnmet(g) => format!("guarantee not met: {}", g.code()),
            ExitObstacle::GuaranteeUnrecorded(g) => format!("guarantee not recorded: {}", g.code()),
            ExitObstacle::TwoNoExit(r) => format!("may not exit (two no-exits): {}", r.code()),
            ExitObstacle::Unrecorded(f) => format!("not recorded: {}", f.code()),
        }
    }
}

/// The outcome of R3 for one household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExitCheck {
    pub threshold_fen: i64,
    pub net_income: NetIncome,
    /// Empty when the household may be listed to exit.
    pub obstacles: Vec<ExitObstacle>,
}

impl ExitCheck {
    pub fn may_exit(&self) -> bool {
        self.obstacles.is_empty()
    }

    /// The guarantees named as not met.
    pub fn unmet_guarantees(&self) -> Vec<Guarantee> {
        self.obstacles
            .iter()
            .filter_map(|o| if let ExitObstacle::GuaranteeUnmet(g) = o { Some(*g) } else { None })
            .collect()
    }

    /// The 两不退 cases found.
    pub fn two_no_exit(&self) -> Vec<TwoNoExit> {
        self.obstacles.iter().filter_map(|o| if let ExitObstacle::TwoNoExit(r) = o { Some(*r) } else { None }).collect()
    }
}

/// R3: whether the household may be listed to exit against `threshold`.
pub fn check_exit(facts: &HouseholdFacts, threshold: &Threshold, policy: &RulePolicy) -> Result<ExitCheck, RuleError> {
    let net_income = net_income_per_capita(&facts.income, facts.resident_members, policy)?;
    let mut obstacles = Vec::new();
    match facts.status {
        Some(HouseholdStatus::Registered | HouseholdStatus::PreExit) => {}
        Some(other) => obstacles.push(ExitObstacle::NotInRegister(other)),
        None => obstacles.push(ExitObstacle::Unrecorded(ExitFact::Status)),
    }
    if !net_income.above(threshold.amount_fen) {
        obstacles.push(ExitObstacle::IncomeNotAbove);
    }
    for g in Guarantee::ALL {
        match facts.guarantees.get(*g) {
            Some(true) => {}
            Some(false) => obstacles.push(ExitObstacle::GuaranteeUnmet(*g)),
            None => obstacles.push(ExitObstacle::GuaranteeUnrecorded(*g)),
        }
    }
    obstacles.extend(two_no_exit(facts, Some(threshold), policy));
    Ok(ExitCheck { threshold_fen: threshold.amount_fen, net_income, obstacles })
}

/// 两不退 (003 §五(二)), with the facts it needs that are unrecorded. Without a
/// `threshold` the 低保兜底 comparison is left out (the caller names the missing line);
/// the household's own facts are still judged, so they can be recorded meanwhile.
pub fn two_no_exit(facts: &HouseholdFacts, threshold: Option<&Threshold>, policy: &RulePolicy) -> Vec<ExitObstacle> {
    let mut found = Vec::new();
    let mut check = |value: Option<bool>, when_false: TwoNoExit, fact: ExitFact| match value {
        Some(true) => {}
        Some(false) => found.push(ExitObstacle::TwoNoExit(when_false)),
        None => found.push(ExitObstacle::Unrecorded(fact)),
    };
    check(facts.long_term_stable_income, TwoNoExit::NoLongTermStableIncome, ExitFact::StableIncome);
    check(facts.help_effective, TwoNoExit::HelpNotEffective, ExitFact::HelpEffective);
    if facts.has_relocation_project {
        check(facts.relocation_moved_in, TwoNoExit::RelocationNotMovedIn, ExitFact::RelocationMovedIn);
    }
    // Water and housing are guarantees too; unrecorded ones are already named as such.
    if facts.guarantees.water == Some(false) {
        found.push(ExitObstacle::TwoNoExit(TwoNoExit::WaterNotSecure));
    }
    if facts.guarantees.housing == Some(false) {
        found.push(ExitObstacle::TwoNoExit(TwoNoExit::HousingNotSecure));
    }
    let Some(threshold) = threshold else { return found };
    match facts.kind {
        Some(Kind::Dibao | Kind::Wubao) => match policy.dibao_standard_fen {
            Some(standard) if standard <= threshold.amount_fen => {
                found.push(ExitObstacle::TwoNoExit(TwoNoExit::DibaoStandardNotAboveLine));
            }
            Some(_) => {}
            None => found.push(ExitObstacle::Unrecorded(ExitFact::DibaoStandard)),
        },
        Some(Kind::General) => {}
        None => found.push(ExitObstacle::Unrecorded(ExitFact::Kind)),
    }
    found
}

/// 003 §一(一)2: 先一般贫困户，后低保政策兜底户. Rank 0 exits first.
pub fn exit_rank(kind: Option<Kind>) -> u8 {
    match kind {
        Some(Kind::General) => 0,
        Some(Kind::Dibao | Kind::Wubao) => 1,
        // Unrecorded kind goes last, so a 兜底 household is never put early by mistake.
        None => 2,
    }
}

/// Orders exit candidates general households first, keeping the given order otherwise.
pub fn sort_for_exit<T>(candidates: &mut [T], kind_of: impl Fn(&T) -> Option<Kind>) {
    candidates.sort_by_key(|c| exit_rank(kind_of(c)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::{Guarantees, IncomeFacts, Standard};

    const YUAN: i64 = 100;

    fn shanxi_2017() -> Threshold {
        Threshold::seeded().into_iter().find(|t| t.source == "003 §一(一)1").expect("seeded 3200")
    }

    /// A registered three-person general household ready to exit at 4,000 yuan each.
    fn ready() -> HouseholdFacts {
        HouseholdFacts {
            standard: Some(Standard::National),
            kind: Some(Kind::General),
            status: Some(HouseholdStatus::Registered),
            resident_members: 3,
            income: IncomeFacts { wage: 12_000 * YUAN, ..Default::default() },
            guarantees: Guarantees::all_met(),
            long_term_stable_income: Some(true),
            help_effective: Some(true),
            ..Default::default()
        }
    }

    fn check(facts: &HouseholdFacts) -> ExitCheck {
        check_exit(facts, &shanxi_2017(), &RulePolicy::shanxi_003()).expect("checked")
    }

    #[test]
    fn a_household_meeting_003_may_exit() {
        let r = check(&ready());
        assert!(r.may_exit(), "{:?}", r.obstacles);
    }

    #[test]
    fn income_must_be_strictly_above_3200() {
        let at_line = HouseholdFacts { income: IncomeFacts { wage: 9_600 * YUAN, ..Default::default() }, ..ready() };
        assert_eq!(check(&at_line).obstacles, vec![ExitObstacle::IncomeNotAbove]);
        let a_fen_above =
            HouseholdFacts { income: IncomeFacts { wage: 9_600 * YUAN + 3, ..Default::default() }, ..ready() };
        assert!(check(&a_fen_above).may_exit());
    }

    #[test]
    fn an_unmet_guarantee_refuses_the_exit_and_is_named() {
        let facts =
            HouseholdFacts { guarantees: Guarantees { medical: Some(false), ..Guarantees::all_met() }, ..ready() };
        let r = check(&facts);
        assert!(!r.may_exit());
        assert_eq!(r.unmet_guarantees(), vec![Guarantee::Medical]);
        assert_eq!(r.obstacles[0].zh(), "“基本医疗有保障”未解决");
        assert_eq!(r.obstacles[0].code(), "guarantee_unmet:medical_secure");
        // Unrecorded is refused too, named differently.
        let facts = HouseholdFacts { guarantees: Guarantees { education: None, ..Guarantees::all_met() }, ..ready() };
        assert_eq!(check(&facts).obstacles, vec![ExitObstacle::GuaranteeUnrecorded(Guarantee::Education)]);
    }

    #[test]
    fn two_no_exit_cases_of_003() {
        let unsafe_water = Guarantees { water: Some(false), ..Guarantees::all_met() };
        let unsafe_housing = Guarantees { housing: Some(false), ..Guarantees::all_met() };
        let table = [
            (
                "no stable income",
                HouseholdFacts { long_term_stable_income: Some(false), ..ready() },
                vec![TwoNoExit::NoLongTermStableIncome],
            ),
            ("water", HouseholdFacts { guarantees: unsafe_water, ..ready() }, vec![TwoNoExit::WaterNotSecure]),
            ("housing", HouseholdFacts { guarantees: unsafe_housing, ..ready() }, vec![TwoNoExit::HousingNotSecure]),
            (
                "relocated, not moved in",
                HouseholdFacts { has_relocation_project: true, relocation_moved_in: Some(false), ..ready() },
                vec![TwoNoExit::RelocationNotMovedIn],
            ),
            (
                "help not effective",
                HouseholdFacts { help_effective: Some(false), ..ready() },
                vec![TwoNoExit::HelpNotEffective],
            ),
            (
                "relocated and moved in",
                HouseholdFacts { has_relocation_project: true, relocation_moved_in: Some(true), ..ready() },
                vec![],
            ),
        ];
        for (case, facts, expected) in table {
            assert_eq!(check(&facts).two_no_exit(), expected, "{case}");
        }
        let r = check(&HouseholdFacts { has_relocation_project: true, ..ready() });
        assert_eq!(r.obstacles, vec![ExitObstacle::Unrecorded(ExitFact::RelocationMovedIn)]);
    }

    #[test]
    fn dibao_households_exit_only_where_the_dibao_standard_exceeds_the_line() {
        let dibao = HouseholdFacts { kind: Some(Kind::Dibao), ..ready() };
        let wubao = HouseholdFacts { kind: Some(Kind::Wubao), ..ready() };
        let with_standard =
            |yuan: Option<i64>| RulePolicy { dibao_standard_fen: yuan.map(|y| y * YUAN), ..RulePolicy::shanxi_003() };
        let table = [
            (&dibao, Some(3_000), vec![ExitObstacle::TwoNoExit(TwoNoExit::DibaoStandardNotAboveLine)]),
            (&dibao, Some(3_200), vec![ExitObstacle::TwoNoExit(TwoNoExit::DibaoStandardNotAboveLine)]),
            (&dibao, Some(3_201), vec![]),
            (&wubao, Some(3_000), vec![ExitObstacle::TwoNoExit(TwoNoExit::DibaoStandardNotAboveLine)]),
            (&dibao, None, vec![ExitObstacle::Unrecorded(ExitFact::DibaoStandard)]),
        ];
        for (facts, standard, expected) in table {
            let r = check_exit(facts, &shanxi_2017(), &with_standard(standard)).expect("checked");
            assert_eq!(r.obstacles, expected, "{:?} {standard:?}", facts.kind);
        }
        // A general household does not depend on the dibao standard.
        assert!(check_exit(&ready(), &shanxi_2017(), &with_standard(Some(1_000))).expect("checked").may_exit());
    }

    #[test]
    fn only_registered_households_exit() {
        let exited = HouseholdFacts { status: Some(HouseholdStatus::Exited), ..ready() };
        assert_eq!(check(&exited).obstacles, vec![ExitObstacle::NotInRegister(HouseholdStatus::Exited)]);
        let pre_exit = HouseholdFacts { status: Some(HouseholdStatus::PreExit), ..ready() };
        assert!(check(&pre_exit).may_exit());
    }

    #[test]
    fn general_households_exit_before_dibao_and_wubao() {
        let mut candidates = vec![
            ("低保甲", Some(Kind::Dibao)),
            ("一般甲", Some(Kind::General)),
            ("未登记", None),
            ("五保甲", Some(Kind::Wubao)),
            ("一般乙", Some(Kind::General)),
        ];
        sort_for_exit(&mut candidates, |c| c.1);
        let names: Vec<&str> = candidates.iter().map(|c| c.0).collect();
        assert_eq!(names, ["一般甲", "一般乙", "低保甲", "五保甲", "未登记"]);
    }
}
