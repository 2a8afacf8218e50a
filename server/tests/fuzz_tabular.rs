//! Property-based fuzzing of `jingzhun::tabular` (issue 9): random and mutated XLSX and
//! CSV bytes, zip bombs, lying zip headers and huge cell and dimension references. Every
//! input must give rows within the caps or an error, never a panic, and the process's
//! peak memory must stay bounded.
//!
//! Not part of CI: `scripts/fuzz-imports [seconds]` runs it for a bounded time
//! (`cargo test -p jingzhun --features fuzz --test fuzz_tabular`).

use jingzhun::tabular::{Caps, Format, TableError, read_rows};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::io::Write;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

const CAPS: Caps = Caps { max_rows: 5_000, max_columns: 50, max_cell_bytes: 8 * 1024, max_unpacked_bytes: 8 << 20 };

/// Peak resident memory allowed for the whole run: the caps bound one read to a few
/// times `max_unpacked_bytes`.
const PEAK_LIMIT_KB: u64 = 768 * 1024;

fn zip_of(parts: &[(String, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
    let options = zip::write::SimpleFileOptions::default().compression_method(method).large_file(false);
    for (name, body) in parts {
        if zip.start_file(name.as_str(), options).is_err() || zip.write_all(body).is_err() {
            continue;
        }
    }
    zip.finish().map(|c| c.into_inner()).unwrap_or_default()
}

fn column_name(mut n: u32) -> String {
    let mut out = Vec::new();
    n += 1;
    while n > 0 {
        out.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[derive(Debug, Clone)]
enum CellValue {
    Inline(String),
    Shared(u64),
    Number(String),
    Raw(String),
}

#[derive(Debug, Clone)]
struct Workbook {
    dimension: Option<String>,
    cells: Vec<(u32, u32, CellValue)>,
    shared_strings: Option<(String, Vec<String>)>,
    /// Repeated bytes appended inside a shared string: a deflate bomb when large.
    bomb_bytes: usize,
    extra_parts: usize,
    deflate: bool,
}

fn workbook_bytes(w: &Workbook) -> Vec<u8> {
    let mut data = String::new();
    for (row, col, value) in &w.cells {
        let r = format!("{}{}", column_name(*col), row + 1);
        let cell = match value {
            CellValue::Inline(t) => format!(r#"<c r="{r}" t="inlineStr"><is><t>{t}</t></is></c>"#),
            CellValue::Shared(i) => format!(r#"<c r="{r}" t="s"><v>{i}</v></c>"#),
            CellValue::Number(v) => format!(r#"<c r="{r}"><v>{v}</v></c>"#),
            CellValue::Raw(raw) => raw.clone(),
        };
        data.push_str(&format!(r#"<row r="{}">{cell}</row>"#, row + 1));
    }
    let dimension = w.dimension.as_ref().map(|d| format!(r#"<dimension ref="{d}"/>"#)).unwrap_or_default();
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}<sheetData>{data}</sheetData></worksheet>"#
    );
    let mut parts: Vec<(String, Vec<u8>)> = vec![
        ("[Content_Types].xml".into(), br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#.to_vec()),
        ("_rels/.rels".into(), br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_vec()),
        ("xl/workbook.xml".into(), br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_vec()),
        ("xl/_rels/workbook.xml.rels".into(), br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_vec()),
        ("xl/worksheets/sheet1.xml".into(), sheet.into_bytes()),
    ];
    if let Some((sst_attrs, strings)) = &w.shared_strings {
        let mut sst = format!(r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" {sst_attrs}>"#)
            .into_bytes();
        for s in strings {
            sst.extend_from_slice(format!("<si><t>{s}</t></si>").as_bytes());
        }
        if w.bomb_bytes > 0 {
            sst.extend_from_slice(b"<si><t>");
            sst.extend(std::iter::repeat_n(b'a', w.bomb_bytes));
            sst.extend_from_slice(b"</t></si>");
        }
        sst.extend_from_slice(b"</sst>");
        parts.push(("xl/sharedStrings.xml".into(), sst));
    }
    for i in 0..w.extra_parts {
        parts.push((format!("xl/media/extra{i}.bin"), vec![0; 16]));
    }
    zip_of(&parts, w.deflate)
}

fn cell_value() -> impl Strategy<Value = CellValue> {
    prop_oneof![
        "[a-zA-Z0-9 张三身份证号码<>&;]{0,40}".prop_map(CellValue::Inline),
        (0u64..10).prop_map(CellValue::Shared),
        prop_oneof![Just(u64::MAX), any::<u64>()].prop_map(CellValue::Shared),
        "-?[0-9]{1,20}(\\.[0-9]{0,5})?(E[+-]?[0-9]{1,3})?".prop_map(CellValue::Number),
        "<c[^>]{0,30}>[^<]{0,10}</c>|<c r=\"[A-Z]{1,4}[0-9]{1,12}\" t=\"[a-z]{0,9}\"><v>[0-9a-z.]{0,12}</v></c>"
            .prop_map(CellValue::Raw),
    ]
}

fn workbook() -> impl Strategy<Value = Workbook> {
    let position = prop_oneof![
        (0u32..20, 0u32..8),
        (0u32..1_048_576, 0u32..16_384),
        (Just(1_048_575u32), Just(16_383u32)),
        (Just(u32::MAX - 1), 0u32..4),
    ];
    let dimension = proptest::option::of(prop_oneof![
        Just("A1:XFD1048576".to_owned()),
        "[A-Z]{1,3}[0-9]{1,7}(:[A-Z]{1,5}[0-9]{1,12})?",
    ]);
    let count = prop_oneof![
        Just(String::new()),
        "[0-9]{1,3}".prop_map(|n| format!(r#"count="{n}" uniqueCount="{n}""#)),
        "[0-9]{10,25}".prop_map(|n| format!(r#"uniqueCount="{n}""#)),
        "0{0,30}[0-9]{5,12}".prop_map(|n| format!(r#"uniqueCount="{n}""#)),
    ];
    let shared = proptest::option::of((count, proptest::collection::vec("[a-z张三]{0,12}", 0..8)));
    (
        dimension,
        proptest::collection::vec((position, cell_value()).prop_map(|((r, c), v)| (r, c, v)), 0..30),
        shared,
        prop_oneof![4 => Just(0usize), 1 => 1usize..(32 << 20)],
        prop_oneof![9 => Just(0usize), 1 => 0usize..12_000],
        any::<bool>(),
    )
        .prop_map(|(dimension, cells, shared_strings, bomb_bytes, extra_parts, deflate)| Workbook {
            dimension,
            cells,
            shared_strings,
            bomb_bytes,
            extra_parts,
            deflate,
        })
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Truncate(usize),
    /// Overwrites four bytes with a little-endian number (sizes and offsets in zip headers).
    Word(usize, u32),
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let len = bytes.len();
        match *m {
            Mutation::Set(at, b) => bytes[at % len] = b,
            Mutation::Truncate(at) => bytes.truncate(at % len),
            Mutation::Word(at, w) => {
                let at = at % len;
                for (i, b) in w.to_le_bytes().into_iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + i) {
                        *slot = b;
                    }
                }
            }
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Set(a, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop_oneof![Just(u32::MAX), Just(0u32), Just(100u32), any::<u32>()])
            .prop_map(|(a, w)| Mutation::Word(a, w)),
    ]
}

fn csv_text() -> impl Strategy<Value = Vec<u8>> {
    let field =
        prop_oneof!["[a-z0-9 张三]{0,12}", "\"[a-z,\n\"]{0,12}\"", "[=+@-][A-Z(\"]{0,8}", Just("x".repeat(9000)),];
    let row = proptest::collection::vec(field, 1..60).prop_map(|cells| cells.join(","));
    (proptest::collection::vec(row, 0..80), any::<bool>(), 0usize..6_000).prop_map(|(rows, bom, repeat)| {
        let mut text = if bom { "\u{feff}".to_owned() } else { String::new() };
        text.push_str(&rows.join("\n"));
        if repeat > 5_000 {
            // Past the row cap.
            text.push_str(&"\na".repeat(repeat));
        }
        text.into_bytes()
    })
}

#[derive(Debug, Clone)]
enum Input {
    Random(Vec<u8>),
    Workbook(Workbook, Vec<Mutation>),
    Csv(Vec<u8>, Vec<Mutation>),
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..4096).prop_map(Input::Random),
        2 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(|tail| {
            let mut bytes = b"PK\x03\x04".to_vec();
            bytes.extend(tail);
            Input::Random(bytes)
        }),
        6 => (workbook(), proptest::collection::vec(mutation(), 0..4)).prop_map(|(w, m)| Input::Workbook(w, m)),
        3 => (csv_text(), proptest::collection::vec(mutation(), 0..3)).prop_map(|(c, m)| Input::Csv(c, m)),
    ]
}

fn bytes_of(input: &Input) -> Vec<u8> {
    match input {
        Input::Random(bytes) => bytes.clone(),
        Input::Workbook(w, m) => mutate(workbook_bytes(w), m),
        Input::Csv(c, m) => mutate(c.clone(), m),
    }
}

fn check(bytes: &[u8], format: Format, outcomes: &mut [u64; 6]) -> Result<(), TestCaseError> {
    let mut bad = None;
    let result = read_rows(format, bytes, &CAPS, |row| {
        if row.line == 0
            || row.line > CAPS.max_rows
            || row.cells.len() > CAPS.max_columns
            || row.cells.iter().any(|c| c.len() > CAPS.max_cell_bytes)
        {
            bad = Some(format!("row past the caps: line {}, {} cells", row.line, row.cells.len()));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    if let Some(why) = bad {
        return Err(TestCaseError::fail(why));
    }
    let slot = match result {
        Ok(()) => 0,
        Err(TableError::Unreadable) => 1,
        Err(TableError::TooManyRows { .. }) => 2,
        Err(TableError::TooManyColumns { .. }) => 3,
        Err(TableError::CellTooLarge { .. }) => 4,
        Err(TableError::TooLargeUnpacked { .. }) => 5,
    };
    outcomes[slot] += 1;
    Ok(())
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Panics raised inside a read (calamine's, caught by `tabular` as unreadable files),
/// by where they were raised.
static PANICS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

#[test]
fn tabular_reader_survives_hostile_files() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| match info.location().filter(|l| l.file().contains("calamine")) {
        Some(at) => {
            if let Ok(mut panics) = PANICS.lock() {
                let file = at.file().rsplit("calamine").next().unwrap_or_default();
                panics.push(format!("calamine{file}:{} ({})", at.line(), info.payload_as_str().unwrap_or("")));
            }
        }
        None => report(info),
    }));
    let seconds: u64 = std::env::var("FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut outcomes = [0u64; 6];
    let mut cases = 0u64;
    let mut rounds = 0u64;
    while Instant::now() < deadline {
        rounds += 1;
        // A fresh seed each round; a failure is shrunk and printed by proptest.
        let mut runner = TestRunner::new(Config {
            cases: 256,
            failure_persistence: None,
            rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
            ..Config::default()
        });
        let counts = std::cell::RefCell::new(([0u64; 6], 0u64));
        let result = runner.run(&input(), |input| {
            let bytes = bytes_of(&input);
            let mut counts = counts.borrow_mut();
            counts.1 += 1;
            for format in [Format::Xlsx, Format::Csv] {
                check(&bytes, format, &mut counts.0)?;
            }
            Ok(())
        });
        let (round_outcomes, round_cases) = counts.into_inner();
        for (total, n) in outcomes.iter_mut().zip(round_outcomes) {
            *total += n;
        }
        cases += round_cases;
        if let Err(err) = result {
            panic!("after {cases} inputs: {err}");
        }
        let peak = peak_rss_kb().unwrap_or(0);
        assert!(peak < PEAK_LIMIT_KB, "peak memory {peak} kB after {cases} inputs");
    }
    println!(
        "fuzz_tabular: {cases} inputs in {rounds} rounds over {seconds} s, each read as XLSX and CSV: \
         ok {}, unreadable {}, too many rows {}, too many columns {}, cell too large {}, too large unpacked {}; \
         peak memory {} MB",
        outcomes[0],
        outcomes[1],
        outcomes[2],
        outcomes[3],
        outcomes[4],
        outcomes[5],
        peak_rss_kb().unwrap_or(0) / 1024
    );
    let panics = PANICS.lock().map(|p| p.clone()).unwrap_or_default();
    let mut kinds: Vec<&String> = panics.iter().collect();
    kinds.sort();
    kinds.dedup();
    println!("fuzz_tabular: {} panics inside reads, caught as unreadable files: {kinds:?}", panics.len());
}
