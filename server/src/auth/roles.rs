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
    /// 动态管理工作核查组 (002 §三(一)): drawn from the county's departments, granted
    /// township by township ("阿子营（含松华）工作核查组负责阿子营、松华街道"); investigates
    /// and answers the objections to a village notice (002 §三(七): 若有举报，由动态管理
    /// 工作核查组组织调查核实), so the village team never judges objections to its own
    /// list. Reads its townships' households, never edits them.
    Verifier,
    /// 县扶贫办: runs users, devices, assignments, comparison, reports.
    County,
    /// 督查: reads progress in their region, never edits.
    Supervisor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] =
        [Role::Officer, Role::Village, Role::Township, Role::Verifier, Role::County, Role::Supervisor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Village => "village",
            Role::Township => "township",
            Role::Verifier => "verifier",
            Role::County => "county",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role edits household data (supervisors only read; the 核查组 judges
    /// what others recorded, and an upheld objection sends the case back to them).
    pub fn edits_households(self) -> bool {
        !matches!(self, Role::Supervisor | Role::Verifier)
    }

    /// Whether the role runs accounts, devices and assignments in its region.
    pub fn manages(self) -> bool {
        matches!(self, Role::County | Role::Admin)
    }

    /// Rank for granting: a manager grants only roles of a lower rank. A supervisor
    /// reads a region as a township does and never edits, so it ranks with township; so
    /// does the 核查组, which the county office sets up (002 §三(一): 由区农林局具体负责).
    pub fn rank(self) -> u8 {
        match self {
            Role::Officer => 1,
            Role::Village => 2,
            Role::Township | Role::Supervisor | Role::Verifier => 3,
            Role::County => 4,
            Role::Admin => 5,
        }
    }

    /// The region level a role must be granted at, where the role is tied to one
    /// (a village team works a village; a county office a county).
    pub fn required_level(self) -> Option<&'static str> {
        match self {
            Role::Village => Some("village"),
            Role::Township | Role::Verifier => Some("township"),
            Role::County => Some("county"),
            Role::Officer | Role::Supervisor | Role::Admin => None,
        }
    }
}

/// A role over a region. `prefix` is the part of the 12-digit code the region's
/// descendants share (`32` for a province, `320703001` for a township), taken from the
/// code itself, never from a stored level a caller could have chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub region_code: String,
    pub prefix: String,
    /// The grant's region is the deployment's root (`deployment_root`, written at
    /// bootstrap): an `admin` here may act deployment-wide (templates, compaction).
    pub at_root: bool,
}

impl Grant {
    pub fn new(role: Role, region_code: String, at_root: bool) -> Grant {
        Grant { role, prefix: region_prefix(&region_code).to_owned(), region_code, at_root }
    }

    /// Whether this grant lets its holder give `role` over `region_code`: a managing
    /// grant over the region, a strictly lower role (a root administrator may give any).
    pub fn may_grant(&self, role: Role, region_code: &str) -> bool {
        self.role.manages()
            && region_code.starts_with(&self.prefix)
            && (role.rank() < self.role.rank() || (self.role == Role::Admin && self.at_root))
    }
}

/// A region's level, read from its 12-digit code (GB/T 2260 plus the township and
/// village digits): `320000000000` a province, `320703001001` a village.
pub fn level_of_code(code: &str) -> Option<&'static str> {
    if code.len() != 12 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let zeros_from = |i: usize| code[i..].bytes().all(|b| b == b'0');
    Some(if zeros_from(0) {
        "country"
    } else if zeros_from(2) {
        "province"
    } else if zeros_from(4) {
        "city"
    } else if zeros_from(6) {
        "county"
    } else if zeros_from(9) {
        "township"
    } else {
        "village"
    })
}

/// The prefix a region's descendants share, from its code alone. A code that is not
/// 12 digits covers only itself.
pub fn region_prefix(code: &str) -> &str {
    match level_of_code(code) {
        Some(level) => &code[..prefix_len(level)],
        None => code,
    }
}

/// The code of the region directly above, from the code alone (None for the country).
pub fn parent_code_of(code: &str) -> Option<String> {
    let keep = match level_of_code(code)? {
        "country" => return None,
        "province" => 0,
        "city" => 2,
        "county" => 4,
        "township" => 6,
        _ => 9,
    };
    Some(format!("{:0<12}", &code[..keep]))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_prefixes_follow_the_code() {
        assert_eq!(level_of_code("000000000000"), Some("country"));
        assert_eq!(level_of_code("320000000000"), Some("province"));
        assert_eq!(level_of_code("320700000000"), Some("city"));
        assert_eq!(level_of_code("320703000000"), Some("county"));
        assert_eq!(level_of_code("320703001000"), Some("township"));
        assert_eq!(level_of_code("320703001001"), Some("village"));
        // The C1 region: whatever level it was stored with, it covers itself alone.
        assert_eq!(level_of_code("320703999999"), Some("village"));
        assert_eq!(region_prefix("320703999999"), "320703999999");
        assert_eq!(region_prefix("320703000000"), "320703");
        assert_eq!(region_prefix("000000000000"), "");
        assert_eq!(level_of_code("32070300000"), None);
        assert_eq!(level_of_code("32070300000x"), None);
        assert_eq!(parent_code_of("320703001001").as_deref(), Some("320703001000"));
        assert_eq!(parent_code_of("320703001000").as_deref(), Some("320703000000"));
        assert_eq!(parent_code_of("320703000000").as_deref(), Some("320700000000"));
        assert_eq!(parent_code_of("320000000000").as_deref(), Some("000000000000"));
        assert_eq!(parent_code_of("000000000000"), None);
    }

    #[test]
    fn managers_grant_only_lower_roles_inside_their_region() {
        let county = Grant::new(Role::County, "320703000000".into(), false);
        assert!(county.may_grant(Role::Officer, "320703001000"));
        assert!(county.may_grant(Role::Township, "320703001000"));
        assert!(!county.may_grant(Role::County, "320703000000"));
        assert!(!county.may_grant(Role::Admin, "320703000000"));
        assert!(!county.may_grant(Role::Officer, "320704001000"));
        let province_admin = Grant::new(Role::Admin, "320000000000".into(), false);
        assert!(province_admin.may_grant(Role::County, "320703000000"));
        assert!(!province_admin.may_grant(Role::Admin, "320703000000"));
        let root = Grant::new(Role::Admin, "000000000000".into(), true);
        assert!(root.may_grant(Role::Admin, "320000000000"));
        let township = Grant::new(Role::Township, "320703001000".into(), false);
        assert!(!township.may_grant(Role::Officer, "320703001000"), "only managers grant");
        assert!(county.may_grant(Role::Verifier, "320703001000"), "the county sets up the 核查组");
        let verifier = Grant::new(Role::Verifier, "320703001000".into(), false);
        assert!(!verifier.may_grant(Role::Village, "320703001001"), "the 核查组 grants nothing");
        assert!(!Role::Verifier.edits_households());
        assert_eq!(Role::parse("verifier"), Some(Role::Verifier));
    }
}
