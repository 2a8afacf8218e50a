//! The paper the national system is filled from (issue 11 item 6): the per-household
//! 对照表 in the field order of 004 附件2 (A1–A51, a printed page per household), 004
//! 附件3 家庭成员自然增加情况表 (以户为单位) and 附件4 自然减少情况表 (以村为单位), laid
//! out as the seed prints them, column for column.
//!
//! Pure: records in, a laid-out sheet and its JSON out; `queries` reads, `request`
//! audits. The printed forms carry ID and phone numbers whole, unlike every other
//! report: officers copy them into the national system and take them to the household
//! to check, and a masked number can be neither copied nor checked. So only the report
//! roles get them, only for households they read, and each household printed is audited
//! as a whole-record view (`request::audit_paper`). A form built for the screen
//! (`Numbers::Masked`, the console's preview) masks them by the catalogue's one rule
//! (`records::masking`), so looking at it prints nothing and audits nothing. The bank
//! account stays masked either way (the catalogue never gives it out), the form marks
//! it 选填.
//!
//! What this must never do: reorder, rename or add a column the seed does not have, or
//! put two households on one printed page.

use super::register::{Officer, RegisterInput, active, head, hundredths};
use super::sheet::{Cell, Sheet, Style};
use super::{Period, Report};
use crate::records::{Record, masking};
use chrono::Datelike;
use jingzhun_mobile_api::codes::{CodeTable, MEMBER_DECREASE_REASON, MEMBER_INCREASE_REASON, POVERTY_CAUSE, RELATION};
use jingzhun_mobile_api::fields::{self, FieldKind, HOUSEHOLD, INCOME, MEMBER};
use jingzhun_mobile_api::validate::{FieldValue, mask_phone};
use serde_json::{Value, json};
use std::collections::HashMap;

/// 004 附件2 二、家庭成员信息 and 附件3: the member columns after 序号, in the seed's
/// order, with the stored field each is read from.
pub const MEMBER_COLUMNS: [(&str, &str); 22] = [
    ("A1 姓名", "name"),
    ("A2 性别", "sex"),
    ("A3 证件类型", "id_type"),
    ("A4 居民身份证(残疾人证)号码", "id_number"),
    ("A5 与户主关系", "relation"),
    ("A6 民族", "ethnicity"),
    ("A7 政治面貌", "political_status"),
    ("A8 文化程度", "education"),
    ("A9 在校生状况", "school_status"),
    ("A10 健康状况", "health"),
    ("A11 劳动技能", "labour_skill"),
    ("A12 务工区域", "work_area"),
    ("A13 务工时间", "work_months"),
    ("A14 失学或辍学原因", "dropout_reason"),
    ("A15 是否会讲普通话", "speaks_mandarin"),
    ("A16 是否参加城乡居民基本养老保险", "pension_insured"),
    ("A17 是否参加城乡居民基本医疗保险", "medical_insured"),
    ("A18 是否参加大病保险", "critical_illness_insured"),
    ("A19 是否享受农村居民最低生活保障", "dibao_recipient"),
    ("A20 是否参加商业补充医疗保险", "commercial_medical_insured"),
    ("A21 是否享受人身意外保险补贴", "accident_insurance_subsidy"),
    ("A51 是否接受医疗救助", "medical_assistance"),
];

/// The three work columns that close both member tables.
pub const WORK_COLUMNS: [(&str, &str); 3] =
    [("务工企业名称", "employer"), ("所属行业", "industry"), ("就业渠道", "employment_channel")];

/// 004 附件2 一、基础信息, in the seed's order (家庭住址 is built from the region).
const BASIC: [(&str, &str); 9] = [
    ("联系电话", "phone"),
    ("开户银行（选填）", "bank_name"),
    ("银行账号（选填）", "bank_account"),
    ("A23 识别标准", "standard"),
    ("A24 贫困户属性", "kind"),
    ("A25 军烈属", "military_family"),
    ("A26 计划脱贫年度", "planned_exit_year"),
    ("参与消费扶贫", "consumption_assistance"),
    ("参加订单农业", "order_farming"),
];

/// 004 附件2 四、收入情况, in the order the seed's grid reads line by line.
const INCOME_ITEMS: [(&str, &str); 13] = [
    ("A28 工资性收入（元）", "wage"),
    ("A29 转移性收入（元）", "transfer"),
    ("A29d 养老保险金（元）", "pension"),
    ("A30 生产经营性收入（元）", "business"),
    ("A29a 计划生育金（元）", "family_planning"),
    ("A29e 生态补偿金（元）", "ecological_compensation"),
    ("A31 财产性收入（元）", "property"),
    ("A29b 低保金（元）", "dibao"),
    ("A29f 其他转移性收（元）", "other_transfer"),
    ("A31a 资产收益扶贫分红收入（元）", "asset_dividend"),
    ("A29c 特困供养金（元）", "wubao"),
    ("A31b 其他财产性收入（元）", "other_property"),
    ("A32 生产经营性支出（元）", "business_expense"),
];

/// 004 附件2 五、生产生活条件 (A44 is the guarantee `water_secure`).
const CONDITIONS: [(&str, &str); 18] = [
    ("A33 耕地面积（亩）", "farmland_area"),
    ("A34 牧草地面积（亩）", "grassland_area"),
    ("A35 水面面积（亩）", "water_surface_area"),
    ("A36 林地面积（亩）", "forest_area"),
    ("A36a 退耕还林面积(亩)", "returned_forest_area"),
    ("A36b 林果面积（亩）", "orchard_area"),
    ("A37 入户路类型", "access_road"),
    ("A38 与村主干路距离（公里）", "main_road_distance"),
    ("A39 是否加入农民专业合作组织", "cooperative_member"),
    ("A40 危房等级", "housing_grade"),
    ("A41 住房面积（平方米）", "housing_area"),
    ("A42 是否通生活用电", "has_electricity"),
    ("A43 是否有卫生厕所", "has_sanitary_toilet"),
    ("A44 是否解决安全饮用水", "water_secure"),
    ("A45 主要燃料类型", "main_fuel"),
    ("A46 是否有龙头企业带动", "leading_enterprise"),
    ("A47 是否有创业致富带头人带动", "entrepreneur_led"),
    ("A48 是否通广播电视", "has_radio_tv"),
];

/// 004 附件2 六、帮扶责任人.
pub const OFFICER_COLUMNS: [&str; 8] =
    ["序号", "姓名", "性别", "政治面貌", "帮扶（选派）单位名称", "帮扶开始时间", "帮扶结束时间", "联系电话"];

/// 004 附件4's columns.
pub const DECREASE_COLUMNS: [&str; 5] =
    ["户主姓名", "户主证件号码", "减少家庭成员姓名", "减少家庭成员证件号码", "减少原因"];

/// At most this many households on one 对照表: a worksheet holds at most 1,023 page
/// breaks, and a village or township is what one officer prints at a time.
pub const FORM_MAX_HOUSEHOLDS: u64 = 1000;

pub const FORM_NOTES: &[&str] = &[
    "按004附件2《新识别低收入农户信息采集表》的栏目和顺序（A1–A51）列出系统中的现有数据，每户一页，供入户核实后录入全国扶贫开发信息系统。",
    "证件号码、联系电话为全号，仅限有权查看该户的人员打印，每次打印按户记入审计日志；银行账号只显示末四位。",
    "收入为统计期末所在年度及以前最近一年的收入记录；空白表示系统中尚无记录，须入户采集。",
];

pub const INCREASE_NOTES: &[&str] = &[
    "村委会或驻村工作队针对有家庭成员增加的低收入农户，以户为单位填报此表。",
    "增加原因包括（1）新生儿、（2）婚入、（3）户籍迁入、（4）刑满释放、（5）收养、（6）失联人口回归。填写增加原因后括号内的编号，如婚入填“2”。",
    "收录统计期间内办结的家庭成员增加程序；证件号码为全号，打印按户记入审计日志。",
];

pub const DECREASE_NOTES: &[&str] = &[
    "村委会或驻村工作队针对有家庭成员有减少的低收入农户，以村为单位填报此表。",
    "减少原因包括（1）死亡、（2）婚出、（3）出国定居、（4）判刑收监、（5）户籍迁出、（6）农转非、（7）失联、（8）分散供养转集中供养。填写减少原因后括号内的编号，如婚出填“2”。",
    "收录统计期间内办结的家庭成员减少程序；按002 §二(二)9清除的人员不是自然减少，不在此表。证件号码为全号，打印按户记入审计日志。",
];

/// How a paper form shows ID and phone numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Numbers {
    /// Masked as the office's lists mask them: for the screen. The default, so a form is
    /// never whole unless the caller that audits it asked for it.
    #[default]
    Masked,
    /// Whole: the printed file, each household audited as a `print`.
    Whole,
}

impl Numbers {
    /// `value` of `entity.field` as this form shows it.
    fn apply(self, entity: &fields::EntitySpec, field: &str, value: String) -> String {
        match (self, masking::for_field(entity.name, field)) {
            (Numbers::Masked, Some(mask)) if !value.is_empty() => mask(&value),
            _ => value,
        }
    }

    /// An officer's phone (a user's, not a catalogue field), as this form shows it.
    fn phone(self, phone: Option<&str>) -> String {
        match (self, phone) {
            (Numbers::Masked, Some(p)) if !p.is_empty() => mask_phone(p),
            (_, p) => p.unwrap_or_default().to_owned(),
        }
    }
}

/// A built paper form: the sheet to print, its JSON, and the households whose whole
/// numbers it shows (each audited).
#[derive(Debug, Clone)]
pub struct Paper {
    pub sheet: Sheet,
    pub json: Value,
    pub households: Vec<String>,
}

/// A completed member change, read by `queries::member_changes`.
#[derive(Debug, Clone)]
pub struct MemberChange {
    pub household_id: String,
    pub member_id: String,
    pub reason: String,
}

/// What the member-change tables are built from.
#[derive(Debug, Clone, Default)]
pub struct ChangeInput {
    /// In order: village, household, when the case closed.
    pub changes: Vec<MemberChange>,
    /// Every member (active and former) of the households concerned, by household.
    pub members: HashMap<String, Vec<Record>>,
    /// Village names by code.
    pub villages: HashMap<String, String>,
    /// Village code by household.
    pub household_village: HashMap<String, String>,
}

/// Households a 对照表 is printed for: every household the office still works with
/// (applicants being identified, registered, exited), not removed or rejected ones.
pub fn on_form(household: &Record) -> bool {
    !matches!(household.text("status"), Some("removed" | "rejected"))
}

/// A stored value as the form shows it: code labels, 是/否, yuan, areas.
pub fn shown(entity: &fields::EntitySpec, record: &Record, field: &str) -> String {
    let Some(spec) = entity.field(field) else { return String::new() };
    let value = record.value(field);
    match (spec.kind, value) {
        (_, FieldValue::Null) => String::new(),
        (FieldKind::Code { table }, FieldValue::Text(code)) => label(table, code),
        (FieldKind::Codes { table, .. }, FieldValue::List(codes)) => {
            codes.iter().map(|c| label(table, c)).collect::<Vec<_>>().join("、")
        }
        (_, FieldValue::Bool(b)) => if *b { "是" } else { "否" }.to_owned(),
        (_, FieldValue::Money(fen)) => Cell::Yuan(*fen).display(),
        (_, FieldValue::Decimal(n)) => hundredths(*n),
        (_, FieldValue::Int(n)) => n.to_string(),
        (_, FieldValue::BankAccount(_)) => value.to_json().as_str().unwrap_or_default().to_owned(),
        (_, FieldValue::Text(s) | FieldValue::Date(s) | FieldValue::Uuid(s)) => s.clone(),
        (_, FieldValue::List(items)) => items.join("、"),
    }
}

fn label(table: &str, code: &str) -> String {
    fields::code_table(table).and_then(|t| t.label_of(code)).unwrap_or(code).to_owned()
}

/// The number the 004 forms ask for: a reason's place in its table, from 1.
fn form_number(table: &CodeTable, code: &str) -> Option<i64> {
    table.codes.iter().position(|c| c.code == code).map(|i| i as i64 + 1)
}

/// Head first, then the relation table's order, as the form numbers them.
fn in_form_order(mut members: Vec<&Record>) -> Vec<&Record> {
    let rank = |m: &Record| {
        let relation = m.text("relation").unwrap_or_default();
        RELATION.codes.iter().position(|c| c.code == relation).unwrap_or(RELATION.codes.len())
    };
    members.sort_by_key(|m| (rank(m), m.text("name").map(str::to_owned), m.id.clone()));
    members
}

fn text_cell(s: impl Into<String>) -> (Cell, Style) {
    (Cell::text(s), Style::Data)
}

fn header_row(sheet: &mut Sheet, captions: impl IntoIterator<Item = String>) -> usize {
    sheet.push(captions.into_iter().map(|c| (Cell::Text(c), Style::Header)).collect(), Style::Header)
}

fn member_captions(with_reason: bool) -> Vec<String> {
    let mut captions = vec!["序号".to_owned()];
    captions.extend(MEMBER_COLUMNS.iter().map(|(c, _)| (*c).to_owned()));
    if with_reason {
        captions.push("增加原因".to_owned());
    }
    captions.extend(WORK_COLUMNS.iter().map(|(c, _)| (*c).to_owned()));
    captions
}

fn member_values(member: &Record, numbers: Numbers) -> Vec<String> {
    MEMBER_COLUMNS
        .iter()
        .chain(WORK_COLUMNS.iter())
        .map(|(_, field)| numbers.apply(&MEMBER, field, shown(&MEMBER, member, field)))
        .collect()
}

/// Widths of the member table: 序号, the 22 A-columns, [增加原因], the work columns.
fn member_widths(with_reason: bool) -> Vec<f64> {
    let mut widths = vec![5.0, 9.0, 5.0, 8.0, 20.0, 8.0, 6.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 6.0, 8.0];
    widths.extend(std::iter::repeat_n(7.0, 7));
    widths.push(7.0);
    if with_reason {
        widths.push(7.0);
    }
    widths.extend([14.0, 10.0, 10.0]);
    widths
}

/// `label value` pairs, `per_row` to a line; a label takes `label_span` columns, a value
/// the rest of its share of the width.
fn pairs(sheet: &mut Sheet, items: &[(String, String)], per_row: usize) {
    let share = sheet.width / per_row;
    let label_span = share / 2;
    for line in items.chunks(per_row) {
        let mut cells = Vec::new();
        for (i, (label, value)) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let value_span = if last { sheet.width - share * i - label_span } else { share - label_span };
            cells.push((Cell::text(label.as_str()), Style::Label, label_span));
            cells.push((Cell::text(value.as_str()), Style::Data, value_span));
        }
        sheet.spanned(cells);
    }
}

/// The 对照表: one printed page per household of `input`, in its order.
pub fn household_forms(report: &Report, input: &RegisterInput, period: &Period) -> Paper {
    let numbers = report.numbers;
    let with_reason = false;
    let widths = member_widths(with_reason);
    let width = widths.len();
    let mut sheet = Sheet::new(report.title(), width, widths);
    sheet.landscape = true;
    let none = Vec::new();
    let mut households = Vec::new();
    let mut json_households = Vec::new();
    if input.households.is_empty() {
        super::sheet::heading(&mut sheet, report);
        sheet.banner("（无符合条件的户）", Style::Data);
    }
    for (i, h) in input.households.iter().enumerate() {
        if i > 0 {
            sheet.page_breaks.push(sheet.rows.len());
        }
        let members = input.members.get(&h.id).unwrap_or(&none);
        let region = h.text("region_code").unwrap_or_default();
        let head_name = head(&active(members)).and_then(|m| m.text("name")).unwrap_or_default();
        sheet.banner(report.title(), Style::Title);
        sheet.banner(
            format!(
                "{}　户主：{head_name}　户编号：{}　统计期末：{}",
                input.locations.get(region).map_or(region, String::as_str),
                h.id,
                period.to.format("%Y年%-m月%-d日")
            ),
            Style::Meta,
        );

        sheet.banner("一、基础信息", Style::Section);
        let address = [
            input.locations.get(region).cloned().unwrap_or_default(),
            shown(&HOUSEHOLD, h, "natural_village"),
            shown(&HOUSEHOLD, h, "address"),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        let mut basic = vec![("家庭住址".to_owned(), address)];
        basic.extend(
            BASIC.iter().map(|(l, f)| ((*l).to_owned(), numbers.apply(&HOUSEHOLD, f, shown(&HOUSEHOLD, h, f)))),
        );
        pairs(&mut sheet, &basic[..1], 1);
        pairs(&mut sheet, &basic[1..], 3);

        sheet.banner("二、家庭成员信息", Style::Section);
        header_row(&mut sheet, member_captions(with_reason));
        let listed = in_form_order(active(members));
        let mut json_members = Vec::new();
        for (n, m) in listed.iter().enumerate() {
            let values = member_values(m, numbers);
            let mut cells = vec![(Cell::Int(n as i64 + 1), Style::Data)];
            cells.extend(values.iter().map(|v| text_cell(v.as_str())));
            sheet.push(cells, Style::Data);
            json_members.push(Value::Array(values.into_iter().map(Value::from).collect()));
        }

        sheet.banner("三、致贫原因", Style::Section);
        let causes = h.list("poverty_causes");
        let cause_items: Vec<(String, String)> = ["A27a 致贫原因1", "A27b 致贫原因2", "A27c 致贫原因3"]
            .iter()
            .enumerate()
            .map(|(k, l)| ((*l).to_owned(), causes.get(k).map(|c| label(POVERTY_CAUSE.name, c)).unwrap_or_default()))
            .collect();
        pairs(&mut sheet, &cause_items, 3);

        let incomes = input.incomes.get(&h.id).unwrap_or(&none);
        let latest = incomes
            .iter()
            .filter(|r| r.int("year").is_some_and(|y| y <= i64::from(period.to.year())))
            .max_by_key(|r| r.int("year"));
        let year = latest.and_then(|r| r.int("year"));
        sheet.banner(
            match year {
                Some(y) => format!("四、收入情况（{y}年度）"),
                None => "四、收入情况".to_owned(),
            },
            Style::Section,
        );
        let income_items: Vec<(String, String)> = INCOME_ITEMS
            .iter()
            .map(|(l, f)| ((*l).to_owned(), latest.map(|r| shown(&INCOME, r, f)).unwrap_or_default()))
            .collect();
        pairs(&mut sheet, &income_items, 3);

        sheet.banner("五、生产生活条件", Style::Section);
        let condition_items: Vec<(String, String)> =
            CONDITIONS.iter().map(|(l, f)| ((*l).to_owned(), shown(&HOUSEHOLD, h, f))).collect();
        pairs(&mut sheet, &condition_items, 3);

        sheet.banner("六、帮扶责任人", Style::Section);
        let officers = input.officers.get(&h.id).unwrap_or(&Vec::new()).clone();
        officer_table(&mut sheet, &officers, numbers);

        sheet.blank();
        sheet.banner(
            "填表人：　　　　　　　联系电话：　　　　　　　户主签名：　　　　　　　填表日期：　　　年　　月　　日",
            Style::Meta,
        );

        let section = |items: &[(String, String)]| -> Value {
            Value::Array(items.iter().map(|(l, v)| json!({"label": l, "value": v})).collect())
        };
        json_households.push(json!({
            "id": h.id,
            "region_code": region,
            "head_name": head_name,
            "basic": section(&basic),
            "member_columns": member_captions(with_reason),
            "members": json_members,
            "causes": section(&cause_items),
            "income_year": year,
            "income": section(&income_items),
            "conditions": section(&condition_items),
            "officer_columns": OFFICER_COLUMNS,
            "officers": officers.iter().map(|o| officer_values(o, numbers)).collect::<Vec<_>>(),
        }));
        households.push(h.id.clone());
    }
    Paper { sheet, json: json!({"layout": "household_form", "households": json_households}), households }
}

fn officer_values(o: &Officer, numbers: Numbers) -> Vec<String> {
    vec![
        o.name.clone(),
        o.sex.clone().unwrap_or_default(),
        o.political_status.clone().unwrap_or_default(),
        o.work_unit.clone().unwrap_or_default(),
        o.start_date.to_string(),
        o.end_date.map(|d| d.to_string()).unwrap_or_default(),
        numbers.phone(o.phone.as_deref()),
    ]
}

/// 六、帮扶责任人: the officer columns spread over the member table's width.
fn officer_table(sheet: &mut Sheet, officers: &[Officer], numbers: Numbers) {
    // 序号 1 column, then seven columns of equal share.
    let share = (sheet.width - 1) / 7;
    let spans: Vec<usize> = (0..7).map(|i| if i == 6 { sheet.width - 1 - share * 6 } else { share }).collect();
    let mut header = vec![(Cell::text(OFFICER_COLUMNS[0]), Style::Header, 1)];
    header.extend(OFFICER_COLUMNS[1..].iter().zip(&spans).map(|(c, s)| (Cell::text(*c), Style::Header, *s)));
    sheet.spanned(header);
    for (n, o) in officers.iter().enumerate() {
        let mut cells = vec![(Cell::Int(n as i64 + 1), Style::Data, 1)];
        cells.extend(officer_values(o, numbers).into_iter().zip(&spans).map(|(v, s)| (Cell::Text(v), Style::Data, *s)));
        sheet.spanned(cells);
    }
}

/// 004 附件3: a block per household with members added in the period (以户为单位).
pub fn increase_table(report: &Report, input: &ChangeInput) -> Paper {
    let widths = member_widths(true);
    let mut sheet = Sheet::new(report.title(), widths.len(), widths);
    sheet.landscape = true;
    super::sheet::heading(&mut sheet, report);
    let mut order: Vec<&str> = Vec::new();
    let mut by_household: HashMap<&str, Vec<&MemberChange>> = HashMap::new();
    for change in input.changes.iter().filter(|c| MEMBER_INCREASE_REASON.contains(&c.reason)) {
        if !by_household.contains_key(change.household_id.as_str()) {
            order.push(&change.household_id);
        }
        by_household.entry(&change.household_id).or_default().push(change);
    }
    if order.is_empty() {
        sheet.banner("（统计期间内没有办结的家庭成员增加）", Style::Data);
    }
    let none = Vec::new();
    let mut json_blocks = Vec::new();
    for household in &order {
        let members = input.members.get(*household).unwrap_or(&none);
        let head = head(&active(members));
        let village = input.household_village.get(*household).cloned().unwrap_or_default();
        let village_name = input.villages.get(&village).cloned().unwrap_or_default();
        let head_name = head.and_then(|m| m.text("name")).unwrap_or_default().to_owned();
        let head_id = report.numbers.apply(
            &MEMBER,
            "id_number",
            head.and_then(|m| m.text("id_number")).unwrap_or_default().to_owned(),
        );
        sheet.blank();
        sheet.banner(
            format!("行政村名称：{village_name}　行政区划代码：{village}　户主姓名：{head_name}　证件号码：{head_id}"),
            Style::Meta,
        );
        header_row(&mut sheet, member_captions(true));
        let mut rows = Vec::new();
        for (n, change) in by_household[household].iter().enumerate() {
            let Some(member) = members.iter().find(|m| m.id == change.member_id) else { continue };
            let mut values = member_values(member, report.numbers);
            let reason = form_number(&MEMBER_INCREASE_REASON, &change.reason).unwrap_or_default();
            let mut cells = vec![(Cell::Int(n as i64 + 1), Style::Data)];
            cells.extend(values[..MEMBER_COLUMNS.len()].iter().map(|v| text_cell(v.as_str())));
            cells.push((Cell::Int(reason), Style::Data));
            cells.extend(values[MEMBER_COLUMNS.len()..].iter().map(|v| text_cell(v.as_str())));
            sheet.push(cells, Style::Data);
            values.insert(MEMBER_COLUMNS.len(), reason.to_string());
            rows.push(values);
        }
        json_blocks.push(json!({
            "household_id": household, "village_name": village_name, "village_code": village,
            "head_name": head_name, "head_id_number": head_id, "rows": rows,
        }));
    }
    let json = json!({"layout": "member_increase", "columns": member_captions(true), "households": json_blocks});
    Paper { sheet, json, households: order.iter().map(|h| (*h).to_owned()).collect() }
}

/// 004 附件4: a block per village with its members gone in the period (以村为单位).
pub fn decrease_table(report: &Report, input: &ChangeInput) -> Paper {
    let widths = vec![12.0, 22.0, 14.0, 22.0, 10.0];
    let mut sheet = Sheet::new(report.title(), widths.len(), widths);
    super::sheet::heading(&mut sheet, report);
    let mut villages: Vec<String> = Vec::new();
    let mut by_village: HashMap<String, Vec<&MemberChange>> = HashMap::new();
    for change in input.changes.iter().filter(|c| MEMBER_DECREASE_REASON.contains(&c.reason)) {
        let village = input.household_village.get(&change.household_id).cloned().unwrap_or_default();
        if !by_village.contains_key(&village) {
            villages.push(village.clone());
        }
        by_village.entry(village).or_default().push(change);
    }
    if villages.is_empty() {
        sheet.banner("（统计期间内没有办结的家庭成员减少）", Style::Data);
    }
    let none = Vec::new();
    let mut households = Vec::new();
    let mut json_blocks = Vec::new();
    for village in &villages {
        let village_name = input.villages.get(village).cloned().unwrap_or_default();
        sheet.blank();
        sheet.banner(format!("行政村名称：{village_name}　行政区划代码：{village}"), Style::Meta);
        header_row(&mut sheet, DECREASE_COLUMNS.iter().map(|c| (*c).to_owned()));
        let mut rows = Vec::new();
        for change in &by_village[village] {
            let members = input.members.get(&change.household_id).unwrap_or(&none);
            let Some(member) = members.iter().find(|m| m.id == change.member_id) else { continue };
            let head = head(&active(members));
            let text = |m: Option<&Record>, f: &str| {
                report.numbers.apply(&MEMBER, f, m.and_then(|m| m.text(f)).unwrap_or_default().to_owned())
            };
            let reason = form_number(&MEMBER_DECREASE_REASON, &change.reason).unwrap_or_default();
            let values = [
                text(head, "name"),
                text(head, "id_number"),
                text(Some(member), "name"),
                text(Some(member), "id_number"),
            ];
            let mut cells: Vec<(Cell, Style)> = values.iter().map(|v| text_cell(v.as_str())).collect();
            cells.push((Cell::Int(reason), Style::Data));
            sheet.push(cells, Style::Data);
            rows.push(json!([values[0], values[1], values[2], values[3], reason]));
            if !households.contains(&change.household_id) {
                households.push(change.household_id.clone());
            }
        }
        json_blocks.push(json!({"village_code": village, "village_name": village_name, "rows": rows}));
    }
    let json = json!({"layout": "member_decrease", "columns": DECREASE_COLUMNS, "villages": json_blocks});
    Paper { sheet, json, households }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_member_columns_are_the_forms_a1_to_a21_and_a51() {
        let codes: Vec<&str> = MEMBER_COLUMNS.iter().map(|(c, _)| c.split(' ').next().unwrap_or_default()).collect();
        let mut expected: Vec<String> = (1..=21).map(|n| format!("A{n}")).collect();
        expected.push("A51".into());
        assert_eq!(codes, expected);
        for (_, field) in MEMBER_COLUMNS.iter().chain(WORK_COLUMNS.iter()) {
            assert!(MEMBER.field(field).is_some(), "{field} is a member field");
        }
        for (_, field) in BASIC.iter().chain(CONDITIONS.iter()) {
            assert!(HOUSEHOLD.field(field).is_some(), "{field} is a household field");
        }
        for (_, field) in INCOME_ITEMS {
            assert!(INCOME.field(field).is_some(), "{field} is an income field");
        }
    }

    #[test]
    fn reasons_print_as_the_forms_numbers() {
        assert_eq!(form_number(&MEMBER_INCREASE_REASON, "marriage_in"), Some(2));
        assert_eq!(form_number(&MEMBER_DECREASE_REASON, "marriage_out"), Some(2));
        assert_eq!(form_number(&MEMBER_DECREASE_REASON, "institutional_care"), Some(8));
    }
}
