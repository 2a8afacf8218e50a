//! The four statistics tables of 000 附件1–4 (the Jilin city plan under 吉扶办〔2017〕38号):
//! one row per child region and a total, with the 附件's columns, captions and order and
//! nothing else in them.
//!
//! Each table is a [`TableSpec`]: its header as the form draws it, a function that adds
//! one household's numbers for the period to a row, and a function that fills the
//! columns computed from others (subtotals). Both are linear, so a row is the sum of its
//! households, the total is the sum of the rows, and a county's row for a township
//! equals the township's own total.
//!
//! Decisions taken with the seed in hand (its copy of the 附件 loses some captions):
//! - 附件1 has no column for 脱贫, nor for the member changes beyond its five (刑满释放、
//!   收养、失联人口回归; 农转非、失联、分散供养转集中供养), yet 剩余贫困人口 is after
//!   them. They never go in as extra columns: an [`Appendix`] block below the table, headed
//!   as not part of 附件1, shows them and reconciles 剩余 = 期初 + 动态进入 + 其他增加 −
//!   动态退出小计 − 脱贫 − 其他减少. The opening figure is counted, not back-derived, so the
//!   block is a real check. The form's "2016年底" is the period's opening: a period that
//!   starts on 1 January prints "<the year before>年底", any other the day before it.
//! - 附件3: a removed household counts under every one of the eight cases (000 §四(一))
//!   that applies, "上述 8 种情况, 同一农户可以重复": the case its removal reason is
//!   (where the reason says exactly that case) and every case its recorded facts show
//!   (`domain::removal::review_flags`, as `/assessment` reads them). 清除不符合贫困标准的
//!   农户 is one column of households, as the form draws it. A removal of one person
//!   (002 §二(二)9) is no household's removal: it is in 附件1's 清除, not here.
//! - 附件4: only households that had exited in 2014–2016 (000 §三(四)): the year of their
//!   last exit before the relapse, from the exit case or, for exits before the system,
//!   the register import's `exit_year`. 2014-2016年返贫人口 is one column of people. The
//!   copy of the form names 因灾 and 因残 first under 外力因素返贫 and loses the captions of
//!   the three pairs after them; those are 因病, 因学 and 其他, the relapse causes left.
//!
//! Pure: households in, table out.

use super::history::{HouseholdFacts, is_poor};
use super::{Period, ReportName};
use crate::procedures::CaseKind;
use chrono::{Datelike, Days};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// A header cell: a column, or a group of columns under one caption.
#[derive(Debug)]
pub enum Header {
    Leaf { key: &'static str, label: &'static str },
    Group { label: &'static str, children: &'static [Header] },
}

impl Header {
    /// Columns under this cell.
    pub fn width(&self) -> usize {
        match self {
            Header::Leaf { .. } => 1,
            Header::Group { children, .. } => children.iter().map(Header::width).sum(),
        }
    }

    /// Header rows this cell and its children take.
    pub fn depth(&self) -> usize {
        match self {
            Header::Leaf { .. } => 1,
            Header::Group { children, .. } => 1 + children.iter().map(Header::depth).max().unwrap_or(0),
        }
    }

    /// The caption as written in the spec; [`StatTable::caption`] gives the printed one.
    pub fn label(&self) -> &'static str {
        match self {
            Header::Leaf { label, .. } | Header::Group { label, .. } => label,
        }
    }
}

/// The columns of a header, left to right: key and caption path.
pub fn leaves(header: &'static [Header]) -> Vec<(&'static str, String)> {
    fn walk(nodes: &'static [Header], path: &mut Vec<&'static str>, out: &mut Vec<(&'static str, String)>) {
        for node in nodes {
            path.push(node.label());
            match node {
                Header::Leaf { key, .. } => out.push((key, path.join("/"))),
                Header::Group { children, .. } => walk(children, path, out),
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(header, &mut Vec::new(), &mut out);
    out
}

/// Households (户) and people (人) under one caption.
macro_rules! pair {
    ($label:expr, $households:literal, $people:literal) => {
        Header::Group {
            label: $label,
            children: &[Header::Leaf { key: $households, label: "户" }, Header::Leaf { key: $people, label: "人" }],
        }
    };
}

/// Stands for the period's opening in a caption (the form's "2016年底").
pub const OPENING: &str = "〔期初〕";

/// The opening as a caption says it: `2016年底` for a period from 2017-01-01, else the
/// day before the period (`2026年3月4日`).
pub fn opening_caption(period: &Period) -> String {
    let before = period.from.checked_sub_days(Days::new(1)).unwrap_or(period.from);
    if period.from.month() == 1 && period.from.day() == 1 {
        format!("{}年底", before.year())
    } else {
        before.format("%Y年%-m月%-d日").to_string()
    }
}

/// A block printed under a table, headed as not part of the 附件: figures the product
/// needs that the form has no column for. Its rows are the table's rows.
#[derive(Debug)]
pub struct Appendix {
    pub title: &'static str,
    pub header: &'static [Header],
}

/// One table: its header, how a household counts, and what is derived.
pub struct TableSpec {
    pub name: ReportName,
    pub header: &'static [Header],
    /// Adds one household's numbers for the period.
    pub count: fn(&HouseholdFacts, &Period, &mut Counts),
    /// Fills the derived columns of a row from its counted ones. Must be linear.
    pub derive: fn(&mut Counts),
    pub appendix: Option<&'static Appendix>,
    pub notes: &'static [&'static str],
}

impl std::fmt::Debug for TableSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableSpec").field("name", &self.name).finish_non_exhaustive()
    }
}

/// The numbers of one row, by column key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(BTreeMap<&'static str, i64>);

impl Counts {
    fn zeroed(spec: &TableSpec) -> Counts {
        let appendix = spec.appendix.map(|a| leaves(a.header)).unwrap_or_default();
        Counts(leaves(spec.header).into_iter().chain(appendix).map(|(key, _)| (key, 0)).collect())
    }

    pub fn get(&self, key: &str) -> i64 {
        self.0.get(key).copied().unwrap_or(0)
    }

    pub fn add(&mut self, key: &'static str, n: i64) {
        *self.0.entry(key).or_insert(0) += n;
    }

    pub fn set(&mut self, key: &'static str, n: i64) {
        self.0.insert(key, n);
    }

    fn add_all(&mut self, other: &Counts) {
        for (key, n) in &other.0 {
            self.add(key, *n);
        }
    }

    fn sum(&self, keys: &[&str]) -> i64 {
        keys.iter().map(|k| self.get(k)).sum()
    }
}

/// A row: a child region (or the total, or households under no child region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    pub region_code: Option<String>,
    pub region_name: String,
    pub counts: Counts,
}

/// The rows a table is grouped in: households whose village code starts with `prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowGroup {
    pub code: Option<String>,
    pub name: String,
    pub prefix: String,
}

/// Households in the region but under none of its child regions in the region table.
pub const UNASSIGNED_ROW: &str = "其他（未归入下级区划）";
pub const TOTAL_ROW: &str = "合计";

#[derive(Debug, Clone)]
pub struct StatTable {
    pub spec: &'static TableSpec,
    pub period: Period,
    pub rows: Vec<StatRow>,
    pub total: StatRow,
}

impl StatTable {
    /// A caption as printed: the opening filled in.
    pub fn caption(&self, label: &str) -> String {
        label.replace(OPENING, &opening_caption(&self.period))
    }

    /// The table's columns: key and printed caption path.
    pub fn columns(&self) -> Vec<(&'static str, String)> {
        self.captioned(self.spec.header)
    }

    /// The appendix's columns, if the table has one.
    pub fn appendix_columns(&self) -> Vec<(&'static str, String)> {
        self.spec.appendix.map(|a| self.captioned(a.header)).unwrap_or_default()
    }

    fn captioned(&self, header: &'static [Header]) -> Vec<(&'static str, String)> {
        leaves(header).into_iter().map(|(key, path)| (key, self.caption(&path))).collect()
    }

    pub fn write_json(&self, out: &mut Value) {
        let block = |columns: &[(&'static str, String)]| {
            let row = |r: &StatRow| {
                let values: Map<String, Value> =
                    columns.iter().map(|(k, _)| ((*k).to_owned(), json!(r.counts.get(k)))).collect();
                json!({"region_code": r.region_code, "region_name": r.region_name, "values": values})
            };
            json!({
                "columns": columns.iter().map(|(key, label)| json!({"key": key, "label": label})).collect::<Vec<_>>(),
                "rows": self.rows.iter().map(row).collect::<Vec<_>>(),
                "total": row(&self.total),
            })
        };
        let table = block(&self.columns());
        for key in ["columns", "rows", "total"] {
            out[key] = table[key].clone();
        }
        if let Some(appendix) = self.spec.appendix {
            let mut block = block(&self.appendix_columns());
            block["title"] = json!(self.caption(appendix.title));
            out["appendix"] = block;
        }
    }
}

/// Counts every household into its row, derives, and adds the rows into the total.
pub fn tabulate(
    spec: &'static TableSpec,
    groups: &[RowGroup],
    households: &[HouseholdFacts],
    period: &Period,
) -> StatTable {
    let new_row = |code: Option<String>, name: &str| StatRow {
        region_code: code,
        region_name: name.to_owned(),
        counts: Counts::zeroed(spec),
    };
    let mut rows: Vec<StatRow> = groups.iter().map(|g| new_row(g.code.clone(), &g.name)).collect();
    let mut unassigned = None;
    for household in households {
        let row = match groups.iter().position(|g| household.region_code.starts_with(&g.prefix)) {
            Some(i) => &mut rows[i],
            None => unassigned.get_or_insert_with(|| new_row(None, UNASSIGNED_ROW)),
        };
        (spec.count)(household, period, &mut row.counts);
    }
    rows.extend(unassigned);
    for row in &mut rows {
        (spec.derive)(&mut row.counts);
    }
    let mut total = new_row(None, TOTAL_ROW);
    for row in &rows {
        total.counts.add_all(&row.counts);
    }
    StatTable { spec, period: *period, rows, total }
}

pub fn spec(name: ReportName) -> Option<&'static TableSpec> {
    match name {
        ReportName::DynamicAdjustment => Some(&DYNAMIC_ADJUSTMENT),
        ReportName::NewIdentification => Some(&NEW_IDENTIFICATION),
        ReportName::Removals => Some(&REMOVALS),
        ReportName::Relapse => Some(&RELAPSE),
        _ => None,
    }
}

/// Indices of the cases a household completed within the period.
fn in_period(household: &HouseholdFacts, period: &Period) -> std::ops::Range<usize> {
    household.cases_before(period.start())..household.cases_before(period.end())
}

// ---- 附件1 贫困人口动态调整情况统计表 ------------------------------------------------

/// 动态进入 as the form lists it: 新识别, 家庭成员增加 (新生儿、迁入、嫁入), 返贫人口.
const ENTERED: [&str; 5] =
    ["new_identified", "increase_newborn", "increase_moved_in", "increase_marriage_in", "relapse"];
/// 动态退出 as the form lists it after its 小计.
const LEFT: [&str; 6] = [
    "removed",
    "decrease_moved_out",
    "decrease_marriage_out",
    "decrease_settled_abroad",
    "decrease_imprisoned",
    "decrease_death",
];

pub static DYNAMIC_ADJUSTMENT: TableSpec = TableSpec {
    name: ReportName::DynamicAdjustment,
    header: &[
        Header::Leaf { key: "baseline", label: "〔期初〕贫困人口" },
        Header::Group {
            label: "动态调整情况",
            children: &[
                Header::Group {
                    label: "动态进入",
                    children: &[
                        Header::Leaf { key: "new_identified", label: "新识别" },
                        Header::Group {
                            label: "家庭成员增加",
                            children: &[
                                Header::Leaf { key: "increase_newborn", label: "新生儿" },
                                Header::Leaf { key: "increase_moved_in", label: "迁入" },
                                Header::Leaf { key: "increase_marriage_in", label: "嫁入" },
                            ],
                        },
                        Header::Leaf { key: "relapse", label: "返贫人口" },
                    ],
                },
                Header::Group {
                    label: "动态退出",
                    children: &[
                        Header::Leaf { key: "out_subtotal", label: "小计" },
                        Header::Leaf { key: "removed", label: "清除" },
                        Header::Leaf { key: "decrease_moved_out", label: "迁出" },
                        Header::Leaf { key: "decrease_marriage_out", label: "嫁出" },
                        Header::Leaf { key: "decrease_settled_abroad", label: "国外定居" },
                        Header::Leaf { key: "decrease_imprisoned", label: "收监判刑" },
                        Header::Leaf { key: "decrease_death", label: "死亡" },
                    ],
                },
            ],
        },
        Header::Leaf { key: "net_decrease", label: "比〔期初〕贫困人口净减少数" },
        Header::Leaf { key: "remaining", label: "剩余贫困人口" },
    ],
    count: count_dynamic_adjustment,
    derive: derive_dynamic_adjustment,
    appendix: Some(&RECONCILIATION),
    notes: &[
        "新识别：新认定整户识别的贫困人口数；家庭成员增加：贫困户新增加的家庭成员数，如新生儿、嫁入、迁入等；返贫：之前年度已经脱贫，又返贫的贫困人口数（含脱贫回退）；清除：需要清除的人口数（含清除户的人口和按002 §二(二)9单独清除的人员）；家庭成员减少：贫困户新减少的家庭成员数，如死亡、嫁出、迁出、判刑收监、国外定居等情况。",
        "比期初贫困人口净减少 = 期初贫困人口数 − 剩余贫困人口数。期初即统计期间开始前一日（统计期间自1月1日起时为上年底）。",
        "贫困人口指在档未脱贫户（在档贫困户、预退出）的在户家庭成员。期初、剩余贫困人口按当时的户状态直接计数；人数以报表生成时的在户家庭成员为准，并按已办结的家庭成员自然增减程序倒推到各时点，未经程序登记的成员视为一直在户。",
        "新识别、返贫、清除按统计期间内办结（县级公告完成）的程序计；清除只计清除前未脱贫的户，已脱贫户的清除见清除人口情况统计表。家庭成员增加、减少按统计期间内办结的成员自然增减程序计，只计当时为贫困户的成员。",
        "动态退出小计 = 清除 + 迁出 + 嫁出 + 国外定居 + 收监判刑 + 死亡。原表没有“脱贫”和其余家庭成员增减的列，这些人数列在表下的核对表中（不属于附件1），使剩余贫困人口可以核对。",
        "各行按村级区划代码前缀归入下级区划，合计等于各行之和，上级报表中本区划一行等于本表合计。",
    ],
};

/// Below 附件1: what moves the poor population that the form has no column for.
pub static RECONCILIATION: Appendix = Appendix {
    title: "附：剩余贫困人口核对（不属于附件1）：剩余贫困人口 = 〔期初〕贫困人口 + 动态进入 + 其他家庭成员增加 − 动态退出小计 − 脱贫 − 其他家庭成员减少",
    header: &[
        Header::Leaf { key: "baseline", label: "〔期初〕贫困人口" },
        Header::Group {
            label: "加",
            children: &[
                Header::Leaf {
                    key: "in_subtotal", label: "动态进入（新识别、家庭成员增加、返贫人口）"
                },
                Header::Leaf {
                    key: "increase_other", label: "其他家庭成员增加（刑满释放、收养、失联人口回归）"
                },
            ],
        },
        Header::Group {
            label: "减",
            children: &[
                Header::Leaf { key: "out_subtotal", label: "动态退出小计" },
                Header::Leaf { key: "exited", label: "脱贫" },
                Header::Leaf {
                    key: "decrease_other", label: "其他家庭成员减少（农转非、失联、分散供养转集中供养）"
                },
            ],
        },
        Header::Leaf { key: "remaining", label: "剩余贫困人口" },
    ],
};

/// The column a change of one person falls in: a member change by its reason (R7), or a
/// removal of the person (002 §二(二)9), which is 清除.
fn member_change_column(kind: CaseKind, reason: Option<&str>) -> Option<&'static str> {
    if kind == CaseKind::Remove {
        return Some("removed");
    }
    Some(match reason? {
        "newborn" => "increase_newborn",
        "moved_in" => "increase_moved_in",
        "marriage_in" => "increase_marriage_in",
        "released" | "adoption" | "returned" => "increase_other",
        "moved_out" => "decrease_moved_out",
        "marriage_out" => "decrease_marriage_out",
        "settled_abroad" => "decrease_settled_abroad",
        "imprisoned" => "decrease_imprisoned",
        "death" => "decrease_death",
        "urban_hukou" | "missing" | "institutional_care" => "decrease_other",
        _ => return None,
    })
}

fn count_dynamic_adjustment(household: &HouseholdFacts, period: &Period, counts: &mut Counts) {
    counts.add("baseline", household.poor_people_at(period.start()));
    for i in in_period(household, period) {
        let case = &household.cases[i];
        let poor_before = is_poor(household.status_after(i));
        match case.kind.completed_status_for(case.reason.as_deref()) {
            Some(after) => {
                let people = household.members_after(i);
                match (poor_before, is_poor(after)) {
                    (false, true) if case.kind == CaseKind::Identify => counts.add("new_identified", people),
                    (false, true) => counts.add("relapse", people),
                    (true, false) if case.kind == CaseKind::Remove => counts.add("removed", people),
                    (true, false) => counts.add("exited", people),
                    _ => {}
                }
            }
            None if poor_before && case.member_delta() != 0 => {
                if let Some(column) = member_change_column(case.kind, case.reason.as_deref()) {
                    counts.add(column, 1);
                }
            }
            None => {}
        }
    }
    counts.add("remaining", household.poor_people_at(period.end()));
}

fn derive_dynamic_adjustment(counts: &mut Counts) {
    counts.set("in_subtotal", counts.sum(&ENTERED));
    counts.set("out_subtotal", counts.sum(&LEFT));
    counts.set("net_decrease", counts.get("baseline") - counts.get("remaining"));
}

// ---- 附件2 新识别贫困人口情况统计表 --------------------------------------------------

pub static NEW_IDENTIFICATION: TableSpec = TableSpec {
    name: ReportName::NewIdentification,
    header: &[
        pair!("新识别符合贫困人口标准的非建档立卡贫困户", "households", "people"),
        Header::Group {
            label: "其中",
            children: &[
                pair!("低保家庭中没解决“三保障”问题的农户", "dibao_households", "dibao_people"),
                pair!("分散供养五保家庭中没解决“三保障”问题的农户", "wubao_households", "wubao_people"),
                pair!("残疾人家庭中没解决“三保障”问题的农户", "disabled_households", "disabled_people"),
                pair!("“回头看”和贫困人口核查中“错退”人口", "wrongly_removed_households", "wrongly_removed_people"),
                pair!(
                    "外出务工人口、返乡居住生活、新入户籍等存在“三保障”问题的人口",
                    "migrant_households",
                    "migrant_people"
                ),
            ],
        },
    ],
    count: count_new_identification,
    derive: |_| {},
    appendix: None,
    notes: &[
        "按统计期间内办结的新识别程序计：户数为办结的程序数，人数为办结时的在户家庭成员数。",
        "低保、分散供养五保按现在的贫困户属性（低保贫困户、特困供养贫困户）判断；残疾人家庭指有在户成员健康状况为残疾或证件为残疾人证。",
        "“三保障”以现有记录为准：义务教育、基本医疗、住房安全任一未记录为有保障，即视为没解决。",
        "“错退”人口：新识别前该户曾经清除程序清除。",
        "外出务工、返乡居住生活、新入户籍：有在户成员在县外务工，或该户办结过户籍迁入、失联人口回归的成员增加程序，且“三保障”没解决。系统没有“返乡居住生活”的记录项，只能经由上述两项计入。",
        "上述 6 种情况，同一农户可以重复。",
    ],
};

fn count_new_identification(household: &HouseholdFacts, period: &Period, counts: &mut Counts) {
    let range = in_period(household, period);
    let end = range.end;
    for i in range {
        if household.cases[i].kind != CaseKind::Identify {
            continue;
        }
        let people = household.members_after(i);
        let mut add = |households: &'static str, people_key: &'static str| {
            counts.add(households, 1);
            counts.add(people_key, people);
        };
        add("households", "people");
        let unmet = !household.guarantees.three_secured();
        if unmet && household.kind == "dibao" {
            add("dibao_households", "dibao_people");
        }
        if unmet && household.kind == "wubao" {
            add("wubao_households", "wubao_people");
        }
        if unmet && household.disabled_member {
            add("disabled_households", "disabled_people");
        }
        if household.status_after(i) == "removed" {
            add("wrongly_removed_households", "wrongly_removed_people");
        }
        let new_hukou = household.cases[..end]
            .iter()
            .any(|c| c.kind == CaseKind::MemberChange && matches!(c.reason.as_deref(), Some("moved_in" | "returned")));
        if unmet && (household.migrant_worker || new_hukou) {
            add("migrant_households", "migrant_people");
        }
    }
}

// ---- 附件3 清除人口情况统计表 --------------------------------------------------------

/// The eight review cases of 000 §四(一) (`REVIEW_FLAG`), in the form's order, with their columns.
const REVIEW_COLUMNS: [(&str, &str, &str); 8] = [
    ("urban_housing_or_renovation", "urban_housing_households", "urban_housing_people"),
    ("high_living_costs", "high_living_costs_households", "high_living_costs_people"),
    ("vehicles_or_machinery", "vehicles_households", "vehicles_people"),
    ("business_or_employer", "business_households", "business_people"),
    ("public_employee", "public_employee_households", "public_employee_people"),
    ("absent_nominal_or_split", "absent_or_split_households", "absent_or_split_people"),
    ("idle_able_bodied", "idle_households", "idle_people"),
    ("wedding_debt", "wedding_debt_households", "wedding_debt_people"),
];

pub static REMOVALS: TableSpec = TableSpec {
    name: ReportName::Removals,
    header: &[
        Header::Leaf { key: "households", label: "清除不符合贫困标准的农户" },
        Header::Group {
            label: "其中",
            children: &[
                pair!("在城镇购买商品房或高标准装修现有住房的农户", "urban_housing_households", "urban_housing_people"),
                pair!(
                    "申请对象月水电燃料费、通讯费明显高于当地非贫困户的农户",
                    "high_living_costs_households",
                    "high_living_costs_people"
                ),
                pair!(
                    "家庭拥有或使用机动车辆、船舶、工程机械及大型农机具的农户",
                    "vehicles_households",
                    "vehicles_people"
                ),
                pair!("经商办企和长期雇佣他人从事生产经营活动的农户", "business_households", "business_people"),
                pair!("吃“财政饭”、家有公职人员的家庭", "public_employee_households", "public_employee_people"),
                pair!(
                    "户在人不在，常年联系不上以及空挂户、拆户、分户的农户",
                    "absent_or_split_households",
                    "absent_or_split_people"
                ),
                pair!("家里有劳动能力、好吃懒做的农户", "idle_households", "idle_people"),
                pair!("举债为儿女操办婚礼致贫的农户", "wedding_debt_households", "wedding_debt_people"),
            ],
        },
    ],
    count: count_removals,
    derive: |_| {},
    appendix: None,
    notes: &[
        "上述 8 种情况，同一农户可以重复：一户计入其清除原因所属的情形，并计入其现有记录显示的每一种情形，故各情形之和可以大于清除户数。",
        "清除不符合贫困标准的农户：统计期间内办结（县级公告完成）的整户清除程序数（含已脱贫户的清除）；按002 §二(二)9清除个别人员的不是整户清除，计入贫困人口动态调整情况统计表的“清除”。各情形的人数为清除时的在户家庭成员数。",
        "清除原因归入的情形：拥有3万元以上机动车→第3种；长期雇工、工商注册经营→第4种；财政供养人员→第5种；故意分户并户、空挂户→第6种。其余清除原因（现任村干部，城镇自建房、门面房，优亲厚友、弄虚作假等）不对应任何一种，只按记录计入。",
        "按现有记录计入的情形：城镇商品房或高标准装修→第1种；月水电燃料费、通讯费明显偏高→第2种；机动车辆、船舶、工程机械、大型农机具→第3种；经营实体或长期雇工→第4种；财政供养人员→第5种；户在人不在、常年联系不上、空挂户、拆户分户→第6种；有劳动能力、好吃懒做→第7种；举债为儿女操办婚礼→第8种。",
    ],
};

/// The review case a removal reason is exactly, if any. 002's 城镇自建房、门面房 are not
/// 000's 商品房, and a 村干部 is not a 财政供养 post, so those reasons name none.
pub fn review_flag_of(reason: &str) -> Option<&'static str> {
    match reason {
        "vehicle" => Some("vehicles_or_machinery"),
        "hires_workers" | "registered_business" => Some("business_or_employer"),
        "public_servant" => Some("public_employee"),
        "split_or_merged_for_benefits" | "nominal_hukou" => Some("absent_nominal_or_split"),
        _ => None,
    }
}

fn count_removals(household: &HouseholdFacts, period: &Period, counts: &mut Counts) {
    for i in in_period(household, period) {
        let case = &household.cases[i];
        if case.kind != CaseKind::Remove || case.kind.removes_member(case.reason.as_deref()) {
            continue;
        }
        let people = household.members_after(i);
        counts.add("households", 1);
        let by_reason = case.reason.as_deref().and_then(review_flag_of);
        for (flag, households, people_key) in REVIEW_COLUMNS {
            if by_reason == Some(flag) || household.review_flags.contains(&flag) {
                counts.add(households, 1);
                counts.add(people_key, people);
            }
        }
    }
}

// ---- 附件4 返贫人口情况统计表 --------------------------------------------------------

pub static RELAPSE: TableSpec = TableSpec {
    name: ReportName::Relapse,
    header: &[
        Header::Leaf { key: "people", label: "2014-2016年返贫人口" },
        Header::Group {
            label: "其中",
            children: &[
                Header::Group {
                    label: "脱贫不实（需脱贫回退）",
                    children: &[
                        pair!("未解决“两不愁三保障”（包括安全饮水未解决）的脱贫户", "unmet_households", "unmet_people"),
                        pair!("纳入易地搬迁的脱贫户", "relocation_households", "relocation_people"),
                        pair!("社会保障兜底的脱贫户", "social_security_households", "social_security_people"),
                    ],
                },
                Header::Group {
                    label: "外力因素返贫（需标记返贫）",
                    children: &[
                        pair!("因灾", "disaster_households", "disaster_people"),
                        pair!("因残", "disability_households", "disability_people"),
                        pair!("因病", "illness_households", "illness_people"),
                        pair!("因学", "schooling_households", "schooling_people"),
                        pair!("其他", "other_cause_households", "other_cause_people"),
                    ],
                },
            ],
        },
    ],
    count: count_relapse,
    derive: |_| {},
    appendix: None,
    notes: &[
        "只计2014–2016年脱贫的户（000 §三(四)）：脱贫年度为该户返贫前最近一次办结的脱贫程序的年度，系统启用前脱贫的户为导入的脱贫年度。",
        "按统计期间内办结的程序计：脱贫回退程序为脱贫不实，返贫程序为外力因素返贫；人数为办结时的在户家庭成员数。2014-2016年返贫人口为两者人数之和。",
        "脱贫不实的三种情况以现有记录判断：两不愁三保障（含安全饮水）任一未记录为有保障；有易地扶贫搬迁类帮扶措施；低保、特困供养贫困户或有社会保障兜底类帮扶措施。上述 3 种情况，同一农户可以重复；不属于任何一种的只计入返贫人口。",
        "外力因素按返贫程序的返贫原因归类，因灾、因残、因病、因学以外的原因列入“其他”。",
    ],
};

/// The year (in China) of the household's last exit before its `i`-th case: the exit
/// case's, or for an exit before the system, the one the register import stored.
fn exit_year_before(household: &HouseholdFacts, i: usize) -> Option<i64> {
    match household.cases[..i].iter().rev().find(|c| c.kind == CaseKind::Exit) {
        Some(exit) => Some(i64::from(crate::clock::china_date(exit.closed_at).year())),
        None => household.exit_year,
    }
}

fn count_relapse(household: &HouseholdFacts, period: &Period, counts: &mut Counts) {
    for i in in_period(household, period) {
        let case = &household.cases[i];
        if !matches!(case.kind, CaseKind::ExitReversal | CaseKind::Relapse)
            || !exit_year_before(household, i).is_some_and(|year| (2014..=2016).contains(&year))
        {
            continue;
        }
        let people = household.members_after(i);
        counts.add("people", people);
        let mut add = |households: &'static str, people_key: &'static str| {
            counts.add(households, 1);
            counts.add(people_key, people);
        };
        if case.kind == CaseKind::ExitReversal {
            if !household.guarantees.all_secured() {
                add("unmet_households", "unmet_people");
            }
            if household.relocation_measure {
                add("relocation_households", "relocation_people");
            }
            if matches!(household.kind.as_str(), "dibao" | "wubao") || household.social_security_measure {
                add("social_security_households", "social_security_people");
            }
        } else {
            match case.reason.as_deref() {
                Some("disaster") => add("disaster_households", "disaster_people"),
                Some("disability") => add("disability_households", "disability_people"),
                Some("illness") => add("illness_households", "illness_people"),
                Some("schooling") => add("schooling_households", "schooling_people"),
                _ => add("other_cause_households", "other_cause_people"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::history::tests::event;
    use super::super::history::{CaseEvent, Guarantees};
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};
    use jingzhun_mobile_api::codes::REVIEW_FLAG;

    fn march() -> Period {
        // 2026-03-05 to 2026-03-20 in China time; `at(d)` is noon of day d.
        Period::new(NaiveDate::from_ymd_opt(2026, 3, 5).expect("d"), NaiveDate::from_ymd_opt(2026, 3, 20).expect("d"))
            .expect("period")
    }

    fn household(region: &str, status: &str, members: i64, cases: Vec<CaseEvent>) -> HouseholdFacts {
        HouseholdFacts {
            id: format!("{region}-{status}-{members}-{}", cases.len()),
            region_code: region.into(),
            status: status.into(),
            kind: "general".into(),
            active_members: members,
            cases,
            ..Default::default()
        }
    }

    fn groups() -> Vec<RowGroup> {
        ["320703001001", "320703001002"]
            .iter()
            .map(|c| RowGroup { code: Some((*c).into()), name: (*c).into(), prefix: (*c).into() })
            .collect()
    }

    /// A village's worth of histories: before, inside and after the period.
    fn households() -> Vec<HouseholdFacts> {
        use CaseKind::*;
        vec![
            // Registered long ago, nothing since.
            household("320703001001", "registered", 4, vec![event(Identify, None, 1)]),
            // Identified in the period with a newborn after.
            household(
                "320703001001",
                "registered",
                4,
                vec![event(Identify, None, 6), event(MemberChange, Some("newborn"), 8)],
            ),
            // Registered, a death, then removed in the period.
            household(
                "320703001001",
                "removed",
                2,
                vec![
                    event(Identify, None, 1),
                    event(MemberChange, Some("death"), 7),
                    event(Remove, Some("vehicle"), 9),
                ],
            ),
            // Exited before, relapsed in the period.
            household(
                "320703001002",
                "registered",
                3,
                vec![event(Identify, None, 1), event(Exit, None, 2), event(Relapse, Some("illness"), 10)],
            ),
            // Exited before and removed in the period: not a poor person leaving.
            household(
                "320703001002",
                "removed",
                5,
                vec![event(Identify, None, 1), event(Exit, None, 2), event(Remove, Some("nominal_hukou"), 11)],
            ),
            // Exits in the period.
            household("320703001002", "exited", 2, vec![event(Identify, None, 1), event(Exit, None, 12)]),
            // Identified after the period: not counted anywhere.
            household("320703001002", "registered", 6, vec![event(Identify, None, 25)]),
            // A member change in an applicant household: not a poor person.
            household("320703001002", "applicant", 3, vec![event(MemberChange, Some("marriage_in"), 8)]),
            // Bulk-loaded registered household with no cases at all.
            household("320703001002", "registered", 1, vec![]),
            // In the region but under no child region.
            household("320703001009", "registered", 2, vec![]),
        ]
    }

    fn assert_total_is_sum(table: &StatTable) {
        for (key, _) in table.columns() {
            let sum: i64 = table.rows.iter().map(|r| r.counts.get(key)).sum();
            assert_eq!(table.total.counts.get(key), sum, "{key}");
        }
    }

    /// The reconciliation under 附件1: the closing figure from the opening and every move.
    fn reconciles(c: &Counts) -> bool {
        c.get("baseline") + c.get("in_subtotal") + c.get("increase_other")
            - c.get("out_subtotal")
            - c.get("exited")
            - c.get("decrease_other")
            == c.get("remaining")
    }

    #[test]
    fn every_row_reconciles_and_the_baseline_is_counted() {
        let period = march();
        let hs = households();
        let table = tabulate(&DYNAMIC_ADJUSTMENT, &groups(), &hs, &period);
        assert_total_is_sum(&table);
        assert_eq!(table.rows.len(), 3, "two villages and the unassigned row");
        assert_eq!(table.rows[2].region_name, UNASSIGNED_ROW);
        for row in table.rows.iter().chain([&table.total]) {
            let c = &row.counts;
            assert!(reconciles(c), "{}: {c:?}", row.region_name);
            assert_eq!(c.get("net_decrease"), c.get("baseline") - c.get("remaining"), "附件1 注6");
            assert_eq!(c.get("in_subtotal"), c.sum(&ENTERED));
            assert_eq!(c.get("out_subtotal"), c.sum(&LEFT), "小计 is of the form's six columns only");
        }
        let direct: i64 = hs.iter().map(|h| h.poor_people_at(period.start())).sum();
        assert_eq!(table.total.counts.get("baseline"), direct);

        let v1 = &table.rows[0].counts;
        assert_eq!(v1.get("new_identified"), 3, "identified with 3, the newborn came later");
        assert_eq!(v1.get("increase_newborn"), 1);
        assert_eq!(v1.get("decrease_death"), 1);
        assert_eq!(v1.get("removed"), 2, "removed with the 2 left after the death");
        assert_eq!(v1.get("out_subtotal"), 3);
        assert_eq!(v1.get("remaining"), 8);
        assert_eq!(v1.get("baseline"), 4 + 3);
        let v2 = &table.rows[1].counts;
        assert_eq!(v2.get("relapse"), 3);
        assert_eq!(v2.get("removed"), 0, "the removed household had exited");
        assert_eq!((v2.get("exited"), v2.get("out_subtotal")), (2, 0), "脱贫 is no 动态退出 column of 附件1");
        assert_eq!(v2.get("increase_marriage_in"), 0, "applicants are not poor yet");
        assert_eq!(v2.get("remaining"), 3 + 1);
        assert_eq!(v2.get("baseline"), 2 + 1);
    }

    #[test]
    fn moves_the_form_has_no_column_for_are_in_the_reconciliation_only() {
        use CaseKind::*;
        let hs = vec![
            // A member released from prison (其他增加) and one who went missing (其他减少).
            household(
                "320703001001",
                "registered",
                5,
                vec![
                    event(Identify, None, 1),
                    event(MemberChange, Some("released"), 6),
                    event(MemberChange, Some("missing"), 7),
                ],
            ),
            // One person removed on 002 §二(二)9: 清除, one person, the household stays.
            household(
                "320703001002",
                "registered",
                3,
                vec![event(Identify, None, 1), event(Remove, Some("dead_missing_or_separate"), 8)],
            ),
        ];
        let table = tabulate(&DYNAMIC_ADJUSTMENT, &groups(), &hs, &march());
        let t = &table.total.counts;
        assert_eq!((t.get("increase_other"), t.get("decrease_other")), (1, 1));
        assert_eq!((t.get("in_subtotal"), t.get("out_subtotal"), t.get("removed")), (0, 1, 1));
        assert_eq!((t.get("baseline"), t.get("remaining")), (5 + 4, 5 + 3));
        assert!(reconciles(t), "{t:?}");
        let columns: Vec<&str> = table.columns().into_iter().map(|(k, _)| k).collect();
        for key in ["increase_other", "decrease_other", "exited", "in_subtotal"] {
            assert!(!columns.contains(&key), "{key} is not a column of 附件1");
            assert!(table.appendix_columns().iter().any(|(k, _)| *k == key), "{key} is in the reconciliation");
        }
        // The person removal is no household's removal in 附件3.
        let removals = tabulate(&REMOVALS, &groups(), &hs, &march());
        assert_eq!(removals.total.counts.get("households"), 0);
    }

    #[test]
    fn a_parent_row_equals_the_total_of_its_children() {
        let period = march();
        let hs = households();
        let township =
            vec![RowGroup { code: Some("320703001000".into()), name: "一号镇".into(), prefix: "320703001".into() }];
        for spec in [&DYNAMIC_ADJUSTMENT, &NEW_IDENTIFICATION, &REMOVALS, &RELAPSE] {
            let villages = tabulate(spec, &groups(), &hs, &period);
            let above = tabulate(spec, &township, &hs, &period);
            assert_eq!(above.rows[0].counts, villages.total.counts, "{:?}", spec.name);
        }
    }

    #[test]
    fn a_removed_household_counts_under_every_case_that_applies() {
        use CaseKind::*;
        // Removed for its car; its record also shows high bills and a wedding debt, and
        // the car again: three cases, the car counted once.
        let mut car =
            household("320703001001", "removed", 3, vec![event(Identify, None, 1), event(Remove, Some("vehicle"), 6)]);
        car.review_flags = vec!["high_living_costs", "vehicles_or_machinery", "wedding_debt"];
        // A 村干部 is no case of 000; an idle able-bodied member is 第7种.
        let mut cadre = household(
            "320703001001",
            "removed",
            2,
            vec![event(Identify, None, 1), event(Remove, Some("village_cadre"), 7)],
        );
        cadre.review_flags = vec!["idle_able_bodied"];
        // 空挂户 by its reason, nothing recorded.
        let nominal = household(
            "320703001002",
            "removed",
            4,
            vec![event(Identify, None, 1), event(Remove, Some("nominal_hukou"), 8)],
        );
        // 城镇自建房 is not 000's 商品房: no case by the reason alone.
        let self_built = household(
            "320703001002",
            "removed",
            1,
            vec![event(Identify, None, 1), event(Remove, Some("urban_property"), 9)],
        );
        // Outside the period.
        let later =
            household("320703001002", "removed", 4, vec![event(Identify, None, 1), event(Remove, Some("vehicle"), 22)]);
        let table = tabulate(&REMOVALS, &groups(), &[car, cadre, nominal, self_built, later], &march());
        assert_total_is_sum(&table);
        let t = &table.total.counts;
        let pair = |key: &str| (t.get(&format!("{key}_households")), t.get(&format!("{key}_people")));
        assert_eq!(t.get("households"), 4);
        assert_eq!(pair("vehicles"), (1, 3));
        assert_eq!(pair("high_living_costs"), (1, 3));
        assert_eq!(pair("wedding_debt"), (1, 3));
        assert_eq!(pair("idle"), (1, 2));
        assert_eq!(pair("absent_or_split"), (1, 4));
        assert_eq!(pair("urban_housing"), (0, 0));
        assert_eq!(pair("public_employee"), (0, 0));
        let parts: i64 = REVIEW_COLUMNS.iter().map(|(_, h, _)| t.get(h)).sum();
        assert_eq!(parts, 5, "the car's household is in three columns, the self-built house in none");
    }

    #[test]
    fn every_review_case_has_its_column_in_order() {
        let flags: Vec<&str> = REVIEW_FLAG.codes.iter().map(|c| c.code).collect();
        let columns: Vec<&str> = REVIEW_COLUMNS.iter().map(|(f, _, _)| *f).collect();
        assert_eq!(flags, columns);
        for reason in jingzhun_mobile_api::codes::REMOVAL_REASON.codes {
            if let Some(flag) = review_flag_of(reason.code) {
                assert!(flags.contains(&flag), "{}", reason.code);
            }
        }
    }

    fn exit_in(year: i32) -> CaseEvent {
        CaseEvent {
            kind: CaseKind::Exit,
            reason: None,
            closed_at: Utc.with_ymd_and_hms(year, 12, 20, 4, 0, 0).single().expect("date"),
        }
    }

    #[test]
    fn relapse_counts_only_the_2014_to_2016_exits_in_the_forms_order() {
        use CaseKind::*;
        // Exited 2015 in the system; reversed: guarantees unknown and a 低保 household.
        let identified_2014 = CaseEvent {
            closed_at: Utc.with_ymd_and_hms(2014, 5, 1, 4, 0, 0).single().expect("date"),
            ..event(Identify, None, 1)
        };
        let mut unmet = household(
            "320703001001",
            "registered",
            3,
            vec![identified_2014, exit_in(2015), event(ExitReversal, None, 6)],
        );
        unmet.kind = "dibao".into();
        // Exited 2014 before the system (imported), relapsed after a disaster.
        let mut disaster = household("320703001002", "registered", 2, vec![event(Relapse, Some("disaster"), 7)]);
        disaster.exit_year = Some(2014);
        disaster.guarantees = Guarantees {
            food_clothing: Some(true),
            education: Some(true),
            medical: Some(true),
            housing: Some(true),
            water: Some(true),
        };
        // Exited 2016 (imported), relapsed for a cause with no column of its own.
        let mut market = household("320703001002", "registered", 4, vec![event(Relapse, Some("market"), 8)]);
        market.exit_year = Some(2016);
        // Exited 2018: not a 2014–2016 exit, whatever the cause.
        let mut late = household("320703001002", "registered", 5, vec![event(Relapse, Some("illness"), 9)]);
        late.exit_year = Some(2018);
        // Imported as exited 2015, but its last exit before the relapse was in the system
        // this year: that exit is the one the relapse undoes.
        let mut again = household(
            "320703001001",
            "registered",
            6,
            vec![event(Relapse, Some("illness"), 2), event(Exit, None, 3), event(Relapse, Some("illness"), 10)],
        );
        again.exit_year = Some(2015);
        let table = tabulate(&RELAPSE, &groups(), &[unmet, disaster, market, late, again], &march());
        assert_total_is_sum(&table);
        let t = &table.total.counts;
        let pair = |key: &str| (t.get(&format!("{key}_households")), t.get(&format!("{key}_people")));
        assert_eq!(t.get("people"), 3 + 2 + 4);
        assert_eq!((pair("unmet"), pair("social_security"), pair("relocation")), ((1, 3), (1, 3), (0, 0)));
        assert_eq!((pair("disaster"), pair("other_cause"), pair("illness")), ((1, 2), (1, 4), (0, 0)));
    }

    #[test]
    fn new_identifications_by_situation() {
        use CaseKind::*;
        let mut dibao = household("320703001001", "registered", 3, vec![event(Identify, None, 6)]);
        dibao.kind = "dibao".into();
        dibao.disabled_member = true;
        let again = household(
            "320703001002",
            "registered",
            2,
            vec![event(Identify, None, 1), event(Remove, Some("vehicle"), 2), event(Identify, None, 9)],
        );
        let mut migrant = household("320703001002", "registered", 5, vec![event(Identify, None, 10)]);
        migrant.migrant_worker = true;
        migrant.guarantees.education = Some(true);
        migrant.guarantees.medical = Some(true);
        migrant.guarantees.housing = Some(true);
        let table = tabulate(&NEW_IDENTIFICATION, &groups(), &[dibao, again, migrant], &march());
        assert_total_is_sum(&table);
        let t = &table.total.counts;
        assert_eq!((t.get("households"), t.get("people")), (3, 10));
        assert_eq!((t.get("dibao_households"), t.get("dibao_people")), (1, 3));
        assert_eq!(t.get("disabled_people"), 3);
        assert_eq!((t.get("wrongly_removed_households"), t.get("wrongly_removed_people")), (1, 2));
        assert_eq!(t.get("migrant_households"), 0, "the migrant's household has its guarantees");
        assert_eq!(t.get("wubao_households"), 0);
    }

    /// The printed caption paths of a table for a period from 2017-01-01, as 000 附件 draws them.
    fn captions(spec: &'static TableSpec) -> Vec<String> {
        let period = Period::new(
            NaiveDate::from_ymd_opt(2017, 1, 1).expect("d"),
            NaiveDate::from_ymd_opt(2017, 7, 31).expect("d"),
        )
        .expect("period");
        tabulate(spec, &[], &[], &period).columns().into_iter().map(|(_, c)| c).collect()
    }

    #[test]
    fn annex_1_has_the_documents_columns() {
        let expected = [
            "2016年底贫困人口",
            "动态调整情况/动态进入/新识别",
            "动态调整情况/动态进入/家庭成员增加/新生儿",
            "动态调整情况/动态进入/家庭成员增加/迁入",
            "动态调整情况/动态进入/家庭成员增加/嫁入",
            "动态调整情况/动态进入/返贫人口",
            "动态调整情况/动态退出/小计",
            "动态调整情况/动态退出/清除",
            "动态调整情况/动态退出/迁出",
            "动态调整情况/动态退出/嫁出",
            "动态调整情况/动态退出/国外定居",
            "动态调整情况/动态退出/收监判刑",
            "动态调整情况/动态退出/死亡",
            "比2016年底贫困人口净减少数",
            "剩余贫困人口",
        ];
        assert_eq!(captions(&DYNAMIC_ADJUSTMENT), expected);
        assert_eq!(DYNAMIC_ADJUSTMENT.header.iter().map(Header::depth).max(), Some(4));
    }

    #[test]
    fn annex_3_has_the_documents_columns() {
        let cases = [
            "在城镇购买商品房或高标准装修现有住房的农户",
            "申请对象月水电燃料费、通讯费明显高于当地非贫困户的农户",
            "家庭拥有或使用机动车辆、船舶、工程机械及大型农机具的农户",
            "经商办企和长期雇佣他人从事生产经营活动的农户",
            "吃“财政饭”、家有公职人员的家庭",
            "户在人不在，常年联系不上以及空挂户、拆户、分户的农户",
            "家里有劳动能力、好吃懒做的农户",
            "举债为儿女操办婚礼致贫的农户",
        ];
        let mut expected = vec!["清除不符合贫困标准的农户".to_owned()];
        for case in cases {
            expected.push(format!("其中/{case}/户"));
            expected.push(format!("其中/{case}/人"));
        }
        assert_eq!(captions(&REMOVALS), expected);
    }

    #[test]
    fn annex_4_has_the_documents_columns() {
        let mut expected = vec!["2014-2016年返贫人口".to_owned()];
        for (group, parts) in [
            (
                "脱贫不实（需脱贫回退）",
                &["未解决“两不愁三保障”（包括安全饮水未解决）的脱贫户", "纳入易地搬迁的脱贫户", "社会保障兜底的脱贫户"]
                    [..],
            ),
            ("外力因素返贫（需标记返贫）", &["因灾", "因残", "因病", "因学", "其他"][..]),
        ] {
            for part in parts {
                expected.push(format!("其中/{group}/{part}/户"));
                expected.push(format!("其中/{group}/{part}/人"));
            }
        }
        assert_eq!(captions(&RELAPSE), expected);
    }

    #[test]
    fn the_opening_is_the_end_of_the_year_before_or_the_day_before() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("d");
        let period = |from, to| Period::new(from, to).expect("period");
        assert_eq!(opening_caption(&period(day(2017, 1, 1), day(2017, 7, 31))), "2016年底");
        assert_eq!(opening_caption(&period(day(2026, 3, 5), day(2026, 3, 20))), "2026年3月4日");
        let table = tabulate(&DYNAMIC_ADJUSTMENT, &[], &[], &march());
        assert_eq!(table.columns()[0].1, "2026年3月4日贫困人口");
        let mut out = json!({});
        table.write_json(&mut out);
        assert!(out["appendix"]["title"].as_str().is_some_and(|t| t.contains("不属于附件1") && !t.contains(OPENING)));
        assert_eq!(out["appendix"]["columns"][0]["label"], "2026年3月4日贫困人口");
    }

    #[test]
    fn header_keys_are_unique_and_spans_add_up() {
        for spec in [&DYNAMIC_ADJUSTMENT, &NEW_IDENTIFICATION, &REMOVALS, &RELAPSE] {
            let keys = leaves(spec.header);
            let unique: std::collections::HashSet<_> = keys.iter().map(|(k, _)| *k).collect();
            assert_eq!(unique.len(), keys.len(), "{:?}", spec.name);
            assert_eq!(spec.header.iter().map(Header::width).sum::<usize>(), keys.len());
        }
    }
}
