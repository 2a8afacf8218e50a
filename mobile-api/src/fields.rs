//! The field catalogue: every record a phone syncs, its fields, their types and merge
//! policies (DESIGN §5).
//!
//! The server derives its sync SQL and validation from this catalogue, so a field is
//! added in one place. Field names are the database column names.

use crate::codes::{self, CodeTable};
use serde::Serialize;

/// What a field holds; decides validation and storage.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    Text {
        max_chars: usize,
    },
    Int {
        min: i64,
        max: i64,
    },
    /// Yuan on the wire (at most two decimals); stored as whole fen.
    Money,
    /// A non-negative quantity with at most two decimals (areas in mu or m², distances
    /// in km), at most `max` whole units; stored as whole hundredths, like `Money`.
    Decimal {
        max: i64,
    },
    Bool,
    /// `YYYY-MM-DD`.
    Date,
    Uuid,
    UuidList {
        max: usize,
    },
    Code {
        table: &'static str,
    },
    Codes {
        table: &'static str,
        max: usize,
    },
    /// 18-character resident ID number (GB 11643), or a 20-character 残疾人证 number
    /// (the ID number, category, grade); empty is no number.
    IdNumber,
    Phone,
    /// 12-digit division code of a village.
    RegionCode,
    /// A bank account number (银行账号): write-only personal data. Stored in full for
    /// payments; every output shows only its last four digits.
    BankAccount,
}

impl FieldKind {
    /// Whether the stored value is never sent out in full.
    pub fn is_masked(self) -> bool {
        matches!(self, FieldKind::BankAccount)
    }
}

/// How concurrent edits of a field merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The later arrival wins; the loser stays in the audit log.
    Lww,
    /// Sensitive: the server value stays and a conflict is opened.
    Manual,
    /// Set when the record is created, never changed from a phone afterwards.
    CreateOnly,
    /// Set by the server only (status fields, procedures).
    ReadOnly,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub policy: Policy,
    /// Must be present on create.
    pub required: bool,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct EntitySpec {
    /// The name on the wire (`entity` in a change).
    pub name: &'static str,
    /// The table that stores it.
    pub table: &'static str,
    pub fields: &'static [FieldSpec],
    /// Phones may delete it (otherwise removal goes through a procedure).
    pub deletable: bool,
}

impl EntitySpec {
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }
    /// Whether the record hangs off a household (every entity but `household`).
    pub fn is_household(&self) -> bool {
        self.name == HOUSEHOLD.name
    }
}

pub fn code_table(name: &str) -> Option<&'static CodeTable> {
    codes::ALL.iter().copied().find(|t| t.name == name)
}

const fn f(name: &'static str, label: &'static str, kind: FieldKind, policy: Policy, required: bool) -> FieldSpec {
    FieldSpec { name, label, kind, policy, required }
}

use FieldKind as K;
use Policy as P;

pub static HOUSEHOLD: EntitySpec = EntitySpec {
    name: "household",
    table: "household",
    deletable: false,
    fields: &[
        f("region_code", "所在村", K::RegionCode, P::CreateOnly, true),
        f("address", "住址", K::Text { max_chars: 200 }, P::Lww, false),
        f("phone", "联系电话", K::Phone, P::Lww, false),
        f("standard", "识别标准", K::Code { table: "standard" }, P::Manual, true),
        f("kind", "贫困户属性", K::Code { table: "kind" }, P::Manual, true),
        f("status", "户状态", K::Code { table: "household_status" }, P::ReadOnly, false),
        f("poverty_causes", "致贫原因", K::Codes { table: "poverty_cause", max: 3 }, P::Lww, false),
        f("food_clothing_secure", "不愁吃穿", K::Bool, P::Manual, false),
        f("education_secure", "义务教育有保障", K::Bool, P::Manual, false),
        f("medical_secure", "基本医疗有保障", K::Bool, P::Manual, false),
        f("housing_secure", "住房安全有保障", K::Bool, P::Manual, false),
        f("water_secure", "饮水安全有保障", K::Bool, P::Manual, false),
        f("planned_exit_year", "计划脱贫年度", K::Int { min: 2014, max: 2100 }, P::Lww, false),
        // 003 §五(二) 两不退: facts an exit is refused on, found at the home visit. Manual
        // like the guarantees: two officers disagreeing on one must not be settled by
        // whichever phone synced last. `relocation_moved_in` is read only for a household
        // with an 易地扶贫搬迁 measure; for any other it is kept but decides nothing.
        f("long_term_stable_income", "有长期稳定收入来源", K::Bool, P::Manual, false),
        f("help_effective", "帮扶成效显著", K::Bool, P::Manual, false),
        f("relocation_moved_in", "易地搬迁已入住", K::Bool, P::Manual, false),
        // 004 附件2 一、基础信息.
        f("natural_village", "自然村（村民小组）", K::Text { max_chars: 50 }, P::Lww, false),
        f("bank_name", "开户银行", K::Text { max_chars: 100 }, P::Lww, false),
        // Lww, never manual: a conflict would carry the full number to phones and supervisors.
        f("bank_account", "银行账号", K::BankAccount, P::Lww, false),
        f("military_family", "军烈属", K::Bool, P::Lww, false),
        f("consumption_assistance", "参与消费扶贫", K::Bool, P::Lww, false),
        f("order_farming", "参加订单农业", K::Bool, P::Lww, false),
        // 004 附件2 五、生产生活条件 (A33–A48). A44 是否解决安全饮用水 is `water_secure`
        // above: one fact, one field, with the guarantees' manual policy.
        f("farmland_area", "耕地面积（亩）", K::Decimal { max: AREA_MAX_MU }, P::Lww, false),
        f("grassland_area", "牧草地面积（亩）", K::Decimal { max: AREA_MAX_MU }, P::Lww, false),
        f("water_surface_area", "水面面积（亩）", K::Decimal { max: AREA_MAX_MU }, P::Lww, false),
        f("forest_area", "林地面积（亩）", K::Decimal { max: AREA_MAX_MU }, P::Lww, false),
        f("returned_forest_area", "退耕还林面积（亩）", K::Decimal { max: AREA_MAX_MU }, P::Lww, false),
        f("orchard_area", "林果面积（亩）", K::Decimal { max: AREA_MAX_MU }, P::Lww, false),
        f("access_road", "入户路类型", K::Code { table: "access_road" }, P::Lww, false),
        f("main_road_distance", "与村主干路距离（公里）", K::Decimal { max: 1000 }, P::Lww, false),
        f("cooperative_member", "是否加入农民专业合作组织", K::Bool, P::Lww, false),
        f("housing_grade", "危房等级", K::Code { table: "housing_grade" }, P::Lww, false),
        f("housing_area", "住房面积（平方米）", K::Decimal { max: 10_000 }, P::Lww, false),
        f("has_electricity", "是否通生活用电", K::Bool, P::Lww, false),
        f("has_sanitary_toilet", "是否有卫生厕所", K::Bool, P::Lww, false),
        f("main_fuel", "主要燃料类型", K::Code { table: "fuel" }, P::Lww, false),
        f("leading_enterprise", "是否有龙头企业带动", K::Bool, P::Lww, false),
        f("entrepreneur_led", "是否有创业致富带头人带动", K::Bool, P::Lww, false),
        f("has_radio_tv", "是否通广播电视", K::Bool, P::Lww, false),
        // 001 §一: identified but not yet in the national system (系统外人员), kept on
        // paper and listed quarterly with the reason.
        f("outside_national_system", "系统外人员", K::Bool, P::Lww, false),
        f("outside_reason", "系统外管理原因", K::Text { max_chars: 200 }, P::Lww, false),
        // 002 §二(一): 有义务教育阶段外就读学生且经济负担较重 — the burden is the officer's
        // judgment; the student outside compulsory education is the member's school status.
        f("schooling_burden_heavy", "义务教育阶段外就读学生经济负担较重", K::Bool, P::Manual, false),
        // 004 §一(四): risks beside the poverty causes; 突发事件 has no cause of its own.
        f("risks", "致贫返贫风险", K::Codes { table: "risk", max: 4 }, P::Lww, false),
        // 001 §三: the officer's tick of the 脱贫主导帮扶措施类别 (R6 only suggests one).
        f("main_measure", "脱贫主导帮扶措施类别", K::Code { table: "main_measure" }, P::Lww, false),
        // 002 §二(二) 5, 7, 8, 10 (no exception) and 000 §四(一)'s review cases: found at the
        // home visit or by the village assessment. Manual like the guarantees: a removal or
        // a review flag must not turn on whichever phone synced last.
        f("hires_workers_long_term", "长期雇佣他人从事生产经营活动", K::Bool, P::Manual, false),
        f("split_or_merged_for_benefits", "为享受扶贫支持故意分户、并户", K::Bool, P::Manual, false),
        f("nominal_hukou", "空挂户", K::Bool, P::Manual, false),
        f("favouritism_or_falsification", "优亲厚友、弄虚作假、徇私舞弊、信息失真", K::Bool, P::Manual, false),
        f("high_standard_renovation", "高标准装修现有住房", K::Bool, P::Manual, false),
        f("living_costs_clearly_high", "月水电燃料费、通讯费明显高于当地非贫困户", K::Bool, P::Manual, false),
        f("absent_unreachable", "户在人不在、常年联系不上", K::Bool, P::Manual, false),
        f("split_household", "拆户、分户", K::Bool, P::Manual, false),
        f("able_but_idle", "有劳动能力、好吃懒做", K::Bool, P::Manual, false),
        f("wedding_debt", "举债为儿女操办婚礼致贫", K::Bool, P::Manual, false),
    ],
};

/// Largest land or water area of one household, in mu: far above any family holding
/// (herders' grassland included), low enough to catch a misplaced decimal point.
const AREA_MAX_MU: i64 = 100_000;

pub static MEMBER: EntitySpec = EntitySpec {
    name: "member",
    table: "member",
    deletable: false,
    fields: &[
        f("household_id", "所属户", K::Uuid, P::CreateOnly, true),
        f("name", "姓名", K::Text { max_chars: 50 }, P::Lww, true),
        f("sex", "性别", K::Code { table: "sex" }, P::Lww, true),
        // Not required: a person without a document (001 附件1 note 3) is recorded with
        // id_type 无证件 and a reason instead; `validate::member_identity` decides.
        f("id_number", "身份证号码", K::IdNumber, P::Manual, false),
        f("relation", "与户主关系", K::Code { table: "relation" }, P::Manual, true),
        f("health", "健康状况", K::Code { table: "health" }, P::Lww, false),
        f("phone", "联系电话", K::Phone, P::Lww, false),
        f("active", "在户", K::Bool, P::ReadOnly, false),
        // The rest of 004 附件2 二、家庭成员信息 (A3, A6–A9, A11–A21, A51) and 附件3.
        f("id_type", "证件类型", K::Code { table: "id_type" }, P::Lww, false),
        f("no_id_reason", "无证件原因", K::Text { max_chars: 100 }, P::Lww, false),
        f("ethnicity", "民族", K::Code { table: "ethnicity" }, P::Lww, false),
        f("political_status", "政治面貌", K::Code { table: "political_status" }, P::Lww, false),
        f("education", "文化程度", K::Code { table: "education" }, P::Lww, false),
        f("school_status", "在校生状况", K::Code { table: "school_status" }, P::Lww, false),
        f("labour_skill", "劳动技能", K::Code { table: "labour_skill" }, P::Lww, false),
        f("work_area", "务工区域", K::Code { table: "work_area" }, P::Lww, false),
        f("work_months", "务工时间（月）", K::Int { min: 0, max: 12 }, P::Lww, false),
        f("dropout_reason", "失学或辍学原因", K::Code { table: "dropout_reason" }, P::Lww, false),
        f("speaks_mandarin", "是否会讲普通话", K::Bool, P::Lww, false),
        f("pension_insured", "是否参加城乡居民基本养老保险", K::Bool, P::Lww, false),
        f("medical_insured", "是否参加城乡居民基本医疗保险", K::Bool, P::Lww, false),
        f("critical_illness_insured", "是否参加大病保险", K::Bool, P::Lww, false),
        f("dibao_recipient", "是否享受农村居民最低生活保障", K::Bool, P::Lww, false),
        f("commercial_medical_insured", "是否参加商业补充医疗保险", K::Bool, P::Lww, false),
        f("accident_insurance_subsidy", "是否享受人身意外保险补贴", K::Bool, P::Lww, false),
        f("medical_assistance", "是否接受医疗救助", K::Bool, P::Lww, false),
        f("work_place", "务工地点", K::Text { max_chars: 100 }, P::Lww, false),
        f("employer", "务工企业名称", K::Text { max_chars: 100 }, P::Lww, false),
        f("industry", "所属行业", K::Code { table: "industry" }, P::Lww, false),
        f("employment_channel", "就业渠道", K::Code { table: "employment_channel" }, P::Lww, false),
        // 002 §二(二) 1, 2 and 9, about a person. The dates decide 002's exception
        // "建档立卡后有家庭成员考入财政供养系列的，不认定为错评" (and the same for a cadre).
        f("public_servant", "在岗在编财政供养人员", K::Bool, P::Manual, false),
        f("public_servant_since", "考入财政供养系列日期", K::Date, P::Manual, false),
        f("village_cadre", "现任村三委干部", K::Bool, P::Manual, false),
        f("village_cadre_since", "任村三委干部日期", K::Date, P::Manual, false),
        f("deceased", "死亡", K::Bool, P::Manual, false),
        f("missing", "失踪", K::Bool, P::Manual, false),
        f("shares_budget_with_head", "与户主共享开支或收入", K::Bool, P::Manual, false),
    ],
};

pub static INCOME: EntitySpec = EntitySpec {
    name: "income",
    table: "income_record",
    deletable: false,
    fields: &[
        f("household_id", "所属户", K::Uuid, P::CreateOnly, true),
        f("year", "年度", K::Int { min: 2014, max: 2100 }, P::CreateOnly, true),
        f("wage", "工资性收入", K::Money, P::Manual, false),
        f("business", "生产经营性收入", K::Money, P::Manual, false),
        f("property", "财产性收入", K::Money, P::Manual, false),
        f("transfer", "转移性收入", K::Money, P::Manual, false),
        f("business_expense", "生产经营性支出", K::Money, P::Manual, false),
        // A29d 养老保险金, part of `transfer`; the name predates the form's sub-items.
        f("pension", "其中：基本养老金", K::Money, P::Manual, false),
        // The other parts of A29 转移性收入 and A31 财产性收入: never added to the totals again.
        f("family_planning", "其中：计划生育金", K::Money, P::Manual, false),
        f("dibao", "其中：低保金", K::Money, P::Manual, false),
        f("wubao", "其中：特困供养金", K::Money, P::Manual, false),
        f("ecological_compensation", "其中：生态补偿金", K::Money, P::Manual, false),
        f("other_transfer", "其中：其他转移性收入", K::Money, P::Manual, false),
        f("asset_dividend", "其中：资产收益扶贫分红收入", K::Money, P::Manual, false),
        f("other_property", "其中：其他财产性收入", K::Money, P::Manual, false),
        // 001 附件2: parts of `wage` and `business` the main-measure categories 2, 4 and 5 read.
        f("ecological_post_wage", "其中：生态公益性岗位工资", K::Money, P::Manual, false),
        f("educated_member_wage", "其中：受教育帮扶成员工资性收入", K::Money, P::Manual, false),
        f("educated_member_business", "其中：受教育帮扶成员生产经营性收入", K::Money, P::Manual, false),
        // 000 §四(一) 刚性支出, recorded "作为贫困状况综合评定的重要依据", never subtracted.
        f("education_expense", "教育支出（扣除教育补助）", K::Money, P::Manual, false),
        f("medical_expense", "医疗支出（扣除新农合报销）", K::Money, P::Manual, false),
        // 000 五步识别法 三算: 债务. Recorded for the assessment; no rule subtracts it.
        f("debt", "债务", K::Money, P::Manual, false),
    ],
};

// Things a household owns that 002 §二(二) 3, 4 and 6 and 000 §四(一) 一, 三, 四 ask
// about, one record each: a household may have several, each with the date that decides
// 002's exception "建档立卡后…作为脱贫措施的，不认定为错评". Whether it served as the exit
// measure is required: left blank, the removal rule would have to guess.

pub static VEHICLE: EntitySpec = EntitySpec {
    name: "vehicle",
    table: "household_vehicle",
    deletable: true,
    fields: &[
        f("household_id", "所属户", K::Uuid, P::CreateOnly, true),
        f("kind", "车辆机械类型", K::Code { table: "vehicle_kind" }, P::Lww, true),
        f("price", "价格（元）", K::Money, P::Manual, true),
        // 000 counts 使用 as well; 002 removes only for 拥有.
        f("owned", "归本户所有（否：仅使用）", K::Bool, P::Manual, true),
        f("acquired_on", "购买日期", K::Date, P::Manual, false),
        f("as_exit_measure", "作为脱贫措施", K::Bool, P::Manual, true),
        f("note", "说明", K::Text { max_chars: 200 }, P::Lww, false),
    ],
};

pub static URBAN_PROPERTY: EntitySpec = EntitySpec {
    name: "urban_property",
    table: "household_urban_property",
    deletable: true,
    fields: &[
        f("household_id", "所属户", K::Uuid, P::CreateOnly, true),
        f("kind", "城镇房产类型", K::Code { table: "urban_property_kind" }, P::Lww, true),
        f("acquired_on", "购买或建成日期", K::Date, P::Manual, false),
        f("as_exit_measure", "作为脱贫措施", K::Bool, P::Manual, true),
        f("relocation_resettlement", "易地搬迁进城安置", K::Bool, P::Manual, true),
        f("note", "说明", K::Text { max_chars: 200 }, P::Lww, false),
    ],
};

pub static BUSINESS: EntitySpec = EntitySpec {
    name: "business",
    table: "household_business",
    deletable: true,
    fields: &[
        f("household_id", "所属户", K::Uuid, P::CreateOnly, true),
        f("name", "经营实体名称", K::Text { max_chars: 100 }, P::Lww, false),
        f("registered_on", "工商注册登记或入股日期", K::Date, P::Manual, false),
        f("operating", "实际开展经营活动", K::Bool, P::Manual, true),
        f("as_exit_measure", "作为脱贫措施", K::Bool, P::Manual, true),
    ],
};

pub static HELP_MEASURE: EntitySpec = EntitySpec {
    name: "help_measure",
    table: "help_measure",
    deletable: true,
    fields: &[
        f("household_id", "所属户", K::Uuid, P::CreateOnly, true),
        f("category", "措施类别", K::Code { table: "main_measure" }, P::Lww, true),
        f("name", "措施名称", K::Text { max_chars: 200 }, P::Lww, true),
        f("year", "年度", K::Int { min: 2014, max: 2100 }, P::Lww, false),
        f("start_date", "实施时间", K::Date, P::Lww, false),
        f("project_name", "项目名称", K::Text { max_chars: 200 }, P::Lww, false),
        f("scale", "项目规模", K::Text { max_chars: 200 }, P::Lww, false),
        f("funds", "资金（元）", K::Money, P::Lww, false),
    ],
};

pub static HELP_PLAN: EntitySpec = EntitySpec {
    name: "help_plan",
    table: "help_plan",
    deletable: false,
    fields: &[
        f("household_id", "所属户", K::Uuid, P::CreateOnly, true),
        f("year", "年度", K::Int { min: 2014, max: 2100 }, P::Lww, true),
        f("goal", "帮扶目标", K::Text { max_chars: 1000 }, P::Lww, false),
        f("planned_income", "计划人均纯收入", K::Money, P::Lww, false),
        // 001 附件1 帮扶成效: what the year's help achieved, in the officer's words.
        f("outcome_note", "帮扶成效", K::Text { max_chars: 2000 }, P::Lww, false),
    ],
};

pub static PLAN_TASK: EntitySpec = EntitySpec {
    name: "plan_task",
    table: "plan_task",
    deletable: true,
    fields: &[
        f("household_id", "所属户", K::Uuid, P::CreateOnly, true),
        f("plan_id", "帮扶计划", K::Uuid, P::CreateOnly, true),
        f("title", "任务", K::Text { max_chars: 200 }, P::Lww, true),
        f("due_date", "完成期限", K::Date, P::Lww, true),
        f("officer_id", "责任人", K::Uuid, P::Lww, false),
        f("done", "已完成", K::Bool, P::Lww, false),
        f("progress_note", "进展", K::Text { max_chars: 2000 }, P::Lww, false),
        // Photos or documents proving the task done (uploaded through `/attachments`).
        f("evidence_ids", "佐证材料", K::UuidList { max: 20 }, P::Lww, false),
        f("done_on", "完成日期", K::Date, P::Lww, false),
    ],
};

pub static VISIT_LOG: EntitySpec = EntitySpec {
    name: "visit_log",
    table: "visit_log",
    deletable: true,
    fields: &[
        f("household_id", "所属户", K::Uuid, P::CreateOnly, true),
        f("visited_on", "走访日期", K::Date, P::Lww, true),
        f("note", "走访记录", K::Text { max_chars: 4000 }, P::Lww, false),
        f("attachment_ids", "照片", K::UuidList { max: 20 }, P::Lww, false),
        f("officer_id", "走访人", K::Uuid, P::ReadOnly, false),
    ],
};

/// A procedure case (C4). Phones file applications, member changes and relapse reports
/// by creating one; its progress (`status`, `step`) moves only by sign-offs on the server.
pub static CASE: EntitySpec = EntitySpec {
    name: "case",
    table: "procedure_case",
    deletable: false,
    fields: &[
        f("household_id", "所属户", K::Uuid, P::CreateOnly, true),
        f("kind", "程序类型", K::Code { table: "case_kind" }, P::CreateOnly, true),
        // Removal reason (R4), relapse cause, or member increase/decrease reason (R7).
        f("reason", "原因", K::Text { max_chars: 50 }, P::CreateOnly, false),
        // The member a member change concerns.
        f("member_id", "涉及成员", K::Uuid, P::CreateOnly, false),
        f("note", "说明", K::Text { max_chars: 2000 }, P::Lww, false),
        f("status", "程序状态", K::Code { table: "case_status" }, P::ReadOnly, false),
        f("step", "当前环节", K::Code { table: "case_step" }, P::ReadOnly, false),
        f("opened_by", "申请人", K::Uuid, P::ReadOnly, false),
    ],
};

/// Every synced entity, parents before children: the order a phone's outbox and the
/// server's whole-household delivery both follow.
pub static ENTITIES: &[&EntitySpec] = &[
    &HOUSEHOLD,
    &MEMBER,
    &INCOME,
    &HELP_MEASURE,
    &HELP_PLAN,
    &PLAN_TASK,
    &VISIT_LOG,
    &CASE,
    &VEHICLE,
    &URBAN_PROPERTY,
    &BUSINESS,
];

pub fn entity(name: &str) -> Option<&'static EntitySpec> {
    ENTITIES.iter().copied().find(|e| e.name == name)
}

/// Pull-only entities: sent to phones, never pushed.
pub const CONFLICT_ENTITY: &str = "conflict";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_coded_field_names_a_known_table() {
        for e in ENTITIES {
            for field in e.fields {
                match field.kind {
                    FieldKind::Code { table } | FieldKind::Codes { table, .. } => {
                        assert!(code_table(table).is_some(), "{}.{} names {table}", e.name, field.name)
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn children_hang_off_a_household() {
        for e in ENTITIES.iter().filter(|e| !e.is_household()) {
            let hid = e.field("household_id").expect("household_id");
            assert_eq!(hid.policy, Policy::CreateOnly, "{}", e.name);
            assert!(hid.required);
        }
    }

    #[test]
    fn the_contract_names_sensitive_fields_manual() {
        for (e, name) in [(&HOUSEHOLD, "kind"), (&MEMBER, "id_number"), (&MEMBER, "relation"), (&INCOME, "wage")] {
            assert_eq!(e.field(name).expect(name).policy, Policy::Manual);
        }
        assert_eq!(HOUSEHOLD.field("status").expect("status").policy, Policy::ReadOnly);
        // Income is sensitive, its sub-items too (A29a–f, A31a–b).
        for field in INCOME.fields.iter().filter(|f| matches!(f.kind, FieldKind::Money)) {
            assert_eq!(field.policy, Policy::Manual, "income.{}", field.name);
        }
    }

    #[test]
    fn field_names_are_unique_within_each_entity() {
        for e in ENTITIES {
            let mut seen = std::collections::HashSet::new();
            for field in e.fields {
                assert!(seen.insert(field.name), "{} repeats {}", e.name, field.name);
            }
        }
    }

    #[test]
    fn masked_fields_never_open_conflicts() {
        // A conflict carries base, server and client values to phones and supervisors, and
        // a resolution writes one of them back: neither may be a bank account.
        let masked: Vec<_> = ENTITIES.iter().flat_map(|e| e.fields).filter(|f| f.kind.is_masked()).collect();
        assert_eq!(masked.iter().map(|f| f.name).collect::<Vec<_>>(), ["bank_account"]);
        for field in masked {
            assert_eq!(field.policy, Policy::Lww, "{}", field.name);
        }
    }
}
