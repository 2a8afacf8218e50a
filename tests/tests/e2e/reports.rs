//! Reports (C9): the statistics tables add up across levels, XLSX and CSV hold what the
//! JSON says, the register masks ID numbers, officers get none; the 000 附件1–4 print
//! the document's header cells and count as it says (reasons repeat per household,
//! 附件4 only the 2014–2016 exits).

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::{Value, json};
use std::collections::HashSet;
use uuid::Uuid;

on_both_backends!(reports_add_up_across_levels_and_formats, the_000_tables_print_the_documents_columns);

const FULL_CASE: [(&str, Signer); 9] = [
    ("application", Signer::Village),
    ("home_verification", Signer::Village),
    ("comparison", Signer::Township),
    ("village_assessment", Signer::Village),
    ("village_notice", Signer::Village),
    ("township_review", Signer::Township),
    ("township_notice", Signer::Township),
    ("county_review", Signer::County),
    ("announcement", Signer::County),
];

const MEMBER_CHANGE: [(&str, Signer); 4] = [
    ("application", Signer::Village),
    ("home_verification", Signer::Village),
    ("township_review", Signer::Township),
    ("county_review", Signer::County),
];

#[derive(Clone, Copy)]
enum Signer {
    Village,
    Township,
    County,
}

struct Signers {
    village_1: Admin,
    village_2: Admin,
    township: Admin,
    county: Admin,
}

impl Signers {
    fn pick(&self, signer: Signer, village: &str) -> &Admin {
        match signer {
            Signer::Village if village == VILLAGE_1 => &self.village_1,
            Signer::Village => &self.village_2,
            Signer::Township => &self.township,
            Signer::County => &self.county,
        }
    }

    /// Opens a case and signs every step to completion.
    async fn complete(&self, app: &TestApp, village: &str, body: Value, steps: &[(&str, Signer)]) {
        let case = self.pick(Signer::Village, village).ok_post("/api/v1/cases", body).await;
        let id = case["id"].as_str().expect("case id").to_owned();
        for (step, signer) in steps {
            let (status, answer) = pass_step(app, self.pick(*signer, village), &id, step).await;
            assert_eq!(status, 200, "{step}: {answer}");
        }
        let done = self.county.ok_get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(done["status"], "completed", "{done}");
    }
}

async fn token(base: &str, username: &str) -> String {
    let body = json!({"username": username, "password": PASSWORD, "device_id": format!("web-{}", Uuid::new_v4())});
    let res = reqwest::Client::new().post(format!("{base}/api/v1/auth/login")).json(&body).send().await.expect("login");
    assert_eq!(res.status(), 200);
    let value: Value = res.json().await.expect("login body");
    value["token"].as_str().expect("token").to_owned()
}

/// A report's bytes with its content type and disposition.
async fn download(base: &str, token: &str, query: &str) -> (u16, String, String, Vec<u8>) {
    let res = reqwest::Client::new()
        .get(format!("{base}/api/v1/reports/{query}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let status = res.status().as_u16();
    (status, content_type, disposition, res.bytes().await.expect("body").to_vec())
}

fn values(row: &Value) -> &serde_json::Map<String, Value> {
    row["values"].as_object().expect("values")
}

async fn reports_add_up_across_levels_and_formats(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "village-2", "name": "西村两委", "password": PASSWORD, "roles": [{"role": "village", "region_code": VILLAGE_2}]}),
        )
        .await;
    let signers = Signers {
        village_1: Admin::login(&app.base, "village-1", PASSWORD).await,
        village_2: Admin::login(&app.base, "village-2", PASSWORD).await,
        township: Admin::login(&app.base, "township-1", PASSWORD).await,
        county: Admin::login(&app.base, "county", PASSWORD).await,
    };
    let phone = app.phone("officer-a", "phone-reports").await;

    // 东村: A (2 people; the son dies later) and B (3 people; a baby is born later).
    let (a, a_members) = create_household(&phone, VILLAGE_1, 1).await;
    let (b, _) = create_household(&phone, VILLAGE_1, 2).await;
    // 西村: C (2 people, kept outside the national system), D (4 people, removed later),
    // E (an applicant, never identified).
    let (c, _) = create_household(&phone, VILLAGE_2, 1).await;
    let (d, _) = create_household(&phone, VILLAGE_2, 3).await;
    let (_e, _) = create_household(&phone, VILLAGE_2, 0).await;

    for (household, village) in [(a, VILLAGE_1), (b, VILLAGE_1), (c, VILLAGE_2), (d, VILLAGE_2)] {
        signers.complete(&app, village, json!({"household_id": household, "kind": "identify"}), &FULL_CASE).await;
    }
    signers
        .complete(&app, VILLAGE_2, json!({"household_id": d, "kind": "remove", "reason": "vehicle"}), &FULL_CASE)
        .await;
    signers
        .complete(
            &app,
            VILLAGE_1,
            json!({"household_id": a, "kind": "member_change", "reason": "death", "member_id": a_members[1]}),
            &MEMBER_CHANGE,
        )
        .await;
    let baby = Uuid::new_v4();
    let c_version = app.admin.household(c).await["household"]["version"].as_i64().expect("version");
    let year = chrono::Utc::now().format("%Y").to_string().parse::<i64>().expect("year");
    let res = push(
        &phone,
        vec![
            changeset(vec![change(
                "member",
                baby,
                Op::Create,
                0,
                json!({"household_id": b, "name": "新生儿", "sex": "female", "id_number": id_number("20250301", 901), "relation": "granddaughter", "health": "healthy"}),
            )]),
            changeset(vec![change(
                "household",
                c,
                Op::Update,
                c_version,
                json!({"outside_national_system": true, "outside_reason": "因灾新识别，国扶系统未开放"}),
            )]),
            changeset(vec![change(
                "income",
                Uuid::new_v4(),
                Op::Create,
                0,
                json!({"household_id": a, "year": year, "wage": 5000, "transfer": 1200, "business_expense": 180}),
            )]),
        ],
    )
    .await;
    for result in &res.results {
        assert_eq!(result.status, ChangeSetStatus::Applied, "{result:?}");
    }
    signers
        .complete(
            &app,
            VILLAGE_1,
            json!({"household_id": b, "kind": "member_change", "reason": "newborn", "member_id": baby}),
            &MEMBER_CHANGE,
        )
        .await;

    let to = (chrono::Utc::now() + chrono::Duration::days(2)).date_naive();
    let period = format!("from=2020-01-01&to={to}");
    let county = &signers.county;
    let report = |name: &str, region: &str| format!("/api/v1/reports/{name}?region_code={region}&{period}&format=json");

    // The township equals the sum of its two villages, row by row and in total.
    let township = county.ok_get(&report("dynamic_adjustment", TOWNSHIP)).await;
    let east = county.ok_get(&report("dynamic_adjustment", VILLAGE_1)).await;
    let west = county.ok_get(&report("dynamic_adjustment", VILLAGE_2)).await;
    assert_eq!(township["title"], "贫困人口动态调整情况统计表");
    assert_eq!(township["unit"]["name"], "一号镇");
    let rows = township["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{township}");
    assert_eq!((rows[0]["region_code"].as_str(), rows[1]["region_code"].as_str()), (Some(VILLAGE_1), Some(VILLAGE_2)));
    assert_eq!(values(&rows[0]), values(&east["total"]));
    assert_eq!(values(&rows[1]), values(&west["total"]));
    let columns: Vec<String> = township["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["key"].as_str().expect("key").to_owned())
        .collect();
    for key in &columns {
        let sum = values(&east["total"])[key].as_i64().expect("n") + values(&west["total"])[key].as_i64().expect("n");
        assert_eq!(values(&township["total"])[key].as_i64(), Some(sum), "{key}");
    }
    let total = values(&township["total"]);
    let n = |key: &str| total[key].as_i64().expect(key);
    assert_eq!(n("new_identified"), 2 + 3 + 2 + 4);
    assert_eq!((n("increase_newborn"), n("decrease_death")), (1, 1));
    assert_eq!(n("removed"), 4);
    assert_eq!(n("remaining"), 1 + 4 + 2, "A after the death, B with the baby, C");
    assert_eq!(n("baseline"), 0, "nobody was poor before");
    assert_eq!(n("out_subtotal"), 4 + 1, "动态退出小计: the removal and the death");
    assert_eq!(n("net_decrease"), n("baseline") - n("remaining"), "附件1 注6");
    // The reconciliation apart from the table (附件1 has no 脱贫 column): its township
    // row is the sum of the villages' too, and it adds up.
    let check = values(&township["appendix"]["total"]);
    let k = |key: &str| check[key].as_i64().expect(key);
    assert_eq!(k("in_subtotal"), 2 + 3 + 2 + 4 + 1);
    assert_eq!(
        k("baseline") + k("in_subtotal") + k("increase_other") - k("out_subtotal") - k("exited") - k("decrease_other"),
        k("remaining")
    );
    assert_eq!(k("remaining"), n("remaining"));
    assert_eq!(values(&township["appendix"]["rows"][0]), values(&east["appendix"]["total"]));
    // One level up, the township is one row and equals its own total.
    let county_report = county.ok_get(&report("dynamic_adjustment", COUNTY)).await;
    assert_eq!(values(&county_report["rows"][0]), total);

    // The other statistics tables.
    let removals = county.ok_get(&report("removals", TOWNSHIP)).await;
    let removed = values(&removals["total"]);
    assert_eq!(removed["households"].as_i64(), Some(1));
    assert_eq!((removed["vehicles_households"].as_i64(), removed["vehicles_people"].as_i64()), (Some(1), Some(4)));
    let identified = county.ok_get(&report("new_identification", TOWNSHIP)).await;
    let identified = values(&identified["total"]);
    assert_eq!((identified["households"].as_i64(), identified["people"].as_i64()), (Some(4), Some(11)));
    let relapse = county.ok_get(&report("relapse", TOWNSHIP)).await;
    assert_eq!(values(&relapse["total"])["people"], 0);

    // XLSX: the Chinese file name, and the same numbers as the JSON.
    let token = token(&app.base, "county").await;
    let query = format!("dynamic_adjustment?region_code={TOWNSHIP}&{period}&format=xlsx");
    let (status, content_type, disposition, bytes) = download(&app.base, &token, &query).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    // 贫困人口动态调整情况统计表, percent-encoded as RFC 5987 says.
    assert!(disposition.contains("filename*=UTF-8''%E8%B4%AB%E5%9B%B0%E4%BA%BA%E5%8F%A3"), "{disposition}");
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX calamine opens");
    let range = workbook.worksheet_range_at(0).expect("a sheet").expect("readable");
    let sheet: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
    assert_eq!(sheet[0][0], Data::String("贫困人口动态调整情况统计表".into()));
    assert!(matches!(&sheet[1][0], Data::String(s) if s.contains("一号镇")));
    assert!(matches!(&sheet[2][0], Data::String(s) if s.contains("2020年1月1日")));
    for (label, json_row) in [("东村", &rows[0]), ("西村", &rows[1]), ("合计", &township["total"])] {
        let line = sheet.iter().find(|r| r[0] == Data::String(label.into())).unwrap_or_else(|| panic!("{label} row"));
        let numbers: Vec<i64> = line[1..=columns.len()]
            .iter()
            .map(|d| match d {
                Data::Float(f) => *f as i64,
                Data::Int(i) => *i,
                other => panic!("{label}: {other:?} is not a number"),
            })
            .collect();
        let expected: Vec<i64> = columns.iter().map(|k| values(json_row)[k].as_i64().expect("n")).collect();
        assert_eq!(numbers, expected, "{label}");
    }

    // CSV: UTF-8 with a BOM, the Chinese header.
    let query = format!("dynamic_adjustment?region_code={TOWNSHIP}&{period}&format=csv");
    let (status, content_type, _, bytes) = download(&app.base, &token, &query).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a byte-order mark first");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("UTF-8");
    assert!(text.starts_with("贫困人口动态调整情况统计表"), "{text}");
    assert!(
        text.contains("地区,2019年底贫困人口,动态调整情况") && text.contains("新识别") && text.contains("东村,"),
        "{text}"
    );

    // The register: registered households only, every ID number masked.
    let mut full_ids = HashSet::new();
    for household in [a, b, c, d] {
        for member in app.admin.household(household).await["member"].as_array().expect("members") {
            full_ids.insert(member["id_number"].as_str().expect("id").to_owned());
        }
    }
    let register = county.ok_get(&report("register", TOWNSHIP)).await;
    let blocks = register["households"].as_array().expect("households");
    let listed: HashSet<String> = blocks.iter().filter_map(|h| h["id"].as_str().map(str::to_owned)).collect();
    assert_eq!(
        listed,
        HashSet::from([a.to_string(), b.to_string(), c.to_string()]),
        "not the removed, not the applicant"
    );
    let block_a = blocks.iter().find(|h| h["id"] == a.to_string()).expect("A");
    assert_eq!(block_a["members"].as_array().map(Vec::len), Some(1), "the son has died");
    assert_eq!(block_a["standard"], "国家");
    assert_eq!(block_a["main_cause"], "因病");
    assert_eq!(block_a["income_per_capita"], 6020.0);
    assert_eq!(block_a["officers"][0]["name"], "officer-a");
    for block in blocks {
        for member in block["members"].as_array().expect("members") {
            let shown = member["id_number"].as_str().expect("id");
            assert!(shown.contains('*') && !full_ids.contains(shown), "{shown}");
        }
    }
    let query = format!("register?region_code={TOWNSHIP}&{period}&format=csv");
    let (status, _, _, bytes) = download(&app.base, &token, &query).await;
    assert_eq!(status, 200);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("贫困户名册") && text.contains("家庭成员状况"));
    for id in &full_ids {
        assert!(!text.contains(id.as_str()), "{id} shown in full");
    }
    let query = format!("register?region_code={TOWNSHIP}&{period}&format=xlsx");
    let (status, _, _, bytes) = download(&app.base, &token, &query).await;
    assert_eq!(status, 200);
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("register XLSX");
    let range = workbook.worksheet_range_at(0).expect("a sheet").expect("readable");
    for cell in range.cells() {
        if let Data::String(s) = cell.2 {
            assert!(!full_ids.contains(s.as_str()), "{s} shown in full");
        }
    }

    // 系统外人员: C with its reason.
    let outside = county.ok_get(&report("outside_system", TOWNSHIP)).await;
    let listed = outside["households"].as_array().expect("households");
    assert_eq!(listed.len(), 1, "{outside}");
    assert_eq!(listed[0]["id"], c.to_string());
    assert_eq!(listed[0]["reason"], "因灾新识别，国扶系统未开放");

    // Who may not: an officer, a village asking for its neighbour; what does not exist.
    let officer = Admin::login(&app.base, "officer-a", PASSWORD).await;
    let (status, body) = officer.get(&report("dynamic_adjustment", TOWNSHIP)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    let (status, body) = officer.get(&report("register", VILLAGE_1)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    let (status, body) = signers.village_1.get(&report("dynamic_adjustment", VILLAGE_2)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = signers.village_1.get(&report("dynamic_adjustment", VILLAGE_1)).await;
    assert_eq!(status, 200, "a village reads its own report");
    let (status, body) = county.get(&format!("/api/v1/reports/nope?region_code={TOWNSHIP}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, body) =
        county.get(&format!("/api/v1/reports/removals?region_code={TOWNSHIP}&from=2026-13-01&format=json")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_date")));
    let (status, body) = county
        .get(&format!("/api/v1/reports/removals?region_code={TOWNSHIP}&from=2026-05-01&to=2026-04-01&format=json"))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("out_of_range")));
}

/// Uploads a register file (docs/register-import.md); a job (202) is followed to its end.
async fn import(county: &Admin, csv: String) {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("台账.csv"));
    let (status, body) = county.post_multipart("/api/v1/imports?dry_run=false", form).await;
    if status == 200 {
        return;
    }
    assert_eq!(status, 202, "{body}");
    let location = format!("/api/v1/imports/{}", body["id"].as_str().expect("job id"));
    for _ in 0..600 {
        let view = county.ok_get(&location).await;
        if !["queued", "checking", "writing"].contains(&view["stage"].as_str().unwrap_or_default()) {
            assert_eq!(view["stage"], "done", "{view}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the import did not end in a minute");
}

/// The header rows of a statistics XLSX (under the three heading lines): each row's
/// captions with their columns, as a reader of the merged cells sees them.
fn header_rows(bytes: Vec<u8>, depth: usize) -> Vec<Vec<(usize, String)>> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX calamine opens");
    let range = workbook.worksheet_range_at(0).expect("a sheet").expect("readable");
    let rows: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
    rows[3..3 + depth]
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .filter_map(|(col, cell)| match cell {
                    Data::String(s) if !s.is_empty() => Some((col, s.clone())),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

fn owned(row: &[(usize, &str)]) -> Vec<(usize, String)> {
    row.iter().map(|(c, s)| (*c, (*s).to_owned())).collect()
}

/// A table's header rows: (column, caption) cells, row by row.
type HeaderRows = Vec<Vec<(usize, String)>>;

/// 000 附件1–4 as Jilin printed them, for a period from 1 January 2017 (the form's
/// "2016年底"): header rows, cell by cell.
fn documents_headers() -> Vec<(&'static str, HeaderRows)> {
    let cases = [
        "在城镇购买商品房或高标准装修现有住房的农户",
        "申请对象月水电燃料费、通讯费明显高于当地非贫困户的农户",
        "家庭拥有或使用机动车辆、船舶、工程机械及大型农机具的农户",
        "经商办企和长期雇佣他人从事生产经营活动的农户",
        "吃“财政饭”、家有公职人员的家庭",
        "户在人不在，常年联系不上以及空挂户、拆户、分户的农户",
        "家里有劳动能力、好吃懒做的农户",
        "举债为儿女操办婚礼致贫的农户",
    ];
    let pairs = |from: usize, n: usize| -> Vec<(usize, String)> {
        (0..n).flat_map(|i| [(from + 2 * i, "户".to_owned()), (from + 2 * i + 1, "人".to_owned())]).collect()
    };
    let annex_3 = vec![
        owned(&[(0, "地区"), (1, "清除不符合贫困标准的农户"), (2, "其中")]),
        cases.iter().enumerate().map(|(i, c)| (2 + 2 * i, (*c).to_owned())).collect(),
        pairs(2, 8),
    ];
    let causes = [
        "未解决“两不愁三保障”（包括安全饮水未解决）的脱贫户",
        "纳入易地搬迁的脱贫户",
        "社会保障兜底的脱贫户",
        "因灾",
        "因残",
        "因病",
        "因学",
        "其他",
    ];
    let annex_4 = vec![
        owned(&[(0, "地区"), (1, "2014-2016年返贫人口"), (2, "其中")]),
        owned(&[(2, "脱贫不实（需脱贫回退）"), (8, "外力因素返贫（需标记返贫）")]),
        causes.iter().enumerate().map(|(i, c)| (2 + 2 * i, (*c).to_owned())).collect(),
        pairs(2, 8),
    ];
    vec![
        (
            "dynamic_adjustment",
            vec![
                owned(&[
                    (0, "地区"),
                    (1, "2016年底贫困人口"),
                    (2, "动态调整情况"),
                    (14, "比2016年底贫困人口净减少数"),
                    (15, "剩余贫困人口"),
                ]),
                owned(&[(2, "动态进入"), (7, "动态退出")]),
                owned(&[
                    (2, "新识别"),
                    (3, "家庭成员增加"),
                    (6, "返贫人口"),
                    (7, "小计"),
                    (8, "清除"),
                    (9, "迁出"),
                    (10, "嫁出"),
                    (11, "国外定居"),
                    (12, "收监判刑"),
                    (13, "死亡"),
                ]),
                owned(&[(3, "新生儿"), (4, "迁入"), (5, "嫁入")]),
            ],
        ),
        ("removals", annex_3),
        ("relapse", annex_4),
    ]
}

async fn the_000_tables_print_the_documents_columns(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "village-2", "name": "西村两委", "password": PASSWORD, "roles": [{"role": "village", "region_code": VILLAGE_2}]}),
        )
        .await;
    let signers = Signers {
        village_1: Admin::login(&app.base, "village-1", PASSWORD).await,
        village_2: Admin::login(&app.base, "village-2", PASSWORD).await,
        township: Admin::login(&app.base, "township-1", PASSWORD).await,
        county: Admin::login(&app.base, "county", PASSWORD).await,
    };
    // The register: 东村 exited 2015 (2 people) and 2018 (3); 西村 exited 2016 (2) and one
    // household in the register (3) that officer-a follows.
    let households = [
        ("H1", VILLAGE_1, "已脱贫", "2015", 2),
        ("H2", VILLAGE_1, "已脱贫", "2018", 3),
        ("H3", VILLAGE_2, "已脱贫", "2016", 2),
        ("H4", VILLAGE_2, "在档贫困户", "", 3),
    ];
    let mut csv =
        String::from("户编号,行政区划代码,户状态,建档立卡日期,脱贫年度,帮扶责任人账号,A23,A24,A1,A2,A4,A5,A10\n");
    for (h, (name, village, status, year, members)) in households.iter().enumerate() {
        for m in 0..*members {
            let relation = ["户主", "配偶", "之子"][m];
            let id = id_number("19620101", (h * 3 + m) as u32);
            csv.push_str(&format!(
                "{village}{name},{village},{status},2014-05-01,{year},officer-a,国家,一般贫困户,{name}成员{m},男,{id},{relation},健康\n"
            ));
        }
    }
    import(&signers.county, csv).await;
    let mut ids = std::collections::BTreeMap::new();
    for (name, village, ..) in households {
        let conn = &app.state.db.conn;
        use sea_orm::ConnectionTrait;
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT id FROM household WHERE household_number = '{village}{name}'"),
            ))
            .await
            .expect("query")
            .expect("imported");
        let id: String = row.try_get("", "id").expect("id");
        ids.insert(name, id.parse::<Uuid>().expect("uuid"));
    }

    // H4's record shows two of 000's cases, 月水电燃料费、通讯费明显偏高 (第2种) and 好吃懒做
    // (第7种); it is removed as a 空挂户 (第6种).
    let phone = app.phone("officer-a", "phone-annexes").await;
    let version = app.admin.household(ids["H4"]).await["household"]["version"].as_i64().expect("version");
    let res = push(
        &phone,
        vec![changeset(vec![change(
            "household",
            ids["H4"],
            Op::Update,
            version,
            json!({"living_costs_clearly_high": true, "able_but_idle": true}),
        )])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results);
    signers
        .complete(
            &app,
            VILLAGE_2,
            json!({"household_id": ids["H4"], "kind": "remove", "reason": "nominal_hukou"}),
            &FULL_CASE,
        )
        .await;
    // Relapses: the 2015 exit after a disaster, the 2018 one after an illness, the 2016 one
    // after a disability.
    for (name, village, cause) in
        [("H1", VILLAGE_1, "disaster"), ("H2", VILLAGE_1, "illness"), ("H3", VILLAGE_2, "disability")]
    {
        signers
            .complete(&app, village, json!({"household_id": ids[name], "kind": "relapse", "reason": cause}), &FULL_CASE)
            .await;
    }

    let to = (app.clock.now() + chrono::Duration::days(2)).date_naive();
    let period = format!("from=2017-01-01&to={to}");
    let county = &signers.county;
    let json_of =
        |name: &str, region: &str| format!("/api/v1/reports/{name}?region_code={region}&{period}&format=json");

    // Each 附件's header, cell by cell, as the document draws it.
    let token = token(&app.base, "county").await;
    for (name, expected) in documents_headers() {
        let (status, _, _, bytes) =
            download(&app.base, &token, &format!("{name}?region_code={TOWNSHIP}&{period}&format=xlsx")).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(header_rows(bytes, expected.len()), expected, "{name}");
    }

    // 附件3: the 空挂户 household counts under its reason and under both cases its record shows.
    let removals = county.ok_get(&json_of("removals", TOWNSHIP)).await;
    let t = values(&removals["total"]);
    let pair = |key: &str| (t[&format!("{key}_households")].as_i64(), t[&format!("{key}_people")].as_i64());
    assert_eq!(t["households"], 1);
    assert_eq!(pair("absent_or_split"), (Some(1), Some(3)), "第6种, by the removal reason");
    assert_eq!(pair("high_living_costs"), (Some(1), Some(3)), "第2种, from the record");
    assert_eq!(pair("idle"), (Some(1), Some(3)), "第7种, from the record");
    assert_eq!(pair("wedding_debt"), (Some(0), Some(0)));

    // 附件4: the 2015 and 2016 exits, not the 2018 one.
    let relapse = county.ok_get(&json_of("relapse", TOWNSHIP)).await;
    let t = values(&relapse["total"]);
    let pair = |key: &str| (t[&format!("{key}_households")].as_i64(), t[&format!("{key}_people")].as_i64());
    assert_eq!(t["people"], 2 + 2, "H1 (2015) and H3 (2016); H2 exited 2018");
    assert_eq!(pair("disaster"), (Some(1), Some(2)));
    assert_eq!(pair("disability"), (Some(1), Some(2)));
    assert_eq!(pair("illness"), (Some(0), Some(0)), "the 2018 exit's illness is no 2014–2016 relapse");
    // 附件1 still counts every relapse as 返贫人口.
    let adjustment = county.ok_get(&json_of("dynamic_adjustment", TOWNSHIP)).await;
    assert_eq!(values(&adjustment["total"])["relapse"], 2 + 3 + 2);
    // Its reconciliation is printed under the table, apart and labelled as not part of
    // 附件1, with the JSON's numbers.
    let (_, _, _, bytes) =
        download(&app.base, &token, &format!("dynamic_adjustment?region_code={TOWNSHIP}&{period}&format=xlsx")).await;
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX calamine opens");
    let range = workbook.worksheet_range_at(0).expect("a sheet").expect("readable");
    let sheet: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
    let totals: Vec<usize> = (0..sheet.len()).filter(|i| sheet[*i][0] == Data::String("合计".into())).collect();
    assert_eq!(totals.len(), 2, "the table's total and the reconciliation's");
    let caption = (totals[0] + 1..totals[1])
        .find_map(|i| match &sheet[i][0] {
            Data::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
        .expect("a caption between the two");
    assert!(caption.contains("不属于附件1") && caption.contains("脱贫"), "{caption}");
    let appendix = &adjustment["appendix"];
    let keys: Vec<&str> =
        appendix["columns"].as_array().expect("columns").iter().map(|c| c["key"].as_str().expect("key")).collect();
    let printed: Vec<i64> = sheet[totals[1]][1..=keys.len()]
        .iter()
        .map(|d| match d {
            Data::Float(f) => *f as i64,
            Data::Int(i) => *i,
            other => panic!("{other:?} is not a number"),
        })
        .collect();
    let expected: Vec<i64> = keys.iter().map(|k| values(&appendix["total"])[*k].as_i64().expect("n")).collect();
    assert_eq!(printed, expected);
    assert!(
        keys.contains(&"exited") && !adjustment["columns"].as_array().expect("c").iter().any(|c| c["key"] == "exited")
    );

    // Every table: the county's figures are the sum of its townships', each township's
    // row is that township's own total, which is the sum of its villages'.
    for name in ["dynamic_adjustment", "new_identification", "removals", "relapse"] {
        let whole = county.ok_get(&json_of(name, COUNTY)).await;
        let township = county.ok_get(&json_of(name, TOWNSHIP)).await;
        let blocks = if name == "dynamic_adjustment" { vec![&whole, &whole["appendix"]] } else { vec![&whole] };
        for block in blocks {
            let rows = block["rows"].as_array().expect("rows");
            for key in values(&block["total"]).keys() {
                let sum: i64 = rows.iter().map(|r| values(r)[key].as_i64().expect("n")).sum();
                assert_eq!(values(&block["total"])[key].as_i64(), Some(sum), "{name} {key}");
            }
        }
        assert_eq!(values(&whole["rows"][0]), values(&township["total"]), "{name}");
        let mut villages = serde_json::Map::new();
        for village in [VILLAGE_1, VILLAGE_2] {
            let own = county.ok_get(&json_of(name, village)).await;
            for (key, n) in values(&own["total"]) {
                let so_far = villages.get(key).and_then(Value::as_i64).unwrap_or(0);
                villages.insert(key.clone(), json!(so_far + n.as_i64().expect("n")));
            }
        }
        assert_eq!(values(&township["total"]), &villages, "{name}: the township is the sum of its villages");
    }
}
