//! Each user's channel preferences (`notification_preference`) and their choices per
//! event and channel (`notification_event_preference`): the only module that reads or
//! writes those tables. A channel nobody has turned off is on, and so is an event on it;
//! a message goes out on a channel only when both are on.
//!
//! A user reads and sets their own; county staff those of the users they manage (the
//! registry's rule, [`super::access::manages_user`]). Every change is audited. What this module
//! must never do: change a user's addresses (those are the registry's), or turn a
//! channel off for anyone but the user named.

use std::collections::{BTreeMap, HashMap};

use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::{Deserialize, Serialize};

use super::access::manages_user;
use super::codes::{CHANNELS, Event, known_channel};
use crate::auth::Caller;
use crate::clock::Clock;
use crate::db::{Db, placeholders, sql};
use crate::error::Refusal;
use crate::registry::Actor;

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PreferenceBody {
    pub channel: String,
    pub enabled: bool,
    /// Only this event (`objection_received`, …) on the channel, sms or email; without
    /// it, the whole channel.
    #[serde(default)]
    pub event: Option<String>,
}

/// The channels a person chooses per event: WeCom goes to a region's group robot, which
/// no person's choice turns off.
pub const EVENT_CHANNELS: [&str; 2] = ["sms", "email"];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreferencesBody {
    pub user_id: String,
    /// Every channel: whether it is on, and whether the user has an address for it.
    pub channels: Vec<ChannelPreference>,
    /// Every event on SMS and email: whether the user wants it there (a channel turned
    /// off sends nothing, whatever its events say).
    pub events: Vec<EventPreference>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPreference {
    pub event: String,
    pub channel: String,
    pub enabled: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelPreference {
    pub channel: String,
    pub enabled: bool,
    /// Whether the user has an address for it (phone for SMS, email); WeCom goes to the
    /// region's group robot, not to a person.
    pub has_address: bool,
}

#[derive(FromQueryResult)]
struct PreferenceRow {
    user_id: String,
    channel: String,
    enabled: bool,
}

#[derive(FromQueryResult)]
struct EventPreferenceRow {
    user_id: String,
    event: String,
    channel: String,
    enabled: bool,
}

#[derive(FromQueryResult)]
struct AddressRow {
    phone: Option<String>,
    email: Option<String>,
}

/// The stored preferences of these users, by user and known channel (the enqueue side
/// treats a pair missing here as on).
pub(crate) async fn of_users(
    conn: &impl ConnectionTrait,
    user_ids: &[&str],
) -> Result<BTreeMap<(String, &'static str), bool>, DbErr> {
    let mut preferences = BTreeMap::new();
    for chunk in user_ids.chunks(500) {
        let text = format!(
            "SELECT user_id, channel, enabled FROM notification_preference WHERE user_id IN ({})",
            placeholders(chunk.len())
        );
        let values = chunk.iter().map(|id| Value::from(*id)).collect();
        for row in PreferenceRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await? {
            if let Some(channel) = CHANNELS.into_iter().find(|known| *known == row.channel) {
                preferences.insert((row.user_id, channel), row.enabled);
            }
        }
    }
    Ok(preferences)
}

/// The stored choices per event of these users, by user, event and channel (a triple
/// missing here is on).
pub(crate) async fn events_of_users(
    conn: &impl ConnectionTrait,
    user_ids: &[&str],
) -> Result<BTreeMap<(String, String, &'static str), bool>, DbErr> {
    let mut preferences = BTreeMap::new();
    for chunk in user_ids.chunks(500) {
        let text = format!(
            "SELECT user_id, event, channel, enabled FROM notification_event_preference WHERE user_id IN ({})",
            placeholders(chunk.len())
        );
        let values = chunk.iter().map(|id| Value::from(*id)).collect();
        for row in
            EventPreferenceRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?
        {
            if let Some(channel) = CHANNELS.into_iter().find(|known| *known == row.channel) {
                preferences.insert((row.user_id, row.event, channel), row.enabled);
            }
        }
    }
    Ok(preferences)
}

/// One user's channels, every channel listed.
async fn of_user(conn: &impl ConnectionTrait, user_id: &str) -> Result<PreferencesBody, Refusal> {
    let backend = conn.get_database_backend();
    let user = AddressRow::find_by_statement(sql(
        backend,
        "SELECT phone, email FROM app_user WHERE id = ?",
        vec![user_id.into()],
    ))
    .one(conn)
    .await?
    .ok_or_else(Refusal::not_found)?;
    let stored: HashMap<String, bool> = of_users(conn, &[user_id])
        .await?
        .into_iter()
        .map(|((_, channel), enabled)| (channel.to_owned(), enabled))
        .collect();
    let channels = CHANNELS
        .into_iter()
        .map(|channel| ChannelPreference {
            channel: channel.into(),
            enabled: stored.get(channel).copied().unwrap_or(true),
            has_address: match channel {
                "sms" => user.phone.as_deref().is_some_and(|phone| !phone.trim().is_empty()),
                "email" => user.email.as_deref().is_some_and(|email| !email.trim().is_empty()),
                _ => false,
            },
        })
        .collect();
    let chosen = events_of_users(conn, &[user_id]).await?;
    let events = Event::ALL
        .into_iter()
        .flat_map(|event| EVENT_CHANNELS.into_iter().map(move |channel| (event.code(), channel)))
        .map(|(event, channel)| EventPreference {
            event: event.into(),
            channel: channel.into(),
            enabled: chosen.get(&(user_id.to_owned(), event.to_owned(), channel)).copied().unwrap_or(true),
        })
        .collect();
    Ok(PreferencesBody { user_id: user_id.into(), channels, events })
}

/// Refuses unless the user is the caller or one the caller manages.
async fn may_see(conn: &impl ConnectionTrait, caller: &Caller, user_id: &str) -> Result<(), Refusal> {
    if user_id != caller.user_id && !manages_user(conn, caller, user_id).await? {
        return Err(Refusal::forbidden());
    }
    Ok(())
}

/// A user's preferences (the user, or county staff managing them).
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, user_id: &str) -> Result<PreferencesBody, Refusal> {
    may_see(conn, caller, user_id).await?;
    of_user(conn, user_id).await
}

/// Turns one of a user's channels, or one event on it, on or off (the user, or county
/// staff managing them), audited with the value before.
pub async fn set(
    db: &Db,
    clock: &Clock,
    caller: &Caller,
    user_id: &str,
    body: PreferenceBody,
) -> Result<PreferencesBody, Refusal> {
    may_see(&db.conn, caller, user_id).await?;
    let channel = known_channel(&body.channel)?;
    if let Some(event) = body.event.as_deref() {
        let event = Event::parse(event).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownEvent))?;
        if !EVENT_CHANNELS.contains(&channel) {
            return Err(Refusal::invalid(ErrorCode::UnknownChannel).on_field("channel"));
        }
        return set_event(db, clock, caller, user_id, event.code(), channel, body.enabled).await;
    }
    let txn = db.begin_write().await?;
    let old = of_user(&*txn, user_id).await?;
    let was = old.channels.iter().find(|c| c.channel == channel).map(|c| c.enabled);
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "INSERT INTO notification_preference (user_id, channel, enabled, updated_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (user_id, channel) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
        vec![user_id.into(), channel.into(), body.enabled.into(), clock.now().into()],
    ))
    .await?;
    let mut entry = Actor::of(caller).audit("update", "notification_preference", user_id);
    entry.field = Some(channel.into());
    entry.old_value = was.map(|enabled| enabled.to_string());
    entry.new_value = Some(body.enabled.to_string());
    crate::audit::record(&*txn, &[entry]).await?;
    let new = of_user(&*txn, user_id).await?;
    txn.commit().await?;
    Ok(new)
}

/// One event on one channel for a user, audited as `event/channel` with its value before.
async fn set_event(
    db: &Db,
    clock: &Clock,
    caller: &Caller,
    user_id: &str,
    event: &str,
    channel: &str,
    enabled: bool,
) -> Result<PreferencesBody, Refusal> {
    let txn = db.begin_write().await?;
    let old = of_user(&*txn, user_id).await?;
    let was = old.events.iter().find(|e| e.event == event && e.channel == channel).map(|e| e.enabled);
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "INSERT INTO notification_event_preference (user_id, event, channel, enabled, updated_at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (user_id, event, channel) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
        vec![user_id.into(), event.into(), channel.into(), enabled.into(), clock.now().into()],
    ))
    .await?;
    let mut entry = Actor::of(caller).audit("update", "notification_preference", user_id);
    entry.field = Some(format!("{event}/{channel}"));
    entry.old_value = was.map(|enabled| enabled.to_string());
    entry.new_value = Some(enabled.to_string());
    crate::audit::record(&*txn, &[entry]).await?;
    let new = of_user(&*txn, user_id).await?;
    txn.commit().await?;
    Ok(new)
}
