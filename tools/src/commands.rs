//! What `jingzhun demo` and `jingzhun bench …` do once the command line is parsed: run
//! the tool and print its report for a person at a terminal. The `jingzhun` binary
//! (`cli/`) parses and calls these.
//!
//! Nothing here reads the command line, the environment or the config file: which
//! database a command may touch is decided by the caller, so that a bench never runs on
//! the configured database unless it was named on the command line.

use crate::bench_console::{self, ConsoleOptions};
use crate::bench_dispatch::{DispatchOptions, DispatchReport, run_dispatch};
use crate::bench_scale::{self, ScaleOptions};
use crate::bench_sync::{self, SyncOptions, Target};
use crate::{demo, demo_notices};
use jingzhun::db::Db;

/// Loads the demo county into `db` (already migrated), publishes its notices and prints
/// the accounts to sign in with and the notices' pages under `public_url`.
pub async fn demo(db: &Db, password: &str, public_url: &str) -> anyhow::Result<()> {
    let summary = demo::load(db, password).await?;
    print!("{summary}");
    println!("Sign in with password {password:?} as:");
    println!(
        "  admin                  administrator of the deployment (root region){}",
        if summary.admin_created { "" } else { " (existing account, password unchanged)" }
    );
    println!("  county                 county office (县扶贫办)");
    println!("  township-1, township-2 township reviewers");
    println!("  verifier-1, verifier-2 核查组 of each township (answer objections to village notices)");
    println!("  village-01…village-08  village teams");
    println!("  officer-001…officer-060 assistance officers (about 33 households each)");
    println!("  supervisor             city supervisor (read only)");
    let notices = demo_notices::publish_all(db, &summary.county_code, chrono::Utc::now()).await?;
    let base = public_url;
    println!("Public notices (公示) in their period — open on a phone, or scan the QR on the poster:");
    for notice in &notices {
        let objections =
            if notice.objections > 0 { format!(", {} objection(s)", notice.objections) } else { String::new() };
        println!("  {} ({} households{objections})", notice.title, notice.households);
        println!("    page   {base}/n/{}", notice.token);
        println!("    poster {base}/n/{}/print   QR {base}/n/{}/qr.png", notice.token, notice.token);
    }
    Ok(())
}

/// Runs the dispatch bench on SQLite, then on PostgreSQL when `options.postgres` names a
/// server, and prints one table row per run.
pub async fn bench_dispatch(options: DispatchOptions) -> anyhow::Result<()> {
    println!("{}", DispatchReport::HEADER);
    let sqlite = DispatchOptions { postgres: None, ..options.clone() };
    println!("{}", run_dispatch(&sqlite).await?.line());
    if options.postgres.is_some() {
        println!("{}", run_dispatch(&options).await?.line());
    }
    Ok(())
}

/// Prints what one statement costs inside a SQLite write transaction.
pub async fn bench_statements() -> anyhow::Result<()> {
    println!("{}", bench_sync::statement_cost().await?);
    Ok(())
}

/// The databases `jingzhun bench sync` runs on: the database named on the command line
/// (`explicit`) if any, else a new SQLite file unless `no_sqlite` was asked with a
/// PostgreSQL server, plus that server. Never the configured database, which may hold
/// real households: the caller passes `explicit` only when `--database` was typed.
pub fn sync_targets(explicit: Option<String>, postgres: Option<String>, no_sqlite: bool) -> Vec<Target> {
    let mut targets = Vec::new();
    if let Some(url) = explicit {
        targets.push(Target::Url(url));
    } else if !no_sqlite || postgres.is_none() {
        targets.push(Target::TempSqlite);
    }
    targets.extend(postgres.map(Target::PostgresServer));
    targets
}

/// Runs the sync bench with `options` on each of `targets` in turn and prints the
/// reports as a table, or as JSON.
pub async fn bench_sync(options: &SyncOptions, targets: Vec<Target>, json: bool) -> anyhow::Result<()> {
    let mut reports = Vec::new();
    for target in targets {
        reports.push(bench_sync::run_sync(&SyncOptions { target, ..options.clone() }).await?);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        print!("{}", bench_sync::table(&reports));
    }
    Ok(())
}

/// Runs the console bench with `options` on each of `targets` in turn and prints the
/// reports as a table, or as JSON.
pub async fn bench_console(options: &ConsoleOptions, targets: Vec<Target>, json: bool) -> anyhow::Result<()> {
    let mut reports = Vec::new();
    for target in targets {
        reports.push(bench_console::run_console(&ConsoleOptions { target, ..options.clone() }).await?);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        print!("{}", bench_console::table(&reports));
    }
    Ok(())
}

/// Runs the scale bench on each backend asked for and prints the reports as tables, or
/// as JSON.
pub async fn bench_scale(options: &ScaleOptions, json: bool) -> anyhow::Result<()> {
    let mut reports = Vec::new();
    for (target, reuse) in bench_scale::targets(options) {
        reports.push(bench_scale::run_scale(options, &target, reuse.as_deref()).await?);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        print!("{}", bench_scale::table(&reports));
    }
    Ok(())
}
