//! Configuration: defaults, then an optional TOML file, then `JINGZHUN__SECTION__KEY`
//! environment variables (and the plain `DATABASE_URL` / `JINGZHUN_BIND`).

use serde::Deserialize;
use std::path::Path;

#[derive(Clone, Deserialize)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub bind: String,
    /// `sqlite://path?mode=rwc` (the default, a file beside the binary) or `postgres://…`.
    pub database_url: String,
    /// Largest connection pool; PostgreSQL servers cap connections, so keep it modest.
    pub max_connections: u32,
    /// SQLite's reader connections (at most `max_connections`; the writer has its own).
    /// Reads run in this process, on its cores: more readers only add page caches and
    /// prepared statements, about 4 MB each once warm. With 16, `bench sync`'s 200 first
    /// pulls took the server to 190 MB and 1.68 s; with 4, 116 MB and 1.42 s (BENCHMARKS.md).
    pub sqlite_readers: u32,
    /// `full` (default): SQLite fsyncs every commit, so what a phone is told is applied
    /// survives a power loss. `normal` only for battery-backed storage (see BENCHMARKS.md).
    pub sqlite_synchronous: crate::db::SqliteSync,
    pub auth: AuthConfig,
    pub sync: SyncConfig,
    pub http: HttpConfig,
    /// First administrator, created on start when no user exists yet.
    pub bootstrap: BootstrapConfig,
    /// Scheduled work: milestone reminders, the daily digest, progress snapshots.
    pub schedule: ScheduleConfig,
    /// Public notice pages and the objection form.
    pub notices: NoticesConfig,
    /// Notifications: SMS, email and WeCom providers, quiet hours, limits, the dispatcher.
    #[serde(default)]
    pub notify: jingzhun_notifier::config::NotifyConfig,
    /// Caps on uploaded files: department lists and imports (XLSX, CSV), attachments.
    #[serde(default)]
    pub uploads: UploadsConfig,
    /// Bounds on whole-region reports and quality checks.
    #[serde(default)]
    pub reports: ReportsConfig,
}

/// A crafted or oversized file is refused with a code naming the cap it broke (422),
/// never parsed into memory whole (issue 9, H5, M8).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct UploadsConfig {
    /// Most rows (the header included) a list or import may have.
    pub max_rows: usize,
    /// Most columns a list or import may have.
    pub max_columns: usize,
    /// Longest cell, in bytes of UTF-8.
    pub max_cell_bytes: usize,
    /// Most bytes an XLSX's XML parts (sheet, shared strings, styles) may unpack to; a
    /// CSV's own size counts the same way.
    pub max_unpacked_bytes: u64,
    /// Files parsed at once (each on a blocking thread); more wait.
    pub parse_concurrency: usize,
    /// A file waiting longer than this for a parsing slot is answered 503 `busy`.
    pub busy_wait_secs: u64,
    /// Attachment bytes one user may have added (each upload counts, deduplicated or not).
    pub attachment_quota_per_user_bytes: u64,
    /// Attachment bytes one household may hold.
    pub attachment_quota_per_household_bytes: u64,
}

impl Default for UploadsConfig {
    fn default() -> Self {
        UploadsConfig {
            max_rows: 200_000,
            max_columns: 50,
            max_cell_bytes: 8 * 1024,
            max_unpacked_bytes: 200 * 1024 * 1024,
            parse_concurrency: 2,
            busy_wait_secs: 5,
            attachment_quota_per_user_bytes: 2 * 1024 * 1024 * 1024,
            attachment_quota_per_household_bytes: 200 * 1024 * 1024,
        }
    }
}

/// Whole-region reports and quality checks hold memory and a connection for a while:
/// few run at once, and a region too large is refused with `report_too_large` (M9).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ReportsConfig {
    /// Most households one report or quality check covers.
    pub max_households: u64,
    /// Reports and quality checks running at once; more wait.
    pub concurrency: usize,
    /// A report waiting longer than this for a slot is answered 503 `busy`.
    pub busy_wait_secs: u64,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig { max_households: 100_000, concurrency: 2, busy_wait_secs: 10 }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct NoticesConfig {
    /// The address villagers reach the server at, as printed in QR codes
    /// (`https://jingzhun.example.gov.cn`); empty: `http://{bind}`.
    pub public_url: String,
    /// The public page is rendered at most this often per notice.
    pub page_cache_secs: u64,
    /// The publishing level answers an objection within this many days.
    pub objection_answer_days: i64,
    pub objections_per_ip_per_hour: u32,
    pub objections_per_notice_per_hour: u32,
    pub receipt_lookups_per_ip_per_hour: u32,
    /// Behind a reverse proxy: the header carrying the villager's address (e.g.
    /// `X-Real-IP`). Empty: the peer address. Only set it when a proxy overwrites it.
    pub client_ip_header: String,
}

/// Cron expressions are 6 fields (seconds first) in Beijing time, days of the week by
/// name; each is checked at start-up, so a bad one stops the server with a clear message.
#[derive(Debug, Clone, Deserialize)]
pub struct ScheduleConfig {
    /// Off: this process runs no scheduled work (another process on the database does).
    pub enabled: bool,
    /// When supervisors get their daily digest.
    pub digest: String,
    /// When milestone reminders and overdue escalations go out (once a day is meant).
    pub reminders: String,
    /// When campaign progress is recomputed for phones to pull.
    pub progress: String,
    /// A case open at one step longer than this many days is reported as waiting.
    pub step_waiting_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthConfig {
    /// A device token lives this long; phones re-login after, so it bounds the damage of
    /// a copied token without forcing officers to log in every day in the field.
    pub token_ttl_hours: i64,
    /// Failed sign-ins in a row before a username is locked for a while.
    pub login_user_failures: u32,
    /// Failed sign-ins from one address (IPv6: one /64) before it is locked; higher than
    /// the per-user figure because a township office or a mobile carrier's NAT is shared.
    pub login_address_failures: u32,
    /// The first lock, in seconds; each further failure doubles it up to the ceiling.
    pub login_first_lock_secs: i64,
    pub login_longest_lock_secs: i64,
    /// A sign-in waits at most this long for a free password check (one per core) before
    /// it is answered 503 `busy`, so a flood cannot queue real sign-ins past the timeout.
    pub login_wait_secs: u64,
    /// A device revoked in `drain` mode may push what it holds for this many days; after
    /// that it is treated as wiped.
    pub drain_days: i64,
    /// A console session (cookie) unused this long by the server's clock is ended
    /// (401 `session_expired`); each use extends it.
    pub console_idle_minutes: i64,
    /// Always mark the console's cookie `Secure`, whatever the request came over (it is
    /// also marked when a proxy says `X-Forwarded-Proto: https`).
    pub console_secure_cookie: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SyncConfig {
    /// Change-log rows (tombstones included) are kept this long; a phone that has not
    /// pulled for longer gets 410 `cursor_expired` and starts over.
    pub tombstone_days: i64,
    /// Most records a pull page holds, whatever the phone asks for.
    pub max_page: u64,
    /// Most change sets in one push request.
    pub max_changesets_per_push: usize,
    /// Most changes in one change set.
    pub max_changes_per_changeset: usize,
    /// Largest attachment accepted, in bytes (photos from phones).
    pub attachment_max_bytes: usize,
    /// Clients older than this protocol version get 426 on `/schema` and pull.
    pub min_client_version: u32,
    /// An officer's offline edit recorded before the assignment ended is still applied
    /// if it arrives within this many days after the end date; later it is kept for a
    /// supervisor instead (DESIGN §5; H2 of the 2026-12 review).
    pub former_officer_grace_days: i64,
    /// PostgreSQL: how many groups of pushed change sets commit side by side (SQLite
    /// has one writer and one lane). See `sync/group.rs`.
    pub postgres_push_lanes: usize,
    /// PostgreSQL: most change sets one group commits (at most 256, of which at most 24
    /// create or delete; see `sync/group.rs`).
    pub postgres_group_changesets: usize,
}

#[derive(Clone, Deserialize)]
pub struct HttpConfig {
    /// Largest request body (JSON) in bytes; attachments have their own limit.
    pub max_body_bytes: usize,
    /// A request running longer than this is answered 408, so a stuck client cannot hold a worker.
    pub request_timeout_secs: u64,
    /// `/metrics` answers a scraper sending this bearer token; empty: only clients on
    /// this machine (behind a reverse proxy on the same host, set a token).
    pub metrics_token: String,
}

#[derive(Clone, Deserialize)]
pub struct BootstrapConfig {
    pub admin_username: String,
    /// Empty: a random password is generated and printed once.
    pub admin_password: String,
    /// The region the first administrator governs (12-digit code); empty: the whole country.
    pub admin_region: String,
}

// The configuration is logged and printed in panics; the database password, the first
// administrator's password and the metrics token must not be.

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &without_password(&self.database_url))
            .field("max_connections", &self.max_connections)
            .field("sqlite_readers", &self.sqlite_readers)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .field("auth", &self.auth)
            .field("sync", &self.sync)
            .field("http", &self.http)
            .field("bootstrap", &self.bootstrap)
            .field("schedule", &self.schedule)
            .field("notices", &self.notices)
            .field("notify", &self.notify)
            .field("uploads", &self.uploads)
            .field("reports", &self.reports)
            .finish()
    }
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("metrics_token", &redacted(&self.metrics_token))
            .finish()
    }
}

impl std::fmt::Debug for BootstrapConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapConfig")
            .field("admin_username", &self.admin_username)
            .field("admin_password", &redacted(&self.admin_password))
            .field("admin_region", &self.admin_region)
            .finish()
    }
}

fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() { "" } else { "***" }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((credentials, host)) = rest.split_once('@') else { return url.to_owned() };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

impl Config {
    /// Loads defaults, the optional file and the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, config::ConfigError> {
        let mut builder = Config::with_defaults()?;
        if let Some(path) = file {
            builder = builder.add_source(config::File::from(path));
        }
        builder
            .add_source(config::Environment::with_prefix("JINGZHUN").prefix_separator("__").separator("__"))
            .set_override_option("database_url", std::env::var("DATABASE_URL").ok())?
            .set_override_option("bind", std::env::var("JINGZHUN_BIND").ok())?
            .build()?
            .try_deserialize()
    }

    /// The base of public URLs (notice pages, QR codes), without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.notices.public_url.is_empty() {
            format!("http://{}", self.bind)
        } else {
            self.notices.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// The defaults alone, untouched by the environment: for tests and tools.
    pub fn defaults() -> Result<Config, config::ConfigError> {
        Config::with_defaults()?.build()?.try_deserialize()
    }

    fn with_defaults() -> Result<config::ConfigBuilder<config::builder::DefaultState>, config::ConfigError> {
        config::Config::builder()
            .set_default("bind", "127.0.0.1:8080")?
            .set_default("database_url", "sqlite://jingzhun.db?mode=rwc")?
            .set_default("max_connections", 16)?
            .set_default("sqlite_readers", 4)?
            .set_default("sqlite_synchronous", "full")?
            .set_default("auth.token_ttl_hours", 24 * 30)?
            .set_default("auth.login_user_failures", 5)?
            .set_default("auth.login_address_failures", 30)?
            .set_default("auth.login_first_lock_secs", 30)?
            .set_default("auth.login_longest_lock_secs", 15 * 60)?
            .set_default("auth.login_wait_secs", 5)?
            .set_default("auth.drain_days", 14)?
            .set_default("auth.console_idle_minutes", 30)?
            .set_default("auth.console_secure_cookie", false)?
            .set_default("sync.tombstone_days", 180)?
            .set_default("sync.max_page", 2000)?
            .set_default("sync.max_changesets_per_push", 200)?
            .set_default("sync.postgres_push_lanes", 4)?
            .set_default("sync.postgres_group_changesets", 96)?
            .set_default("sync.max_changes_per_changeset", 500)?
            .set_default("sync.attachment_max_bytes", 10 * 1024 * 1024)?
            .set_default("sync.min_client_version", 1)?
            .set_default("sync.former_officer_grace_days", 14)?
            .set_default("http.max_body_bytes", 4 * 1024 * 1024)?
            .set_default("http.request_timeout_secs", 30)?
            .set_default("http.metrics_token", "")?
            .set_default("bootstrap.admin_username", "admin")?
            .set_default("bootstrap.admin_password", "")?
            .set_default("bootstrap.admin_region", "")?
            .set_default("notices.public_url", "")?
            .set_default("notices.page_cache_secs", 5)?
            .set_default("notices.objection_answer_days", 5)?
            .set_default("notices.objections_per_ip_per_hour", 10)?
            .set_default("notices.objections_per_notice_per_hour", 300)?
            .set_default("notices.receipt_lookups_per_ip_per_hour", 120)?
            .set_default("notices.client_ip_header", "")?
            .set_default("schedule.enabled", true)?
            .set_default("schedule.digest", "0 30 8 * * *")?
            .set_default("schedule.reminders", "0 0 8 * * *")?
            .set_default("schedule.progress", "0 0 * * * *")?
            .set_default("schedule.step_waiting_days", 7)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example file documents every section: it must load, and agree with the defaults.
    #[test]
    fn the_example_file_loads_with_the_default_values() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../jingzhun.example.toml");
        let example = Config::load(Some(&path)).expect("jingzhun.example.toml loads");
        let defaults = Config::defaults().expect("defaults");
        assert_eq!(example.sqlite_readers, defaults.sqlite_readers);
        assert_eq!(example.notices.page_cache_secs, defaults.notices.page_cache_secs);
        assert_eq!(example.schedule.digest, defaults.schedule.digest);
        assert_eq!(example.notify.sms_per_hour, defaults.notify.sms_per_hour);
        assert_eq!(example.notify.quiet_hours_start, defaults.notify.quiet_hours_start);
        assert!(example.notify.sms_provider.is_empty(), "no provider configured by the example");
        assert_eq!(format!("{:?}", example.uploads), format!("{:?}", defaults.uploads));
        assert_eq!(format!("{:?}", example.reports), format!("{:?}", defaults.reports));
    }

    #[test]
    fn debug_output_hides_passwords_and_tokens() {
        let mut config = Config::defaults().expect("defaults");
        config.database_url = "postgres://jingzhun:s3cret-db@db.example/jz".into();
        config.bootstrap.admin_password = "s3cret-admin".into();
        config.http.metrics_token = "s3cret-token".into();
        let printed = format!("{config:?}");
        for secret in ["s3cret-db", "s3cret-admin", "s3cret-token"] {
            assert!(!printed.contains(secret), "{secret} printed: {printed}");
        }
        assert!(printed.contains("postgres://jingzhun:***@db.example/jz"), "{printed}");
    }
}
