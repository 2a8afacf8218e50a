//! Rejected change sets in the office (issue 12): the list masks ID and phone numbers
//! by the field's kind, as every list does, and a listing is no view; one change set
//! opened whole is a `view` in its household's trail, only for whoever reads every
//! household it touches. Managers (the county) and supervisors (督查) list them.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::validate::{mask_id_number, mask_phone};
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op};
use serde_json::json;
use uuid::Uuid;

on_both_backends!(
    rejected_change_sets_are_listed_masked_and_opened_whole_audited,
    a_refused_create_is_whole_only_for_who_reads_its_village,
);

async fn rejected_change_sets_are_listed_masked_and_opened_whole_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    // A whole, valid ID number and a mobile number, refused only for the unknown field.
    let number = fresh_id_number();
    let mobile = "13912345678";
    let bad = changeset(vec![
        change("household", household, Op::Update, 1, json!({"phone": mobile, "nope": 1})),
        change(
            "member",
            Uuid::new_v4(),
            Op::Create,
            0,
            json!({"household_id": household, "name": "李四", "sex": "male", "id_number": number, "relation": "son"}),
        ),
    ]);
    assert_eq!(push(&phone, vec![bad.clone()]).await.results[0].status, ChangeSetStatus::Rejected);

    // Supervisors (督查) of one village each: they list what touches their village.
    for (username, region) in [("supervisor-1", VILLAGE_1), ("supervisor-2", VILLAGE_2)] {
        app.admin
            .ok_post(
                "/api/v1/users",
                json!({"username": username, "name": username, "password": PASSWORD, "roles": [{"role": "supervisor", "region_code": region}]}),
            )
            .await;
    }
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let listed = county.ok_get("/api/v1/changesets/rejected").await;
    let row = listed
        .as_array()
        .expect("a list")
        .iter()
        .find(|r| r["changeset_id"] == bad.id.to_string())
        .cloned()
        .expect("the county sees its household's rejected change set");
    assert_eq!(row["values_withheld"], false, "{row}");
    let text = listed.to_string();
    assert!(!text.contains(&number), "the list carries a whole ID number: {text}");
    assert!(!text.contains(mobile), "the list carries a whole phone number: {text}");
    assert_eq!(row["request"]["changes"][0]["fields"]["phone"], mask_phone(mobile));
    assert_eq!(row["request"]["changes"][1]["fields"]["id_number"], mask_id_number(&number));
    assert_eq!(row["request"]["changes"][1]["fields"]["name"], "李四", "other values are shown as they are");
    let views = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'view' AND entity = 'changeset' AND entity_id = '{}'",
        bad.id
    );
    assert_eq!(app.count(&views).await, 0, "listing is no view");

    // The other village's supervisor: not listed, and opening it is answered as if it were not kept.
    let other = Admin::login(&app.base, "supervisor-2", PASSWORD).await;
    let theirs = other.ok_get("/api/v1/changesets/rejected").await;
    assert!(!theirs.to_string().contains(&bad.id.to_string()), "{theirs}");
    let whole_path = format!("/api/v1/changesets/rejected/phone-a/{}", bad.id);
    let (status, body) = other.get(&whole_path).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");
    assert_eq!(app.count(&views).await, 0, "a refused view is no view");

    // Opened whole by the county: the whole numbers, one audited view in the household's trail.
    let whole = county.ok_get(&whole_path).await;
    assert_eq!(whole["request"]["changes"][0]["fields"]["phone"], mobile);
    assert_eq!(whole["request"]["changes"][1]["fields"]["id_number"], number.as_str());
    assert_eq!(app.count(&views).await, 1, "one view, one entry");
    let trail = county.ok_get(&format!("/api/v1/households/{household}/audit")).await;
    assert!(
        trail.as_array().expect("a list").iter().any(|e| e["action"] == "view" && e["entity"] == "changeset"),
        "the household's trail shows who opened the change set: {trail}"
    );

    // A change set across two villages: listed for the first village's supervisor without
    // its values, and not opened whole for them either.
    let (in_v2, _) = create_household(&phone, VILLAGE_2, 0).await;
    let across = changeset(vec![
        change("household", household, Op::Update, 1, json!({"phone": "13800007777"})),
        change("household", in_v2, Op::Update, 1, json!({"phone": "13800008888", "nope": 1})),
    ]);
    assert_eq!(push(&phone, vec![across.clone()]).await.results[0].status, ChangeSetStatus::Rejected);
    let supervisor = Admin::login(&app.base, "supervisor-1", PASSWORD).await;
    let listed = supervisor.ok_get("/api/v1/changesets/rejected").await;
    let row = listed.as_array().expect("a list").iter().find(|r| r["changeset_id"] == across.id.to_string()).cloned();
    assert_eq!(row.expect("listed for a reader of one household")["values_withheld"], true);
    assert!(!listed.to_string().contains("7777"), "no values, masked or not: {listed}");
    let (status, body) = supervisor.get(&format!("/api/v1/changesets/rejected/phone-a/{}", across.id)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("out_of_scope")), "{body}");
    // The county reads both villages: it opens it whole.
    let whole = county.ok_get(&format!("/api/v1/changesets/rejected/phone-a/{}", across.id)).await;
    assert_eq!(whole["request"]["changes"][1]["fields"]["phone"], "13800008888");
    let across_views = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'view' AND entity = 'changeset' AND entity_id = '{}'",
        across.id
    );
    assert_eq!(app.count(&across_views).await, 2, "a view in each household's trail");
}

/// A refused create of a new household (review #8): one naming its village is kept with
/// that village, so only its readers list it. One naming none (its `region_code` left
/// out) is listed for the readers of any of the submitter's regions, but given whole
/// (and audited) only to who reads every one of them; a supervisor of one of the
/// submitter's two villages gets it as the list shows it, masked, with no view recorded.
async fn a_refused_create_is_whole_only_for_who_reads_its_village(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    for (username, roles) in [
        (
            "officer-2v",
            json!([{"role": "officer", "region_code": VILLAGE_1}, {"role": "officer", "region_code": VILLAGE_2}]),
        ),
        ("supervisor-1", json!([{"role": "supervisor", "region_code": VILLAGE_1}])),
    ] {
        app.admin
            .ok_post(
                "/api/v1/users",
                json!({"username": username, "name": username, "password": PASSWORD, "roles": roles}),
            )
            .await;
    }
    let phone = app.phone("officer-2v", "phone-2v").await;
    let refused_create = |region: Option<&str>, number: &str| {
        let household = Uuid::new_v4();
        let mut fields = json!({"address": "西村一组1号", "standard": "national", "kind": "general", "nope": 1});
        if let Some(region) = region {
            fields["region_code"] = json!(region);
        }
        changeset(vec![
            change("household", household, Op::Create, 0, fields),
            change(
                "member",
                Uuid::new_v4(),
                Op::Create,
                0,
                json!({"household_id": household, "name": "王五", "sex": "male", "id_number": number, "relation": "head"}),
            ),
        ])
    };
    let views = |id: Uuid| {
        format!("SELECT COUNT(*) FROM audit_log WHERE action = 'view' AND entity = 'changeset' AND entity_id = '{id}'")
    };
    let outside = Admin::login(&app.base, "supervisor-1", PASSWORD).await;
    let county = Admin::login(&app.base, "county", PASSWORD).await;

    // Naming 西村: not listed for 东村's supervisor, nor opened.
    let named = refused_create(Some(VILLAGE_2), &fresh_id_number());
    assert_eq!(push(&phone, vec![named.clone()]).await.results[0].status, ChangeSetStatus::Rejected);
    let listed = outside.ok_get("/api/v1/changesets/rejected").await;
    assert!(!listed.to_string().contains(&named.id.to_string()), "{listed}");
    let (status, body) = outside.get(&format!("/api/v1/changesets/rejected/phone-2v/{}", named.id)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");

    // Naming no village: listed for 东村's supervisor (one of the submitter's villages),
    // masked; opened, it stays masked and is no view.
    let number = fresh_id_number();
    let unnamed = refused_create(None, &number);
    assert_eq!(push(&phone, vec![unnamed.clone()]).await.results[0].status, ChangeSetStatus::Rejected);
    let whole_path = format!("/api/v1/changesets/rejected/phone-2v/{}", unnamed.id);
    let listed = outside.ok_get("/api/v1/changesets/rejected").await;
    assert!(listed.to_string().contains(&unnamed.id.to_string()), "{listed}");
    assert!(!listed.to_string().contains(&number), "{listed}");
    let opened = outside.ok_get(&whole_path).await;
    assert_eq!(opened["request"]["changes"][1]["fields"]["id_number"], mask_id_number(&number), "{opened}");
    assert!(!opened.to_string().contains(&number), "whole for a reader of one of two villages: {opened}");
    assert_eq!(app.count(&views(unnamed.id)).await, 0, "a masked answer is no view");

    // The county reads both of the submitter's villages: whole, one view.
    let whole = county.ok_get(&whole_path).await;
    assert_eq!(whole["request"]["changes"][1]["fields"]["id_number"], number.as_str(), "{whole}");
    assert_eq!(app.count(&views(unnamed.id)).await, 1, "the county's view is recorded");
}
