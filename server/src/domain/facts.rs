//! The facts the rules read: one snapshot of a household, its members and one year's
//! income, as plain data.
//!
//! Field meanings follow the collection forms: 003 附件2 (贫困户信息采集表), 004 附件2
//! (A1–A51), 001 附件1 (the household register sample), and the facts that 000 §四(一)
//! and 002 §二(二) ask to be checked. Codes are those of `mobile-api` `codes.rs`.
//!
//! What this module must never do: decide anything. It has no rules, only data and the
//! code ↔ enum mapping. An unrecorded fact is `None` (for example a guarantee nobody
//! has checked), never a default `true`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Declares an enum whose variants are codes of a code table, with their labels.
macro_rules! coded {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $code:literal, $label:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant, )*
        }

        impl $name {
            /// Every value, in the order of the form.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),* ];

            /// The code as stored and sent on the wire.
            pub fn code(self) -> &'static str {
                match self { $( $name::$variant => $code, )* }
            }

            /// The label the form prints.
            pub fn label(self) -> &'static str {
                match self { $( $name::$variant => $label, )* }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $( $code => Some($name::$variant), )* _ => None }
            }
        }
    };
}
pub(crate) use coded;

coded! {
    /// 识别标准 (001 §一, 003 附件2, 004 A23).
    Standard {
        National => "national", "国家";
        Provincial => "provincial", "省定";
        Municipal => "municipal", "市定";
    }
}

coded! {
    /// 贫困户属性 (003 附件2, 004 A24).
    Kind {
        General => "general", "一般贫困户";
        Dibao => "dibao", "低保贫困户";
        /// 五保 / 特困供养.
        Wubao => "wubao", "特困供养贫困户";
    }
}

coded! {
    /// Where the household stands; moved only by procedures (DESIGN C4).
    HouseholdStatus {
        Applicant => "applicant", "申请中";
        Registered => "registered", "在档贫困户";
        PreExit => "pre_exit", "预退出";
        Exited => "exited", "已脱贫";
        Removed => "removed", "已清除";
        Rejected => "rejected", "未通过识别";
    }
}

coded! {
    /// 致贫原因 (004 A27a–c).
    PovertyCause {
        Illness => "illness", "因病";
        Disability => "disability", "因残";
        Schooling => "schooling", "因学";
        Disaster => "disaster", "因灾";
        Marriage => "marriage", "因婚";
        Funeral => "funeral", "因丧";
        LackOfLand => "lack_of_land", "缺土地";
        LackOfWater => "lack_of_water", "缺水";
        LackOfSkills => "lack_of_skills", "缺技术";
        LackOfLabour => "lack_of_labour", "缺劳动力";
        LackOfFunds => "lack_of_funds", "缺资金";
        PoorTransport => "poor_transport", "交通条件落后";
        LackOfMotivation => "lack_of_motivation", "自身发展动力不足";
    }
}

coded! {
    /// 返贫原因 (003 附件2 §四, 单选): asked of a household that falls back after exit.
    RelapseCause {
        Illness => "illness", "因病";
        Disability => "disability", "因残";
        Schooling => "schooling", "因学";
        Disaster => "disaster", "因灾";
        Marriage => "marriage", "因婚";
        LackOfLand => "lack_of_land", "缺土地";
        LackOfWater => "lack_of_water", "缺水";
        LackOfSkills => "lack_of_skills", "缺技术";
        LackOfLabour => "lack_of_labour", "缺劳动力";
        LackOfFunds => "lack_of_funds", "缺资金";
        Market => "market", "市场原因";
        ProjectFailure => "project_failure", "产业项目失败";
    }
}

coded! {
    /// A2 性别.
    Sex {
        Male => "male", "男";
        Female => "female", "女";
    }
}

coded! {
    /// A5 与户主关系.
    Relation {
        Head => "head", "户主";
        Spouse => "spouse", "配偶";
        Son => "son", "之子";
        Daughter => "daughter", "之女";
        DaughterInLaw => "daughter_in_law", "之儿媳";
        SonInLaw => "son_in_law", "之女婿";
        Grandson => "grandson", "之孙子";
        Granddaughter => "granddaughter", "之孙女";
        GrandchildMaternal => "grandchild_maternal", "之外孙子女";
        Father => "father", "之父";
        Mother => "mother", "之母";
        ParentInLaw => "parent_in_law", "之岳父母或公婆";
        Grandparent => "grandparent", "之祖父母";
        Sibling => "sibling", "之兄弟姐妹";
        Other => "other", "其他";
    }
}

coded! {
    /// A10 健康状况. Personal data: never on a public page.
    Health {
        Healthy => "healthy", "健康";
        ChronicIllness => "chronic_illness", "长期慢性病";
        /// 患有大病; 002 §二(一) 重病 (the 45 key and 48 secondary diseases).
        SeriousIllness => "serious_illness", "患有大病";
        Disabled => "disabled", "残疾";
    }
}

coded! {
    /// A9 在校生状况, grouped by what the rules ask: inside or outside compulsory education.
    SchoolStage {
        Preschool => "preschool", "学前教育";
        Primary => "primary", "小学";
        JuniorSecondary => "junior_secondary", "初中";
        SeniorSecondary => "senior_secondary", "普通高中";
        Vocational => "vocational", "中职/高职";
        Tertiary => "tertiary", "大专及以上";
    }
}

impl SchoolStage {
    /// 义务教育阶段: primary and junior secondary school.
    pub fn is_compulsory(self) -> bool {
        matches!(self, SchoolStage::Primary | SchoolStage::JuniorSecondary)
    }
}

coded! {
    /// A40 危房等级 (the four housing safety grades; C and D are dangerous houses), and
    /// 无: the officer found no dangerous house. That is an answer, not a gap: 002 §二(一)
    /// "居住C级、D级危房" is then *not* met, where an unrecorded grade leaves it unknown.
    HousingGrade {
        NoDangerousHouse => "none", "无";
        A => "a", "A级";
        B => "b", "B级";
        C => "c", "C级";
        D => "d", "D级";
    }
}

impl HousingGrade {
    /// 002 §二(一): 居住C级、D级危房.
    pub fn is_dangerous(self) -> bool {
        matches!(self, HousingGrade::C | HousingGrade::D)
    }
}

coded! {
    /// A risk of falling (back) into poverty, as 004 §一(四) and §三(四) name them.
    Risk {
        Illness => "illness", "因病";
        Disaster => "disaster", "因灾";
        Schooling => "schooling", "因学";
        /// 意外变故 / 突发事件 (004 §一(一), §三(四)).
        Emergency => "emergency", "突发事件";
    }
}

coded! {
    /// What 000 §四(一) case 3 lists: 机动车辆、船舶、工程机械及大型农机具.
    VehicleKind {
        MotorVehicle => "motor_vehicle", "机动车";
        Boat => "boat", "船舶";
        ConstructionMachinery => "construction_machinery", "工程机械";
        LargeFarmMachinery => "large_farm_machinery", "大型农机具";
    }
}

coded! {
    /// 002 §二(二)4: 在城镇拥有自建房或购买商品房、门面房.
    UrbanPropertyKind {
        SelfBuilt => "self_built", "自建房";
        CommodityHousing => "commodity_housing", "商品房";
        Shopfront => "shopfront", "门面房";
    }
}

/// 两不愁三保障 plus safe drinking water (000 §三(四): 包括安全饮水).
///
/// Each is `None` until someone has checked it: unknown is not secure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guarantees {
    /// 不愁吃、不愁穿.
    pub food_clothing: Option<bool>,
    /// 义务教育有保障.
    pub education: Option<bool>,
    /// 基本医疗有保障.
    pub medical: Option<bool>,
    /// 住房安全有保障.
    pub housing: Option<bool>,
    /// 饮水安全有保障.
    pub water: Option<bool>,
}

coded! {
    /// One of the guarantees, named as the household record names its field.
    Guarantee {
        FoodClothing => "food_clothing_secure", "不愁吃穿";
        Education => "education_secure", "义务教育有保障";
        Medical => "medical_secure", "基本医疗有保障";
        Housing => "housing_secure", "住房安全有保障";
        Water => "water_secure", "饮水安全有保障";
    }
}

impl Guarantees {
    /// All five met.
    pub fn all_met() -> Self {
        let yes = Some(true);
        Guarantees { food_clothing: yes, education: yes, medical: yes, housing: yes, water: yes }
    }

    pub fn get(&self, guarantee: Guarantee) -> Option<bool> {
        match guarantee {
            Guarantee::FoodClothing => self.food_clothing,
            Guarantee::Education => self.education,
            Guarantee::Medical => self.medical,
            Guarantee::Housing => self.housing,
            Guarantee::Water => self.water,
        }
    }

    /// The guarantees recorded as not met.
    pub fn unmet(&self) -> Vec<Guarantee> {
        Guarantee::ALL.iter().copied().filter(|g| self.get(*g) == Some(false)).collect()
    }

    /// The guarantees nobody has recorded yet.
    pub fn unrecorded(&self) -> Vec<Guarantee> {
        Guarantee::ALL.iter().copied().filter(|g| self.get(*g).is_none()).collect()
    }
}

/// One year's income of a household, in whole fen, as the form's A28–A32 record it.
///
/// The "of which" fields are parts of a total above them and are never added to it
/// again: `pension`, `dibao`, `wubao` and `ecological_compensation` lie within
/// `transfer` (004 A29a–f), `ecological_post_wage` within `wage` (001 附件2),
/// `educated_member_*` within `wage` and `business`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeFacts {
    /// A28 工资性收入.
    pub wage: i64,
    /// Of which: from ecological protection public-welfare posts (生态保护公益性岗位, 001 附件2).
    pub ecological_post_wage: i64,
    /// A30 生产经营性收入.
    pub business: i64,
    /// A31 财产性收入.
    pub property: i64,
    /// A29 转移性收入.
    pub transfer: i64,
    /// Of which: A29b 低保金.
    pub dibao: i64,
    /// Of which: A29c 特困供养金 (五保金).
    pub wubao: i64,
    /// Of which: A29d 养老保险金 — the basic pension 000 §四(一) lets a region leave out.
    pub pension: i64,
    /// Of which: A29e 生态补偿金.
    pub ecological_compensation: i64,
    /// A32 生产经营性支出 (家庭经营费用、生产性固定资产折旧、税金和上交承包费用, 000 §四(一)).
    pub business_expense: i64,
    /// 刚性支出: education net of education subsidies (000 §四(一)); recorded, never subtracted.
    pub education_expense: i64,
    /// 刚性支出: medical net of 新农合 reimbursement (000 §四(一)); recorded, never subtracted.
    pub medical_expense: i64,
    /// Of `wage`: earned by the member who received education help (001 附件2 category 4).
    pub educated_member_wage: i64,
    /// Of `business`: earned by the member who received education help (001 附件2 category 4).
    pub educated_member_business: i64,
}

/// A post held by a member since a date (`None` when the date is not known).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub since: Option<NaiveDate>,
}

/// One member (A1–A21 of the 004 form, and what 002 §二(二) checks about a person).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFacts {
    /// A1 姓名.
    pub name: String,
    /// A2 性别.
    pub sex: Option<Sex>,
    /// A4 居民身份证(残疾人证)号码; `None` for a person without one (001 附件1 note 3).
    pub id_number: Option<String>,
    /// Why a person without a number has none (未报户口), when recorded.
    pub no_id_reason: Option<String>,
    /// A5 与户主关系.
    pub relation: Option<Relation>,
    /// A10 健康状况.
    pub health: Option<Health>,
    /// A9 在校生.
    pub is_student: bool,
    /// A9 stage, when known.
    pub school_stage: Option<SchoolStage>,
    /// Age as recorded on the form (001 附件1 年龄).
    pub age: Option<u32>,
    /// 在岗在编财政供养人员 (002 §二(二)1; 000 §四(一) case 5).
    pub public_servant: Option<Post>,
    /// 现任“村三委”干部 (002 §二(二)2).
    pub village_cadre: Option<Post>,
    /// 死亡人员 (002 §二(二)9).
    pub deceased: bool,
    /// 失踪人员 (002 §二(二)9).
    pub missing: bool,
    /// Shares expenses or income with the head (002 §二(二)9: 与户主不共享开支或收入的人员).
    pub shares_budget_with_head: Option<bool>,
}

/// A vehicle, boat or machine the household owns or uses (000 §四(一) case 3; 002 §二(二)3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vehicle {
    pub kind: VehicleKind,
    /// Price (价格), fen.
    pub value_fen: i64,
    pub acquired: Option<NaiveDate>,
    /// Bought as the household's exit measure (作为脱贫措施).
    pub as_exit_measure: bool,
    /// Used but not owned (000 counts 使用; 002 only 拥有).
    pub borrowed: bool,
}

/// Property in a town (002 §二(二)4; 000 §四(一) case 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrbanProperty {
    pub kind: UrbanPropertyKind,
    pub acquired: Option<NaiveDate>,
    /// Bought as the household's exit measure (作为脱贫措施).
    pub as_exit_measure: bool,
    /// 易地搬迁进城安置户: resettled in town by a relocation project.
    pub relocation_resettlement: bool,
}

/// A business registration (工商注册登记) or shareholding (入股) of the household
/// (002 §二(二)6; 000 §四(一) case 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Business {
    pub registered: Option<NaiveDate>,
    /// 实际开展经营活动.
    pub operating: bool,
    /// Registered or joined as the household's exit measure (作为脱贫措施).
    pub as_exit_measure: bool,
}

/// Everything the rules read about one household.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdFacts {
    /// 12-digit division code of the village.
    pub region_code: String,
    /// Kept 系统外 (001 §一): identified but not (yet) in the national system.
    pub outside_national_system: bool,
    pub standard: Option<Standard>,
    pub kind: Option<Kind>,
    pub status: Option<HouseholdStatus>,
    /// When the household entered the register (建档立卡); decides 002's exceptions.
    pub registered_on: Option<NaiveDate>,
    /// A27a (the main cause) first, then A27b and A27c.
    pub poverty_causes: Vec<PovertyCause>,
    pub guarantees: Guarantees,
    /// A40 危房等级.
    pub housing_grade: Option<HousingGrade>,
    /// 002 §二(一): a student outside compulsory education is a heavy economic burden (经济负担较重).
    pub schooling_burden_heavy: Option<bool>,
    pub members: Vec<MemberFacts>,
    /// 家庭常住人口数 (000 §四(一)).
    pub resident_members: u32,
    /// This year's income.
    pub income: IncomeFacts,
    /// Risks recorded by the officer (004 §一(四)).
    pub risks: Vec<Risk>,
    /// Has a long-term stable income source (003 §一(一)1 稳定超过; §五(二) 长期稳定收入来源).
    pub long_term_stable_income: Option<bool>,
    /// Help has had a clear effect (003 §五(二): 帮扶成效不显著 may not exit).
    pub help_effective: Option<bool>,
    /// Has an 易地扶贫搬迁 project (001 附件2; 003 §五(二)).
    pub has_relocation_project: bool,
    /// Moved into the relocation housing (003 §五(二): 易地搬迁未入住 may not exit).
    pub relocation_moved_in: Option<bool>,
    pub vehicles: Vec<Vehicle>,
    pub urban_properties: Vec<UrbanProperty>,
    pub businesses: Vec<Business>,
    /// 长期雇佣他人从事生产经营活动 (002 §二(二)5; 000 §四(一) case 4).
    pub hires_workers_long_term: bool,
    /// Found to have split or merged on purpose to get support, without meeting the
    /// criteria (002 §二(二)7).
    pub split_or_merged_for_benefits: bool,
    /// 空挂户: hukou moved into the village for some gain, nobody living there (002 §二(二)8).
    pub nominal_hukou: bool,
    /// Found to be 优亲厚友、弄虚作假、徇私舞弊、信息失真 without meeting the criteria (002 §二(二)10).
    pub favouritism_or_falsification: bool,
    /// 高标准装修现有住房 (000 §四(一) case 1).
    pub high_standard_renovation: bool,
    /// 月水电燃料费、通讯费明显高于当地非贫困户 (000 §四(一) case 2).
    pub living_costs_clearly_high: bool,
    /// 户在人不在，常年联系不上 (000 §四(一) case 6).
    pub absent_unreachable: bool,
    /// 拆户、分户 (000 §四(一) case 6).
    pub split_household: bool,
    /// 家里有劳动能力、好吃懒做 (000 §四(一) case 7).
    pub able_but_idle: bool,
    /// 举债为儿女操办婚礼致贫 (000 §四(一) case 8).
    pub wedding_debt: bool,
}

impl HouseholdFacts {
    /// A27a, the main poverty cause.
    pub fn main_poverty_cause(&self) -> Option<PovertyCause> {
        self.poverty_causes.first().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jingzhun_mobile_api::codes::{self, CodeTable};

    fn mirrors<T: Copy>(
        table: &CodeTable,
        all: &[T],
        code: impl Fn(T) -> &'static str,
        label: impl Fn(T) -> &'static str,
    ) {
        let ours: Vec<(&str, &str)> = all.iter().map(|v| (code(*v), label(*v))).collect();
        let theirs: Vec<(&str, &str)> = table.codes.iter().map(|c| (c.code, c.label)).collect();
        assert_eq!(ours, theirs, "{} differs from the phone's code table", table.name);
    }

    #[test]
    fn enums_mirror_the_phone_code_tables() {
        mirrors(&codes::STANDARD, Standard::ALL, Standard::code, Standard::label);
        mirrors(&codes::KIND, Kind::ALL, Kind::code, Kind::label);
        mirrors(&codes::HOUSEHOLD_STATUS, HouseholdStatus::ALL, HouseholdStatus::code, HouseholdStatus::label);
        mirrors(&codes::POVERTY_CAUSE, PovertyCause::ALL, PovertyCause::code, PovertyCause::label);
        mirrors(&codes::SEX, Sex::ALL, Sex::code, Sex::label);
        mirrors(&codes::RELATION, Relation::ALL, Relation::code, Relation::label);
        mirrors(&codes::HEALTH, Health::ALL, Health::code, Health::label);
        mirrors(&codes::RELAPSE_CAUSE, RelapseCause::ALL, RelapseCause::code, RelapseCause::label);
        mirrors(&codes::HOUSING_GRADE, HousingGrade::ALL, HousingGrade::code, HousingGrade::label);
        mirrors(&codes::RISK, Risk::ALL, Risk::code, Risk::label);
        mirrors(&codes::VEHICLE_KIND, VehicleKind::ALL, VehicleKind::code, VehicleKind::label);
        mirrors(&codes::URBAN_PROPERTY_KIND, UrbanPropertyKind::ALL, UrbanPropertyKind::code, UrbanPropertyKind::label);
    }

    #[test]
    fn codes_round_trip_through_serde() {
        for cause in PovertyCause::ALL {
            assert_eq!(PovertyCause::from_code(cause.code()), Some(*cause));
            let json = serde_json::to_string(cause).expect("serialize");
            assert_eq!(json, format!("\"{}\"", cause.code()));
        }
        assert_eq!(Kind::from_code("低保"), None);
    }

    #[test]
    fn unrecorded_guarantees_are_neither_met_nor_unmet() {
        let g = Guarantees { housing: Some(false), water: Some(true), ..Default::default() };
        assert_eq!(g.unmet(), vec![Guarantee::Housing]);
        assert_eq!(g.unrecorded(), vec![Guarantee::FoodClothing, Guarantee::Education, Guarantee::Medical]);
        assert!(Guarantees::all_met().unmet().is_empty() && Guarantees::all_met().unrecorded().is_empty());
    }
}
