//! A report laid out as the paper form: title, 填报单位, period, header rows, data,
//! notes. XLSX and CSV are both written from this one layout, so they hold the same
//! cells; XLSX adds the merges and styles, CSV leaves merged cells empty.

use super::register::{OutsideEntry, RegisterHousehold, hundredths};
use super::statistics::{Header, StatTable, TOTAL_ROW};
use super::{Body, Report};

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// Fen, shown in yuan with two decimals.
    Yuan(i64),
}

impl Cell {
    pub(super) fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// The cell as CSV (and a merged XLSX range) shows it.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Yuan(fen) => {
                let sign = if *fen < 0 { "-" } else { "" };
                format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
            }
        }
    }
}

/// How a cell looks in XLSX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    Title,
    Meta,
    Header,
    /// A caption beside a value (register).
    Label,
    Data,
    Total,
    /// A section caption across the block (家庭成员状况).
    Section,
    Note,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merge {
    pub row: usize,
    pub col: usize,
    pub last_row: usize,
    pub last_col: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    /// The worksheet's name (at most 31 characters).
    pub name: String,
    pub width: usize,
    pub rows: Vec<Vec<(Cell, Style)>>,
    pub merges: Vec<Merge>,
    /// Column widths in characters.
    pub column_widths: Vec<f64>,
    /// Rows and columns kept in view when scrolling.
    pub freeze: Option<(usize, usize)>,
    /// Rows printed again at the top of every page (the header rows, first and last).
    pub repeat_rows: Option<(usize, usize)>,
    /// Rows that start a new printed page (the 对照表: one page per household).
    pub page_breaks: Vec<usize>,
    /// Printed across the long side of the A4 sheet: the wide member tables.
    pub landscape: bool,
}

impl Sheet {
    pub(super) fn new(name: &str, width: usize, column_widths: Vec<f64>) -> Sheet {
        Sheet {
            name: name.chars().take(31).collect(),
            width,
            rows: Vec::new(),
            merges: Vec::new(),
            column_widths,
            freeze: None,
            repeat_rows: None,
            page_breaks: Vec::new(),
            landscape: false,
        }
    }

    /// Adds a row, padded to the sheet's width; returns its index.
    pub(super) fn push(&mut self, mut cells: Vec<(Cell, Style)>, pad: Style) -> usize {
        cells.resize(self.width.max(cells.len()), (Cell::Empty, pad));
        self.rows.push(cells);
        self.rows.len() - 1
    }

    pub(super) fn merge(&mut self, row: usize, col: usize, last_row: usize, last_col: usize) {
        if (row, col) != (last_row, last_col) {
            self.merges.push(Merge { row, col, last_row, last_col });
        }
    }

    /// A row whose one text spans the whole width.
    pub(super) fn banner(&mut self, text: impl Into<String>, style: Style) {
        let row = self.push(vec![(Cell::text(text), style)], style);
        self.merge(row, 0, row, self.width - 1);
    }

    /// A row of cells, merged as `spans` says (columns per cell).
    pub(super) fn spanned(&mut self, cells: Vec<(Cell, Style, usize)>) {
        let mut row = Vec::new();
        let mut merges = Vec::new();
        for (cell, style, span) in cells {
            let col = row.len();
            row.push((cell, style));
            for _ in 1..span {
                row.push((Cell::Empty, style));
            }
            merges.push((col, col + span.max(1) - 1));
        }
        let index = self.push(row, Style::Data);
        for (col, last) in merges {
            self.merge(index, col, index, last);
        }
    }

    pub(super) fn blank(&mut self) {
        self.push(Vec::new(), Style::Meta);
    }
}

/// A laid-out report as the console previews it: the file's cells as text with their
/// style, and the merges, so the preview has the form's header as the file has it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SheetView {
    pub title: String,
    /// What the downloaded file is called.
    pub file_name: String,
    pub width: usize,
    /// Each cell as `text` and `style`: title, meta, header, label, data, total, section, note.
    pub rows: Vec<Vec<SheetCell>>,
    pub merges: Vec<SheetMerge>,
    /// How many rows the file has; `rows` stops at the preview's cap.
    pub rows_total: usize,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SheetCell {
    pub text: String,
    pub style: String,
}

/// Rows and columns from 0, last ones included.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SheetMerge {
    pub row: usize,
    pub col: usize,
    pub last_row: usize,
    pub last_col: usize,
}

impl SheetView {
    pub fn of(report: &Report, sheet: &Sheet, max_rows: usize) -> SheetView {
        let style = |s: Style| {
            match s {
                Style::Title => "title",
                Style::Meta => "meta",
                Style::Header => "header",
                Style::Label => "label",
                Style::Data => "data",
                Style::Total => "total",
                Style::Section => "section",
                Style::Note => "note",
            }
            .to_owned()
        };
        let rows: Vec<Vec<SheetCell>> = sheet
            .rows
            .iter()
            .take(max_rows)
            .map(|row| row.iter().map(|(cell, s)| SheetCell { text: cell.display(), style: style(*s) }).collect())
            .collect();
        let shown = rows.len();
        SheetView {
            title: report.title().to_owned(),
            file_name: report.file_name("xlsx"),
            width: sheet.width,
            merges: sheet
                .merges
                .iter()
                .filter(|m| m.row < shown)
                .map(|m| SheetMerge {
                    row: m.row,
                    col: m.col,
                    last_row: m.last_row.min(shown - 1),
                    last_col: m.last_col,
                })
                .collect(),
            rows,
            rows_total: sheet.rows.len(),
        }
    }
}

/// Lays a report out.
pub fn layout(report: &Report) -> Sheet {
    let mut sheet = match &report.body {
        Body::Statistics(table) => statistics_sheet(report, table),
        Body::Register(households) => register_sheet(report, households),
        Body::OutsideSystem(entries) => outside_sheet(report, entries),
        Body::DataQuality(rows) => quality_sheet(report, rows),
        Body::Paper(paper) => paper.sheet.clone(),
    };
    if !report.notes.is_empty() {
        sheet.blank();
        sheet.banner("注：", Style::Note);
        for (i, note) in report.notes.iter().enumerate() {
            sheet.banner(format!("{}. {note}", i + 1), Style::Note);
        }
    }
    sheet
}

pub(super) fn heading(sheet: &mut Sheet, report: &Report) {
    sheet.banner(report.title(), Style::Title);
    sheet.banner(format!("填报单位（盖章）：{}（{}）", report.unit.name, report.unit.code), Style::Meta);
    sheet.banner(
        // 000 附件1–4 head every table with 填报人 and 联系方式: left blank for the person
        // who signs the paper, as the form leaves them.
        format!(
            "统计期间：{}　　填报人：　　　　　　联系方式：　　　　　　　填报日期：{}",
            report.period.label(),
            report.generated_on.format("%Y年%-m月%-d日")
        ),
        Style::Meta,
    );
}

fn statistics_sheet(report: &Report, table: &StatTable) -> Sheet {
    let columns = table.columns();
    let width = 1 + columns.len().max(table.appendix_columns().len());
    let mut widths = vec![18.0];
    widths.extend(std::iter::repeat_n(9.0, width - 1));
    let mut sheet = Sheet::new(report.title(), width, widths);
    heading(&mut sheet, report);
    let (top, depth) = statistics_block(&mut sheet, table, table.spec.header, &columns);
    sheet.freeze = Some((top + depth, 1));
    sheet.repeat_rows = Some((top, top + depth - 1));
    // Below the form and apart from it: its own caption says it is not part of the 附件.
    if let Some(appendix) = table.spec.appendix {
        sheet.blank();
        sheet.banner(table.caption(appendix.title), Style::Section);
        statistics_block(&mut sheet, table, appendix.header, &table.appendix_columns());
    }
    sheet
}

/// Header rows (地区 down the first column) and a row per region and the total; returns
/// the first header row and how many there are.
fn statistics_block(
    sheet: &mut Sheet,
    table: &StatTable,
    header: &'static [Header],
    columns: &[(&'static str, String)],
) -> (usize, usize) {
    let depth = header.iter().map(Header::depth).max().unwrap_or(1);
    let top = sheet.rows.len();
    for _ in 0..depth {
        sheet.push(Vec::new(), Style::Header);
    }
    sheet.rows[top][0] = (Cell::text("地区"), Style::Header);
    sheet.merge(top, 0, top + depth - 1, 0);
    fn place(sheet: &mut Sheet, table: &StatTable, nodes: &[Header], row: usize, mut col: usize, bottom: usize) {
        for node in nodes {
            sheet.rows[row][col] = (Cell::Text(table.caption(node.label())), Style::Header);
            match node {
                Header::Leaf { .. } => sheet.merge(row, col, bottom, col),
                Header::Group { children, .. } => {
                    sheet.merge(row, col, row, col + node.width() - 1);
                    place(sheet, table, children, row + 1, col, bottom);
                }
            }
            col += node.width();
        }
    }
    place(sheet, table, header, top, 1, top + depth - 1);

    for (row, style) in table.rows.iter().map(|r| (r, Style::Data)).chain([(&table.total, Style::Total)]) {
        let name = if style == Style::Total { TOTAL_ROW.to_owned() } else { row.region_name.clone() };
        let mut cells = vec![(Cell::Text(name), if style == Style::Total { Style::Total } else { Style::Label })];
        cells.extend(columns.iter().map(|(key, _)| (Cell::Int(row.counts.get(key)), style)));
        sheet.push(cells, style);
    }
    (top, depth)
}

const REGISTER_WIDTH: usize = 8;

fn register_sheet(report: &Report, households: &[RegisterHousehold]) -> Sheet {
    let widths = vec![12.0, 22.0, 14.0, 14.0, 14.0, 16.0, 16.0, 14.0];
    let mut sheet = Sheet::new(report.title(), REGISTER_WIDTH, widths);
    heading(&mut sheet, report);
    if households.is_empty() {
        sheet.banner("（无符合条件的户）", Style::Data);
    }
    let label = |s: &str| (Cell::text(s), Style::Label, 1);
    let value = |s: &str| (Cell::text(s), Style::Data, 1);
    let header = |sheet: &mut Sheet, captions: &[&str]| {
        let cells = captions.iter().map(|c| (Cell::text(*c), Style::Header)).collect();
        sheet.push(cells, Style::Header);
    };
    for (i, h) in households.iter().enumerate() {
        sheet.banner(format!("{}. {} {}", i + 1, h.location, h.head_name), Style::Section);
        sheet.spanned(vec![
            label("所在地"),
            (Cell::text(&h.location), Style::Data, 3),
            label("户主姓名"),
            value(&h.head_name),
            label("联系电话"),
            value(&h.phone),
        ]);
        sheet.spanned(vec![
            label("民族"),
            value(&h.ethnicity),
            label("出生时间"),
            value(&h.birth),
            label("识别标准"),
            value(&h.standard),
            label("贫困户属性"),
            value(&h.kind),
        ]);
        let income_label = match h.income_year {
            Some(year) => format!("{year}年度人均收入（元）"),
            None => "人均收入（元）".to_owned(),
        };
        sheet.spanned(vec![
            label("脱贫属性"),
            value(&h.exit_status),
            label("主要致贫原因"),
            value(&h.main_cause),
            label("住房面积"),
            value(&h.housing_area.map(|a| format!("{}平方米", hundredths(a))).unwrap_or_default()),
            (Cell::Text(income_label), Style::Label, 1),
            (h.income_per_capita_fen.map_or(Cell::Empty, Cell::Yuan), Style::Data, 1),
        ]);
        sheet.banner("家庭成员状况", Style::Section);
        header(&mut sheet, &["姓名", "证件号码", "与户主关系", "年龄", "文化程度", "劳动能力", "健康状况"]);
        for m in &h.members {
            let cells = vec![
                (Cell::text(&m.name), Style::Data),
                (Cell::text(&m.id_number), Style::Data),
                (Cell::text(&m.relation), Style::Data),
                (m.age.map_or(Cell::Empty, Cell::Int), Style::Data),
                (Cell::text(&m.education), Style::Data),
                (Cell::text(&m.labour), Style::Data),
                (Cell::text(&m.health), Style::Data),
            ];
            sheet.push(cells, Style::Data);
        }
        sheet.banner("帮扶责任人", Style::Section);
        header(&mut sheet, &["姓名", "帮扶单位", "政治面貌", "性别", "帮扶开始时间", "帮扶结束时间", "联系电话"]);
        for o in &h.officers {
            let cells = [&o.name, &o.work_unit, &o.political_status, &o.sex, &o.start_date, &o.end_date, &o.phone]
                .map(|s| (Cell::text(s.as_str()), Style::Data));
            sheet.push(cells.to_vec(), Style::Data);
        }
        sheet.banner("帮扶措施", Style::Section);
        header(&mut sheet, &["时间", "措施类别", "项目名称", "项目规模", "扶持资金总额（元）"]);
        for m in &h.measures {
            let cells = vec![
                (Cell::text(&m.date), Style::Data),
                (Cell::text(&m.category), Style::Data),
                (Cell::text(&m.name), Style::Data),
                (Cell::text(&m.scale), Style::Data),
                (m.funds_fen.map_or(Cell::Empty, Cell::Yuan), Style::Data),
            ];
            sheet.push(cells, Style::Data);
        }
        sheet.spanned(vec![label("帮扶成效"), (Cell::text(&h.outcome), Style::Data, REGISTER_WIDTH - 1)]);
        if let Some(reason) = &h.outside_reason {
            sheet.spanned(vec![
                label("备注"),
                (Cell::Text(format!("系统外管理：{reason}")), Style::Data, REGISTER_WIDTH - 1),
            ]);
        }
        sheet.blank();
    }
    sheet
}

fn outside_sheet(report: &Report, entries: &[OutsideEntry]) -> Sheet {
    let widths = vec![6.0, 26.0, 12.0, 22.0, 10.0, 10.0, 16.0, 12.0, 40.0];
    let mut sheet = Sheet::new(report.title(), widths.len(), widths);
    heading(&mut sheet, report);
    let captions =
        ["序号", "所在地", "户主姓名", "证件号码", "家庭人口", "识别标准", "贫困户属性", "户状态", "系统外管理原因"];
    let top = sheet.push(captions.iter().map(|c| (Cell::text(*c), Style::Header)).collect(), Style::Header);
    sheet.freeze = Some((top + 1, 0));
    sheet.repeat_rows = Some((top, top));
    for (i, e) in entries.iter().enumerate() {
        let cells = vec![
            (Cell::Int(i as i64 + 1), Style::Data),
            (Cell::text(&e.location), Style::Data),
            (Cell::text(&e.head_name), Style::Data),
            (Cell::text(&e.head_id_number), Style::Data),
            (Cell::Int(e.members), Style::Data),
            (Cell::text(&e.standard), Style::Data),
            (Cell::text(&e.kind), Style::Data),
            (Cell::text(&e.status), Style::Data),
            (Cell::text(&e.reason), Style::Data),
        ];
        sheet.push(cells, Style::Data);
    }
    sheet
}

fn quality_sheet(report: &Report, rows: &[super::QualityRow]) -> Sheet {
    let widths = vec![6.0, 20.0, 12.0, 24.0, 50.0];
    let mut sheet = Sheet::new(report.title(), widths.len(), widths);
    heading(&mut sheet, report);
    let captions = ["序号", "所在地", "户主姓名", "问题代码", "问题说明"];
    let top = sheet.push(captions.iter().map(|c| (Cell::text(*c), Style::Header)).collect(), Style::Header);
    sheet.freeze = Some((top + 1, 0));
    sheet.repeat_rows = Some((top, top));
    for (i, r) in rows.iter().enumerate() {
        let cells = vec![
            (Cell::Int(i as i64 + 1), Style::Data),
            (Cell::text(&r.location), Style::Data),
            (Cell::text(&r.head_name), Style::Data),
            (Cell::text(&r.code), Style::Data),
            (Cell::text(&r.problem), Style::Data),
        ];
        sheet.push(cells, Style::Data);
    }
    sheet
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::statistics::{DYNAMIC_ADJUSTMENT, leaves, tabulate};
    use super::super::{Period, Region, ReportName};
    use super::*;
    use chrono::NaiveDate;

    pub fn report() -> Report {
        let period = Period::new(
            NaiveDate::from_ymd_opt(2026, 1, 1).expect("d"),
            NaiveDate::from_ymd_opt(2026, 6, 30).expect("d"),
        )
        .expect("period");
        let table = tabulate(&DYNAMIC_ADJUSTMENT, &[], &[], &period);
        Report {
            name: ReportName::DynamicAdjustment,
            unit: Region {
                code: "320703001000".into(),
                name: "一号镇".into(),
                level: "township".into(),
                parent_code: None,
            },
            period,
            generated_on: NaiveDate::from_ymd_opt(2026, 7, 1).expect("d"),
            body: Body::Statistics(table),
            notes: vec!["一条说明".into()],
            numbers: super::super::Numbers::Masked,
        }
    }

    #[test]
    fn the_statistics_header_is_drawn_like_the_form() {
        let sheet = layout(&report());
        assert_eq!(sheet.rows[0][0].0, Cell::text("贫困人口动态调整情况统计表"));
        assert!(sheet.rows[1][0].0.display().contains("一号镇"));
        assert!(sheet.rows[2][0].0.display().contains("2026年1月1日至2026年6月30日"));
        assert!(
            sheet.rows[2][0].0.display().contains("填报人：") && sheet.rows[2][0].0.display().contains("联系方式：")
        );
        // Four header rows under the heading; 地区 spans them all.
        assert_eq!(sheet.rows[3][0].0, Cell::text("地区"));
        assert!(sheet.merges.contains(&Merge { row: 3, col: 0, last_row: 6, last_col: 0 }));
        // The form's "2016年底" is the opening of the period: the end of the year before.
        assert_eq!(sheet.rows[3][1].0, Cell::text("2025年底贫困人口"));
        assert_eq!(sheet.rows[3][14].0, Cell::text("比2025年底贫困人口净减少数"));
        assert_eq!(sheet.rows[3][2].0, Cell::text("动态调整情况"));
        assert_eq!(sheet.rows[4][2].0, Cell::text("动态进入"));
        assert_eq!(sheet.rows[6][3].0, Cell::text("新生儿"));
        // Every column has its caption on some header row.
        let columns = leaves(DYNAMIC_ADJUSTMENT.header).len();
        assert_eq!(sheet.width, columns + 1);
        // The total row follows the header, then the reconciliation apart from the form,
        // then the notes.
        assert_eq!(sheet.rows[7][0].0, Cell::text("合计"));
        assert!(sheet.rows[9][0].0.display().contains("不属于附件1"));
        assert_eq!(sheet.rows[10][0].0, Cell::text("地区"));
        assert_eq!(sheet.rows.last().map(|r| r[0].0.display()), Some("1. 一条说明".to_owned()));
        // No two merges overlap.
        for (i, a) in sheet.merges.iter().enumerate() {
            for b in &sheet.merges[i + 1..] {
                let apart = a.last_row < b.row || b.last_row < a.row || a.last_col < b.col || b.last_col < a.col;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn yuan_show_two_decimals() {
        assert_eq!(Cell::Yuan(301_000).display(), "3010.00");
        assert_eq!(Cell::Yuan(5).display(), "0.05");
        assert_eq!(Cell::Yuan(-76).display(), "-0.76");
    }
}
