//! Guards on the public objection form: a CSRF token bound to the notice (checked
//! against a SameSite cookie, so another site cannot post for a villager's browser),
//! keyed hashes of senders' addresses (limits without storing addresses), and
//! in-memory rate limits that turn a flood away before it reaches the database.
//!
//! The key is one row of `server_secret`, made on first start, so every server process
//! behind a load balancer accepts the forms the others served.
//!
//! What this module must never do: store a sender's address. Only its keyed hash leaves
//! memory, on the objection the sender files.

use crate::db::{Db, sql};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
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
        #[derive(FromQueryResult)]
        struct Secret {
            value: String,
        }
        let Secret { value } = Secret::find_by_statement(sql(
            db.backend(),
            "SELECT value FROM server_secret WHERE name = ?",
            vec![KEY_NAME.into()],
        ))
        .one(&db.conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(KEY_NAME.into()))?;
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

    /// Counts one attempt of a sender (`key` names the sender); false once `limit` were
    /// made in the current `window`.
    pub fn allow(&self, key: &str, limit: u32, window: Duration) -> bool {
        self.limiter.allow(key, limit, window, false)
    }

    /// Counts one use of a shared budget (a notice's): like [`FormGuard::allow`], but the
    /// counter is never dropped to make room for senders, so address churn cannot reset it.
    pub fn allow_shared(&self, key: &str, limit: u32, window: Duration) -> bool {
        self.limiter.allow(key, limit, window, true)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Senders' counters kept at most; past it the oldest are dropped.
const MAX_SENDER_KEYS: usize = 100_000;

/// Fixed-window counters per key, kept in memory. Senders' counters are bounded: when
/// full of live windows (someone churning through addresses), the oldest tenth is
/// dropped, never all of them, and never a shared budget's, so churning cannot reset
/// the limits of anyone else, nor a notice's budget. A dropped sender starts a fresh
/// window, which is no more than a churner gets from a new address anyway.
#[derive(Default)]
struct Limiter {
    senders: Mutex<HashMap<String, (Instant, u32)>>,
    shared: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limiter {
    fn allow(&self, key: &str, limit: u32, window: Duration, shared: bool) -> bool {
        let now = Instant::now();
        let map = if shared { &self.shared } else { &self.senders };
        let mut windows = map.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= MAX_SENDER_KEYS && !windows.contains_key(key) {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
            if windows.len() >= MAX_SENDER_KEYS && !shared {
                let mut starts: Vec<Instant> = windows.values().map(|(start, _)| *start).collect();
                let tenth = starts.len() / 10;
                starts.select_nth_unstable(tenth);
                let cutoff = starts[tenth];
                windows.retain(|_, (start, _)| *start > cutoff);
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

    #[test]
    fn churning_senders_never_reset_a_budget_nor_everyone() {
        let g = guard();
        let window = Duration::from_secs(3600);
        assert!((0..3).all(|_| g.allow_shared("notice:a", 3, window)));
        assert!((0..2).all(|_| g.allow("ip:early", 2, window)));
        // A sender with more addresses than the limiter keeps.
        for i in 0..(MAX_SENDER_KEYS + 10) {
            g.allow(&format!("ip:churn-{i}"), 2, window);
        }
        assert!(!g.allow_shared("notice:a", 3, window), "the notice's budget is still used up");
        let kept = g.limiter.senders.lock().expect("lock").len();
        assert!(kept > MAX_SENDER_KEYS / 2, "only the oldest were dropped, not all: {kept}");
        // The newest churned senders are still counted.
        let last = format!("ip:churn-{}", MAX_SENDER_KEYS + 9);
        assert!(g.allow(&last, 2, window));
        assert!(!g.allow(&last, 2, window));
    }

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
