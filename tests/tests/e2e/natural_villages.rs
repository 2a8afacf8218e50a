//! Natural villages (003 附件3): kept by the village team, poor counts from households.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::Op;
use serde_json::json;
use uuid::Uuid;

on_both_backends!(natural_villages_hold_the_form_and_count_poor_households);

async fn natural_villages_hold_the_form_and_count_poor_households(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let id = Uuid::new_v4();
    let form = json!({
        "name": "王家庄", "group_no": "3", "leader": "王村长", "phone": "13900002222",
        "counts": {"total_households": 86, "total_population": 301, "dibao_households": 5, "migrant_workers": 77},
        "distance_to_village_km": 2.5,
        "conditions": {"paved_road": true, "broadband": false}
    });
    let path = format!("/api/v1/villages/{VILLAGE_1}/natural-villages/{id}");
    let (status, _) = village.put(&path, form.clone()).await;
    assert_eq!(status, 204);
    let (status, body) = village.put(&path, json!({"name": "王家庄", "counts": {"unknown_count": 1}})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("unknown_field")));
    let officer = Admin::login(&app.base, "officer-a", PASSWORD).await;
    assert_eq!(officer.put(&path, form).await.0, 403, "the village team keeps the form");

    // A household of that natural village: counted once it is in the register.
    let phone = app.phone("village-1", "phone-v").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 2).await;
    push(
        &phone,
        vec![changeset(vec![change("household", household, Op::Update, 1, json!({"natural_village": "王家庄"}))])],
    )
    .await;
    let list = village.ok_get(&format!("/api/v1/villages/{VILLAGE_1}/natural-villages")).await;
    let nv = &list[0];
    assert_eq!((nv["name"].as_str(), nv["counts"]["total_households"].as_i64()), (Some("王家庄"), Some(86)));
    assert_eq!(nv["distance_to_village_km"], 2.5);
    assert_eq!(nv["conditions"]["paved_road"], true);
    assert_eq!(nv["poor_households"], 0, "an applicant is not yet poor in the register");
    app.execute_sql(&format!("UPDATE household SET status = 'registered' WHERE id = '{household}'")).await;
    let list = village.ok_get(&format!("/api/v1/villages/{VILLAGE_1}/natural-villages")).await;
    assert_eq!((list[0]["poor_households"].as_i64(), list[0]["poor_people"].as_i64()), (Some(1), Some(3)));
}
