//! Roles, each scoped to a region, and the region prefixes they cover.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 帮扶责任人: sees and edits the households assigned to them.
    Officer,
    /// 村两委 / 驻村第一书记: the village's households.
    Village,
    Township,
    /// 县扶贫办: runs users, devices, assignments, comparison, reports.
    County,
    /// 督查: reads progress in their region, never edits.
    Supervisor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Officer, Role::Village, Role::Township, Role::County, Role::Supervisor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Village => "village",
            Role::Township => "township",
            Role::County => "county",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role edits household data (supervisors only read).
    pub fn edits_households(self) -> bool {
        !matches!(self, Role::Supervisor)
    }

    /// Whether the role runs accounts, devices and assignments in its region.
    pub fn manages(self) -> bool {
        matches!(self, Role::County | Role::Admin)
    }
}

/// A role over a region. `prefix` is the part of the 12-digit code the region's
/// descendants share (`32` for a province, `320703001` for a township).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub region_code: String,
    pub prefix: String,
}

/// The length of the shared prefix of a region's codes, by level.
pub fn prefix_len(level: &str) -> usize {
    match level {
        "country" => 0,
        "province" => 2,
        "city" => 4,
        "county" => 6,
        "township" => 9,
        _ => 12,
    }
}

/// Levels from the top, as stored in `region.level`.
pub const LEVELS: [&str; 6] = ["province", "city", "county", "township", "village", "natural_village"];
