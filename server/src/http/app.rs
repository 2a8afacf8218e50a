//! The officer app (issue 13): the installable web app of `console/dist/app/`, read from
//! the console's embed (one copy of the bytes in the binary), served under `/app/`. Its
//! `fallback` is the router's: `/app` here, everything else to `console::fallback`. What each file may be cached for is decided here:
//! the service worker and the manifest are revalidated on every check (`no-cache`, so an
//! update reaches phones), hashed assets are immutable, icons keep a day, and every other
//! page GET is the app's `index.html` with the app's CSP (its own router reads the path).
//! This file decides nothing about data or who may see it; the app's data comes only from
//! the phone's API (`/api/mobile/v1/`), never through here.

use super::console::{self, Dist, accepts_html, file_response};
use crate::error::Refusal;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What the app's page may load: its own scripts and styles (Vant sets inline styles),
/// images from itself or data/blob URLs (photo previews), its own service worker and
/// manifest; it calls only this server and is never framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
     font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// The fallback of the whole router: the app's paths here, the rest to the console's
/// (which keeps `/app` out of its own pages).
pub async fn fallback(req: Request) -> Response {
    let path = req.uri().path();
    if path == "/app" || path.starts_with("/app/") { serve(req).await } else { console::fallback(req).await }
}

/// Every request under `/app`: the table of plan §1.
async fn serve(req: Request) -> Response {
    let path = req.uri().path();
    let is_read = req.method() == Method::GET || req.method() == Method::HEAD;
    let odd = path.contains("..") || path.contains('\\') || path.contains("//");
    if !is_read || odd {
        return Refusal::not_found().into_response();
    }
    // The service worker's scope is /app/: the app's pages must live under the slash.
    if path == "/app" {
        let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
        response.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/app/"));
        return response;
    }
    let name = path.strip_prefix("/app/").unwrap_or_default();
    if let Some(asset) = name.strip_prefix("assets/") {
        return match Dist::get(&format!("app/assets/{asset}")) {
            Some(file) => file_response(file, "public, max-age=31536000, immutable"),
            None => Refusal::not_found().into_response(),
        };
    }
    let named = match name {
        "sw.js" => Some(("no-cache", Some("text/javascript; charset=utf-8"))),
        "manifest.webmanifest" => Some(("no-cache", Some("application/manifest+json"))),
        "icon.svg" => Some(("public, max-age=86400", None)),
        n if n.starts_with("icon-") && n.ends_with(".png") && !n.contains('/') => Some(("public, max-age=86400", None)),
        _ => None,
    };
    if let Some((cache, mime)) = named {
        return match Dist::get(&format!("app/{name}")) {
            Some(file) => {
                let mut response = file_response(file, cache);
                if let Some(mime) = mime {
                    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
                }
                response
            }
            None => Refusal::not_found().into_response(),
        };
    }
    // The page by its own name is what the service worker precaches (its fetch asks for
    // any type); other names are pages only when a browser navigates to them.
    if name != "index.html" && !accepts_html(&req) {
        return Refusal::not_found().into_response();
    }
    console::html_page("app/index.html", CONTENT_SECURITY_POLICY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::HeaderMap;
    use tower::ServiceExt;

    async fn call(method: Method, uri: &str, accept: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let app = Router::new().fallback(fallback);
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        let res = app.oneshot(request.body(Body::empty()).expect("request")).await.expect("answer");
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 24).await.expect("body");
        (parts.status, parts.headers, bytes.to_vec())
    }

    const PAGE: Option<&str> = Some("text/html,application/xhtml+xml,*/*;q=0.8");

    fn cache(headers: &HeaderMap) -> &str {
        headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    #[tokio::test]
    async fn bare_app_redirects_permanently_to_the_slash() {
        let (status, headers, _) = call(Method::GET, "/app", PAGE).await;
        assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
        assert_eq!(headers[header::LOCATION], "/app/");
    }

    #[tokio::test]
    async fn the_service_worker_and_manifest_are_revalidated_every_time() {
        let (status, headers, body) = call(Method::GET, "/app/sw.js", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(cache(&headers), "no-cache");
        assert_eq!(headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        let text = String::from_utf8(body).expect("utf-8");
        // The page itself in the precache list (JSON, double quotes), or the app cannot open offline.
        assert!(
            text.contains("\"/app/index.html\"") && !text.contains("__PRECACHE__"),
            "the precache list is filled in"
        );
        let (status, _, page) = call(Method::GET, "/app/index.html", None).await;
        assert_eq!(status, StatusCode::OK, "the worker's precache fetch of the page is answered");
        assert!(String::from_utf8(page).expect("utf-8").contains("<div id=\"app\">"));
        let (status, headers, _) = call(Method::GET, "/app/manifest.webmanifest", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(cache(&headers), "no-cache");
        assert_eq!(headers[header::CONTENT_TYPE], "application/manifest+json");
    }

    #[tokio::test]
    async fn hashed_assets_are_immutable_and_icons_keep_a_day() {
        let asset =
            Dist::iter().find(|n| n.starts_with("app/assets/") && n.ends_with(".js")).expect("a built app script");
        let (status, headers, _) = call(Method::GET, &format!("/{asset}"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(cache(&headers), "public, max-age=31536000, immutable");
        for icon in ["/app/icon.svg", "/app/icon-192.png", "/app/icon-512.png"] {
            let (status, headers, _) = call(Method::GET, icon, None).await;
            assert_eq!(status, StatusCode::OK, "{icon}");
            assert_eq!(cache(&headers), "public, max-age=86400", "{icon}");
        }
        let (status, _, _) = call(Method::GET, "/app/assets/missing-0000.js", None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn deep_links_get_the_apps_page_with_its_policy() {
        for uri in ["/app/", "/app/login", "/app/households/3f2a"] {
            let (status, headers, body) = call(Method::GET, uri, PAGE).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert_eq!(cache(&headers), "no-cache", "{uri}");
            let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().expect("csp");
            assert!(csp.contains("worker-src 'self'") && csp.contains("manifest-src 'self'"), "{uri}: {csp}");
            assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
            let html = String::from_utf8(body).expect("utf-8");
            assert!(html.contains("/app/manifest.webmanifest"), "{uri}: the app's page, not the console's");
        }
    }

    #[tokio::test]
    async fn anything_else_under_app_is_our_json_404() {
        for (method, uri, accept) in [
            (Method::POST, "/app/", PAGE),
            (Method::GET, "/app/unknown.txt", None),
            (Method::GET, "/app/../Cargo.toml", PAGE),
            (Method::GET, "/app//sw.js", None),
            (Method::GET, "/app/icon-../x.png", None),
        ] {
            let (status, headers, _) = call(method, uri, accept).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(headers[header::CONTENT_TYPE], "application/json", "{uri}");
        }
    }
}
