//! Entities phones pull that are not household records from the field catalogue:
//! objections to notices (for the village team that investigates them) and campaign
//! progress (for supervisors). They are read-only on the phone. Each kind has a name,
//! a loader for the log's upserts and the rows a first pull starts with.

use crate::auth::Caller;
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value as Json;

/// An objection to a notice, with its answer deadline (written by `crate::notices`).
pub const OBJECTION: &str = "objection";
/// A campaign's progress over a region (written by `crate::campaigns`).
pub const CAMPAIGN_PROGRESS: &str = "campaign_progress";

/// One pulled side record: id, version, data.
pub struct SideRecord {
    pub id: String,
    pub version: i64,
    pub data: Json,
}

pub fn is_side(entity: &str) -> bool {
    matches!(entity, OBJECTION | CAMPAIGN_PROGRESS)
}

/// The current state of these records of one side entity.
pub async fn load(conn: &impl ConnectionTrait, entity: &str, ids: &[String]) -> Result<Vec<SideRecord>, DbErr> {
    match entity {
        OBJECTION => crate::notices::objections::pull_records(conn, ids).await,
        CAMPAIGN_PROGRESS => crate::campaigns::pull::pull_records(conn, ids).await,
        _ => Ok(Vec::new()),
    }
}

/// What a first pull holds of each side entity for this caller.
pub async fn snapshot(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<(&'static str, SideRecord)>, DbErr> {
    let mut out = Vec::new();
    for record in crate::notices::objections::pull_snapshot(conn, caller).await? {
        out.push((OBJECTION, record));
    }
    for record in crate::campaigns::pull::pull_snapshot(conn, caller).await? {
        out.push((CAMPAIGN_PROGRESS, record));
    }
    Ok(out)
}
