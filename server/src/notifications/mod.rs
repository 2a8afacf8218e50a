//! Notifications (C6): the enqueue side of the outbox. [`notify`] writes one outbox row
//! per recipient and channel inside the caller's transaction, so a notification exists
//! exactly when the event that causes it does; the notifier crate's dispatcher sends
//! them later (see `jingzhun_notifier::outbox`).
//!
//! What this module must never do: send anything itself (no I/O besides the caller's
//! transaction), fail an event because one recipient's address is bad (that recipient
//! gets a `failed` row with the reason instead), or write two rows for one
//! `(dedup_key, user, channel)`.
//!
//! Template variables each event's templates use (all strings; missing ones render
//! empty): `region`, `due` everywhere a date is shown, plus
//! - objection_received / objection_due / notice_published / notice_ending: `notice_title`;
//! - step_waiting: `household`, `step`, `days`;
//! - milestone_approaching / milestone_due / milestone_overdue: `campaign`, `milestone`,
//!   `progress`, and `lagging` (the lagging regions) when overdue;
//! - daily_digest: `date`, `due_count`, `late_count`, `objection_count`, `summary`;
//! - task_due / task_overdue: `task`, `household`.
//!
//! `region_code` in the params (or the region of a [`Recipients::Role`]) files the rows
//! under that region for the administrators' view of the delivery log.
//!
//! The administrators' side lives beside it, one module per table, each the table's only
//! reader and writer, deciding who may do what and auditing each change:
//! [`templates`], [`preferences`], [`robots`], and [`deliveries`] (the log, resend,
//! cancel, test send). The enqueue side reads the first three through them. [`codes`]
//! (events, channels) and [`access`] (who manages whom) are the leaves they share;
//! [`dispatch`] runs the notifier's dispatcher in this process.

pub mod access;
pub mod codes;
pub mod deliveries;
pub mod dispatch;
pub mod preferences;
pub mod robots;
pub mod templates;

pub use codes::{CHANNELS, Event};

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use jingzhun_notifier::template::{render, shorten};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde_json::{Map, Value as Json};

use crate::auth::Role;
use crate::auth::roles::prefix_len;
use crate::db::{placeholders, sql};
use templates::TemplateBody;

/// Who is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipients {
    /// These users (inactive ones are skipped).
    Users(Vec<String>),
    /// Users holding `role` over `region_code`: their grant's region contains it (the
    /// grant's region is `region_code` itself or one of its ancestors).
    Role { role: Role, region_code: String },
}

/// One event to tell people about.
#[derive(Clone, Debug)]
pub struct Notification {
    pub event: Event,
    /// One event never produces two messages to one person on one channel: a second
    /// `notify` with the same key writes nothing for the recipients already told.
    pub dedup_key: String,
    pub recipients: Recipients,
    /// Template variables (strings).
    pub params: Map<String, Json>,
    /// Urgent kinds may pass SMS quiet hours if the deployment allows it.
    pub urgent: bool,
}

/// SMS providers refuse longer template variables (Aliyun allows 35 characters).
const SMS_PARAM_MAX_CHARS: usize = 35;

#[derive(FromQueryResult)]
struct Recipient {
    user_id: String,
    phone: Option<String>,
    email: Option<String>,
}

#[derive(FromQueryResult)]
struct GrantRow {
    user_id: String,
    region_code: String,
    level: Option<String>,
}

struct Row {
    user_id: String,
    channel: &'static str,
    address: Option<String>,
    template: Option<String>,
    sms_params: String,
    subject: Option<String>,
    body: String,
    status: &'static str,
    last_error: Option<String>,
    provider_code: Option<String>,
}

/// Writes outbox rows in the caller's transaction (`conn` is a sea-orm transaction);
/// returns the rows inserted (duplicates by dedup key are skipped, not errors).
pub async fn notify(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    notification: Notification,
) -> Result<usize, DbErr> {
    let backend = conn.get_database_backend();
    let event = notification.event.code();
    let (user_ids, role_region) = match &notification.recipients {
        Recipients::Users(ids) => (ids.iter().cloned().collect::<BTreeSet<_>>(), None),
        Recipients::Role { role, region_code } => {
            (users_with_role(conn, *role, region_code).await?, Some(region_code.clone()))
        }
    };
    let region_code = notification
        .params
        .get("region_code")
        .and_then(Json::as_str)
        .map(str::to_owned)
        .or_else(|| role_region.clone());
    let recipients = active_users(conn, &user_ids).await?;
    let recipient_ids: Vec<&str> = recipients.iter().map(|recipient| recipient.user_id.as_str()).collect();
    let preferences = preferences::of_users(conn, &recipient_ids).await?;
    let chosen = preferences::events_of_users(conn, &recipient_ids).await?;
    let templates = templates::of_event(conn, event).await?;

    let mut rows = Vec::new();
    for recipient in &recipients {
        for channel in ["sms", "email"] {
            let address = if channel == "sms" { recipient.phone.clone() } else { recipient.email.clone() };
            let enabled = preferences.get(&(recipient.user_id.clone(), channel)).copied().unwrap_or(true)
                && chosen.get(&(recipient.user_id.clone(), event.to_owned(), channel)).copied().unwrap_or(true);
            let Some(address) = address.filter(|address| enabled && !address.trim().is_empty()) else {
                continue;
            };
            let Some(template) = templates.get(channel) else {
                tracing::warn!(event, channel, "no template: channel skipped");
                continue;
            };
            rows.push(row_for(recipient.user_id.clone(), channel, address, template, &notification.params));
        }
    }
    // A region's WeCom group hears about what concerns the region, once per robot.
    if let (Some(region), Some(template)) = (role_region.as_deref(), templates.get("wecom")) {
        for (robot_id, key) in robots::over(conn, region).await? {
            rows.push(row_for(format!("robot:{robot_id}"), "wecom", key, template, &notification.params));
        }
    }
    if rows.is_empty() {
        return Ok(0);
    }

    let params_json = Json::Object(notification.params.clone()).to_string();
    let mut inserted = 0;
    // Chunks keep each statement under SQLite's and PostgreSQL's bind-parameter limits.
    for chunk in rows.chunks(200) {
        let mut text = String::from(
            "INSERT INTO notification (id, event, dedup_key, user_id, channel, address, region_code, template, params, \
             sms_params, subject, body, status, attempts, next_attempt_at, provider_code, last_error, urgent, \
             created_at, updated_at) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 19);
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)");
            values.extend([
                uuid::Uuid::new_v4().to_string().into(),
                event.into(),
                notification.dedup_key.as_str().into(),
                row.user_id.as_str().into(),
                row.channel.into(),
                row.address.clone().into(),
                region_code.clone().into(),
                row.template.clone().into(),
                params_json.as_str().into(),
                row.sms_params.as_str().into(),
                row.subject.clone().into(),
                row.body.as_str().into(),
                row.status.into(),
                now.into(),
                row.provider_code.clone().into(),
                row.last_error.clone().into(),
                notification.urgent.into(),
                now.into(),
                now.into(),
            ]);
        }
        text.push_str(" ON CONFLICT (dedup_key, user_id, channel) DO NOTHING");
        inserted += conn.execute_raw(sql(backend, &text, values)).await?.rows_affected() as usize;
    }
    Ok(inserted)
}

/// One message to one address outside any event (a person's test send), written as an
/// outbox row so it keeps to the same quiet hours and per-recipient limits and shows in
/// the delivery log under the recipient (`user_id`: a user's id or `robot:{id}`). The
/// `event`'s template is used with `params`; `[测试]` marks subject and text. Returns the
/// row's id, or `None` when the event has no template for the channel.
pub async fn enqueue_test(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    user_id: &str,
    channel: &'static str,
    address: &str,
    event: Event,
    params: &Map<String, Json>,
) -> Result<Option<String>, DbErr> {
    let mut templates = templates::of_event(conn, event.code()).await?;
    let Some(template) = templates.remove(channel) else { return Ok(None) };
    let mut row = row_for(user_id.to_owned(), channel, address.to_owned(), &template, params);
    row.body = format!("[测试] {}", row.body);
    row.subject = row.subject.map(|subject| format!("[测试] {subject}"));
    let id = uuid::Uuid::new_v4().to_string();
    conn.execute_raw(sql(
        conn.get_database_backend(),
        "INSERT INTO notification (id, event, dedup_key, user_id, channel, address, region_code, template, params, \
         sms_params, subject, body, status, attempts, next_attempt_at, provider_code, last_error, urgent, \
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
        vec![
            id.as_str().into(),
            "test_send".into(),
            format!("test:{id}").into(),
            user_id.into(),
            channel.into(),
            row.address.clone().into(),
            row.template.clone().into(),
            Json::Object(params.clone()).to_string().into(),
            row.sms_params.as_str().into(),
            row.subject.clone().into(),
            row.body.as_str().into(),
            row.status.into(),
            // Claimed by id at once by the sender; should that never happen (the process
            // stopped), the background dispatcher sends it a little later.
            (now + chrono::Duration::minutes(10)).into(),
            row.provider_code.clone().into(),
            row.last_error.clone().into(),
            false.into(),
            now.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(Some(id))
}

fn row_for(
    user_id: String,
    channel: &'static str,
    address: String,
    template: &TemplateBody,
    params: &Map<String, Json>,
) -> Row {
    let body = render(&template.body, params);
    let subject = template.subject.as_deref().map(|subject| render(subject, params));
    let mut row = Row {
        user_id,
        channel,
        address: Some(address.clone()),
        template: None,
        sms_params: "[]".into(),
        subject,
        body,
        status: "queued",
        last_error: None,
        provider_code: None,
    };
    if channel != "sms" {
        return row;
    }
    row.template = template.sms_template_code.clone();
    let pairs: Vec<Json> = template
        .sms_params
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            let value = params.get(name).map(jingzhun_notifier::template::variable_text).unwrap_or_default();
            // Providers refuse empty variables too.
            let value = if value.is_empty() { "-".to_string() } else { shorten(&value, SMS_PARAM_MAX_CHARS) };
            Json::Array(vec![Json::String(name.to_string()), Json::String(value)])
        })
        .collect();
    row.sms_params = Json::Array(pairs).to_string();
    match jingzhun_notifier::normalize_mobile(&address) {
        Some(mobile) => row.address = Some(mobile),
        None => {
            row.status = "failed";
            row.provider_code = Some("invalid_mobile".into());
            row.last_error = Some(format!(
                "not a mainland mobile number (11 digits starting with 1, optional +86): {}",
                jingzhun_notifier::mask_phone(&address)
            ));
        }
    }
    if row.template.as_deref().is_none_or(str::is_empty) && row.status == "queued" {
        row.status = "failed";
        row.provider_code = Some("no_template_code".into());
        row.last_error = Some("the SMS template has no approved provider template code".into());
    }
    row
}

/// Active or not, users holding `role` over a region containing `region_code`.
async fn users_with_role(
    conn: &impl ConnectionTrait,
    role: Role,
    region_code: &str,
) -> Result<BTreeSet<String>, DbErr> {
    let rows = GrantRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT g.user_id, g.region_code, r.level FROM role_grant g LEFT JOIN region r ON r.code = g.region_code \
         WHERE g.role = ?",
        vec![role.as_str().into()],
    ))
    .all(conn)
    .await?;
    let mut users = BTreeSet::new();
    for row in rows {
        let len = row.level.as_deref().map_or(row.region_code.len(), prefix_len).min(row.region_code.len());
        if region_code.starts_with(&row.region_code[..len]) {
            users.insert(row.user_id);
        }
    }
    Ok(users)
}

async fn active_users(conn: &impl ConnectionTrait, ids: &BTreeSet<String>) -> Result<Vec<Recipient>, DbErr> {
    let mut users = Vec::with_capacity(ids.len());
    let ids: Vec<&String> = ids.iter().collect();
    for chunk in ids.chunks(500) {
        let text = format!(
            "SELECT id AS user_id, phone, email FROM app_user WHERE active = ? AND id IN ({}) ORDER BY id",
            placeholders(chunk.len())
        );
        let mut values: Vec<Value> = vec![true.into()];
        values.extend(chunk.iter().map(|id| Value::from(id.as_str())));
        users.extend(Recipient::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?);
    }
    Ok(users)
}
