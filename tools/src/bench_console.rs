//! `jingzhun bench console`: the office console's speed as issue 12 states it — a first
//! screen interactive in under 1 s on loopback with the demo county, and a table of
//! 20,000 households that pages and filters in under 200 ms.
//!
//! A fresh database gets the demo county (2,000 households in 8 villages), copied into
//! new villages until it holds the asked number of households (their members and
//! officer assignments with them); the server runs as a child process. Then:
//! - `GET /api/v1/household-summaries` as the county office, each query repeated, timed
//!   from sending the request to the last byte of the answer on a keep-alive loopback
//!   connection (an upper bound of the server's time: it includes HTTP and loopback);
//! - a headless Chromium (chromedriver, a new profile each run, so nothing is cached)
//!   opens `/login` and, signed in, the 工作台; the time is what the page itself marks
//!   with the User Timing API (`console:login-ready` when the login form is mounted,
//!   `console:inbox-shown` when the 待办 is drawn), from the navigation's start;
//! - the same, with the same built files (`console/dist`) served by nginx and the API
//!   proxied to the same server, as the peer.
//!
//! The bench only measures; it never runs on a database that holds households, and
//! removes what it created unless asked to keep it.

use crate::bench_sync::{FreshDatabase, PASSWORD, Server, Target, percentile_ms, redact};
use crate::demo;
use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use jingzhun::db::{Db, query_scalar_i64, sql};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The UUID version digit of the demo's ids (position 15, always `4`) is what a copy
/// changes: nine other digits give nine copies that can collide neither with the
/// originals nor with each other.
const COPY_DIGITS: [char; 9] = ['0', '1', '2', '3', '5', '6', '7', '8', '9'];

#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    pub target: Target,
    /// Households in the county after the copies (a multiple of the demo's 2,000, at
    /// most ten times it).
    pub households: usize,
    /// Timed repetitions of each list query (after three untimed ones).
    pub requests: usize,
    /// Chromium runs per server, each with a new profile.
    pub browser_runs: usize,
    /// The built console served by the peer (nginx); `None` skips the peer.
    pub dist: Option<PathBuf>,
    pub server_exe: PathBuf,
    pub keep: bool,
}

impl ConsoleOptions {
    pub fn new(target: Target) -> anyhow::Result<ConsoleOptions> {
        Ok(ConsoleOptions {
            target,
            households: 20_000,
            requests: 30,
            browser_runs: 5,
            dist: Some(PathBuf::from("console/dist")),
            server_exe: std::env::current_exe().context("finding the jingzhun binary")?,
            keep: false,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ListTiming {
    pub query: String,
    pub what: String,
    pub total: i64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ScreenTiming {
    pub served_by: String,
    pub runs: usize,
    /// Navigation start → the login form mounted, median and worst of the runs.
    pub login_p50_ms: f64,
    pub login_max_ms: f64,
    /// Navigation start → the 工作台's 待办 drawn (signed in, a new page load).
    pub home_p50_ms: f64,
    pub home_max_ms: f64,
    /// The same 工作台 load again, its hashed files now in the browser's cache.
    pub home_cached_p50_ms: f64,
    pub home_cached_max_ms: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ConsoleReport {
    pub backend: String,
    pub database: String,
    pub households: i64,
    pub members: i64,
    pub load_s: f64,
    pub lists: Vec<ListTiming>,
    pub screens: Vec<ScreenTiming>,
}

pub async fn run_console(options: &ConsoleOptions) -> anyhow::Result<ConsoleReport> {
    let database = FreshDatabase::create(&options.target).await?;
    eprintln!("bench: database {}", redact(&database.url));
    let outcome = run_on(&database, options).await;
    if options.keep {
        eprintln!("bench: kept {}", redact(&database.url));
    } else if let Err(err) = database.remove().await {
        eprintln!("bench: could not remove the bench database: {err:#}");
    }
    outcome
}

async fn run_on(database: &FreshDatabase, options: &ConsoleOptions) -> anyhow::Result<ConsoleReport> {
    let mut report =
        ConsoleReport { backend: database.backend.to_owned(), database: redact(&database.url), ..Default::default() };
    let started = Instant::now();
    let probes = {
        let db = Db::connect(&database.url, 2).await.context("connecting to the bench database")?;
        db.migrate().await.context("applying migrations")?;
        let existing = count(&db, "SELECT COUNT(*) FROM household").await?;
        if existing > 0 {
            bail!("the database already holds {existing} households; the bench needs a fresh one");
        }
        let summary = demo::load(&db, PASSWORD).await?;
        let copies = (options.households / summary.households.max(1)).saturating_sub(1);
        if copies > COPY_DIGITS.len() {
            bail!("at most {} households (ten times the demo county)", summary.households * 10);
        }
        copy_county(&db, copies).await?;
        report.households = count(&db, "SELECT COUNT(*) FROM household").await?;
        report.members = count(&db, "SELECT COUNT(*) FROM member").await?;
        probes(&db).await?
    };
    report.load_s = started.elapsed().as_secs_f64();
    eprintln!("bench: {} households, {} members in {:.1} s", report.households, report.members, report.load_s);

    let log_path = database.log_path();
    let server = Server::start(&options.server_exe, &database.url, &log_path).await?;
    let outcome = measure(&server.base, options, &probes, &mut report).await;
    server.stop().await;
    if outcome.is_ok() && !options.keep {
        let _ = std::fs::remove_file(&log_path);
    } else {
        eprintln!("bench: server log in {}", log_path.display());
    }
    outcome?;
    Ok(report)
}

async fn measure(
    base: &str,
    options: &ConsoleOptions,
    probes: &Probes,
    report: &mut ConsoleReport,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "county", "password": PASSWORD, "device_id": "bench-console"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = login["token"].as_str().context("no token in the login answer")?.to_owned();
    for (what, query) in probes.queries() {
        let mut samples = Vec::with_capacity(options.requests);
        let mut total = 0;
        for i in 0..options.requests + 3 {
            let sent = Instant::now();
            let res = http
                .get(format!("{base}/api/v1/household-summaries?{query}"))
                .bearer_auth(&token)
                .send()
                .await?
                .error_for_status()?;
            let body = res.bytes().await?;
            let elapsed = sent.elapsed();
            if i >= 3 {
                samples.push(elapsed);
            }
            total = serde_json::from_slice::<Value>(&body)?["total"].as_i64().unwrap_or(-1);
        }
        let timing = ListTiming {
            query,
            what: what.to_owned(),
            total,
            p50_ms: percentile_ms(&samples, 0.5),
            p95_ms: percentile_ms(&samples, 0.95),
            max_ms: percentile_ms(&samples, 1.0),
        };
        eprintln!(
            "bench: {} ({} rows) p50 {:.1} ms p95 {:.1} ms",
            timing.what, timing.total, timing.p50_ms, timing.p95_ms
        );
        report.lists.push(timing);
    }

    report.screens.push(screens("jingzhun", base, options.browser_runs).await?);
    if let Some(dist) = &options.dist {
        if !dist.join("index.html").exists() {
            eprintln!("bench: no {}/index.html; the nginx peer is skipped", dist.display());
        } else {
            match Nginx::start(dist, base) {
                Ok(nginx) => {
                    let peer = screens("nginx (same dist, API proxied)", &nginx.base, options.browser_runs).await;
                    drop(nginx);
                    report.screens.push(peer?);
                }
                Err(err) => eprintln!("bench: the nginx peer is skipped: {err:#}"),
            }
        }
    }
    Ok(())
}

async fn count(db: &Db, text: &str) -> anyhow::Result<i64> {
    Ok(query_scalar_i64(&db.conn, sql(db.backend(), text, vec![])).await?.unwrap_or(0))
}

#[derive(FromQueryResult)]
struct NameRow {
    name: String,
}

async fn columns(db: &Db, table: &str) -> anyhow::Result<Vec<String>> {
    let text = match db.backend() {
        sea_orm::DatabaseBackend::Postgres => format!(
            "SELECT column_name::text AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
        ),
        _ => format!("SELECT name FROM pragma_table_info('{table}')"),
    };
    let rows = NameRow::find_by_statement(sql(db.backend(), &text, vec![])).all(&db.conn).await?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// Copies each demo village `copies` times into a new village of the same township
/// (codes …005 onwards), with its households, members and assignments: new ids (the
/// version digit changed), new household numbers (the new village's code) and new ID
/// numbers (the area's last two digits 7k), so every unique index holds.
async fn copy_county(db: &Db, copies: usize) -> anyhow::Result<()> {
    if copies == 0 {
        return Ok(());
    }
    let villages: Vec<String> = NameRow::find_by_statement(sql(
        db.backend(),
        "SELECT code AS name FROM region WHERE level = 'village' AND code LIKE ? ORDER BY code",
        vec![format!("{}%", &demo::COUNTY_CODE[..6]).into()],
    ))
    .all(&db.conn)
    .await?
    .into_iter()
    .map(|r| r.name)
    .collect();
    let region_cols = columns(db, "region").await?;
    let household_cols = columns(db, "household").await?;
    let member_cols = columns(db, "member").await?;
    let assignment_cols = columns(db, "assignment").await?;
    let txn = db.begin_write().await?;
    let per_township = villages.iter().filter(|v| v[..9] == villages[0][..9]).count().max(1);
    for (k, digit) in COPY_DIGITS.iter().take(copies).enumerate() {
        let renumber = |col: &str| format!("substr({col}, 1, 14) || '{digit}' || substr({col}, 16)");
        for village in &villages {
            let index: usize = village[9..].parse().context("a village code")?;
            let code = format!("{}{:03}", &village[..9], index + per_township * (k + 1));
            let of_village = format!("(SELECT id FROM household WHERE region_code = '{village}')");
            let copy = |table: &str, cols: &[String], overrides: &[(&str, String)], filter: String| {
                let select: Vec<String> = cols
                    .iter()
                    .map(|c| overrides.iter().find(|(o, _)| o == c).map(|(_, e)| e.clone()).unwrap_or(c.clone()))
                    .collect();
                format!(
                    "INSERT INTO {table} ({}) SELECT {} FROM {table} WHERE {filter}",
                    cols.join(", "),
                    select.join(", ")
                )
            };
            for text in [
                copy(
                    "region",
                    &region_cols,
                    &[("code", format!("'{code}'")), ("name", format!("name || '{}'", k + 2))],
                    format!("code = '{village}'"),
                ),
                copy(
                    "household",
                    &household_cols,
                    &[
                        ("id", renumber("id")),
                        ("region_code", format!("'{code}'")),
                        ("household_number", format!("'{code}' || substr(household_number, 13)")),
                    ],
                    format!("region_code = '{village}'"),
                ),
                copy(
                    "member",
                    &member_cols,
                    &[
                        ("id", renumber("id")),
                        ("household_id", renumber("household_id")),
                        ("id_number", format!("substr(id_number, 1, 4) || '7{k}' || substr(id_number, 7)")),
                    ],
                    format!("household_id IN {of_village}"),
                ),
                copy(
                    "assignment",
                    &assignment_cols,
                    &[("id", renumber("id")), ("household_id", renumber("household_id"))],
                    format!("household_id IN {of_village}"),
                ),
            ] {
                txn.execute_unprepared(&text).await.with_context(|| format!("copying the county: {text}"))?;
            }
        }
    }
    txn.commit().await?;
    // What PostgreSQL's autovacuum would do within a minute of a bulk load.
    if db.backend() == sea_orm::DatabaseBackend::Postgres {
        db.conn.execute_unprepared("ANALYZE household, member, assignment, region").await?;
    }
    Ok(())
}

/// Values the timed queries look for, taken from the loaded county.
struct Probes {
    village: String,
    township: String,
    head_name: String,
    surname: String,
    household_number: String,
    id_number: String,
}

#[derive(FromQueryResult)]
struct ProbeRow {
    region_code: String,
    household_number: String,
    name: String,
    id_number: String,
}

async fn probes(db: &Db) -> anyhow::Result<Probes> {
    // A head in the last village, so the search finds a household deep in the order.
    let row = ProbeRow::find_by_statement(sql(
        db.backend(),
        "SELECT h.region_code, h.household_number, m.name, m.id_number FROM household h \
         JOIN member m ON m.household_id = h.id AND m.relation = 'head' \
         WHERE h.household_number IS NOT NULL AND m.id_number IS NOT NULL \
         ORDER BY h.region_code DESC, h.household_number DESC LIMIT 1",
        vec![],
    ))
    .one(&db.conn)
    .await?
    .context("no household with a numbered head")?;
    Ok(Probes {
        township: row.region_code[..9].to_owned(),
        village: row.region_code,
        surname: row.name.chars().next().map(String::from).unwrap_or_default(),
        head_name: row.name,
        household_number: row.household_number,
        id_number: row.id_number,
    })
}

impl Probes {
    fn queries(&self) -> Vec<(&'static str, String)> {
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        vec![
            ("first page", "page=1&per_page=20".into()),
            ("a deep page (the 900th of 20)", "page=900&per_page=20".into()),
            ("the last page of 100", "page=200&per_page=100".into()),
            ("region: a township", format!("region_code={}&page=1&per_page=20", self.township)),
            ("region: a village", format!("region_code={}&page=1&per_page=20", self.village)),
            ("status 在档", "status=registered&page=1&per_page=20".into()),
            ("status 已脱贫, a deep page", "status=exited&page=20&per_page=20".into()),
            ("kind 一般贫困户", "kind=general&page=1&per_page=20".into()),
            (
                "region + status + kind",
                format!("region_code={}&status=registered&kind=general&page=1&per_page=20", self.township),
            ),
            ("q: a surname (many)", format!("q={}&page=1&per_page=20", enc(&self.surname))),
            ("q: a head's whole name", format!("q={}&page=1&per_page=20", enc(&self.head_name))),
            ("q: a household number", format!("q={}&page=1&per_page=20", self.household_number)),
            ("q: a whole ID number", format!("q={}&page=1&per_page=20", self.id_number)),
        ]
    }
}

/// A headless Chromium through chromedriver, with a profile of its own (removed after).
struct Browser {
    client: Client,
    driver: Child,
    profile: PathBuf,
}

impl Browser {
    async fn start() -> anyhow::Result<Browser> {
        let port = free_port()?;
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver (apt-get install chromium chromium-driver)")?;
        let profile = std::env::temp_dir().join(format!("jingzhun-bench-chromium-{port}"));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-extensions", "--no-first-run",
                format!("--user-data-dir={}", profile.display()), "--window-size=1366,768",
            ]}),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut browser = None;
        let mut last = String::new();
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new()).capabilities(capabilities.clone()).connect(&url).await {
                Ok(client) => {
                    browser = Some(client);
                    break;
                }
                Err(err) => last = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        match browser {
            Some(client) => Ok(Browser { client, driver, profile }),
            None => {
                let mut driver = driver;
                let _ = driver.kill();
                let _ = driver.wait();
                bail!("could not start Chromium: {last}")
            }
        }
    }

    /// The mark's time from the navigation's start, once the page has made it.
    async fn mark(&self, name: &str) -> anyhow::Result<f64> {
        let script = format!(
            "const m = performance.getEntriesByName('{name}', 'mark'); return m.length ? m[0].startTime : null;"
        );
        for _ in 0..300 {
            if let Some(ms) = self.client.execute(&script, vec![]).await?.as_f64() {
                return Ok(ms);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the page never marked {name}")
    }

    async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

async fn screens(served_by: &str, base: &str, runs: usize) -> anyhow::Result<ScreenTiming> {
    let (mut login, mut home, mut cached) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let browser = Browser::start().await?;
        let outcome = async {
            browser.client.goto(&format!("{base}/login")).await?;
            login.push(browser.mark("console:login-ready").await?);
            browser.client.find(Locator::Css("#username")).await?.send_keys("county").await?;
            browser.client.find(Locator::Css("#password")).await?.send_keys(PASSWORD).await?;
            browser.client.find(Locator::Css("#login-submit")).await?.click().await?;
            browser.mark("console:inbox-shown").await?;
            for times in [&mut home, &mut cached] {
                browser.client.goto(&format!("{base}/home")).await?;
                times.push(browser.mark("console:inbox-shown").await?);
            }
            anyhow::Ok(())
        }
        .await;
        browser.close().await;
        outcome?;
    }
    let ms = |v: &[f64], p: f64| {
        percentile_ms(&v.iter().map(|m| Duration::from_secs_f64(m / 1000.0)).collect::<Vec<_>>(), p)
    };
    let timing = ScreenTiming {
        served_by: served_by.to_owned(),
        runs,
        login_p50_ms: ms(&login, 0.5),
        login_max_ms: ms(&login, 1.0),
        home_p50_ms: ms(&home, 0.5),
        home_max_ms: ms(&home, 1.0),
        home_cached_p50_ms: ms(&cached, 0.5),
        home_cached_max_ms: ms(&cached, 1.0),
    };
    eprintln!(
        "bench: {served_by}: login {:.0} ms, 工作台 {:.0} ms ({:.0} ms cached)",
        timing.login_p50_ms, timing.home_p50_ms, timing.home_cached_p50_ms
    );
    Ok(timing)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Debian's nginx in the foreground with a config of its own: the built console with
/// the SPA fallback and long-cached hashed files, gzip as the server does, and `/api/`
/// proxied to the bench's server. Stopped (by its pid) when dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
    base: String,
}

impl Nginx {
    fn start(dist: &Path, upstream: &str) -> anyhow::Result<Nginx> {
        let dist = dist.canonicalize().with_context(|| format!("finding {}", dist.display()))?;
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("jingzhun-bench-nginx-{port}"));
        std::fs::create_dir_all(dir.join("logs"))?;
        let prefix = dir.display();
        let upstream = upstream.trim_start_matches("http://");
        let conf = format!(
            "worker_processes auto;\npid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  include /etc/nginx/mime.types;\n  access_log off;\n  sendfile on;\n  keepalive_timeout 65;\n\
               gzip on; gzip_types text/css application/javascript application/json image/svg+xml;\n\
               client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;\n\
               fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;\n\
               server {{\n    listen 127.0.0.1:{port};\n    root {root};\n\
                 location /assets/ {{ expires max; add_header Cache-Control immutable; }}\n\
                 location /api/ {{ proxy_pass http://{upstream}; proxy_http_version 1.1; proxy_set_header Connection \"\"; }}\n\
                 location / {{ try_files $uri /index.html; add_header Cache-Control no-cache; }}\n  }}\n}}\n",
            root = dist.display(),
        );
        std::fs::write(dir.join("nginx.conf"), conf)?;
        let child = Command::new("nginx")
            .args(["-p", &prefix.to_string(), "-c", &format!("{prefix}/nginx.conf"), "-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nginx (apt-get install nginx-light)")?;
        let base = format!("http://127.0.0.1:{port}");
        let mut nginx = Nginx { child, dir, base };
        for _ in 0..50 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(nginx);
            }
            if let Some(status) = nginx.child.try_wait()? {
                let log = std::fs::read_to_string(nginx.dir.join("logs/error.log")).unwrap_or_default();
                bail!("nginx exited with {status}: {log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("nginx did not listen within 5 s")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-QUIT", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The reports as a person reads them.
pub fn table(reports: &[ConsoleReport]) -> String {
    let mut out = String::new();
    for r in reports {
        out.push_str(&format!(
            "\n== {} ({} households, {} members; loaded in {:.1} s) ==\n",
            r.backend, r.households, r.members, r.load_s
        ));
        out.push_str("GET /api/v1/household-summaries (county office), loopback wall time per request:\n");
        out.push_str(&format!("  {:<36} {:>7} {:>9} {:>9} {:>9}\n", "query", "rows", "p50 ms", "p95 ms", "max ms"));
        for l in &r.lists {
            out.push_str(&format!(
                "  {:<36} {:>7} {:>9.1} {:>9.1} {:>9.1}\n",
                l.what, l.total, l.p50_ms, l.p95_ms, l.max_ms
            ));
        }
        out.push_str("First screen (navigation start → the page's own mark), median / worst:\n");
        for s in &r.screens {
            out.push_str(&format!(
                "  {:<32} login {:>5.0} / {:>5.0} ms   工作台 {:>5.0} / {:>5.0} ms   工作台 cached {:>5.0} / {:>5.0} ms  ({} runs)\n",
                s.served_by,
                s.login_p50_ms,
                s.login_max_ms,
                s.home_p50_ms,
                s.home_max_ms,
                s.home_cached_p50_ms,
                s.home_cached_max_ms,
                s.runs
            ));
        }
    }
    out
}
