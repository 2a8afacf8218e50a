//! The office console's sign-in and sign-out as audited acts: the password is checked
//! with the phones' lockout (`auth::login`), the session is kept by `auth::session`, and
//! each start and end is written to the audit trail like a phone's logout.

use crate::audit::{self, Actor};
use crate::auth::login::{self, Refused};
use crate::auth::session::{self, Opened};
use crate::auth::tokens::{self, Caller};
use crate::config::AuthConfig;
use crate::db::Db;
use chrono::{DateTime, Utc};

/// Checks the password and opens a session: the caller it makes and its cookie.
pub async fn start(
    db: &Db,
    config: &AuthConfig,
    now: DateTime<Utc>,
    address: &str,
    username: &str,
    password: &str,
) -> Result<(Caller, Opened), Refused> {
    let user = login::check_password(db, config, now, address, username, password).await?;
    let txn = db.begin_write().await?;
    let opened = session::open(&*txn, &user.id, now, config.token_ttl_hours).await?;
    let grants = tokens::grants_of(&*txn, &user.id).await?;
    let caller = Caller {
        user_id: user.id,
        username: user.username,
        name: user.name,
        device_id: session::device_of(&tokens::hash_token(&opened.token)),
        grants,
        draining: false,
    };
    let mut entry = Actor::of(&caller).audit("login", "user", &caller.user_id);
    entry.note = Some("console session".into());
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok((caller, opened))
}

/// Ends the caller's session (`token_hash`, the cookie's).
pub async fn end(db: &Db, caller: &Caller, token_hash: &str, now: DateTime<Utc>) -> Result<(), sea_orm::DbErr> {
    let txn = db.begin_write().await?;
    session::revoke(&*txn, token_hash, now).await?;
    let mut entry = Actor::of(caller).audit("logout", "user", &caller.user_id);
    entry.note = Some("console session".into());
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}
