//! A user's devices and their revocation: `drain` lets a retired phone push what it
//! still holds and then tells it to wipe; `wipe` (a lost or stolen phone) accepts
//! nothing more. Only who manages the device's user sees or revokes it.

use super::{Actor, RegistryError};
use crate::audit;
use crate::db::Db;
use crate::db::entities::{access_token, device};
use chrono::Utc;
use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevokeMode {
    Drain,
    Wipe,
}

impl RevokeMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeMode::Drain => "drain",
            RevokeMode::Wipe => "wipe",
        }
    }
    pub fn parse(s: &str) -> Option<RevokeMode> {
        match s {
            "drain" => Some(RevokeMode::Drain),
            "wipe" => Some(RevokeMode::Wipe),
            _ => None,
        }
    }
}

/// The registry's rule for a user's devices: the user wholly inside the actor's region,
/// below the actor's rank.
async fn require_user_managed(conn: &impl ConnectionTrait, actor: &Actor, user_id: &str) -> Result<(), RegistryError> {
    let grants = super::users::grants(conn, user_id).await?;
    if actor.manages_user(&grants) { Ok(()) } else { Err(RegistryError::Forbidden(ErrorCode::Forbidden)) }
}

/// A user's devices.
pub async fn list(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    user_id: &str,
) -> Result<Vec<device::Model>, RegistryError> {
    require_user_managed(conn, actor, user_id).await?;
    Ok(device::Entity::find().filter(device::Column::UserId.eq(user_id)).all(conn).await?)
}

pub async fn revoke(db: &Db, actor: &Actor, device_id: &str, mode: RevokeMode) -> Result<device::Model, RegistryError> {
    let txn = db.begin_write().await?;
    let existing = device::Entity::find_by_id(device_id.to_owned()).one(&*txn).await?.ok_or(RegistryError::NotFound)?;
    require_user_managed(&*txn, actor, &existing.user_id).await?;
    let now = Utc::now();
    let mut model: device::ActiveModel = existing.into();
    model.revoked_mode = Set(Some(mode.as_str().to_owned()));
    model.revoked_at = Set(Some(now));
    model.revoked_by = Set(actor.user_id.clone());
    let updated = model.update(&*txn).await?;
    if mode == RevokeMode::Wipe {
        access_token::Entity::update_many()
            .col_expr(access_token::Column::RevokedAt, Expr::value(now))
            .filter(access_token::Column::DeviceId.eq(device_id))
            .filter(access_token::Column::RevokedAt.is_null())
            .exec(&*txn)
            .await?;
    }
    let mut entry = actor.audit("revoke_device", "device", device_id);
    entry.new_value = Some(mode.as_str().to_owned());
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(updated)
}
