//! Objections (异议 / 举报) to a published notice.

use crate::auth::Caller;
use crate::sync::side::SideRecord;
use sea_orm::{ConnectionTrait, DbErr};

/// Objections as phones pull them.
pub async fn pull_records(_conn: &impl ConnectionTrait, _ids: &[String]) -> Result<Vec<SideRecord>, DbErr> {
    Ok(Vec::new())
}

/// Open objections in the caller's regions, for a first pull.
pub async fn pull_snapshot(_conn: &impl ConnectionTrait, _caller: &Caller) -> Result<Vec<SideRecord>, DbErr> {
    Ok(Vec::new())
}
