//! Message templates (`notification_template`), one per event and channel: the only
//! module that reads or writes the table. The enqueue side reads an event's templates
//! here; administrators edit them here, audited.
//!
//! Templates are deployment-wide, so only an administrator at the root changes one;
//! county staff read them. What this module must never do: render or send a message
//! (rendering is `jingzhun_notifier::template`, sending the dispatcher's), or create a
//! template (the migrations seed one per event and channel).

use std::collections::BTreeMap;

use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::{Deserialize, Serialize};

use super::access::manages_someone;
use super::codes::{Event, known_channel};
use crate::auth::Caller;
use crate::clock::Clock;
use crate::db::{Db, sql};
use crate::error::{Kind, Refusal};
use crate::registry::Actor;

/// One stored template, as the table holds it and the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, FromQueryResult, utoipa::ToSchema)]
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
    /// Left out: the variables stay as they are.
    #[serde(default)]
    pub sms_params: Option<String>,
}

const COLUMNS: &str = "event, channel, subject, body, sms_template_code, sms_params";

async fn select(conn: &impl ConnectionTrait, condition: &str, values: Vec<Value>) -> Result<Vec<TemplateBody>, DbErr> {
    let text = format!("SELECT {COLUMNS} FROM notification_template {condition}");
    TemplateBody::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await
}

/// An event's templates by channel, for the enqueue side.
pub(crate) async fn of_event(
    conn: &impl ConnectionTrait,
    event: &str,
) -> Result<BTreeMap<String, TemplateBody>, DbErr> {
    let templates = select(conn, "WHERE event = ?", vec![event.into()]).await?;
    Ok(templates.into_iter().map(|template| (template.channel.clone(), template)).collect())
}

async fn one(conn: &impl ConnectionTrait, event: &str, channel: &str) -> Result<Option<TemplateBody>, DbErr> {
    Ok(select(conn, "WHERE event = ? AND channel = ?", vec![event.into(), channel.into()]).await?.pop())
}

/// Every template, for county staff and administrators.
pub async fn list(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<TemplateBody>, Refusal> {
    if !manages_someone(caller) {
        return Err(Refusal::forbidden());
    }
    Ok(select(conn, "ORDER BY event, channel", vec![]).await?)
}

/// Whether the caller may change a template: the templates are deployment-wide, so only
/// the root administrator (H3). [`update`] refuses by it; the console asks it.
pub fn may_edit(caller: &Caller) -> bool {
    caller.is_root_admin()
}

/// Replaces one template's texts (administrators at the root), audited with the old and
/// new template.
pub async fn update(
    db: &Db,
    clock: &Clock,
    caller: &Caller,
    event: &str,
    channel: &str,
    update: TemplateUpdate,
) -> Result<TemplateBody, Refusal> {
    if !may_edit(caller) {
        return Err(Refusal::new(Kind::Forbidden, ErrorCode::RootAdminRequired));
    }
    let event = Event::parse(event).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownEvent))?.code();
    let channel = known_channel(channel)?;
    if update.body.trim().is_empty() {
        return Err(Refusal::invalid(ErrorCode::TemplateEmpty));
    }
    let txn = db.begin_write().await?;
    let old = one(&*txn, event, channel).await?.ok_or_else(Refusal::not_found)?;
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
            clock.now().into(),
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
    let mut entry = Actor::of(caller).audit("update", "notification_template", &format!("{event}/{channel}"));
    entry.old_value = serde_json::to_string(&old).ok();
    entry.new_value = serde_json::to_string(&new).ok();
    crate::audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(new)
}
