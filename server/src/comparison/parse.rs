//! Reading a department list (CSV in UTF-8, or the first sheet of an XLSX workbook)
//! into rows keyed by header. Headers are matched by their usual Chinese names. The file
//! is read through `crate::tabular`, within its caps.

use crate::tabular::{self, Caps, Format, TableError};
use chrono::NaiveDate;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FileError {
    #[error("not a CSV (UTF-8) or XLSX file")]
    Unreadable,
    #[error("no column holds ID numbers (身份证号码)")]
    NoIdColumn,
    #[error("the file has no rows")]
    Empty,
    /// Past one of the upload caps (rows, columns, cell size, unpacked size).
    #[error(transparent)]
    Cap(TableError),
}

impl From<TableError> for FileError {
    fn from(err: TableError) -> FileError {
        match err {
            TableError::Unreadable => FileError::Unreadable,
            cap => FileError::Cap(cap),
        }
    }
}

/// One data row: its 1-based line in the file (header is line 1) and its cells by header.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: usize,
    pub cells: BTreeMap<String, String>,
}

/// The parsed list and which of its headers hold what.
#[derive(Debug)]
pub struct Sheet {
    pub rows: Vec<Row>,
    pub id_column: String,
    pub name_column: Option<String>,
    pub date_column: Option<String>,
    pub value_column: Option<String>,
}

const MAX_HEADER_CHARS: usize = 40;
const ID_HEADERS: &[&str] = &["身份证号码", "身份证号", "公民身份号码", "证件号码", "id_number"];
const NAME_HEADERS: &[&str] = &["姓名", "name"];
const DATE_HEADERS: &[&str] =
    &["取得日期", "登记日期", "购买日期", "注册日期", "成立日期", "入职日期", "任职日期", "死亡日期", "日期", "date"];
const VALUE_HEADERS: &[&str] = &["价格", "金额", "价值", "购置价格", "value"];

/// Parses with the default caps (tests and tools; the server passes its configured ones).
pub fn parse(file_name: &str, bytes: &[u8]) -> Result<Sheet, FileError> {
    parse_with(file_name, bytes, &Caps::default())
}

pub fn parse_with(file_name: &str, bytes: &[u8], caps: &Caps) -> Result<Sheet, FileError> {
    let mut table = tabular::read_all(Format::detect(file_name, bytes), bytes, caps)?;
    if table.is_empty() {
        return Err(FileError::Empty);
    }
    // The table starts at its first used column, as a department lays it out.
    let blank = |c: &String| c.trim().is_empty();
    let first_used = table.iter().filter_map(|r| r.cells.iter().position(|c| !blank(c))).min().unwrap_or(0);
    let width = table.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    for row in &mut table {
        row.cells.resize(width, String::new());
        row.cells.drain(..first_used);
    }
    let mut lines = table.into_iter();
    // Every row keeps its cells by header, so a header is copied into every row: long
    // ones would multiply a small file into gigabytes. A real header is a few words.
    let headers: Vec<String> = lines
        .next()
        .ok_or(FileError::Empty)?
        .cells
        .into_iter()
        .map(|h| h.trim().chars().take(MAX_HEADER_CHARS).collect())
        .collect();
    let find = |names: &[&str]| headers.iter().find(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n))).cloned();
    let id_column = find(ID_HEADERS).ok_or(FileError::NoIdColumn)?;
    let rows: Vec<Row> = lines
        .filter(|row| row.cells.iter().any(|c| !blank(c)))
        .map(|row| Row {
            line: row.line,
            cells: headers.iter().cloned().zip(row.cells.into_iter().map(|c| c.trim().to_owned())).collect(),
        })
        .collect();
    if rows.is_empty() {
        return Err(FileError::Empty);
    }
    Ok(Sheet {
        rows,
        id_column,
        name_column: find(NAME_HEADERS),
        date_column: find(DATE_HEADERS),
        value_column: find(VALUE_HEADERS),
    })
}

/// A date as departments write it: 2019-05-01, 2019/5/1, 20190501 or 2019年5月1日.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let t = t.split([' ', 'T']).next().unwrap_or(t);
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
}

/// The first cell under a header of `names` (in their order) of a row kept as a lead's
/// details (cells by header).
fn cell_in<'a>(details: &'a serde_json::Value, names: &[&str]) -> Option<&'a str> {
    let row = details.as_object()?;
    names.iter().find_map(|name| {
        row.iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .and_then(|(_, cell)| cell.as_str())
            .filter(|cell| !cell.trim().is_empty())
    })
}

/// The date a department wrote on a lead's row (bought, registered, appointed…).
pub fn date_in(details: &serde_json::Value) -> Option<NaiveDate> {
    cell_in(details, DATE_HEADERS).and_then(parse_date)
}

/// The value in yuan a department wrote on a lead's row (a vehicle's price), as a JSON
/// number the field catalogue's money validator reads.
pub fn value_in(details: &serde_json::Value) -> Option<serde_json::Value> {
    let text = cell_in(details, VALUE_HEADERS)?.replace([',', ' '], "");
    serde_json::from_str::<serde_json::Number>(&text).ok().map(serde_json::Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_chinese_headers_and_bom() {
        let csv = "\u{feff}姓名,身份证号码,登记日期,价格\n张三,11010519491231002X,2019/5/1,85000\n\n";
        let sheet = parse("vehicles.csv", csv.as_bytes()).expect("parses");
        assert_eq!(sheet.rows.len(), 1);
        assert_eq!(sheet.rows[0].line, 2);
        assert_eq!(sheet.rows[0].cells["身份证号码"], "11010519491231002X");
        assert_eq!(sheet.date_column.as_deref(), Some("登记日期"));
        assert_eq!(sheet.value_column.as_deref(), Some("价格"));
    }

    #[test]
    fn bad_files_are_refused_whole() {
        assert_eq!(parse("x.csv", b"name,phone\na,1\n").map(|_| ()), Err(FileError::NoIdColumn));
        assert_eq!(parse("x.csv", &[0xff, 0xfe, 0x00, 0x41]).map(|_| ()), Err(FileError::Unreadable));
        assert_eq!(
            parse("x.csv", "身份证号码,姓名\n1,2,3\n".as_bytes()).map(|_| ()),
            Err(FileError::Unreadable),
            "ragged rows"
        );
        assert_eq!(parse("x.xlsx", b"PK\x03\x04 not really a zip").map(|_| ()), Err(FileError::Unreadable));
        assert_eq!(parse("x.csv", "身份证号码\n".as_bytes()).map(|_| ()), Err(FileError::Empty));
    }

    #[test]
    fn caps_are_passed_through_and_a_bomb_is_refused() {
        use crate::tabular::tests::{inline, workbook};
        let bomb = workbook(
            &format!(
                r#"<row r="1">{}</row><row r="1048576">{}</row>"#,
                inline("A1", "身份证号码"),
                inline("XFD1048576", "x")
            ),
            None,
        );
        assert!(matches!(parse("bomb.xlsx", &bomb), Err(FileError::Cap(TableError::TooManyRows { .. }))));
        let caps = Caps { max_rows: 2, ..Caps::default() };
        assert!(matches!(
            parse_with("x.csv", "身份证号码\n1\n2\n".as_bytes(), &caps),
            Err(FileError::Cap(TableError::TooManyRows { limit: 2 }))
        ));
    }

    #[test]
    fn an_xlsx_list_starting_in_column_b_keys_its_cells_by_header() {
        use crate::tabular::tests::{inline, workbook};
        let data = format!(
            r#"<row r="2">{}{}</row><row r="3">{}</row>"#,
            inline("B2", "身份证号码"),
            inline("C2", "姓名"),
            inline("B3", "11010519491231002X")
        );
        let sheet = parse("x.xlsx", &workbook(&data, None)).expect("parses");
        assert_eq!(sheet.rows[0].line, 3);
        assert_eq!(sheet.rows[0].cells.keys().collect::<Vec<_>>(), vec!["姓名", "身份证号码"]);
        assert_eq!(sheet.rows[0].cells["姓名"], "");
    }

    #[test]
    fn dates_in_the_usual_department_forms() {
        let d = NaiveDate::from_ymd_opt(2019, 5, 1);
        for text in ["2019-05-01", "2019/5/1", "20190501", "2019年5月1日", "2019-05-01 00:00:00"] {
            assert_eq!(parse_date(text), d, "{text}");
        }
        assert_eq!(parse_date("去年"), None);
    }

    #[test]
    fn a_leads_row_gives_its_date_and_value() {
        let details = serde_json::json!({"line": 2, "姓名": "张三", "登记日期": "2019/5/1", "价格": "85,000"});
        assert_eq!(date_in(&details), NaiveDate::from_ymd_opt(2019, 5, 1));
        assert_eq!(value_in(&details), Some(serde_json::json!(85000)));
        let blank = serde_json::json!({"日期": "", "价格": "不详"});
        assert_eq!((date_in(&blank), value_in(&blank)), (None, None));
    }
}
