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
    /// 18-character resident ID number (GB 11643).
    IdNumber,
    Phone,
    /// 12-digit division code of a village.
    RegionCode,
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
    ],
};

pub static MEMBER: EntitySpec = EntitySpec {
    name: "member",
    table: "member",
    deletable: false,
    fields: &[
        f("household_id", "所属户", K::Uuid, P::CreateOnly, true),
        f("name", "姓名", K::Text { max_chars: 50 }, P::Lww, true),
        f("sex", "性别", K::Code { table: "sex" }, P::Lww, true),
        f("id_number", "身份证号码", K::IdNumber, P::Manual, true),
        f("relation", "与户主关系", K::Code { table: "relation" }, P::Manual, true),
        f("health", "健康状况", K::Code { table: "health" }, P::Lww, false),
        f("phone", "联系电话", K::Phone, P::Lww, false),
        f("active", "在户", K::Bool, P::ReadOnly, false),
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
        f("pension", "其中：基本养老金", K::Money, P::Manual, false),
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
pub static ENTITIES: &[&EntitySpec] =
    &[&HOUSEHOLD, &MEMBER, &INCOME, &HELP_MEASURE, &HELP_PLAN, &PLAN_TASK, &VISIT_LOG, &CASE];

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
    }
}
