//! A user's devices and their revocation: `drain` lets a retired phone push what it
//! still holds and then tells it to wipe; `wipe` (a lost or stolen phone) accepts
//! nothing more. Only who manages the device's user sees or revokes it, in the console's
//! table ([`summaries`]) as one user at a time.

use super::{Actor, RegistryError};
use crate::audit;
use crate::auth::Role;
use crate::db::entities::{access_token, device};
use crate::db::page::Page;
use crate::db::{Db, Paging, count, like_pattern, placeholders, sql};
use chrono::Utc;
use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    sea_query::Expr,
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

/// Which devices the console's table shows.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct DeviceFilter {
    /// `active` (not revoked), `revoked`, or all when absent.
    pub status: Option<String>,
    /// Part of the user's name or username.
    pub q: Option<String>,
    /// From 1.
    pub page: Option<u64>,
    /// 20 unless asked, at most 200.
    pub per_page: Option<u64>,
}

/// One device in the table, with its user and when it last signed in and pushed.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, FromQueryResult)]
pub struct DeviceSummary {
    pub id: String,
    pub name: String,
    pub user_id: String,
    pub username: String,
    pub user_name: String,
    /// `drain` or `wipe` once revoked.
    pub revoked_mode: Option<String>,
    pub revoked_at: Option<chrono::DateTime<Utc>>,
    /// The last sign-in from the device.
    pub last_seen_at: Option<chrono::DateTime<Utc>>,
    /// The last change set the device pushed (its last upload).
    pub last_push_at: Option<chrono::DateTime<Utc>>,
}

/// [`Actor::manages_user`] as SQL over the user in `user_col`, so the table is scoped,
/// counted and paged by the database: every grant the user holds lies under a region
/// the actor manages at a higher rank (any rank for the root administrator), and a user
/// with no grant left is the root administrator's alone. A role the server does not
/// know is covered by no rank, as `manages_user` never sees it.
fn managed_users_condition(actor: &Actor, user_col: &str) -> (String, Vec<sea_orm::Value>) {
    let Some(caller) = actor.caller() else { return ("1 = 1".to_owned(), Vec::new()) };
    let mut covers = Vec::new();
    let mut values: Vec<sea_orm::Value> = Vec::new();
    for g in caller.grants.iter().filter(|g| g.role.manages()) {
        let prefix = format!("{}%", g.prefix);
        if g.role == Role::Admin && g.at_root {
            covers.push("x.region_code LIKE ?".to_owned());
            values.push(prefix.into());
        } else {
            let below: Vec<&str> =
                Role::ALL.into_iter().filter(|r| r.rank() < g.role.rank()).map(Role::as_str).collect();
            covers.push(format!("(x.region_code LIKE ? AND x.role IN ({}))", placeholders(below.len())));
            values.push(prefix.into());
            values.extend(below.into_iter().map(sea_orm::Value::from));
        }
    }
    if covers.is_empty() {
        return ("1 = 0".to_owned(), Vec::new());
    }
    let mut cond = format!(
        "NOT EXISTS (SELECT 1 FROM role_grant x WHERE x.user_id = {user_col} AND NOT ({}))",
        covers.join(" OR ")
    );
    if !caller.is_root_admin() {
        cond.push_str(&format!(" AND EXISTS (SELECT 1 FROM role_grant x WHERE x.user_id = {user_col})"));
    }
    (cond, values)
}

/// Devices of the users the actor manages (the rule of [`list`] and [`revoke`]), the
/// most recently seen first, a page at a time with the total: scope, count and page in
/// SQL under one WHERE, so the total is every device in scope however many there are.
pub async fn summaries(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    filter: DeviceFilter,
) -> Result<Page<DeviceSummary>, RegistryError> {
    if !actor.manages_any_region() {
        return Err(RegistryError::Forbidden(ErrorCode::Forbidden));
    }
    let backend = conn.get_database_backend();
    let (scope, mut values) = managed_users_condition(actor, "d.user_id");
    let mut wheres = vec![scope];
    match filter.status.as_deref().unwrap_or("") {
        "" => {}
        "active" => wheres.push("d.revoked_at IS NULL".into()),
        "revoked" => wheres.push("d.revoked_at IS NOT NULL".into()),
        _ => return Err(RegistryError::Invalid("status is active or revoked")),
    }
    if let Some(q) = filter.q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()) {
        // LOWER on both sides: PostgreSQL's LIKE is case-sensitive, SQLite's is not for
        // ASCII, and `Officer` must find officer-a on both.
        wheres.push("(LOWER(u.name) LIKE LOWER(?) ESCAPE '\\' OR LOWER(u.username) LIKE LOWER(?) ESCAPE '\\')".into());
        let pattern = like_pattern(&q);
        values.extend([pattern.clone().into(), pattern.into()]);
    }
    let where_text = wheres.join(" AND ");
    let total = count(
        conn,
        &format!("SELECT COUNT(*) AS n FROM device d JOIN app_user u ON u.id = d.user_id WHERE {where_text}"),
        values.clone(),
    )
    .await?;
    let paging = Paging::new(filter.page, filter.per_page, 20);
    values.extend(paging.limit_offset());
    let items = DeviceSummary::find_by_statement(sql(
        backend,
        &format!(
            "SELECT d.id, d.name, d.user_id, u.username, u.name AS user_name, d.revoked_mode, d.revoked_at, d.last_seen_at, \
             (SELECT MAX(r.received_at) FROM changeset_receipt r WHERE r.device_id = d.id) AS last_push_at \
             FROM device d JOIN app_user u ON u.id = d.user_id WHERE {where_text} \
             ORDER BY CASE WHEN d.last_seen_at IS NULL THEN 1 ELSE 0 END, d.last_seen_at DESC, d.id LIMIT ? OFFSET ?"
        ),
        values,
    ))
    .all(conn)
    .await?;
    Ok(Page { total, page: paging.page, per_page: paging.per_page, items })
}
