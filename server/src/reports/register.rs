//! The household register of 001 附件1 (贫困户名册: one block per household with its
//! members, officers and help measures) and the 系统外人员 list of 001 §一.
//!
//! Pure: stored records in, rows out. Codes are shown as their Chinese labels; ID and
//! phone numbers only ever masked (`mask_id_number`, `mask_phone`); health is shown as
//! the register prints it, since the register is internal (never a public notice).

use super::Period;
use crate::domain::facts::IncomeFacts;
use crate::domain::income::net_income_per_capita;
use crate::domain::policy::RulePolicy;
use crate::records::Record;
use chrono::{Datelike, NaiveDate};
use jingzhun_mobile_api::codes::{
    CodeTable, EDUCATION, ETHNICITY, HEALTH, HOUSEHOLD_STATUS, KIND, LABOUR_SKILL, MAIN_MEASURE, POVERTY_CAUSE,
    RELATION, SCHOOL_STATUS, STANDARD,
};
use jingzhun_mobile_api::validate::{FieldValue, id_birth_date, mask_id_number, mask_phone};
use serde_json::{Value, json};
use std::collections::HashMap;

pub const REGISTER_NOTES: &[&str] = &[
    "收录所选区划内还没有脱贫的贫困户（001 §二：在档未脱贫、预退出）；已脱贫户不在名册。户主信息、家庭成员（在户成员）和帮扶措施按报表生成时的记录。",
    "出生时间、年龄由身份证号码推算，年龄算至统计期末；证件号码、联系电话已隐去中间位。",
    "人均收入取统计期末所在年度及以前最近一年的收入记录，按该户所在区划的收入计算规则（如是否计入基本养老金）：（工资性收入 + 生产经营性收入 + 财产性收入 + 转移性收入 − 生产经营性支出）÷ 在户人口。",
    "帮扶责任人为统计期间内有帮扶关系的责任人；性别、政治面貌、帮扶单位取自责任人的用户资料。帮扶成效取统计期末所在年度及以前最近一年帮扶计划的“帮扶成效”。",
];

pub const OUTSIDE_NOTES: &[&str] = &[
    "系统外人员：暂时无法录入全国扶贫开发信息系统、先在系统外实行纸质档案管理的贫困人口（001 §一）。按001“每季度…将新识别和返贫的“系统外人员”名册汇总报省扶贫办备案”，只列出标记为系统外人员、且在统计期间内办结新识别或返贫程序的户，以及有成员无身份证号码（无法录入）的户；每季度最后一个工作日前报送。",
    "证件号码已隐去中间位。",
];

/// An officer assigned to a household during the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    pub name: String,
    pub phone: Option<String>,
    /// 性别, 政治面貌 (labels) and 帮扶单位 from the user's profile, where recorded.
    pub sex: Option<String>,
    pub political_status: Option<String>,
    pub work_unit: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

/// What the register is built from, read by `queries::register_input`.
#[derive(Debug, Clone, Default)]
pub struct RegisterInput {
    /// The households listed, in the order to print them.
    pub households: Vec<Record>,
    /// Members by household id (active and former).
    pub members: HashMap<String, Vec<Record>>,
    pub incomes: HashMap<String, Vec<Record>>,
    pub measures: HashMap<String, Vec<Record>>,
    pub officers: HashMap<String, Vec<Officer>>,
    /// 所在地 by village code: `县 镇 村`.
    pub locations: HashMap<String, String>,
    /// Help plans by household (帮扶成效).
    pub plans: HashMap<String, Vec<Record>>,
    /// The income rules of each village (`assess::policy::for_region`); baseline where absent.
    pub policies: HashMap<String, RulePolicy>,
}

/// Households the register lists: 001 §二 "还有少量贫困人口没有脱贫" — in the register
/// and not yet out of poverty.
pub fn registered(household: &Record) -> bool {
    matches!(household.text("status"), Some("registered" | "pre_exit"))
}

/// Households flagged as 系统外人员.
pub fn outside_system(household: &Record) -> bool {
    household.value("outside_national_system") == &FieldValue::Bool(true)
}

/// Households the 系统外 list reads: the flagged ones, and any not removed, since a
/// member without an ID number is 系统外 whatever the flag says (001 附件1 note 3,
/// "尚未报户口，无身份证号码，因国扶系统无法录入，暂时系统外管理"); `outside_list`
/// looks at their members.
pub fn outside_candidate(household: &Record) -> bool {
    outside_system(household) || household.text("status") != Some("removed")
}

/// Whether any active member has no ID number (the national system cannot take them).
pub fn has_member_without_number(members: &[Record]) -> bool {
    !without_number(&active(members)).is_empty()
}

/// Active members the national system cannot take: no ID number recorded.
fn without_number<'a>(members: &[&'a Record]) -> Vec<&'a Record> {
    members.iter().copied().filter(|m| m.text("id_number").is_none_or(|n| n.trim().is_empty())).collect()
}

fn label(table: &CodeTable, code: Option<&str>) -> String {
    code.map(|c| table.label_of(c).unwrap_or(c).to_owned()).unwrap_or_default()
}

fn money(record: &Record, field: &str) -> i64 {
    match record.value(field) {
        FieldValue::Money(fen) => *fen,
        _ => 0,
    }
}

pub(super) fn active(members: &[Record]) -> Vec<&Record> {
    // A member is in the household unless a procedure took them out.
    members.iter().filter(|m| m.value("active") != &FieldValue::Bool(false)).collect()
}

/// Head first, then in the order of the relation table (spouse, children, …).
fn in_register_order(mut members: Vec<&Record>) -> Vec<&Record> {
    let rank = |m: &Record| {
        let relation = m.text("relation").unwrap_or_default();
        RELATION.codes.iter().position(|c| c.code == relation).unwrap_or(RELATION.codes.len())
    };
    members.sort_by_key(|m| (rank(m), m.text("id_number").and_then(id_birth_date), m.text("name").map(str::to_owned)));
    members
}

fn age_at(id_number: &str, day: NaiveDate) -> Option<i64> {
    let birth = id_birth_date(id_number)?;
    let mut age = i64::from(day.year() - birth.year());
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    (age >= 0).then_some(age)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterMember {
    pub name: String,
    /// Masked.
    pub id_number: String,
    pub relation: String,
    pub age: Option<i64>,
    /// 文化程度, or 在校生 with the stage.
    pub education: String,
    pub labour: String,
    pub health: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterOfficer {
    pub name: String,
    pub work_unit: String,
    pub political_status: String,
    pub sex: String,
    pub start_date: String,
    pub end_date: String,
    /// Masked.
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterMeasure {
    pub date: String,
    pub category: String,
    pub name: String,
    pub scale: String,
    pub funds_fen: Option<i64>,
}

/// One household's block of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterHousehold {
    pub id: String,
    pub region_code: String,
    pub location: String,
    pub head_name: String,
    pub ethnicity: String,
    /// `YYYYMMDD`, from the head's ID number.
    pub birth: String,
    /// Masked.
    pub phone: String,
    pub standard: String,
    pub kind: String,
    /// 脱贫属性: 未脱贫 or 已脱贫.
    pub exit_status: String,
    pub main_cause: String,
    pub other_causes: Vec<String>,
    /// Hundredths of a square metre.
    pub housing_area: Option<i64>,
    pub income_year: Option<i64>,
    pub income_per_capita_fen: Option<i64>,
    /// 帮扶成效: the latest plan's outcome note.
    pub outcome: String,
    pub outside_reason: Option<String>,
    pub members: Vec<RegisterMember>,
    pub officers: Vec<RegisterOfficer>,
    pub measures: Vec<RegisterMeasure>,
}

/// `53` or `53.5`: an amount kept in hundredths, as people write it.
pub fn hundredths(n: i64) -> String {
    if n % 100 == 0 {
        format!("{}", n / 100)
    } else {
        format!("{:.2}", n as f64 / 100.0).trim_end_matches('0').to_owned()
    }
}

impl RegisterHousehold {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "region_code": self.region_code,
            "location": self.location,
            "head_name": self.head_name,
            "ethnicity": self.ethnicity,
            "birth": self.birth,
            "phone": self.phone,
            "standard": self.standard,
            "kind": self.kind,
            "exit_status": self.exit_status,
            "main_cause": self.main_cause,
            "other_causes": self.other_causes,
            "housing_area": self.housing_area.map(|a| a as f64 / 100.0),
            "income_year": self.income_year,
            "income_per_capita": self.income_per_capita_fen.map(|f| f as f64 / 100.0),
            "outcome": self.outcome,
            "outside_national_system": self.outside_reason.is_some(),
            "outside_reason": self.outside_reason,
            "members": self.members.iter().map(|m| json!({
                "name": m.name, "id_number": m.id_number, "relation": m.relation, "age": m.age,
                "education": m.education, "labour": m.labour, "health": m.health,
            })).collect::<Vec<_>>(),
            "officers": self.officers.iter().map(|o| json!({
                "name": o.name, "work_unit": o.work_unit, "political_status": o.political_status, "sex": o.sex,
                "start_date": o.start_date, "end_date": o.end_date, "phone": o.phone,
            })).collect::<Vec<_>>(),
            "measures": self.measures.iter().map(|m| json!({
                "date": m.date, "category": m.category, "name": m.name, "scale": m.scale,
                "funds": m.funds_fen.map(|f| f as f64 / 100.0),
            })).collect::<Vec<_>>(),
        })
    }
}

/// R1 for the latest year up to the period's end: `net_income_per_capita` over the
/// active members, or the plain formula where a record's parts do not fit its totals.
fn income(incomes: &[Record], residents: usize, period: &Period, policy: &RulePolicy) -> (Option<i64>, Option<i64>) {
    let year_of = |r: &Record| match r.value("year") {
        FieldValue::Int(y) => Some(*y),
        _ => None,
    };
    let latest = incomes
        .iter()
        .filter_map(|r| year_of(r).map(|y| (y, r)))
        .filter(|(y, _)| *y <= i64::from(period.to.year()))
        .max_by_key(|(y, _)| *y);
    let Some((year, record)) = latest else { return (None, None) };
    if residents == 0 {
        return (Some(year), None);
    }
    let facts = IncomeFacts {
        wage: money(record, "wage"),
        business: money(record, "business"),
        property: money(record, "property"),
        transfer: money(record, "transfer"),
        dibao: money(record, "dibao"),
        wubao: money(record, "wubao"),
        pension: money(record, "pension"),
        ecological_compensation: money(record, "ecological_compensation"),
        business_expense: money(record, "business_expense"),
        ..IncomeFacts::default()
    };
    let residents_u32 = u32::try_from(residents).unwrap_or(u32::MAX);
    let per_capita = match net_income_per_capita(&facts, residents_u32, policy) {
        Ok(net) => net.per_capita_fen,
        Err(_) => {
            let net = facts.wage + facts.business + facts.property + facts.transfer - facts.business_expense;
            net / residents as i64
        }
    };
    (Some(year), Some(per_capita))
}

pub(super) fn head<'a>(members: &[&'a Record]) -> Option<&'a Record> {
    members.iter().copied().find(|m| m.text("relation") == Some("head"))
}

/// The register: one block per household of `input`, in its order.
pub fn register(input: &RegisterInput, period: &Period) -> Vec<RegisterHousehold> {
    let none = Vec::new();
    input
        .households
        .iter()
        .map(|h| {
            let members = in_register_order(active(input.members.get(&h.id).unwrap_or(&none)));
            let head = head(&members);
            let head_id = head.and_then(|m| m.text("id_number")).unwrap_or_default();
            let causes: Vec<String> = match h.value("poverty_causes") {
                FieldValue::List(items) => items.iter().map(|c| label(&POVERTY_CAUSE, Some(c))).collect(),
                _ => Vec::new(),
            };
            let phone =
                h.text("phone").or_else(|| head.and_then(|m| m.text("phone"))).map(mask_phone).unwrap_or_default();
            let region_code = h.text("region_code").unwrap_or_default().to_owned();
            let baseline = RulePolicy::baseline();
            let policy = input.policies.get(&region_code).unwrap_or(&baseline);
            let (income_year, income_per_capita_fen) =
                income(input.incomes.get(&h.id).unwrap_or(&none), members.len(), period, policy);
            let outcome = input
                .plans
                .get(&h.id)
                .unwrap_or(&none)
                .iter()
                .filter(|p| p.int("year").is_some_and(|y| y <= i64::from(period.to.year())))
                .max_by_key(|p| p.int("year"))
                .and_then(|p| p.text("outcome_note"))
                .unwrap_or_default()
                .to_owned();
            RegisterHousehold {
                id: h.id.clone(),
                location: input.locations.get(&region_code).cloned().unwrap_or_else(|| region_code.clone()),
                region_code,
                head_name: head.and_then(|m| m.text("name")).unwrap_or_default().to_owned(),
                ethnicity: label(&ETHNICITY, head.and_then(|m| m.text("ethnicity"))),
                birth: id_birth_date(head_id).map(|d| d.format("%Y%m%d").to_string()).unwrap_or_default(),
                phone,
                standard: label(&STANDARD, h.text("standard")),
                kind: label(&KIND, h.text("kind")),
                exit_status: if h.text("status") == Some("exited") { "已脱贫" } else { "未脱贫" }.to_owned(),
                main_cause: causes.first().cloned().unwrap_or_default(),
                other_causes: causes.iter().skip(1).cloned().collect(),
                housing_area: match h.value("housing_area") {
                    FieldValue::Decimal(n) => Some(*n),
                    _ => None,
                },
                income_year,
                income_per_capita_fen,
                outcome,
                outside_reason: outside_system(h).then(|| h.text("outside_reason").unwrap_or_default().to_owned()),
                members: members
                    .iter()
                    .map(|m| {
                        let id_number = m.text("id_number").unwrap_or_default();
                        let school = m.text("school_status").filter(|s| *s != "not_in_school");
                        RegisterMember {
                            name: m.text("name").unwrap_or_default().to_owned(),
                            id_number: if id_number.is_empty() { "无".to_owned() } else { mask_id_number(id_number) },
                            relation: label(&RELATION, m.text("relation")),
                            age: age_at(id_number, period.to),
                            education: match school {
                                Some(stage) => format!("在校生（{}）", label(&SCHOOL_STATUS, Some(stage))),
                                None => label(&EDUCATION, m.text("education")),
                            },
                            labour: label(&LABOUR_SKILL, m.text("labour_skill")),
                            health: label(&HEALTH, m.text("health")),
                        }
                    })
                    .collect(),
                officers: input
                    .officers
                    .get(&h.id)
                    .map(|officers| {
                        officers
                            .iter()
                            .map(|o| RegisterOfficer {
                                name: o.name.clone(),
                                work_unit: o.work_unit.clone().unwrap_or_default(),
                                political_status: o.political_status.clone().unwrap_or_default(),
                                sex: o.sex.clone().unwrap_or_default(),
                                start_date: o.start_date.format("%Y%m%d").to_string(),
                                end_date: o.end_date.map(|d| d.format("%Y%m%d").to_string()).unwrap_or_default(),
                                phone: o.phone.as_deref().map(mask_phone).unwrap_or_default(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                measures: input
                    .measures
                    .get(&h.id)
                    .map(|measures| {
                        measures
                            .iter()
                            .map(|m| RegisterMeasure {
                                date: m.text("start_date").map(str::to_owned).unwrap_or_else(|| {
                                    match m.value("year") {
                                        FieldValue::Int(y) => format!("{y}年"),
                                        _ => String::new(),
                                    }
                                }),
                                category: label(&MAIN_MEASURE, m.text("category")),
                                name: m.text("project_name").or_else(|| m.text("name")).unwrap_or_default().to_owned(),
                                scale: m.text("scale").unwrap_or_default().to_owned(),
                                funds_fen: match m.value("funds") {
                                    FieldValue::Money(f) => Some(*f),
                                    _ => None,
                                },
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// One line of the 系统外人员 list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideEntry {
    pub id: String,
    pub region_code: String,
    pub location: String,
    pub head_name: String,
    /// Masked.
    pub head_id_number: String,
    pub members: i64,
    pub standard: String,
    pub kind: String,
    pub status: String,
    pub reason: String,
}

impl OutsideEntry {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "region_code": self.region_code,
            "location": self.location,
            "head_name": self.head_name,
            "head_id_number": self.head_id_number,
            "members": self.members,
            "standard": self.standard,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
        })
    }
}

pub fn outside_list(input: &RegisterInput) -> Vec<OutsideEntry> {
    let none = Vec::new();
    input
        .households
        .iter()
        .filter_map(|h| {
            let members = active(input.members.get(&h.id).unwrap_or(&none));
            let unnumbered = without_number(&members);
            (outside_system(h) || !unnumbered.is_empty()).then_some((h, members, unnumbered))
        })
        .map(|(h, members, unnumbered)| {
            let head = head(&members);
            // The household's own reason, then each person the system cannot take and why.
            let reason = h
                .text("outside_reason")
                .map(str::to_owned)
                .into_iter()
                .chain(unnumbered.iter().map(|m| {
                    let why = m.text("no_id_reason").unwrap_or("原因未登记");
                    format!("{}无身份证号码（{why}）", m.text("name").unwrap_or_default())
                }))
                .collect::<Vec<_>>()
                .join("；");
            let region_code = h.text("region_code").unwrap_or_default().to_owned();
            OutsideEntry {
                id: h.id.clone(),
                location: input.locations.get(&region_code).cloned().unwrap_or_else(|| region_code.clone()),
                region_code,
                head_name: head.and_then(|m| m.text("name")).unwrap_or_default().to_owned(),
                head_id_number: head.and_then(|m| m.text("id_number")).map(mask_id_number).unwrap_or_default(),
                members: members.len() as i64,
                standard: label(&STANDARD, h.text("standard")),
                kind: label(&KIND, h.text("kind")),
                status: label(&HOUSEHOLD_STATUS, h.text("status")),
                reason,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn record(id: &str, values: &[(&'static str, FieldValue)]) -> Record {
        Record { id: id.into(), version: 1, field_versions: BTreeMap::new(), values: values.iter().cloned().collect() }
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
    }

    fn sample() -> RegisterInput {
        let household = record(
            "h1",
            &[
                ("region_code", text("320703001001")),
                ("phone", text("13912345678")),
                ("standard", text("provincial")),
                ("kind", text("general")),
                ("status", text("registered")),
                ("poverty_causes", FieldValue::List(vec!["illness".into(), "lack_of_skills".into()])),
                ("housing_area", FieldValue::Decimal(5300)),
                ("outside_national_system", FieldValue::Bool(true)),
                ("outside_reason", text("因灾新识别，国扶系统未开放")),
            ],
        );
        let members = vec![
            record(
                "m2",
                &[
                    ("name", text("张小李")),
                    ("id_number", text("350403200301011234")),
                    ("relation", text("son")),
                    ("school_status", text("junior_secondary")),
                    ("health", text("healthy")),
                ],
            ),
            record(
                "m1",
                &[
                    ("name", text("张三")),
                    ("id_number", text("350403197303121234")),
                    ("relation", text("head")),
                    ("ethnicity", text("han")),
                    ("education", text("senior_secondary")),
                    ("labour_skill", text("ordinary")),
                    ("health", text("healthy")),
                ],
            ),
            record(
                "m3",
                &[
                    ("name", text("已故")),
                    ("id_number", text("350403194001011234")),
                    ("relation", text("father")),
                    ("active", FieldValue::Bool(false)),
                ],
            ),
        ];
        let incomes = vec![
            record("i1", &[("year", FieldValue::Int(2016)), ("wage", FieldValue::Money(100_000))]),
            record(
                "i2",
                &[
                    ("year", FieldValue::Int(2017)),
                    ("wage", FieldValue::Money(500_000)),
                    ("transfer", FieldValue::Money(120_000)),
                    ("business_expense", FieldValue::Money(18_000)),
                ],
            ),
            record("i3", &[("year", FieldValue::Int(2019)), ("wage", FieldValue::Money(9_000_000))]),
        ];
        RegisterInput {
            households: vec![household],
            members: HashMap::from([("h1".to_owned(), members)]),
            incomes: HashMap::from([("h1".to_owned(), incomes)]),
            measures: HashMap::new(),
            officers: HashMap::from([(
                "h1".to_owned(),
                vec![Officer {
                    name: "王**".into(),
                    phone: Some("13700001111".into()),
                    sex: Some("男".into()),
                    political_status: Some("中共党员".into()),
                    work_unit: Some("县农业农村局".into()),
                    start_date: NaiveDate::from_ymd_opt(2017, 1, 2).expect("d"),
                    end_date: None,
                }],
            )]),
            locations: HashMap::from([("320703001001".to_owned(), "测试县 一号镇 东村".to_owned())]),
            plans: HashMap::from([(
                "h1".to_owned(),
                vec![
                    record(
                        "p1",
                        &[("year", FieldValue::Int(2017)), ("outcome_note", FieldValue::Text("养猪增收".into()))],
                    ),
                    record(
                        "p2",
                        &[("year", FieldValue::Int(2019)), ("outcome_note", FieldValue::Text("以后的计划".into()))],
                    ),
                ],
            )]),
            policies: HashMap::new(),
        }
    }

    fn period_2018() -> Period {
        Period::new(NaiveDate::from_ymd_opt(2018, 1, 1).expect("d"), NaiveDate::from_ymd_opt(2018, 3, 31).expect("d"))
            .expect("period")
    }

    #[test]
    fn a_block_reads_like_the_sample_register() {
        let blocks = register(&sample(), &period_2018());
        let b = &blocks[0];
        assert_eq!((b.head_name.as_str(), b.ethnicity.as_str(), b.birth.as_str()), ("张三", "汉族", "19730312"));
        assert_eq!((b.standard.as_str(), b.kind.as_str(), b.exit_status.as_str()), ("省定", "一般贫困户", "未脱贫"));
        assert_eq!((b.main_cause.as_str(), b.housing_area), ("因病", Some(5300)));
        assert_eq!(b.phone, "139****5678");
        // 2017 is the latest year up to 2018-03-31: (5000 + 1200 − 180) ÷ 2 residents.
        assert_eq!((b.income_year, b.income_per_capita_fen), (Some(2017), Some(301_000)));
        // Head first, the former member left out, ID numbers masked.
        let names: Vec<&str> = b.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["张三", "张小李"]);
        assert_eq!(b.members[0].id_number, "350403********1234");
        assert_eq!((b.members[0].age, b.members[1].age), (Some(45), Some(15)));
        assert_eq!(b.members[1].education, "在校生（初中）");
        assert_eq!(b.members[0].labour, "普通劳动力");
        assert_eq!(b.officers[0].phone, "137****1111");
        let officer = &b.officers[0];
        assert_eq!(
            (officer.work_unit.as_str(), officer.political_status.as_str(), officer.sex.as_str()),
            ("县农业农村局", "中共党员", "男")
        );
        assert_eq!(b.outcome, "养猪增收", "the latest plan up to the period's end");
        assert_eq!(b.outside_reason.as_deref(), Some("因灾新识别，国扶系统未开放"));
        let json = b.to_json().to_string();
        assert!(!json.contains("350403197303121234") && !json.contains("13912345678"));
    }

    #[test]
    fn income_follows_the_regions_rules() {
        let mut input = sample();
        let incomes = input.incomes.get_mut("h1").expect("incomes");
        incomes[1].values.insert("pension", FieldValue::Money(100_000));
        let counted = register(&input, &period_2018())[0].income_per_capita_fen;
        input.policies.insert("320703001001".into(), RulePolicy::jilin_000());
        let jilin = register(&input, &period_2018())[0].income_per_capita_fen;
        assert_eq!(counted, Some(301_000));
        assert_eq!(jilin, Some(301_000 - 50_000), "000 leaves the basic pension out: 1000 ÷ 2 residents less");
    }

    #[test]
    fn exited_households_are_not_on_the_register() {
        let mut h = sample().households.remove(0);
        for (status, listed) in [("registered", true), ("pre_exit", true), ("exited", false), ("removed", false)] {
            h.values.insert("status", FieldValue::Text(status.into()));
            assert_eq!(registered(&h), listed, "{status}");
        }
    }

    #[test]
    fn the_outside_list_names_the_reason() {
        let list = outside_list(&sample());
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].head_name.as_str(), list[0].members), ("张三", 2));
        assert_eq!(list[0].head_id_number, "350403********1234");
        assert_eq!(list[0].status, "在档贫困户");
        assert_eq!(list[0].reason, "因灾新识别，国扶系统未开放");
    }

    #[test]
    fn a_member_without_a_number_puts_the_household_on_the_outside_list() {
        let mut input = sample();
        let other = "h2".to_owned();
        input.households.push(record(&other, &[("region_code", text("320703001001")), ("status", text("registered"))]));
        assert_eq!(outside_list(&input).len(), 1, "an unflagged household with numbers is not 系统外");
        let flagged: Vec<String> =
            input.households.iter().filter(|h| outside_system(h)).map(|h| h.id.clone()).collect();
        let newborn = record(
            "m-newborn",
            &[
                ("name", text("张小小")),
                ("relation", text("daughter")),
                ("id_type", text("none")),
                ("no_id_reason", text("未报户口")),
            ],
        );
        input.members.entry(other.clone()).or_default().push(newborn);
        let list = outside_list(&input);
        let ids: Vec<&str> = list.iter().map(|e| e.id.as_str()).collect();
        assert!(ids.contains(&other.as_str()) && flagged.iter().all(|f| ids.contains(&f.as_str())), "{ids:?}");
        let entry = list.iter().find(|e| e.id == other).expect("listed");
        assert!(entry.reason.contains("张小小无身份证号码（未报户口）"), "{}", entry.reason);
    }

    #[test]
    fn hundredths_print_without_trailing_zeros() {
        assert_eq!(hundredths(5300), "53");
        assert_eq!(hundredths(5350), "53.5");
        assert_eq!(hundredths(5355), "53.55");
    }
}
