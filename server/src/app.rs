//! Wiring, the top floor: start-up (migrations, first administrator), the background
//! workers, and `serve`, the seam tests start the server through.

use crate::auth::{self, Role};
use crate::config::Config;
use crate::db::Db;
use crate::db::entities::{app_user, region};
use crate::metrics::Metrics;
use crate::registry::{self, Actor};
use crate::state::AppState;
use anyhow::Context;
use sea_orm::{EntityTrait, PaginatorTrait};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Connects, migrates and makes sure an administrator exists.
pub async fn prepare(config: Config) -> anyhow::Result<AppState> {
    // A bad cron expression stops the server here, before anything starts.
    crate::scheduler::Schedules::from_config(&config.schedule).context("checking the schedules")?;
    // So does an unusable notification provider (unknown SMS provider, bad sender address).
    config.notify.channels().context("checking the [notify] providers")?;
    config.notify.policy().context("checking the [notify] policy")?;
    // Processes started together take turns to connect, migrate and seed (each step is
    // also safe to run twice on its own). Connecting is inside the turn: the first
    // connection to a new SQLite file switches it to WAL, which fails while another
    // process is creating the file.
    let startup = crate::db::startup::StartupLock::acquire(&config.database_url).await.context("waiting to start")?;
    let pool = if config.database_url.starts_with("sqlite") {
        config.sqlite_readers.min(config.max_connections).max(1)
    } else {
        config.max_connections
    };
    let db = Db::connect_with(&config.database_url, pool, config.sqlite_synchronous)
        .await
        .context("connecting to the database")?;
    db.migrate().await.context("applying migrations")?;
    bootstrap_admin(&db, &config).await.context("creating the first administrator")?;
    crate::assess::policy::seed_if_empty(&db).await.context("storing the seeded rule variants")?;
    let guard = crate::notices::form_guard::FormGuard::load(&db).await.context("loading the notice form key")?;
    startup.release().await.context("letting the next process start")?;
    let pushes = crate::sync::group::Pushes::start(
        db.clone(),
        config.sync.postgres_push_lanes,
        config.sync.postgres_group_changesets,
    )
    .context("starting the push writer")?;
    Ok(AppState {
        db,
        pushes,
        gates: crate::gate::Gates::from_config(&config),
        config: Arc::new(config),
        metrics: Arc::new(Metrics::new()?),
        clock: crate::Clock::default(),
        notice_pages: Arc::new(crate::notices::public::Public::new(guard)),
        import_jobs: crate::imports::job::Jobs::new(),
    })
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = prepare(config).await?;
    serve_state(state, listener, shutdown).await
}

pub async fn serve_state(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Each worker takes the parts it uses and a signal to stop; work under way when the
    // server stops (a notice closing, a scheduled job, a batch of messages) is finished,
    // not cut off half-way.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = || {
        let mut stopped = stopped.clone();
        async move {
            // An error means the sender is gone, which also means stop.
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let (db, clock, config) = (&state.db, &state.clock, &state.config);
    let workers = [
        (
            "change log compaction",
            tokio::spawn(compact_until_stopped(db.clone(), config.sync.tombstone_days, until_stopped())),
        ),
        (
            "scheduler",
            tokio::spawn(crate::scheduler::run_until_stopped(
                db.clone(),
                clock.clone(),
                config.schedule.clone(),
                until_stopped(),
            )),
        ),
        ("notices", tokio::spawn(crate::notices::run_until_stopped(db.clone(), clock.clone(), until_stopped()))),
        (
            "notification dispatcher",
            tokio::spawn(crate::notifications::dispatch::run_until_stopped(
                db.clone(),
                clock.clone(),
                config.notify.clone(),
                until_stopped(),
            )),
        ),
    ];
    tracing::info!(addr = %listener.local_addr()?, "serving");
    // The peer address feeds the public objection form's per-sender limits.
    let app = crate::http::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    let _ = stop.send(true);
    for (name, mut worker) in workers {
        match tokio::time::timeout(WORKER_GRACE, &mut worker).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::error!(worker = name, %err, "worker ended abnormally"),
            Err(_) => {
                tracing::warn!(worker = name, "worker did not stop in time; stopping it");
                worker.abort();
            }
        }
    }
    result.context("serving HTTP")
}

/// How long a worker may take to finish what it is doing once the server stops.
const WORKER_GRACE: Duration = Duration::from_secs(30);

/// Hourly until `shutdown`: compact the change log past the tombstone horizon.
async fn compact_until_stopped(db: Db, tombstone_days: i64, shutdown: impl Future<Output = ()>) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = tick.tick() => {}
        }
        let cutoff = chrono::Utc::now() - chrono::Duration::days(tombstone_days);
        match crate::records::changelog::compact(&db, cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "compacted the change log"),
            Err(err) => tracing::error!(%err, "change log compaction failed"),
        }
    }
}

/// On an empty database, creates the first administrator (and a country region for it
/// when none is configured), printing a generated password once.
async fn bootstrap_admin(db: &Db, config: &Config) -> anyhow::Result<()> {
    if app_user::Entity::find().count(&db.conn).await? > 0 {
        // Accounts made by `jingzhun demo` or an older version: the root is the first
        // administrator's region.
        registry::regions::settle_root(db, None).await?;
        return Ok(());
    }
    let bootstrap = &config.bootstrap;
    let region_code =
        if bootstrap.admin_region.is_empty() { "000000000000".to_owned() } else { bootstrap.admin_region.clone() };
    if region::Entity::find_by_id(region_code.clone()).one(&db.conn).await?.is_none() {
        // The region's level follows from its code: a county deployment's first
        // administrator governs the county, not the province around it.
        let Some(level) = crate::auth::roles::level_of_code(&region_code) else {
            anyhow::bail!("bootstrap.admin_region must be a 12-digit region code, got {region_code:?}");
        };
        let txn = db.begin_write().await?;
        let inserted = registry::regions::insert(
            &*txn,
            registry::regions::NewRegion {
                code: region_code.clone(),
                name: if level == "country" { "全国".into() } else { region_code.clone() },
                level: level.into(),
                parent_code: None,
            },
        )
        .await;
        match inserted {
            Ok(_) => txn.commit().await?,
            Err(err) => {
                txn.rollback().await?;
                // Another process starting at the same moment inserted it first.
                if region::Entity::find_by_id(region_code.clone()).one(&db.conn).await?.is_none() {
                    return Err(err.into());
                }
            }
        }
    }
    registry::regions::settle_root(db, Some(&region_code)).await?;
    let generated = bootstrap.admin_password.is_empty();
    let password = if generated { auth::random_password() } else { bootstrap.admin_password.clone() };
    let created = registry::users::create(
        db,
        &Actor::CLI,
        registry::users::NewUser {
            username: bootstrap.admin_username.clone(),
            name: "管理员".into(),
            password: password.clone(),
            phone: None,
            email: None,
            roles: vec![(Role::Admin, region_code)],
        },
    )
    .await;
    if let Err(err) = created {
        // Another process starting at the same moment made the first administrator.
        if app_user::Entity::find().count(&db.conn).await? > 0 {
            return Ok(());
        }
        return Err(err.into());
    }
    if generated {
        // Printed once, on the console of whoever started the server; never logged.
        println!(
            "First administrator: {} / {}  (set JINGZHUN__BOOTSTRAP__ADMIN_PASSWORD to choose it)",
            bootstrap.admin_username, password
        );
    }
    Ok(())
}
