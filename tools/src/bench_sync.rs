//! `jingzhun bench sync`: phone sync under load, measured from outside the server.
//!
//! A fresh database gets the demo county (`crate::demo`); the server runs as a child
//! process, so its memory is measured on its own; simulated phones sign in, pull their
//! households, push change sets of field edits all at once and pull again, through the
//! phone contract's client, as real phones do.
//!
//! The bench only measures. It must never run on a database that already holds
//! households, and it removes the database it created unless asked to keep it.

use crate::demo;
use anyhow::{Context, bail};
use jingzhun::db::{Db, query_scalar_i64, sql};
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::codes;
use jingzhun_mobile_api::fields;
use jingzhun_mobile_api::wire::{Change, ChangeSet, ChangeSetStatus, ChangeStatus, Op, PushRequest};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Barrier, Semaphore};
use uuid::Uuid;

/// The password `demo::load` gives every demo account here.
pub(crate) const PASSWORD: &str = "demo1234";
/// Repetitions of the timed single-user first pulls; the median is reported.
const PROBE_RUNS: usize = 5;
/// The page size a phone asks for.
pub(crate) const PAGE: u32 = 500;

/// The database a run uses.
#[derive(Debug, Clone)]
pub enum Target {
    /// A new SQLite file in the temporary directory.
    TempSqlite,
    /// A database given by URL; it must hold no households yet.
    Url(String),
    /// A PostgreSQL server: a database `bench_…` is created through this URL (usually
    /// its `postgres` database, as a user allowed to create databases) and dropped after.
    PostgresServer(String),
}

#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub target: Target,
    pub phones: usize,
    pub changesets_per_phone: usize,
    pub changes_per_changeset: usize,
    /// Logins in flight at once. Each Argon2 verification takes 19 MiB on the server,
    /// and phones do not all sign in in the same second.
    pub login_concurrency: usize,
    /// Share of change sets that touch a household another officer follows too.
    pub shared_share: f64,
    /// Pause of each phone between its pushes. Zero (the default) is a closed loop:
    /// every phone pushes again as soon as it has its answer, which measures the
    /// server's capacity; a pause offers a fixed load and measures latency under it.
    pub pause: Duration,
    /// The `jingzhun` binary started as the server.
    pub server_exe: PathBuf,
    /// Keep the database (and the server log) for inspection.
    pub keep: bool,
    pub seed: u64,
}

impl SyncOptions {
    /// The defaults of `jingzhun bench sync`, with this binary as the server.
    pub fn new(target: Target) -> anyhow::Result<SyncOptions> {
        Ok(SyncOptions {
            target,
            phones: 200,
            changesets_per_phone: 5,
            changes_per_changeset: 10,
            login_concurrency: 4,
            shared_share: 0.05,
            pause: Duration::ZERO,
            server_exe: std::env::current_exe().context("finding the jingzhun binary")?,
            keep: false,
            seed: 7,
        })
    }
}

/// What one run measured. Times are wall-clock as the phones saw them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub backend: String,
    pub database: String,
    pub phones: usize,
    pub changesets_per_phone: usize,
    pub changes_per_changeset: usize,
    pub pause_ms: u64,
    pub households: usize,
    pub demo_load_s: f64,
    pub login_s: f64,
    /// First pull of one officer's households (median of five), from an idle server.
    pub officer_pull_ms: f64,
    pub officer_pull_households: usize,
    pub officer_pull_records: usize,
    /// First pull of a village team's whole village (median of five).
    pub village_pull_ms: f64,
    pub village_pull_households: usize,
    pub village_pull_records: usize,
    /// Every phone's first pull at once.
    pub first_pulls_s: f64,
    pub first_pull_p50_ms: f64,
    pub first_pull_p99_ms: f64,
    pub push_s: f64,
    pub changesets_sent: usize,
    pub changesets_applied: usize,
    pub changesets_duplicate: usize,
    pub changesets_rejected: usize,
    /// Pushes that got no answer with results (HTTP or server errors).
    pub push_errors: usize,
    pub shared_changesets: usize,
    pub changes_applied: usize,
    pub changes_per_s: f64,
    pub push_p50_ms: f64,
    pub push_p99_ms: f64,
    pub push_max_ms: f64,
    /// CPU used during the push phase, in cores (CPU seconds per wall second): the
    /// server, and this process's simulated phones on the same machine.
    pub server_cpu_push: f64,
    pub phones_cpu_push: f64,
    /// PostgreSQL's processes (zero for SQLite, which runs inside the server).
    pub database_cpu_push: f64,
    /// The whole machine, and its number of cores: what is left over after the
    /// server, the phones and the database is someone else's load, a sign of noise.
    pub machine_cpu_push: f64,
    pub cores: usize,
    pub conflicts: usize,
    /// One officer's incremental pull after the pushes, alone.
    pub officer_incremental_pull_ms: f64,
    pub officer_incremental_pull_changes: usize,
    /// Every phone's incremental pull after the pushes, at once.
    pub incremental_pulls_s: f64,
    pub incremental_pull_p50_ms: f64,
    pub incremental_pull_p99_ms: f64,
    pub incremental_pull_changes: usize,
    /// Largest resident set sampled every 100 ms, and the kernel's high-water mark.
    pub server_rss_peak_mb: f64,
    /// Largest resident set sampled while phones pulled and pushed (logins excluded).
    pub server_rss_sync_mb: f64,
    /// Largest resident set sampled through the 200 simultaneous first pulls (issue 14:
    /// under 150 MB).
    pub server_rss_first_pulls_mb: f64,
    pub server_rss_hwm_mb: f64,
    pub first_error: Option<String>,
}

impl Report {
    /// The throughput target for this backend (changes per second).
    pub fn changes_per_s_target(&self) -> f64 {
        if self.backend == "postgres" { 3000.0 } else { 5000.0 }
    }
}

/// Runs the sync benchmark once on `options.target`.
pub async fn run_sync(options: &SyncOptions) -> anyhow::Result<Report> {
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

async fn run_on(database: &FreshDatabase, options: &SyncOptions) -> anyhow::Result<Report> {
    let mut report = Report {
        backend: database.backend.to_owned(),
        database: redact(&database.url),
        phones: options.phones,
        changesets_per_phone: options.changesets_per_phone,
        changes_per_changeset: options.changes_per_changeset,
        pause_ms: options.pause.as_millis() as u64,
        ..Report::default()
    };
    if options.phones == 0 {
        bail!("at least one phone is needed");
    }

    let shared = {
        let db = Db::connect(&database.url, 2).await.context("connecting to the bench database")?;
        db.migrate().await.context("applying migrations")?;
        let existing =
            query_scalar_i64(&db.conn, sql(db.backend(), "SELECT COUNT(*) FROM household", vec![])).await?.unwrap_or(0);
        if existing > 0 {
            bail!("the database already holds {existing} households; the bench needs a fresh one");
        }
        let summary = demo::load(&db, PASSWORD).await?;
        eprintln!(
            "bench: demo county loaded in {:.2} s ({} households, {} members)",
            summary.elapsed.as_secs_f64(),
            summary.households,
            summary.members
        );
        report.demo_load_s = summary.elapsed.as_secs_f64();
        report.households = summary.households;
        shared_households(&db).await?
    };

    let log_path = database.log_path();
    let server = Server::start(&options.server_exe, &database.url, &log_path).await?;
    let sampler = RssSampler::start(server.pid);
    let outcome = drive(&server.base, options, &shared, &mut report, &sampler).await;
    report.server_rss_hwm_mb = kb_to_mb(read_status_kb(server.pid, "VmHWM:").unwrap_or(0));
    let samples = sampler.stop().await;
    report.server_rss_peak_mb = kb_to_mb(samples.iter().map(|s| s.1).max().unwrap_or(0)).max(report.server_rss_hwm_mb);
    server.stop().await;
    // A run that saw errors keeps the server log: it says why.
    let clean = outcome.is_ok() && report.push_errors == 0 && report.changesets_rejected == 0;
    if clean && !options.keep {
        let _ = std::fs::remove_file(&log_path);
    } else {
        eprintln!("bench: server log in {}", log_path.display());
    }
    outcome?;
    Ok(report)
}

/// Households followed by two officers at once.
async fn shared_households(db: &Db) -> anyhow::Result<HashSet<Uuid>> {
    #[derive(FromQueryResult)]
    struct SharedRow {
        household_id: String,
    }
    let rows = SharedRow::find_by_statement(sql(
        db.backend(),
        "SELECT household_id FROM assignment WHERE end_date IS NULL \
         GROUP BY household_id HAVING COUNT(*) > 1",
        vec![],
    ))
    .all(&db.conn)
    .await?;
    let mut out = HashSet::new();
    for row in rows {
        out.insert(Uuid::parse_str(&row.household_id)?);
    }
    Ok(out)
}

/// The measured part: probes, logins, first pulls, pushes, incremental pulls.
async fn drive(
    base: &str,
    options: &SyncOptions,
    shared: &HashSet<Uuid>,
    report: &mut Report,
    sampler: &RssSampler,
) -> anyhow::Result<()> {
    let officer = probe_first_pull(base, &demo::officer_username(1)).await?;
    (report.officer_pull_ms, report.officer_pull_households, report.officer_pull_records) =
        (officer.ms, officer.households, officer.records);
    let village = probe_first_pull(base, &demo::village_username(1)).await?;
    (report.village_pull_ms, report.village_pull_households, report.village_pull_records) =
        (village.ms, village.households, village.records);
    eprintln!(
        "bench: first pull {:.1} ms for an officer ({} households), {:.1} ms for a village team ({} households); server RSS {:.0} MB",
        report.officer_pull_ms,
        report.officer_pull_households,
        report.village_pull_ms,
        report.village_pull_households,
        sampler.current_mb()
    );

    let started = Instant::now();
    let mut phones = login_phones(base, options).await?;
    report.login_s = started.elapsed().as_secs_f64();
    eprintln!(
        "bench: {} phones signed in in {:.1} s; server RSS {:.0} MB",
        phones.len(),
        report.login_s,
        sampler.current_mb()
    );

    let sync_started = Instant::now();
    let (elapsed, latencies) = first_pulls(&mut phones, shared).await?;
    report.first_pulls_s = elapsed.as_secs_f64();
    report.first_pull_p50_ms = percentile_ms(&latencies, 0.50);
    report.first_pull_p99_ms = percentile_ms(&latencies, 0.99);
    report.server_rss_first_pulls_mb = kb_to_mb(sampler.peak_since(sync_started));
    let sizes: Vec<usize> = phones.iter().map(|p| p.households.len()).collect();
    eprintln!(
        "bench: first pulls of every phone in {:.2} s (households per phone {}–{}); server RSS {:.0} MB",
        report.first_pulls_s,
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0),
        sampler.current_mb()
    );

    let cpu_before =
        (cpu_seconds("self"), cpu_seconds(&sampler.pid.to_string()), machine_busy_seconds(), postgres_cpu_seconds());
    let push_started = Instant::now();
    let phones = push_phase(phones, options, report).await?;
    let wall = push_started.elapsed().as_secs_f64();
    report.phones_cpu_push = (cpu_seconds("self") - cpu_before.0) / wall;
    report.server_cpu_push = (cpu_seconds(&sampler.pid.to_string()) - cpu_before.1) / wall;
    report.machine_cpu_push = (machine_busy_seconds() - cpu_before.2) / wall;
    if report.backend == "postgres" {
        report.database_cpu_push = (postgres_cpu_seconds() - cpu_before.3) / wall;
    }
    report.cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    eprintln!(
        "bench: {} changes applied in {:.2} s ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms; server RSS {:.0} MB",
        report.changes_applied,
        report.push_s,
        report.changes_per_s,
        report.push_p50_ms,
        report.push_p99_ms,
        sampler.current_mb()
    );

    // One officer's pull of what the pushes changed, on a server with nothing else to do.
    let started = Instant::now();
    let (changes, _) = officer.client.pull_all(Some(officer.cursor.clone()), Some(PAGE)).await?;
    report.officer_incremental_pull_ms = started.elapsed().as_secs_f64() * 1000.0;
    report.officer_incremental_pull_changes = changes.len();

    let (elapsed, latencies, received) = incremental_pulls(phones).await?;
    report.incremental_pulls_s = elapsed.as_secs_f64();
    report.incremental_pull_p50_ms = percentile_ms(&latencies, 0.50);
    report.incremental_pull_p99_ms = percentile_ms(&latencies, 0.99);
    report.incremental_pull_changes = received;
    report.server_rss_sync_mb = kb_to_mb(sampler.peak_since(sync_started));
    Ok(())
}

/// A user's timed first pulls, and the session to pull again with.
struct Probe {
    ms: f64,
    households: usize,
    records: usize,
    client: Client,
    cursor: String,
}

/// Signs one user in on a probe device and times first pulls from scratch.
async fn probe_first_pull(base: &str, username: &str) -> anyhow::Result<Probe> {
    let mut client = Client::new(base);
    client
        .login(username, PASSWORD, &format!("bench-probe-{username}"), "bench")
        .await
        .with_context(|| format!("signing in as {username}"))?;
    let mut times = Vec::with_capacity(PROBE_RUNS);
    let mut households = 0;
    let mut records = 0;
    let mut cursor = String::new();
    for _ in 0..PROBE_RUNS {
        let started = Instant::now();
        let (changes, next) =
            client.pull_all(None, Some(PAGE)).await.with_context(|| format!("first pull as {username}"))?;
        times.push(started.elapsed());
        households = changes.iter().filter(|c| c.entity == fields::HOUSEHOLD.name).count();
        records = changes.len();
        cursor = next;
    }
    Ok(Probe { ms: percentile_ms(&times, 0.5), households, records, client, cursor })
}

/// A simulated phone: one officer's device and what it holds.
pub(crate) struct Phone {
    pub(crate) client: Client,
    pub(crate) rng: StdRng,
    pub(crate) cursor: String,
    pub(crate) households: Vec<LocalHousehold>,
    /// Every record's version as the phone last saw it: the `base_version` it sends.
    pub(crate) versions: HashMap<Uuid, i64>,
}

pub(crate) struct LocalHousehold {
    id: Uuid,
    shared: bool,
    /// The address up to the village name, to write plausible new addresses.
    village: String,
    members: Vec<LocalMember>,
}

struct LocalMember {
    id: Uuid,
    surname: String,
    male: bool,
    health: String,
}

/// What a change set edits.
#[derive(Clone, Copy)]
enum EditTarget {
    Household(usize),
    Member(usize, usize),
}

async fn login_phones(base: &str, options: &SyncOptions) -> anyhow::Result<Vec<Phone>> {
    let gate = Arc::new(Semaphore::new(options.login_concurrency.max(1)));
    let mut tasks = Vec::with_capacity(options.phones);
    for i in 0..options.phones {
        let gate = gate.clone();
        let base = base.to_owned();
        let seed = options.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let username = demo::officer_username(i % demo::OFFICERS + 1);
            let mut client = Client::new(&base);
            client
                .login(&username, PASSWORD, &format!("bench-phone-{i:04}"), "bench phone")
                .await
                .with_context(|| format!("phone {i} signing in as {username}"))?;
            anyhow::Ok(Phone {
                client,
                rng: StdRng::seed_from_u64(seed),
                cursor: String::new(),
                households: Vec::new(),
                versions: HashMap::new(),
            })
        }));
    }
    let mut phones = Vec::with_capacity(tasks.len());
    for task in tasks {
        phones.push(task.await??);
    }
    Ok(phones)
}

/// Every phone's first pull at once; returns the wall time and each pull's time.
pub(crate) async fn first_pulls(
    phones: &mut Vec<Phone>,
    shared: &HashSet<Uuid>,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(phones.len());
    for mut phone in phones.drain(..) {
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let (changes, cursor) = phone.client.pull_all(None, Some(PAGE)).await?;
            let elapsed = t0.elapsed();
            phone.cursor = cursor;
            let mut index: HashMap<Uuid, usize> = HashMap::new();
            for change in &changes {
                phone.versions.insert(change.id, change.version);
                if change.entity == fields::HOUSEHOLD.name {
                    let address = change.data["address"].as_str().unwrap_or_default();
                    let village = address.find('村').map_or("", |i| &address[..i + '村'.len_utf8()]);
                    index.insert(change.id, phone.households.len());
                    phone.households.push(LocalHousehold {
                        id: change.id,
                        shared: shared.contains(&change.id),
                        village: village.to_owned(),
                        members: Vec::new(),
                    });
                }
            }
            // A household in a running procedure may be frozen by a higher level: the
            // simulated officers edit the others, as a phone app would steer them.
            let in_procedure: HashSet<Uuid> = changes
                .iter()
                .filter(|c| c.entity == fields::CASE.name && c.data["status"] == "open")
                .filter_map(|c| c.data["household_id"].as_str().and_then(|h| Uuid::parse_str(h).ok()))
                .collect();
            for change in &changes {
                if change.entity != fields::MEMBER.name {
                    continue;
                }
                let household = change.data["household_id"]
                    .as_str()
                    .and_then(|h| Uuid::parse_str(h).ok())
                    .and_then(|h| index.get(&h).copied());
                if let Some(h) = household {
                    let name = change.data["name"].as_str().unwrap_or("王");
                    phone.households[h].members.push(LocalMember {
                        id: change.id,
                        surname: name.chars().next().unwrap_or('王').to_string(),
                        male: change.data["sex"] == "male",
                        health: change.data["health"].as_str().unwrap_or("healthy").to_owned(),
                    });
                }
            }
            phone.households.retain(|h| !in_procedure.contains(&h.id));
            anyhow::Ok((phone, elapsed))
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (phone, elapsed) = task.await??;
        phones.push(phone);
        latencies.push(elapsed);
    }
    Ok((started.elapsed(), latencies))
}

/// What one phone saw of its pushes.
#[derive(Default)]
struct PushTally {
    started: Option<Instant>,
    finished: Option<Instant>,
    latencies: Vec<Duration>,
    sent: usize,
    applied: usize,
    duplicate: usize,
    rejected: usize,
    errors: usize,
    shared: usize,
    changes_applied: usize,
    conflicts: usize,
    first_error: Option<String>,
}

/// Every phone pushes its change sets one request after another; all phones at once.
async fn push_phase(phones: Vec<Phone>, options: &SyncOptions, report: &mut Report) -> anyhow::Result<Vec<Phone>> {
    let barrier = Arc::new(Barrier::new(phones.len()));
    let mut tasks = Vec::with_capacity(phones.len());
    for mut phone in phones {
        let barrier = barrier.clone();
        let options = options.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = PushTally::default();
            barrier.wait().await;
            tally.started = Some(Instant::now());
            if !options.pause.is_zero() {
                // Spread the phones over the pause, so the load is steady, not bursts.
                let offset = phone.rng.gen_range(0..options.pause.as_millis() as u64);
                tokio::time::sleep(Duration::from_millis(offset)).await;
            }
            for _ in 0..options.changesets_per_phone {
                let Some((changeset, touches_shared)) =
                    phone.next_changeset(options.changes_per_changeset, options.shared_share)
                else {
                    break;
                };
                tally.sent += 1;
                tally.shared += usize::from(touches_shared);
                let request = PushRequest { changesets: vec![changeset] };
                if tally.sent > 1 && !options.pause.is_zero() {
                    tokio::time::sleep(options.pause).await;
                }
                let t0 = Instant::now();
                let answer = phone.client.push(&request).await;
                tally.latencies.push(t0.elapsed());
                match answer {
                    Ok(response) => {
                        for result in response.results {
                            match result.status {
                                ChangeSetStatus::Applied => tally.applied += 1,
                                ChangeSetStatus::Duplicate => tally.duplicate += 1,
                                ChangeSetStatus::Rejected => {
                                    tally.rejected += 1;
                                    tally.first_error.get_or_insert_with(|| {
                                        serde_json::to_string(&result.changes).unwrap_or_default()
                                    });
                                }
                            }
                            for change in &result.changes {
                                if change.status == ChangeStatus::Rejected {
                                    continue;
                                }
                                if result.status == ChangeSetStatus::Applied {
                                    tally.changes_applied += 1;
                                    tally.conflicts += change.conflicts.len();
                                }
                                phone.versions.insert(change.id, change.version);
                            }
                        }
                    }
                    Err(err) => {
                        tally.errors += 1;
                        tally.first_error.get_or_insert_with(|| err.to_string());
                    }
                }
            }
            tally.finished = Some(Instant::now());
            (phone, tally)
        }));
    }
    let mut phones = Vec::with_capacity(tasks.len());
    let mut latencies = Vec::new();
    let mut first = None::<Instant>;
    let mut last = None::<Instant>;
    for task in tasks {
        let (phone, tally) = task.await?;
        phones.push(phone);
        first = match (first, tally.started) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        last = match (last, tally.finished) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        latencies.extend(tally.latencies);
        report.changesets_sent += tally.sent;
        report.changesets_applied += tally.applied;
        report.changesets_duplicate += tally.duplicate;
        report.changesets_rejected += tally.rejected;
        report.push_errors += tally.errors;
        report.shared_changesets += tally.shared;
        report.changes_applied += tally.changes_applied;
        report.conflicts += tally.conflicts;
        if report.first_error.is_none() {
            report.first_error = tally.first_error;
        }
    }
    let wall = match (first, last) {
        (Some(a), Some(b)) => b.duration_since(a),
        _ => Duration::ZERO,
    };
    report.push_s = wall.as_secs_f64();
    report.changes_per_s = if wall.is_zero() { 0.0 } else { report.changes_applied as f64 / wall.as_secs_f64() };
    report.push_p50_ms = percentile_ms(&latencies, 0.50);
    report.push_p99_ms = percentile_ms(&latencies, 0.99);
    report.push_max_ms = percentile_ms(&latencies, 1.0);
    Ok(phones)
}

impl Phone {
    /// The next change set: `n` updates of lww fields on distinct records of this
    /// phone's households, one of them on a shared household when `shared_share` says so.
    pub(crate) fn next_changeset(&mut self, n: usize, shared_share: f64) -> Option<(ChangeSet, bool)> {
        let mut own = Vec::new();
        let mut shared = Vec::new();
        for (h, household) in self.households.iter().enumerate() {
            let pool = if household.shared { &mut shared } else { &mut own };
            pool.push(EditTarget::Household(h));
            for m in 0..household.members.len() {
                pool.push(EditTarget::Member(h, m));
            }
        }
        if own.is_empty() && shared.is_empty() {
            return None;
        }
        let touches_shared = !shared.is_empty() && self.rng.gen_bool(shared_share);
        let mut targets = Vec::with_capacity(n);
        if touches_shared {
            targets.extend(shared.choose(&mut self.rng).copied());
        }
        let pool = if own.is_empty() { &shared } else { &own };
        targets.extend(pool.choose_multiple(&mut self.rng, n.saturating_sub(targets.len())).copied());
        let changes = targets.into_iter().map(|t| self.edit(t)).collect();
        let id = uuid::Builder::from_random_bytes(self.rng.r#gen()).into_uuid();
        Some((ChangeSet { id, changes, recorded_at: None }, touches_shared))
    }

    /// One update of a lww field, as an officer makes them: a corrected address or
    /// phone number, a member's health or phone, now and then a misspelt name.
    fn edit(&mut self, target: EditTarget) -> Change {
        let mut fields = Map::new();
        let (entity, id) = match target {
            EditTarget::Household(h) => {
                let household = &self.households[h];
                if self.rng.gen_bool(0.7) {
                    let address =
                        format!("{}{}组{}号", household.village, self.rng.gen_range(1..=8), self.rng.gen_range(1..=60));
                    fields.insert("address".into(), Json::String(address));
                } else {
                    fields.insert("phone".into(), Json::String(mobile(&mut self.rng)));
                }
                (fields::HOUSEHOLD.name, household.id)
            }
            EditTarget::Member(h, m) => {
                let roll: f64 = self.rng.r#gen();
                let member = &mut self.households[h].members[m];
                if roll < 0.45 {
                    let options: Vec<&str> =
                        codes::HEALTH.codes.iter().map(|c| c.code).filter(|c| *c != member.health).collect();
                    let health = options.choose(&mut self.rng).copied().unwrap_or("healthy");
                    member.health = health.to_owned();
                    fields.insert("health".into(), Json::String(health.to_owned()));
                } else if roll < 0.8 {
                    fields.insert("phone".into(), Json::String(mobile(&mut self.rng)));
                } else {
                    let name = demo::corrected_name(&mut self.rng, &member.surname, member.male);
                    fields.insert("name".into(), Json::String(name));
                }
                (fields::MEMBER.name, member.id)
            }
        };
        Change {
            entity: entity.to_owned(),
            id,
            op: Op::Update,
            base_version: self.versions.get(&id).copied().unwrap_or(1),
            fields,
        }
    }
}

fn mobile(rng: &mut StdRng) -> String {
    format!("13{:09}", rng.gen_range(0..1_000_000_000u32))
}

/// Every phone pulls what changed since its first pull, all at once.
async fn incremental_pulls(phones: Vec<Phone>) -> anyhow::Result<(Duration, Vec<Duration>, usize)> {
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(phones.len());
    for phone in phones {
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let (changes, _) = phone.client.pull_all(Some(phone.cursor.clone()), Some(PAGE)).await?;
            anyhow::Ok((t0.elapsed(), changes.len()))
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    let mut received = 0;
    for task in tasks {
        let (elapsed, n) = task.await??;
        latencies.push(elapsed);
        received += n;
    }
    Ok((started.elapsed(), latencies, received))
}

/// Nearest-rank percentile in milliseconds (`p` in 0..=1).
pub(crate) fn percentile_ms(samples: &[Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

pub(crate) fn kb_to_mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// CPU time (user and system, every thread) of `/proc/<pid>` in seconds.
fn cpu_seconds(pid: &str) -> f64 {
    // Clock ticks are 1/100 s on every Linux this runs on (USER_HZ).
    const TICKS_PER_SECOND: f64 = 100.0;
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / TICKS_PER_SECOND
}

/// CPU seconds of every running PostgreSQL process (backends, WAL writer, …).
fn postgres_cpu_seconds() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "postgres"))
        .map(|pid| cpu_seconds(&pid))
        .sum()
}

/// Seconds all cores together spent busy since boot (`/proc/stat`, idle and iowait excluded).
fn machine_busy_seconds() -> f64 {
    const TICKS_PER_SECOND: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0.0;
    };
    let ticks: Vec<f64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal …; guest time is already in user.
    let busy: f64 = ticks.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, t)| t).sum();
    busy / TICKS_PER_SECOND
}

/// A value in kB from `/proc/<pid>/status`, e.g. `VmRSS:`.
pub(crate) fn read_status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Samples the server's resident set every 100 ms.
pub(crate) struct RssSampler {
    pid: u32,
    samples: Arc<Mutex<Vec<(Instant, u64)>>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub(crate) fn start(pid: u32) -> RssSampler {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let samples = samples.clone();
            let stop = stop.clone();
            async move {
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    if let (Some(kb), Ok(mut samples)) = (read_status_kb(pid, "VmRSS:"), samples.lock()) {
                        samples.push((Instant::now(), kb));
                    }
                }
            }
        });
        RssSampler { pid, samples, stop, task }
    }

    pub(crate) fn current_mb(&self) -> f64 {
        kb_to_mb(read_status_kb(self.pid, "VmRSS:").unwrap_or(0))
    }

    fn peak_since(&self, since: Instant) -> u64 {
        self.samples
            .lock()
            .map_or(0, |samples| samples.iter().filter(|(at, _)| *at >= since).map(|(_, kb)| *kb).max().unwrap_or(0))
    }

    pub(crate) async fn stop(self) -> Vec<(Instant, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.samples.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The server under test, a child process killed if the bench fails midway.
pub(crate) struct Server {
    child: tokio::process::Child,
    pub(crate) pid: u32,
    pub(crate) base: String,
}

impl Server {
    pub(crate) async fn start(exe: &Path, database_url: &str, log_path: &Path) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let bind = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let child = tokio::process::Command::new(exe)
            .args(["serve", "--bind", &bind, "--database", database_url])
            // Only read when no user exists; the demo made them all.
            .env("JINGZHUN__BOOTSTRAP__ADMIN_PASSWORD", PASSWORD)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let mut server = Server { child, pid, base: format!("http://{bind}") };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait()? {
                let log = std::fs::read_to_string(log_path).unwrap_or_default();
                bail!("the server exited with {status} before it was ready:\n{log}");
            }
            let ready =
                http.get(format!("{}/healthz", server.base)).send().await.is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(server);
            }
            if Instant::now() > deadline {
                server.child.kill().await.ok();
                bail!("the server did not answer /healthz within 60 s; see {}", log_path.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM for a graceful stop, then SIGKILL after ten seconds.
    pub(crate) async fn stop(mut self) {
        let _ = tokio::process::Command::new("kill").args(["-TERM", &self.pid.to_string()]).status().await;
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}

/// A database made for one run, removed after it.
pub(crate) struct FreshDatabase {
    pub(crate) url: String,
    pub(crate) backend: &'static str,
    /// The SQLite file to delete.
    file: Option<PathBuf>,
    /// The admin URL and name of a PostgreSQL database to drop.
    created: Option<(String, String)>,
    token: String,
}

impl FreshDatabase {
    pub(crate) async fn create(target: &Target) -> anyhow::Result<FreshDatabase> {
        let token = format!("{:08x}", rand::random::<u32>());
        match target {
            Target::TempSqlite => {
                let path = std::env::temp_dir().join(format!("jingzhun-bench-{token}.db"));
                Ok(FreshDatabase {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    backend: "sqlite",
                    file: Some(path),
                    created: None,
                    token,
                })
            }
            Target::Url(url) => {
                Ok(FreshDatabase { backend: backend_of(url), url: url.clone(), file: None, created: None, token })
            }
            Target::PostgresServer(admin_url) => {
                let name = format!("bench_{token}");
                let admin = sea_orm::Database::connect(admin_url.as_str())
                    .await
                    .with_context(|| format!("connecting to {}", redact(admin_url)))?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .with_context(|| format!("creating the database {name}"))?;
                admin.close().await?;
                let mut url = reqwest::Url::parse(admin_url).context("parsing --postgres")?;
                url.set_path(&format!("/{name}"));
                Ok(FreshDatabase {
                    url: url.to_string(),
                    backend: "postgres",
                    file: None,
                    created: Some((admin_url.clone(), name)),
                    token,
                })
            }
        }
    }

    pub(crate) fn log_path(&self) -> PathBuf {
        std::env::temp_dir().join(format!("jingzhun-bench-{}.log", self.token))
    }

    pub(crate) async fn remove(&self) -> anyhow::Result<()> {
        if let Some(path) = &self.file {
            for suffix in ["", "-wal", "-shm", ".startup-lock"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        if let Some((admin_url, name)) = &self.created {
            let admin = sea_orm::Database::connect(admin_url.as_str()).await?;
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
            admin.close().await?;
        }
        Ok(())
    }
}

fn backend_of(url: &str) -> &'static str {
    if url.starts_with("postgres") { "postgres" } else { "sqlite" }
}

/// A URL with its password hidden.
pub(crate) fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The reports side by side with the targets, as an aligned text table.
pub fn table(reports: &[Report]) -> String {
    struct Row {
        label: &'static str,
        target: String,
        values: Vec<String>,
        /// Per report: met, missed, or no target.
        marks: Vec<Option<bool>>,
    }
    let row = |label: &'static str, target: &str, f: &dyn Fn(&Report) -> (String, Option<bool>)| {
        let (values, marks) = reports.iter().map(f).unzip();
        Row { label, target: target.to_owned(), values, marks }
    };
    let ms = |v: f64| format!("{v:.1} ms");
    let rows = vec![
        row("households in the county", "", &|r| (r.households.to_string(), None)),
        row("phones × change sets × changes", "", &|r| {
            let pause = if r.pause_ms > 0 { format!(", {} ms apart", r.pause_ms) } else { String::new() };
            (format!("{} × {} × {}{pause}", r.phones, r.changesets_per_phone, r.changes_per_changeset), None)
        }),
        row("demo load", "", &|r| (format!("{:.2} s", r.demo_load_s), None)),
        row("applied changes/s", "≥5000 / ≥3000 PG", &|r| {
            (format!("{:.0}", r.changes_per_s), (r.pause_ms == 0).then(|| r.changes_per_s >= r.changes_per_s_target()))
        }),
        row("push p50", "", &|r| (ms(r.push_p50_ms), None)),
        row("push p99", "<250 ms", &|r| (ms(r.push_p99_ms), Some(r.push_p99_ms < 250.0))),
        row("push max", "", &|r| (ms(r.push_max_ms), None)),
        row("push phase wall time", "", &|r| (format!("{:.2} s", r.push_s), None)),
        row("push CPU: server/db/phones/other", "", &|r| {
            let other = r.machine_cpu_push - r.server_cpu_push - r.database_cpu_push - r.phones_cpu_push;
            (
                format!(
                    "{:.2}/{:.2}/{:.2}/{:.2} of {}",
                    r.server_cpu_push,
                    r.database_cpu_push,
                    r.phones_cpu_push,
                    other.max(0.0),
                    r.cores
                ),
                None,
            )
        }),
        row("change sets applied / sent", "", &|r| (format!("{} / {}", r.changesets_applied, r.changesets_sent), None)),
        row("change sets rejected", "0", &|r| (r.changesets_rejected.to_string(), Some(r.changesets_rejected == 0))),
        row("push errors (no answer)", "0", &|r| (r.push_errors.to_string(), Some(r.push_errors == 0))),
        row("change sets on shared households", "~5%", &|r| (r.shared_changesets.to_string(), None)),
        row("conflicts opened", "", &|r| (r.conflicts.to_string(), None)),
        row("officer first pull (median)", "<100 ms", &|r| {
            (
                format!("{} ({} hh, {} rec)", ms(r.officer_pull_ms), r.officer_pull_households, r.officer_pull_records),
                Some(r.officer_pull_ms < 100.0),
            )
        }),
        row("village first pull (median)", "", &|r| {
            (
                format!("{} ({} hh, {} rec)", ms(r.village_pull_ms), r.village_pull_households, r.village_pull_records),
                None,
            )
        }),
        row("all phones' first pulls, wall", "", &|r| {
            (
                format!("{:.2} s (p50 {:.0}, p99 {:.0} ms)", r.first_pulls_s, r.first_pull_p50_ms, r.first_pull_p99_ms),
                None,
            )
        }),
        row("officer incremental pull, alone", "", &|r| {
            (format!("{} ({} changes)", ms(r.officer_incremental_pull_ms), r.officer_incremental_pull_changes), None)
        }),
        row("incremental pull p50 / p99, all at once", "", &|r| {
            (format!("{:.1} / {:.1} ms", r.incremental_pull_p50_ms, r.incremental_pull_p99_ms), None)
        }),
        row("incremental pulls, wall", "", &|r| {
            (format!("{:.2} s ({} changes)", r.incremental_pulls_s, r.incremental_pull_changes), None)
        }),
        row("logins (Argon2), wall", "", &|r| (format!("{:.1} s", r.login_s), None)),
        row("server RSS peak, first pulls", "<150 MB", &|r| {
            (format!("{:.0} MB", r.server_rss_first_pulls_mb), Some(r.server_rss_first_pulls_mb < 150.0))
        }),
        row("server RSS peak during sync", "<200 MB", &|r| {
            (format!("{:.0} MB", r.server_rss_sync_mb), Some(r.server_rss_sync_mb < 200.0))
        }),
        row("server RSS peak overall (VmHWM)", "<200 MB", &|r| {
            (format!("{:.0} MB", r.server_rss_peak_mb), Some(r.server_rss_peak_mb < 200.0))
        }),
    ];

    let header_values: Vec<String> = reports.iter().map(|r| r.backend.clone()).collect();
    let width = |s: &str| s.chars().count();
    let label_w = rows.iter().map(|r| width(r.label)).max().unwrap_or(0).max(6);
    let target_w = rows.iter().map(|r| width(&r.target)).max().unwrap_or(0).max(6);
    let value_w: Vec<usize> = (0..reports.len())
        .map(|i| rows.iter().map(|r| width(&r.values[i]) + 2).chain([width(&header_values[i])]).max().unwrap_or(0))
        .collect();
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(width(s))));
    let mut out = String::new();
    out.push_str(&pad("metric", label_w));
    out.push_str("  ");
    out.push_str(&pad("target", target_w));
    for (i, h) in header_values.iter().enumerate() {
        out.push_str("  ");
        out.push_str(&pad(h, value_w[i]));
    }
    out.push('\n');
    let total = label_w + 2 + target_w + value_w.iter().map(|w| w + 2).sum::<usize>();
    out.push_str(&"-".repeat(total));
    out.push('\n');
    for r in &rows {
        out.push_str(&pad(r.label, label_w));
        out.push_str("  ");
        out.push_str(&pad(&r.target, target_w));
        for (i, v) in r.values.iter().enumerate() {
            let mark = match r.marks[i] {
                Some(true) => " ✓",
                Some(false) => " ✗",
                None => "",
            };
            out.push_str("  ");
            out.push_str(&pad(&format!("{v}{mark}"), value_w[i]));
        }
        out.push('\n');
    }
    for r in reports {
        if let Some(err) = &r.first_error {
            out.push_str(&format!("{}: first error: {err}\n", r.backend));
        }
    }
    out
}

/// What one statement costs inside a SQLite write transaction (load by key, update, a
/// bare `SELECT 1`, and one `IN`-list load of the same rows), on a temporary database
/// holding the demo county. Push cost is about these figures times its statements.
pub async fn statement_cost() -> anyhow::Result<String> {
    use jingzhun::records;
    let path = std::env::temp_dir().join(format!("jingzhun-stmt-{}.db", Uuid::new_v4()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = Db::connect(&url, 4).await?;
    db.migrate().await?;
    demo::load(&db, PASSWORD).await?;
    #[derive(FromQueryResult)]
    struct MemberRow {
        id: String,
    }
    let rows = MemberRow::find_by_statement(sql(db.backend(), "SELECT id FROM member LIMIT 2000", vec![]))
        .all(&db.conn)
        .await?;
    let ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
    let txn = db.begin_write().await?;
    let t0 = Instant::now();
    let mut loaded = Vec::new();
    for id in &ids {
        loaded.extend(records::load(&*txn, &fields::MEMBER, id, true).await?);
    }
    let load = t0.elapsed();
    let t0 = Instant::now();
    let health = fields::MEMBER.field("health").context("catalogue has health")?;
    for record in &loaded {
        records::update(&*txn, &fields::MEMBER, record, &[health]).await?;
    }
    let update = t0.elapsed();
    let t0 = Instant::now();
    for _ in &ids {
        query_scalar_i64(&*txn, sql(db.backend(), "SELECT 1", vec![])).await?;
    }
    let trivial = t0.elapsed();
    let t0 = Instant::now();
    let batched = records::load_many(&*txn, &fields::MEMBER, &ids).await?;
    let many = t0.elapsed();
    txn.commit().await?;
    for suffix in ["", "-wal", "-shm", ".startup-lock"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / ids.len().max(1) as f64;
    Ok(format!(
        "per statement: load {:.1} µs, update {:.1} µs, SELECT 1 {:.1} µs; one IN-list load of {} rows {:.1} ms",
        per(load),
        per(update),
        per(trivial),
        batched.len(),
        many.as_secs_f64() * 1e3
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&samples, 0.5), 50.0);
        assert_eq!(percentile_ms(&samples, 0.99), 99.0);
        assert_eq!(percentile_ms(&samples, 1.0), 100.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(redact("postgres://u:secret@127.0.0.1:5432/db"), "postgres://u:***@127.0.0.1:5432/db");
        assert_eq!(redact("sqlite:///tmp/x.db?mode=rwc"), "sqlite:///tmp/x.db?mode=rwc");
    }
}
