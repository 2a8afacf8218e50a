//! A real Chromium (Debian's `chromium` and `chromium-driver`), headless, at a phone's
//! screen size (the villagers' notice pages) or an office PC's (the console), driven over
//! WebDriver. Screenshots are kept under `target/test-artifacts/` for a person to look at.

use fantoccini::{Client, ClientBuilder};
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
        Browser::launch(false).await
    }

    /// A desktop window of an office PC, no mobile emulation.
    pub async fn start_desktop() -> Browser {
        Browser::launch(true).await
    }

    async fn launch(desktop: bool) -> Browser {
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
        capabilities.insert("goog:chromeOptions".into(), options);
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new()).capabilities(capabilities.clone()).connect(&url).await {
                Ok(client) => return Browser { client, driver, profile },
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
