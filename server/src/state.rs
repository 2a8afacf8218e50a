//! What every request handler shares. A leaf: it names the parts, and nothing below
//! `http` and `app` takes it. Workers and services take the parts they use.

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::gate::Gates;
use crate::imports::job::Jobs;
use crate::metrics::Metrics;
use crate::notices::public::Public;
use crate::sync::group::Pushes;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// "Now" for deadlines and schedules; tests advance it.
    pub clock: Clock,
    /// The public notice pages' form guard and page cache.
    pub notice_pages: Arc<Public>,
    /// Few uploads parsed and reports built at once; the rest wait, then get 503 `busy`.
    pub gates: Gates,
    /// This server's register import jobs and their progress: its own, never another
    /// server's in the same process.
    pub import_jobs: Jobs,
    /// Where pushed change sets queue for group commit.
    pub pushes: Pushes,
}
