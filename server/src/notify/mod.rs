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

pub mod bench;
pub mod dispatch;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use jingzhun_notifier::template::{render, shorten};
use sea_orm::{ConnectionTrait, DbErr, Value};
use serde_json::{Map, Value as Json};

use crate::auth::Role;
use crate::auth::roles::prefix_len;
use crate::db::{placeholders, sql};

/// What happened, as the templates and the delivery log name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    ObjectionReceived,
    ObjectionDue,
    NoticePublished,
    NoticeEnding,
    StepWaiting,
    MilestoneApproaching,
    MilestoneDue,
    MilestoneOverdue,
    DailyDigest,
    TaskDue,
    TaskOverdue,
}

impl Event {
    pub const ALL: [Event; 11] = [
        Event::ObjectionReceived,
        Event::ObjectionDue,
        Event::NoticePublished,
        Event::NoticeEnding,
        Event::StepWaiting,
        Event::MilestoneApproaching,
        Event::MilestoneDue,
        Event::MilestoneOverdue,
        Event::DailyDigest,
        Event::TaskDue,
        Event::TaskOverdue,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Event::ObjectionReceived => "objection_received",
            Event::ObjectionDue => "objection_due",
            Event::NoticePublished => "notice_published",
            Event::NoticeEnding => "notice_ending",
            Event::StepWaiting => "step_waiting",
            Event::MilestoneApproaching => "milestone_approaching",
            Event::MilestoneDue => "milestone_due",
            Event::MilestoneOverdue => "milestone_overdue",
            Event::DailyDigest => "daily_digest",
            Event::TaskDue => "task_due",
            Event::TaskOverdue => "task_overdue",
        }
    }

    pub fn parse(code: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|event| event.code() == code)
    }
}

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

/// The outbox's channels, as stored in `notification.channel`.
pub const CHANNELS: [&str; 3] = ["sms", "email", "wecom"];

/// SMS providers refuse longer template variables (Aliyun allows 35 characters).
const SMS_PARAM_MAX_CHARS: usize = 35;

struct Recipient {
    user_id: String,
    phone: Option<String>,
    email: Option<String>,
}

struct Template {
    subject: Option<String>,
    body: String,
    sms_template_code: Option<String>,
    sms_params: String,
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
    let preferences = preferences_of(conn, &recipients).await?;
    let templates = templates_of(conn, event).await?;

    let mut rows = Vec::new();
    for recipient in &recipients {
        for channel in ["sms", "email"] {
            let address = if channel == "sms" { recipient.phone.clone() } else { recipient.email.clone() };
            let enabled = preferences.get(&(recipient.user_id.clone(), channel)).copied().unwrap_or(true);
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
        for (robot_id, key) in robots_over(conn, region).await? {
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
    let mut templates = templates_of(conn, event.code()).await?;
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
    template: &Template,
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
    let rows = conn
        .query_all_raw(sql(
            conn.get_database_backend(),
            "SELECT g.user_id, g.region_code, r.level FROM role_grant g LEFT JOIN region r ON r.code = g.region_code \
             WHERE g.role = ?",
            vec![role.as_str().into()],
        ))
        .await?;
    let mut users = BTreeSet::new();
    for row in rows {
        let user_id: String = row.try_get_by_index(0)?;
        let grant_region: String = row.try_get_by_index(1)?;
        let level: Option<String> = row.try_get_by_index(2)?;
        let len = level.as_deref().map_or(grant_region.len(), prefix_len).min(grant_region.len());
        if region_code.starts_with(&grant_region[..len]) {
            users.insert(user_id);
        }
    }
    Ok(users)
}

async fn active_users(conn: &impl ConnectionTrait, ids: &BTreeSet<String>) -> Result<Vec<Recipient>, DbErr> {
    let mut users = Vec::with_capacity(ids.len());
    let ids: Vec<&String> = ids.iter().collect();
    for chunk in ids.chunks(500) {
        let text = format!(
            "SELECT id, phone, email FROM app_user WHERE active = ? AND id IN ({}) ORDER BY id",
            placeholders(chunk.len())
        );
        let mut values: Vec<Value> = vec![true.into()];
        values.extend(chunk.iter().map(|id| Value::from(id.as_str())));
        for row in conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await? {
            users.push(Recipient {
                user_id: row.try_get_by_index(0)?,
                phone: row.try_get_by_index(1)?,
                email: row.try_get_by_index(2)?,
            });
        }
    }
    Ok(users)
}

async fn preferences_of(
    conn: &impl ConnectionTrait,
    users: &[Recipient],
) -> Result<BTreeMap<(String, &'static str), bool>, DbErr> {
    let mut preferences = BTreeMap::new();
    for chunk in users.chunks(500) {
        let text = format!(
            "SELECT user_id, channel, enabled FROM notification_preference WHERE user_id IN ({})",
            placeholders(chunk.len())
        );
        let values = chunk.iter().map(|user| Value::from(user.user_id.as_str())).collect();
        for row in conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await? {
            let user_id: String = row.try_get_by_index(0)?;
            let channel: String = row.try_get_by_index(1)?;
            let enabled: bool = row.try_get_by_index(2)?;
            if let Some(channel) = CHANNELS.into_iter().find(|known| *known == channel) {
                preferences.insert((user_id, channel), enabled);
            }
        }
    }
    Ok(preferences)
}

async fn templates_of(conn: &impl ConnectionTrait, event: &str) -> Result<BTreeMap<String, Template>, DbErr> {
    let rows = conn
        .query_all_raw(sql(
            conn.get_database_backend(),
            "SELECT channel, subject, body, sms_template_code, sms_params FROM notification_template WHERE event = ?",
            vec![event.into()],
        ))
        .await?;
    let mut templates = BTreeMap::new();
    for row in rows {
        templates.insert(
            row.try_get_by_index::<String>(0)?,
            Template {
                subject: row.try_get_by_index(1)?,
                body: row.try_get_by_index(2)?,
                sms_template_code: row.try_get_by_index(3)?,
                sms_params: row.try_get_by_index(4)?,
            },
        );
    }
    Ok(templates)
}

/// Active robots whose region contains `region_code`: (id, key).
async fn robots_over(conn: &impl ConnectionTrait, region_code: &str) -> Result<Vec<(String, String)>, DbErr> {
    let rows = conn
        .query_all_raw(sql(
            conn.get_database_backend(),
            "SELECT b.id, b.robot_key, b.region_code, r.level FROM notification_robot b \
             LEFT JOIN region r ON r.code = b.region_code WHERE b.active = ? ORDER BY b.id",
            vec![true.into()],
        ))
        .await?;
    let mut robots = Vec::new();
    for row in rows {
        let id: String = row.try_get_by_index(0)?;
        let key: String = row.try_get_by_index(1)?;
        let robot_region: String = row.try_get_by_index(2)?;
        let level: Option<String> = row.try_get_by_index(3)?;
        let len = level.as_deref().map_or(robot_region.len(), prefix_len).min(robot_region.len());
        if region_code.starts_with(&robot_region[..len]) {
            robots.push((id, key));
        }
    }
    Ok(robots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_round_trip() {
        for event in Event::ALL {
            assert_eq!(Event::parse(event.code()), Some(event));
        }
        assert_eq!(Event::MilestoneOverdue.code(), "milestone_overdue");
    }
}
