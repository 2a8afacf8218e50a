//! The phone sync engine (C2, DESIGN §5): push with idempotent all-or-nothing change
//! sets and field-level merge, pull by scope from the change log.
//!
//! A push queues in `group` (group commit: requests arriving together share one
//! transaction, and `group_state` what it reads and holds back), then walks `receipts` (answered before?), then each change through
//! the field catalogue and `entity_rules` (new cases through their procedure), then
//! `receipts` again. `conflicts` keeps what a push could not merge; `status` tells a device where
//! it stands; `side` sends the read-only records other features own.
//!
//! Sync never changes a household's status and never applies a change outside the
//! caller's scope. It sits above the record store and the procedures it calls; nothing
//! below imports it.

pub mod conflicts;
pub mod entity_rules;
pub mod group;
mod group_state;
pub mod pull;
pub mod push;
pub mod receipts;
pub mod side;
pub mod status;

use crate::auth::Caller;
use crate::db::Db;
use crate::error::{Kind, Refusal};
use jingzhun_mobile_api::errors::ErrorCode;

/// Compacts the change log now (the server does it hourly by itself): rows older than
/// `older_than_seconds` go, and a phone whose cursor is older starts over. Deployment-
/// wide, so the root administrator's alone. Answers how many rows went.
pub async fn compact(db: &Db, caller: &Caller, older_than_seconds: i64) -> Result<u64, Refusal> {
    if !caller.is_root_admin() {
        return Err(Refusal::new(Kind::Forbidden, ErrorCode::RootAdminRequired));
    }
    // Rows older than a century are rows older than anything kept: a larger age asks for
    // nothing more, and left unclamped it overflows the date arithmetic.
    const CENTURY_SECONDS: i64 = 100 * 366 * 24 * 3600;
    let cutoff = chrono::Utc::now() - chrono::Duration::seconds(older_than_seconds.clamp(0, CENTURY_SECONDS));
    Ok(crate::records::changelog::compact(db, cutoff).await?)
}
