//! The four statistics tables of 000 附件1–4: one row per child region and a total.
//!
//! Each table is a [`TableSpec`]: its header as the form draws it, a function that adds
//! one household's numbers for the period to a row, and a function that fills the
//! columns computed from others (subtotals, the derived baseline). Both are linear, so
//! a row is the sum of its households, the total is the sum of the rows, and a county's
//! row for a township equals the township's own total.
//!
//! Pure: households in, table out.

use super::history::{HouseholdFacts, is_poor};
use super::{Period, ReportName};
use crate::procedures::CaseKind;
use jingzhun_mobile_api::codes::REVIEW_FLAG;
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

/// One table: its header, how a household counts, and what is derived.
pub struct TableSpec {
    pub name: ReportName,
    pub header: &'static [Header],
    /// Adds one household's numbers for the period.
    pub count: fn(&HouseholdFacts, &Period, &mut Counts),
    /// Fills the derived columns of a row from its counted ones. Must be linear.
    pub derive: fn(&mut Counts),
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
        Counts(leaves(spec.header).into_iter().map(|(key, _)| (key, 0)).collect())
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
    pub rows: Vec<StatRow>,
    pub total: StatRow,
}

impl StatTable {
    pub fn columns(&self) -> Vec<(&'static str, String)> {
        leaves(self.spec.header)
    }

    pub fn write_json(&self, out: &mut Value) {
        let columns = self.columns();
        let row = |r: &StatRow| {
            let values: Map<String, Value> =
                columns.iter().map(|(k, _)| ((*k).to_owned(), json!(r.counts.get(k)))).collect();
            json!({"region_code": r.region_code, "region_name": r.region_name, "values": values})
        };
        out["columns"] = columns.iter().map(|(key, label)| json!({"key": key, "label": label})).collect();
        out["rows"] = self.rows.iter().map(row).collect();
        out["total"] = row(&self.total);
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
    StatTable { spec, rows, total }
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

const INCREASES: [&str; 4] = ["increase_newborn", "increase_moved_in", "increase_marriage_in", "increase_other"];
const DECREASES: [&str; 6] = [
    "decrease_moved_out",
    "decrease_marriage_out",
    "decrease_settled_abroad",
    "decrease_imprisoned",
    "decrease_death",
    "decrease_other",
];

pub static DYNAMIC_ADJUSTMENT: TableSpec = TableSpec {
    name: ReportName::DynamicAdjustment,
    header: &[
        Header::Leaf { key: "baseline", label: "期初贫困人口" },
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
                                Header::Leaf { key: "increase_other", label: "其他" },
                            ],
                        },
                        Header::Leaf { key: "relapse", label: "返贫人口" },
                        Header::Leaf { key: "in_subtotal", label: "小计" },
                    ],
                },
                Header::Group {
                    label: "动态退出",
                    children: &[
                        Header::Leaf { key: "removed", label: "清除" },
                        Header::Leaf { key: "exited", label: "脱贫" },
                        Header::Group {
                            label: "家庭成员减少",
                            children: &[
                                Header::Leaf { key: "decrease_moved_out", label: "迁出" },
                                Header::Leaf { key: "decrease_marriage_out", label: "嫁出" },
                                Header::Leaf { key: "decrease_settled_abroad", label: "国外定居" },
                                Header::Leaf { key: "decrease_imprisoned", label: "收监判刑" },
                                Header::Leaf { key: "decrease_death", label: "死亡" },
                                Header::Leaf { key: "decrease_other", label: "其他" },
                            ],
                        },
                        Header::Leaf { key: "out_subtotal", label: "小计" },
                    ],
                },
            ],
        },
        Header::Leaf { key: "net_decrease", label: "比期初贫困人口净减少数" },
        Header::Leaf { key: "remaining", label: "剩余贫困人口" },
    ],
    count: count_dynamic_adjustment,
    derive: derive_dynamic_adjustment,
    notes: &[
        "期初贫困人口由本表推算：期初贫困人口 = 剩余贫困人口 − 动态进入小计 + 动态退出小计，故每行自洽；净减少数 = 期初贫困人口 − 剩余贫困人口。",
        "贫困人口指在档未脱贫户（在档贫困户、预退出）的在户家庭成员；剩余贫困人口按统计期末的户状态计。",
        "人数以报表生成时的在户家庭成员为准，并按已办结的家庭成员自然增减程序倒推到各事件发生时；未经程序登记的成员视为一直在户。",
        "新识别、返贫（含脱贫回退）、清除、脱贫按统计期间内办结（县级公告完成）的程序计。原表无“脱贫”列，为使各行自洽单列于动态退出；清除只计清除前未脱贫的户，已脱贫户的清除见清除人口情况统计表。",
        "家庭成员增加、减少按统计期间内办结的成员自然增减程序计，只计当时为贫困户的成员。增加“其他”含刑满释放、收养、失联人口回归；减少“其他”含农转非、失联、分散供养转集中供养。",
        "各行按村级区划代码前缀归入下级区划，合计等于各行之和，上级报表中本区划一行等于本表合计。",
    ],
};

/// The column of a member change, by its reason (R7).
fn member_change_column(reason: Option<&str>) -> Option<&'static str> {
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
                if let Some(column) = member_change_column(case.reason.as_deref()) {
                    counts.add(column, 1);
                }
            }
            None => {}
        }
    }
    counts.add("remaining", household.poor_people_at(period.end()));
}

fn derive_dynamic_adjustment(counts: &mut Counts) {
    let entered = counts.get("new_identified") + counts.sum(&INCREASES) + counts.get("relapse");
    let left = counts.get("removed") + counts.get("exited") + counts.sum(&DECREASES);
    let remaining = counts.get("remaining");
    let baseline = remaining - entered + left;
    counts.set("in_subtotal", entered);
    counts.set("out_subtotal", left);
    counts.set("baseline", baseline);
    counts.set("net_decrease", baseline - remaining);
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

/// The eight review cases of 000 §四(一) (`REVIEW_FLAG`), in order, with their columns,
/// then the removals that fit none of them.
const REMOVAL_COLUMNS: [(&str, &str, &str); 9] = [
    ("urban_housing_or_renovation", "urban_housing_households", "urban_housing_people"),
    ("high_living_costs", "high_living_costs_households", "high_living_costs_people"),
    ("vehicles_or_machinery", "vehicles_households", "vehicles_people"),
    ("business_or_employer", "business_households", "business_people"),
    ("public_employee", "public_employee_households", "public_employee_people"),
    ("absent_nominal_or_split", "absent_or_split_households", "absent_or_split_people"),
    ("idle_able_bodied", "idle_households", "idle_people"),
    ("wedding_debt", "wedding_debt_households", "wedding_debt_people"),
    ("other", "other_reason_households", "other_reason_people"),
];

pub static REMOVALS: TableSpec = TableSpec {
    name: ReportName::Removals,
    header: &[
        pair!("清除不符合贫困标准的农户", "households", "people"),
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
                pair!("其他原因", "other_reason_households", "other_reason_people"),
            ],
        },
    ],
    count: count_removals,
    derive: |_| {},
    notes: &[
        "按统计期间内办结的清除程序计（含已脱贫户的清除）：户数为办结的程序数，人数为清除时的在户家庭成员数。",
        "清除原因（002 §二(二)）归入 000 §四(一) 的八种情形：城镇自建房或商品房、门面房→第1种；机动车→第3种；长期雇工、工商注册经营→第4种；财政供养人员→第5种；故意分户并户、空挂户→第6种。现任村干部，死亡、失踪或不共享收支的人员，优亲厚友、弄虚作假等原因列入“其他原因”；第2、7、8种情形没有对应的清除原因，为0。",
        "每个清除程序只有一个原因，八种情形与“其他原因”之和等于清除户数、人数。",
    ],
};

/// The review case a removal reason (or a review flag itself) falls under.
pub fn review_flag_of(reason: &str) -> Option<&'static str> {
    match reason {
        "urban_property" => Some("urban_housing_or_renovation"),
        "vehicle" => Some("vehicles_or_machinery"),
        "hires_workers" | "registered_business" => Some("business_or_employer"),
        "public_servant" => Some("public_employee"),
        "split_or_merged_for_benefits" | "nominal_hukou" => Some("absent_nominal_or_split"),
        other => REVIEW_FLAG.codes.iter().find(|c| c.code == other).map(|c| c.code),
    }
}

fn count_removals(household: &HouseholdFacts, period: &Period, counts: &mut Counts) {
    for i in in_period(household, period) {
        let case = &household.cases[i];
        if case.kind != CaseKind::Remove {
            continue;
        }
        let people = household.members_after(i);
        counts.add("households", 1);
        counts.add("people", people);
        let flag = case.reason.as_deref().and_then(review_flag_of).unwrap_or("other");
        if let Some((_, households, people_key)) = REMOVAL_COLUMNS.iter().find(|(f, _, _)| *f == flag) {
            counts.add(households, 1);
            counts.add(people_key, people);
        }
    }
}

// ---- 附件4 返贫人口情况统计表 --------------------------------------------------------

pub static RELAPSE: TableSpec = TableSpec {
    name: ReportName::Relapse,
    header: &[
        pair!("返贫人口", "households", "people"),
        Header::Group {
            label: "其中",
            children: &[
                Header::Group {
                    label: "脱贫不实（需脱贫回退）",
                    children: &[
                        pair!("小计", "reversal_households", "reversal_people"),
                        pair!("未解决“两不愁三保障”（包括安全饮水未解决）的脱贫户", "unmet_households", "unmet_people"),
                        pair!("纳入易地搬迁的脱贫户", "relocation_households", "relocation_people"),
                        pair!("社会保障兜底的脱贫户", "social_security_households", "social_security_people"),
                    ],
                },
                Header::Group {
                    label: "外力因素返贫（需标记返贫）",
                    children: &[
                        pair!("小计", "external_households", "external_people"),
                        pair!("因病", "illness_households", "illness_people"),
                        pair!("因残", "disability_households", "disability_people"),
                        pair!("因灾", "disaster_households", "disaster_people"),
                        pair!("因学", "schooling_households", "schooling_people"),
                        pair!("其他原因", "other_cause_households", "other_cause_people"),
                    ],
                },
            ],
        },
    ],
    count: count_relapse,
    derive: derive_relapse,
    notes: &[
        "按统计期间内办结的程序计：脱贫回退程序为脱贫不实，返贫程序为外力因素返贫；户数为办结的程序数，人数为办结时的在户家庭成员数。返贫人口 = 两个小计之和。",
        "脱贫不实的三种情况以现有记录判断：两不愁三保障（含安全饮水）任一未记录为有保障；有易地扶贫搬迁类帮扶措施；低保、特困供养贫困户或有社会保障兜底类帮扶措施。上述 3 种情况，同一农户可以重复。",
        "外力因素按返贫程序的返贫原因归类，因病、因残、因灾、因学以外的原因列入“其他原因”。",
    ],
};

fn count_relapse(household: &HouseholdFacts, period: &Period, counts: &mut Counts) {
    for i in in_period(household, period) {
        let case = &household.cases[i];
        let people = household.members_after(i);
        let mut add = |households: &'static str, people_key: &'static str| {
            counts.add(households, 1);
            counts.add(people_key, people);
        };
        match case.kind {
            CaseKind::ExitReversal => {
                add("reversal_households", "reversal_people");
                if !household.guarantees.all_secured() {
                    add("unmet_households", "unmet_people");
                }
                if household.relocation_measure {
                    add("relocation_households", "relocation_people");
                }
                if matches!(household.kind.as_str(), "dibao" | "wubao") || household.social_security_measure {
                    add("social_security_households", "social_security_people");
                }
            }
            CaseKind::Relapse => {
                add("external_households", "external_people");
                match case.reason.as_deref() {
                    Some("illness") => add("illness_households", "illness_people"),
                    Some("disability") => add("disability_households", "disability_people"),
                    Some("disaster") => add("disaster_households", "disaster_people"),
                    Some("schooling") => add("schooling_households", "schooling_people"),
                    _ => add("other_cause_households", "other_cause_people"),
                }
            }
            _ => {}
        }
    }
}

fn derive_relapse(counts: &mut Counts) {
    counts.set("households", counts.get("reversal_households") + counts.get("external_households"));
    counts.set("people", counts.get("reversal_people") + counts.get("external_people"));
}

#[cfg(test)]
mod tests {
    use super::super::history::tests::event;
    use super::super::history::{CaseEvent, Guarantees};
    use super::*;
    use chrono::NaiveDate;

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

    #[test]
    fn every_row_is_consistent_and_the_baseline_is_the_true_one() {
        let period = march();
        let hs = households();
        let table = tabulate(&DYNAMIC_ADJUSTMENT, &groups(), &hs, &period);
        assert_total_is_sum(&table);
        assert_eq!(table.rows.len(), 3, "two villages and the unassigned row");
        assert_eq!(table.rows[2].region_name, UNASSIGNED_ROW);
        for row in table.rows.iter().chain([&table.total]) {
            let c = &row.counts;
            assert_eq!(c.get("baseline") + c.get("in_subtotal") - c.get("out_subtotal"), c.get("remaining"));
            assert_eq!(c.get("net_decrease"), c.get("baseline") - c.get("remaining"));
        }
        // The derived baseline equals the poor people at the start, counted directly.
        let direct: i64 = hs.iter().map(|h| h.poor_people_at(period.start())).sum();
        assert_eq!(table.total.counts.get("baseline"), direct);

        let v1 = &table.rows[0].counts;
        assert_eq!(v1.get("new_identified"), 3, "identified with 3, the newborn came later");
        assert_eq!(v1.get("increase_newborn"), 1);
        assert_eq!(v1.get("decrease_death"), 1);
        assert_eq!(v1.get("removed"), 2, "removed with the 2 left after the death");
        assert_eq!(v1.get("remaining"), 8);
        assert_eq!(v1.get("baseline"), 4 + 3);
        let v2 = &table.rows[1].counts;
        assert_eq!(v2.get("relapse"), 3);
        assert_eq!(v2.get("removed"), 0, "the removed household had exited");
        assert_eq!(v2.get("exited"), 2);
        assert_eq!(v2.get("increase_marriage_in"), 0, "applicants are not poor yet");
        assert_eq!(v2.get("remaining"), 3 + 1);
        assert_eq!(v2.get("baseline"), 2 + 1);
    }

    #[test]
    fn a_parent_row_equals_the_total_of_its_children() {
        let period = march();
        let hs = households();
        let villages = tabulate(&DYNAMIC_ADJUSTMENT, &groups(), &hs, &period);
        let township =
            vec![RowGroup { code: Some("320703001000".into()), name: "一号镇".into(), prefix: "320703001".into() }];
        let above = tabulate(&DYNAMIC_ADJUSTMENT, &township, &hs, &period);
        assert_eq!(above.rows[0].counts, villages.total.counts);
    }

    #[test]
    fn removals_fall_under_the_eight_review_cases() {
        use CaseKind::*;
        let hs = vec![
            household("320703001001", "removed", 3, vec![event(Identify, None, 1), event(Remove, Some("vehicle"), 6)]),
            household(
                "320703001001",
                "removed",
                2,
                vec![event(Identify, None, 1), event(Remove, Some("village_cadre"), 7)],
            ),
            household(
                "320703001002",
                "removed",
                4,
                vec![event(Identify, None, 1), event(Remove, Some("nominal_hukou"), 8)],
            ),
            // Outside the period.
            household("320703001002", "removed", 4, vec![event(Identify, None, 1), event(Remove, Some("vehicle"), 22)]),
        ];
        let table = tabulate(&REMOVALS, &groups(), &hs, &march());
        assert_total_is_sum(&table);
        let t = &table.total.counts;
        assert_eq!((t.get("households"), t.get("people")), (3, 9));
        assert_eq!((t.get("vehicles_households"), t.get("vehicles_people")), (1, 3));
        assert_eq!((t.get("other_reason_households"), t.get("other_reason_people")), (1, 2));
        assert_eq!((t.get("absent_or_split_households"), t.get("absent_or_split_people")), (1, 4));
        let parts: i64 = REMOVAL_COLUMNS.iter().map(|(_, h, _)| t.get(h)).sum();
        assert_eq!(parts, t.get("households"));
    }

    #[test]
    fn every_review_case_has_its_column_in_order() {
        let flags: Vec<&str> = REVIEW_FLAG.codes.iter().map(|c| c.code).collect();
        let columns: Vec<&str> = REMOVAL_COLUMNS.iter().map(|(f, _, _)| *f).take(8).collect();
        assert_eq!(flags, columns);
        for reason in jingzhun_mobile_api::codes::REMOVAL_REASON.codes {
            // Every removal reason lands somewhere: a review case or 其他原因.
            let _ = review_flag_of(reason.code);
        }
    }

    #[test]
    fn relapse_splits_reversals_and_external_causes() {
        use CaseKind::*;
        let mut unmet = household(
            "320703001001",
            "registered",
            3,
            vec![event(Identify, None, 1), event(Exit, None, 2), event(ExitReversal, None, 6)],
        );
        unmet.kind = "dibao".into();
        let mut secured = household(
            "320703001002",
            "registered",
            2,
            vec![event(Identify, None, 1), event(Exit, None, 2), event(Relapse, Some("disaster"), 7)],
        );
        secured.guarantees = Guarantees {
            food_clothing: Some(true),
            education: Some(true),
            medical: Some(true),
            housing: Some(true),
            water: Some(true),
        };
        let other = household(
            "320703001002",
            "registered",
            4,
            vec![event(Identify, None, 1), event(Exit, None, 2), event(Relapse, Some("market"), 8)],
        );
        let table = tabulate(&RELAPSE, &groups(), &[unmet, secured, other], &march());
        assert_total_is_sum(&table);
        let t = &table.total.counts;
        assert_eq!((t.get("households"), t.get("people")), (3, 9));
        assert_eq!((t.get("reversal_households"), t.get("unmet_people"), t.get("social_security_people")), (1, 3, 3));
        assert_eq!((t.get("external_households"), t.get("disaster_people"), t.get("other_cause_people")), (2, 2, 4));
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

    #[test]
    fn header_keys_are_unique_and_spans_add_up() {
        for spec in [&DYNAMIC_ADJUSTMENT, &NEW_IDENTIFICATION, &REMOVALS, &RELAPSE] {
            let keys = leaves(spec.header);
            let unique: std::collections::HashSet<_> = keys.iter().map(|(k, _)| *k).collect();
            assert_eq!(unique.len(), keys.len(), "{:?}", spec.name);
            assert_eq!(spec.header.iter().map(Header::width).sum::<usize>(), keys.len());
        }
        assert_eq!(DYNAMIC_ADJUSTMENT.header.iter().map(Header::depth).max(), Some(4));
    }
}
