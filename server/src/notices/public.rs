//! What the public notice pages share between requests: the objection form's guard
//! (CSRF keys, per-sender limits) and a short cache of rendered pages.
//!
//! `GET /n/{token}` is what a whole village opens in the same few days, so a rendered
//! page is kept for a little while (the content is frozen; only the days left and the
//! status change). The handlers in `http::notice_pages` render, store and serve; this
//! module only keeps.

use crate::notices::form_guard::FormGuard;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Beyond this many cached pages the cache starts again: one county has a few hundred
/// live notices, so only a flood of made-up tokens reaches it.
const MAX_PAGES: usize = 10_000;

pub struct Public {
    pub guard: FormGuard,
    cache: RwLock<HashMap<String, Arc<CachedPage>>>,
}

/// One rendered notice page.
pub struct CachedPage {
    pub html: Bytes,
    /// The form's CSRF token baked into `html`; the handler sets the matching cookie.
    pub csrf: String,
    /// Server-clock time the page stops being current: the cache lifetime, or the end
    /// of the period if sooner (the form must vanish when the period ends).
    pub fresh_until: DateTime<Utc>,
}

impl Public {
    pub fn new(guard: FormGuard) -> Public {
        Public { guard, cache: RwLock::new(HashMap::new()) }
    }

    /// The page of this notice if one is cached and still current at `now`.
    pub fn cached(&self, token: &str, now: DateTime<Utc>) -> Option<Arc<CachedPage>> {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        cache.get(token).filter(|page| now < page.fresh_until).cloned()
    }

    pub fn store(&self, token: &str, page: Arc<CachedPage>) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if cache.len() > MAX_PAGES {
            cache.clear();
        }
        cache.insert(token.to_owned(), page);
    }
}
