//! R4: removal reasons (清除/剔除, 002 §二(二) 1–10) and the review flags (审慎识别,
//! 000 §四(一), eight cases).
//!
//! 002 §二(二) lists ten cases for which a registered household is removed as wrongly
//! identified (错评), and for five of them an exception: when the thing was acquired
//! or happened after registration (建档立卡后) — for a car, town property or business
//! also only when it served as the household's exit measure (作为脱贫措施) — it is 不认定
//! 为错评，按正常脱贫程序退出: a normal exit (R3), not a removal. A town house from a
//! relocation project (易地搬迁进城安置户) is never a mis-registration.
//!
//! 000 §四(一) lists eight cases to look at carefully (认真甄别、审慎识别) before
//! identification; they are flags for the village assessment, not verdicts.
//!
//! What this module must never do: call something a mis-registration when the date
//! that decides the exception is unrecorded (that is [`Verdict::Undetermined`]), or
//! turn a review flag into a verdict.

use super::facts::{HouseholdFacts, UrbanPropertyKind, VehicleKind, coded};
use super::member_change::DecreaseReason;
use super::policy::RulePolicy;
use chrono::NaiveDate;
use serde::Serialize;

coded! {
    /// 002 §二(二) 1–10, in the document's order.
    RemovalReason {
        /// 1. 家庭成员有在岗在编财政供养人员.
        PublicServant => "public_servant", "家庭成员有在岗在编财政供养人员";
        /// 2. 家庭成员有现任“村三委”干部.
        VillageCadre => "village_cadre", "家庭成员有现任村三委干部";
        /// 3. 拥有价格3万元以上机动车.
        Vehicle => "vehicle", "拥有价格3万元以上机动车";
        /// 4. 在城镇拥有自建房或购买商品房、门面房等.
        UrbanProperty => "urban_property", "在城镇拥有自建房或购买商品房、门面房";
        /// 5. 长期雇佣他人从事生产经营活动.
        HiresWorkers => "hires_workers", "长期雇佣他人从事生产经营活动";
        /// 6. 经工商注册登记并实际开展经营活动.
        RegisteredBusiness => "registered_business", "经工商注册登记并实际开展经营活动";
        /// 7. 为享受扶贫支持故意分户、并户，不符合贫困对象识别条件.
        SplitOrMergedForBenefits => "split_or_merged_for_benefits", "为享受扶贫支持故意分户、并户";
        /// 8. 为获取某种利益或达到某种目的将户口迁入村组的空挂户.
        NominalHukou => "nominal_hukou", "空挂户";
        /// 9. 死亡人员、失踪人员、与户主不共享开支或收入的人员.
        DeadMissingOrSeparate => "dead_missing_or_separate", "死亡、失踪或与户主不共享开支收入的人员";
        /// 10. 优亲厚友、弄虚作假、徇私舞弊、信息失真，不符合贫困对象识别条件.
        FavouritismOrFalsification => "favouritism_or_falsification", "优亲厚友、弄虚作假、徇私舞弊、信息失真";
    }
}

impl RemovalReason {
    /// The number in 002 §二(二).
    pub fn number(self) -> u8 {
        match self {
            RemovalReason::PublicServant => 1,
            RemovalReason::VillageCadre => 2,
            RemovalReason::Vehicle => 3,
            RemovalReason::UrbanProperty => 4,
            RemovalReason::HiresWorkers => 5,
            RemovalReason::RegisteredBusiness => 6,
            RemovalReason::SplitOrMergedForBenefits => 7,
            RemovalReason::NominalHukou => 8,
            RemovalReason::DeadMissingOrSeparate => 9,
            RemovalReason::FavouritismOrFalsification => 10,
        }
    }
}

impl RemovalReason {
    /// 1, 2, 3, 4, 6: the reasons with 002's "建档立卡后…不认定为错评，按正常脱贫程序退出"
    /// exception; `Some(true)` where it also asks "作为脱贫措施" (a car, town property or
    /// business), `Some(false)` where "after registration" alone decides (a post).
    pub fn exception_needs_exit_measure(self) -> Option<bool> {
        match self {
            RemovalReason::PublicServant | RemovalReason::VillageCadre => Some(false),
            RemovalReason::Vehicle | RemovalReason::UrbanProperty | RemovalReason::RegisteredBusiness => Some(true),
            _ => None,
        }
    }
}

/// What a found reason means for the household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Verdict {
    /// 错评: removed through the removal procedure (先退后进, 002 §三(五)).
    MisRegistration,
    /// 不认定为错评，按正常脱贫程序退出: the exception applies; the household exits
    /// through R3 and the normal exit procedure.
    NormalExit,
    /// The person, not the household, leaves the register (002 §二(二)9); recorded as the
    /// member decrease of 004 附件4 where one fits.
    RemoveMember { member: usize, decrease: Option<DecreaseReason> },
    /// The fact that decides the exception is unrecorded (named); look into it.
    Undetermined { missing: &'static str },
}

/// One reason found, what it means, and what it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RemovalFinding {
    pub reason: RemovalReason,
    pub verdict: Verdict,
    /// Index of the member, vehicle, property or business concerned, when there is one.
    pub item: Option<usize>,
}

/// All 002 §二(二) reasons the facts show, each with its verdict.
pub fn removal_findings(facts: &HouseholdFacts, policy: &RulePolicy) -> Vec<RemovalFinding> {
    let mut found = Vec::new();
    let mut push = |reason, verdict, item| found.push(RemovalFinding { reason, verdict, item: Some(item) });

    // 1 and 2: the exception needs only "after registration" (考入 / 成为).
    for (i, member) in facts.members.iter().enumerate() {
        if let Some(post) = member.public_servant {
            push(RemovalReason::PublicServant, exception(facts, post.since, "public_servant.since", None), i);
        }
        if let Some(post) = member.village_cadre {
            push(RemovalReason::VillageCadre, exception(facts, post.since, "village_cadre.since", None), i);
        }
    }
    // 3: owned motor vehicles priced 3万元以上 (以上 includes the figure).
    for (i, v) in facts.vehicles.iter().enumerate() {
        if v.kind == VehicleKind::MotorVehicle && !v.borrowed && v.value_fen >= policy.vehicle_value_limit_fen {
            push(RemovalReason::Vehicle, exception(facts, v.acquired, "vehicle.acquired", Some(v.as_exit_measure)), i);
        }
    }
    // 4: the exception names bought 商品房、门面房 and relocation resettlement, not self-built houses.
    for (i, p) in facts.urban_properties.iter().enumerate() {
        let verdict = if p.relocation_resettlement {
            Verdict::NormalExit
        } else if p.kind == UrbanPropertyKind::SelfBuilt {
            Verdict::MisRegistration
        } else {
            exception(facts, p.acquired, "urban_property.acquired", Some(p.as_exit_measure))
        };
        push(RemovalReason::UrbanProperty, verdict, i);
    }
    // 6: registered and actually operating.
    for (i, b) in facts.businesses.iter().enumerate().filter(|(_, b)| b.operating) {
        let verdict = exception(facts, b.registered, "business.registered", Some(b.as_exit_measure));
        push(RemovalReason::RegisteredBusiness, verdict, i);
    }
    // 9: the person leaves the household's register.
    for (i, member) in facts.members.iter().enumerate() {
        let decrease = if member.deceased {
            Some(Some(DecreaseReason::Death))
        } else if member.missing {
            Some(Some(DecreaseReason::Missing))
        } else if member.shares_budget_with_head == Some(false) {
            Some(None)
        } else {
            None
        };
        if let Some(decrease) = decrease {
            push(RemovalReason::DeadMissingOrSeparate, Verdict::RemoveMember { member: i, decrease }, i);
        }
    }
    // 5, 7, 8, 10: no exception.
    let household_wide = [
        (facts.hires_workers_long_term, RemovalReason::HiresWorkers),
        (facts.split_or_merged_for_benefits, RemovalReason::SplitOrMergedForBenefits),
        (facts.nominal_hukou, RemovalReason::NominalHukou),
        (facts.favouritism_or_falsification, RemovalReason::FavouritismOrFalsification),
    ];
    for (present, reason) in household_wide {
        if present {
            found.push(RemovalFinding { reason, verdict: Verdict::MisRegistration, item: None });
        }
    }
    found.sort_by_key(|f| f.reason.number());
    found
}

/// 002's exception: "建档立卡后…的，不认定为错评" — the thing came strictly after
/// registration; for a car, town property or business (`as_exit_measure` given) also
/// only "…作为脱贫措施的".
fn exception(
    facts: &HouseholdFacts,
    date: Option<NaiveDate>,
    date_field: &'static str,
    as_exit_measure: Option<bool>,
) -> Verdict {
    exception_on(facts.registered_on, date, date_field, as_exit_measure)
}

/// The same exception for one thing, as a removal case states it when it is opened.
pub fn exception_on(
    registered_on: Option<NaiveDate>,
    date: Option<NaiveDate>,
    date_field: &'static str,
    as_exit_measure: Option<bool>,
) -> Verdict {
    if as_exit_measure == Some(false) {
        return Verdict::MisRegistration;
    }
    match (date, registered_on) {
        (Some(date), Some(registered_on)) if date > registered_on => Verdict::NormalExit,
        (Some(_), Some(_)) => Verdict::MisRegistration,
        (None, _) => Verdict::Undetermined { missing: date_field },
        (Some(_), None) => Verdict::Undetermined { missing: "registered_on" },
    }
}

coded! {
    /// 000 §四(一): 对于有下列情形的，要认真甄别、审慎识别 — the eight cases, in order.
    ReviewFlag {
        /// 一 在城镇购买商品房或高标准装修现有住房.
        UrbanHousingOrRenovation => "urban_housing_or_renovation", "在城镇购买商品房或高标准装修现有住房";
        /// 二 月水电燃料费、通讯费明显高于当地非贫困户.
        HighLivingCosts => "high_living_costs", "月水电燃料费、通讯费明显高于当地非贫困户";
        /// 三 家庭拥有或使用机动车辆、船舶、工程机械及大型农机具.
        VehiclesOrMachinery => "vehicles_or_machinery", "拥有或使用机动车辆、船舶、工程机械及大型农机具";
        /// 四 经商办企和长期雇佣他人从事生产经营活动.
        BusinessOrEmployer => "business_or_employer", "经商办企或长期雇佣他人从事生产经营活动";
        /// 五 吃“财政饭”、家有公职人员.
        PublicEmployee => "public_employee", "吃财政饭、家有公职人员";
        /// 六 户在人不在，常年联系不上以及空挂户、拆户、分户.
        AbsentNominalOrSplit => "absent_nominal_or_split", "户在人不在、常年联系不上或空挂户、拆户、分户";
        /// 七 家里有劳动能力、好吃懒做.
        IdleAbleBodied => "idle_able_bodied", "有劳动能力、好吃懒做";
        /// 八 举债为儿女操办婚礼致贫.
        WeddingDebt => "wedding_debt", "举债为儿女操办婚礼致贫";
    }
}

/// The 000 §四(一) cases the facts show; the village assessment looks into each.
pub fn review_flags(facts: &HouseholdFacts) -> Vec<ReviewFlag> {
    let bought_urban_housing = facts.urban_properties.iter().any(|p| p.kind == UrbanPropertyKind::CommodityHousing);
    let cases = [
        (bought_urban_housing || facts.high_standard_renovation, ReviewFlag::UrbanHousingOrRenovation),
        (facts.living_costs_clearly_high, ReviewFlag::HighLivingCosts),
        // Any value, owned or used.
        (!facts.vehicles.is_empty(), ReviewFlag::VehiclesOrMachinery),
        (!facts.businesses.is_empty() || facts.hires_workers_long_term, ReviewFlag::BusinessOrEmployer),
        (facts.members.iter().any(|m| m.public_servant.is_some()), ReviewFlag::PublicEmployee),
        (facts.absent_unreachable || facts.nominal_hukou || facts.split_household, ReviewFlag::AbsentNominalOrSplit),
        (facts.able_but_idle, ReviewFlag::IdleAbleBodied),
        (facts.wedding_debt, ReviewFlag::WeddingDebt),
    ];
    cases.into_iter().filter(|(present, _)| *present).map(|(_, flag)| flag).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::{Business, MemberFacts, Post, UrbanProperty, Vehicle};

    const YUAN: i64 = 100;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn registered_2015() -> HouseholdFacts {
        HouseholdFacts { registered_on: date(2015, 6, 1), ..Default::default() }
    }

    fn car(yuan: i64, acquired: Option<NaiveDate>, as_exit_measure: bool) -> Vehicle {
        Vehicle { kind: VehicleKind::MotorVehicle, value_fen: yuan * YUAN, acquired, as_exit_measure, borrowed: false }
    }

    fn verdicts(facts: &HouseholdFacts) -> Vec<(RemovalReason, Verdict)> {
        removal_findings(facts, &RulePolicy::kunming_002()).into_iter().map(|f| (f.reason, f.verdict)).collect()
    }

    #[test]
    fn a_car_bought_after_registration_as_exit_measure_is_not_a_mis_registration() {
        let table = [
            (
                "30,000-yuan car bought 2016 as exit measure",
                car(30_000, date(2016, 3, 1), true),
                Some(Verdict::NormalExit),
            ),
            ("same car owned before registration", car(30_000, date(2014, 3, 1), true), Some(Verdict::MisRegistration)),
            (
                "bought after registration, not as exit measure",
                car(30_000, date(2016, 3, 1), false),
                Some(Verdict::MisRegistration),
            ),
            ("bought on the day of registration", car(30_000, date(2015, 6, 1), true), Some(Verdict::MisRegistration)),
            (
                "purchase date unrecorded",
                car(30_000, None, true),
                Some(Verdict::Undetermined { missing: "vehicle.acquired" }),
            ),
            (
                "29,999.99 yuan is below 3万元",
                Vehicle { value_fen: 2_999_999, ..car(0, date(2014, 1, 1), false) },
                None,
            ),
            ("borrowed, not owned", Vehicle { borrowed: true, ..car(80_000, date(2014, 1, 1), false) }, None),
            (
                "a tractor is not a 机动车 of case 3",
                Vehicle { kind: VehicleKind::LargeFarmMachinery, ..car(80_000, date(2014, 1, 1), false) },
                None,
            ),
        ];
        for (case, vehicle, expected) in table {
            let facts = HouseholdFacts { vehicles: vec![vehicle], ..registered_2015() };
            let found = verdicts(&facts);
            match expected {
                Some(verdict) => assert_eq!(found, vec![(RemovalReason::Vehicle, verdict)], "{case}"),
                None => assert!(found.is_empty(), "{case}: {found:?}"),
            }
        }
    }

    #[test]
    fn public_posts_after_registration_are_normal_exits() {
        let servant = |since| MemberFacts { public_servant: Some(Post { since }), ..Default::default() };
        let cadre = |since| MemberFacts { village_cadre: Some(Post { since }), ..Default::default() };
        let table = [
            (servant(date(2017, 9, 1)), RemovalReason::PublicServant, Verdict::NormalExit),
            (servant(date(2010, 9, 1)), RemovalReason::PublicServant, Verdict::MisRegistration),
            (cadre(date(2016, 1, 1)), RemovalReason::VillageCadre, Verdict::NormalExit),
            (cadre(date(2012, 1, 1)), RemovalReason::VillageCadre, Verdict::MisRegistration),
        ];
        for (member, reason, verdict) in table {
            let facts = HouseholdFacts { members: vec![member], ..registered_2015() };
            assert_eq!(verdicts(&facts), vec![(reason, verdict)]);
        }
        let no_registration_date = HouseholdFacts { members: vec![servant(date(2017, 9, 1))], ..Default::default() };
        assert_eq!(
            verdicts(&no_registration_date),
            vec![(RemovalReason::PublicServant, Verdict::Undetermined { missing: "registered_on" })]
        );
    }

    #[test]
    fn town_property_and_businesses() {
        let house = |kind, acquired, as_exit_measure, relocation_resettlement| UrbanProperty {
            kind,
            acquired,
            as_exit_measure,
            relocation_resettlement,
        };
        let table = [
            (house(UrbanPropertyKind::CommodityHousing, date(2016, 1, 1), true, false), Verdict::NormalExit),
            (house(UrbanPropertyKind::Shopfront, date(2013, 1, 1), true, false), Verdict::MisRegistration),
            (house(UrbanPropertyKind::SelfBuilt, date(2016, 1, 1), true, false), Verdict::MisRegistration),
            (house(UrbanPropertyKind::CommodityHousing, date(2013, 1, 1), false, true), Verdict::NormalExit),
        ];
        for (property, verdict) in table {
            let facts = HouseholdFacts { urban_properties: vec![property], ..registered_2015() };
            assert_eq!(verdicts(&facts), vec![(RemovalReason::UrbanProperty, verdict)], "{property:?}");
        }
        let business = |registered, operating, as_exit_measure| Business { registered, operating, as_exit_measure };
        let table = [
            (business(date(2016, 5, 1), true, true), Some(Verdict::NormalExit)),
            (business(date(2014, 5, 1), true, true), Some(Verdict::MisRegistration)),
            (business(date(2014, 5, 1), false, false), None),
        ];
        for (b, verdict) in table {
            let facts = HouseholdFacts { businesses: vec![b], ..registered_2015() };
            let expected: Vec<_> = verdict.map(|v| (RemovalReason::RegisteredBusiness, v)).into_iter().collect();
            assert_eq!(verdicts(&facts), expected, "{b:?}");
        }
    }

    #[test]
    fn reasons_without_exception_and_members_who_leave() {
        let facts = HouseholdFacts {
            hires_workers_long_term: true,
            split_or_merged_for_benefits: true,
            nominal_hukou: true,
            favouritism_or_falsification: true,
            members: vec![
                MemberFacts { name: "在户".into(), shares_budget_with_head: Some(true), ..Default::default() },
                MemberFacts { name: "已故".into(), deceased: true, ..Default::default() },
                MemberFacts { name: "失踪".into(), missing: true, ..Default::default() },
                MemberFacts { name: "另过".into(), shares_budget_with_head: Some(false), ..Default::default() },
            ],
            ..registered_2015()
        };
        let found = verdicts(&facts);
        let numbers: Vec<u8> = found.iter().map(|(r, _)| r.number()).collect();
        assert_eq!(numbers, [5, 7, 8, 9, 9, 9, 10]);
        assert!(found.iter().filter(|(r, _)| r.number() != 9).all(|(_, v)| *v == Verdict::MisRegistration));
        let leaving: Vec<Verdict> = found.iter().filter(|(r, _)| r.number() == 9).map(|(_, v)| *v).collect();
        assert_eq!(
            leaving,
            [
                Verdict::RemoveMember { member: 1, decrease: Some(DecreaseReason::Death) },
                Verdict::RemoveMember { member: 2, decrease: Some(DecreaseReason::Missing) },
                Verdict::RemoveMember { member: 3, decrease: None },
            ]
        );
    }

    #[test]
    fn the_eight_review_cases_of_000() {
        let table = [
            (
                HouseholdFacts { high_standard_renovation: true, ..Default::default() },
                ReviewFlag::UrbanHousingOrRenovation,
            ),
            (
                HouseholdFacts {
                    urban_properties: vec![UrbanProperty {
                        kind: UrbanPropertyKind::CommodityHousing,
                        acquired: None,
                        as_exit_measure: false,
                        relocation_resettlement: false,
                    }],
                    ..Default::default()
                },
                ReviewFlag::UrbanHousingOrRenovation,
            ),
            (HouseholdFacts { living_costs_clearly_high: true, ..Default::default() }, ReviewFlag::HighLivingCosts),
            (
                // Even a cheap, borrowed boat is a case to look at.
                HouseholdFacts {
                    vehicles: vec![Vehicle { kind: VehicleKind::Boat, borrowed: true, ..car(5_000, None, false) }],
                    ..Default::default()
                },
                ReviewFlag::VehiclesOrMachinery,
            ),
            (HouseholdFacts { hires_workers_long_term: true, ..Default::default() }, ReviewFlag::BusinessOrEmployer),
            (
                HouseholdFacts {
                    members: vec![MemberFacts { public_servant: Some(Post::default()), ..Default::default() }],
                    ..Default::default()
                },
                ReviewFlag::PublicEmployee,
            ),
            (HouseholdFacts { absent_unreachable: true, ..Default::default() }, ReviewFlag::AbsentNominalOrSplit),
            (HouseholdFacts { split_household: true, ..Default::default() }, ReviewFlag::AbsentNominalOrSplit),
            (HouseholdFacts { able_but_idle: true, ..Default::default() }, ReviewFlag::IdleAbleBodied),
            (HouseholdFacts { wedding_debt: true, ..Default::default() }, ReviewFlag::WeddingDebt),
        ];
        for (facts, flag) in table {
            assert_eq!(review_flags(&facts), vec![flag]);
        }
        assert!(review_flags(&HouseholdFacts::default()).is_empty());
        assert_eq!(ReviewFlag::ALL.len(), 8);
        assert_eq!(RemovalReason::ALL.iter().map(|r| r.number()).collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());
    }

    #[test]
    fn phones_get_the_same_lists() {
        use jingzhun_mobile_api::codes;
        let pairs = |table: &codes::CodeTable| table.codes.iter().map(|c| (c.code, c.label)).collect::<Vec<_>>();
        let removal: Vec<_> = RemovalReason::ALL.iter().map(|r| (r.code(), r.label())).collect();
        let review: Vec<_> = ReviewFlag::ALL.iter().map(|f| (f.code(), f.label())).collect();
        assert_eq!(pairs(&codes::REMOVAL_REASON), removal);
        assert_eq!(pairs(&codes::REVIEW_FLAG), review);
    }
}
