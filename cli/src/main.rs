//! The `jingzhun` command: parse, load config, start tracing, then run the subcommand.
//! The server and its administration come from the `jingzhun` library; `demo` and
//! `bench …` from `jingzhun_tools`, which the server library never links. This file only
//! parses and dispatches: what a subcommand does, and what it prints, lives in the library
//! it calls (`jingzhun_tools::commands` for the tools).

use anyhow::Context;
use clap::{Parser, Subcommand};
use jingzhun::auth::Role;
use jingzhun::registry::{self, Actor, devices::RevokeMode};
use jingzhun::{Config, db::Db};
use jingzhun_tools::bench_console::ConsoleOptions;
use jingzhun_tools::bench_dispatch::DispatchOptions;
use jingzhun_tools::bench_scale::ScaleOptions;
use jingzhun_tools::bench_sync::{SyncOptions, Target};
use jingzhun_tools::commands;
use std::path::PathBuf;

mod allocator;

#[derive(Parser)]
#[command(name = "jingzhun", version, about = "精准 — registered poor household management server")]
struct Cli {
    /// TOML config file; environment variables JINGZHUN__SECTION__KEY override it.
    #[arg(long, global = true, env = "JINGZHUN_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL (sqlite://file?mode=rwc or postgres://…); overrides the config.
    #[arg(long, global = true, env = "DATABASE_URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (the default).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "JINGZHUN_BIND")]
        bind: Option<String>,
    },
    /// Apply migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage devices.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Load the demo county 演示县 (about 2,000 households, officers, village teams).
    Demo {
        /// Password of every demo account, and of `admin` when the demo creates it.
        #[arg(long, default_value = "demo1234")]
        password: String,
    },
    /// Load data a county already holds (docs/register-import.md).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Measure the server under load (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Print the OpenAPI document to stdout (the console generates its API types from it).
    Openapi,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// The register of households and members (CSV or XLSX, 对照表 layout): checked row
    /// by row, then written in one transaction; nothing is written if a cell fails.
    Register {
        file: PathBuf,
        /// Check and report only.
        #[arg(long)]
        dry_run: bool,
        /// Also write the report as a workbook (行, 列, 字段, 问题), for the office to fix
        /// its file cell by cell.
        #[arg(long, value_name = "REPORT.xlsx")]
        report: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Notification dispatch throughput: the outbox sent through the real Aliyun channel
    /// to an in-process stand-in that checks every signature, on a fresh database.
    Dispatch {
        /// Messages (one officer each, distinct numbers).
        #[arg(long, default_value_t = 5000)]
        messages: usize,
        /// Also run on PostgreSQL: a server URL whose user may create databases.
        #[arg(long)]
        postgres: Option<String>,
        /// Rows claimed per dispatcher cycle.
        #[arg(long, default_value_t = 200)]
        batch: usize,
        /// Sends in flight at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// What one statement costs inside a SQLite write transaction (demo county, temporary file).
    Statements,
    /// The office console's speed: the household table of a 20,000-household county
    /// (paging, each filter) and the first screen in headless Chromium, beside nginx
    /// serving the same built files (BENCHMARKS.md).
    Console {
        /// Households after copying the demo county's villages (at most 20,000).
        #[arg(long, default_value_t = 20_000)]
        households: usize,
        /// Timed requests per list query.
        #[arg(long, default_value_t = 30)]
        requests: usize,
        /// Chromium runs per server (each with a new profile).
        #[arg(long, default_value_t = 5)]
        browser_runs: usize,
        /// The built console the nginx peer serves; "" skips the peer.
        #[arg(long, default_value = "console/dist")]
        dist: String,
        /// Also run on PostgreSQL: a server URL whose user may create databases.
        #[arg(long)]
        postgres: Option<String>,
        /// With --postgres: skip the SQLite run.
        #[arg(long)]
        no_sqlite: bool,
        /// The jingzhun binary started as the server (default: this one), e.g. a release
        /// build while the bench runs from a debug one.
        #[arg(long)]
        server: Option<std::path::PathBuf>,
        /// Keep the bench databases.
        #[arg(long)]
        keep: bool,
        /// Print the reports as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Simulated phones pull, push change sets and pull again, all at once, against a
    /// server started as a child process on a fresh database holding the demo county.
    /// Runs on a new temporary SQLite file unless `--database` names a fresh database.
    Sync {
        /// Simulated phones, signed in as officer-001…officer-060 in turn.
        #[arg(long, default_value_t = 200)]
        phones: usize,
        /// Change sets each phone pushes, one request each.
        #[arg(long, default_value_t = 5)]
        changesets_per_phone: usize,
        /// Updates in each change set.
        #[arg(long, default_value_t = 10)]
        changes: usize,
        /// Also run on PostgreSQL: a server URL (e.g. postgres://u:p@127.0.0.1/postgres)
        /// whose user may create databases; a database bench_… is made and dropped.
        #[arg(long)]
        postgres: Option<String>,
        /// With --postgres: skip the SQLite run.
        #[arg(long)]
        no_sqlite: bool,
        /// Pause of each phone between its pushes, in ms; 0 (the default) measures
        /// capacity, a pause measures latency under a lighter load.
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
        /// Logins in flight at once (each Argon2 check takes 19 MiB on the server).
        #[arg(long, default_value_t = 4)]
        login_concurrency: usize,
        /// Keep the bench databases and server logs.
        #[arg(long)]
        keep: bool,
        /// Print the reports as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// A prefecture of 500,000 households beside the demo county: an officer's first and
    /// incremental pull, a village team's first pull, a push and a county report, with
    /// the release server as a child process (issue 14 item 4, BENCHMARKS.md).
    Scale {
        /// Households of the generated prefecture.
        #[arg(long, default_value_t = 500_000)]
        households: usize,
        /// Also run on PostgreSQL: a server URL whose user may create databases.
        #[arg(long)]
        postgres: Option<String>,
        /// With --postgres: skip the SQLite run.
        #[arg(long)]
        no_sqlite: bool,
        /// Keep the generated prefectures and print their URLs, for --reuse.
        #[arg(long)]
        keep: bool,
        /// A database holding a prefecture kept by an earlier run (one per backend; repeatable).
        #[arg(long)]
        reuse: Vec<String>,
        /// Changes written elsewhere in the prefecture before the officer's incremental
        /// pull; the demo county gets as many per household.
        #[arg(long, default_value_t = 50_000)]
        outside_changes: usize,
        /// Timed pushes of ten edits.
        #[arg(long, default_value_t = 50)]
        pushes: usize,
        /// The jingzhun binary started as the server and whose `migrate` makes the schema
        /// (default: this one), e.g. an older build for a baseline.
        #[arg(long)]
        server: Option<std::path::PathBuf>,
        /// Print the reports as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user with roles, e.g. `--role officer:320703001001`.
    Add {
        username: String,
        #[arg(long)]
        name: String,
        #[arg(long, env = "JINGZHUN_NEW_USER_PASSWORD")]
        password: String,
        /// ROLE:REGION_CODE, repeatable.
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Revoke a device: `drain` (retired, may push what it holds) or `wipe` (lost or stolen).
    Revoke {
        device_id: String,
        #[arg(long, default_value = "wipe")]
        mode: String,
    },
}

/// The document the server serves at `/api/openapi.json`, made from the same routes over
/// a throwaway in-memory database, so no server or database is needed.
async fn openapi_json() -> anyhow::Result<String> {
    let mut config = Config::defaults().context("default configuration")?;
    config.database_url = "sqlite::memory:".into();
    // One connection: each connection to `:memory:` is a database of its own.
    config.max_connections = 1;
    // A password of our choosing is not printed, so stdout holds the document alone.
    config.bootstrap.admin_password = jingzhun::auth::random_password();
    let state = jingzhun::prepare(config).await?;
    let (_, document) = jingzhun::http::api(&state);
    Ok(document.to_pretty_json()?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    allocator::return_freed_memory_soon();
    let cli = Cli::parse();
    // The document goes to stdout alone, so it can be piped into a file.
    if matches!(cli.command, Some(Command::Openapi)) {
        print!("{}", openapi_json().await?);
        return Ok(());
    }
    // Logs go to stderr: stdout carries what a command itself prints (`--json`).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .init();
    let mut config = Config::load(cli.config.as_deref()).context("loading configuration")?;
    if let Some(url) = cli.database {
        config.database_url = url;
    }
    match cli.command.unwrap_or(Command::Serve { bind: None }) {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                config.bind = bind;
            }
            let listener = tokio::net::TcpListener::bind(&config.bind)
                .await
                .with_context(|| format!("binding {}", config.bind))?;
            println!("Jingzhun listening on http://{}", listener.local_addr()?);
            jingzhun::serve(config, listener, shutdown_signal()).await
        }
        Command::Migrate => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User { command: UserCommand::Add { username, name, password, roles, phone, email } } => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let mut parsed = Vec::new();
            for role in roles {
                let (r, region) = role.split_once(':').context("a role is ROLE:REGION_CODE")?;
                parsed.push((Role::parse(r).with_context(|| format!("unknown role {r}"))?, region.to_owned()));
            }
            let user = registry::users::create(
                &db,
                &Actor::CLI,
                registry::users::NewUser { username, name, password, phone, email, roles: parsed },
            )
            .await?;
            println!("user {} created with id {}", user.username, user.id);
            Ok(())
        }
        Command::Device { command: DeviceCommand::Revoke { device_id, mode } } => {
            let mode = RevokeMode::parse(&mode).context("mode is drain or wipe")?;
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            registry::devices::revoke(&db, &Actor::CLI, &device_id, mode).await?;
            println!("device {device_id} revoked ({})", mode.as_str());
            Ok(())
        }
        Command::Import { command: ImportCommand::Register { file, dry_run, report: report_path } } => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let request =
                jingzhun::imports::register::ImportRequest { file_name: file.display().to_string(), bytes, dry_run };
            let gate = jingzhun::gate::Gate::new(1, std::time::Duration::from_secs(1));
            let caps = jingzhun::imports::register::caps(&config.uploads);
            // Every step, but the write only each thousand households.
            let progress = |step: jingzhun::imports::register::Step| match step {
                jingzhun::imports::register::Step::Writing { done, total } if done % 1000 != 0 && done != total => {}
                step => println!("{}", step.zh()),
            };
            let report = jingzhun::imports::register::run(&db, &Actor::CLI, request, &gate, caps, &progress)
                .await
                .map_err(|r| anyhow::anyhow!("{}: {}", r.code.code(), r.code.message_zh()))?;
            for line in report.summary_lines() {
                println!("{line}");
            }
            if let Some(path) = report_path {
                let bytes = jingzhun::imports::report::xlsx(&report).context("writing the report")?;
                std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
                println!("报告已写入 {}", path.display());
            }
            if report.errors_total > 0 {
                anyhow::bail!("{} cells failed; nothing written", report.errors_total)
            } else {
                Ok(())
            }
        }
        Command::Demo { password } => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            commands::demo(&db, &password, &config.public_url()).await
        }
        Command::Bench { command: BenchCommand::Dispatch { messages, postgres, batch, concurrency } } => {
            commands::bench_dispatch(DispatchOptions { messages, postgres, batch, concurrency }).await
        }
        Command::Bench { command: BenchCommand::Statements } => commands::bench_statements().await,
        Command::Bench {
            command:
                BenchCommand::Console { households, requests, browser_runs, dist, postgres, no_sqlite, server, keep, json },
        } => {
            let targets = commands::sync_targets(None, postgres, no_sqlite);
            let mut options = ConsoleOptions::new(Target::TempSqlite)?;
            options.households = households;
            options.requests = requests;
            options.browser_runs = browser_runs;
            options.dist = (!dist.is_empty()).then(|| dist.into());
            options.keep = keep;
            if let Some(server) = server {
                options.server_exe = server;
            }
            commands::bench_console(&options, targets, json).await
        }
        Command::Bench {
            command:
                BenchCommand::Scale { households, postgres, no_sqlite, keep, reuse, outside_changes, pushes, server, json },
        } => {
            let mut options = ScaleOptions::new()?;
            options.households = households;
            options.postgres = postgres;
            options.no_sqlite = no_sqlite;
            options.keep = keep;
            options.reuse = reuse;
            options.outside_changes = outside_changes;
            options.pushes = pushes;
            if let Some(server) = server {
                options.server_exe = server;
            }
            commands::bench_scale(&options, json).await
        }
        // Answered before tracing starts, above.
        Command::Openapi => Ok(()),
        Command::Bench {
            command:
                BenchCommand::Sync {
                    phones,
                    changesets_per_phone,
                    changes,
                    postgres,
                    no_sqlite,
                    pause_ms,
                    login_concurrency,
                    keep,
                    json,
                },
        } => {
            // Only a database named on this command line: never the configured one,
            // which may hold real households.
            let explicit = <Cli as clap::CommandFactory>::command().get_matches().value_source("database")
                == Some(clap::parser::ValueSource::CommandLine);
            let targets = commands::sync_targets(explicit.then_some(config.database_url), postgres, no_sqlite);
            let mut options = SyncOptions::new(Target::TempSqlite)?;
            options.phones = phones;
            options.changesets_per_phone = changesets_per_phone;
            options.changes_per_changeset = changes;
            options.login_concurrency = login_concurrency;
            options.pause = std::time::Duration::from_millis(pause_ms);
            options.keep = keep;
            commands::bench_sync(&options, targets, json).await
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
