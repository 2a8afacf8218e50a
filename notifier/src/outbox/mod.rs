//! The outbox dispatcher: claims due rows of the `notification` table, applies the
//! policy (quiet hours, per-recipient limits), sends each through its [`Channel`] and
//! records the provider's answer in the row and in `notification_attempt`.
//!
//! Claiming: on PostgreSQL one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`
//! marks a batch `sending` with this dispatcher's id and a lease, so several server
//! processes share the work and never take the same row. SQLite has one writer, so the
//! same conditional UPDATE (without row locks) is enough there.
//!
//! What the dispatcher must never do: send a row twice. A row whose lease ran out while
//! `sending` (the process died mid-send) is marked `unknown`, not sent again, because an
//! SMS may already be on its way and SMS APIs carry no idempotency key; the same for a
//! send whose outcome is [`SendError::Indeterminate`]. Rows of a channel this deployment
//! has not configured stay `queued` (and go out once it is configured).
//!
//! Every instant comes from the caller (`now`), so tests move time with a clock.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use rand::Rng;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait, Value,
};

use crate::policy::{AfterAttempt, Backoff, QuietHours, RateLimit, after_attempt};
use crate::{Channel, Delivery, Message, SendError};

/// The configured channels; `None` leaves that channel's rows queued.
#[derive(Clone, Default)]
pub struct Channels {
    pub sms: Option<Arc<dyn Channel>>,
    pub email: Option<Arc<dyn Channel>>,
    pub wecom: Option<Arc<dyn Channel>>,
}

/// Names the configured providers only (a channel holds credentials).
impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |channel: &Option<Arc<dyn Channel>>| channel.as_ref().map(|channel| channel.name());
        f.debug_struct("Channels")
            .field("sms", &name(&self.sms))
            .field("email", &name(&self.email))
            .field("wecom", &name(&self.wecom))
            .finish()
    }
}

impl Channels {
    fn get(&self, channel: &str) -> Option<&Arc<dyn Channel>> {
        match channel {
            "sms" => self.sms.as_ref(),
            "email" => self.email.as_ref(),
            "wecom" => self.wecom.as_ref(),
            _ => None,
        }
    }

    fn configured(&self) -> Vec<&'static str> {
        [("sms", &self.sms), ("email", &self.email), ("wecom", &self.wecom)]
            .into_iter()
            .filter(|(_, channel)| channel.is_some())
            .map(|(name, _)| name)
            .collect()
    }
}

/// The dispatcher's rules.
#[derive(Clone, Debug)]
pub struct Policy {
    /// SMS quiet hours in Beijing time (default 21:00–08:00).
    pub quiet_hours: QuietHours,
    /// Whether urgent rows pass the SMS quiet hours.
    pub urgent_passes_quiet_hours: bool,
    /// Event codes urgent whatever the row says.
    pub urgent_events: Vec<String>,
    /// Per phone number.
    pub sms_limit: RateLimit,
    /// Per WeCom robot: the robot refuses more than 20 messages a minute.
    pub wecom_limit: RateLimit,
    pub backoff: Backoff,
    /// Extra random wait on retries, as a share of the backoff delay (0.2 = up to +20 %),
    /// so a provider's outage does not end in a stampede of retries.
    pub jitter: f64,
    /// How long a claim lasts; a row still `sending` after it becomes `unknown`.
    pub lease: Duration,
    /// Rows claimed per cycle.
    pub batch: usize,
    /// Sends in flight at once (different recipients only).
    pub concurrency: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            quiet_hours: QuietHours::default(),
            urgent_passes_quiet_hours: false,
            urgent_events: Vec::new(),
            sms_limit: RateLimit::default(),
            wecom_limit: RateLimit { per_minute: 20, per_hour: 0, per_day: 0 },
            backoff: Backoff::default(),
            jitter: 0.2,
            lease: Duration::from_secs(300),
            batch: 200,
            concurrency: 32,
        }
    }
}

/// What one cycle did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub claimed: usize,
    pub sent: usize,
    /// Transient failures that will be tried again.
    pub retried: usize,
    /// Held by quiet hours or a rate limit.
    pub held: usize,
    pub failed: usize,
    /// Outcome unknown (indeterminate answer, or a lease that ran out): not resent.
    pub unknown: usize,
}

/// One dispatcher: a database, the channels and the policy. Several may run against one
/// PostgreSQL database (each with its own id).
pub struct Dispatcher {
    db: DatabaseConnection,
    channels: Channels,
    policy: Policy,
    worker: String,
}

struct Claimed {
    id: String,
    channel: String,
    address: Option<String>,
    template: Option<String>,
    sms_params: String,
    subject: Option<String>,
    body: String,
    attempts: i32,
    urgent: bool,
    event: String,
}

/// What happened to one claimed row.
enum Step {
    Sent { provider: &'static str, delivery: Delivery },
    Retry { provider: &'static str, at: DateTime<Utc>, error: SendError },
    Failed { provider: Option<&'static str>, error: SendError },
    Unknown { provider: &'static str, error: SendError },
    Held { until: DateTime<Utc>, reason: &'static str },
}

/// What one step writes to its row and to the attempt log.
struct Written {
    status: &'static str,
    next: DateTime<Utc>,
    provider: Option<&'static str>,
    code: Option<String>,
    message_id: Option<String>,
    error: Option<String>,
    sent_at: Option<DateTime<Utc>>,
    /// The attempt log's outcome.
    outcome: &'static str,
}

impl Step {
    fn written(&self, now: DateTime<Utc>) -> Written {
        let failure = |status, next, provider, error: &SendError, outcome| Written {
            status,
            next,
            provider,
            code: Some(error.code().to_string()),
            message_id: None,
            error: Some(error.to_string()),
            sent_at: None,
            outcome,
        };
        match self {
            Step::Sent { provider, delivery } => Written {
                status: "sent",
                next: now,
                provider: Some(provider),
                code: Some(delivery.provider_code.clone()),
                message_id: delivery.provider_message_id.clone(),
                error: None,
                sent_at: Some(now),
                outcome: "sent",
            },
            Step::Retry { provider, at, error } => failure("queued", *at, Some(*provider), error, "transient"),
            Step::Failed { provider, error } => failure("failed", now, *provider, error, "permanent"),
            Step::Unknown { provider, error } => failure("unknown", now, Some(*provider), error, "indeterminate"),
            Step::Held { until, reason } => Written {
                status: "held",
                next: *until,
                provider: None,
                code: Some((*reason).to_string()),
                message_id: None,
                error: None,
                sent_at: None,
                outcome: "held",
            },
        }
    }
}

impl Dispatcher {
    pub fn new(db: DatabaseConnection, channels: Channels, policy: Policy) -> Self {
        let worker = format!("dispatcher-{}", uuid::Uuid::new_v4());
        Self { db, channels, policy, worker }
    }

    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Claims the rows due at `now`, sends them and records the results. Returns what it
    /// did; an empty outcome means nothing was due.
    pub async fn try_dispatch_once(&self, now: DateTime<Utc>) -> Result<Outcome, DbErr> {
        let mut outcome = Outcome { unknown: self.expire_leases(now).await?, ..Outcome::default() };
        let claimed = self.claim(now).await?;
        outcome.claimed = claimed.len();
        if claimed.is_empty() {
            return Ok(outcome);
        }
        // Rows to one address go one after another, so each sees the sends before it
        // (rate limits); different addresses go side by side.
        let mut groups: BTreeMap<(String, String), Vec<Claimed>> = BTreeMap::new();
        for row in claimed {
            groups.entry((row.channel.clone(), row.address.clone().unwrap_or_default())).or_default().push(row);
        }
        let recent = self.recent_sends(now, &groups).await?;
        let results: Vec<Vec<(Claimed, Step)>> = futures::stream::iter(groups.into_iter().map(|(key, rows)| {
            let mut sent = recent.get(&key).cloned().unwrap_or_default();
            async move {
                let mut steps = Vec::with_capacity(rows.len());
                for row in rows {
                    let step = self.dispatch_row(&row, &mut sent, now).await;
                    steps.push((row, step));
                }
                steps
            }
        }))
        .buffer_unordered(self.policy.concurrency.max(1))
        .collect()
        .await;
        let steps: Vec<(Claimed, Step)> = results.into_iter().flatten().collect();
        for (_, step) in &steps {
            match step {
                Step::Sent { .. } => outcome.sent += 1,
                Step::Retry { .. } => outcome.retried += 1,
                Step::Failed { .. } => outcome.failed += 1,
                Step::Unknown { .. } => outcome.unknown += 1,
                Step::Held { .. } => outcome.held += 1,
            }
        }
        self.record(now, &steps).await?;
        Ok(outcome)
    }

    async fn dispatch_row(&self, row: &Claimed, sent: &mut Vec<DateTime<Utc>>, now: DateTime<Utc>) -> Step {
        let Some(channel) = self.channels.get(&row.channel) else {
            // Only configured channels are claimed; a row cannot get here otherwise.
            return Step::Failed {
                provider: None,
                error: SendError::permanent(
                    "channel_not_configured",
                    format!("channel {} is not configured", row.channel),
                ),
            };
        };
        let urgent = row.urgent || self.policy.urgent_events.contains(&row.event);
        if row.channel == "sms"
            && !(urgent && self.policy.urgent_passes_quiet_hours)
            && let Some(until) = self.policy.quiet_hours.held_until(now)
        {
            return Step::Held { until, reason: "quiet_hours" };
        }
        let limit = match row.channel.as_str() {
            "sms" => Some(&self.policy.sms_limit),
            "wecom" => Some(&self.policy.wecom_limit),
            _ => None,
        };
        if let Some(until) = limit.and_then(|limit| limit.next_allowed(sent, now)) {
            return Step::Held { until, reason: "rate_limit" };
        }
        let message = match self.message_for(channel.name(), row) {
            Ok(message) => message,
            Err(error) => return Step::Failed { provider: Some(channel.name()), error },
        };
        let result = channel.send(&message).await;
        let send_error = result.as_ref().err().cloned();
        if result.is_ok() {
            sent.push(now);
        }
        let attempt = u32::try_from(row.attempts).unwrap_or(0).saturating_add(1);
        let provider = channel.name();
        match after_attempt(result, attempt, &self.policy.backoff, now) {
            AfterAttempt::Sent(delivery) => Step::Sent { provider, delivery },
            AfterAttempt::RetryAt(at) => {
                let delay = (at - now).num_milliseconds().max(0) as f64;
                let jitter = rand::thread_rng().gen_range(0.0..=self.policy.jitter.max(0.0)) * delay;
                let at = at + chrono::Duration::milliseconds(jitter as i64);
                let error = send_error.unwrap_or_else(|| SendError::transient("retry", ""));
                Step::Retry { provider, at, error }
            }
            AfterAttempt::Failed(error) => Step::Failed { provider: Some(provider), error },
            AfterAttempt::Review(error) => Step::Unknown { provider, error },
        }
    }

    fn message_for(&self, provider: &str, row: &Claimed) -> Result<Message, SendError> {
        let address = row.address.clone().unwrap_or_default();
        let mut message = Message {
            recipient: address,
            template: row.template.clone().unwrap_or_else(|| row.event.clone()),
            params: BTreeMap::new(),
            subject: row.subject.clone(),
            body: Some(row.body.clone()),
        };
        if row.channel == "sms" {
            let pairs: Vec<(String, String)> = serde_json::from_str(&row.sms_params)
                .map_err(|error| SendError::permanent("sms_params", error.to_string()))?;
            // Tencent's templates are positional ("1", "2", …); Aliyun's are named.
            message.params = if provider == "tencent_sms" {
                pairs.into_iter().enumerate().map(|(i, (_, value))| ((i + 1).to_string(), value)).collect()
            } else {
                pairs.into_iter().collect()
            };
        }
        Ok(message)
    }

    /// Marks rows whose claim ran out while sending as `unknown`.
    async fn expire_leases(&self, now: DateTime<Utc>) -> Result<usize, DbErr> {
        let result = self
            .db
            .execute_raw(self.sql(
                "UPDATE notification SET status = 'unknown', claimed_by = NULL, claimed_until = NULL, \
                 last_error = 'the dispatcher stopped while sending: not resent, check the provider', updated_at = ? \
                 WHERE status = 'sending' AND claimed_until < ?",
                vec![now.into(), now.into()],
            ))
            .await?;
        Ok(result.rows_affected() as usize)
    }

    async fn claim(&self, now: DateTime<Utc>) -> Result<Vec<Claimed>, DbErr> {
        let channels = self.channels.configured();
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let lease = chrono::Duration::from_std(self.policy.lease).unwrap_or(chrono::Duration::minutes(5));
        let locking = if self.backend() == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let text = format!(
            "UPDATE notification SET status = 'sending', claimed_by = ?, claimed_until = ?, updated_at = ? \
             WHERE id IN (SELECT id FROM notification WHERE status IN ('queued', 'held') AND next_attempt_at <= ? \
             AND channel IN ({}) ORDER BY next_attempt_at LIMIT ?{locking}) \
             RETURNING id, channel, address, template, sms_params, subject, body, attempts, urgent, event",
            vec!["?"; channels.len()].join(", ")
        );
        let mut values: Vec<Value> = vec![self.worker.as_str().into(), (now + lease).into(), now.into(), now.into()];
        values.extend(channels.iter().map(|channel| Value::from(*channel)));
        values.push((self.policy.batch.max(1) as i64).into());
        let txn = self.begin().await?;
        let rows = txn.query_all_raw(self.sql(&text, values)).await?;
        txn.commit().await?;
        rows.into_iter()
            .map(|row| {
                Ok(Claimed {
                    id: row.try_get_by_index(0)?,
                    channel: row.try_get_by_index(1)?,
                    address: row.try_get_by_index(2)?,
                    template: row.try_get_by_index(3)?,
                    sms_params: row.try_get_by_index(4)?,
                    subject: row.try_get_by_index(5)?,
                    body: row.try_get_by_index(6)?,
                    attempts: row.try_get_by_index(7)?,
                    urgent: row.try_get_by_index(8)?,
                    event: row.try_get_by_index(9)?,
                })
            })
            .collect()
    }

    /// Earlier sends to the claimed SMS numbers and robots within the limits' windows.
    async fn recent_sends(
        &self,
        now: DateTime<Utc>,
        groups: &BTreeMap<(String, String), Vec<Claimed>>,
    ) -> Result<HashMap<(String, String), Vec<DateTime<Utc>>>, DbErr> {
        let mut recent: HashMap<(String, String), Vec<DateTime<Utc>>> = HashMap::new();
        for channel in ["sms", "wecom"] {
            let addresses: Vec<&String> =
                groups.keys().filter(|(name, _)| name == channel).map(|(_, address)| address).collect();
            for chunk in addresses.chunks(500) {
                let text = format!(
                    "SELECT address, sent_at FROM notification WHERE channel = ? AND status = 'sent' AND sent_at > ? \
                     AND address IN ({})",
                    vec!["?"; chunk.len()].join(", ")
                );
                let mut values: Vec<Value> = vec![channel.into(), (now - chrono::Duration::days(1)).into()];
                values.extend(chunk.iter().map(|address| Value::from(address.as_str())));
                for row in self.db.query_all_raw(self.sql(&text, values)).await? {
                    let address: String = row.try_get_by_index(0)?;
                    let sent_at: DateTime<Utc> = row.try_get_by_index(1)?;
                    recent.entry((channel.to_string(), address)).or_default().push(sent_at);
                }
            }
        }
        Ok(recent)
    }

    /// Writes each row's result and its attempt, in one transaction per cycle.
    async fn record(&self, now: DateTime<Utc>, steps: &[(Claimed, Step)]) -> Result<(), DbErr> {
        let txn = self.begin().await?;
        for (row, step) in steps {
            let attempt = row.attempts + i32::from(!matches!(step, Step::Held { .. }));
            let Written { status, next, provider, code, message_id, error, sent_at, outcome } = step.written(now);
            txn.execute_raw(self.sql(
                "UPDATE notification SET status = ?, attempts = ?, next_attempt_at = ?, \
                 provider = COALESCE(?, provider), provider_code = COALESCE(?, provider_code), \
                 provider_message_id = COALESCE(?, provider_message_id), last_error = ?, sent_at = ?, \
                 claimed_by = NULL, claimed_until = NULL, updated_at = ? \
                 WHERE id = ? AND claimed_by = ? AND status = 'sending'",
                vec![
                    status.into(),
                    attempt.into(),
                    next.into(),
                    provider.map(str::to_owned).into(),
                    code.clone().into(),
                    message_id.clone().into(),
                    error.clone().into(),
                    sent_at.into(),
                    now.into(),
                    row.id.as_str().into(),
                    self.worker.as_str().into(),
                ],
            ))
            .await?;
            let detail = match step {
                Step::Held { until, .. } => Some(format!("held until {}", until.to_rfc3339())),
                _ => error.clone(),
            };
            txn.execute_raw(self.sql(
                "INSERT INTO notification_attempt (id, notification_id, attempt, at, provider, outcome, code, \
                 provider_message_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    uuid::Uuid::new_v4().to_string().into(),
                    row.id.as_str().into(),
                    attempt.into(),
                    now.into(),
                    provider.map(str::to_owned).into(),
                    outcome.into(),
                    code.into(),
                    message_id.into(),
                    detail.into(),
                ],
            ))
            .await?;
            match step {
                Step::Sent { .. } | Step::Held { .. } => {}
                Step::Retry { error, .. } | Step::Failed { error, .. } | Step::Unknown { error, .. } => {
                    tracing::warn!(notification = %row.id, channel = %row.channel, status, code = error.code(), "notification not sent");
                }
            }
        }
        txn.commit().await
    }

    /// A write transaction; on SQLite it takes the write lock at once (IMMEDIATE), so it
    /// waits for the server's writers instead of failing on a stale snapshot.
    async fn begin(&self) -> Result<sea_orm::DatabaseTransaction, DbErr> {
        let options = TransactionOptions {
            sqlite_transaction_mode: (self.backend() == DbBackend::Sqlite).then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        self.db.begin_with_options(options).await
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// `?` placeholders numbered for PostgreSQL (no `?` inside literals here).
    fn sql(&self, text: &str, values: Vec<Value>) -> Statement {
        let backend = self.backend();
        let text = if backend == DbBackend::Postgres {
            let mut out = String::with_capacity(text.len() + 16);
            let mut n = 0;
            for c in text.chars() {
                if c == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(c);
                }
            }
            out
        } else {
            text.to_owned()
        };
        Statement::from_sql_and_values(backend, text, values)
    }
}

/// Runs cycles until `shutdown` resolves: at once again after a full batch, otherwise
/// after `interval`. `now` is the clock (the server's, which tests move). Database errors
/// are logged and the loop goes on.
pub async fn run_until_stopped<N, S>(dispatcher: Dispatcher, now: N, interval: Duration, shutdown: S)
where
    N: Fn() -> DateTime<Utc> + Send + Sync,
    S: Future<Output = ()> + Send,
{
    tokio::pin!(shutdown);
    loop {
        let full = match dispatcher.try_dispatch_once(now()).await {
            Ok(outcome) => {
                if outcome.claimed > 0 {
                    tracing::info!(?outcome, "notifications dispatched");
                }
                outcome.claimed >= dispatcher.policy.batch
            }
            Err(error) => {
                tracing::error!(%error, "notification dispatch failed");
                false
            }
        };
        if full {
            continue;
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
