//! Gates for heavy work (parsing an uploaded spreadsheet, a whole-region report): a few
//! jobs run at once, the next ones wait a bounded time, then are told the server is busy.
//!
//! A gate never queues without bound: a burst of large uploads or reports cannot hold
//! every worker, connection and megabyte, and the phones keep being served.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// No slot came free in time: answered 503 `busy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server is busy with other work of this kind")]
pub struct Busy;

#[derive(Debug, Clone)]
pub struct Gate {
    slots: Arc<Semaphore>,
    wait: Duration,
}

impl Gate {
    /// `concurrency` jobs at once (at least one); a job waits at most `wait` for a slot.
    pub fn new(concurrency: usize, wait: Duration) -> Gate {
        Gate { slots: Arc::new(Semaphore::new(concurrency.max(1))), wait }
    }

    /// A slot, held until the returned permit is dropped.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, Busy> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or (never here) the semaphore was closed.
            _ => Err(Busy),
        }
    }

    /// Runs CPU-bound `work` on a blocking thread, inside a slot. A panic in `work` is
    /// returned as `Err(Some(message))`, never taken down with the process.
    pub async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, GateError> {
        let permit = self.enter().await?;
        let joined = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await;
        joined.map_err(|err| GateError::Failed(err.to_string()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error(transparent)]
    Busy(#[from] Busy),
    /// The work panicked (a bug, logged as a 500), or the runtime is shutting down.
    #[error("the work failed: {0}")]
    Failed(String),
}

/// The gates one server process shares.
#[derive(Debug, Clone)]
pub struct Gates {
    /// Uploaded spreadsheets being parsed (department lists, imports).
    pub parsing: Gate,
    /// Whole-region reports and quality checks.
    pub reports: Gate,
}

impl Gates {
    pub fn from_config(config: &crate::Config) -> Gates {
        Gates {
            parsing: Gate::new(config.uploads.parse_concurrency, Duration::from_secs(config.uploads.busy_wait_secs)),
            reports: Gate::new(config.reports.concurrency, Duration::from_secs(config.reports.busy_wait_secs)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_answers_busy_after_its_wait() {
        let gate = Gate::new(1, Duration::from_millis(20));
        let held = gate.enter().await.expect("first slot");
        assert_eq!(gate.enter().await.err(), Some(Busy));
        drop(held);
        assert!(gate.enter().await.is_ok(), "free again");
    }

    #[tokio::test]
    async fn a_panic_in_blocking_work_is_an_error_not_a_crash() {
        let gate = Gate::new(1, Duration::from_millis(20));
        let outcome = gate.run_blocking(|| -> u8 { panic!("bug") }).await;
        assert!(matches!(outcome, Err(GateError::Failed(_))));
        assert_eq!(gate.run_blocking(|| 7).await.ok(), Some(7), "the slot was given back");
    }
}
