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
    "village_assessment" => "民主评议", "village_notice" => "村级公示",
    "village_resolution" => "村民代表会决议", "township_review" => "乡镇审核",
    "township_notice" => "乡镇公示", "county_review" => "县级复审", "announcement" => "公告",
]);

table!(CASE_STATUS, "case_status", "程序状态", [
    "open" => "办理中", "rejected" => "未通过", "completed" => "已办结",
]);

// 003 附件2 §四 返贫原因 (单选), for relapse cases.
table!(RELAPSE_CAUSE, "relapse_cause", "返贫原因", [
    "illness" => "因病", "disability" => "因残", "schooling" => "因学", "disaster" => "因灾",
    "marriage" => "因婚", "lack_of_land" => "缺土地", "lack_of_water" => "缺水", "lack_of_skills" => "缺技术",
    "lack_of_labour" => "缺劳动力", "lack_of_funds" => "缺资金", "market" => "市场原因",
    "project_failure" => "产业项目失败",
]);

// 004 附件3 注2 增加原因 (1)–(6), in the form's order: the form's number is the position.
table!(MEMBER_INCREASE_REASON, "member_increase_reason", "家庭成员增加原因", [
    "newborn" => "新生儿", "marriage_in" => "婚入", "moved_in" => "户籍迁入", "released" => "刑满释放",
    "adoption" => "收养", "returned" => "失联人口回归",
]);

// 004 附件4 注2 减少原因 (1)–(8), in the form's order: the form's number is the position.
table!(MEMBER_DECREASE_REASON, "member_decrease_reason", "家庭成员减少原因", [
    "death" => "死亡", "marriage_out" => "婚出", "settled_abroad" => "出国定居", "imprisoned" => "判刑收监",
    "moved_out" => "户籍迁出", "urban_hukou" => "农转非", "missing" => "失联",
    "institutional_care" => "分散供养转集中供养",
]);

// 002 §二(二) 1–10: why a registered household is removed (R4), in the document's order.
table!(REMOVAL_REASON, "removal_reason", "清除原因", [
    "public_servant" => "家庭成员有在岗在编财政供养人员",
    "village_cadre" => "家庭成员有现任村三委干部",
    "vehicle" => "拥有价格3万元以上机动车",
    "urban_property" => "在城镇拥有自建房或购买商品房、门面房",
    "hires_workers" => "长期雇佣他人从事生产经营活动",
    "registered_business" => "经工商注册登记并实际开展经营活动",
    "split_or_merged_for_benefits" => "为享受扶贫支持故意分户、并户",
    "nominal_hukou" => "空挂户",
    "dead_missing_or_separate" => "死亡、失踪或与户主不共享开支收入的人员",
    "favouritism_or_falsification" => "优亲厚友、弄虚作假、徇私舞弊、信息失真",
]);

// 000 §四(一): the eight cases to identify with care (R4 review flags), in order.
table!(REVIEW_FLAG, "review_flag", "审慎识别情形", [
    "urban_housing_or_renovation" => "在城镇购买商品房或高标准装修现有住房",
    "high_living_costs" => "月水电燃料费、通讯费明显高于当地非贫困户",
    "vehicles_or_machinery" => "拥有或使用机动车辆、船舶、工程机械及大型农机具",
    "business_or_employer" => "经商办企或长期雇佣他人从事生产经营活动",
    "public_employee" => "吃财政饭、家有公职人员",
    "absent_nominal_or_split" => "户在人不在、常年联系不上或空挂户、拆户、分户",
    "idle_able_bodied" => "有劳动能力、好吃懒做",
    "wedding_debt" => "举债为儿女操办婚礼致贫",
]);

// 004 附件2 A3 证件类型: the two documents the A4 column names, 居民身份证(残疾人证), and
// none for a person without either (001 附件1 note 3: 尚未报户口, kept 系统外).
table!(ID_TYPE, "id_type", "证件类型", [
    "resident_id_card" => "居民身份证", "disability_card" => "残疾人证", "none" => "无证件",
]);

// 004 A6 民族: the 56 ethnic groups in the order and with the names of GB/T 3304.
table!(ETHNICITY, "ethnicity", "民族", [
    "han" => "汉族", "mongol" => "蒙古族", "hui" => "回族", "tibetan" => "藏族", "uyghur" => "维吾尔族",
    "miao" => "苗族", "yi" => "彝族", "zhuang" => "壮族", "bouyei" => "布依族", "korean" => "朝鲜族",
    "manchu" => "满族", "dong" => "侗族", "yao" => "瑶族", "bai" => "白族", "tujia" => "土家族",
    "hani" => "哈尼族", "kazakh" => "哈萨克族", "dai" => "傣族", "li" => "黎族", "lisu" => "傈僳族",
    "wa" => "佤族", "she" => "畲族", "gaoshan" => "高山族", "lahu" => "拉祜族", "shui" => "水族",
    "dongxiang" => "东乡族", "naxi" => "纳西族", "jingpo" => "景颇族", "kyrgyz" => "柯尔克孜族", "tu" => "土族",
    "daur" => "达斡尔族", "mulao" => "仫佬族", "qiang" => "羌族", "blang" => "布朗族", "salar" => "撒拉族",
    "maonan" => "毛南族", "gelao" => "仡佬族", "xibe" => "锡伯族", "achang" => "阿昌族", "pumi" => "普米族",
    "tajik" => "塔吉克族", "nu" => "怒族", "uzbek" => "乌孜别克族", "russian" => "俄罗斯族", "evenki" => "鄂温克族",
    "deang" => "德昂族", "bonan" => "保安族", "yugur" => "裕固族", "gin" => "京族", "tatar" => "塔塔尔族",
    "derung" => "独龙族", "oroqen" => "鄂伦春族", "hezhen" => "赫哲族", "monba" => "门巴族", "lhoba" => "珞巴族",
    "jino" => "基诺族",
]);

// 004 A7 政治面貌 (the form prints no options: the usual categories of GB/T 4762, merged
// as registers record them). Also the officers' 政治面貌 in 六、帮扶责任人.
table!(POLITICAL_STATUS, "political_status", "政治面貌", [
    "party_member" => "中共党员", "probationary_party_member" => "中共预备党员", "league_member" => "共青团员",
    "democratic_party_member" => "民主党派", "independent" => "无党派人士", "masses" => "群众",
]);

// 004 A8 文化程度 (no options printed: the register's levels, with pre-school children).
table!(EDUCATION, "education", "文化程度", [
    "preschool_child" => "学龄前儿童", "illiterate" => "文盲或半文盲", "primary" => "小学",
    "junior_secondary" => "初中", "senior_secondary" => "高中", "college_or_above" => "大专及以上",
]);

// 004 A9 在校生状况: not a student, or the stage. The stage codes are those the rules read
// (server `domain::facts::SchoolStage`: compulsory education is primary and junior secondary).
table!(SCHOOL_STATUS, "school_status", "在校生状况", [
    "not_in_school" => "非在校生", "preschool" => "学前教育", "primary" => "小学",
    "junior_secondary" => "初中", "senior_secondary" => "普通高中", "vocational" => "中职/高职",
    "tertiary" => "大专及以上",
]);

// 004 A11 劳动技能.
table!(LABOUR_SKILL, "labour_skill", "劳动技能", [
    "ordinary" => "普通劳动力", "skilled" => "技能劳动力", "weak_or_half" => "弱劳动力或半劳动力",
    "lost" => "丧失劳动力", "none" => "无劳动力",
]);

// 004 A12 务工区域, nearest first.
table!(WORK_AREA, "work_area", "务工区域", [
    "within_township" => "乡（镇）内务工", "within_county" => "乡（镇）外县内务工",
    "within_province" => "县外省内务工", "outside_province" => "省外务工",
]);

// 004 A14 失学或辍学原因 (no options printed).
table!(DROPOUT_REASON, "dropout_reason", "失学或辍学原因", [
    "illness" => "因病", "disability" => "因残", "learning_difficulty" => "因学习困难",
    "financial_hardship" => "因经济困难", "other" => "其他",
]);

// 004 所属行业 of a working member: the 20 sections (门类) of GB/T 4754-2017.
table!(INDUSTRY, "industry", "所属行业", [
    "agriculture" => "农、林、牧、渔业", "mining" => "采矿业", "manufacturing" => "制造业",
    "utilities" => "电力、热力、燃气及水生产和供应业", "construction" => "建筑业",
    "wholesale_retail" => "批发和零售业", "transport_postal" => "交通运输、仓储和邮政业",
    "accommodation_catering" => "住宿和餐饮业", "information_technology" => "信息传输、软件和信息技术服务业",
    "finance" => "金融业", "real_estate" => "房地产业", "leasing_business_services" => "租赁和商务服务业",
    "research_technical_services" => "科学研究和技术服务业",
    "water_environment_public_facilities" => "水利、环境和公共设施管理业",
    "resident_repair_other_services" => "居民服务、修理和其他服务业", "education" => "教育",
    "health_social_work" => "卫生和社会工作", "culture_sports_entertainment" => "文化、体育和娱乐业",
    "public_administration" => "公共管理、社会保障和社会组织", "international_organisations" => "国际组织",
]);

// 004 就业渠道 of a working member (no options printed).
table!(EMPLOYMENT_CHANNEL, "employment_channel", "就业渠道", [
    "government_organised" => "政府组织", "public_welfare_post" => "公益性岗位", "poverty_workshop" => "扶贫车间",
    "relatives_friends" => "亲友介绍", "self_found" => "自主就业", "other" => "其他",
]);

// 004 A37 入户路类型 (no options printed).
table!(ACCESS_ROAD, "access_road", "入户路类型", [
    "dirt" => "泥土路", "gravel" => "砂石路", "cement" => "水泥路", "asphalt" => "沥青路", "other" => "其他",
]);

// 004 A40 危房等级: none, or the four grades of the dangerous-building appraisal; 002 §二(一)
// counts C and D (server `domain::facts::HousingGrade` uses the same codes).
table!(HOUSING_GRADE, "housing_grade", "危房等级", [
    "none" => "无", "a" => "A级", "b" => "B级", "c" => "C级", "d" => "D级",
]);

// 004 A45 主要燃料类型 (no options printed).
table!(FUEL, "fuel", "主要燃料类型", [
    "firewood" => "柴草", "dung" => "干畜粪", "coal" => "煤炭", "clean_energy" => "清洁能源", "other" => "其他",
]);

// 004 §一(四), §三(四): risks of falling (back) into poverty the officer records beside
// the poverty causes (server `domain::facts::Risk`); 突发事件 is no poverty cause.
table!(RISK, "risk", "致贫返贫风险", [
    "illness" => "因病", "disaster" => "因灾", "schooling" => "因学", "emergency" => "突发事件",
]);

// 000 §四(一) 三: 机动车辆、船舶、工程机械及大型农机具 (server `domain::facts::VehicleKind`).
table!(VEHICLE_KIND, "vehicle_kind", "车辆机械类型", [
    "motor_vehicle" => "机动车", "boat" => "船舶", "construction_machinery" => "工程机械",
    "large_farm_machinery" => "大型农机具",
]);

// 002 §二(二)4: 在城镇拥有自建房或购买商品房、门面房 (server `domain::facts::UrbanPropertyKind`).
table!(URBAN_PROPERTY_KIND, "urban_property_kind", "城镇房产类型", [
    "self_built" => "自建房", "commodity_housing" => "商品房", "shopfront" => "门面房",
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
    &RELAPSE_CAUSE,
    &MEMBER_INCREASE_REASON,
    &MEMBER_DECREASE_REASON,
    &REMOVAL_REASON,
    &REVIEW_FLAG,
    &ID_TYPE,
    &ETHNICITY,
    &POLITICAL_STATUS,
    &EDUCATION,
    &SCHOOL_STATUS,
    &LABOUR_SKILL,
    &WORK_AREA,
    &DROPOUT_REASON,
    &INDUSTRY,
    &EMPLOYMENT_CHANNEL,
    &ACCESS_ROAD,
    &HOUSING_GRADE,
    &FUEL,
    &RISK,
    &VEHICLE_KIND,
    &URBAN_PROPERTY_KIND,
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

    #[test]
    fn table_names_and_labels_are_unique() {
        let mut names = std::collections::HashSet::new();
        for table in ALL {
            assert!(names.insert(table.name), "two tables are named {}", table.name);
            let mut labels = std::collections::HashSet::new();
            for c in table.codes {
                assert!(!c.label.is_empty() && labels.insert(c.label), "{} repeats the label {}", table.name, c.label);
                assert!(
                    c.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                    "{}: {} is not snake_case",
                    table.name,
                    c.code
                );
            }
        }
    }

    #[test]
    fn the_household_record_tables_follow_the_forms() {
        assert_eq!(ETHNICITY.codes.len(), 56, "the 56 ethnic groups");
        assert_eq!((ETHNICITY.codes[0].code, ETHNICITY.codes[0].label), ("han", "汉族"));
        assert_eq!(ETHNICITY.label_of("jino"), Some("基诺族"));
        let skills: Vec<&str> = LABOUR_SKILL.codes.iter().map(|c| c.label).collect();
        assert_eq!(skills, ["普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"]);
        let grades: Vec<&str> = HOUSING_GRADE.codes.iter().map(|c| c.code).collect();
        assert_eq!(grades, ["none", "a", "b", "c", "d"]);
        assert!(!HOUSING_GRADE.contains("e") && !HOUSING_GRADE.contains("C"));
        assert_eq!(INDUSTRY.codes.len(), 20, "the sections A–T of GB/T 4754-2017");
    }
}
