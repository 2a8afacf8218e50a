//! Device-bound bearer tokens, and `Caller`: who is calling, with their grants. The
//! extractor that makes a `Caller` from a request lives in `http/extract.rs`; nothing
//! here speaks HTTP.

use super::roles::{Grant, Role};
use crate::db::entities::access_token;
use crate::db::{Db, sql};
use crate::error::Refusal;
use base64::Engine;
use chrono::{Duration, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, FromQueryResult};
use sha2::{Digest, Sha256};

/// Who is calling: the user, their grants and the device the token is bound to.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub username: String,
    pub name: String,
    pub device_id: String,
    pub grants: Vec<Grant>,
    /// The device is revoked in `drain` mode: it may still push what it holds.
    pub draining: bool,
}

impl Caller {
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// Region prefixes whose households the caller reads as a whole (not officers,
    /// who read only their assignments).
    pub fn read_prefixes(&self) -> Vec<&str> {
        self.grants.iter().filter(|g| g.role != Role::Officer).map(|g| g.prefix.as_str()).collect()
    }

    /// Region prefixes whose households the caller edits as a whole.
    pub fn edit_prefixes(&self) -> Vec<&str> {
        self.grants
            .iter()
            .filter(|g| g.role != Role::Officer && g.role.edits_households())
            .map(|g| g.prefix.as_str())
            .collect()
    }

    /// Whether the caller may run accounts, devices and assignments for this region.
    pub fn manages_region(&self, region_code: &str) -> bool {
        self.grants.iter().any(|g| g.role.manages() && region_code.starts_with(&g.prefix))
    }

    /// Whether the caller may file a new household in this village (officers in their region).
    pub fn may_create_in(&self, region_code: &str) -> bool {
        self.grants.iter().any(|g| g.role.edits_households() && region_code.starts_with(&g.prefix))
    }

    /// An administrator at the top of the deployment's region tree: the only one who may
    /// act deployment-wide (notification templates, change-log compaction).
    pub fn is_root_admin(&self) -> bool {
        self.grants.iter().any(|g| g.role == Role::Admin && g.at_root)
    }

    /// Whether the caller may give `role` over `region_code` (see [`Grant::may_grant`]).
    pub fn may_grant(&self, role: Role, region_code: &str) -> bool {
        self.grants.iter().any(|g| g.may_grant(role, region_code))
    }

    /// Whether a user holding `their_grants` lies wholly inside the regions the caller
    /// manages: only then may the caller change their account or roles. A user with no
    /// grant left is the root administrator's.
    pub fn manages_user(&self, their_grants: &[(Role, String)]) -> bool {
        if their_grants.is_empty() {
            return self.is_root_admin();
        }
        their_grants.iter().all(|(role, region)| {
            self.grants.iter().any(|g| {
                g.role.manages()
                    && region.starts_with(&g.prefix)
                    && (role.rank() < g.role.rank() || (g.role == Role::Admin && g.at_root))
            })
        })
    }

    pub fn reads_region(&self, region_code: &str) -> bool {
        self.read_prefixes().iter().any(|p| region_code.starts_with(p))
    }

    pub fn edits_region(&self, region_code: &str) -> bool {
        self.edit_prefixes().iter().any(|p| region_code.starts_with(p))
    }
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a new token for a user on a device; returns it with its expiry.
pub async fn issue(
    db: &Db,
    user_id: &str,
    device_id: &str,
    ttl_hours: i64,
) -> Result<(String, chrono::DateTime<Utc>), DbErr> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = Utc::now();
    let expires_at = now + Duration::hours(ttl_hours);
    access_token::ActiveModel {
        token_hash: Set(hash_token(&token)),
        user_id: Set(user_id.to_owned()),
        device_id: Set(device_id.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(&db.conn)
    .await?;
    Ok((token, expires_at))
}

#[derive(FromQueryResult)]
struct GrantRow {
    role: String,
    region_code: String,
    /// The grant's region when it is the deployment's root.
    root_code: Option<String>,
}

/// Loads a user's grants with the prefix each covers.
pub async fn grants_of(conn: &impl ConnectionTrait, user_id: &str) -> Result<Vec<Grant>, DbErr> {
    let backend = conn.get_database_backend();
    let rows = GrantRow::find_by_statement(sql(
        backend,
        "SELECT g.role, g.region_code, d.region_code AS root_code FROM role_grant g \
         LEFT JOIN deployment_root d ON d.region_code = g.region_code \
         WHERE g.user_id = ? ORDER BY g.role, g.region_code",
        vec![user_id.into()],
    ))
    .all(conn)
    .await?;
    let mut grants = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(role) = Role::parse(&row.role) else {
            continue;
        };
        grants.push(Grant::new(role, row.region_code, row.root_code.is_some()));
    }
    Ok(grants)
}

pub fn revoked_error(mode: &str) -> Refusal {
    let mut err = Refusal::unauthenticated(ErrorCode::DeviceRevoked);
    err.mode = Some(mode.to_owned());
    err
}

/// Resolves a bearer token to its caller. `drain_until`: the request is a push, which a
/// device revoked in `drain` mode may still make until the given number of days after
/// its revocation (then it counts as wiped).
pub async fn authenticate(db: &Db, token: &str, drain_days: Option<i64>) -> Result<Caller, Refusal> {
    // One statement for the token, its device and its user: every phone request asks.
    let row = TokenRow::find_by_statement(sql(
        db.backend(),
        "SELECT t.user_id, t.device_id, t.expires_at, t.revoked_at, d.revoked_mode AS device_revoked_mode, \
         d.revoked_at AS device_revoked_at, u.username, u.name, u.active FROM access_token t \
         JOIN device d ON d.id = t.device_id JOIN app_user u ON u.id = t.user_id WHERE t.token_hash = ?",
        vec![hash_token(token).into()],
    ))
    .one(&db.conn)
    .await?;
    let Some(row) = row else {
        return Err(Refusal::unauthenticated(ErrorCode::Unauthenticated));
    };
    let mut draining = false;
    let drain_open = |days: i64| row.device_revoked_at.is_none_or(|at| Utc::now() < at + Duration::days(days));
    match row.device_revoked_mode.as_deref() {
        Some("drain") if drain_days.is_some_and(drain_open) => draining = true,
        Some("drain") if drain_days.is_some() => return Err(revoked_error("wipe")),
        Some(mode) => return Err(revoked_error(mode)),
        None => {}
    }
    if row.revoked_at.is_some() {
        return Err(Refusal::unauthenticated(ErrorCode::Unauthenticated));
    }
    if row.expires_at < Utc::now() {
        return Err(Refusal::unauthenticated(ErrorCode::TokenExpired));
    }
    if !row.active {
        return Err(Refusal::unauthenticated(ErrorCode::Unauthenticated));
    }
    let grants = grants_of(&db.conn, &row.user_id).await?;
    Ok(Caller {
        user_id: row.user_id,
        username: row.username,
        name: row.name,
        device_id: row.device_id,
        grants,
        draining,
    })
}

/// A bearer token with its device's revocation and its user, as [`authenticate`] reads them.
#[derive(FromQueryResult)]
struct TokenRow {
    user_id: String,
    device_id: String,
    expires_at: chrono::DateTime<Utc>,
    revoked_at: Option<chrono::DateTime<Utc>>,
    device_revoked_mode: Option<String>,
    device_revoked_at: Option<chrono::DateTime<Utc>>,
    username: String,
    name: String,
    active: bool,
}
