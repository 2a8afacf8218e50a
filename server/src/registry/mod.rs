//! Registry services shared by the admin API and the command line: regions, users,
//! devices, assignments. Each write is one transaction with its audit entries.

pub mod assignments;
pub mod devices;
pub mod regions;
pub mod users;

use crate::audit::AuditEntry;

/// Who is acting: a user from the API, or the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<String>,
    pub device_id: Option<String>,
}

impl Actor {
    pub const CLI: Actor = Actor { user_id: None, device_id: None };

    pub fn of(caller: &crate::auth::Caller) -> Actor {
        Actor { user_id: Some(caller.user_id.clone()), device_id: Some(caller.device_id.clone()) }
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
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl From<RegistryError> for crate::http::error::ApiError {
    fn from(err: RegistryError) -> Self {
        use crate::http::error::ApiError;
        use jingzhun_mobile_api::errors::ErrorCode;
        match err {
            RegistryError::Invalid(_) => ApiError::bad_request(ErrorCode::InvalidRequest),
            RegistryError::NotFound => ApiError::not_found(),
            RegistryError::AlreadyExists => ApiError::conflict(ErrorCode::Conflict),
            RegistryError::Db(err) => ApiError::internal(err),
        }
    }
}
