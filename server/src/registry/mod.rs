//! Registry services shared by the admin API and the command line: regions, users,
//! devices, assignments. Each write is one transaction with its audit entries, and each
//! checks here, not in the handler, that the actor may make it.

pub mod assignments;
pub mod devices;
pub mod natural_villages;
pub mod regions;
pub mod users;

use crate::audit::AuditEntry;
use crate::auth::{Caller, Role};
use jingzhun_mobile_api::errors::ErrorCode;

/// Who is acting: a user from the API (whose grants the services check), or the
/// command line (the operator of the machine, trusted).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    caller: Option<Box<Caller>>,
}

impl Actor {
    pub const CLI: Actor = Actor { user_id: None, device_id: None, caller: None };

    pub fn of(caller: &Caller) -> Actor {
        Actor {
            user_id: Some(caller.user_id.clone()),
            device_id: Some(caller.device_id.clone()),
            caller: Some(Box::new(caller.clone())),
        }
    }

    /// The signed-in caller, if the actor is not the command line.
    pub fn caller(&self) -> Option<&Caller> {
        self.caller.as_deref()
    }

    /// Whether the actor runs accounts in this region (the command line runs all).
    pub fn manages_region(&self, region_code: &str) -> bool {
        self.caller().is_none_or(|c| c.manages_region(region_code))
    }

    /// Whether the actor edits households in this region (and so assigns officers there).
    pub fn edits_region(&self, region_code: &str) -> bool {
        self.caller().is_none_or(|c| c.edits_region(region_code))
    }

    /// Whether the actor may give `role` over `region_code`.
    pub fn may_grant(&self, role: Role, region_code: &str) -> bool {
        self.caller().is_none_or(|c| c.may_grant(role, region_code))
    }

    /// Whether the actor may change the account of a user holding these grants.
    pub fn manages_user(&self, their_grants: &[(Role, String)]) -> bool {
        self.caller().is_none_or(|c| c.manages_user(their_grants))
    }

    pub fn audit(&self, action: &str, entity: &str, entity_id: &str) -> AuditEntry {
        AuditEntry {
            user_id: self.user_id.clone(),
            device_id: self.device_id.clone(),
            action: action.to_owned(),
            entity: entity.to_owned(),
            entity_id: entity_id.to_owned(),
            note: self.user_id.is_none().then(|| "command line".to_owned()),
            ..AuditEntry::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    /// The actor may not do this (a role they cannot grant, a user outside their region).
    #[error("refused: {}", .0.code())]
    Forbidden(ErrorCode),
    /// The request breaks a rule of the registry (a region code that does not fit).
    #[error("rejected: {}", .0.code())]
    Rejected(ErrorCode),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl From<RegistryError> for crate::error::Refusal {
    fn from(err: RegistryError) -> Self {
        use crate::error::Refusal;
        match err {
            RegistryError::Invalid(_) => Refusal::invalid(ErrorCode::InvalidRequest),
            RegistryError::NotFound => Refusal::not_found(),
            RegistryError::AlreadyExists => Refusal::conflict(ErrorCode::Conflict),
            RegistryError::Forbidden(code) => Refusal::new(crate::error::Kind::Forbidden, code),
            RegistryError::Rejected(code) => Refusal::new(crate::error::Kind::Rejected, code),
            RegistryError::Db(err) => Refusal::internal(err),
        }
    }
}
