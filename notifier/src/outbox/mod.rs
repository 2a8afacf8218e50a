//! The outbox dispatcher: claims due rows of the `notification` table, applies the
//! policy (quiet hours, per-recipient limits), sends each through its [`Channel`] and
//! records the provider's answer in the row and in `notification_attempt`.
//!
//! Claiming: on PostgreSQL one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`
//! marks a batch `sending` with this dispatcher's id and a lease, so several server
//! processes share the work and never take the same row. SQLite has one writer, so the
//! same conditional UPDATE (without row locks) is enough there.
//!
//! Per-recipient limits hold across processes: before each send the dispatcher takes a
//! slot for the number (or robot) in one short transaction, serialised per recipient,
//! counting every send any dispatcher has started (`sent_at` marks a started send, from
//! the moment it is reserved), not only the ones already recorded. Each row's result is
//! recorded as soon as its send returns, not after the batch.
//!
//! What the dispatcher must never do: send a row twice. A row whose lease ran out while
//! `sending` (the process died mid-send) is marked `unknown`, not sent again, because an
//! SMS may already be on its way and SMS APIs carry no idempotency key; the same for a
//! send whose outcome is [`SendError::Indeterminate`]. Rows of a channel this deployment
//! has not configured stay `queued` (and go out once it is configured).
//!
//! Every instant comes from the caller (`now`), so tests move time with a clock.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use jingzhun_db::{Db, sql};
use rand::Rng;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};

use crate::policy::{AfterAttempt, Backoff, QuietHours, RateLimit, after_attempt};
use crate::{Channel, Delivery, Message, SendError};

/// The advisory-lock key of one recipient (PostgreSQL): the first 8 bytes of a SHA-256
/// of channel and address, so every process agrees on it.
fn recipient_lock_key(channel: &str, address: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("jingzhun-notify:{channel}:{address}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

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
/// PostgreSQL database (each with its own id). Its writes take the [`Db`]'s SQLite writer
/// slot, so inside the server they queue with the server's own writers.
pub struct Dispatcher {
    db: Db,
    channels: Channels,
    policy: Policy,
    worker: String,
}

/// A claimed row, read by column name from the claim's `RETURNING`.
#[derive(FromQueryResult)]
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

/// A send any dispatcher started for a recipient (the rate limits count these).
#[derive(FromQueryResult)]
struct SentAt {
    sent_at: DateTime<Utc>,
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
            // The send started: it keeps counting against the recipient's limits.
            Step::Unknown { provider, error } => {
                Written { sent_at: Some(now), ..failure("unknown", now, Some(*provider), error, "indeterminate") }
            }
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

/// What a person's one-off send ([`Dispatcher::send_now`]) came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendNow {
    /// The provider took it.
    Sent { provider: &'static str, delivery: Delivery },
    /// The provider refused it, or its outcome is unknown; never retried.
    NotSent { provider: Option<&'static str>, error: SendError },
    /// Quiet hours or the recipient's limit: not sent, and cancelled rather than sent later.
    Held { until: DateTime<Utc>, reason: &'static str },
    /// The row was not queued (already sent, cancelled, or claimed by a dispatcher).
    NotQueued,
}

/// What the send reservation decided for one row.
enum Reserved {
    /// Go: the row is marked as being sent (its `sent_at`), counted by every dispatcher.
    Go,
    /// The recipient's limit holds it until then.
    Held(DateTime<Utc>),
    /// The row is no longer this dispatcher's (a person cancelled or resent it).
    Lost,
}

impl Dispatcher {
    pub fn new(db: Db, channels: Channels, policy: Policy) -> Self {
        let worker = format!("dispatcher-{}", uuid::Uuid::new_v4());
        Self { db, channels, policy, worker }
    }

    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Claims the rows due at `now`, sends them and records each result as soon as it
    /// is known. Returns what it did; an empty outcome means nothing was due.
    pub async fn try_dispatch_once(&self, now: DateTime<Utc>) -> Result<Outcome, DbErr> {
        let started = Instant::now();
        let mut outcome = Outcome { unknown: self.expire_leases(now).await?, ..Outcome::default() };
        let claimed = self.claim(now, None).await?;
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
        let results: Vec<Result<Vec<Option<Step>>, DbErr>> =
            futures::stream::iter(groups.into_values().map(|rows| async move {
                let mut steps = Vec::with_capacity(rows.len());
                for row in rows {
                    steps.push(self.dispatch_row(&row, now, started, false).await?);
                }
                Ok(steps)
            }))
            .buffer_unordered(self.policy.concurrency.max(1))
            .collect()
            .await;
        for steps in results {
            for step in steps?.into_iter().flatten() {
                match step {
                    Step::Sent { .. } => outcome.sent += 1,
                    Step::Retry { .. } => outcome.retried += 1,
                    Step::Failed { .. } => outcome.failed += 1,
                    Step::Unknown { .. } => outcome.unknown += 1,
                    Step::Held { .. } => outcome.held += 1,
                }
            }
        }
        Ok(outcome)
    }

    /// Sends one queued row now, for a person waiting on the answer (a test send): the
    /// same quiet hours, per-recipient limits and logging as every other message, but
    /// one attempt only, and a row the policy would hold is cancelled, not sent later.
    pub async fn send_now(&self, id: &str, now: DateTime<Utc>) -> Result<SendNow, DbErr> {
        let started = Instant::now();
        let Some(row) = self.claim(now, Some(id)).await?.pop() else {
            return Ok(SendNow::NotQueued);
        };
        Ok(match self.dispatch_row(&row, now, started, true).await? {
            Some(Step::Sent { provider, delivery }) => SendNow::Sent { provider, delivery },
            Some(Step::Held { until, reason }) => SendNow::Held { until, reason },
            Some(Step::Retry { provider, error, .. } | Step::Unknown { provider, error }) => {
                SendNow::NotSent { provider: Some(provider), error }
            }
            Some(Step::Failed { provider, error }) => SendNow::NotSent { provider, error },
            None => SendNow::NotQueued,
        })
    }

    /// Applies the policy to one claimed row, sends it, and records the result at once
    /// (never after the whole batch: a slow batch must not leave sent rows unrecorded).
    /// `None`: the row was no longer this dispatcher's.
    async fn dispatch_row(
        &self,
        row: &Claimed,
        now: DateTime<Utc>,
        started: Instant,
        once: bool,
    ) -> Result<Option<Step>, DbErr> {
        let Some(channel) = self.channels.get(&row.channel) else {
            // Only configured channels are claimed; a row cannot get here otherwise.
            let error =
                SendError::permanent("channel_not_configured", format!("channel {} is not configured", row.channel));
            return self.finish(now, row, Step::Failed { provider: None, error }, once).await;
        };
        let urgent = row.urgent || self.policy.urgent_events.contains(&row.event);
        if row.channel == "sms"
            && !(urgent && self.policy.urgent_passes_quiet_hours)
            && let Some(until) = self.policy.quiet_hours.held_until(now)
        {
            return self.finish(now, row, Step::Held { until, reason: "quiet_hours" }, once).await;
        }
        let message = match self.message_for(channel.name(), row) {
            Ok(message) => message,
            Err(error) => {
                return self.finish(now, row, Step::Failed { provider: Some(channel.name()), error }, once).await;
            }
        };
        match self.reserve(row, now, started).await? {
            Reserved::Go => {}
            Reserved::Held(until) => {
                return self.finish(now, row, Step::Held { until, reason: "rate_limit" }, once).await;
            }
            Reserved::Lost => return Ok(None),
        }
        let result = channel.send(&message).await;
        let send_error = result.as_ref().err().cloned();
        let attempt = u32::try_from(row.attempts).unwrap_or(0).saturating_add(1);
        let provider = channel.name();
        let backoff = if once { Backoff { max_attempts: 1, ..self.policy.backoff } } else { self.policy.backoff };
        let step = match after_attempt(result, attempt, &backoff, now) {
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
        };
        self.finish(now, row, step, once).await
    }

    /// Records a step; a one-off send's hold becomes a cancellation.
    async fn finish(&self, now: DateTime<Utc>, row: &Claimed, step: Step, once: bool) -> Result<Option<Step>, DbErr> {
        self.record(now, row, &step, once).await?;
        Ok(Some(step))
    }

    /// The limit a channel's recipients are held to, if any.
    fn limit_of(&self, channel: &str) -> Option<&RateLimit> {
        match channel {
            "sms" => Some(&self.policy.sms_limit),
            "wecom" => Some(&self.policy.wecom_limit),
            _ => None,
        }
    }

    /// Takes a send slot for the row's recipient, or says when one frees up. The check
    /// and the mark are one transaction, serialised per recipient (PostgreSQL: an
    /// advisory lock on the address; SQLite: its single writer), and count every send
    /// started by any dispatcher, finished or still in flight, so the limit holds
    /// across processes. The row's lease is renewed with it.
    async fn reserve(&self, row: &Claimed, now: DateTime<Utc>, started: Instant) -> Result<Reserved, DbErr> {
        let address = row.address.clone().unwrap_or_default();
        let limit = self.limit_of(&row.channel).filter(|limit| limit.per_minute + limit.per_hour + limit.per_day > 0);
        let txn = self.db.begin_write().await?;
        if let Some(limit) = limit {
            if self.db.is_postgres() {
                txn.execute_raw(sql(
                    self.db.backend(),
                    "SELECT pg_advisory_xact_lock(?)",
                    vec![recipient_lock_key(&row.channel, &address).into()],
                ))
                .await?;
            }
            let rows = SentAt::find_by_statement(sql(
                self.db.backend(),
                "SELECT sent_at FROM notification WHERE channel = ? AND address = ? AND sent_at > ? \
                     AND status IN ('sent', 'sending', 'unknown') AND id <> ?",
                vec![
                    row.channel.as_str().into(),
                    address.as_str().into(),
                    (now - chrono::Duration::days(1)).into(),
                    row.id.as_str().into(),
                ],
            ))
            .all(&*txn)
            .await?;
            let sent: Vec<DateTime<Utc>> = rows.into_iter().map(|row| row.sent_at).collect();
            if let Some(until) = limit.next_allowed(&sent, now) {
                txn.commit().await?;
                return Ok(Reserved::Held(until));
            }
        }
        let lease = chrono::Duration::from_std(self.policy.lease).unwrap_or(chrono::Duration::minutes(5));
        let elapsed = chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
        // A row whose lease ran out meanwhile was marked `unknown` by another dispatcher;
        // this one knows it never started it (`sent_at` is empty), so it may still go.
        let marked = txn
            .execute_raw(sql(
                self.db.backend(),
                "UPDATE notification SET status = 'sending', sent_at = ?, claimed_until = ?, updated_at = ? \
                 WHERE id = ? AND claimed_by = ? AND (status = 'sending' OR (status = 'unknown' AND sent_at IS NULL))",
                vec![
                    now.into(),
                    (now + elapsed + lease).into(),
                    now.into(),
                    row.id.as_str().into(),
                    self.worker.as_str().into(),
                ],
            ))
            .await?;
        txn.commit().await?;
        Ok(if marked.rows_affected() == 1 { Reserved::Go } else { Reserved::Lost })
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

    /// Marks rows whose claim ran out while sending as `unknown`. The claim's owner is
    /// kept: if it is still alive it knows the truth and records it over this.
    async fn expire_leases(&self, now: DateTime<Utc>) -> Result<usize, DbErr> {
        let result = self
            .db
            .conn
            .execute_raw(sql(
                self.db.backend(),
                "UPDATE notification SET status = 'unknown', \
                 last_error = 'the dispatcher stopped while sending: not resent, check the provider', updated_at = ? \
                 WHERE status = 'sending' AND claimed_until < ?",
                vec![now.into(), now.into()],
            ))
            .await?;
        Ok(result.rows_affected() as usize)
    }

    /// Claims the due rows (or the one queued row `only`) for this dispatcher.
    async fn claim(&self, now: DateTime<Utc>, only: Option<&str>) -> Result<Vec<Claimed>, DbErr> {
        let channels = self.channels.configured();
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let lease = chrono::Duration::from_std(self.policy.lease).unwrap_or(chrono::Duration::minutes(5));
        let locking = if self.db.is_postgres() { " FOR UPDATE SKIP LOCKED" } else { "" };
        let due = if only.is_some() {
            "id = ? AND status = 'queued'"
        } else {
            "status IN ('queued', 'held') AND next_attempt_at <= ?"
        };
        // `sent_at` is cleared: from here on it marks a send that has started.
        let text = format!(
            "UPDATE notification SET status = 'sending', claimed_by = ?, claimed_until = ?, sent_at = NULL, updated_at = ? \
             WHERE id IN (SELECT id FROM notification WHERE {due} \
             AND channel IN ({}) ORDER BY next_attempt_at LIMIT ?{locking}) \
             RETURNING id, channel, address, template, sms_params, subject, body, attempts, urgent, event",
            vec!["?"; channels.len()].join(", ")
        );
        let mut values: Vec<Value> = vec![self.worker.as_str().into(), (now + lease).into(), now.into()];
        values.push(match only {
            Some(id) => id.into(),
            None => now.into(),
        });
        values.extend(channels.iter().map(|channel| Value::from(*channel)));
        values.push((self.policy.batch.max(1) as i64).into());
        let txn = self.db.begin_write().await?;
        let rows = Claimed::find_by_statement(sql(self.db.backend(), &text, values)).all(&*txn).await?;
        txn.commit().await?;
        Ok(rows)
    }

    /// Writes one row's result and its attempt, in one transaction. A row a lease
    /// expiry marked `unknown` meanwhile is still this dispatcher's to record: it sent it.
    async fn record(&self, now: DateTime<Utc>, row: &Claimed, step: &Step, once: bool) -> Result<(), DbErr> {
        let attempt = row.attempts + i32::from(!matches!(step, Step::Held { .. }));
        let Written { status, next, provider, code, message_id, error, sent_at, outcome } = step.written(now);
        // A one-off send is never sent later: what the policy holds is cancelled.
        let status = if once && status == "held" { "cancelled" } else { status };
        let txn = self.db.begin_write().await?;
        txn.execute_raw(sql(
            self.db.backend(),
            "UPDATE notification SET status = ?, attempts = ?, next_attempt_at = ?, \
             provider = COALESCE(?, provider), provider_code = COALESCE(?, provider_code), \
             provider_message_id = COALESCE(?, provider_message_id), last_error = ?, sent_at = ?, \
             claimed_by = NULL, claimed_until = NULL, updated_at = ? \
             WHERE id = ? AND claimed_by = ? AND status IN ('sending', 'unknown')",
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
        txn.execute_raw(sql(
            self.db.backend(),
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
        txn.commit().await?;
        match step {
            Step::Sent { .. } | Step::Held { .. } => {}
            Step::Retry { error, .. } | Step::Failed { error, .. } | Step::Unknown { error, .. } => {
                tracing::warn!(notification = %row.id, channel = %row.channel, status, code = error.code(), "notification not sent");
            }
        }
        Ok(())
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
