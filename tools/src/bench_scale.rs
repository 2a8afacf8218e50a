//! `jingzhun bench scale`: what a phone and a county office wait for on a prefecture of
//! 500,000 households, beside the same figures on the 2,000-household demo county
//! (issue 14 item 4).
//!
//! For each backend the release server runs as a child process (as in `bench sync`)
//! first on a fresh database holding the demo county, then on one holding the
//! prefecture (`generate`, minutes; kept with `--keep` and measured again with
//! `--reuse URL`). On each: an officer's first pull (ms, pages, JSON bytes), a village
//! team's first pull, an officer's pushes of change sets of ten edits (p50), then
//! changes written elsewhere in the database (each a transaction of ten, as the server
//! writes them; 50,000 on the prefecture and as many per household on the demo county,
//! 200: the same day's traffic) and a few in the officer's own scope, and the officer's
//! incremental pull after them: on a pull that follows the scope it costs the same on
//! both databases, on one that reads the whole log after the cursor it grows with the
//! prefecture. Last the county office's 动态调整 statistics report, the one the console
//! opens first. The schema is made by the server under test (`<server> migrate`), so a
//! baseline can be taken with an older server binary (`--server`).
//!
//! The bench only measures. It never runs on a database it did not create or was not
//! given with `--reuse`, and it removes what it created unless asked to keep it.

mod generate;

pub use generate::{Generated, Shape};

use crate::bench_sync::{
    FreshDatabase, PAGE, PASSWORD, Phone, RssSampler, Server, Target, first_pulls, kb_to_mb, percentile_ms,
    read_status_kb, redact,
};
use crate::demo;
use anyhow::{Context, bail};
use jingzhun::db::{Db, sql};
use jingzhun::records::changelog::{self, LogEntry, LogOp};
use jingzhun::records::{self};
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::fields;
use jingzhun_mobile_api::validate::FieldValue;
use jingzhun_mobile_api::wire::{PullResponse, PushRequest};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

/// Timed repetitions of each pull; the median is reported.
const RUNS: usize = 5;
/// Edits in the few changes an officer makes in its own scope before its incremental pull.
const OWN_CHANGES: usize = 5;

#[derive(Debug, Clone)]
pub struct ScaleOptions {
    /// Households of the prefecture (at least 500,000 for the figures).
    pub households: usize,
    /// A PostgreSQL server URL whose user may create databases.
    pub postgres: Option<String>,
    pub no_sqlite: bool,
    /// Databases holding a prefecture kept by an earlier run (SQLite and/or PostgreSQL URLs).
    pub reuse: Vec<String>,
    /// Keep the generated prefectures (their URLs are printed) for `--reuse`.
    pub keep: bool,
    /// Changes written elsewhere before the officer's incremental pull.
    pub outside_changes: usize,
    /// Pushes of ten edits timed for the push figure.
    pub pushes: usize,
    /// The `jingzhun` binary started as the server, and whose `migrate` makes the schema.
    pub server_exe: PathBuf,
    pub seed: u64,
}

impl ScaleOptions {
    pub fn new() -> anyhow::Result<ScaleOptions> {
        Ok(ScaleOptions {
            households: 500_000,
            postgres: None,
            no_sqlite: false,
            reuse: Vec::new(),
            keep: false,
            outside_changes: 50_000,
            pushes: 50,
            server_exe: std::env::current_exe().context("finding the jingzhun binary")?,
            seed: 14,
        })
    }
}

/// What one database measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub households: i64,
    pub members: i64,
    pub change_log_rows: i64,
    pub officer_first_pull: Pull,
    pub village_first_pull: Pull,
    pub push_p50_ms: f64,
    pub push_p99_ms: f64,
    pub pushes: usize,
    pub outside_changes: usize,
    pub outside_write_s: f64,
    pub officer_incremental_pull: Pull,
    pub county_report_ms: f64,
    pub county_report_bytes: usize,
    /// Why the report gave no figure (e.g. 408: longer than the server's request timeout,
    /// `JINGZHUN__HTTP__REQUEST_TIMEOUT_SECS`, which the server inherits from the bench).
    pub county_report_error: Option<String>,
    pub server_rss_peak_mb: f64,
}

/// One pull from a cursor (or from scratch) to `has_more: false`, median of the runs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pull {
    pub ms: f64,
    pub pages: usize,
    /// The answers' JSON, as the phone parses it.
    pub bytes: usize,
    pub records: usize,
    pub households: usize,
}

/// One backend's run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScaleReport {
    pub backend: String,
    pub server: String,
    /// Whether the prefecture was generated in this run (else reused).
    pub generated: bool,
    pub generation: Option<Generated>,
    pub demo: Figures,
    pub prefecture: Figures,
    /// `/proc/loadavg` before and after the run.
    pub load_before: String,
    pub load_after: String,
}

impl ScaleReport {
    pub fn incremental_ratio(&self) -> f64 {
        ratio(self.prefecture.officer_incremental_pull.ms, self.demo.officer_incremental_pull.ms)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The databases to run on: each backend asked for, with the prefecture to reuse if given.
pub fn targets(options: &ScaleOptions) -> Vec<(Target, Option<String>)> {
    let reuse_of = |postgres: bool| options.reuse.iter().find(|u| u.starts_with("postgres") == postgres).cloned();
    let mut out = Vec::new();
    if !options.no_sqlite || options.postgres.is_none() {
        out.push((Target::TempSqlite, reuse_of(false)));
    }
    if let Some(url) = &options.postgres {
        out.push((Target::PostgresServer(url.clone()), reuse_of(true)));
    }
    out
}

/// Runs the bench on one backend: the demo county, then the prefecture.
pub async fn run_scale(options: &ScaleOptions, target: &Target, reuse: Option<&str>) -> anyhow::Result<ScaleReport> {
    let mut report = ScaleReport {
        backend: if matches!(target, Target::PostgresServer(_)) { "postgres" } else { "sqlite" }.into(),
        server: options.server_exe.display().to_string(),
        load_before: load_average(),
        ..ScaleReport::default()
    };

    let demo_db = FreshDatabase::create(target).await?;
    let outcome = async {
        migrate(options, &demo_db.url).await?;
        let db = Db::connect(&demo_db.url, 2).await?;
        let summary = demo::load(&db, PASSWORD).await?;
        eprintln!("bench: demo county loaded in {:.1} s", summary.elapsed.as_secs_f64());
        let who = Who {
            officer: demo::officer_username(1),
            other_officer: demo::officer_username(2),
            village: demo::village_username(1),
            county_user: "county".into(),
            county_code: demo::COUNTY_CODE.into(),
        };
        // The same traffic per household as the prefecture's: a pull that reads the whole
        // log pays for the prefecture's larger traffic, one that follows the scope does not.
        let outside = (options.outside_changes * summary.households / options.households.max(1)).max(1);
        measure(options, &db, &demo_db, &who, outside).await
    }
    .await;
    if let Err(err) = demo_db.remove().await {
        eprintln!("bench: could not remove the demo database: {err:#}");
    }
    report.demo = outcome?;

    let prefecture = match reuse {
        Some(url) => FreshDatabase::create(&Target::Url(url.to_owned())).await?,
        None => FreshDatabase::create(target).await?,
    };
    let outcome = async {
        let db = if let Some(url) = reuse {
            let db = Db::connect(url, 2).await?;
            if !generate::present(&db).await? {
                bail!("{} holds no bench prefecture to reuse", redact(url));
            }
            eprintln!("bench: reusing the prefecture in {}", redact(url));
            db
        } else {
            migrate(options, &prefecture.url).await?;
            let shape = Shape::for_households(options.households);
            eprintln!(
                "bench: generating a prefecture of {} households ({} counties, {} villages) in {}",
                shape.households,
                shape.counties,
                shape.villages(),
                redact(&prefecture.url)
            );
            let generated = generate_into(&prefecture.url, shape, options.seed).await?;
            eprintln!(
                "bench: generated in {:.0} s: {} households, {} members, {} change-log rows, {} users",
                generated.seconds, generated.households, generated.members, generated.change_log_rows, generated.users
            );
            report.generated = true;
            report.generation = Some(generated);
            Db::connect(&prefecture.url, 2).await?
        };
        let village = generate::first_village();
        let who = Who {
            officer: generate::officer_username(&village, 1),
            other_officer: generate::officer_username(&village, 2),
            village: generate::village_username(&village),
            county_user: generate::county_username(&generate::county_code(0)),
            county_code: generate::county_code(0),
        };
        measure(options, &db, &prefecture, &who, options.outside_changes).await
    }
    .await;
    if reuse.is_none() {
        if options.keep && outcome.is_ok() {
            eprintln!("bench: kept the prefecture: --reuse '{}'", prefecture.url);
        } else if let Err(err) = prefecture.remove().await {
            eprintln!("bench: could not remove the prefecture: {err:#}");
        }
    }
    report.prefecture = outcome?;
    report.load_after = load_average();
    Ok(report)
}

/// The schema as the server under test makes it.
async fn migrate(options: &ScaleOptions, url: &str) -> anyhow::Result<()> {
    let status = tokio::process::Command::new(&options.server_exe)
        .args(["migrate", "--database", url])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .with_context(|| format!("running {} migrate", options.server_exe.display()))?;
    if !status.success() {
        bail!("{} migrate failed with {status}", options.server_exe.display());
    }
    Ok(())
}

/// Generates on one connection; SQLite without fsync, which only the generator may do:
/// a crash midway leaves a database to throw away, never one a server acknowledged from.
async fn generate_into(url: &str, shape: Shape, seed: u64) -> anyhow::Result<Generated> {
    let db = Db::connect_with(url, 1, jingzhun::db::SqliteSync::Normal).await?;
    if !db.is_postgres() {
        db.conn.execute_unprepared("PRAGMA synchronous=OFF").await?;
        // Random ids land all over the indexes: a page cache of 512 MB keeps them in memory.
        db.conn.execute_unprepared("PRAGMA cache_size=-524288").await?;
    }
    let generated = generate::generate(&db, shape, PASSWORD, seed).await?;
    if db.is_postgres() {
        // What autovacuum would have done to tables that grew over years: statistics, and
        // the dead index entries numbering the log leaves (each pull first asks the log
        // for unnumbered rows, and walked millions of them: 4.8 s per first pull). The
        // server never runs ANALYZE on SQLite, so neither does the bench.
        db.conn
            .execute_unprepared(
                "VACUUM ANALYZE region, app_user, role_grant, assignment, household, member, income_record, change_log",
            )
            .await?;
    } else {
        db.conn.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    }
    db.conn.close().await?;
    Ok(generated)
}

/// The accounts measured on one database.
struct Who {
    officer: String,
    other_officer: String,
    village: String,
    county_user: String,
    county_code: String,
}

async fn count(db: &Db, text: &str) -> anyhow::Result<i64> {
    Ok(jingzhun::db::query_scalar_i64(&db.conn, sql(db.backend(), text, vec![])).await?.unwrap_or(0))
}

async fn measure(
    options: &ScaleOptions,
    db: &Db,
    database: &FreshDatabase,
    who: &Who,
    outside: usize,
) -> anyhow::Result<Figures> {
    let mut figures = Figures {
        households: count(db, "SELECT COUNT(*) AS n FROM household").await?,
        members: count(db, "SELECT COUNT(*) AS n FROM member").await?,
        change_log_rows: count(db, "SELECT COUNT(*) AS n FROM change_log").await?,
        ..Figures::default()
    };
    let log_path = database.log_path();
    let server = Server::start(&options.server_exe, &database.url, &log_path).await?;
    let sampler = RssSampler::start(server.pid);
    let outcome = drive(options, db, &server.base, who, outside, &mut figures).await;
    let hwm = kb_to_mb(read_status_kb(server.pid, "VmHWM:").unwrap_or(0));
    let samples = sampler.stop().await;
    figures.server_rss_peak_mb = kb_to_mb(samples.iter().map(|s| s.1).max().unwrap_or(0)).max(hwm);
    server.stop().await;
    if outcome.is_ok() {
        let _ = std::fs::remove_file(&log_path);
    } else {
        eprintln!("bench: server log in {}", log_path.display());
    }
    outcome?;
    Ok(figures)
}

async fn drive(
    options: &ScaleOptions,
    db: &Db,
    base: &str,
    who: &Who,
    outside: usize,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let officer = login(base, &who.officer, "bench-scale-officer").await?;
    figures.officer_first_pull = timed_pulls(&http, base, &officer, None).await?;
    let village = login(base, &who.village, "bench-scale-village").await?;
    figures.village_first_pull = timed_pulls(&http, base, &village, None).await?;
    eprintln!(
        "bench: first pull {:.1} ms for {} ({} households), {:.1} ms for {} ({} households)",
        figures.officer_first_pull.ms,
        who.officer,
        figures.officer_first_pull.households,
        figures.village_first_pull.ms,
        who.village,
        figures.village_first_pull.households
    );

    // Phones that hold their households, to edit them as officers do.
    let mut phones = vec![
        phone(base, login(base, &who.officer, "bench-scale-officer-phone").await?, options.seed),
        phone(base, login(base, &who.other_officer, "bench-scale-other-phone").await?, options.seed + 1),
    ];
    first_pulls(&mut phones, &HashSet::new()).await?;
    let mut other = phones.pop().context("two phones")?;
    let mut own = phones.pop().context("two phones")?;

    let mut latencies = Vec::with_capacity(options.pushes);
    for _ in 0..options.pushes {
        let Some((changeset, _)) = other.next_changeset(10, 0.0) else { break };
        let t0 = Instant::now();
        push(&mut other, changeset).await?;
        latencies.push(t0.elapsed());
    }
    figures.pushes = latencies.len();
    figures.push_p50_ms = percentile_ms(&latencies, 0.5);
    figures.push_p99_ms = percentile_ms(&latencies, 0.99);

    let started = Instant::now();
    figures.outside_changes = write_outside(db, &who.officer, outside, options.seed).await?;
    figures.outside_write_s = started.elapsed().as_secs_f64();
    eprintln!(
        "bench: pushes p50 {:.1} ms; {} changes elsewhere written in {:.1} s",
        figures.push_p50_ms, figures.outside_changes, figures.outside_write_s
    );
    if let Some((changeset, _)) = own.next_changeset(OWN_CHANGES, 0.0) {
        push(&mut own, changeset).await?;
    }
    let cursor = own.cursor.clone();
    figures.officer_incremental_pull =
        timed_pulls(&http, base, own.client.token().unwrap_or_default(), Some(cursor)).await?;
    eprintln!(
        "bench: incremental pull {:.1} ms ({} changes, {} pages)",
        figures.officer_incremental_pull.ms,
        figures.officer_incremental_pull.records,
        figures.officer_incremental_pull.pages
    );

    // A report too slow for the server's timeout is a finding, not a reason to lose the
    // figures measured before it.
    match county_report(&http, base, &who.county_user, &who.county_code).await {
        Ok((ms, bytes)) => {
            (figures.county_report_ms, figures.county_report_bytes) = (ms, bytes);
            eprintln!("bench: county report {ms:.0} ms ({bytes} bytes)");
        }
        Err(err) => {
            eprintln!("bench: county report failed: {err:#}");
            figures.county_report_error = Some(format!("{err:#}"));
        }
    }
    Ok(())
}

async fn login(base: &str, username: &str, device: &str) -> anyhow::Result<String> {
    let mut client = Client::new(base);
    client.login(username, PASSWORD, device, "bench").await.with_context(|| format!("signing in as {username}"))?;
    client.token().map(str::to_owned).context("no token")
}

fn phone(base: &str, token: String, seed: u64) -> Phone {
    Phone {
        client: Client::new(base).with_token(token),
        rng: StdRng::seed_from_u64(seed),
        cursor: String::new(),
        households: Vec::new(),
        versions: HashMap::new(),
    }
}

async fn push(phone: &mut Phone, changeset: jingzhun_mobile_api::wire::ChangeSet) -> anyhow::Result<()> {
    let answer = phone.client.push(&PushRequest { changesets: vec![changeset] }).await?;
    for result in answer.results {
        for change in result.changes {
            phone.versions.insert(change.id, change.version);
        }
    }
    Ok(())
}

/// Pulls from `cursor` (from scratch when `None`) to the end, `RUNS` times; the median
/// time, and what the last run received.
async fn timed_pulls(http: &reqwest::Client, base: &str, token: &str, cursor: Option<String>) -> anyhow::Result<Pull> {
    let mut times = Vec::with_capacity(RUNS);
    let mut last = Pull::default();
    for _ in 0..RUNS {
        let started = Instant::now();
        let mut pull = Pull::default();
        let mut at = cursor.clone();
        loop {
            let mut request = http.get(format!("{base}/api/mobile/v1/sync/pull")).bearer_auth(token);
            request = request.query(&[("limit", PAGE.to_string())]);
            if let Some(c) = &at {
                request = request.query(&[("cursor", c)]);
            }
            let body = request.send().await?.error_for_status()?.bytes().await?;
            let page: PullResponse = serde_json::from_slice(&body).context("reading a pull answer")?;
            pull.pages += 1;
            pull.bytes += body.len();
            pull.records += page.changes.len();
            pull.households += page.changes.iter().filter(|c| c.entity == fields::HOUSEHOLD.name).count();
            if !page.has_more {
                break;
            }
            if at.as_deref() == Some(page.cursor.as_str()) {
                bail!("the pull cursor did not move");
            }
            at = Some(page.cursor);
        }
        times.push(started.elapsed());
        last = pull;
    }
    last.ms = percentile_ms(&times, 0.5);
    Ok(last)
}

/// The 动态调整 statistics report of the county for this year, as JSON, median of three
/// (or the one run when it takes more than five seconds).
async fn county_report(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    county: &str,
) -> anyhow::Result<(f64, usize)> {
    let login: Json = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": PASSWORD, "device_id": "bench-scale-console"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = login["token"].as_str().context("no token in the login answer")?.to_owned();
    let url = format!(
        "{base}/api/v1/reports/dynamic_adjustment?region_code={county}&from=2026-01-01&to=2026-12-31&format=json"
    );
    let mut times = Vec::new();
    let mut bytes = 0;
    // Three runs, or one when it takes seconds (a county of the prefecture may).
    while times.len() < 3 && times.iter().all(|t: &std::time::Duration| t.as_secs() < 5) {
        let started = Instant::now();
        let answer = http.get(&url).bearer_auth(&token).send().await?;
        let status = answer.status();
        let raw = answer.bytes().await?;
        if !status.is_success() {
            bail!("the county report answered {status}: {}", String::from_utf8_lossy(&raw));
        }
        times.push(started.elapsed());
        bytes = raw.len();
    }
    Ok((percentile_ms(&times, 0.5), bytes))
}

#[derive(FromQueryResult)]
struct Elsewhere {
    id: String,
}

/// Edits `n` households outside the officer's scope, ten to a transaction, as pushes
/// write them: the record at its next version and an upsert row in the change log.
async fn write_outside(db: &Db, officer: &str, n: usize, seed: u64) -> anyhow::Result<usize> {
    let ids: Vec<String> = Elsewhere::find_by_statement(sql(
        db.backend(),
        "SELECT id FROM household WHERE id NOT IN (SELECT a.household_id FROM assignment a \
         JOIN app_user u ON u.id = a.officer_id WHERE u.username = ?)",
        vec![officer.into()],
    ))
    .all(&db.conn)
    .await?
    .into_iter()
    .map(|r| r.id)
    .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5ca1e);
    let phone = fields::HOUSEHOLD.field("phone").context("catalogue has phone")?;
    let mut written = 0;
    while written < n {
        let mut chosen: Vec<String> = ids.choose_multiple(&mut rng, 10.min(n - written)).cloned().collect();
        chosen.sort();
        let txn = db.begin_write().await?;
        let mut log = Vec::with_capacity(chosen.len());
        for mut record in records::load_many_locked(&*txn, &fields::HOUSEHOLD, &chosen).await? {
            record.version += 1;
            record.field_versions.insert("phone".into(), record.version);
            record.values.insert("phone", FieldValue::Text(format!("13{:09}", rng.gen_range(0..1_000_000_000u32))));
            records::update(&*txn, &fields::HOUSEHOLD, &record, &[phone]).await?;
            log.push(LogEntry {
                entity: fields::HOUSEHOLD.name,
                entity_id: record.id.clone(),
                household_id: Some(record.id.clone()),
                region_code: record.text("region_code").map(str::to_owned),
                target_user: None,
                op: LogOp::Upsert,
                version: record.version,
            });
        }
        let tx = changelog::current_tx(&*txn).await?;
        changelog::append(&*txn, tx, &log).await?;
        txn.commit().await?;
        written += log.len().max(1);
    }
    // PostgreSQL numbers commits when a pull asks: do it here, so the timed pull pays
    // for reading the changes, not for numbering 5,000 transactions at once.
    changelog::number_committed(db).await?;
    Ok(written)
}

/// The reports as a table per backend: figure | demo county | prefecture | ratio | target.
pub fn table(reports: &[ScaleReport]) -> String {
    let mut out = String::new();
    for r in reports {
        let (d, p) = (&r.demo, &r.prefecture);
        out.push_str(&format!(
            "bench scale — {} (server {}; load {} → {})\n",
            r.backend, r.server, r.load_before, r.load_after
        ));
        match &r.generation {
            Some(g) => out.push_str(&format!(
                "prefecture generated in {:.0} s: {} households, {} members, {} change-log rows, {} villages, {} users, {} assignments\n",
                g.seconds, g.households, g.members, g.change_log_rows, g.villages, g.users, g.assignments
            )),
            None => out.push_str("prefecture reused\n"),
        }
        let pull = |p: &Pull| {
            format!("{:.1} ms ({} p, {} kB, {} hh, {} rec)", p.ms, p.pages, p.bytes / 1024, p.households, p.records)
        };
        let rows: Vec<(&str, String, String, f64, String)> = vec![
            (
                "households",
                d.households.to_string(),
                p.households.to_string(),
                ratio(p.households as f64, d.households as f64),
                String::new(),
            ),
            (
                "members",
                d.members.to_string(),
                p.members.to_string(),
                ratio(p.members as f64, d.members as f64),
                String::new(),
            ),
            (
                "change-log rows",
                d.change_log_rows.to_string(),
                p.change_log_rows.to_string(),
                ratio(p.change_log_rows as f64, d.change_log_rows as f64),
                String::new(),
            ),
            (
                "officer first pull",
                pull(&d.officer_first_pull),
                pull(&p.officer_first_pull),
                ratio(p.officer_first_pull.ms, d.officer_first_pull.ms),
                format!("<30 ms on the prefecture {}", mark(p.officer_first_pull.ms < 30.0)),
            ),
            (
                "officer incremental pull",
                pull(&d.officer_incremental_pull),
                pull(&p.officer_incremental_pull),
                r.incremental_ratio(),
                format!("≤2× the demo county {}", mark(r.incremental_ratio() <= 2.0)),
            ),
            (
                "  after changes elsewhere",
                format!("{} in {:.1} s", d.outside_changes, d.outside_write_s),
                format!("{} in {:.1} s", p.outside_changes, p.outside_write_s),
                0.0,
                String::new(),
            ),
            (
                "village team first pull",
                pull(&d.village_first_pull),
                pull(&p.village_first_pull),
                ratio(p.village_first_pull.ms, d.village_first_pull.ms),
                String::new(),
            ),
            (
                "push of 10 edits p50 (p99)",
                format!("{:.1} ms ({:.1}), {} pushes", d.push_p50_ms, d.push_p99_ms, d.pushes),
                format!("{:.1} ms ({:.1}), {} pushes", p.push_p50_ms, p.push_p99_ms, p.pushes),
                ratio(p.push_p50_ms, d.push_p50_ms),
                String::new(),
            ),
            (
                "county report (动态调整, JSON)",
                report_figure(d),
                report_figure(p),
                ratio(p.county_report_ms, d.county_report_ms),
                String::new(),
            ),
            (
                "server RSS peak",
                format!("{:.0} MB", d.server_rss_peak_mb),
                format!("{:.0} MB", p.server_rss_peak_mb),
                ratio(p.server_rss_peak_mb, d.server_rss_peak_mb),
                String::new(),
            ),
        ];
        let width = |s: &str| s.chars().count();
        let w0 = rows.iter().map(|r| width(r.0)).max().unwrap_or(0).max(6);
        let w1 = rows.iter().map(|r| width(&r.1)).max().unwrap_or(0).max(11);
        let w2 = rows.iter().map(|r| width(&r.2)).max().unwrap_or(0).max(10);
        let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(width(s))));
        out.push_str(&format!(
            "{}  {}  {}  {}  target\n",
            pad("figure", w0),
            pad("demo county", w1),
            pad("prefecture", w2),
            pad("ratio", 7)
        ));
        out.push_str(&"-".repeat(w0 + w1 + w2 + 7 + 16 + 24));
        out.push('\n');
        for (label, demo, prefecture, ratio, target) in rows {
            let ratio = if ratio > 0.0 { format!("{ratio:.2}×") } else { String::new() };
            out.push_str(&format!(
                "{}  {}  {}  {}  {target}\n",
                pad(label, w0),
                pad(&demo, w1),
                pad(&prefecture, w2),
                pad(&ratio, 7)
            ));
        }
        out.push('\n');
    }
    out
}

fn report_figure(f: &Figures) -> String {
    match &f.county_report_error {
        Some(err) => format!("failed: {}", err.chars().take(40).collect::<String>()),
        None => format!("{:.0} ms ({} kB)", f.county_report_ms, f.county_report_bytes / 1024),
    }
}

fn mark(met: bool) -> &'static str {
    if met { "✓" } else { "✗" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jingzhun::records::load_by_households;

    /// A tiny prefecture read back through the server's own loaders: every household
    /// with its members and income, the log rows the import and the edits wrote, and
    /// versions that agree with the log.
    #[tokio::test]
    async fn a_tiny_prefecture_reads_back_through_the_servers_loaders() -> anyhow::Result<()> {
        let path = std::env::temp_dir().join(format!("jingzhun-scale-test-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = Db::connect(&url, 2).await?;
        db.migrate().await?;
        let shape = Shape::for_households(50);
        let generated = generate::generate(&db, shape, PASSWORD, 3).await?;
        assert_eq!(generated.households, 50);
        assert!(generated.members >= 150, "{generated:?}");
        assert!(generate::generate(&db, shape, PASSWORD, 3).await.is_err(), "a second prefecture is refused");

        let ids = generate::household_ids(&db, 100).await?;
        assert_eq!(ids.len(), 50);
        let households = load_by_households(&db.conn, &fields::HOUSEHOLD, &ids).await?;
        let members = load_by_households(&db.conn, &fields::MEMBER, &ids).await?;
        let incomes = load_by_households(&db.conn, &fields::INCOME, &ids).await?;
        assert_eq!(households.len(), 50);
        assert_eq!(members.len(), generated.members);
        assert_eq!(incomes.len(), 50);
        for h in &households {
            assert!(h.text("region_code").is_some_and(|c| c.starts_with("3209") && c.len() == 12));
            assert!(h.field_versions.values().all(|v| *v <= h.version));
            assert!(!h.list("poverty_causes").is_empty());
        }
        for m in &members {
            let number = m.text("id_number").unwrap_or_default();
            assert_eq!(number.len(), 18);
            assert_eq!(jingzhun_mobile_api::validate::id_check_char(&number[..17]), number.chars().last(), "{number}");
        }

        #[derive(FromQueryResult)]
        struct LogRow {
            entity: String,
            entity_id: String,
            household_id: Option<String>,
            region_code: Option<String>,
            target_user: Option<String>,
            op: String,
            version: i64,
        }
        let log = LogRow::find_by_statement(sql(
            db.backend(),
            "SELECT entity, entity_id, household_id, region_code, target_user, op, version FROM change_log",
            vec![],
        ))
        .all(&db.conn)
        .await?;
        assert_eq!(log.len(), generated.change_log_rows);
        let mut newest: HashMap<(String, String), i64> = HashMap::new();
        for row in &log {
            assert!(row.household_id.is_some() && row.region_code.is_some());
            assert_eq!(row.op == "enter", row.target_user.is_some());
            if row.op == "upsert" {
                let v = newest.entry((row.entity.clone(), row.entity_id.clone())).or_default();
                *v = (*v).max(row.version);
            }
        }
        // Every record is logged, at the version it carries.
        for (entity, records) in [("household", &households), ("member", &members)] {
            for r in records {
                assert_eq!(newest.get(&(entity.to_owned(), r.id.clone())), Some(&r.version), "{entity} {}", r.id);
            }
        }
        let assignments =
            jingzhun::db::query_scalar_i64(&db.conn, sql(db.backend(), "SELECT COUNT(*) FROM assignment", vec![]))
                .await?
                .unwrap_or(0);
        assert_eq!(assignments as usize, generated.assignments);
        assert_eq!(log.iter().filter(|r| r.op == "enter").count(), generated.assignments);
        db.conn.close().await?;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        Ok(())
    }

    #[test]
    fn the_shape_of_a_prefecture_holds_its_households() {
        let big = Shape::for_households(500_000);
        assert_eq!(big.counties, 8);
        assert!((2_400..=2_600).contains(&big.villages()), "{big:?}");
        let tiny = Shape::for_households(50);
        assert_eq!(tiny.villages(), 1);
    }
}
