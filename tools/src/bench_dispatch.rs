//! `jingzhun bench dispatch`: outbox dispatch throughput to local stand-ins.
//!
//! A fresh database (a temporary SQLite file, or a `bench_…` database made on a
//! PostgreSQL server and dropped after) gets N officers with distinct phone numbers; one
//! `notify` per 1,000 of them writes the outbox rows; then the real dispatcher sends
//! them through the real Aliyun channel (signing included) to the in-process Aliyun
//! stand-in, which checks every signature, until nothing is due. The clock is fixed at
//! 10:00 Beijing time so quiet hours never hold the run, whenever it is started.
//!
//! The bench only measures; it never touches the configured database.

use std::time::Instant;

use crate::standins::{ALIYUN_KEY_ID, ALIYUN_SECRET, AliyunGateway};
use anyhow::{Context, bail};
use chrono::TimeZone;
use chrono_tz::Asia::Shanghai;
use jingzhun_notifier::outbox::{Channels, Dispatcher, Policy};
use jingzhun_notifier::{AliyunConfig, AliyunSms, Secret};
use sea_orm::{ConnectionTrait, Value};
use serde::Serialize;

use jingzhun::db::{Db, sql};
use jingzhun::notifications::{Event, Notification, Recipients, notify};

#[derive(Debug, Clone)]
pub struct DispatchOptions {
    pub messages: usize,
    /// A PostgreSQL server URL whose user may create databases; `None`: SQLite.
    pub postgres: Option<String>,
    pub batch: usize,
    pub concurrency: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DispatchReport {
    pub backend: &'static str,
    pub messages: usize,
    pub batch: usize,
    pub concurrency: usize,
    pub enqueue_s: f64,
    pub dispatch_s: f64,
    pub messages_per_s: f64,
    pub cycles: usize,
}

impl DispatchReport {
    pub fn line(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {:.0} | {} |",
            self.backend,
            self.messages,
            self.batch,
            self.concurrency,
            self.enqueue_s,
            self.dispatch_s,
            self.messages_per_s,
            self.cycles
        )
    }

    pub const HEADER: &'static str = "| backend | messages | batch | concurrency | enqueue s | dispatch s | messages/s | cycles |\n|---|---|---|---|---|---|---|---|";
}

pub async fn run_dispatch(options: &DispatchOptions) -> anyhow::Result<DispatchReport> {
    let token = format!("{:08x}", rand::random::<u32>());
    let (url, backend, cleanup) = match &options.postgres {
        None => {
            let path = std::env::temp_dir().join(format!("jingzhun-bench-dispatch-{token}.db"));
            (format!("sqlite://{}?mode=rwc", path.display()), "sqlite", Cleanup::File(path))
        }
        Some(admin_url) => {
            let name = format!("bench_{token}");
            let admin = sea_orm::Database::connect(admin_url.as_str()).await.context("connecting to --postgres")?;
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.context("creating the database")?;
            admin.close().await?;
            let mut url = reqwest::Url::parse(admin_url).context("parsing --postgres")?;
            url.set_path(&format!("/{name}"));
            (url.to_string(), "postgres", Cleanup::Postgres(admin_url.clone(), name))
        }
    };
    let report = measure(options, &url, backend).await;
    cleanup.run().await;
    report
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres(String, String),
}

impl Cleanup {
    async fn run(self) {
        match self {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres(admin_url, name) => {
                if let Ok(admin) = sea_orm::Database::connect(admin_url.as_str()).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    let _ = admin.close().await;
                }
            }
        }
    }
}

async fn measure(options: &DispatchOptions, url: &str, backend: &'static str) -> anyhow::Result<DispatchReport> {
    let db = Db::connect(url, 16).await.context("connecting")?;
    db.migrate().await.context("migrating")?;
    let now = Shanghai
        .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
        .single()
        .context("a fixed morning")?
        .with_timezone(&chrono::Utc);

    // Officers with distinct numbers, so the per-number limits never hold a message.
    let ids: Vec<String> = (0..options.messages).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    for (chunk_index, chunk) in ids.chunks(500).enumerate() {
        let rows = vec!["(?, ?, ?, ?, 'x', ?, ?)"; chunk.len()].join(", ");
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 6);
        for (i, id) in chunk.iter().enumerate() {
            let n = chunk_index * 500 + i;
            values.extend([
                id.as_str().into(),
                format!("bench-{n}").into(),
                format!("干部{n}").into(),
                format!("139{n:08}").into(),
                true.into(),
                now.into(),
            ]);
        }
        let text = format!(
            "INSERT INTO app_user (id, username, name, phone, password_hash, active, created_at) VALUES {rows}"
        );
        db.conn.execute_raw(sql(db.backend(), &text, values)).await.context("adding officers")?;
    }

    let started = Instant::now();
    let mut enqueued = 0;
    for (i, chunk) in ids.chunks(1000).enumerate() {
        let txn = db.begin_write().await?;
        let params = serde_json::json!({"task": "入户核查", "household": "张三户", "due": "11月30日"});
        enqueued += notify(
            &*txn,
            now,
            Notification {
                event: Event::TaskDue,
                dedup_key: format!("bench:{i}"),
                recipients: Recipients::Users(chunk.to_vec()),
                params: params.as_object().cloned().unwrap_or_default(),
                urgent: false,
            },
        )
        .await?;
        txn.commit().await?;
    }
    let enqueue_s = started.elapsed().as_secs_f64();
    if enqueued != options.messages {
        bail!("enqueued {enqueued} rows for {} officers", options.messages);
    }

    let (gateway, endpoint) = AliyunGateway::start().await.context("starting the Aliyun stand-in")?;
    let mut config = AliyunConfig::new(ALIYUN_KEY_ID, Secret::new(ALIYUN_SECRET), "精准扶贫");
    config.endpoint = endpoint;
    let channels = Channels { sms: Some(std::sync::Arc::new(AliyunSms::new(config)?)), ..Channels::default() };
    let policy = Policy { batch: options.batch, concurrency: options.concurrency, ..Policy::default() };
    let dispatcher = Dispatcher::new(db.clone(), channels, policy);

    let started = Instant::now();
    let mut cycles = 0;
    loop {
        let outcome = dispatcher.try_dispatch_once(now).await?;
        cycles += 1;
        if outcome.claimed == 0 {
            break;
        }
        if outcome.sent != outcome.claimed {
            bail!("a cycle did not send everything it claimed: {outcome:?}");
        }
    }
    let dispatch_s = started.elapsed().as_secs_f64();

    let accepted = gateway.accepted();
    let distinct: std::collections::HashSet<&String> =
        accepted.iter().filter_map(|params| params.get("PhoneNumbers")).collect();
    if accepted.len() != options.messages || distinct.len() != options.messages {
        bail!(
            "the stand-in accepted {} messages to {} numbers, not {}",
            accepted.len(),
            distinct.len(),
            options.messages
        );
    }
    let sent = jingzhun::db::count(&db.conn, "SELECT COUNT(*) FROM notification WHERE status = ?", vec!["sent".into()])
        .await?;
    if sent as usize != options.messages {
        bail!("{sent} rows marked sent, not {}", options.messages);
    }
    db.conn.clone().close().await?;
    Ok(DispatchReport {
        backend,
        messages: options.messages,
        batch: options.batch,
        concurrency: options.concurrency,
        enqueue_s,
        dispatch_s,
        messages_per_s: options.messages as f64 / dispatch_s,
        cycles,
    })
}
