//! Signing in: the failure counters checked before the password hash, the password
//! check (bounded to one per core), the device bound to its first user, and the token
//! issued for it. The same for phones and the office console.
//!
//! A refusal never tells whether a username exists: an unknown user costs the same hash
//! as a wrong password, and both answer `invalid_credentials`. Nothing here knows HTTP:
//! a refusal that should be asked again later says after how long, and the caller turns
//! that into a header.

use super::{throttle, tokens};
use crate::config::AuthConfig;
use crate::db::Db;
use crate::db::entities::{app_user, device};
use crate::error::{Kind, Refusal};
use chrono::{DateTime, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::wire::{LoginRequest, LoginResponse, UserInfo};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// A sign-in refused, and when asking again is worth it (`Retry-After`), if ever.
#[derive(Debug)]
pub struct Refused {
    pub refusal: Refusal,
    /// Seconds until a lock ends or a password check is likely free.
    pub retry_after: Option<i64>,
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Refused {
        Refused { refusal, retry_after: None }
    }
}

impl From<DbErr> for Refused {
    fn from(err: DbErr) -> Refused {
        Refusal::internal(err).into()
    }
}

/// Signs a user in on a device from `address` and returns a token bound to the device.
/// `now` is the time the failure counters are judged by.
pub async fn sign_in(
    db: &Db,
    config: &AuthConfig,
    now: DateTime<Utc>,
    address: &str,
    req: &LoginRequest,
) -> Result<LoginResponse, Refused> {
    let device_id = req.device_id.trim();
    if device_id.is_empty() || device_id.len() > 100 || device_id.chars().any(char::is_control) {
        return Err(Refusal::invalid(ErrorCode::InvalidRequest).into());
    }
    let user = check_password(db, config, now, address, &req.username, &req.password).await?;
    bind_device(db, &user.id, device_id, &req.device_name).await?;
    let (token, expires_at) = tokens::issue(db, &user.id, device_id, config.token_ttl_hours).await?;
    let grants = tokens::grants_of(&db.conn, &user.id).await?;
    let mut roles: Vec<String> = grants.iter().map(|g| g.role.as_str().to_owned()).collect();
    roles.dedup();
    Ok(LoginResponse {
        token,
        expires_at: expires_at.to_rfc3339(),
        user: UserInfo {
            id: Uuid::parse_str(&user.id).unwrap_or_default(),
            username: user.username,
            name: user.name,
            roles,
            regions: grants.into_iter().map(|g| g.region_code).collect(),
        },
    })
}

/// The user whose password this is, if they may sign in: the failure counters of the
/// name and the address are checked before the hash and kept after it, so the phones'
/// sign-in and the console's session share one lockout.
pub async fn check_password(
    db: &Db,
    config: &AuthConfig,
    now: DateTime<Utc>,
    address: &str,
    username: &str,
    password: &str,
) -> Result<app_user::Model, Refused> {
    let limits = throttle::Limits {
        user_failures: config.login_user_failures,
        address_failures: config.login_address_failures,
        first_lock: chrono::Duration::seconds(config.login_first_lock_secs),
        longest_lock: chrono::Duration::seconds(config.login_longest_lock_secs),
        window: chrono::Duration::hours(24),
    };
    let (user_key, address_key) = (throttle::user_key(username), throttle::address_key(address));
    let keys = [user_key.clone(), address_key.clone()];
    let locked = || async {
        match throttle::locked_for(&db.conn, &keys, now).await? {
            Some(after_secs) => Err(Refused {
                refusal: Refusal::new(Kind::TooMany, ErrorCode::TooManyAttempts),
                retry_after: Some(after_secs),
            }),
            None => Ok(()),
        }
    };
    locked().await?;
    let user = app_user::Entity::find().filter(app_user::Column::Username.eq(username.trim())).one(&db.conn).await?;
    // Hash even for an unknown user, so timing does not tell which usernames exist.
    let hash = user.as_ref().map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let password = password.to_owned();
    // Each check takes ~19 MiB and a core for a moment: at most one per core at a time.
    // A sign-in that cannot get a slot soon is told to retry rather than queued past
    // the request timeout behind a flood.
    let wait = std::time::Duration::from_secs(config.login_wait_secs);
    let Ok(Ok(permit)) = tokio::time::timeout(wait, PASSWORD_CHECKS.acquire()).await else {
        return Err(Refused { refusal: Refusal::new(Kind::Busy, ErrorCode::Busy), retry_after: Some(2) });
    };
    // Again once a check is free: guesses sent in parallel waited here while the first
    // of them locked the name, and must not be checked after all.
    locked().await?;
    let ok = tokio::task::spawn_blocking(move || super::verify_password(&password, &hash)).await.unwrap_or(false);
    drop(permit);
    let user = match user {
        Some(user) if ok && user.active => user,
        _ => {
            for (key, threshold) in [(&user_key, limits.user_failures), (&address_key, limits.address_failures)] {
                let locked = throttle::record_failure(db, key, threshold, &limits, now).await?;
                if let Some(lock) = locked {
                    tracing::warn!(
                        key = key.as_str(),
                        secs = lock.num_seconds(),
                        "sign-ins locked after repeated failures"
                    );
                }
            }
            return Err(Refusal::unauthenticated(ErrorCode::InvalidCredentials).into());
        }
    };
    throttle::clear(&db.conn, &user_key).await?;
    Ok(user)
}

/// A device id belongs to the user who first signed in on it. Another user signing in
/// with the same id is refused: taking it over would hand them the device's stored
/// answers and put their actions under the first user's device in the audit.
async fn bind_device(db: &Db, user_id: &str, device_id: &str, device_name: &str) -> Result<(), Refusal> {
    let now = Utc::now();
    match device::Entity::find_by_id(device_id.to_owned()).one(&db.conn).await? {
        Some(existing) if existing.revoked_mode.is_some() => {
            Err(tokens::revoked_error(existing.revoked_mode.as_deref().unwrap_or("wipe")))
        }
        Some(existing) if existing.user_id != user_id => Err(Refusal::conflict(ErrorCode::DeviceInUse)),
        Some(existing) => {
            let mut model: device::ActiveModel = existing.into();
            model.last_seen_at = Set(Some(now));
            if !device_name.is_empty() {
                model.name = Set(device_name.chars().take(100).collect());
            }
            model.update(&db.conn).await?;
            Ok(())
        }
        None => {
            let inserted = device::ActiveModel {
                id: Set(device_id.to_owned()),
                user_id: Set(user_id.to_owned()),
                name: Set(device_name.chars().take(100).collect()),
                revoked_mode: Set(None),
                revoked_at: Set(None),
                revoked_by: Set(None),
                created_at: Set(now),
                last_seen_at: Set(Some(now)),
            }
            .insert(&db.conn)
            .await;
            match inserted {
                Ok(_) => Ok(()),
                // Two first sign-ins on one new id at once: the other one bound it.
                Err(err) if crate::db::is_unique_violation(&err) => Err(Refusal::conflict(ErrorCode::DeviceInUse)),
                Err(err) => Err(err.into()),
            }
        }
    }
}

static PASSWORD_CHECKS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
});

/// A hash verified against when the user does not exist.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| super::hash_password(&super::random_password()).unwrap_or_default());
