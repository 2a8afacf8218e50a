//! `/api/v1` notifications: message templates, each user's channel preferences, a test
//! send through a configured channel, and the delivery log.
//!
//! Who may do what: templates are deployment-wide, so only administrators edit them
//! (county staff read them); a user reads and sets their own preferences, and county
//! staff those of users in their region; the delivery log shows a user their own
//! messages and county staff the messages of their region. Every change is audited.
//! Addresses are never shown whole: phones masked, robot keys hidden.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post, put};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_notifier::outbox::SendNow;
use jingzhun_notifier::provider_text;
use sea_orm::{ConnectionTrait, EntityTrait, Value};
use serde::{Deserialize, Serialize};

use super::error::ApiResult;
use crate::error::{Kind, Refusal};
use super::extract::AppJson;
use crate::state::AppState;
use crate::audit::{self, AuditEntry};
use crate::auth::Caller;
use crate::db::sql;
use crate::notify::{CHANNELS, Event};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/notification-templates", get(list_templates))
        .route("/notification-templates/{event}/{channel}", put(update_template))
        .route("/notification-preferences", get(my_preferences).put(set_my_preference))
        .route("/users/{id}/notification-preferences", get(user_preferences).put(set_user_preference))
        .route("/notifications", get(delivery_log))
        .route("/notifications/{id}/attempts", get(attempts))
        .route("/notifications/{id}/resend", post(resend))
        .route("/notifications/{id}/cancel", post(cancel))
        .route("/notifications/test-send", post(test_send))
        .route("/notification-robots", get(list_robots).post(add_robot))
        .route("/notification-robots/{id}", put(set_robot))
}

fn known_channel(channel: &str) -> Result<&'static str, Refusal> {
    CHANNELS.into_iter().find(|known| *known == channel).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownChannel))
}

/// Templates are deployment-wide: only an administrator at the root may change them.
fn is_admin(caller: &Caller) -> bool {
    caller.is_root_admin()
}

fn manages_someone(caller: &Caller) -> bool {
    caller.grants.iter().any(|grant| grant.role.manages())
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TemplateBody {
    /// Event code (`objection_received`, `milestone_overdue`, …).
    pub event: String,
    /// sms, email or wecom.
    pub channel: String,
    /// Email subject, with `{variables}`.
    pub subject: Option<String>,
    /// Text with `{variables}`; for SMS what the delivery log shows (the provider renders
    /// its approved template).
    pub body: String,
    /// The provider's approved SMS template code.
    pub sms_template_code: Option<String>,
    /// The variables the SMS template takes, in its order, comma-separated.
    pub sms_params: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TemplateUpdate {
    pub subject: Option<String>,
    pub body: String,
    pub sms_template_code: Option<String>,
    #[serde(default)]
    pub sms_params: Option<String>,
}

async fn load_templates(
    conn: &impl ConnectionTrait,
    filter: Option<(&str, &str)>,
) -> Result<Vec<TemplateBody>, Refusal> {
    let (text, values): (&str, Vec<Value>) = match filter {
        Some((event, channel)) => (
            "SELECT event, channel, subject, body, sms_template_code, sms_params FROM notification_template \
             WHERE event = ? AND channel = ?",
            vec![event.into(), channel.into()],
        ),
        None => (
            "SELECT event, channel, subject, body, sms_template_code, sms_params FROM notification_template \
             ORDER BY event, channel",
            vec![],
        ),
    };
    let rows = conn.query_all_raw(sql(conn.get_database_backend(), text, values)).await?;
    let mut templates = Vec::with_capacity(rows.len());
    for row in rows {
        templates.push(TemplateBody {
            event: row.try_get_by_index(0)?,
            channel: row.try_get_by_index(1)?,
            subject: row.try_get_by_index(2)?,
            body: row.try_get_by_index(3)?,
            sms_template_code: row.try_get_by_index(4)?,
            sms_params: row.try_get_by_index(5)?,
        });
    }
    Ok(templates)
}

/// Every message template (county staff and administrators).
#[utoipa::path(get, path = "/api/v1/notification-templates", tag = "notifications",
    responses((status = 200, body = [TemplateBody]), (status = 403)), security(("bearer" = [])))]
pub async fn list_templates(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<TemplateBody>>> {
    if !manages_someone(&caller) {
        return Err(Refusal::forbidden());
    }
    Ok(Json(load_templates(&state.db.conn, None).await?))
}

/// Edits one template (administrators): subject, body, SMS template code and variables.
#[utoipa::path(put, path = "/api/v1/notification-templates/{event}/{channel}", tag = "notifications",
    params(("event" = String, Path), ("channel" = String, Path)), request_body = TemplateUpdate,
    responses((status = 200, body = TemplateBody), (status = 400), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn update_template(
    State(state): State<AppState>,
    caller: Caller,
    Path((event, channel)): Path<(String, String)>,
    AppJson(update): AppJson<TemplateUpdate>,
) -> ApiResult<Json<TemplateBody>> {
    if !is_admin(&caller) {
        return Err(Refusal::new(Kind::Forbidden, ErrorCode::RootAdminRequired));
    }
    let event = Event::parse(&event).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownEvent))?.code();
    let channel = known_channel(&channel)?;
    if update.body.trim().is_empty() {
        return Err(Refusal::invalid(ErrorCode::TemplateEmpty));
    }
    let txn = state.db.begin_write().await?;
    let old = load_templates(&*txn, Some((event, channel))).await?.pop().ok_or_else(Refusal::not_found)?;
    let sms_params = update.sms_params.clone().unwrap_or_else(|| old.sms_params.clone());
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "UPDATE notification_template SET subject = ?, body = ?, sms_template_code = ?, sms_params = ?, \
         updated_at = ?, updated_by = ? WHERE event = ? AND channel = ?",
        vec![
            update.subject.clone().into(),
            update.body.as_str().into(),
            update.sms_template_code.clone().into(),
            sms_params.as_str().into(),
            state.clock.now().into(),
            caller.user_id.as_str().into(),
            event.into(),
            channel.into(),
        ],
    ))
    .await?;
    let new = TemplateBody {
        event: event.into(),
        channel: channel.into(),
        subject: update.subject,
        body: update.body,
        sms_template_code: update.sms_template_code,
        sms_params,
    };
    audit::record(
        &*txn,
        &[AuditEntry {
            user_id: Some(caller.user_id.clone()),
            device_id: Some(caller.device_id.clone()),
            action: "update".into(),
            entity: "notification_template".into(),
            entity_id: format!("{event}/{channel}"),
            old_value: serde_json::to_string(&old).ok(),
            new_value: serde_json::to_string(&new).ok(),
            ..AuditEntry::default()
        }],
    )
    .await?;
    txn.commit().await?;
    Ok(Json(new))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PreferenceBody {
    pub channel: String,
    pub enabled: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreferencesBody {
    pub user_id: String,
    /// Every channel: whether it is on, and whether the user has an address for it.
    pub channels: Vec<ChannelPreference>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelPreference {
    pub channel: String,
    pub enabled: bool,
    /// Whether the user has an address for it (phone for SMS, email); WeCom goes to the
    /// region's group robot, not to a person.
    pub has_address: bool,
}

async fn preferences(conn: &impl ConnectionTrait, user_id: &str) -> Result<PreferencesBody, Refusal> {
    let backend = conn.get_database_backend();
    let user = conn
        .query_one_raw(sql(backend, "SELECT phone, email FROM app_user WHERE id = ?", vec![user_id.into()]))
        .await?
        .ok_or_else(Refusal::not_found)?;
    let phone: Option<String> = user.try_get_by_index(0)?;
    let email: Option<String> = user.try_get_by_index(1)?;
    let rows = conn
        .query_all_raw(sql(
            backend,
            "SELECT channel, enabled FROM notification_preference WHERE user_id = ?",
            vec![user_id.into()],
        ))
        .await?;
    let mut stored = std::collections::HashMap::new();
    for row in rows {
        stored.insert(row.try_get_by_index::<String>(0)?, row.try_get_by_index::<bool>(1)?);
    }
    let channels = CHANNELS
        .into_iter()
        .map(|channel| ChannelPreference {
            channel: channel.into(),
            enabled: stored.get(channel).copied().unwrap_or(true),
            has_address: match channel {
                "sms" => phone.as_deref().is_some_and(|phone| !phone.trim().is_empty()),
                "email" => email.as_deref().is_some_and(|email| !email.trim().is_empty()),
                _ => false,
            },
        })
        .collect();
    Ok(PreferencesBody { user_id: user_id.into(), channels })
}

async fn set_preference(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    body: PreferenceBody,
) -> Result<PreferencesBody, Refusal> {
    let channel = known_channel(&body.channel)?;
    let txn = state.db.begin_write().await?;
    let old = preferences(&*txn, user_id).await?;
    let was = old.channels.iter().find(|c| c.channel == channel).map(|c| c.enabled);
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "INSERT INTO notification_preference (user_id, channel, enabled, updated_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (user_id, channel) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
        vec![user_id.into(), channel.into(), body.enabled.into(), state.clock.now().into()],
    ))
    .await?;
    audit::record(
        &*txn,
        &[AuditEntry {
            user_id: Some(caller.user_id.clone()),
            device_id: Some(caller.device_id.clone()),
            action: "update".into(),
            entity: "notification_preference".into(),
            entity_id: user_id.into(),
            field: Some(channel.into()),
            old_value: was.map(|enabled| enabled.to_string()),
            new_value: Some(body.enabled.to_string()),
            ..AuditEntry::default()
        }],
    )
    .await?;
    let new = preferences(&*txn, user_id).await?;
    txn.commit().await?;
    Ok(new)
}

/// Whether the caller manages the user (their preferences, a test message to them).
async fn manages_user(conn: &impl ConnectionTrait, caller: &Caller, user_id: &str) -> Result<bool, Refusal> {
    // The registry's rule: wholly inside the caller's region, below the caller's rank.
    Ok(caller.manages_user(&crate::registry::users::grants(conn, user_id).await?))
}

/// Whether the caller manages a message: one filed under a region by that region, one
/// filed under none by its recipient's (the delivery log's rule).
async fn manages_message(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    user_id: &str,
    region: Option<String>,
) -> Result<bool, Refusal> {
    match region {
        Some(region) => Ok(caller.manages_region(&region)),
        None => manages_user(conn, caller, user_id).await,
    }
}

/// The caller's own channel preferences.
#[utoipa::path(get, path = "/api/v1/notification-preferences", tag = "notifications",
    responses((status = 200, body = PreferencesBody)), security(("bearer" = [])))]
pub async fn my_preferences(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PreferencesBody>> {
    Ok(Json(preferences(&state.db.conn, &caller.user_id).await?))
}

/// Turns one of the caller's own channels on or off.
#[utoipa::path(put, path = "/api/v1/notification-preferences", tag = "notifications", request_body = PreferenceBody,
    responses((status = 200, body = PreferencesBody), (status = 400)), security(("bearer" = [])))]
pub async fn set_my_preference(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<PreferenceBody>,
) -> ApiResult<Json<PreferencesBody>> {
    let user_id = caller.user_id.clone();
    Ok(Json(set_preference(&state, &caller, &user_id, body).await?))
}

/// A user's channel preferences (county staff of the user's region, or the user).
#[utoipa::path(get, path = "/api/v1/users/{id}/notification-preferences", tag = "notifications",
    params(("id" = String, Path)), responses((status = 200, body = PreferencesBody), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn user_preferences(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PreferencesBody>> {
    if id != caller.user_id && !manages_user(&state.db.conn, &caller, &id).await? {
        return Err(Refusal::forbidden());
    }
    Ok(Json(preferences(&state.db.conn, &id).await?))
}

/// Sets a user's channel on or off (county staff of the user's region, or the user).
#[utoipa::path(put, path = "/api/v1/users/{id}/notification-preferences", tag = "notifications",
    params(("id" = String, Path)), request_body = PreferenceBody,
    responses((status = 200, body = PreferencesBody), (status = 400), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn set_user_preference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<PreferenceBody>,
) -> ApiResult<Json<PreferencesBody>> {
    if id != caller.user_id && !manages_user(&state.db.conn, &caller, &id).await? {
        return Err(Refusal::forbidden());
    }
    Ok(Json(set_preference(&state, &caller, &id, body).await?))
}

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
    pub next_attempt_at: chrono::DateTime<chrono::Utc>,
    pub provider: Option<String>,
    pub provider_code: Option<String>,
    pub provider_message_id: Option<String>,
    pub last_error: Option<String>,
    pub urgent: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

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

/// The delivery log: a user's own messages; county staff and administrators see every
/// message of their region (filed under the event's region or sent to someone holding a
/// role there).
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(LogParams),
    responses((status = 200, body = [DeliveryBody])), security(("bearer" = [])))]
pub async fn delivery_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<LogParams>,
) -> ApiResult<Json<Vec<DeliveryBody>>> {
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
    let rows = state.db.conn.query_all_raw(sql(state.db.backend(), &text, values)).await?;
    let mut log = Vec::with_capacity(rows.len());
    for row in rows {
        let channel: String = row.try_get_by_index(3)?;
        let address: Option<String> = row.try_get_by_index(4)?;
        log.push(DeliveryBody {
            id: row.try_get_by_index(0)?,
            event: row.try_get_by_index(1)?,
            user_id: row.try_get_by_index(2)?,
            address: mask_address(&channel, address),
            channel,
            region_code: row.try_get_by_index(5)?,
            subject: row.try_get_by_index(6)?,
            body: row.try_get_by_index(7)?,
            status: row.try_get_by_index(8)?,
            attempts: row.try_get_by_index(9)?,
            next_attempt_at: row.try_get_by_index(10)?,
            provider: row.try_get_by_index(11)?,
            provider_code: row.try_get_by_index(12)?,
            provider_message_id: row.try_get_by_index(13)?,
            last_error: row.try_get_by_index::<Option<String>>(14)?.as_deref().map(provider_text),
            urgent: row.try_get_by_index(15)?,
            created_at: row.try_get_by_index(16)?,
            sent_at: row.try_get_by_index(17)?,
        });
    }
    Ok(Json(log))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptBody {
    pub attempt: i32,
    pub at: chrono::DateTime<chrono::Utc>,
    pub provider: Option<String>,
    /// sent, transient, permanent, indeterminate, held.
    pub outcome: String,
    pub code: Option<String>,
    pub provider_message_id: Option<String>,
    pub detail: Option<String>,
}

/// Every attempt at one message (whoever may see the message in the delivery log).
#[utoipa::path(get, path = "/api/v1/notifications/{id}/attempts", tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = [AttemptBody]), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<AttemptBody>>> {
    let backend = state.db.backend();
    let row = state
        .db
        .conn
        .query_one_raw(sql(
            backend,
            "SELECT user_id, region_code FROM notification WHERE id = ?",
            vec![id.as_str().into()],
        ))
        .await?
        .ok_or_else(Refusal::not_found)?;
    let user_id: String = row.try_get_by_index(0)?;
    let region: Option<String> = row.try_get_by_index(1)?;
    let visible = user_id == caller.user_id || manages_message(&state.db.conn, &caller, &user_id, region).await?;
    if !visible {
        return Err(Refusal::forbidden());
    }
    let rows = state
        .db
        .conn
        .query_all_raw(sql(
            backend,
            "SELECT attempt, at, provider, outcome, code, provider_message_id, detail FROM notification_attempt \
             WHERE notification_id = ? ORDER BY at, attempt",
            vec![id.as_str().into()],
        ))
        .await?;
    let mut attempts = Vec::with_capacity(rows.len());
    for row in rows {
        attempts.push(AttemptBody {
            attempt: row.try_get_by_index(0)?,
            at: row.try_get_by_index(1)?,
            provider: row.try_get_by_index(2)?,
            outcome: row.try_get_by_index(3)?,
            code: row.try_get_by_index(4)?,
            provider_message_id: row.try_get_by_index(5)?,
            detail: row.try_get_by_index::<Option<String>>(6)?.as_deref().map(provider_text),
        });
    }
    Ok(Json(attempts))
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

/// Test sends a caller may make in an hour, counted in the audit log so every process agrees.
const TEST_SENDS_PER_HOUR: i64 = 5;

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
            let rows = conn
                .query_all_raw(sql(
                    backend,
                    "SELECT id, phone FROM app_user WHERE active = ? AND phone LIKE ?",
                    vec![true.into(), format!("%{tail}").into()],
                ))
                .await?;
            let mut ids = Vec::new();
            for row in rows {
                let phone: Option<String> = row.try_get_by_index(1)?;
                if phone.as_deref().and_then(jingzhun_notifier::normalize_mobile).as_deref() == Some(address) {
                    ids.push(row.try_get_by_index(0)?);
                }
            }
            ids
        }
        "email" => {
            let rows = conn
                .query_all_raw(sql(
                    backend,
                    "SELECT id FROM app_user WHERE active = ? AND LOWER(TRIM(email)) = ?",
                    vec![true.into(), address.to_lowercase().into()],
                ))
                .await?;
            rows.iter().map(|row| row.try_get_by_index(0)).collect::<Result<_, _>>()?
        }
        _ => {
            let rows = conn
                .query_all_raw(sql(
                    backend,
                    "SELECT id, region_code FROM notification_robot WHERE robot_key = ? AND active = ?",
                    vec![address.into(), true.into()],
                ))
                .await?;
            for row in rows {
                let (id, region): (String, String) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
                if caller.manages_region(&region) {
                    return Ok(Some(format!("robot:{id}")));
                }
            }
            return Ok(None);
        }
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

/// Sends one sample message through a configured channel now (administrators and county
/// staff), to the caller's own address or one of a user or group robot they manage
/// (`recipient_not_allowed` otherwise), at most a few an hour. It goes through the outbox
/// like any message: quiet hours and the per-number limits apply (a held test is
/// cancelled and answered `rate_limited`), and it shows in the delivery log. Answers with
/// the provider's reply. Audited with the address masked.
#[utoipa::path(post, path = "/api/v1/notifications/test-send", tag = "notifications", request_body = TestSendBody,
    responses((status = 200, body = TestSendResult), (status = 400), (status = 403, description = "recipient_not_allowed"),
        (status = 409), (status = 429, description = "rate_limited: too many test sends, or the recipient's limit or quiet hours hold it")),
    security(("bearer" = [])))]
pub async fn test_send(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<TestSendBody>,
) -> ApiResult<Json<TestSendResult>> {
    if !manages_someone(&caller) {
        return Err(Refusal::forbidden());
    }
    let channel_name = known_channel(&body.channel)?;
    let event = match &body.event {
        Some(code) => Event::parse(code).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownEvent))?,
        None => Event::DailyDigest,
    };
    let channels = state.config.notify.channels().map_err(|error| Refusal::internal(format!("{error:#}")))?;
    let configured = match channel_name {
        "sms" => channels.sms.is_some(),
        "email" => channels.email.is_some(),
        _ => channels.wecom.is_some(),
    };
    if !configured {
        return Err(Refusal::conflict(ErrorCode::ChannelNotConfigured));
    }
    let recipient = if channel_name == "sms" {
        jingzhun_notifier::normalize_mobile(&body.address)
            .ok_or_else(|| Refusal::invalid(ErrorCode::InvalidAddress))?
    } else {
        body.address.trim().to_string()
    };
    if recipient.is_empty() {
        return Err(Refusal::invalid(ErrorCode::InvalidAddress));
    }
    let Some(owner) = test_recipient(&state.db.conn, &caller, channel_name, &recipient).await? else {
        return Err(Refusal::new(Kind::Forbidden, ErrorCode::RecipientNotAllowed));
    };
    let recent = crate::db::count(
        &state.db.conn,
        "SELECT COUNT(*) FROM audit_log WHERE entity = ? AND action = ? AND user_id = ? AND at > ?",
        vec![
            "notification_channel".into(),
            "test_send".into(),
            caller.user_id.as_str().into(),
            (chrono::Utc::now() - chrono::Duration::hours(1)).into(),
        ],
    )
    .await?;
    if recent >= TEST_SENDS_PER_HOUR {
        return Err(Refusal::new(Kind::TooMany, ErrorCode::RateLimited));
    }
    let now = state.clock.now();
    let txn = state.db.begin_write().await?;
    let id = crate::notify::enqueue_test(&*txn, now, &owner, channel_name, &recipient, event, &sample_params())
        .await?
        .ok_or_else(Refusal::not_found)?;
    audit::record(
        &*txn,
        &[AuditEntry {
            user_id: Some(caller.user_id.clone()),
            device_id: Some(caller.device_id.clone()),
            action: "test_send".into(),
            entity: "notification_channel".into(),
            entity_id: channel_name.into(),
            new_value: mask_address(channel_name, Some(recipient)),
            note: Some(format!("notification {id}")),
            ..AuditEntry::default()
        }],
    )
    .await?;
    txn.commit().await?;
    let dispatcher =
        crate::notify::dispatch::dispatcher(&state.db, &state.config.notify).map_err(|error| Refusal::internal(format!("{error:#}")))?;
    let answer = match dispatcher.send_now(&id, now).await? {
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
        SendNow::Held { .. } => {
            return Err(Refusal::new(Kind::TooMany, ErrorCode::RateLimited));
        }
        SendNow::NotQueued => return Err(Refusal::conflict(ErrorCode::NotificationState)),
    };
    Ok(Json(answer))
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RobotBody {
    pub id: String,
    /// The group hears about events in this region and the regions under it.
    pub region_code: String,
    pub name: String,
    /// The webhook key, masked: only its last 4 characters.
    pub key_hint: String,
    pub active: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewRobot {
    pub region_code: String,
    pub name: String,
    /// The `key=` of the group robot's webhook URL.
    pub robot_key: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RobotUpdate {
    pub active: bool,
}

fn key_hint(key: &str) -> String {
    let tail: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("***{tail}")
}

async fn load_robots(conn: &impl ConnectionTrait, id: Option<&str>) -> Result<Vec<RobotBody>, Refusal> {
    let (text, values): (&str, Vec<Value>) = match id {
        Some(id) => {
            ("SELECT id, region_code, name, robot_key, active FROM notification_robot WHERE id = ?", vec![id.into()])
        }
        None => (
            "SELECT id, region_code, name, robot_key, active FROM notification_robot ORDER BY region_code, name",
            vec![],
        ),
    };
    let rows = conn.query_all_raw(sql(conn.get_database_backend(), text, values)).await?;
    let mut robots = Vec::with_capacity(rows.len());
    for row in rows {
        robots.push(RobotBody {
            id: row.try_get_by_index(0)?,
            region_code: row.try_get_by_index(1)?,
            name: row.try_get_by_index(2)?,
            key_hint: key_hint(&row.try_get_by_index::<String>(3)?),
            active: row.try_get_by_index(4)?,
        });
    }
    Ok(robots)
}

/// The WeCom group robots of the regions the caller manages.
#[utoipa::path(get, path = "/api/v1/notification-robots", tag = "notifications",
    responses((status = 200, body = [RobotBody]), (status = 403)), security(("bearer" = [])))]
pub async fn list_robots(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<RobotBody>>> {
    if !manages_someone(&caller) {
        return Err(Refusal::forbidden());
    }
    let robots = load_robots(&state.db.conn, None).await?;
    Ok(Json(robots.into_iter().filter(|robot| caller.manages_region(&robot.region_code)).collect()))
}

/// Adds a region's WeCom group robot (county staff of the region); events concerning the
/// region are then posted to the group too.
#[utoipa::path(post, path = "/api/v1/notification-robots", tag = "notifications", request_body = NewRobot,
    responses((status = 200, body = RobotBody), (status = 400), (status = 403)), security(("bearer" = [])))]
pub async fn add_robot(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<NewRobot>,
) -> ApiResult<Json<RobotBody>> {
    if !caller.manages_region(&body.region_code) {
        return Err(Refusal::forbidden());
    }
    let key = body.robot_key.trim();
    if key.is_empty() || body.region_code.len() != 12 || !body.region_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::invalid(ErrorCode::InvalidAddress));
    }
    // A robot hears about its region and everything below: the region must be a real one.
    if crate::db::entities::region::Entity::find_by_id(body.region_code.clone()).one(&state.db.conn).await?.is_none() {
        return Err(Refusal::new(Kind::Rejected, ErrorCode::RegionCodeLevel));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let txn = state.db.begin_write().await?;
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "INSERT INTO notification_robot (id, region_code, name, robot_key, active, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            id.as_str().into(),
            body.region_code.as_str().into(),
            body.name.as_str().into(),
            key.into(),
            true.into(),
            state.clock.now().into(),
        ],
    ))
    .await?;
    audit::record(
        &*txn,
        &[AuditEntry {
            user_id: Some(caller.user_id.clone()),
            device_id: Some(caller.device_id.clone()),
            action: "create".into(),
            entity: "notification_robot".into(),
            entity_id: id.clone(),
            // Never the key itself: anyone holding it can post to the group.
            new_value: Some(format!("{} {} {}", body.region_code, body.name, key_hint(key))),
            ..AuditEntry::default()
        }],
    )
    .await?;
    let robot = load_robots(&*txn, Some(&id)).await?.pop().ok_or_else(Refusal::not_found)?;
    txn.commit().await?;
    Ok(Json(robot))
}

/// Turns a WeCom group robot on or off (county staff of its region).
#[utoipa::path(put, path = "/api/v1/notification-robots/{id}", tag = "notifications", params(("id" = String, Path)),
    request_body = RobotUpdate, responses((status = 200, body = RobotBody), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn set_robot(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<RobotUpdate>,
) -> ApiResult<Json<RobotBody>> {
    let txn = state.db.begin_write().await?;
    let old = load_robots(&*txn, Some(&id)).await?.pop().ok_or_else(Refusal::not_found)?;
    if !caller.manages_region(&old.region_code) {
        return Err(Refusal::forbidden());
    }
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "UPDATE notification_robot SET active = ? WHERE id = ?",
        vec![body.active.into(), id.as_str().into()],
    ))
    .await?;
    audit::record(
        &*txn,
        &[AuditEntry {
            user_id: Some(caller.user_id.clone()),
            device_id: Some(caller.device_id.clone()),
            action: "update".into(),
            entity: "notification_robot".into(),
            entity_id: id.clone(),
            field: Some("active".into()),
            old_value: Some(old.active.to_string()),
            new_value: Some(body.active.to_string()),
            ..AuditEntry::default()
        }],
    )
    .await?;
    let robot = load_robots(&*txn, Some(&id)).await?.pop().ok_or_else(Refusal::not_found)?;
    txn.commit().await?;
    Ok(Json(robot))
}

/// Loads one row's status and region and checks the caller manages it.
async fn managed_row(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> Result<String, Refusal> {
    let row = conn
        .query_one_raw(sql(
            conn.get_database_backend(),
            "SELECT user_id, region_code, status FROM notification WHERE id = ?",
            vec![id.into()],
        ))
        .await?
        .ok_or_else(Refusal::not_found)?;
    let user_id: String = row.try_get_by_index(0)?;
    let region: Option<String> = row.try_get_by_index(1)?;
    if !manages_message(conn, caller, &user_id, region).await? {
        return Err(Refusal::forbidden());
    }
    Ok(row.try_get_by_index(2)?)
}

/// Moves a row from `from` to `to` (county staff of its region), audited.
async fn decide(state: &AppState, caller: &Caller, id: &str, from: &[&str], to: &str) -> Result<(), Refusal> {
    let txn = state.db.begin_write().await?;
    let status = managed_row(&*txn, caller, id).await?;
    if !from.contains(&status.as_str()) {
        return Err(Refusal::conflict(ErrorCode::NotificationState));
    }
    let now = state.clock.now();
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "UPDATE notification SET status = ?, next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL, \
         updated_at = ? WHERE id = ? AND status = ?",
        vec![to.into(), now.into(), now.into(), id.into(), status.as_str().into()],
    ))
    .await?;
    audit::record(
        &*txn,
        &[AuditEntry {
            user_id: Some(caller.user_id.clone()),
            device_id: Some(caller.device_id.clone()),
            action: if to == "queued" { "resend".into() } else { "cancel".into() },
            entity: "notification".into(),
            entity_id: id.into(),
            field: Some("status".into()),
            old_value: Some(status),
            new_value: Some(to.into()),
            ..AuditEntry::default()
        }],
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Queues a message again after a person checked it did not arrive: `unknown` rows
/// (the provider may have it) and `failed` ones (e.g. after fixing a template code).
/// County staff of its region; the dispatcher never does this by itself.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/resend", tag = "notifications", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn resend(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    decide(&state, &caller, &id, &["unknown", "failed"], "queued").await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Cancels a message not sent yet (`queued` or `held`); county staff of its region.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/cancel", tag = "notifications", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    decide(&state, &caller, &id, &["queued", "held", "unknown"], "cancelled").await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
