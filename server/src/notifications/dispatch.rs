//! Runs the notifier's outbox dispatcher inside the server, on the server's clock.
//!
//! It never decides anything itself: claiming, policy and retries live in
//! `jingzhun_notifier::outbox`. This module only builds it from the `[notify]` section.

use std::future::Future;
use std::time::Duration;

use jingzhun_notifier::config::NotifyConfig;
use jingzhun_notifier::outbox::Dispatcher;

use crate::clock::Clock;
use crate::db::Db;

/// The dispatcher of this process, from its configuration. It writes through `db`, so
/// on SQLite it takes the same writer slot as every other write of the server.
pub fn dispatcher(db: &Db, config: &NotifyConfig) -> anyhow::Result<Dispatcher> {
    Ok(Dispatcher::new(db.clone(), config.channels()?, config.policy()?))
}

/// Dispatches until `shutdown` resolves; a batch being sent is finished first.
pub async fn run_until_stopped(db: Db, clock: Clock, config: NotifyConfig, shutdown: impl Future<Output = ()> + Send) {
    if !config.dispatcher_enabled {
        return;
    }
    let dispatcher = match dispatcher(&db, &config) {
        Ok(dispatcher) => dispatcher,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "notification dispatcher not started");
            return;
        }
    };
    let interval = Duration::from_secs(config.dispatcher_interval_secs.max(1));
    jingzhun_notifier::outbox::run_until_stopped(dispatcher, move || clock.now(), interval, shutdown).await;
}
