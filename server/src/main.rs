//! The `jingzhun` command: parse, load config, start tracing, then run the subcommand.

use anyhow::Context;
use clap::{Parser, Subcommand};
use jingzhun::auth::Role;
use jingzhun::registry::{self, Actor, devices::RevokeMode};
use jingzhun::{Config, db::Db};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "jingzhun",
    version,
    about = "精准 — registered poor household management server"
)]
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .init();
    let cli = Cli::parse();
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
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    name,
                    password,
                    roles,
                    phone,
                    email,
                },
        } => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let mut parsed = Vec::new();
            for role in roles {
                let (r, region) = role.split_once(':').context("a role is ROLE:REGION_CODE")?;
                parsed.push((
                    Role::parse(r).with_context(|| format!("unknown role {r}"))?,
                    region.to_owned(),
                ));
            }
            let user = registry::users::create(
                &db,
                &Actor::CLI,
                registry::users::NewUser {
                    username,
                    name,
                    password,
                    phone,
                    email,
                    roles: parsed,
                },
            )
            .await?;
            println!("user {} created with id {}", user.username, user.id);
            Ok(())
        }
        Command::Device {
            command: DeviceCommand::Revoke { device_id, mode },
        } => {
            let mode = RevokeMode::parse(&mode).context("mode is drain or wipe")?;
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            registry::devices::revoke(&db, &Actor::CLI, &device_id, mode).await?;
            println!("device {device_id} revoked ({})", mode.as_str());
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
