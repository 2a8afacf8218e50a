//! WeCom group robots (`notification_robot`): a region's group hears about the events of
//! the region and the regions under it. The only module that reads or writes the table.
//!
//! County staff add and switch the robots of the regions they manage, audited. A robot's
//! key lets anyone holding it post to the group, so what this module must never do is
//! hand the key out: the API and the audit log see only its last characters
//! ([`key_hint`]); only the enqueue side reads it whole, to address the outbox row.

use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};

use super::access::manages_someone;
use crate::auth::Caller;
use crate::auth::roles::prefix_len;
use crate::clock::Clock;
use crate::db::{Db, sql};
use crate::error::{Kind, Refusal};
use crate::registry::Actor;

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

#[derive(FromQueryResult)]
struct RobotRow {
    id: String,
    region_code: String,
    name: String,
    robot_key: String,
    active: bool,
}

/// A robot with the level of its region, to tell which regions it covers.
#[derive(FromQueryResult)]
struct CoverageRow {
    id: String,
    robot_key: String,
    region_code: String,
    level: Option<String>,
}

#[derive(FromQueryResult)]
struct KeyedRow {
    id: String,
    region_code: String,
}

fn key_hint(key: &str) -> String {
    let tail: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("***{tail}")
}

async fn load(conn: &impl ConnectionTrait, id: Option<&str>) -> Result<Vec<RobotBody>, DbErr> {
    let (text, values): (&str, Vec<Value>) = match id {
        Some(id) => {
            ("SELECT id, region_code, name, robot_key, active FROM notification_robot WHERE id = ?", vec![id.into()])
        }
        None => (
            "SELECT id, region_code, name, robot_key, active FROM notification_robot ORDER BY region_code, name",
            vec![],
        ),
    };
    let rows = RobotRow::find_by_statement(sql(conn.get_database_backend(), text, values)).all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|row| RobotBody {
            id: row.id,
            region_code: row.region_code,
            name: row.name,
            key_hint: key_hint(&row.robot_key),
            active: row.active,
        })
        .collect())
}

async fn one(conn: &impl ConnectionTrait, id: &str) -> Result<RobotBody, Refusal> {
    load(conn, Some(id)).await?.pop().ok_or_else(Refusal::not_found)
}

/// Active robots whose region contains `region_code`: (id, key), for the enqueue side.
pub(crate) async fn over(conn: &impl ConnectionTrait, region_code: &str) -> Result<Vec<(String, String)>, DbErr> {
    let rows = CoverageRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT b.id, b.robot_key, b.region_code, r.level FROM notification_robot b \
         LEFT JOIN region r ON r.code = b.region_code WHERE b.active = ? ORDER BY b.id",
        vec![true.into()],
    ))
    .all(conn)
    .await?;
    let mut robots = Vec::new();
    for row in rows {
        let len = row.level.as_deref().map_or(row.region_code.len(), prefix_len).min(row.region_code.len());
        if region_code.starts_with(&row.region_code[..len]) {
            robots.push((row.id, row.robot_key));
        }
    }
    Ok(robots)
}

/// The active robot with this key in a region the caller manages, as the outbox files
/// its messages (`robot:{id}`); a test send may go to no other group.
pub(crate) async fn managed_with_key(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    key: &str,
) -> Result<Option<String>, DbErr> {
    let rows = KeyedRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT id, region_code FROM notification_robot WHERE robot_key = ? AND active = ?",
        vec![key.into(), true.into()],
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().find(|row| caller.manages_region(&row.region_code)).map(|row| format!("robot:{}", row.id)))
}

/// The robots of the regions the caller manages.
pub async fn list(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<RobotBody>, Refusal> {
    if !manages_someone(caller) {
        return Err(Refusal::forbidden());
    }
    let robots = load(conn, None).await?;
    Ok(robots.into_iter().filter(|robot| caller.manages_region(&robot.region_code)).collect())
}

/// Adds a region's robot (county staff of the region), audited without its key.
pub async fn add(db: &Db, clock: &Clock, caller: &Caller, body: NewRobot) -> Result<RobotBody, Refusal> {
    if !caller.manages_region(&body.region_code) {
        return Err(Refusal::forbidden());
    }
    let key = body.robot_key.trim();
    if key.is_empty() || body.region_code.len() != 12 || !body.region_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::invalid(ErrorCode::InvalidAddress));
    }
    // A robot hears about its region and everything below: the region must be a real one.
    if crate::db::entities::region::Entity::find_by_id(body.region_code.clone()).one(&db.conn).await?.is_none() {
        return Err(Refusal::new(Kind::Rejected, ErrorCode::RegionCodeLevel));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let txn = db.begin_write().await?;
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "INSERT INTO notification_robot (id, region_code, name, robot_key, active, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            id.as_str().into(),
            body.region_code.as_str().into(),
            body.name.as_str().into(),
            key.into(),
            true.into(),
            clock.now().into(),
        ],
    ))
    .await?;
    let mut entry = Actor::of(caller).audit("create", "notification_robot", &id);
    entry.new_value = Some(format!("{} {} {}", body.region_code, body.name, key_hint(key)));
    crate::audit::record(&*txn, &[entry]).await?;
    let robot = one(&*txn, &id).await?;
    txn.commit().await?;
    Ok(robot)
}

/// Turns a robot on or off (county staff of its region), audited.
pub async fn set_active(db: &Db, caller: &Caller, id: &str, body: RobotUpdate) -> Result<RobotBody, Refusal> {
    let txn = db.begin_write().await?;
    let old = one(&*txn, id).await?;
    if !caller.manages_region(&old.region_code) {
        return Err(Refusal::forbidden());
    }
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "UPDATE notification_robot SET active = ? WHERE id = ?",
        vec![body.active.into(), id.into()],
    ))
    .await?;
    let mut entry = Actor::of(caller).audit("update", "notification_robot", id);
    entry.field = Some("active".into());
    entry.old_value = Some(old.active.to_string());
    entry.new_value = Some(body.active.to_string());
    crate::audit::record(&*txn, &[entry]).await?;
    let robot = one(&*txn, id).await?;
    txn.commit().await?;
    Ok(robot)
}
