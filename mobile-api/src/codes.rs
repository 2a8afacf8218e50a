//! Code tables (代码表): the closed lists a coded field may take, with Chinese labels.
//!
//! Codes are English snake_case identifiers from the glossary; labels are what the
//! forms of the seeds print. Served to phones by `GET /schema`.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Code {
    pub code: &'static str,
    pub label: &'static str,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct CodeTable {
    pub name: &'static str,
    pub label: &'static str,
    pub codes: &'static [Code],
}

impl CodeTable {
    pub fn contains(&self, code: &str) -> bool {
        self.codes.iter().any(|c| c.code == code)
    }
    pub fn label_of(&self, code: &str) -> Option<&'static str> {
        self.codes.iter().find(|c| c.code == code).map(|c| c.label)
    }
}

macro_rules! table {
    ($ident:ident, $name:literal, $label:literal, [$( $code:literal => $lbl:literal ),* $(,)?]) => {
        pub static $ident: CodeTable = CodeTable {
            name: $name,
            label: $label,
            codes: &[ $( Code { code: $code, label: $lbl } ),* ],
        };
    };
}

table!(STANDARD, "standard", "识别标准", [
    "national" => "国家", "provincial" => "省定", "municipal" => "市定",
]);

table!(KIND, "kind", "贫困户属性", [
    "general" => "一般贫困户", "dibao" => "低保贫困户", "wubao" => "特困供养贫困户",
]);

// Household status moves only through procedures (C4); phones read it.
table!(HOUSEHOLD_STATUS, "household_status", "户状态", [
    "applicant" => "申请中",
    "registered" => "在档贫困户",
    "pre_exit" => "预退出",
    "exited" => "已脱贫",
    "removed" => "已清除",
    "rejected" => "未通过识别",
]);

// 004 A27a–c.
table!(POVERTY_CAUSE, "poverty_cause", "致贫原因", [
    "illness" => "因病", "disability" => "因残", "schooling" => "因学", "disaster" => "因灾",
    "marriage" => "因婚", "funeral" => "因丧", "lack_of_land" => "缺土地", "lack_of_water" => "缺水",
    "lack_of_skills" => "缺技术", "lack_of_labour" => "缺劳动力", "lack_of_funds" => "缺资金",
    "poor_transport" => "交通条件落后", "lack_of_motivation" => "自身发展动力不足",
]);

table!(SEX, "sex", "性别", ["male" => "男", "female" => "女"]);

// 004 A5 与户主关系.
table!(RELATION, "relation", "与户主关系", [
    "head" => "户主", "spouse" => "配偶", "son" => "之子", "daughter" => "之女",
    "daughter_in_law" => "之儿媳", "son_in_law" => "之女婿", "grandson" => "之孙子",
    "granddaughter" => "之孙女", "grandchild_maternal" => "之外孙子女", "father" => "之父",
    "mother" => "之母", "parent_in_law" => "之岳父母或公婆", "grandparent" => "之祖父母",
    "sibling" => "之兄弟姐妹", "other" => "其他",
]);

// 004 A10 健康状况. Health is personal data: never shown on a public page.
table!(HEALTH, "health", "健康状况", [
    "healthy" => "健康", "chronic_illness" => "长期慢性病", "serious_illness" => "患有大病",
    "disabled" => "残疾",
]);

// 001 附件2: the six main help-measure categories (R6).
table!(MAIN_MEASURE, "main_measure", "主导帮扶措施", [
    "industry" => "发展生产脱贫", "employment" => "促进就业脱贫", "relocation" => "易地扶贫搬迁脱贫",
    "education" => "发展教育脱贫", "ecological_compensation" => "生态补偿脱贫",
    "social_security" => "社会保障兜底脱贫",
]);

// C4: the procedures a household goes through, each a case.
table!(CASE_KIND, "case_kind", "程序类型", [
    "identify" => "新识别", "relapse" => "返贫", "exit" => "脱贫", "remove" => "清除",
    "exit_reversal" => "脱贫回退", "member_change" => "成员自然增减",
]);

// C4: the seeded steps, in order (000 §六, 002 §三(七), 003 §一).
table!(CASE_STEP, "case_step", "程序环节", [
    "application" => "农户申请", "home_verification" => "入户核实", "comparison" => "数据比对",
    "village_assessment" => "民主评议", "village_notice" => "村级公示", "township_review" => "乡镇审核",
    "township_notice" => "乡镇公示", "county_review" => "县级复审", "announcement" => "公告",
]);

table!(CASE_STATUS, "case_status", "程序状态", [
    "open" => "办理中", "rejected" => "未通过", "completed" => "已办结",
]);

/// Every table, in the order `GET /schema` lists them.
pub static ALL: &[&CodeTable] = &[
    &STANDARD,
    &KIND,
    &HOUSEHOLD_STATUS,
    &POVERTY_CAUSE,
    &SEX,
    &RELATION,
    &HEALTH,
    &MAIN_MEASURE,
    &CASE_KIND,
    &CASE_STEP,
    &CASE_STATUS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_within_each_table() {
        for table in ALL {
            let mut seen = std::collections::HashSet::new();
            for c in table.codes {
                assert!(seen.insert(c.code), "{} repeats {}", table.name, c.code);
            }
        }
    }

    #[test]
    fn poverty_causes_are_the_thirteen_of_the_form() {
        assert_eq!(POVERTY_CAUSE.codes.len(), 13);
        assert_eq!(POVERTY_CAUSE.label_of("illness"), Some("因病"));
        assert!(!POVERTY_CAUSE.contains("因病"));
    }
}
