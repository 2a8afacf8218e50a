//! Reading an uploaded table (the first sheet of an XLSX workbook, or a UTF-8 CSV) as a
//! stream of rows of text, within caps on rows, columns, cell size and unpacked bytes.
//!
//! Department lists (`comparison`) and register imports read files through here. What
//! it must never do: build anything sized by what a file *claims* (a dimension of
//! `A1:XFD1048576`, a shared-string count, a zip entry's size) rather than by what was
//! read and checked, or run on the async runtime ([`read_off_runtime`]). A file past a
//! cap is refused whole with an error naming the cap; no partial table comes out.
//!
//! An XLSX is checked before calamine opens it, because opening it already inflates
//! and keeps the shared strings: the zip's declared sizes, then the bytes each part
//! really inflates to, both against `max_unpacked_bytes`, and the shared-string count
//! calamine reserves room for against what the part could hold. The sheet is then read
//! cell by cell (`worksheet_cells_reader`), never as a dense range.

use crate::config::UploadsConfig;
use crate::gate::{Gate, GateError};
use calamine::{Data, DataRef, Reader, Xlsx};
use jingzhun_mobile_api::errors::ErrorCode;
use std::io::{Cursor, Read};
use std::ops::ControlFlow;

/// The caps one read is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Most rows, the header included (an XLSX row counts by its number in the sheet).
    pub max_rows: usize,
    /// Most columns (an XLSX column counts by its letter: `AX` is the 50th).
    pub max_columns: usize,
    /// Longest cell, in bytes of UTF-8.
    pub max_cell_bytes: usize,
    /// Most bytes the file unpacks to: an XLSX's parts once inflated, a CSV as it is.
    pub max_unpacked_bytes: u64,
}

impl Caps {
    pub fn from_config(config: &UploadsConfig) -> Caps {
        Caps {
            max_rows: config.max_rows,
            max_columns: config.max_columns,
            max_cell_bytes: config.max_cell_bytes,
            max_unpacked_bytes: config.max_unpacked_bytes,
        }
    }
}

impl Default for Caps {
    fn default() -> Caps {
        Caps::from_config(&UploadsConfig::default())
    }
}

/// Why a file was refused. Each cap has its own error, so the answer can say which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("not a CSV (UTF-8) or XLSX file")]
    Unreadable,
    #[error("the file has more than {limit} rows")]
    TooManyRows { limit: usize },
    #[error("the file has more than {limit} columns")]
    TooManyColumns { limit: usize },
    #[error("a cell on line {line} is longer than {limit} bytes")]
    CellTooLarge { line: usize, limit: usize },
    #[error("the file unpacks to more than {limit} bytes")]
    TooLargeUnpacked { limit: u64 },
}

impl TableError {
    /// The error code the answer carries (422 for a cap, 400 `invalid_file` otherwise).
    pub fn code(&self) -> ErrorCode {
        match self {
            TableError::Unreadable => ErrorCode::InvalidFile,
            TableError::TooManyRows { .. } => ErrorCode::FileTooManyRows,
            TableError::TooManyColumns { .. } => ErrorCode::FileTooManyColumns,
            TableError::CellTooLarge { .. } => ErrorCode::FileCellTooLarge,
            TableError::TooLargeUnpacked { .. } => ErrorCode::FileTooLargeUnpacked,
        }
    }

    /// Whether a cap was broken (the file may be fine, just too big for this server).
    pub fn is_cap(&self) -> bool {
        !matches!(self, TableError::Unreadable)
    }
}

/// One row with at least one non-empty cell: its 1-based line in the file, and its
/// cells from the first column on, as text (blank where the file has nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// A zip (or a name ending in `.xlsx`) is read as XLSX, anything else as CSV.
    pub fn detect(file_name: &str, bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") || file_name.to_lowercase().ends_with(".xlsx") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }
}

/// Reads the rows in file order and hands each to `each`, which may stop the read by
/// returning `ControlFlow::Break`. Blocking and CPU-bound: call it through
/// [`read_off_runtime`] from async code.
///
/// What the rows hold in memory also counts against `max_unpacked_bytes`: a shared
/// string is stored once in the file but copied into every cell that names it, so a
/// few megabytes of XLSX could otherwise hand out gigabytes of text.
pub fn read_rows(
    format: Format,
    bytes: &[u8],
    caps: &Caps,
    mut each: impl FnMut(Row) -> ControlFlow<()>,
) -> Result<(), TableError> {
    let mut held: u64 = 0;
    let mut over = false;
    let mut counted = |row: Row| {
        held += row.cells.iter().map(|c| (c.len() + std::mem::size_of::<String>()) as u64).sum::<u64>();
        if held > caps.max_unpacked_bytes {
            over = true;
            return ControlFlow::Break(());
        }
        each(row)
    };
    match format {
        Format::Csv => read_csv(bytes, caps, &mut counted),
        Format::Xlsx => read_xlsx(bytes, caps, &mut counted),
    }?;
    if over { Err(TableError::TooLargeUnpacked { limit: caps.max_unpacked_bytes }) } else { Ok(()) }
}

/// Every row of the file, collected.
pub fn read_all(format: Format, bytes: &[u8], caps: &Caps) -> Result<Vec<Row>, TableError> {
    let mut rows = Vec::new();
    read_rows(format, bytes, caps, |row| {
        rows.push(row);
        ControlFlow::Continue(())
    })?;
    Ok(rows)
}

/// Why a read through the gate did not give a table.
#[derive(Debug, thiserror::Error)]
pub enum OffRuntimeError<E> {
    /// The file itself (or what the caller did with its rows).
    #[error(transparent)]
    Read(E),
    /// Every parsing slot stayed busy: 503 `busy`.
    #[error("the server is busy parsing other files")]
    Busy,
    /// The parse panicked: a bug, answered 500 and logged; the process carries on.
    #[error("parsing failed: {0}")]
    Failed(String),
}

/// Runs `work` (a read and whatever the caller builds from the rows) on a blocking
/// thread inside a slot of `gate`, so parsing neither stalls the async workers nor
/// runs more than a few files at once.
pub async fn read_off_runtime<T: Send + 'static, E: Send + 'static>(
    gate: &Gate,
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, OffRuntimeError<E>> {
    match gate.run_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(OffRuntimeError::Read(err)),
        Err(GateError::Busy(_)) => Err(OffRuntimeError::Busy),
        Err(GateError::Failed(why)) => Err(OffRuntimeError::Failed(why)),
    }
}

fn read_csv(bytes: &[u8], caps: &Caps, mut each: impl FnMut(Row) -> ControlFlow<()>) -> Result<(), TableError> {
    if bytes.len() as u64 > caps.max_unpacked_bytes {
        return Err(TableError::TooLargeUnpacked { limit: caps.max_unpacked_bytes });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| TableError::Unreadable)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\0') {
        return Err(TableError::Unreadable);
    }
    // Ragged rows are a broken file, not a list with gaps.
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(false).from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut rows = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(_) => return Err(TableError::Unreadable),
        }
        rows += 1;
        // The csv crate's position counts from before the blank lines it skipped.
        let line = record.position().map_or(rows, |p| {
            let rest = text.as_bytes().get(p.byte() as usize..).unwrap_or_default();
            let blank_lines = rest.iter().take_while(|b| matches!(b, b'\n' | b'\r')).filter(|b| **b == b'\n').count();
            p.line() as usize + blank_lines
        });
        // Rows count by their line, as in a sheet (blank lines and line breaks in
        // quoted cells included), so no row past the cap comes out either way.
        if rows.max(line) > caps.max_rows {
            return Err(TableError::TooManyRows { limit: caps.max_rows });
        }
        if record.len() > caps.max_columns {
            return Err(TableError::TooManyColumns { limit: caps.max_columns });
        }
        if record.iter().any(|cell| cell.len() > caps.max_cell_bytes) {
            return Err(TableError::CellTooLarge { line, limit: caps.max_cell_bytes });
        }
        if each(Row { line, cells: record.iter().map(str::to_owned).collect() }).is_break() {
            return Ok(());
        }
    }
}

/// More parts than any workbook of one sheet has; each costs memory before any check.
const MAX_ZIP_ENTRIES: usize = 10_000;

/// Checks what opening the workbook will inflate and keep, before calamine does it.
fn check_xlsx_package(bytes: &[u8], caps: &Caps) -> Result<(), TableError> {
    let limit = caps.max_unpacked_bytes;
    let too_large = TableError::TooLargeUnpacked { limit };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| TableError::Unreadable)?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(TableError::Unreadable);
    }
    // What the entries declare: an honest bomb stops here, before anything is inflated.
    let mut declared = 0u64;
    let mut shared_strings = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(|_| TableError::Unreadable)?;
        declared = declared.saturating_add(entry.size());
        let name = String::from_utf8_lossy(entry.name_raw()).to_lowercase();
        if name.ends_with("sharedstrings.xml") {
            shared_strings.push((index, entry.size()));
        }
    }
    if declared > limit {
        return Err(too_large);
    }
    // What they really inflate to, counted as read and stopped one byte past the cap.
    let mut inflated = 0u64;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(|_| TableError::Unreadable)?;
        let budget = limit - inflated;
        let read =
            std::io::copy(&mut entry.take(budget + 1), &mut std::io::sink()).map_err(|_| TableError::Unreadable)?;
        inflated += read;
        if inflated > limit {
            return Err(too_large);
        }
    }
    for (index, size) in shared_strings {
        let entry = archive.by_index(index).map_err(|_| TableError::Unreadable)?;
        check_shared_string_count(entry, size)?;
    }
    Ok(())
}

/// calamine reserves room for the `uniqueCount` the shared strings declare before it
/// reads one: `uniqueCount="99999999999"` in a 300-byte part would abort the process on
/// a failed allocation. A string takes at least five bytes (`<si/>`), so a count above
/// a fifth of the part's size cannot be true.
fn check_shared_string_count(part: impl Read, size: u64) -> Result<(), TableError> {
    use quick_xml::events::Event;
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(part));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "sst" => {
                for attr in e.attributes().with_checks(false) {
                    let attr = attr.map_err(|_| TableError::Unreadable)?;
                    if attr.key.local_name().as_ref() == "uniqueCount"
                        && declared_count(attr.value.as_bytes()) > size / 5 + 1
                    {
                        return Err(TableError::Unreadable);
                    }
                }
                return Ok(());
            }
            // No `sst`: calamine refuses the part itself.
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

/// The number calamine would read from the attribute (digits, leading zeros allowed),
/// saturating; anything else it does not read, so it counts as zero.
fn declared_count(raw: &[u8]) -> u64 {
    if raw.is_empty() || !raw.iter().all(u8::is_ascii_digit) {
        return 0;
    }
    raw.iter().fold(0u64, |n, d| n.saturating_mul(10).saturating_add(u64::from(d - b'0')))
}

fn read_xlsx(bytes: &[u8], caps: &Caps, mut each: impl FnMut(Row) -> ControlFlow<()>) -> Result<(), TableError> {
    check_xlsx_package(bytes, caps)?;
    // calamine 0.38 can panic on hostile input (a cell reference like `AAAAAAAAA1` or
    // `A99999999999` overflows its parser; found by scripts/fuzz-imports). Such a file is
    // unreadable, not a crash; a panic in the caller's `each` is the caller's and goes on.
    let in_each = std::cell::Cell::new(false);
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_xlsx_cells(bytes, caps, |row| {
            in_each.set(true);
            let flow = each(row);
            in_each.set(false);
            flow
        })
    }));
    match read {
        Ok(result) => result,
        Err(panic) if in_each.get() => std::panic::resume_unwind(panic),
        Err(_) => Err(TableError::Unreadable),
    }
}

fn read_xlsx_cells(bytes: &[u8], caps: &Caps, mut each: impl FnMut(Row) -> ControlFlow<()>) -> Result<(), TableError> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| TableError::Unreadable)?;
    let first = workbook.sheet_names().into_iter().next().ok_or(TableError::Unreadable)?;
    let mut cells = workbook.worksheet_cells_reader(&first).map_err(|_| TableError::Unreadable)?;
    let mut current: Option<Row> = None;
    while let Some(cell) = cells.next_cell().map_err(|_| TableError::Unreadable)? {
        let (row, column) = cell.get_position();
        let (line, column) = (row as usize + 1, column as usize);
        // Blank cells (formatting only) make no row and count against no cap.
        let Some(text) = cell_text(cell.get_value(), line, caps)? else { continue };
        if line > caps.max_rows {
            return Err(TableError::TooManyRows { limit: caps.max_rows });
        }
        if column >= caps.max_columns {
            return Err(TableError::TooManyColumns { limit: caps.max_columns });
        }
        if current.as_ref().is_some_and(|r| r.line != line)
            && let Some(done) = current.take()
            && each(done).is_break()
        {
            return Ok(());
        }
        let row = current.get_or_insert_with(|| Row { line, cells: Vec::new() });
        if row.cells.len() <= column {
            row.cells.resize(column + 1, String::new());
        }
        row.cells[column] = text;
    }
    if let Some(done) = current {
        let _ = each(done);
    }
    Ok(())
}

/// A cell as text, or None when it is blank. Whole numbers lose their `.0` (an ID
/// number typed as a number keeps the digits it has), dates read as `YYYY-MM-DD`.
fn cell_text(value: &DataRef<'_>, line: usize, caps: &Caps) -> Result<Option<String>, TableError> {
    let too_large = || TableError::CellTooLarge { line, limit: caps.max_cell_bytes };
    // Strings are measured before they are copied.
    let text = match value {
        DataRef::Empty => return Ok(None),
        DataRef::String(s) if s.len() > caps.max_cell_bytes => return Err(too_large()),
        DataRef::SharedString(s) if s.len() > caps.max_cell_bytes => return Err(too_large()),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{f:.0}"),
        DataRef::DateTime(dt) => dt.as_datetime().map(|d| d.date().to_string()).unwrap_or_else(|| dt.to_string()),
        other => Data::from(other.clone()).to_string(),
    };
    if text.len() > caps.max_cell_bytes {
        return Err(too_large());
    }
    Ok((!text.is_empty()).then_some(text))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
    const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;

    /// A workbook of one sheet whose `<sheetData>` is `sheet_data`, with optional
    /// `xl/sharedStrings.xml` (each part deflated).
    pub(crate) fn workbook(sheet_data: &str, shared_strings: Option<&[u8]>) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let sheet = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#
        );
        for (name, body) in [
            ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            ("_rels/.rels", RELS.as_bytes()),
            ("xl/workbook.xml", WORKBOOK.as_bytes()),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        ]
        .into_iter()
        .chain(shared_strings.map(|s| ("xl/sharedStrings.xml", s)))
        {
            zip.start_file(name, options).expect("entry");
            zip.write_all(body).expect("write");
        }
        zip.finish().expect("zip").into_inner()
    }

    pub(crate) fn inline(cell: &str, text: &str) -> String {
        format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
    }

    fn caps() -> Caps {
        Caps { max_rows: 100, max_columns: 10, max_cell_bytes: 64, max_unpacked_bytes: 64 * 1024 }
    }

    #[test]
    fn text_handed_out_counts_against_the_unpacked_cap() {
        // 100 rows of 10 one-byte cells: 2 KB on disk, but each cell is its own allocation
        // in memory (as a shared string copied into many cells would be): 25 KB held.
        let line = ["x"; 10].join(",");
        let csv = (0..100).map(|_| line.clone()).collect::<Vec<_>>().join("\n");
        let tight = Caps { max_unpacked_bytes: 16 * 1024, ..caps() };
        assert!((csv.len() as u64) < tight.max_unpacked_bytes);
        assert_eq!(read_all(Format::Csv, csv.as_bytes(), &caps()).map(|rows| rows.len()), Ok(100));
        assert_eq!(
            read_all(Format::Csv, csv.as_bytes(), &tight),
            Err(TableError::TooLargeUnpacked { limit: 16 * 1024 })
        );
    }

    fn read(format: Format, bytes: &[u8]) -> Result<Vec<Row>, TableError> {
        read_all(format, bytes, &caps())
    }

    #[test]
    fn an_xlsx_reads_row_by_row_from_the_first_column() {
        let data = format!(
            r#"<row r="1">{}{}</row><row r="3">{}<c r="C3"><v>42</v></c></row>"#,
            inline("A1", "身份证号码"),
            inline("B1", "姓名"),
            inline("B3", "张三")
        );
        let rows = read(Format::Xlsx, &workbook(&data, None)).expect("reads");
        assert_eq!(
            rows,
            vec![
                Row { line: 1, cells: vec!["身份证号码".into(), "姓名".into()] },
                Row { line: 3, cells: vec![String::new(), "张三".into(), "42".into()] },
            ]
        );
    }

    #[test]
    fn shared_strings_are_read() {
        let sst = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>姓名</t></si></sst>"#;
        let rows =
            read(Format::Xlsx, &workbook(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#, Some(sst.as_bytes())))
                .expect("reads");
        assert_eq!(rows[0].cells, vec!["姓名".to_owned()]);
    }

    /// The review's bomb: two cells, A1 and XFD1048576, once a dense range of 1.7e10 cells.
    #[test]
    fn a_far_cell_breaks_a_cap_instead_of_allocating_the_range_to_it() {
        let data =
            format!(r#"<row r="1">{}</row><row r="1048576">{}</row>"#, inline("A1", "x"), inline("XFD1048576", "x"));
        assert_eq!(read(Format::Xlsx, &workbook(&data, None)), Err(TableError::TooManyRows { limit: 100 }));
        let wide = format!(r#"<row r="1">{}{}</row>"#, inline("A1", "x"), inline("XFD1", "x"));
        assert_eq!(read(Format::Xlsx, &workbook(&wide, None)), Err(TableError::TooManyColumns { limit: 10 }));
        // A dimension that claims the whole sheet allocates nothing either.
        let claimed = r#"<row r="1"><c r="A1"><v>1</v></c></row>"#;
        let bytes = workbook(claimed, None);
        assert!(read(Format::Xlsx, &bytes).is_ok());
    }

    #[test]
    fn blank_cells_far_away_count_against_nothing() {
        let data = r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576" s="1"/></row>"#;
        assert_eq!(read(Format::Xlsx, &workbook(data, None)).map(|r| r.len()), Ok(1));
    }

    #[test]
    fn a_long_cell_is_refused_with_its_line() {
        let data = format!(r#"<row r="2">{}</row>"#, inline("A2", &"长".repeat(30)));
        assert_eq!(read(Format::Xlsx, &workbook(&data, None)), Err(TableError::CellTooLarge { line: 2, limit: 64 }));
        let csv = format!("a,b\nc,{}\n", "x".repeat(65));
        assert_eq!(read(Format::Csv, csv.as_bytes()), Err(TableError::CellTooLarge { line: 2, limit: 64 }));
    }

    #[test]
    fn a_deflate_bomb_stops_at_the_unpacked_cap() {
        // 10 MB of one repeated string deflates to about 10 KB.
        let mut sst = br#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>"#.to_vec();
        sst.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
        sst.extend_from_slice(b"</t></si></sst>");
        let bytes = workbook(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#, Some(&sst));
        assert!(bytes.len() < 64 * 1024, "the bomb is small: {} bytes", bytes.len());
        assert_eq!(read(Format::Xlsx, &bytes), Err(TableError::TooLargeUnpacked { limit: 64 * 1024 }));
    }

    #[test]
    fn a_zip_entry_that_understates_its_size_is_stopped_at_what_it_declared() {
        let mut sst = br#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>"#.to_vec();
        sst.extend(std::iter::repeat_n(b'a', 1024 * 1024));
        sst.extend_from_slice(b"</t></si></sst>");
        let mut bytes = workbook(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#, Some(&sst));
        // Rewrite the central directory's uncompressed size of sharedStrings.xml to 100.
        let name = b"xl/sharedStrings.xml";
        let at = bytes.windows(4).enumerate().filter(|(_, w)| *w == b"PK\x01\x02").map(|(i, _)| i).find(|&i| {
            let len = u16::from_le_bytes([bytes[i + 28], bytes[i + 29]]) as usize;
            bytes.get(i + 46..i + 46 + len) == Some(&name[..])
        });
        let at = at.expect("central directory entry");
        bytes[at + 24..at + 28].copy_from_slice(&100u32.to_le_bytes());
        let big = Caps { max_unpacked_bytes: 10 * 1024 * 1024, ..caps() };
        assert_eq!(read_all(Format::Xlsx, &bytes, &big), Err(TableError::Unreadable));
    }

    #[test]
    fn a_shared_string_count_the_part_cannot_hold_is_refused() {
        let sst = br#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="99999999999999"><si><t>a</t></si></sst>"#;
        let bytes = workbook(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#, Some(sst));
        assert_eq!(read(Format::Xlsx, &bytes), Err(TableError::Unreadable));
    }

    #[test]
    fn a_cell_reference_that_overflows_calamine_is_unreadable_not_a_panic() {
        for reference in ["AAAAAAAAAAAA1", "A99999999999"] {
            let data = format!(r#"<row r="1">{}</row>"#, inline(reference, "x"));
            let outcome = read(Format::Xlsx, &workbook(&data, None));
            // Debug builds check overflow (a panic, caught); release builds wrap (a far cell).
            assert!(outcome.is_err(), "{reference}: {outcome:?}");
        }
    }

    #[test]
    fn csv_caps_on_rows_and_columns() {
        let many = "a\n".repeat(101);
        assert_eq!(read(Format::Csv, many.as_bytes()), Err(TableError::TooManyRows { limit: 100 }));
        // Found by scripts/fuzz-imports: 100 records, the last on line 101.
        let after_a_blank_line = format!("\n{}", "a\n".repeat(100));
        assert_eq!(read(Format::Csv, after_a_blank_line.as_bytes()), Err(TableError::TooManyRows { limit: 100 }));
        let wide = format!("{}\n", ["a"; 11].join(","));
        assert_eq!(read(Format::Csv, wide.as_bytes()), Err(TableError::TooManyColumns { limit: 10 }));
        let huge = "a,b\n".repeat(20_000);
        assert_eq!(read(Format::Csv, huge.as_bytes()), Err(TableError::TooLargeUnpacked { limit: 64 * 1024 }));
    }

    #[test]
    fn csv_lines_are_the_file_lines() {
        let rows = read(Format::Csv, "\u{feff}a,b\n\n\"x\ny\",z\nc,d\n".as_bytes()).expect("reads");
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![1, 3, 5]);
        assert_eq!(rows[1].cells, vec!["x\ny".to_owned(), "z".to_owned()]);
    }

    #[test]
    fn a_reader_can_stop_early() {
        let mut seen = 0;
        read_rows(Format::Csv, b"a\nb\nc\n", &caps(), |_| {
            seen += 1;
            ControlFlow::Break(())
        })
        .expect("reads");
        assert_eq!(seen, 1);
    }

    #[test]
    fn every_cap_has_its_own_code() {
        assert_eq!(TableError::TooManyRows { limit: 1 }.code(), ErrorCode::FileTooManyRows);
        assert_eq!(TableError::TooManyColumns { limit: 1 }.code(), ErrorCode::FileTooManyColumns);
        assert_eq!(TableError::CellTooLarge { line: 1, limit: 1 }.code(), ErrorCode::FileCellTooLarge);
        assert_eq!(TableError::TooLargeUnpacked { limit: 1 }.code(), ErrorCode::FileTooLargeUnpacked);
        assert_eq!(TableError::Unreadable.code(), ErrorCode::InvalidFile);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

            /// Any bytes at all, read as either format: an answer, never a panic, and
            /// never a row past the caps.
            #[test]
            fn any_bytes_give_rows_within_the_caps_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
                for format in [Format::Csv, Format::Xlsx] {
                    if let Ok(rows) = read(format, &bytes) {
                        for row in rows {
                            prop_assert!(row.line <= 100 && row.cells.len() <= 10);
                            prop_assert!(row.cells.iter().all(|c| c.len() <= 64));
                        }
                    }
                }
            }

            /// A valid workbook with one byte changed.
            #[test]
            fn a_mutated_workbook_gives_an_answer(at in 0usize..4096, byte in any::<u8>()) {
                let data = format!(r#"<row r="1">{}{}</row>"#, inline("A1", "身份证号码"), inline("XFD1048576", "x"));
                let mut bytes = workbook(&data, None);
                let at = at % bytes.len();
                bytes[at] = byte;
                let _ = read(Format::Xlsx, &bytes);
            }
        }
    }
}
