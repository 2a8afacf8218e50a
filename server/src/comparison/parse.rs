//! Reading a department list (CSV in UTF-8, or the first sheet of an XLSX workbook)
//! into rows keyed by header. Headers are matched by their usual Chinese names.

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::io::Cursor;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FileError {
    #[error("not a CSV (UTF-8) or XLSX file")]
    Unreadable,
    #[error("no column holds ID numbers (身份证号码)")]
    NoIdColumn,
    #[error("the file has no rows")]
    Empty,
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

const ID_HEADERS: &[&str] = &["身份证号码", "身份证号", "公民身份号码", "证件号码", "id_number"];
const NAME_HEADERS: &[&str] = &["姓名", "name"];
const DATE_HEADERS: &[&str] =
    &["取得日期", "登记日期", "购买日期", "注册日期", "成立日期", "入职日期", "任职日期", "死亡日期", "日期", "date"];
const VALUE_HEADERS: &[&str] = &["价格", "金额", "价值", "购置价格", "value"];

pub fn parse(file_name: &str, bytes: &[u8]) -> Result<Sheet, FileError> {
    let is_xlsx = bytes.starts_with(b"PK\x03\x04") || file_name.to_lowercase().ends_with(".xlsx");
    let table = if is_xlsx { read_xlsx(bytes)? } else { read_csv(bytes)? };
    let mut lines = table.into_iter();
    let headers: Vec<String> = lines.next().ok_or(FileError::Empty)?.into_iter().map(|h| h.trim().to_owned()).collect();
    let find = |names: &[&str]| headers.iter().find(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n))).cloned();
    let id_column = find(ID_HEADERS).ok_or(FileError::NoIdColumn)?;
    let rows: Vec<Row> = lines
        .enumerate()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .map(|(i, cells)| Row {
            line: i + 2,
            cells: headers.iter().cloned().zip(cells.into_iter().map(|c| c.trim().to_owned())).collect(),
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

fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, FileError> {
    let text = std::str::from_utf8(bytes).map_err(|_| FileError::Unreadable)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\0') {
        return Err(FileError::Unreadable);
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(false).from_reader(text.as_bytes());
    reader
        .records()
        .map(|record| record.map(|r| r.iter().map(str::to_owned).collect()).map_err(|_| FileError::Unreadable))
        .collect()
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, FileError> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).map_err(|_| FileError::Unreadable)?;
    let range = workbook.worksheet_range_at(0).ok_or(FileError::Empty)?.map_err(|_| FileError::Unreadable)?;
    Ok(range.rows().map(|row| row.iter().map(cell_text).collect()).collect())
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        // ID numbers typed as numbers lose digits; keep what is there, validation refuses it.
        Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
        Data::DateTime(dt) => dt.as_datetime().map(|d| d.date().to_string()).unwrap_or_else(|| dt.to_string()),
        other => other.to_string(),
    }
}

/// A date as departments write it: 2019-05-01, 2019/5/1, 20190501 or 2019年5月1日.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let t = t.split([' ', 'T']).next().unwrap_or(t);
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
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
    fn dates_in_the_usual_department_forms() {
        let d = NaiveDate::from_ymd_opt(2019, 5, 1);
        for text in ["2019-05-01", "2019/5/1", "20190501", "2019年5月1日", "2019-05-01 00:00:00"] {
            assert_eq!(parse_date(text), d, "{text}");
        }
        assert_eq!(parse_date("去年"), None);
    }
}
