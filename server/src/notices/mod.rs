//! Public notices (公示 / 公告, C5, R10): gathering cases waiting at a notice step,
//! publishing them frozen and hashed, villagers' objections and their investigation,
//! closing a notice when its period ends, the 村民代表会决议 on a closed village
//! notice's list, and the public pages and QR codes.

pub mod content;
pub mod form_guard;
pub mod notice;
pub mod objections;
pub mod pages;
pub mod period;
pub mod postings;
pub mod public;
pub mod qr;
pub mod resolution;

use crate::clock::Clock;
use crate::db::Db;
use std::future::Future;
use std::time::Duration;

/// Every minute until `shutdown`: close the notices whose period has ended with no open
/// objection, and remind the publishing level of notices ending tomorrow and objections
/// due. A round under way is finished before it stops.
pub async fn run_until_stopped(db: Db, clock: Clock, shutdown: impl Future<Output = ()>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = tick.tick() => {}
        }
        let now = clock.now();
        match notice::close_due(&db, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(notices = n, "closed notices at the end of their period"),
            Err(err) => tracing::error!(%err, "closing notices failed"),
        }
        if let Err(err) = notice::remind(&db, now).await {
            tracing::error!(%err, "notice reminders failed");
        }
    }
}
