//! The delivery log as people see and steer it: the outbox rows (`notification`) and
//! their attempts (`notification_attempt`) a caller may see, a person's resend or cancel
//! of one row, and a test send through a configured channel.
//!
//! Who sees what: a user their own messages; county staff and administrators every
//! message of their region (filed under a region inside theirs, or filed under none and
//! sent to someone holding a role there). Every change is audited. What this module must
//! never do: show an address whole (phones and e-mails masked, robot keys hidden), write
//! an event's messages (the enqueue side, [`super::notify`], does), or retry on its own
//! (the dispatcher's policy decides retries; a person decides a resend).

use chrono::{DateTime, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_notifier::config::NotifyConfig;
use jingzhun_notifier::outbox::SendNow;
use jingzhun_notifier::provider_text;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};

use super::access::{manages_someone, manages_user};
use super::codes::{Event, known_channel};
use crate::auth::Caller;
use crate::clock::Clock;
use crate::db::{Db, sql};
use crate::error::{Kind, Refusal};
use crate::registry::Actor;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LogParams {
    /// Only this user's messages (county staff); a user without a managing role always
    /// sees only their own.
    pub user_id: Option<String>,
    /// queued, sending, sent, held, failed, unknown, cancelled.
    pub status: Option<String>,
    /// Most rows returned, newest first (default 100, at most 1000).
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryBody {
    pub id: String,
    pub event: String,
    pub user_id: String,
    pub channel: String,
    /// Masked: `138****8000`, `t***@example.org`; robot keys are not shown.
    pub address: Option<String>,
    pub region_code: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub provider: Option<String>,
    pub provider_code: Option<String>,
    pub provider_message_id: Option<String>,
    pub last_error: Option<String>,
    pub urgent: bool,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptBody {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub provider: Option<String>,
    /// sent, transient, permanent, indeterminate, held.
    pub outcome: String,
    pub code: Option<String>,
    pub provider_message_id: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TestSendBody {
    /// sms, email or wecom.
    pub channel: String,
    /// Phone number, e-mail address or WeCom robot key.
    pub address: String,
    /// The event whose template is used (default `daily_digest`), with sample variables.
    pub event: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestSendResult {
    pub sent: bool,
    pub provider: String,
    /// The provider's code: its success code, or its error code.
    pub provider_code: String,
    pub provider_message_id: Option<String>,
    /// transient, permanent or indeterminate when not sent.
    pub failure: Option<String>,
    pub detail: Option<String>,
}

/// An outbox row as the table holds it; [`DeliveryBody`] is what may be shown of it.
#[derive(FromQueryResult)]
struct DeliveryRow {
    id: String,
    event: String,
    user_id: String,
    channel: String,
    address: Option<String>,
    region_code: Option<String>,
    subject: Option<String>,
    body: String,
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    provider: Option<String>,
    provider_code: Option<String>,
    provider_message_id: Option<String>,
    last_error: Option<String>,
    urgent: bool,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

#[derive(FromQueryResult)]
struct AttemptRow {
    attempt: i32,
    at: DateTime<Utc>,
    provider: Option<String>,
    outcome: String,
    code: Option<String>,
    provider_message_id: Option<String>,
    detail: Option<String>,
}

/// Whose a message is: what the rules of who may see and steer it look at.
#[derive(FromQueryResult)]
struct MessageRow {
    user_id: String,
    region_code: Option<String>,
    status: String,
}

#[derive(FromQueryResult)]
struct PhoneRow {
    id: String,
    phone: Option<String>,
}

#[derive(FromQueryResult)]
struct IdRow {
    id: String,
}

/// Test sends a caller may make in an hour, counted in the audit log so every process agrees.
const TEST_SENDS_PER_HOUR: i64 = 5;

fn mask_address(channel: &str, address: Option<String>) -> Option<String> {
    let address = address?;
    Some(match channel {
        "sms" => jingzhun_notifier::mask_phone(&address),
        "email" => match address.split_once('@') {
            Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
            None => "***".into(),
        },
        _ => "***".into(),
    })
}

async fn message(conn: &impl ConnectionTrait, id: &str) -> Result<MessageRow, Refusal> {
    MessageRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT user_id, region_code, status FROM notification WHERE id = ?",
        vec![id.into()],
    ))
    .one(conn)
    .await?
    .ok_or_else(Refusal::not_found)
}

/// Whether the caller manages a message: one filed under a region by that region, one
/// filed under none by its recipient's (the delivery log's rule).
async fn manages_message(conn: &impl ConnectionTrait, caller: &Caller, message: &MessageRow) -> Result<bool, Refusal> {
    match &message.region_code {
        Some(region) => Ok(caller.manages_region(region)),
        None => manages_user(conn, caller, &message.user_id).await,
    }
}

/// The messages the caller may see, newest first.
pub async fn log(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    params: &LogParams,
) -> Result<Vec<DeliveryBody>, Refusal> {
    let mut text = String::from(
        "SELECT n.id, n.event, n.user_id, n.channel, n.address, n.region_code, n.subject, n.body, n.status, n.attempts, \
         n.next_attempt_at, n.provider, n.provider_code, n.provider_message_id, n.last_error, n.urgent, n.created_at, \
         n.sent_at FROM notification n WHERE 1 = 1",
    );
    let mut values: Vec<Value> = Vec::new();
    let managed: Vec<&str> =
        caller.grants.iter().filter(|grant| grant.role.manages()).map(|grant| grant.prefix.as_str()).collect();
    if managed.is_empty() {
        text.push_str(" AND n.user_id = ?");
        values.push(caller.user_id.as_str().into());
    } else {
        let mut scopes = vec!["n.user_id = ?".to_string()];
        values.push(caller.user_id.as_str().into());
        // A message filed under a region is the region's; only one filed under none is
        // seen through its recipient's grants (a user with roles in several regions must
        // not open the other regions' messages to this one's managers).
        for prefix in &managed {
            scopes.push(
                "n.region_code LIKE ? OR (n.region_code IS NULL AND EXISTS \
                 (SELECT 1 FROM role_grant g WHERE g.user_id = n.user_id AND g.region_code LIKE ?))"
                    .into(),
            );
            values.push(format!("{prefix}%").into());
            values.push(format!("{prefix}%").into());
        }
        text.push_str(&format!(" AND ({})", scopes.join(" OR ")));
        if let Some(user_id) = &params.user_id {
            text.push_str(" AND n.user_id = ?");
            values.push(user_id.as_str().into());
        }
    }
    if let Some(status) = &params.status {
        text.push_str(" AND n.status = ?");
        values.push(status.as_str().into());
    }
    let limit = params.limit.unwrap_or(100).clamp(1, 1000);
    text.push_str(&format!(" ORDER BY n.created_at DESC, n.id LIMIT {limit}"));
    let rows = DeliveryRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|row| DeliveryBody {
            address: mask_address(&row.channel, row.address),
            id: row.id,
            event: row.event,
            user_id: row.user_id,
            channel: row.channel,
            region_code: row.region_code,
            subject: row.subject,
            body: row.body,
            status: row.status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            provider: row.provider,
            provider_code: row.provider_code,
            provider_message_id: row.provider_message_id,
            last_error: row.last_error.as_deref().map(provider_text),
            urgent: row.urgent,
            created_at: row.created_at,
            sent_at: row.sent_at,
        })
        .collect())
}

/// Every attempt at one message (whoever may see the message in the delivery log).
pub async fn attempts(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> Result<Vec<AttemptBody>, Refusal> {
    let message = message(conn, id).await?;
    let visible = message.user_id == caller.user_id || manages_message(conn, caller, &message).await?;
    if !visible {
        return Err(Refusal::forbidden());
    }
    let rows = AttemptRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT attempt, at, provider, outcome, code, provider_message_id, detail FROM notification_attempt \
         WHERE notification_id = ? ORDER BY at, attempt",
        vec![id.into()],
    ))
    .all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| AttemptBody {
            attempt: row.attempt,
            at: row.at,
            provider: row.provider,
            outcome: row.outcome,
            code: row.code,
            provider_message_id: row.provider_message_id,
            detail: row.detail.as_deref().map(provider_text),
        })
        .collect())
}

/// Queues a message again after a person checked it did not arrive: `unknown` rows
/// (the provider may have it) and `failed` ones (e.g. after fixing a template code).
pub async fn resend(db: &Db, clock: &Clock, caller: &Caller, id: &str) -> Result<(), Refusal> {
    decide(db, clock, caller, id, &["unknown", "failed"], "queued").await
}

/// Cancels a message not sent yet.
pub async fn cancel(db: &Db, clock: &Clock, caller: &Caller, id: &str) -> Result<(), Refusal> {
    decide(db, clock, caller, id, &["queued", "held", "unknown"], "cancelled").await
}

/// Moves a row from `from` to `to` (county staff of its region), audited.
async fn decide(db: &Db, clock: &Clock, caller: &Caller, id: &str, from: &[&str], to: &str) -> Result<(), Refusal> {
    let txn = db.begin_write().await?;
    let message = message(&*txn, id).await?;
    if !manages_message(&*txn, caller, &message).await? {
        return Err(Refusal::forbidden());
    }
    let status = message.status;
    if !from.contains(&status.as_str()) {
        return Err(Refusal::conflict(ErrorCode::NotificationState));
    }
    let now = clock.now();
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "UPDATE notification SET status = ?, next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL, \
         updated_at = ? WHERE id = ? AND status = ?",
        vec![to.into(), now.into(), now.into(), id.into(), status.as_str().into()],
    ))
    .await?;
    let action = if to == "queued" { "resend" } else { "cancel" };
    let mut entry = Actor::of(caller).audit(action, "notification", id);
    entry.field = Some("status".into());
    entry.old_value = Some(status);
    entry.new_value = Some(to.into());
    crate::audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}

/// Who a test send may go to: the caller's own phone or email, a user the caller manages,
/// or a group robot of a region the caller manages; never any other address (no relay).
/// Returns the recipient as the outbox files it (a user id or `robot:{id}`).
async fn test_recipient(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    channel: &str,
    address: &str,
) -> Result<Option<String>, Refusal> {
    let backend = conn.get_database_backend();
    let users: Vec<String> = match channel {
        "sms" => {
            // Phones may be stored as typed ("+86 138-0013-8000"): narrow by the last
            // digits, then compare normalised.
            let tail = &address[address.len().saturating_sub(4)..];
            let rows = PhoneRow::find_by_statement(sql(
                backend,
                "SELECT id, phone FROM app_user WHERE active = ? AND phone LIKE ?",
                vec![true.into(), format!("%{tail}").into()],
            ))
            .all(conn)
            .await?;
            rows.into_iter()
                .filter(|row| {
                    row.phone.as_deref().and_then(jingzhun_notifier::normalize_mobile).as_deref() == Some(address)
                })
                .map(|row| row.id)
                .collect()
        }
        "email" => IdRow::find_by_statement(sql(
            backend,
            "SELECT id FROM app_user WHERE active = ? AND LOWER(TRIM(email)) = ?",
            vec![true.into(), address.to_lowercase().into()],
        ))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect(),
        _ => return Ok(super::robots::managed_with_key(conn, caller, address).await?),
    };
    if users.contains(&caller.user_id) {
        return Ok(Some(caller.user_id.clone()));
    }
    for user in users {
        if manages_user(conn, caller, &user).await? {
            return Ok(Some(user));
        }
    }
    Ok(None)
}

fn sample_params() -> serde_json::Map<String, serde_json::Value> {
    let sample = serde_json::json!({
        "region": "测试村", "notice_title": "测试公示", "due": "12月1日", "household": "张三户", "step": "村级评议",
        "days": "3", "campaign": "动态管理", "milestone": "入户采集", "progress": "80%", "lagging": "东村、西村",
        "date": "12月1日", "due_count": "2", "late_count": "1", "objection_count": "0", "summary": "",
        "task": "入户核查",
    });
    sample.as_object().cloned().unwrap_or_default()
}

/// Sends one sample message through a configured channel now (administrators and county
/// staff), to the caller's own address or one of a user or group robot they manage, at
/// most [`TEST_SENDS_PER_HOUR`] an hour. It goes through the outbox like any message, so
/// quiet hours and the per-number limits apply (a held test is cancelled and answered
/// `rate_limited`)
/// and it shows in the delivery log. Audited with the address masked.
pub async fn test_send(
    db: &Db,
    clock: &Clock,
    config: &NotifyConfig,
    caller: &Caller,
    body: TestSendBody,
) -> Result<TestSendResult, Refusal> {
    if !manages_someone(caller) {
        return Err(Refusal::forbidden());
    }
    let channel_name = known_channel(&body.channel)?;
    let event = match &body.event {
        Some(code) => Event::parse(code).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownEvent))?,
        None => Event::DailyDigest,
    };
    let channels = config.channels().map_err(|error| Refusal::internal(format!("{error:#}")))?;
    let configured = match channel_name {
        "sms" => channels.sms.is_some(),
        "email" => channels.email.is_some(),
        _ => channels.wecom.is_some(),
    };
    if !configured {
        return Err(Refusal::conflict(ErrorCode::ChannelNotConfigured));
    }
    let recipient = if channel_name == "sms" {
        jingzhun_notifier::normalize_mobile(&body.address).ok_or_else(|| Refusal::invalid(ErrorCode::InvalidAddress))?
    } else {
        body.address.trim().to_string()
    };
    if recipient.is_empty() {
        return Err(Refusal::invalid(ErrorCode::InvalidAddress));
    }
    let Some(owner) = test_recipient(&db.conn, caller, channel_name, &recipient).await? else {
        return Err(Refusal::new(Kind::Forbidden, ErrorCode::RecipientNotAllowed));
    };
    let recent = crate::db::count(
        &db.conn,
        "SELECT COUNT(*) FROM audit_log WHERE entity = ? AND action = ? AND user_id = ? AND at > ?",
        vec![
            "notification_channel".into(),
            "test_send".into(),
            caller.user_id.as_str().into(),
            // Audit entries carry the wall clock's time, so the window does too.
            (Utc::now() - chrono::Duration::hours(1)).into(),
        ],
    )
    .await?;
    if recent >= TEST_SENDS_PER_HOUR {
        return Err(Refusal::new(Kind::TooMany, ErrorCode::RateLimited));
    }
    let now = clock.now();
    let txn = db.begin_write().await?;
    let id = super::enqueue_test(&*txn, now, &owner, channel_name, &recipient, event, &sample_params())
        .await?
        .ok_or_else(Refusal::not_found)?;
    let mut entry = Actor::of(caller).audit("test_send", "notification_channel", channel_name);
    entry.new_value = mask_address(channel_name, Some(recipient));
    entry.note = Some(format!("notification {id}"));
    crate::audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    let dispatcher =
        super::dispatch::dispatcher(db, config).map_err(|error| Refusal::internal(format!("{error:#}")))?;
    Ok(match dispatcher.send_now(&id, now).await? {
        SendNow::Sent { provider, delivery } => TestSendResult {
            sent: true,
            provider: provider.into(),
            provider_code: delivery.provider_code,
            provider_message_id: delivery.provider_message_id,
            failure: None,
            detail: None,
        },
        SendNow::NotSent { provider, error } => TestSendResult {
            sent: false,
            provider: provider.unwrap_or_default().into(),
            provider_code: error.code().into(),
            provider_message_id: None,
            failure: Some(
                match error {
                    jingzhun_notifier::SendError::Transient { .. } => "transient",
                    jingzhun_notifier::SendError::Permanent { .. } => "permanent",
                    jingzhun_notifier::SendError::Indeterminate { .. } => "indeterminate",
                }
                .into(),
            ),
            detail: Some(error.to_string()),
        },
        SendNow::Held { .. } => return Err(Refusal::new(Kind::TooMany, ErrorCode::RateLimited)),
        SendNow::NotQueued => return Err(Refusal::conflict(ErrorCode::NotificationState)),
    })
}
