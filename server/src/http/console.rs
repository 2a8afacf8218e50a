//! The office console (issue 12): the built front end of `console/dist/`, embedded in
//! the binary so a fresh clone's `cargo run --release` serves it without Node.js.
//!
//! Served as the router's fallback, after every API and page route: `/assets/*` (hashed
//! names, cached for a year), and `index.html` (never cached) for any other GET a
//! browser makes for a page — the console's own router reads the path. Paths of the API,
//! the public notice pages (`/n/`, `/o`), the officer app (`/app/`: `app.rs`, which is the
//! router's fallback and hands the rest here) and the operations routes never get the console: an unknown one keeps its JSON 404. This file
//! decides nothing about who may see what; the console holds no data of its own.

use crate::error::Refusal;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

// `allow_missing`: the front end's build empties the folder while it writes; the
// server still compiles meanwhile (and a missing build fails the console's tests).
#[derive(rust_embed::RustEmbed)]
#[folder = "../console/dist/"]
#[allow_missing = true]
pub(super) struct Dist;

/// Paths that belong to something other than the console, with everything under them.
const NOT_CONSOLE: &[&str] = &["/api", "/n", "/o", "/app", "/healthz", "/metrics"];

/// What the console's page may load: its own scripts and styles (Element Plus sets
/// inline styles), images from itself or data/blob URLs (charts, previews); it calls only
/// this server and is never framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'self'; form-action 'self'";

/// The fallback of the whole router: the console's files and pages, else our 404.
pub async fn fallback(req: Request) -> Response {
    let path = req.uri().path();
    let is_read = req.method() == Method::GET || req.method() == Method::HEAD;
    let ours =
        NOT_CONSOLE.iter().any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')));
    // The embedded map would answer nothing for these anyway; refusing early keeps the
    // debug build's reads from disk inside the folder.
    let odd = path.contains("..") || path.contains('\\') || path.contains("//");
    if !is_read || ours || odd {
        return Refusal::not_found().into_response();
    }
    if let Some(asset) = path.strip_prefix("/assets/") {
        return match Dist::get(&format!("assets/{asset}")) {
            Some(file) => file_response(file, "public, max-age=31536000, immutable"),
            None => Refusal::not_found().into_response(),
        };
    }
    // Other files at the top of the build (favicon.ico, robots.txt) by name.
    if let Some(name) = path.strip_prefix('/').filter(|n| !n.is_empty() && !n.contains('/') && *n != "index.html")
        && let Some(file) = Dist::get(name)
    {
        return file_response(file, "public, max-age=3600");
    }
    if !accepts_html(&req) {
        return Refusal::not_found().into_response();
    }
    html_page("index.html", CONTENT_SECURITY_POLICY)
}

/// An SPA's `index.html` from the embed, never cached, with its CSP and the headers every
/// page of ours carries (the console's and the officer app's differ only in the CSP).
pub(super) fn html_page(name: &str, content_security_policy: &'static str) -> Response {
    match Dist::get(name) {
        Some(file) => {
            let mut response = file_response(file, "no-cache");
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(content_security_policy));
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
            response
        }
        None => Refusal::not_found().into_response(),
    }
}

/// A page request: the browser asks for HTML. `*/*` alone (scripts, curl) is not one,
/// so a mistyped API path keeps answering JSON.
pub(super) fn accepts_html(req: &Request) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/html"))))
}

pub(super) fn file_response(file: rust_embed::EmbeddedFile, cache: &'static str) -> Response {
    let mime = file.metadata.mimetype();
    let mime = if mime.starts_with("text/") && !mime.contains("charset") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    let mut response = (StatusCode::OK, Body::from(file.data.into_owned())).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
