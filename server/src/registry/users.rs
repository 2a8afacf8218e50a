//! Users and their region-scoped roles.

use super::{Actor, RegistryError};
use crate::audit;
use crate::auth::{self, Role};
use crate::db::Db;
use crate::db::entities::{app_user, region, role_grant};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub struct NewUser {
    pub username: String,
    pub name: String,
    pub password: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub roles: Vec<(Role, String)>,
}

pub async fn create(db: &Db, actor: &Actor, new: NewUser) -> Result<app_user::Model, RegistryError> {
    let username = new.username.trim().to_owned();
    if username.is_empty() || username.len() > 64 {
        return Err(RegistryError::Invalid("username must be 1–64 characters"));
    }
    if new.password.chars().count() < 8 {
        return Err(RegistryError::Invalid("password must have at least 8 characters"));
    }
    let password = new.password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| RegistryError::Invalid("could not hash the password"))?
        .map_err(|_| RegistryError::Invalid("could not hash the password"))?;
    let txn = db.begin_write().await?;
    if app_user::Entity::find().filter(app_user::Column::Username.eq(&username)).one(&*txn).await?.is_some() {
        return Err(RegistryError::AlreadyExists);
    }
    let user =
        insert(&*txn, NewUserRow { username, name: new.name, password_hash: hash, phone: new.phone, email: new.email })
            .await?;
    let mut entry = actor.audit("create", "user", &user.id);
    entry.new_value = Some(user.username.clone());
    let mut entries = vec![entry];
    for (role, region_code) in &new.roles {
        if region::Entity::find_by_id(region_code.clone()).one(&*txn).await?.is_none() {
            return Err(RegistryError::Invalid("role region does not exist"));
        }
        grant(&*txn, &user.id, *role, region_code).await?;
        let mut entry = actor.audit("grant_role", "user", &user.id);
        entry.new_value = Some(format!("{} {region_code}", role.as_str()));
        entries.push(entry);
    }
    audit::record(&*txn, &entries).await?;
    txn.commit().await?;
    Ok(user)
}

pub struct NewUserRow {
    pub username: String,
    pub name: String,
    pub password_hash: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Inserts a user row with an already computed hash (bulk loading shares one hash).
pub async fn insert(conn: &impl ConnectionTrait, row: NewUserRow) -> Result<app_user::Model, sea_orm::DbErr> {
    app_user::ActiveModel {
        id: Set(Uuid::new_v4().to_string()),
        username: Set(row.username),
        name: Set(row.name),
        phone: Set(row.phone),
        email: Set(row.email),
        password_hash: Set(row.password_hash),
        active: Set(true),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await
}

pub async fn grant(
    conn: &impl ConnectionTrait,
    user_id: &str,
    role: Role,
    region_code: &str,
) -> Result<(), sea_orm::DbErr> {
    role_grant::ActiveModel {
        id: Set(Uuid::new_v4().to_string()),
        user_id: Set(user_id.to_owned()),
        role: Set(role.as_str().to_owned()),
        region_code: Set(region_code.to_owned()),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await
    .map(|_| ())
}

pub async fn add_role(
    db: &Db,
    actor: &Actor,
    user_id: &str,
    role: Role,
    region_code: &str,
) -> Result<(), RegistryError> {
    let txn = db.begin_write().await?;
    if app_user::Entity::find_by_id(user_id.to_owned()).one(&*txn).await?.is_none() {
        return Err(RegistryError::NotFound);
    }
    if region::Entity::find_by_id(region_code.to_owned()).one(&*txn).await?.is_none() {
        return Err(RegistryError::Invalid("role region does not exist"));
    }
    grant(&*txn, user_id, role, region_code).await.map_err(|e| {
        if crate::db::is_unique_violation(&e) { RegistryError::AlreadyExists } else { RegistryError::Db(e) }
    })?;
    let mut entry = actor.audit("grant_role", "user", user_id);
    entry.new_value = Some(format!("{} {region_code}", role.as_str()));
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}
