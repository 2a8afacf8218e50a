//! 数据比对 and 统计报表 in the console (issue 12 items 5 and 6), on both backends: the
//! leads' table API (filtered, paged, scoped, ID numbers masked) and the report preview
//! (the file's own cells), then the whole job in a real Chromium: the county imports a
//! department list with its progress shown, decides the lead (the vehicle lands on the
//! household), previews 附件1 and downloads it as an XLSX that opens. Screenshots go to
//! target/test-artifacts/console-comparison-*.png and console-reports-*.png.

use crate::browser::{Browser, choose, click, count_when, element, sign_in, text_when, type_into};
use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::validate::mask_id_number;
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

on_both_backends!(
    leads_page_masked_and_reports_preview_their_file,
    a_paper_form_preview_masks_and_prints_nothing,
    the_county_compares_a_list_and_reports
);

/// A registered household of 东村 (建档立卡 2015) and its head's whole ID number.
async fn registered_household(app: &TestApp, device: &str) -> (Uuid, String) {
    let phone = app.phone("officer-a", device).await;
    let (household, _) = create_household(&phone, VILLAGE_1, 1).await;
    app.execute_sql(&format!("UPDATE household SET registered_on = '2015-06-01' WHERE id = '{household}'")).await;
    let record = app.admin.household(household).await;
    let head = record["member"].as_array().expect("members").iter().find(|m| m["relation"] == "head").expect("head")
        ["id_number"]
        .as_str()
        .expect("id")
        .to_owned();
    (household, head)
}

async fn upload(who: &Admin, source: &str, csv: String) -> Value {
    let form = reqwest::multipart::Form::new()
        .text("source", source.to_owned())
        .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("车辆.csv"));
    let (status, body) = who.post_multipart("/api/v1/comparisons", form).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn leads_page_masked_and_reports_preview_their_file(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (household, head) = registered_household(&app, "phone-a").await;
    let (_, other_head) = registered_household(&app, "phone-b").await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    upload(
        &county,
        "vehicles",
        format!("姓名,身份证号码,登记日期,价格\n户主,{head},2014-01-10,85000\n另一户,{other_head},2016-02-02,60000\n"),
    )
    .await;

    // The table: newest first, with whom it names (masked), the head and the village.
    let page = county.ok_get("/api/v1/comparisons/lead-summaries?status=open").await;
    assert_eq!(page["total"], 2, "{page}");
    let lead =
        page["items"].as_array().expect("items").iter().find(|l| l["household_id"] == json!(household)).expect("lead");
    assert_eq!(lead["member_id_number_masked"], mask_id_number(&head), "{lead}");
    assert_eq!(
        (&lead["source"], &lead["reason"], &lead["region_name"]),
        (&json!("vehicles"), &json!("vehicle"), &json!("东村"))
    );
    assert!(
        lead["member_name"].as_str().is_some_and(|n| !n.is_empty()) && lead["head_name"] == lead["member_name"],
        "{lead}"
    );
    assert_eq!(lead["row"]["价格"], "85000", "the department's row as kept: {lead}");
    assert!(!page.to_string().contains(&head) && !page.to_string().contains(&other_head), "no whole ID number: {page}");
    // Filters and paging: by source, by region, one a page.
    let none = county.ok_get("/api/v1/comparisons/lead-summaries?source=deaths").await;
    assert_eq!((&none["total"], none["items"].as_array().map(Vec::len)), (&json!(0), Some(0)));
    let west = county.ok_get(&format!("/api/v1/comparisons/lead-summaries?region_code={VILLAGE_2}")).await;
    assert_eq!(west["total"], 0);
    let second = county.ok_get("/api/v1/comparisons/lead-summaries?per_page=1&page=2").await;
    assert_eq!(
        (&second["total"], second["items"].as_array().map(Vec::len), &second["page"]),
        (&json!(2), Some(1), &json!(2))
    );
    let first = county.ok_get("/api/v1/comparisons/lead-summaries?per_page=1&page=1").await;
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"], "two pages, two leads");
    // Decided, it leaves the open ones and shows the note; an officer of another
    // household's scope sees none.
    let id = lead["id"].as_str().expect("id");
    let (status, _) = county
        .post(&format!("/api/v1/comparisons/leads/{id}/decide"), json!({"decision": "dismiss", "note": "已转卖"}))
        .await;
    assert_eq!(status, 204);
    let open = county.ok_get("/api/v1/comparisons/lead-summaries?status=open").await;
    assert_eq!(open["total"], 1);
    let dismissed = county.ok_get("/api/v1/comparisons/lead-summaries?status=dismissed").await;
    assert_eq!((&dismissed["total"], &dismissed["items"][0]["note"]), (&json!(1), &json!("已转卖")));
    let b = Admin::login(&app.base, "officer-b", PASSWORD).await;
    assert_eq!(b.ok_get("/api/v1/comparisons/lead-summaries").await["total"], 0);

    // The preview is the file's layout: the same cells as the CSV, row for row, with the
    // header's merges.
    let query = format!("region_code={COUNTY}&from=2026-01-01&to=2026-12-31");
    let sheet = county.ok_get(&format!("/api/v1/reports/dynamic_adjustment/preview?{query}")).await;
    assert_eq!(sheet["title"], "贫困人口动态调整情况统计表");
    assert!(sheet["file_name"].as_str().is_some_and(|f| f.ends_with(".xlsx")), "{}", sheet["file_name"]);
    let rows = sheet["rows"].as_array().expect("rows");
    assert_eq!(sheet["rows_total"], rows.len(), "a small report is previewed whole");
    assert!(!sheet["merges"].as_array().expect("merges").is_empty(), "the form's header is merged");
    let header = rows.iter().flat_map(|r| r.as_array().expect("cells")).find(|c| c["text"] == "地区").expect("地区");
    assert_eq!(header["style"], "header");
    let (status, csv) = county.get_text(&format!("/api/v1/reports/dynamic_adjustment?{query}&format=csv")).await;
    assert_eq!(status, 200);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let from_csv: Vec<Vec<String>> =
        reader.records().map(|r| r.expect("csv row").iter().map(str::to_owned).collect()).collect();
    let from_preview: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.as_array().expect("cells").iter().map(|c| c["text"].as_str().expect("text").to_owned()).collect())
        .collect();
    assert_eq!(from_preview, from_csv, "the preview holds the file's cells");
    // Only a reporting role over a region it reads.
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;
    let (status, _) = township.get(&format!("/api/v1/reports/dynamic_adjustment/preview?{query}")).await;
    assert_eq!(status, 403, "a township previews no county report");
    let (status, _) = b.get(&format!("/api/v1/reports/dynamic_adjustment/preview?region_code={TOWNSHIP}")).await;
    assert_eq!(status, 403, "an officer gets no reports");
    let (status, _) = county.get("/api/v1/reports/no_such_report/preview").await;
    assert_eq!(status, 404);
}

/// The 对照表 (004 附件2) previewed on screen masks its ID and phone numbers and adds no
/// audit entry (review #2: each preview wrote a `print` per household); the downloaded
/// file is the print, whole and audited per household.
async fn a_paper_form_preview_masks_and_prints_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (household, head) = registered_household(&app, "phone-a").await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let query = format!("region_code={VILLAGE_1}&from=2020-01-01&to=2030-12-31");
    let audited = "SELECT COUNT(*) FROM audit_log";
    let prints = "SELECT COUNT(*) FROM audit_log WHERE action = 'print'";
    let (all_before, prints_before) = (app.count(audited).await, app.count(prints).await);

    for name in ["household_form", "member_increase", "member_decrease"] {
        let sheet = county.ok_get(&format!("/api/v1/reports/{name}/preview?{query}")).await;
        let text = sheet.to_string();
        assert!(!text.contains(&head) && !text.contains("13812345678"), "{name}: no whole number on screen: {text}");
        if name == "household_form" {
            assert!(text.contains(&mask_id_number(&head)), "the head's number, masked: {text}");
            assert!(text.contains("138****5678"), "the household's phone, masked: {text}");
            assert!(text.contains("此为预览"), "the form says its numbers are hidden: {text}");
        }
    }
    assert_eq!(app.count(audited).await, all_before, "a preview writes no audit entry");

    let (status, csv) = county.get_text(&format!("/api/v1/reports/household_form?{query}&format=csv")).await;
    assert_eq!(status, 200);
    assert!(csv.contains(&head) && csv.contains("13812345678"), "the file is whole");
    assert!(!csv.contains("此为预览"));
    assert_eq!(app.count(prints).await - prints_before, 1, "the file is a print of the one household");
    let (status, _) = county.get_text(&format!("/api/v1/reports/household_form?{query}&format=xlsx")).await;
    assert_eq!(status, 200);
    let trail = format!("SELECT COUNT(*) FROM audit_log WHERE action = 'print' AND household_id = '{household}'");
    assert_eq!(app.count(&trail).await, 2, "each file, CSV and XLSX, a print in the household's trail");
}

async fn the_county_compares_a_list_and_reports(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (household, head) = registered_household(&app, "phone-a").await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let work = std::env::temp_dir().join(format!("jingzhun-console-reports-{}", Uuid::new_v4()));
    let downloads = work.join("downloads");
    std::fs::create_dir_all(&downloads).expect("download folder");
    // 公安交警's list: the head's car (bought before 建档立卡), strangers' cars enough to
    // make an upload worth a progress bar, and one wrong ID number.
    let mut csv = format!("姓名,身份证号码,登记日期,价格\n户主,{head},2014-01-10,85000\n");
    for _ in 0..3000 {
        csv.push_str(&format!("外人,{},2020-05-05,90000\n", fresh_id_number()));
    }
    csv.push_str("错号,110105194912310021,2022-01-01,90000\n");
    let list = work.join("公安交警车辆.csv");
    std::fs::write(&list, csv).expect("write the list");

    let browser = Browser::start_desktop_downloading_to(&downloads).await;
    let client = &browser.client;
    sign_in(&browser, &app.base, "county", PASSWORD).await;
    assert_eq!(browser.wait_for_path("/home").await, "/home");
    client.goto(&format!("{}/comparison", app.base)).await.expect("open 数据比对");

    // The upload: which list, the file, and its progress to the server's answer.
    choose(client, "#comparison-source", "公安交警").await;
    element(client, "#comparison-file").await.send_keys(list.to_str().expect("path")).await.expect("choose the file");
    click(client, "#comparison-upload").await;
    let result = text_when(client, "#comparison-result", |t| t.contains("匹配")).await;
    assert!(result.contains("共 3002 行") && result.contains("退回 1 行") && result.contains("匹配 1 行"), "{result}");
    assert!(result.contains("第 3003 行"), "the rejected line is named: {result}");
    let bar = text_when(client, "#comparison-result .el-progress", |t| t.contains('%')).await;
    assert_eq!(bar.trim(), "100%", "the progress bar ends full");
    browser.screenshot(&format!("console-comparison-upload-{backend:?}")).await;

    // The lead: the head, masked, as a vehicle; decided true with the field note and
    // the one thing the list cannot say.
    assert_eq!(count_when(client, "#lead-table .lead-status", 1).await, 1);
    let table = text_when(client, "#lead-table", |t| t.contains("东村")).await;
    assert!(table.contains(&mask_id_number(&head)) && !table.contains(&head), "the ID number masked: {table}");
    assert!(table.contains("待核实"), "{table}");
    browser.screenshot(&format!("console-comparison-leads-{backend:?}")).await;
    click(client, "#lead-table .lead-decide").await;
    let dialog = text_when(client, ".el-dialog", |t| t.contains("85000")).await;
    assert!(dialog.contains("部门名单原文") && dialog.contains(&mask_id_number(&head)), "{dialog}");
    click(client, "#lead-confirm").await;
    // Without 作为脱贫措施 the server refuses and names it; nothing is decided.
    type_into(client, "#lead-note", "入户核实，车辆属实，系2014年购入").await;
    click(client, "#lead-submit").await;
    let refusal = text_when(client, "#lead-error", |t| !t.is_empty()).await;
    assert!(refusal.contains("作为脱贫措施"), "the refusal names the field: {refusal}");
    click(client, "#lead-exit-measure-no").await;
    browser.screenshot(&format!("console-comparison-decide-{backend:?}")).await;
    click(client, "#lead-submit").await;
    let outcome = text_when(client, "#lead-outcome", |t| t.contains("车辆")).await;
    assert!(outcome.contains("已确认"), "{outcome}");
    // Its effect: the household owns the car, at the list's price and date.
    let record = county.household(household).await;
    let cars = record["vehicle"].as_array().expect("vehicles");
    assert_eq!(cars.len(), 1, "{record}");
    assert_eq!(
        (&cars[0]["price"], &cars[0]["acquired_on"], &cars[0]["as_exit_measure"]),
        (&json!(85000), &json!("2014-01-10"), &json!(false))
    );
    let decided = county.ok_get("/api/v1/comparisons/lead-summaries?status=confirmed").await;
    assert_eq!(decided["items"][0]["note"], "入户核实，车辆属实，系2014年购入");
    // In the console: the confirmed leads, and from one the household, which now lists the car.
    choose(client, "#lead-status", "已确认").await;
    click(client, "#lead-search").await;
    let confirmed = text_when(client, "#lead-table", |t| t.contains("已确认")).await;
    assert!(confirmed.contains("入户核实，车辆属实"), "the note shows: {confirmed}");
    click(client, "#lead-table .el-link").await;
    assert_eq!(browser.wait_for_path("/households/").await, format!("/households/{household}"));
    click(client, "#tab-living").await;
    let cars = text_when(client, "#vehicle-table", |t| t.contains("85")).await;
    assert!(cars.contains("85,000") || cars.contains("85000"), "the household's vehicle: {cars}");

    // 附件1 of the county for this year: previewed as the file lays it out, then downloaded.
    client.goto(&format!("{}/reports", app.base)).await.expect("open 统计报表");
    // The county's own region is the default unit.
    let region = text_when(client, ".el-select:has(#report-region)", |t| t.contains("测试县")).await;
    assert!(region.contains("测试县"), "the county's unit by default: {region}");
    click(client, "#report-preview").await;
    let preview = text_when(client, "#report-sheet", |t| t.contains("地区")).await;
    assert!(preview.contains("贫困人口动态调整情况统计表") && preview.contains("测试县"), "{preview}");
    browser.screenshot(&format!("console-reports-preview-{backend:?}")).await;
    click(client, "#report-download").await;
    let mut file = None;
    for _ in 0..100 {
        file = std::fs::read_dir(&downloads)
            .expect("downloads")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "xlsx"));
        if file.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let file = file.expect("the XLSX was downloaded");
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    assert!(name.contains("贫困人口动态调整情况统计表"), "named for the report: {name}");
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook(&file).expect("a real XLSX");
    let first = book.sheet_names().first().cloned().expect("a worksheet");
    let range = book.worksheet_range(&first).expect("the worksheet");
    let cells: Vec<String> = range.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert_eq!(cells.first().map(String::as_str), Some("贫困人口动态调整情况统计表"), "the title first");
    assert!(cells.iter().any(|c| c == "地区"), "the form's header: {cells:?}");
    browser.close().await;
    let _ = std::fs::remove_dir_all(&work);
}
