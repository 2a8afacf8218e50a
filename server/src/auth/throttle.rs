//! Login failure counters, in the database so every server process sees the same ones.
//!
//! Two keys are counted for each failed sign-in: the username and the client address
//! (an IPv6 /64 counts as one). Past a threshold a key is locked for a time that doubles
//! with each further failure, up to a ceiling. A locked key is refused *before* the
//! password hash runs, so guessing costs the attacker time and the server nothing.
//! A success clears the username's count, never the address's: one valid account must
//! not reset an address that is guessing at others.

use crate::db::{Db, sql};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

/// When keys lock, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures in a row before a username locks.
    pub user_failures: u32,
    /// Failures before an address locks (higher: a village office shares one address).
    pub address_failures: u32,
    /// The first lock; each further failure doubles it.
    pub first_lock: Duration,
    pub longest_lock: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

/// The key a username is counted under.
pub fn user_key(username: &str) -> String {
    let name: String = username.trim().to_lowercase().chars().take(64).collect();
    format!("user:{name}")
}

/// What a sender is counted by (sign-ins here, objections on the public pages): an
/// IPv4 address, or an IPv6 /64 (one subscriber's network: counting single IPv6
/// addresses would give each sender millions of tries).
pub fn sender_key(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.chars().take(64).collect(),
    }
}

/// The key a client address is counted under.
pub fn address_key(address: &str) -> String {
    format!("addr:{}", sender_key(address))
}

/// Seconds until the latest lock among `keys` ends, if any is locked now.
pub async fn locked_for(
    conn: &impl ConnectionTrait,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let mut longest: Option<i64> = None;
    for key in keys {
        let row = conn
            .query_one_raw(sql(
                conn.get_database_backend(),
                "SELECT locked_until FROM login_throttle WHERE key = ?",
                vec![key.as_str().into()],
            ))
            .await?;
        let until: Option<DateTime<Utc>> = match row {
            Some(row) => row.try_get("", "locked_until")?,
            None => None,
        };
        if let Some(until) = until.filter(|u| *u > now) {
            let secs = (until - now).num_seconds().max(1);
            longest = Some(longest.map_or(secs, |l| l.max(secs)));
        }
    }
    Ok(longest)
}

/// A key's count so far.
#[derive(FromQueryResult)]
struct Failures {
    failures: i32,
    last_failure_at: DateTime<Utc>,
}

/// Counts one failure against `key`; returns the lock it starts, if it starts one.
pub async fn record_failure(
    db: &Db,
    key: &str,
    threshold: u32,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<Option<Duration>, DbErr> {
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    // Insert-if-absent first, so two processes counting the same key never collide.
    txn.execute_raw(sql(
        backend,
        "INSERT INTO login_throttle (key, failures, last_failure_at, locked_until) VALUES (?, 0, ?, NULL) ON CONFLICT (key) DO NOTHING",
        vec![key.into(), now.into()],
    ))
    .await?;
    let lock_clause = if db.is_postgres() { " FOR UPDATE" } else { "" };
    let row = Failures::find_by_statement(sql(
        backend,
        &format!("SELECT failures, last_failure_at FROM login_throttle WHERE key = ?{lock_clause}"),
        vec![key.into()],
    ))
    .one(&*txn)
    .await?
    .ok_or_else(|| DbErr::RecordNotFound(key.to_owned()))?;
    let failures = if now - row.last_failure_at > limits.window { 1 } else { row.failures.saturating_add(1) };
    let lock = lock_after(failures, threshold, limits);
    txn.execute_raw(sql(
        backend,
        "UPDATE login_throttle SET failures = ?, last_failure_at = ?, locked_until = ? WHERE key = ?",
        vec![failures.into(), now.into(), lock.map(|d| now + d).into(), key.into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(lock)
}

/// Forgets a key's failures (after a successful sign-in under it).
pub async fn clear(conn: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    conn.execute_raw(sql(conn.get_database_backend(), "DELETE FROM login_throttle WHERE key = ?", vec![key.into()]))
        .await
        .map(|_| ())
}

/// The lock after `failures` in a row: none below the threshold, then the first lock
/// doubled for each failure past it, never longer than the ceiling.
fn lock_after(failures: i32, threshold: u32, limits: &Limits) -> Option<Duration> {
    let past = i64::from(failures) - i64::from(threshold);
    if past < 0 {
        return None;
    }
    let factor = 1i64 << past.min(20);
    Some(limits.first_lock.checked_mul(factor as i32).unwrap_or(limits.longest_lock).min(limits.longest_lock))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            user_failures: 5,
            address_failures: 30,
            first_lock: Duration::seconds(30),
            longest_lock: Duration::minutes(15),
            window: Duration::hours(24),
        }
    }

    #[test]
    fn locks_grow_from_the_threshold_to_the_ceiling() {
        let l = limits();
        assert_eq!(lock_after(4, 5, &l), None);
        assert_eq!(lock_after(5, 5, &l), Some(Duration::seconds(30)));
        assert_eq!(lock_after(6, 5, &l), Some(Duration::seconds(60)));
        assert_eq!(lock_after(9, 5, &l), Some(Duration::seconds(480)));
        assert_eq!(lock_after(10, 5, &l), Some(Duration::minutes(15)));
        assert_eq!(lock_after(i32::MAX, 5, &l), Some(Duration::minutes(15)));
    }

    #[test]
    fn addresses_are_counted_by_ipv4_or_ipv6_slash_64() {
        assert_eq!(address_key("203.0.113.9"), "addr:203.0.113.9");
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), address_key("2001:db8:1:2:bbbb::2"));
        assert_ne!(address_key("2001:db8:1:2::1"), address_key("2001:db8:1:3::1"));
        assert_eq!(address_key("::ffff:203.0.113.9"), "addr:203.0.113.9");
        assert_eq!(user_key("  County "), "user:county");
    }
}
