//! Reports (C9): the statistics tables add up across levels, XLSX and CSV hold what the
//! JSON says, the register masks ID numbers, officers get none.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::{Value, json};
use std::collections::HashSet;
use uuid::Uuid;

on_both_backends!(reports_add_up_across_levels_and_formats);

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
    assert_eq!(n("baseline") + n("in_subtotal") - n("out_subtotal"), n("remaining"));
    // One level up, the township is one row and equals its own total.
    let county_report = county.ok_get(&report("dynamic_adjustment", COUNTY)).await;
    assert_eq!(values(&county_report["rows"][0]), total);

    // The other statistics tables.
    let removals = county.ok_get(&report("removals", TOWNSHIP)).await;
    let removed = values(&removals["total"]);
    assert_eq!((removed["households"].as_i64(), removed["people"].as_i64()), (Some(1), Some(4)));
    assert_eq!((removed["vehicles_households"].as_i64(), removed["vehicles_people"].as_i64()), (Some(1), Some(4)));
    let identified = county.ok_get(&report("new_identification", TOWNSHIP)).await;
    let identified = values(&identified["total"]);
    assert_eq!((identified["households"].as_i64(), identified["people"].as_i64()), (Some(4), Some(11)));
    let relapse = county.ok_get(&report("relapse", TOWNSHIP)).await;
    assert_eq!(values(&relapse["total"])["households"], 0);

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
        text.contains("地区,期初贫困人口,动态调整情况") && text.contains("新识别") && text.contains("东村,"),
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
