//! The office console's cookie sessions: opened after a password check, held by the
//! browser as an HttpOnly cookie, ended by sign-out, by the idle timeout or at the end
//! of their life. A session carries a CSRF token that every write made with the cookie
//! must repeat in a header, because a browser sends the cookie along with any other
//! site's form as well.
//!
//! Only the SHA-256 of the cookie is stored (as for bearer tokens). Idle time is judged
//! by the server's clock so tests can move it; `last_used_at` is written at most once a
//! minute, not on every request. Nothing here speaks HTTP or writes the audit trail
//! (`registry::sessions` does, one floor up).

use super::roles::Grant;
use super::tokens::{Caller, grants_of, hash_token};
use crate::db::entities::app_user;
use crate::db::{Db, sql};
use crate::error::{Kind, Refusal};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use rand::RngCore;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, FromQueryResult};
use serde::Serialize;

/// The cookie's name.
pub const COOKIE: &str = "jz_session";

/// Bearer callers give their device; a console session has none, so its audit entries
/// name it by this prefix and the first characters of the session's hash.
pub const DEVICE_PREFIX: &str = "console:";

/// A session just opened: the cookie's value, never stored, and the CSRF token.
pub struct Opened {
    pub token: String,
    pub csrf_token: String,
}

/// A live session as stored.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a write made with the cookie sent as `X-CSRF-Token`; reads need none.
#[derive(Debug, Clone, Copy)]
pub enum Csrf<'a> {
    NotNeeded,
    Sent(Option<&'a str>),
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The device name a session's audit entries carry.
pub fn device_of(token_hash: &str) -> String {
    format!("{DEVICE_PREFIX}{}", &token_hash[..token_hash.len().min(12)])
}

/// Opens a session for a user whose password was checked; it lives `ttl_hours` at most.
pub async fn open(
    conn: &impl ConnectionTrait,
    user_id: &str,
    now: DateTime<Utc>,
    ttl_hours: i64,
) -> Result<Opened, DbErr> {
    let (token, csrf_token) = (random_token(), random_token());
    conn.execute_raw(sql(
            conn.get_database_backend(),
            "INSERT INTO console_session (token_hash, user_id, csrf_token, created_at, last_used_at, expires_at, revoked_at) \
             VALUES (?, ?, ?, ?, ?, ?, NULL)",
            vec![
                hash_token(&token).into(),
                user_id.into(),
                csrf_token.clone().into(),
                now.into(),
                now.into(),
                (now + Duration::hours(ttl_hours)).into(),
            ],
        ))
        .await?;
    Ok(Opened { token, csrf_token })
}

async fn load(conn: &impl ConnectionTrait, token_hash: &str) -> Result<Option<SessionRow>, DbErr> {
    SessionRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT token_hash, user_id, csrf_token, last_used_at, expires_at, revoked_at FROM console_session \
         WHERE token_hash = ?",
        vec![token_hash.into()],
    ))
    .one(conn)
    .await
}

/// The caller holding this cookie, and their session. A session idle longer than `idle`
/// (or past its life) answers `session_expired`; a write without the session's CSRF
/// token answers 403 `csrf`, checked only once the cookie is known good, so a stale
/// page is told to sign in rather than to reload.
pub async fn authenticate(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
    idle: Duration,
    csrf: Csrf<'_>,
) -> Result<(Caller, SessionRow), Refusal> {
    let token_hash = hash_token(token);
    let Some(session) = load(&db.conn, &token_hash).await? else {
        return Err(Refusal::unauthenticated(ErrorCode::Unauthenticated));
    };
    if session.revoked_at.is_some() {
        return Err(Refusal::unauthenticated(ErrorCode::Unauthenticated));
    }
    if session.expires_at < now || session.last_used_at + idle < now {
        return Err(Refusal::unauthenticated(ErrorCode::SessionExpired));
    }
    if let Csrf::Sent(sent) = csrf {
        // Compared by hash, so the comparison's time does not tell how much matched.
        let matches = sent.is_some_and(|sent| hash_token(sent.trim()) == hash_token(&session.csrf_token));
        if !matches {
            return Err(Refusal::new(Kind::Forbidden, ErrorCode::Csrf));
        }
    }
    let Some(user) = app_user::Entity::find_by_id(session.user_id.clone()).one(&db.conn).await? else {
        return Err(Refusal::unauthenticated(ErrorCode::Unauthenticated));
    };
    if !user.active {
        return Err(Refusal::unauthenticated(ErrorCode::Unauthenticated));
    }
    // A read must not fail for want of this write (a busy SQLite writer): missing it
    // only lets the session end a minute sooner.
    if now - session.last_used_at >= Duration::minutes(1)
        && let Err(err) = touch(db, &token_hash, now).await
    {
        tracing::warn!(%err, "console session's last use not recorded");
    }
    let grants = grants_of(&db.conn, &user.id).await?;
    let caller = Caller {
        user_id: user.id,
        username: user.username,
        name: user.name,
        device_id: device_of(&token_hash),
        grants,
        draining: false,
    };
    Ok((caller, session))
}

/// Moves the idle deadline on. Never backwards: two requests at once may both write.
async fn touch(db: &Db, token_hash: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    db.conn
        .execute_raw(sql(
            db.backend(),
            "UPDATE console_session SET last_used_at = ? WHERE token_hash = ? AND last_used_at < ?",
            vec![now.into(), token_hash.into(), now.into()],
        ))
        .await?;
    Ok(())
}

/// Ends a session; the cookie opens nothing after this.
pub async fn revoke(conn: &impl ConnectionTrait, token_hash: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    conn.execute_raw(sql(
        conn.get_database_backend(),
        "UPDATE console_session SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
        vec![now.into(), token_hash.into()],
    ))
    .await?;
    Ok(())
}

/// Ends every live session of a user but `keep` (a cookie's hash): their password
/// changed or was reset, or their account was switched off. Returns how many ended.
pub async fn revoke_all_of(conn: &impl ConnectionTrait, user_id: &str, keep: Option<&str>) -> Result<u64, DbErr> {
    let result = conn
        .execute_raw(sql(
            conn.get_database_backend(),
            "UPDATE console_session SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND token_hash <> ?",
            vec![Utc::now().into(), user_id.into(), keep.unwrap_or_default().into()],
        ))
        .await?;
    Ok(result.rows_affected())
}

/// A grant as the console shows it, with its region's name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GrantView {
    pub role: String,
    pub region_code: String,
    /// Empty when the region is not (or no longer) in the tree.
    pub region_name: String,
}

/// The signed-in user, as the console shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<GrantView>,
}

/// The answer to opening or reading a session: who, the CSRF token to send with every
/// write, and how long the session lasts unused.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub user: SessionUser,
    pub csrf_token: String,
    pub idle_timeout_seconds: i64,
}

#[derive(FromQueryResult)]
struct RegionNameRow {
    code: String,
    name: String,
}

/// Region names for codes, as one map.
pub async fn region_names(
    conn: &impl ConnectionTrait,
    codes: &[String],
) -> Result<std::collections::HashMap<String, String>, DbErr> {
    if codes.is_empty() {
        return Ok(Default::default());
    }
    let marks = vec!["?"; codes.len()].join(", ");
    let rows = RegionNameRow::find_by_statement(sql(
        conn.get_database_backend(),
        &format!("SELECT code, name FROM region WHERE code IN ({marks})"),
        codes.iter().map(|c| c.as_str().into()).collect(),
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.code, r.name)).collect())
}

/// The session's answer for this caller.
pub async fn view(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    csrf_token: &str,
    idle: Duration,
) -> Result<SessionView, DbErr> {
    let codes: Vec<String> = caller.grants.iter().map(|g| g.region_code.clone()).collect();
    let names = region_names(conn, &codes).await?;
    let grants = caller
        .grants
        .iter()
        .map(|g: &Grant| GrantView {
            role: g.role.as_str().to_owned(),
            region_code: g.region_code.clone(),
            region_name: names.get(&g.region_code).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(SessionView {
        user: SessionUser {
            id: caller.user_id.clone(),
            username: caller.username.clone(),
            display_name: caller.name.clone(),
            grants,
        },
        csrf_token: csrf_token.to_owned(),
        idle_timeout_seconds: idle.num_seconds(),
    })
}
