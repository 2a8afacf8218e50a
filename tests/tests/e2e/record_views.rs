//! The ground rule on personal data (issue 12): a household's whole record (full ID and
//! phone numbers) is shown only to a caller whose scope covers it and every such view is
//! audited; lists carry masked numbers only; the OpenAPI document types the household
//! page's responses and says how a cookie caller signs in.

use crate::harness::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    viewing_a_household_is_audited_once_and_a_refused_view_leaves_no_entry,
    the_household_list_never_carries_a_whole_id_or_phone_number,
);

/// The `view` entries of a household's trail.
fn views(trail: &Value) -> Vec<Value> {
    trail.as_array().expect("trail").iter().filter(|e| e["action"] == "view").cloned().collect()
}

async fn viewing_a_household_is_audited_once_and_a_refused_view_leaves_no_entry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-views").await;
    let (household, _) = create_household(&phone, VILLAGE_1, 1).await;
    let trail = format!("/api/v1/households/{household}/audit");
    let count = format!("SELECT COUNT(*) FROM audit_log WHERE action = 'view' AND entity_id = '{household}'");
    assert_eq!(app.count(&count).await, 0, "pushing is no view");

    let village = Admin::login(&app.base, "village-1", PASSWORD).await;
    let whole = village.ok_get(&format!("/api/v1/households/{household}")).await;
    assert_eq!(whole["household"]["id"], household.to_string());
    assert_eq!(whole["household"]["phone"], "13812345678", "the record page shows the whole number");
    let seen = views(&village.ok_get(&trail).await);
    assert_eq!(seen.len(), 1, "one view, one entry: {seen:?}");
    assert_eq!(seen[0]["entity"], "household");
    assert_eq!(seen[0]["entity_id"], household.to_string());
    let by_village = format!(
        "SELECT COUNT(*) FROM audit_log a JOIN app_user u ON u.id = a.user_id \
         WHERE u.username = 'village-1' AND a.id = {}",
        seen[0]["id"]
    );
    assert_eq!(app.count(&by_village).await, 1, "the entry names who looked: {seen:?}");
    assert!(seen[0]["device_id"].as_str().is_some_and(|d| d.starts_with("web-")), "and from which device: {seen:?}");
    assert!(seen[0]["at"].as_str().is_some_and(|t| !t.is_empty()), "and when");
    // Reading the trail and the list are not whole-record views.
    village.ok_get("/api/v1/households").await;
    assert_eq!(app.count(&count).await, 1);

    // Another village's team: refused, and nothing written for it.
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "village-2", "name": "village-2", "password": PASSWORD, "roles": [{"role": "village", "region_code": VILLAGE_2}]}),
        )
        .await;
    let other = Admin::login(&app.base, "village-2", PASSWORD).await;
    let (status, body) = other.get(&format!("/api/v1/households/{household}")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "out_of_scope", "{body}");
    assert_eq!(app.count(&count).await, 1, "a refused view is no view");

    // A second look is a second entry.
    app.admin.household(household).await;
    assert_eq!(app.count(&count).await, 2);
    let seen = views(&village.ok_get(&trail).await);
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[1]["user_id"], seen[0]["user_id"], "the administrator's view is theirs");
}

async fn the_household_list_never_carries_a_whole_id_or_phone_number(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-list").await;
    let mut households = Vec::new();
    for village in [VILLAGE_1, VILLAGE_2] {
        households.push(create_household(&phone, village, 2).await.0);
    }
    // The numbers as stored, from the server's own database.
    let conn = &app.state.db.conn;
    let mut numbers = Vec::new();
    for query in
        ["SELECT phone AS n FROM household", "SELECT id_number AS n FROM member", "SELECT phone AS n FROM member"]
    {
        use sea_orm::ConnectionTrait;
        let statement = sea_orm::Statement::from_string(conn.get_database_backend(), query);
        for row in conn.query_all_raw(statement).await.expect("numbers") {
            if let Some(n) = row.try_get::<Option<String>>("", "n").expect("n").filter(|n| !n.is_empty()) {
                numbers.push(n);
            }
        }
    }
    assert!(numbers.iter().any(|n| n == "13812345678"), "the households' phone is stored: {numbers:?}");
    assert!(numbers.len() >= 7, "two phones and six ID numbers: {numbers:?}");

    for who in [app.admin.clone(), Admin::login(&app.base, "county", PASSWORD).await] {
        let list = who.ok_get("/api/v1/households?limit=1000").await;
        let listed = list.as_array().expect("a list");
        assert_eq!(listed.len(), 2, "{list}");
        assert!(listed.iter().all(|h| h["phone"] == "138****5678"), "the phone masked, still there: {list}");
        let text = list.to_string();
        for number in &numbers {
            assert!(!text.contains(number.as_str()), "the list carries {number}: {text}");
        }
        let summaries = who.ok_get("/api/v1/household-summaries?per_page=200").await.to_string();
        for number in &numbers {
            assert!(!summaries.contains(number.as_str()), "the summaries carry {number}: {summaries}");
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'view'").await, 0, "no list is a view");
}

/// Every `$ref` in the document names a schema it has.
fn unresolved_refs(node: &Value, doc: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "$ref" {
                    let target = value.as_str().unwrap_or_default();
                    let pointer = target.trim_start_matches('#');
                    if doc.pointer(pointer).is_none() {
                        out.push(target.to_owned());
                    }
                } else {
                    unresolved_refs(value, doc, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| unresolved_refs(v, doc, out)),
        _ => {}
    }
}

/// The schema a response's `$ref` names, resolved.
fn response_schema<'a>(doc: &'a Value, path: &str) -> &'a Value {
    let schema = &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    let target = schema["$ref"].as_str().unwrap_or_else(|| panic!("{path} answers a named schema: {schema}"));
    doc.pointer(target.trim_start_matches('#')).unwrap_or_else(|| panic!("{target} resolves"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_types_the_household_page_and_names_the_cookie() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc: Value =
        reqwest::get(format!("{}/api/openapi.json", app.base)).await.expect("doc").json().await.expect("json");
    let mut missing = Vec::new();
    unresolved_refs(&doc, &doc, &mut missing);
    assert!(missing.is_empty(), "unresolved $refs: {missing:?}");

    let household = response_schema(&doc, "/api/v1/households/{id}");
    for key in ["household", "member", "income", "display_status"] {
        assert!(household["properties"][key].is_object(), "the household schema has {key}: {household}");
    }
    let record = doc.pointer("/components/schemas/HouseholdFields").expect("HouseholdFields");
    assert!(record["properties"]["phone"].is_object() && record["properties"]["farmland_area"].is_object(), "{record}");
    let assessment = response_schema(&doc, "/api/v1/households/{id}/assessment");
    for key in ["household_id", "year", "net_income", "identification", "exit", "edge", "quality"] {
        assert!(assessment["properties"][key].is_object(), "the assessment schema has {key}: {assessment}");
    }
    let schema = response_schema(&doc, "/api/mobile/v1/schema");
    assert_eq!(schema["properties"]["entities"]["type"], "array", "{schema}");
    assert_eq!(schema["properties"]["code_tables"]["type"], "array", "{schema}");

    // The documented schemas are descriptions of JSON built elsewhere: what is served
    // must have exactly the documented keys.
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-doc").await;
    let (household_id, _) = create_household(&phone, VILLAGE_1, 0).await;
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
        k.sort();
        k
    };
    let served = app.admin.household(household_id).await;
    assert_eq!(keys(&served), keys(&household["properties"]), "GET /api/v1/households/{{id}}");
    assert_eq!(keys(&served["household"]), keys(&record["properties"]), "HouseholdFields");
    let member = doc.pointer("/components/schemas/MemberFields").expect("MemberFields");
    assert_eq!(keys(&served["member"][0]), keys(&member["properties"]), "MemberFields");
    let served = app.admin.ok_get(&format!("/api/v1/households/{household_id}/assessment")).await;
    assert_eq!(keys(&served), keys(&assessment["properties"]), "the assessment");
    let served: Value =
        reqwest::get(format!("{}/api/mobile/v1/schema", app.base)).await.expect("schema").json().await.expect("json");
    assert_eq!(keys(&served), keys(&schema["properties"]), "/schema");
    let named =
        |name: &str| doc.pointer(&format!("/components/schemas/{name}")).unwrap_or_else(|| panic!("{name}")).clone();
    assert_eq!(keys(&served["entities"][0]), keys(&named("CatalogueEntity")["properties"]));
    assert_eq!(keys(&served["code_tables"][0]), keys(&named("CatalogueCodeTable")["properties"]));
    assert_eq!(keys(&served["code_tables"][0]["codes"][0]), keys(&named("CatalogueCode")["properties"]));
    let field_keys = keys(&named("CatalogueField")["properties"]);
    let kind_keys = keys(&named("CatalogueFieldKind")["properties"]);
    for entity in served["entities"].as_array().expect("entities") {
        for field in entity["fields"].as_array().expect("fields") {
            assert_eq!(keys(field), field_keys, "{field}");
            assert!(keys(&field["kind"]).iter().all(|k| kind_keys.contains(k)), "{field}");
        }
    }

    let cookie = &doc["components"]["securitySchemes"]["cookie"];
    assert_eq!(
        (cookie["type"].as_str(), cookie["in"].as_str(), cookie["name"].as_str()),
        (Some("apiKey"), Some("cookie"), Some("jz_session")),
        "{cookie}"
    );
    assert!(cookie["description"].as_str().is_some_and(|d| d.contains("X-CSRF-Token")), "{cookie}");
    let get_household = &doc["paths"]["/api/v1/households/{id}"]["get"];
    assert!(
        get_household["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("cookie").is_some())),
        "{get_household}"
    );
}
