//! Pulling side records (`crate::records::side`): objections to notices (for the village
//! team that investigates them) and campaign progress (for supervisors). Each kind has a
//! loader for the log's upserts and the rows a first pull starts with, both kept by the
//! feature that owns the kind.

use crate::auth::Caller;
use crate::records::side::{CAMPAIGN_PROGRESS, OBJECTION, SideRecord};
use sea_orm::{ConnectionTrait, DbErr};

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
