//! Routes are registered only through utoipa-axum's `routes!`, which takes a handler's
//! method and path from its `#[utoipa::path]`: so every served operation is in the
//! OpenAPI document. (The e2e test `every_documented_operation_is_served` checks the
//! other direction against a running server.) A plain axum `.route(…)`, `.nest(…)` or
//! `.route_service(…)` would serve an operation the document does not list.

use std::path::Path;

#[test]
fn http_registers_routes_only_through_routes_macro() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("src/http") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        // A file's own tests may build small routers of their own.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in code.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if [".route(", ".nest(", ".route_service(", ".nest_service("].iter().any(|call| code.contains(call)) {
                found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "routes registered outside routes!: {found:#?}");
}
