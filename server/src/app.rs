//! Wiring: state shared by handlers, start-up (migrations, first administrator), the
//! background maintenance loop, and `serve`, the seam tests start the server through.

use crate::auth::{self, Role};
use crate::config::Config;
use crate::db::Db;
use crate::db::entities::{app_user, region};
use crate::metrics::Metrics;
use crate::registry::{self, Actor};
use anyhow::Context;
use sea_orm::{EntityTrait, PaginatorTrait};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// "Now" for deadlines and schedules; tests advance it.
    pub clock: crate::Clock,
    /// The public notice pages' form guard and page cache.
    pub notice_pages: Arc<crate::http::notice_pages::Public>,
    /// Few uploads parsed and reports built at once; the rest wait, then get 503 `busy`.
    pub gates: crate::gate::Gates,
}

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
    let db = Db::connect_with(&config.database_url, config.max_connections, config.sqlite_synchronous)
        .await
        .context("connecting to the database")?;
    db.migrate().await.context("applying migrations")?;
    bootstrap_admin(&db, &config).await.context("creating the first administrator")?;
    crate::rules::policy::seed_if_empty(&db).await.context("storing the seeded rule variants")?;
    let guard = crate::notices::form_guard::FormGuard::load(&db).await.context("loading the notice form key")?;
    startup.release().await.context("letting the next process start")?;
    Ok(AppState {
        db,
        gates: crate::gate::Gates::from_config(&config),
        config: Arc::new(config),
        metrics: Arc::new(Metrics::new()?),
        clock: crate::Clock::default(),
        notice_pages: Arc::new(crate::http::notice_pages::Public::new(guard)),
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
    let maintenance = tokio::spawn(maintenance_loop(state.clone()));
    let scheduler = tokio::spawn(crate::scheduler::run_until_stopped(state.clone()));
    let notices = tokio::spawn(crate::notices::run_until_stopped(state.clone()));
    let dispatcher = tokio::spawn(crate::notify::dispatch::run_until_stopped(state.clone()));
    tracing::info!(addr = %listener.local_addr()?, "serving");
    // The peer address feeds the public objection form's per-sender limits.
    let app = crate::http::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    maintenance.abort();
    scheduler.abort();
    notices.abort();
    dispatcher.abort();
    result.context("serving HTTP")
}

/// Hourly: compact the change log past the tombstone horizon.
async fn maintenance_loop(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let cutoff = chrono::Utc::now() - chrono::Duration::days(state.config.sync.tombstone_days);
        match crate::records::changelog::compact(&state.db, cutoff).await {
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
