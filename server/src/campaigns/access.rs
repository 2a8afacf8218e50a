//! Who reads a campaign: supervisors, township and county teams and administrators,
//! over the campaign's region, above it, or inside it (a township team reads its
//! county's campaign, and its own townships' lines of the progress). Who runs one is
//! checked by each write in `super::campaign`.
//!
//! What this module must never do: write, or answer in HTTP terms; it refuses with a
//! [`CampaignError`].

use super::campaign::{self, Campaign, CampaignError};
use super::progress::{self, ProgressView};
use crate::auth::{Caller, Role};
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbErr};

/// Roles that read campaigns in their region.
const READ_ROLES: [Role; 4] = [Role::Supervisor, Role::Township, Role::County, Role::Admin];

/// The caller's grants among the reading roles, as (region code, prefix).
fn read_grants(caller: &Caller) -> Vec<(&str, &str)> {
    caller
        .grants
        .iter()
        .filter(|g| READ_ROLES.contains(&g.role))
        .map(|g| (g.region_code.as_str(), g.prefix.as_str()))
        .collect()
}

/// The prefixes of the regions whose progress lines the caller reads.
pub fn read_prefixes(caller: &Caller) -> Vec<&str> {
    read_grants(caller).into_iter().map(|(_, prefix)| prefix).collect()
}

/// A campaign is visible to a reading role over its region, above it, or inside it.
async fn may_read(conn: &impl ConnectionTrait, caller: &Caller, campaign: &Campaign) -> Result<bool, DbErr> {
    let grants = read_grants(caller);
    if grants.iter().any(|(_, prefix)| campaign.region_code.starts_with(prefix)) {
        return Ok(true);
    }
    let prefix = campaign_prefix(conn, &campaign.region_code).await?;
    Ok(grants.iter().any(|(code, _)| code.starts_with(&prefix)))
}

/// The prefix of the region codes inside the campaign's region.
async fn campaign_prefix(conn: &impl ConnectionTrait, region_code: &str) -> Result<String, DbErr> {
    let level = progress::region(conn, region_code).await?.map(|r| r.level).unwrap_or_default();
    Ok(region_code[..crate::auth::roles::prefix_len(&level).min(region_code.len())].to_owned())
}

/// The campaigns the caller reads.
pub async fn visible(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<Campaign>, DbErr> {
    let mut out = Vec::new();
    for c in campaign::all(conn).await? {
        if may_read(conn, caller, &c).await? {
            out.push(c);
        }
    }
    Ok(out)
}

/// The campaign, if the caller reads it.
pub async fn readable(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> Result<Campaign, CampaignError> {
    let campaign = campaign::get(conn, id).await?.ok_or(CampaignError::NotFound)?;
    if !may_read(conn, caller, &campaign).await? {
        return Err(CampaignError::Forbidden);
    }
    Ok(campaign)
}

/// The progress of a campaign the caller reads (of all its milestones, or of one by
/// id), held against `on`, with the lines of the regions the caller reads.
pub async fn progress(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: &str,
    milestone_id: Option<&str>,
    on: NaiveDate,
) -> Result<ProgressView, CampaignError> {
    let campaign = readable(conn, caller, id).await?;
    let view = progress::view(conn, &campaign, milestone_id, on, &read_prefixes(caller)).await?;
    view.ok_or(CampaignError::NotFound)
}
