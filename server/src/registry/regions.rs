//! Regions: province → city → county → township → village, with 12-digit codes.

use super::{Actor, RegistryError};
use crate::audit;
use crate::auth::roles::LEVELS;
use crate::db::Db;
use crate::db::entities::region;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};

pub struct NewRegion {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
}

pub async fn create(db: &Db, actor: &Actor, new: NewRegion) -> Result<region::Model, RegistryError> {
    if new.code.len() != 12 || !new.code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RegistryError::Invalid("region code must be 12 digits"));
    }
    if !LEVELS.contains(&new.level.as_str()) {
        return Err(RegistryError::Invalid("unknown region level"));
    }
    if new.name.trim().is_empty() {
        return Err(RegistryError::Invalid("region name is required"));
    }
    let txn = db.begin_write().await?;
    if region::Entity::find_by_id(new.code.clone()).one(&*txn).await?.is_some() {
        return Err(RegistryError::AlreadyExists);
    }
    if let Some(parent) = &new.parent_code
        && region::Entity::find_by_id(parent.clone()).one(&*txn).await?.is_none()
    {
        return Err(RegistryError::Invalid("parent region does not exist"));
    }
    let model = insert(&*txn, new).await?;
    let mut entry = actor.audit("create", "region", &model.code);
    entry.new_value = Some(format!("{} {} {}", model.level, model.code, model.name));
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(model)
}

/// Inserts without checks, for bulk loading (the demo county) inside a transaction.
pub async fn insert(conn: &impl ConnectionTrait, new: NewRegion) -> Result<region::Model, sea_orm::DbErr> {
    region::ActiveModel {
        code: Set(new.code),
        name: Set(new.name.trim().to_owned()),
        level: Set(new.level),
        parent_code: Set(new.parent_code),
    }
    .insert(conn)
    .await
}
