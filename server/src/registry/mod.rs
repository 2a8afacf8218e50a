//! Registry services shared by the admin API and the command line: regions, users,
//! devices, assignments, and the household register as the office reads it. Each write
//! is one transaction with its audit entries, and each checks here, not in the handler,
//! that the actor may make it.

pub mod assignments;
pub mod devices;
pub mod households;
pub mod natural_villages;
pub mod regions;
pub mod sessions;
pub mod users;

use jingzhun_mobile_api::errors::ErrorCode;

/// The registry's services are signed by an actor: a caller from the API, or the command line.
pub use crate::audit::Actor;

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
