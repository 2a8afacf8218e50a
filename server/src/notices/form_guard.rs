//! Guards on the public objection form: a CSRF token bound to the notice (checked
//! against a SameSite cookie, so another site cannot post for a villager's browser),
//! keyed hashes of senders' addresses (limits without storing addresses), and
//! in-memory rate limits that turn a flood away before it reaches the database.
//!
//! The key is one row of `server_secret`, made on first start, so every server process
//! behind a load balancer accepts the forms the others served.

use crate::db::{Db, sql};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::{ConnectionTrait, DbErr};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A served form stays valid this long: a villager may read for a while before writing.
const CSRF_VALID_SECS: i64 = 24 * 3600;
const KEY_NAME: &str = "notice_form_key";

pub struct FormGuard {
    key: Vec<u8>,
    limiter: Limiter,
}

impl FormGuard {
    /// Loads the shared key, making it on first start.
    pub async fn load(db: &Db) -> Result<FormGuard, DbErr> {
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        // Two processes starting at once: one insert wins, both read the winner.
        db.conn
            .execute_raw(sql(
                db.backend(),
                "INSERT INTO server_secret (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                vec![KEY_NAME.into(), hex::encode(fresh).into(), Utc::now().into()],
            ))
            .await?;
        let row = db
            .conn
            .query_one_raw(sql(db.backend(), "SELECT value FROM server_secret WHERE name = ?", vec![KEY_NAME.into()]))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(KEY_NAME.into()))?;
        let value: String = row.try_get_by_index(0)?;
        Ok(FormGuard { key: hex::decode(value).unwrap_or_else(|_| fresh.to_vec()), limiter: Limiter::default() })
    }

    fn mac(&self, parts: &[&str]) -> String {
        #[allow(clippy::expect_used)]
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\x1f");
        }
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The form's token for this notice, issued at `now` (rounded to the minute, so a
    /// cached page carries one token for everyone).
    pub fn csrf_token(&self, notice_token: &str, now: DateTime<Utc>) -> String {
        let issued = (now.timestamp() / 60 * 60).to_string();
        format!("{issued}.{}", self.mac(&["csrf", notice_token, &issued]))
    }

    /// The form's token is ours, for this notice, recent, and equal to the cookie.
    pub fn check_csrf(&self, notice_token: &str, form: &str, cookie: Option<&str>, now: DateTime<Utc>) -> bool {
        let Some((issued, mac)) = form.split_once('.') else { return false };
        let Ok(at) = issued.parse::<i64>() else { return false };
        let age = now.timestamp() - at;
        cookie == Some(form)
            && (-300..=CSRF_VALID_SECS).contains(&age)
            && constant_time_eq(mac.as_bytes(), self.mac(&["csrf", notice_token, issued]).as_bytes())
    }

    /// A keyed hash of the sender's address: enough to count, useless to anyone reading the table.
    pub fn source_hash(&self, address: &str) -> String {
        self.mac(&["source", address])
    }

    /// Counts one attempt for `key`; false once `limit` were made in the current `window`.
    pub fn allow(&self, key: &str, limit: u32, window: Duration) -> bool {
        self.limiter.allow(key, limit, window)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Fixed-window counters per key, kept in memory and pruned when they grow.
#[derive(Default)]
struct Limiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limiter {
    fn allow(&self, key: &str, limit: u32, window: Duration) -> bool {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
            // Still full of fresh keys (a spread-out flood): start over rather than
            // rescan on every call; at worst some senders get a fresh window.
            if windows.len() > 100_000 {
                windows.clear();
            }
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> FormGuard {
        FormGuard { key: b"test key".to_vec(), limiter: Limiter::default() }
    }

    #[test]
    fn a_token_is_bound_to_its_notice_its_cookie_and_its_age() {
        let g = guard();
        let now = Utc::now();
        let token = g.csrf_token("notice-a", now);
        assert!(g.check_csrf("notice-a", &token, Some(&token), now));
        assert!(!g.check_csrf("notice-b", &token, Some(&token), now), "another notice");
        assert!(!g.check_csrf("notice-a", &token, None, now), "no cookie: a cross-site post");
        assert!(!g.check_csrf("notice-a", &token, Some("x"), now), "cookie differs");
        assert!(!g.check_csrf("notice-a", &token, Some(&token), now + chrono::Duration::days(2)), "expired");
        let forged = format!("{}.{}", now.timestamp(), "0".repeat(32));
        assert!(!g.check_csrf("notice-a", &forged, Some(&forged), now));
    }

    #[test]
    fn the_limiter_stops_at_the_limit_per_key() {
        let g = guard();
        let window = Duration::from_secs(3600);
        assert!((0..3).all(|_| g.allow("ip:a", 3, window)));
        assert!(!g.allow("ip:a", 3, window));
        assert!(g.allow("ip:b", 3, window), "other senders are not affected");
    }

    #[test]
    fn source_hashes_hide_the_address() {
        let g = guard();
        let h = g.source_hash("203.0.113.9");
        assert!(!h.contains("203"));
        assert_eq!(h, g.source_hash("203.0.113.9"));
    }
}
