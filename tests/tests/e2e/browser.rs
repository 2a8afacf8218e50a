//! A real Chromium (Debian's `chromium` and `chromium-driver`), headless, at a phone's
//! screen size (the villagers' notice pages) or an office PC's (the console), driven over
//! WebDriver. Screenshots are kept under `target/test-artifacts/` for a person to look at.

use fantoccini::{Client, ClientBuilder, Locator};
// chromedriver listens on loopback: plain HTTP, no TLS stack needed.
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Browser {
    pub client: Client,
    driver: Child,
    /// Chromium's profile folder, removed when the browser goes (each is several MB, and
    /// the suite starts dozens).
    profile: std::path::PathBuf,
    /// chromedriver's port, for the Chrome DevTools commands it relays (`cdp`).
    port: u16,
}

/// A phone: 390 × 844 CSS pixels, as a common mid-range Android.
const PHONE_WIDTH: u32 = 390;
const PHONE_HEIGHT: u32 = 844;

/// An office PC: 1366 × 768, the most common screen in county and township offices.
const DESKTOP_WIDTH: u32 = 1366;
const DESKTOP_HEIGHT: u32 = 768;

impl Browser {
    /// A phone (mobile emulation).
    pub async fn start() -> Browser {
        Browser::launch(false, None).await
    }

    /// A desktop window of an office PC, no mobile emulation.
    pub async fn start_desktop() -> Browser {
        Browser::launch(true, None).await
    }

    /// A desktop window that saves what it downloads into `dir`, without asking.
    pub async fn start_desktop_downloading_to(dir: &std::path::Path) -> Browser {
        Browser::launch(true, Some(dir)).await
    }

    async fn launch(desktop: bool, downloads: Option<&std::path::Path>) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (apt-get install chromium chromium-driver; .ci/run does it)");
        let profile = std::env::temp_dir().join(format!("jingzhun-chromium-{port}"));
        let mut capabilities = serde_json::Map::new();
        let (width, height) = if desktop { (DESKTOP_WIDTH, DESKTOP_HEIGHT) } else { (PHONE_WIDTH, PHONE_HEIGHT) };
        let mut options = json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-extensions", "--no-first-run",
                format!("--user-data-dir={}", profile.display()),
                format!("--window-size={width},{height}"),
            ],
        });
        if !desktop {
            options["mobileEmulation"] = json!({
                "deviceMetrics": {"width": PHONE_WIDTH, "height": PHONE_HEIGHT, "pixelRatio": 2.0, "touch": true},
                "userAgent": "Mozilla/5.0 (Linux; Android 12; Redmi 10) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile Safari/537.36"
            });
        }
        if let Some(dir) = downloads {
            options["prefs"] = json!({"download.default_directory": dir, "download.prompt_for_download": false});
        }
        capabilities.insert("goog:chromeOptions".into(), options);
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new()).capabilities(capabilities.clone()).connect(&url).await {
                Ok(client) => return Browser { client, driver, profile, port },
                Err(err) => last_error = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = driver.kill();
        let _ = driver.wait();
        panic!("could not start Chromium through chromedriver: {last_error}");
    }

    /// Waits until the page's path starts with `prefix` (after a form post); the path.
    pub async fn wait_for_path(&self, prefix: &str) -> String {
        let mut path = String::new();
        for _ in 0..100 {
            if let Ok(url) = self.client.current_url().await {
                path = url.path().to_owned();
                if path.starts_with(prefix) {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        path
    }

    /// Saves a screenshot as `target/test-artifacts/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts");
        std::fs::create_dir_all(&dir).expect("artifact dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Sends a Chrome DevTools Protocol command to the page through chromedriver's
    /// `goog/cdp/execute` (no second connection to Chromium); the command's result.
    pub async fn cdp(&self, cmd: &str, params: serde_json::Value) -> serde_json::Value {
        let session = self.client.session_id().await.expect("session id").expect("a session");
        let url = format!("http://127.0.0.1:{}/session/{session}/goog/cdp/execute", self.port);
        let answer: serde_json::Value = reqwest::Client::new()
            .post(url)
            .json(&json!({"cmd": cmd, "params": params}))
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("json");
        assert!(answer["value"].get("error").is_none(), "{cmd}: {answer}");
        answer["value"].clone()
    }

    /// Takes the page off the network (or back on): `navigator.onLine` follows and the
    /// page gets its `offline`/`online` events. Reaches the page's own requests only (a
    /// service worker is its own target), which is why the app's worker never fetches
    /// the API for it.
    pub async fn offline(&self, offline: bool) {
        self.cdp("Network.enable", json!({})).await;
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        )
        .await;
    }

    /// Slows the page's CPU `rate` times, as a low-end phone (1 = full speed).
    pub async fn throttle_cpu(&self, rate: f64) {
        self.cdp("Emulation.setCPUThrottlingRate", json!({"rate": rate})).await;
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

// What a person does on a page, for the console's tests: each waits up to ten seconds
// for the console to render after its API calls answer.

/// The text of the first element matching `css` once `done` holds for it, or what it
/// showed last after ten seconds (the console renders after its API calls answer).
pub async fn text_when(client: &Client, css: &str, done: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if done(&text) {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// How many elements match `css` once there are `want`, or the last count after ten seconds.
pub async fn count_when(client: &Client, css: &str, want: usize) -> usize {
    let mut last = 0;
    for _ in 0..100 {
        last = client.find_all(Locator::Css(css)).await.map(|all| all.len()).unwrap_or(0);
        if last == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// The first element matching `css`, waiting up to ten seconds for the page to render it.
pub async fn element(client: &Client, css: &str) -> fantoccini::elements::Element {
    for _ in 0..100 {
        if let Ok(found) = client.find(Locator::Css(css)).await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {css} on the page");
}

pub async fn type_into(client: &Client, css: &str, text: &str) {
    element(client, css).await.send_keys(text).await.expect("type");
}

/// Replaces what a form input holds as a person does: select all, delete, type. (A
/// WebDriver `clear` blurs the input before Vue has re-rendered, and Vant's blur
/// handler then puts the old value back.)
pub async fn retype(client: &Client, css: &str, text: &str) {
    type_into(client, css, "\u{E009}a\u{E009}\u{E003}").await;
    type_into(client, css, text).await;
}

pub async fn click(client: &Client, css: &str) {
    element(client, css).await.click().await.expect("click");
}

pub async fn sign_in(browser: &Browser, base: &str, username: &str, password: &str) {
    browser.client.goto(&format!("{base}/login")).await.expect("open the login page");
    type_into(&browser.client, "#username", username).await;
    type_into(&browser.client, "#password", password).await;
    click(&browser.client, "#login-submit").await;
}

/// Picks the option showing `label` in the Element Plus select around `css` (its input or
/// any element inside it): the option reading exactly `label`, else the first one
/// containing it (e.g. a name followed by its code).
pub async fn choose(client: &Client, css: &str, label: &str) {
    click(client, &format!(".el-select:has({css}) .el-select__wrapper")).await;
    for _ in 0..100 {
        let mut partial = None;
        for item in client.find_all(Locator::Css(".el-select-dropdown__item")).await.unwrap_or_default() {
            if !item.is_displayed().await.unwrap_or(false) {
                continue;
            }
            let text = item.text().await.unwrap_or_default();
            if text.trim() == label {
                partial = Some(item);
                break;
            }
            if partial.is_none() && text.contains(label) {
                partial = Some(item);
            }
        }
        if let Some(item) = partial
            && item.click().await.is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no option {label} in {css}");
}
