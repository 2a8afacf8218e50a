//! The validation report of a register import as an XLSX workbook (issue 11 item 1):
//! one row per failing cell under the headers 行, 列, 字段, 问题, the header row frozen,
//! so a county office fixes its file cell by cell in the tool it keeps the register in;
//! a second sheet carries the summary the command line prints.
//!
//! What this must never do: decide what failed (that is `register`'s check), or read
//! anything but the report it is given.

use super::register::ImportReport;
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, XlsxError};

/// The report's headers, in the order of the columns.
pub const HEADERS: [&str; 4] = ["行", "列", "字段", "问题"];

/// Widths in characters: short line and column, the header as written, the message.
const WIDTHS: [f64; 4] = [8.0, 8.0, 30.0, 90.0];

/// The column letters of a cell name (`D5` → `D`); empty for a missing column.
fn column_letters(cell: &str) -> &str {
    cell.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// The workbook: sheet 错误 (every listed failing cell) and sheet 汇总 (the summary).
pub fn xlsx(report: &ImportReport) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let header = Format::new().set_bold().set_border(FormatBorder::Thin).set_background_color(Color::RGB(0xDDEBF7));
    let sheet = workbook.add_worksheet();
    sheet.set_name("错误")?;
    for (col, (title, width)) in HEADERS.iter().zip(WIDTHS).enumerate() {
        sheet.set_column_width(col as u16, width)?;
        sheet.write_string_with_format(0, col as u16, *title, &header)?;
    }
    // The header stays in view however far down a 20,000-household file's errors run.
    sheet.set_freeze_panes(1, 0)?;
    for (i, error) in report.errors.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_number(row, 0, error.line as f64)?;
        sheet.write_string(row, 1, column_letters(&error.cell))?;
        sheet.write_string(row, 2, &error.column)?;
        sheet.write_string(row, 3, &error.message_zh)?;
    }
    let summary = workbook.add_worksheet();
    summary.set_name("汇总")?;
    summary.set_column_width(0, 100.0)?;
    // The summary lines repeat the listed errors first; the sheet keeps only the totals.
    for (row, line) in report.summary_lines().iter().skip(report.errors.len()).enumerate() {
        summary.write_string(row as u32, 0, line)?;
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::register::CellError;
    use calamine::{Reader, Xlsx};

    #[test]
    fn the_workbook_names_each_failing_cell_under_chinese_headers() {
        let report = ImportReport {
            dry_run: true,
            rows: 2,
            errors_total: 1,
            errors: vec![CellError {
                line: 5,
                column: "A4 证件号码".into(),
                cell: "AB5".into(),
                code: "invalid_id_number".into(),
                message_zh: "第5行「A4 证件号码」（AB5）：身份证号码无效".into(),
                message_en: "invalid".into(),
            }],
            ..ImportReport::default()
        };
        let bytes = xlsx(&report).expect("written");
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("opens");
        assert_eq!(book.sheet_names(), ["错误", "汇总"]);
        let range = book.worksheet_range("错误").expect("sheet");
        let text = |r: u32, c: u32| range.get_value((r, c)).map(|v| v.to_string()).unwrap_or_default();
        assert_eq!((0..4).map(|c| text(0, c)).collect::<Vec<_>>(), HEADERS);
        assert_eq!((text(1, 0), text(1, 1), text(1, 2)), ("5".into(), "AB".into(), "A4 证件号码".into()));
        assert!(text(1, 3).contains("身份证号码无效"));
        let summary = book.worksheet_range("汇总").expect("summary");
        assert!(summary.get_value((0, 0)).map(|v| v.to_string()).unwrap_or_default().contains("错误 1 处"));
    }
}
