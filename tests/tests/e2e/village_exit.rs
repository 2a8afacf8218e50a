//! Village exit (贫困村退出/出列, 003 §一(二)) from stored data: the county records a
//! village's facts, decides its exit only when R9 allows it (incidence below 2%,
//! 不搬迁不退出, the sector departments' finding), can revoke it; exited villages back at
//! or above 2% are on the 回头看 list; the 10% spot check draws from the exits decided
//! in its period.

use crate::harness::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    a_village_exits_only_when_r9_allows_and_is_looked_at_again,
    only_the_county_decides_and_revokes_an_exit
);

/// Registers a household of `people` in `village`. The status is set directly: it
/// stands in for the register import or a relapse procedure, which are tested elsewhere.
async fn registered_household(
    app: &TestApp,
    officer: &jingzhun_mobile_api::client::Client,
    village: &str,
    people: usize,
) {
    let (household, _) = create_household(officer, village, people - 1).await;
    app.execute_sql(&format!("UPDATE household SET status = 'registered' WHERE id = '{household}'")).await;
}

fn unmet_fields(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|f| f.iter().map(|e| e["field"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

const DOCUMENT: &str = "测试县扶贫办〔2026〕8号";

async fn a_village_exits_only_when_r9_allows_and_is_looked_at_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let officer = app.phone("officer-a", "phone-a").await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;

    // 东村: 3 poor people of 200, 1.5%, a deep-poverty village in the whole-village
    // relocation scope that has not moved.
    registered_household(&app, &officer, VILLAGE_1, 3).await;
    let (status, _) =
        county.put(&format!("/api/v1/villages/{VILLAGE_1}/population"), json!({"rural_population": 200})).await;
    assert_eq!(status, 204);
    let facts = json!({"deep_poverty_village": true, "whole_village_relocation": true, "relocation_done": false, "exit_indicators_met": true});
    let (status, body) = county.put(&format!("/api/v1/villages/{VILLAGE_1}/facts"), facts.clone()).await;
    assert_eq!(status, 204, "{body}");
    let exit = json!({"year": 2026, "document_no": DOCUMENT});
    let (status, body) = county.post(&format!("/api/v1/villages/{VILLAGE_1}/exit"), exit.clone()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("village_not_ready")), "{body}");
    assert_eq!(unmet_fields(&body), vec!["relocation_done"], "only 不搬迁不退出 holds it back: {body}");
    assert!(body["error"]["fields"][0]["message_zh"].as_str().unwrap_or_default().contains("不搬迁不退出"), "{body}");
    let assessment = county.ok_get(&format!("/api/v1/villages/{VILLAGE_1}/exit-assessment")).await;
    assert_eq!(
        (assessment["exit"]["incidence_basis_points"].as_u64(), assessment["exit"]["awaiting_relocation"].as_bool()),
        (Some(150), Some(true)),
        "{assessment}"
    );
    assert_eq!(assessment["decision"], Value::Null);

    // Without the departments' finding it does not exit either.
    let mut unrecorded = facts.clone();
    unrecorded["relocation_done"] = json!(true);
    unrecorded["exit_indicators_met"] = Value::Null;
    assert_eq!(county.put(&format!("/api/v1/villages/{VILLAGE_1}/facts"), unrecorded).await.0, 204);
    let (status, body) = county.post(&format!("/api/v1/villages/{VILLAGE_1}/exit"), exit.clone()).await;
    assert_eq!((status, unmet_fields(&body)), (409, vec!["exit_indicators_met".to_owned()]), "{body}");

    // Moved, and found meeting the indicators: it exits, once.
    let mut moved = facts.clone();
    moved["relocation_done"] = json!(true);
    assert_eq!(county.put(&format!("/api/v1/villages/{VILLAGE_1}/facts"), moved).await.0, 204);
    let decided = county.ok_post(&format!("/api/v1/villages/{VILLAGE_1}/exit"), exit.clone()).await;
    assert_eq!((decided["year"].as_i64(), decided["document_no"].as_str()), (Some(2026), Some(DOCUMENT)));
    let again = county.ok_post(&format!("/api/v1/villages/{VILLAGE_1}/exit"), exit.clone()).await;
    assert_eq!(again, decided, "the same decision again changes nothing");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'village_exit'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'set_village_facts'").await, 7);
    let (status, body) = county
        .post(&format!("/api/v1/villages/{VILLAGE_1}/exit"), json!({"year": 2026, "document_no": "另一文号"}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("village_already_exited")), "{body}");
    let assessment = county.ok_get(&format!("/api/v1/villages/{VILLAGE_1}/exit-assessment")).await;
    assert_eq!(assessment["decision"]["document_no"].as_str(), Some(DOCUMENT), "{assessment}");
    assert_eq!(assessment["recorded"]["relocation_done"], json!(true));
    assert_eq!(assessment["review"], json!(false));

    // 西村: 3 poor people of 100, 3%: refused for its incidence alone.
    registered_household(&app, &officer, VILLAGE_2, 3).await;
    assert_eq!(
        county.put(&format!("/api/v1/villages/{VILLAGE_2}/population"), json!({"rural_population": 100})).await.0,
        204
    );
    assert_eq!(
        county.put(&format!("/api/v1/villages/{VILLAGE_2}/facts"), json!({"exit_indicators_met": true})).await.0,
        204
    );
    let (status, body) = county.post(&format!("/api/v1/villages/{VILLAGE_2}/exit"), exit.clone()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("village_not_ready")), "{body}");
    assert_eq!(unmet_fields(&body), vec!["incidence"], "{body}");
    assert!(body["error"]["fields"][0]["message_zh"].as_str().unwrap_or_default().contains("3.00%"), "{body}");

    // 回头看: nothing while 东村 stays at 1.5%; after households relapse it is at 3%.
    let review = format!("/api/v1/villages/review?region_code={TOWNSHIP}");
    assert_eq!(county.ok_get(&review).await["villages"], json!([]));
    registered_household(&app, &officer, VILLAGE_1, 3).await;
    let listed = township.ok_get(&review).await;
    let villages = listed["villages"].as_array().expect("villages");
    assert_eq!(villages.len(), 1, "{listed}");
    assert_eq!(
        (
            villages[0]["code"].as_str(),
            villages[0]["remaining_poor"].as_i64(),
            villages[0]["rural_population"].as_i64(),
            villages[0]["incidence_basis_points"].as_u64(),
            villages[0]["exit"]["year"].as_i64(),
        ),
        (Some(VILLAGE_1), Some(6), Some(200), Some(300), Some(2026)),
        "{listed}"
    );
    let assessment = county.ok_get(&format!("/api/v1/villages/{VILLAGE_1}/exit-assessment")).await;
    assert_eq!(assessment["review"], json!(true), "{assessment}");
    // Scope: the village team of 东村 does not read the township's list.
    let village_team = Admin::login(&app.base, "village-1", PASSWORD).await;
    assert_eq!(village_team.get(&review).await.0, 403);
    assert_eq!(
        county.ok_get(&format!("/api/v1/villages/review?region_code={COUNTY}")).await["villages"],
        listed["villages"]
    );

    // The spot check draws from the villages that exited in its period, and says how
    // each stands today.
    let spot = county
        .ok_get(&format!(
            "/api/v1/reports/spot_check?region_code={TOWNSHIP}&from=2000-01-01&to=2100-12-31&seed=7&format=json"
        ))
        .await;
    assert_eq!(spot["exiting_villages"], json!([VILLAGE_1]), "{spot}");
    assert_eq!(spot["sample"][0]["code"].as_str(), Some(VILLAGE_1), "{spot}");
    assert_eq!(spot["sample"][0]["document_no"].as_str(), Some(DOCUMENT));
    assert_eq!(spot["sample"][0]["meets"], json!(false), "relapsed to 3%: {spot}");
    assert_eq!(spot["sample"][0]["unmet"], json!(["incidence"]));
    assert_eq!(spot["sample"][0]["relocation"].as_str(), Some("深度贫困村，已整村搬迁"));
    let before = county
        .ok_get(&format!(
            "/api/v1/reports/spot_check?region_code={TOWNSHIP}&from=2000-01-01&to=2000-12-31&seed=7&format=json"
        ))
        .await;
    assert_eq!(before["exiting_villages"], json!([]), "decided outside the period: {before}");
}

async fn only_the_county_decides_and_revokes_an_exit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let township = Admin::login(&app.base, "township-1", PASSWORD).await;
    assert_eq!(
        county.put(&format!("/api/v1/villages/{VILLAGE_1}/population"), json!({"rural_population": 500})).await.0,
        204
    );
    let facts = json!({"exit_indicators_met": true});
    assert_eq!(township.put(&format!("/api/v1/villages/{VILLAGE_1}/facts"), facts.clone()).await.0, 403);
    assert_eq!(county.put(&format!("/api/v1/villages/{VILLAGE_1}/facts"), facts).await.0, 204);
    let exit = json!({"year": 2026, "document_no": DOCUMENT});
    let (status, body) = township.post(&format!("/api/v1/villages/{VILLAGE_1}/exit"), exit.clone()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    let (status, body) =
        county.post(&format!("/api/v1/villages/{VILLAGE_1}/exit"), json!({"year": 2026, "document_no": "  "})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("required")), "{body}");
    county.ok_post(&format!("/api/v1/villages/{VILLAGE_1}/exit"), exit.clone()).await;

    assert_eq!(township.delete(&format!("/api/v1/villages/{VILLAGE_1}/exit")).await.0, 403);
    assert_eq!(county.delete(&format!("/api/v1/villages/{VILLAGE_1}/exit")).await.0, 204);
    assert_eq!(county.delete(&format!("/api/v1/villages/{VILLAGE_1}/exit")).await.0, 404);
    let assessment = county.ok_get(&format!("/api/v1/villages/{VILLAGE_1}/exit-assessment")).await;
    assert_eq!(assessment["decision"], Value::Null, "{assessment}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'revoke_village_exit'").await, 1);
    // Revoked, it exits again under a new decision; two clerks posting it at once both
    // get the one decision, recorded once.
    let path = format!("/api/v1/villages/{VILLAGE_1}/exit");
    let again = json!({"year": 2027, "document_no": "新文号"});
    let (first, second) = tokio::join!(county.post(&path, again.clone()), county.post(&path, again.clone()));
    assert_eq!((first.0, second.0), (200, 200), "{first:?} {second:?}");
    assert_eq!(first.1, second.1);
    assert_eq!(first.1["year"].as_i64(), Some(2027));
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'village_exit'").await, 2);
}
