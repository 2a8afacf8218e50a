//! Regions: province → city → county → township → village, with 12-digit codes.

use super::{Actor, RegistryError};
use crate::audit;
use crate::auth::Caller;
use crate::auth::roles::{level_of_code, parent_code_of};
use crate::db::Db;
use crate::db::entities::region;
use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect,
};

pub struct NewRegion {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
}

/// Regions by code, or the children of one (at most 10,000): any signed-in user may read
/// the tree.
pub async fn list(
    conn: &impl ConnectionTrait,
    parent_code: Option<String>,
) -> Result<Vec<region::Model>, sea_orm::DbErr> {
    let mut query = region::Entity::find().order_by_asc(region::Column::Code);
    if let Some(parent) = parent_code {
        query = query.filter(region::Column::ParentCode.eq(parent));
    }
    query.limit(10_000).all(conn).await
}

/// A village a phone may file a household in, with its township's name for the picker.
#[derive(Debug, Clone, PartialEq, FromQueryResult, serde::Serialize, utoipa::ToSchema)]
pub struct Village {
    pub code: String,
    pub name: String,
    pub township: Option<String>,
}

/// The villages inside the regions of the caller's roles that edit households (an
/// officer's township, a village team's village), by code, at most 10,000: what the
/// officer app offers for a new household's 所在村, which the server then checks again.
pub async fn villages_in_scope(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<Village>, sea_orm::DbErr> {
    let prefixes: Vec<&str> =
        caller.grants.iter().filter(|g| g.role.edits_households()).map(|g| g.prefix.as_str()).collect();
    if prefixes.is_empty() {
        return Ok(Vec::new());
    }
    // Prefixes are the digits of a region code: nothing in them LIKE reads as a wildcard.
    let values: Vec<sea_orm::Value> = prefixes.iter().map(|p| format!("{p}%").into()).collect();
    let sql = format!(
        "SELECT v.code AS code, v.name AS name, t.name AS township FROM region v \
         LEFT JOIN region t ON t.code = v.parent_code \
         WHERE v.level = 'village' AND ({}) ORDER BY v.code LIMIT 10000",
        vec!["v.code LIKE ?"; values.len()].join(" OR ")
    );
    Village::find_by_statement(crate::db::sql(conn.get_database_backend(), &sql, values)).all(conn).await
}

/// Adds a region under an existing parent the actor manages. The level and the parent
/// follow from the code (`320703001000` is a township under `320703000000`); a stated
/// level or parent that disagrees is refused, so no one can make a region that covers
/// more than its code says.
pub async fn create(db: &Db, actor: &Actor, mut new: NewRegion) -> Result<region::Model, RegistryError> {
    let Some(level) = level_of_code(&new.code) else {
        return Err(RegistryError::Rejected(ErrorCode::RegionCodeLevel));
    };
    let Some(parent_code) = parent_code_of(&new.code) else {
        // The country is made once, at bootstrap.
        return Err(RegistryError::Rejected(ErrorCode::RegionCodeLevel));
    };
    if new.level != level || new.parent_code.as_ref().is_some_and(|p| *p != parent_code) {
        return Err(RegistryError::Rejected(ErrorCode::RegionCodeLevel));
    }
    if new.name.trim().is_empty() || new.name.chars().count() > 100 {
        return Err(RegistryError::Invalid("region name is required (at most 100 characters)"));
    }
    if !actor.manages_region(&parent_code) {
        return Err(RegistryError::Forbidden(ErrorCode::Forbidden));
    }
    let txn = db.begin_write().await?;
    if region::Entity::find_by_id(new.code.clone()).one(&*txn).await?.is_some() {
        return Err(RegistryError::AlreadyExists);
    }
    if region::Entity::find_by_id(parent_code.clone()).one(&*txn).await?.is_none() {
        return Err(RegistryError::Rejected(ErrorCode::RegionCodeLevel));
    }
    new.parent_code = Some(parent_code);
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

/// Records the deployment's root region once (the one whose administrator acts
/// deployment-wide): `code`, or with none the region of the first administrator ever
/// granted. Later calls change nothing, so processes may race.
pub async fn settle_root(db: &Db, code: Option<&str>) -> Result<(), sea_orm::DbErr> {
    let txn = db.begin_write().await?;
    let (text, values) = match code {
        Some(code) => (
            "INSERT INTO deployment_root (region_code) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM deployment_root) \
             ON CONFLICT (region_code) DO NOTHING",
            vec![code.into()],
        ),
        None => (
            "INSERT INTO deployment_root (region_code) SELECT region_code FROM \
             (SELECT region_code FROM role_grant WHERE role = 'admin' ORDER BY created_at, id LIMIT 1) first_admin \
             WHERE NOT EXISTS (SELECT 1 FROM deployment_root) ON CONFLICT (region_code) DO NOTHING",
            vec![],
        ),
    };
    txn.execute_raw(crate::db::sql(txn.get_database_backend(), text, values)).await?;
    txn.commit().await
}
