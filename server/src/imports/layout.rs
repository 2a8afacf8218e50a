//! The column layout of a register file: which header holds which field, and how a
//! cell's text becomes the wire value the field catalogue's validators check.
//!
//! One row per member; the household's columns are repeated on every row of the
//! household (or left blank after its first row). Headers follow the national system's
//! 对照表 (004 附件2): a header is recognised by its field code (`A4`, `A27a`) or by its
//! Chinese name, so `A4 居民身份证(残疾人证)号码`, `A4` and `证件号码` all name the ID
//! number. `docs/register-import.md` lists every column. A person without an ID card
//! is written as sync takes them (`validate::member_identity`): `A3 证件类型` 无证件 and
//! a `无证件原因` with A4 blank, or a 20-character 残疾人证 number in A4.
//!
//! What this must never do: touch the database, or decide what a value means beyond
//! turning the text an office writes (a label like 国家 or 是) into the wire form; the
//! catalogue's validators judge it.

use jingzhun_mobile_api::fields::{self, FieldKind, FieldSpec};
use serde_json::Value as Json;

/// Where a column's value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A household field of the catalogue.
    Household(&'static str),
    /// A member field of the catalogue.
    Member(&'static str),
    /// 户编号: the national system's household number, what a re-import matches on.
    HouseholdNumber,
    /// 户状态: registered, exited or removed.
    Status,
    /// 脱贫年度, required when exited.
    ExitYear,
    /// 建档立卡日期.
    RegisteredOn,
    /// 帮扶责任人账号: officers' usernames, separated by 、 , ; or spaces.
    Officers,
    /// A27a–c 致贫原因: one cause each, gathered into `poverty_causes`.
    PovertyCause,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The 004 附件2 field code, if the form gives one.
    pub code: Option<&'static str>,
    /// The header the documentation and the error report use.
    pub header: &'static str,
    /// Other names offices give the column.
    pub aliases: &'static [&'static str],
    pub target: Target,
    /// A file without this column is refused whole, and so is a row with this cell
    /// blank, except the ID number: `register` asks `validate::member_identity` whether
    /// the row says why it has none.
    pub required: bool,
}

const fn col(code: Option<&'static str>, header: &'static str, target: Target, required: bool) -> Column {
    Column { code, header, aliases: &[], target, required }
}

const fn alias(column: Column, aliases: &'static [&'static str]) -> Column {
    Column { aliases, ..column }
}

use Target::{Household as H, Member as M};

/// Every column the import reads, in the order of the sample file and the documentation.
pub static COLUMNS: &[Column] = &[
    col(None, "户编号", Target::HouseholdNumber, true),
    alias(col(None, "行政区划代码", H("region_code"), true), &["村行政区划代码", "所在村代码"]),
    col(None, "自然村（村民小组）", H("natural_village"), false),
    alias(col(None, "家庭住址", H("address"), false), &["住址"]),
    alias(col(None, "联系电话", H("phone"), false), &["户联系电话"]),
    col(None, "开户银行", H("bank_name"), false),
    col(None, "银行账号", H("bank_account"), false),
    alias(col(None, "户状态", Target::Status, true), &["贫困户状态"]),
    col(None, "建档立卡日期", Target::RegisteredOn, true),
    col(None, "脱贫年度", Target::ExitYear, false),
    alias(col(None, "帮扶责任人账号", Target::Officers, false), &["帮扶责任人"]),
    col(Some("A23"), "A23 识别标准", H("standard"), true),
    col(Some("A24"), "A24 贫困户属性", H("kind"), true),
    col(Some("A25"), "A25 军烈属", H("military_family"), false),
    col(Some("A26"), "A26 计划脱贫年度", H("planned_exit_year"), false),
    col(None, "参与消费扶贫", H("consumption_assistance"), false),
    col(None, "参加订单农业", H("order_farming"), false),
    col(Some("A27a"), "A27a 致贫原因1", Target::PovertyCause, false),
    col(Some("A27b"), "A27b 致贫原因2", Target::PovertyCause, false),
    col(Some("A27c"), "A27c 致贫原因3", Target::PovertyCause, false),
    col(Some("A33"), "A33 耕地面积（亩）", H("farmland_area"), false),
    col(Some("A34"), "A34 牧草地面积（亩）", H("grassland_area"), false),
    col(Some("A35"), "A35 水面面积（亩）", H("water_surface_area"), false),
    col(Some("A36"), "A36 林地面积（亩）", H("forest_area"), false),
    col(Some("A36a"), "A36a 退耕还林面积（亩）", H("returned_forest_area"), false),
    col(Some("A36b"), "A36b 林果面积（亩）", H("orchard_area"), false),
    col(Some("A37"), "A37 入户路类型", H("access_road"), false),
    col(Some("A38"), "A38 与村主干路距离（公里）", H("main_road_distance"), false),
    col(Some("A39"), "A39 是否加入农民专业合作组织", H("cooperative_member"), false),
    col(Some("A40"), "A40 危房等级", H("housing_grade"), false),
    col(Some("A41"), "A41 住房面积（平方米）", H("housing_area"), false),
    col(Some("A42"), "A42 是否通生活用电", H("has_electricity"), false),
    col(Some("A43"), "A43 是否有卫生厕所", H("has_sanitary_toilet"), false),
    col(Some("A44"), "A44 是否解决安全饮用水", H("water_secure"), false),
    col(Some("A45"), "A45 主要燃料类型", H("main_fuel"), false),
    col(Some("A46"), "A46 是否有龙头企业带动", H("leading_enterprise"), false),
    col(Some("A47"), "A47 是否有创业致富带头人带动", H("entrepreneur_led"), false),
    col(Some("A48"), "A48 是否通广播电视", H("has_radio_tv"), false),
    col(Some("A1"), "A1 姓名", M("name"), true),
    col(Some("A2"), "A2 性别", M("sex"), true),
    alias(col(Some("A3"), "A3 证件类型", M("id_type"), false), &["证件类型"]),
    // Required as a column, not as a cell: a person without a document (an unregistered
    // newborn) leaves it blank and says why in the two columns around it.
    alias(
        col(Some("A4"), "A4 证件号码", M("id_number"), true),
        &["居民身份证(残疾人证)号码", "身份证号码", "公民身份号码", "证件号码"],
    ),
    alias(col(None, "无证件原因", M("no_id_reason"), false), &["无证件说明", "无身份证原因"]),
    col(Some("A5"), "A5 与户主关系", M("relation"), true),
    col(Some("A6"), "A6 民族", M("ethnicity"), false),
    col(Some("A7"), "A7 政治面貌", M("political_status"), false),
    col(Some("A8"), "A8 文化程度", M("education"), false),
    col(Some("A9"), "A9 在校生状况", M("school_status"), false),
    col(Some("A10"), "A10 健康状况", M("health"), false),
    col(Some("A11"), "A11 劳动技能", M("labour_skill"), false),
    col(Some("A12"), "A12 务工区域", M("work_area"), false),
    col(Some("A13"), "A13 务工时间（月）", M("work_months"), false),
    col(Some("A14"), "A14 失学或辍学原因", M("dropout_reason"), false),
    col(Some("A15"), "A15 是否会讲普通话", M("speaks_mandarin"), false),
    col(Some("A16"), "A16 是否参加城乡居民基本养老保险", M("pension_insured"), false),
    col(Some("A17"), "A17 是否参加城乡居民基本医疗保险", M("medical_insured"), false),
    col(Some("A18"), "A18 是否参加大病保险", M("critical_illness_insured"), false),
    col(Some("A19"), "A19 是否享受农村居民最低生活保障", M("dibao_recipient"), false),
    col(Some("A20"), "A20 是否参加商业补充医疗保险", M("commercial_medical_insured"), false),
    col(Some("A21"), "A21 是否享受人身意外保险补贴", M("accident_insurance_subsidy"), false),
    col(Some("A51"), "A51 是否接受医疗救助", M("medical_assistance"), false),
    col(None, "务工企业名称", M("employer"), false),
    col(None, "所属行业", M("industry"), false),
    col(None, "就业渠道", M("employment_channel"), false),
];

/// A header as offices vary it: no spaces, ASCII parentheses.
fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c,
        })
        .collect()
}

/// The field code a header starts with (`A4`, `A27a`), if any.
fn leading_code(header: &str) -> Option<&str> {
    let rest = header.strip_prefix('A')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let mut end = 1 + digits;
    if header[end..].starts_with(|c: char| c.is_ascii_lowercase()) {
        end += 1;
    }
    // `A4x1` is not `A4`: a code ends where the name begins.
    if header[end..].starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(&header[..end])
}

/// The column a header names, if the import reads it.
pub fn column_of(header: &str) -> Option<&'static Column> {
    let header = normalise(header);
    if header.is_empty() {
        return None;
    }
    let code = leading_code(&header);
    COLUMNS.iter().find(|c| {
        (code.is_some() && c.code == code)
            || normalise(c.header) == header
            || c.aliases.iter().any(|a| normalise(a) == header)
    })
}

/// The catalogue field a column fills, if it is one.
pub fn field_of(target: Target) -> Option<&'static FieldSpec> {
    match target {
        Target::Household(name) => fields::HOUSEHOLD.field(name),
        Target::Member(name) => fields::MEMBER.field(name),
        _ => None,
    }
}

/// The spreadsheet name of a cell (`D5`) from its 0-based column and 1-based line.
pub fn cell_name(column: usize, line: usize) -> String {
    let mut letters = Vec::new();
    let mut n = column + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{line}", String::from_utf8_lossy(&letters))
}

/// A code given as its code or its Chinese label (国家 → national).
pub fn code_from(table: &str, text: &str) -> String {
    let Some(table) = fields::code_table(table) else {
        return text.to_owned();
    };
    if table.contains(text) {
        return text.to_owned();
    }
    table.codes.iter().find(|c| c.label == text).map_or_else(|| text.to_owned(), |c| c.code.to_owned())
}

/// Yes or no as offices write it; anything else is left as text for the validator to refuse.
fn flag(text: &str) -> Json {
    match text {
        "是" | "√" | "有" | "1" | "true" | "TRUE" | "True" | "Y" | "y" => Json::Bool(true),
        "否" | "×" | "无" | "0" | "false" | "FALSE" | "False" | "N" | "n" => Json::Bool(false),
        other => Json::String(other.to_owned()),
    }
}

/// A date as registers write it: 2016-05-01, 2016/5/1, 20160501, 2016.5.1 or
/// 2016年5月1日 (an XLSX date cell reads as the first form).
pub fn date(text: &str) -> Option<chrono::NaiveDate> {
    let t = text.split([' ', 'T']).next().unwrap_or(text);
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日"]
        .iter()
        .find_map(|f| chrono::NaiveDate::parse_from_str(t, f).ok())
}

/// The wire value of a non-empty cell for a catalogue field.
pub fn wire_value(field: &FieldSpec, text: &str) -> Json {
    let number =
        || serde_json::from_str::<serde_json::Number>(text).map_or_else(|_| Json::String(text.into()), Json::Number);
    match field.kind {
        FieldKind::Bool => flag(text),
        FieldKind::Code { table } => Json::String(code_from(table, text)),
        FieldKind::Codes { table, .. } => Json::Array(
            text.split(['、', ',', '，', ';', '；'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Json::String(code_from(table, s)))
                .collect(),
        ),
        // An XLSX number cell of a whole year reads as `2019`; `2019.0` from other tools too.
        FieldKind::Int { .. } => match text.strip_suffix(".0").unwrap_or(text).parse::<i64>() {
            Ok(i) => Json::from(i),
            Err(_) => Json::String(text.into()),
        },
        FieldKind::Money | FieldKind::Decimal { .. } => number(),
        FieldKind::Date => Json::String(date(text).map_or_else(|| text.to_owned(), |d| d.to_string())),
        _ => Json::String(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_target_names_a_field_and_headers_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for column in COLUMNS {
            if let Target::Household(_) | Target::Member(_) = column.target {
                assert!(field_of(column.target).is_some(), "{}", column.header);
            }
            assert!(seen.insert(normalise(column.header)), "{}", column.header);
            assert_eq!(column_of(column.header).map(|c| c.header), Some(column.header));
        }
    }

    #[test]
    fn headers_are_known_by_their_code_or_their_name() {
        assert_eq!(column_of("A4 居民身份证(残疾人证) 号码").map(|c| c.target), Some(Target::Member("id_number")));
        assert_eq!(column_of("A4").map(|c| c.target), Some(Target::Member("id_number")));
        assert_eq!(column_of("身份证号码").map(|c| c.target), Some(Target::Member("id_number")));
        assert_eq!(column_of("证件类型").map(|c| c.target), Some(Target::Member("id_type")));
        assert_eq!(column_of("无证件原因").map(|c| c.target), Some(Target::Member("no_id_reason")));
        assert_eq!(column_of("A29d 养老保险金（元）").map(|c| c.header), None, "income is not imported");
        assert_eq!(
            column_of("A36a退耕还林面积(亩)").map(|c| c.target),
            Some(Target::Household("returned_forest_area"))
        );
        assert_eq!(column_of("A40危房等级").map(|c| c.target), Some(Target::Household("housing_grade")));
        assert!(column_of("备注").is_none());
    }

    #[test]
    fn cells_become_wire_values() {
        let standard = fields::HOUSEHOLD.field("standard").expect("standard");
        assert_eq!(wire_value(standard, "省定"), Json::from("provincial"));
        assert_eq!(wire_value(standard, "national"), Json::from("national"));
        let flag = fields::MEMBER.field("dibao_recipient").expect("flag");
        assert_eq!(wire_value(flag, "是"), Json::Bool(true));
        assert_eq!(wire_value(flag, "也许"), Json::from("也许"));
        let id_type = fields::MEMBER.field("id_type").expect("id_type");
        assert_eq!(wire_value(id_type, "无证件"), Json::from("none"));
        assert_eq!(wire_value(id_type, "残疾人证"), Json::from("disability_card"));
        assert_eq!(cell_name(0, 2), "A2");
        assert_eq!(cell_name(27, 10), "AB10");
        assert_eq!(date("2016年5月1日"), chrono::NaiveDate::from_ymd_opt(2016, 5, 1));
    }
}
