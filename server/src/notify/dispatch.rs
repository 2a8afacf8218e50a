//! Runs the notifier's outbox dispatcher inside the server, on the server's clock.
//!
//! It never decides anything itself: claiming, policy and retries live in
//! `jingzhun_notifier::outbox`. This module only builds it from the `[notify]` section.

use std::time::Duration;

use jingzhun_notifier::outbox::Dispatcher;

use crate::app::AppState;

/// The dispatcher of this process, from its configuration.
pub fn dispatcher(state: &AppState) -> anyhow::Result<Dispatcher> {
    let config = &state.config.notify;
    Ok(Dispatcher::new(state.db.conn.clone(), config.channels()?, config.policy()?))
}

/// Dispatches until the task is aborted (the server aborts it on shutdown).
pub async fn run_until_stopped(state: AppState) {
    if !state.config.notify.dispatcher_enabled {
        return;
    }
    let dispatcher = match dispatcher(&state) {
        Ok(dispatcher) => dispatcher,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "notification dispatcher not started");
            return;
        }
    };
    let clock = state.clock.clone();
    let interval = Duration::from_secs(state.config.notify.dispatcher_interval_secs.max(1));
    jingzhun_notifier::outbox::run_until_stopped(dispatcher, move || clock.now(), interval, std::future::pending())
        .await;
}
