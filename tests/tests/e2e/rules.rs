//! Rules applied to stored households: poverty lines as data, assessments, data quality.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::Op;
use serde_json::json;
use uuid::Uuid;

on_both_backends!(thresholds_are_data_and_households_are_assessed);

async fn thresholds_are_data_and_households_are_assessed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let lines = app.admin.ok_get("/api/v1/thresholds").await;
    assert!(
        lines.as_array().expect("lines").iter().any(|l| l["region_prefix"] == "530103" && l["yuan"] == 2952.0),
        "the seeded 002 line"
    );

    let officer = Admin::login(&app.base, "officer-a", PASSWORD).await;
    let line = json!({"year": 2025, "region_prefix": "320703", "standard": "national", "yuan": 3800, "source": "县定"});
    assert_eq!(officer.put("/api/v1/thresholds", line.clone()).await.0, 403, "officers do not set poverty lines");
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    assert_eq!(
        county
            .put(
                "/api/v1/thresholds",
                json!({"year": 2025, "region_prefix": "32", "standard": "national", "yuan": 1, "source": "x"})
            )
            .await
            .0,
        403,
        "not above the county"
    );
    assert_eq!(county.put("/api/v1/thresholds", line).await.0, 204);

    // A household of two with 7,000 yuan net: 3,500 per head, below 3,800.
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, members) = create_household(&phone, VILLAGE_1, 1).await;
    let income =
        json!({"household_id": household, "year": 2025, "wage": 6000, "business": 1500, "business_expense": 500});
    push(&phone, vec![changeset(vec![change("income", Uuid::new_v4(), Op::Create, 0, income)])]).await;
    let assessment = county.ok_get(&format!("/api/v1/households/{household}/assessment?year=2025")).await;
    assert_eq!(assessment["threshold"]["yuan"], 3800.0);
    assert_eq!(assessment["net_income"]["net_fen"], 700_000);
    assert_eq!(assessment["net_income"]["resident_members"], 2);
    assert!(assessment["exit"]["obstacles"].as_array().is_some_and(|o| !o.is_empty()), "{assessment}");
    // Regional variants are data: this county leaves the basic pension out of income (as 000 does).
    let policies = county.ok_get("/api/v1/rule-policies").await;
    let jilin = policies
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["region_prefix"] == "22")
        .expect("seeded 000 variant")
        .clone();
    assert_eq!(jilin["policy"]["pension_counted"], false);
    let income_id = app.admin.household(household).await["income"][0]["id"].as_str().expect("id").to_owned();
    push(
        &phone,
        vec![changeset(vec![change(
            "income",
            income_id.parse().expect("uuid"),
            Op::Update,
            1,
            json!({"pension": 1000, "transfer": 1000}),
        )])],
    )
    .await;
    let counted = county.ok_get(&format!("/api/v1/households/{household}/assessment?year=2025")).await;
    assert_eq!(counted["net_income"]["net_fen"], 800_000, "the 004 variant of this city counts the pension");
    let mut policy = jilin["policy"].clone();
    policy["pension_counted"] = json!(false);
    let (status, _) = county
        .put(
            "/api/v1/rule-policies",
            json!({"region_prefix": "320703", "policy": policy, "source": "县定：基础养老金不计入"}),
        )
        .await;
    assert_eq!(status, 204);
    let excluded = county.ok_get(&format!("/api/v1/households/{household}/assessment?year=2025")).await;
    assert_eq!(excluded["net_income"]["net_fen"], 700_000, "pension left out under the county's own variant");
    assert_eq!(
        officer
            .put("/api/v1/rule-policies", json!({"region_prefix": "320703", "policy": policy, "source": "x"}))
            .await
            .0,
        403
    );

    // R9: a village exits below 2% incidence; without a population it cannot be judged.
    assert_eq!(county.get(&format!("/api/v1/villages/{VILLAGE_2}/exit-assessment")).await.0, 409);
    let (status, _) =
        county.put(&format!("/api/v1/villages/{VILLAGE_1}/population"), json!({"rural_population": 80})).await;
    assert_eq!(status, 204);
    let village = county.ok_get(&format!("/api/v1/villages/{VILLAGE_1}/exit-assessment")).await;
    assert_eq!(
        (village["facts"]["remaining_poor"].as_u64(), village["exit"]["below_limit"].as_bool()),
        (Some(0), Some(true)),
        "{village}"
    );

    let b = Admin::login(&app.base, "officer-b", PASSWORD).await;
    assert_eq!(b.get(&format!("/api/v1/households/{household}/assessment")).await.0, 403);

    // A member whose recorded sex contradicts the sex digit of the ID number is a
    // data-quality problem (R8).
    let whole = app.admin.household(household).await;
    let member = whole["member"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["id"] == members[1].to_string())
        .expect("member")
        .clone();
    let id_sex = jingzhun_mobile_api::validate::id_sex(member["id_number"].as_str().expect("id")).expect("sex digit");
    let wrong = if id_sex == "male" { "female" } else { "male" };
    let version = member["version"].as_i64().expect("version");
    push(&phone, vec![changeset(vec![change("member", members[1], Op::Update, version, json!({"sex": wrong}))])]).await;
    let problems = county.ok_get("/api/v1/quality").await;
    let ours = problems
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["household_id"] == household.to_string())
        .expect("flagged");
    assert!(ours["problems"].to_string().contains("sex"), "{ours}");
    // The same list as a report a county can hand out (CSV here; XLSX alike).
    let (status, csv) = county.get_text(&format!("/api/v1/reports/data_quality?region_code={COUNTY}&format=csv")).await;
    assert_eq!(status, 200);
    assert!(csv.starts_with('\u{feff}') && csv.contains("数据质量问题清单") && csv.contains("性别"), "{csv}");
}
