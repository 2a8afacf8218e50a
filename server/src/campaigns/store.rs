//! Campaigns and their milestones in the database. Every write is one transaction with
//! its audit entries.

use super::{Measure, format_date, parse_date};
use crate::db::{Db, sql};
use crate::registry::Actor;
use crate::records::changelog::{self, LogEntry, LogOp};
use crate::records::side;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Value};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    /// The region covered (usually a county).
    pub region_code: String,
    pub year: i32,
    /// `active` or `closed`.
    pub status: String,
    pub created_by: Option<String>,
    pub milestones: Vec<Milestone>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Milestone {
    pub id: String,
    pub campaign_id: String,
    pub position: i32,
    pub name: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub starts_on: Option<NaiveDate>,
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    /// `households_visited`, `cases_past_step:<step>`, `quality_problems_left`, `help_plans_entered`.
    pub measure: String,
    /// Percent of the measure that counts as done.
    pub target_percent: i32,
    /// Days before the due date a reminder goes out.
    pub remind_days_before: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub region_code: String,
    pub year: i32,
    pub milestones: Vec<NewMilestone>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewMilestone {
    pub name: String,
    pub starts_on: Option<NaiveDate>,
    pub due_on: NaiveDate,
    pub measure: String,
    pub target_percent: i32,
    pub remind_days_before: Vec<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("unknown measure")]
    UnknownMeasure,
    /// Starts after it is due, a target outside 1–100, a reminder outside 1–60 days, an empty name.
    #[error("invalid milestone")]
    InvalidMilestone,
    #[error("unknown region")]
    UnknownRegion,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl NewMilestone {
    pub fn validate(&self) -> Result<(), CampaignError> {
        if Measure::parse(&self.measure).is_none() {
            return Err(CampaignError::UnknownMeasure);
        }
        let days_ok = self.remind_days_before.iter().all(|d| (1..=60).contains(d));
        if self.name.trim().is_empty()
            || self.starts_on.is_some_and(|s| s > self.due_on)
            || !(1..=100).contains(&self.target_percent)
            || !days_ok
        {
            return Err(CampaignError::InvalidMilestone);
        }
        Ok(())
    }
}

const CAMPAIGN_COLUMNS: &str = "id, name, region_code, year, status, created_by";
const MILESTONE_COLUMNS: &str =
    "id, campaign_id, position, name, starts_on, due_on, measure, target_percent, remind_days_before";

fn campaign_of(row: &QueryResult) -> Result<Campaign, DbErr> {
    Ok(Campaign {
        id: row.try_get_by_index(0)?,
        name: row.try_get_by_index(1)?,
        region_code: row.try_get_by_index(2)?,
        year: row.try_get_by_index(3)?,
        status: row.try_get_by_index(4)?,
        created_by: row.try_get_by_index(5)?,
        milestones: Vec::new(),
    })
}

fn milestone_of(row: &QueryResult) -> Result<Option<Milestone>, DbErr> {
    let starts: Option<String> = row.try_get_by_index(4)?;
    let due: String = row.try_get_by_index(5)?;
    let days: String = row.try_get_by_index(8)?;
    // Dates are validated on the way in; a malformed one cannot be scheduled.
    let Some(due_on) = parse_date(&due) else { return Ok(None) };
    Ok(Some(Milestone {
        id: row.try_get_by_index(0)?,
        campaign_id: row.try_get_by_index(1)?,
        position: row.try_get_by_index(2)?,
        name: row.try_get_by_index(3)?,
        starts_on: starts.as_deref().and_then(parse_date),
        due_on,
        measure: row.try_get_by_index(6)?,
        target_percent: row.try_get_by_index(7)?,
        remind_days_before: serde_json::from_str(&days).unwrap_or_else(|_| vec![3, 1]),
    }))
}

async fn milestones_of(conn: &impl ConnectionTrait, campaign_ids: &[String]) -> Result<Vec<Milestone>, DbErr> {
    if campaign_ids.is_empty() {
        return Ok(Vec::new());
    }
    let text = format!(
        "SELECT {MILESTONE_COLUMNS} FROM milestone WHERE campaign_id IN ({}) ORDER BY campaign_id, position, id",
        crate::db::placeholders(campaign_ids.len())
    );
    let values = campaign_ids.iter().map(|id| Value::from(id.as_str())).collect();
    let rows = conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.extend(milestone_of(row)?);
    }
    Ok(out)
}

/// Campaigns matching `condition` (SQL over `campaign`, with its values), each with its milestones.
async fn load_where(conn: &impl ConnectionTrait, condition: &str, values: Vec<Value>) -> Result<Vec<Campaign>, DbErr> {
    let text = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaign WHERE {condition} ORDER BY year DESC, id");
    let rows = conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await?;
    let mut campaigns: Vec<Campaign> = rows.iter().map(campaign_of).collect::<Result<_, _>>()?;
    let ids: Vec<String> = campaigns.iter().map(|c| c.id.clone()).collect();
    let milestones = milestones_of(conn, &ids).await?;
    for c in &mut campaigns {
        c.milestones = milestones.iter().filter(|m| m.campaign_id == c.id).cloned().collect();
    }
    Ok(campaigns)
}

pub async fn get(conn: &impl ConnectionTrait, id: &str) -> Result<Option<Campaign>, DbErr> {
    Ok(load_where(conn, "id = ?", vec![id.into()]).await?.into_iter().next())
}

pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<Campaign>, DbErr> {
    load_where(conn, "1 = 1", vec![]).await
}

/// Campaigns reminders and progress snapshots are about.
pub async fn active(conn: &impl ConnectionTrait) -> Result<Vec<Campaign>, DbErr> {
    load_where(conn, "status = ?", vec!["active".into()]).await
}

pub async fn milestone(conn: &impl ConnectionTrait, id: &str) -> Result<Option<Milestone>, DbErr> {
    let text = format!("SELECT {MILESTONE_COLUMNS} FROM milestone WHERE id = ?");
    let row = conn.query_one_raw(sql(conn.get_database_backend(), &text, vec![id.into()])).await?;
    Ok(match row {
        Some(row) => milestone_of(&row)?,
        None => None,
    })
}

async fn insert_milestone(
    conn: &impl ConnectionTrait,
    campaign_id: &str,
    position: i32,
    m: &NewMilestone,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let id = Uuid::new_v4().to_string();
    conn.execute_raw(sql(
        conn.get_database_backend(),
        &format!("INSERT INTO milestone ({MILESTONE_COLUMNS}, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        vec![
            id.as_str().into(),
            campaign_id.into(),
            position.into(),
            m.name.trim().into(),
            m.starts_on.map(format_date).into(),
            format_date(m.due_on).into(),
            m.measure.as_str().into(),
            m.target_percent.into(),
            serde_json::to_string(&m.remind_days_before).unwrap_or_else(|_| "[3,1]".into()).into(),
            now.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(id)
}

fn milestone_note(m: &NewMilestone) -> String {
    format!(
        "{} {}..{} {} {}%",
        m.name,
        m.starts_on.map(format_date).unwrap_or_default(),
        format_date(m.due_on),
        m.measure,
        m.target_percent
    )
}

/// Creates a campaign with its milestones.
pub async fn create(db: &Db, actor: &Actor, new: NewCampaign) -> Result<Campaign, CampaignError> {
    for m in &new.milestones {
        m.validate()?;
    }
    if new.name.trim().is_empty() || !(2000..=2100).contains(&new.year) {
        return Err(CampaignError::InvalidMilestone);
    }
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let known =
        crate::db::count(&*txn, "SELECT COUNT(*) FROM region WHERE code = ?", vec![new.region_code.as_str().into()])
            .await?;
    if known == 0 {
        return Err(CampaignError::UnknownRegion);
    }
    let now = Utc::now();
    let id = Uuid::new_v4().to_string();
    txn.execute_raw(sql(
        backend,
        &format!("INSERT INTO campaign ({CAMPAIGN_COLUMNS}, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
        vec![
            id.as_str().into(),
            new.name.trim().into(),
            new.region_code.as_str().into(),
            new.year.into(),
            "active".into(),
            actor.user_id.clone().into(),
            now.into(),
            now.into(),
        ],
    ))
    .await?;
    let mut entries = vec![{
        let mut e = actor.audit("create", "campaign", &id);
        e.new_value = Some(format!("{} {} {}", new.name.trim(), new.region_code, new.year));
        e
    }];
    for (i, m) in new.milestones.iter().enumerate() {
        let mid = insert_milestone(&*txn, &id, i as i32 + 1, m, now).await?;
        let mut e = actor.audit("create", "milestone", &mid);
        e.new_value = Some(milestone_note(m));
        entries.push(e);
    }
    crate::audit::record(&*txn, &entries).await?;
    let campaign = get(&*txn, &id).await?.ok_or(CampaignError::NotFound)?;
    txn.commit().await?;
    Ok(campaign)
}

/// Renames a campaign or changes its status (`active`, `closed`).
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: &str,
    name: Option<String>,
    status: Option<String>,
) -> Result<Campaign, CampaignError> {
    if status.as_deref().is_some_and(|s| s != "active" && s != "closed")
        || name.as_deref().is_some_and(|n| n.trim().is_empty())
    {
        return Err(CampaignError::InvalidMilestone);
    }
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let before = get(&*txn, id).await?.ok_or(CampaignError::NotFound)?;
    let name = name.map(|n| n.trim().to_owned()).unwrap_or(before.name.clone());
    let status = status.unwrap_or(before.status.clone());
    txn.execute_raw(sql(
        backend,
        "UPDATE campaign SET name = ?, status = ?, updated_at = ? WHERE id = ?",
        vec![name.as_str().into(), status.as_str().into(), Utc::now().into(), id.into()],
    ))
    .await?;
    // A closed campaign leaves the phones; reopened, the next progress run brings it back.
    if before.status == "active" && status == "closed" {
        drop_progress(&*txn, "campaign_id", id).await?;
    }
    let mut e = actor.audit("update", "campaign", id);
    e.old_value = Some(format!("{} {}", before.name, before.status));
    e.new_value = Some(format!("{name} {status}"));
    crate::audit::record(&*txn, &[e]).await?;
    let campaign = get(&*txn, id).await?.ok_or(CampaignError::NotFound)?;
    txn.commit().await?;
    Ok(campaign)
}

/// Adds a milestone at the end of a campaign.
pub async fn add_milestone(
    db: &Db,
    actor: &Actor,
    campaign_id: &str,
    m: &NewMilestone,
) -> Result<Milestone, CampaignError> {
    m.validate()?;
    let txn = db.begin_write().await?;
    let campaign = get(&*txn, campaign_id).await?.ok_or(CampaignError::NotFound)?;
    let position = campaign.milestones.iter().map(|m| m.position).max().unwrap_or(0) + 1;
    let id = insert_milestone(&*txn, campaign_id, position, m, Utc::now()).await?;
    let mut e = actor.audit("create", "milestone", &id);
    e.new_value = Some(milestone_note(m));
    crate::audit::record(&*txn, &[e]).await?;
    let stored = milestone(&*txn, &id).await?.ok_or(CampaignError::NotFound)?;
    txn.commit().await?;
    Ok(stored)
}

/// Replaces a milestone's dates, measure, target and reminders.
pub async fn update_milestone(db: &Db, actor: &Actor, id: &str, m: &NewMilestone) -> Result<Milestone, CampaignError> {
    m.validate()?;
    let txn = db.begin_write().await?;
    let before = milestone(&*txn, id).await?.ok_or(CampaignError::NotFound)?;
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "UPDATE milestone SET name = ?, starts_on = ?, due_on = ?, measure = ?, target_percent = ?, \
         remind_days_before = ?, updated_at = ? WHERE id = ?",
        vec![
            m.name.trim().into(),
            m.starts_on.map(format_date).into(),
            format_date(m.due_on).into(),
            m.measure.as_str().into(),
            m.target_percent.into(),
            serde_json::to_string(&m.remind_days_before).unwrap_or_else(|_| "[3,1]".into()).into(),
            Utc::now().into(),
            id.into(),
        ],
    ))
    .await?;
    let mut e = actor.audit("update", "milestone", id);
    e.old_value = Some(format!(
        "{} {}..{} {} {}%",
        before.name,
        before.starts_on.map(format_date).unwrap_or_default(),
        format_date(before.due_on),
        before.measure,
        before.target_percent
    ));
    e.new_value = Some(milestone_note(m));
    crate::audit::record(&*txn, &[e]).await?;
    let stored = milestone(&*txn, id).await?.ok_or(CampaignError::NotFound)?;
    txn.commit().await?;
    Ok(stored)
}

/// Deletes the progress snapshots of a milestone or campaign (`column` is
/// `milestone_id` or `campaign_id`), with change-log rows so phones that pulled them
/// drop them too.
async fn drop_progress(conn: &impl ConnectionTrait, column: &str, id: &str) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(sql(
            backend,
            &format!("SELECT id, region_code, version FROM campaign_progress WHERE {column} = ?"),
            vec![id.into()],
        ))
        .await?;
    let mut log = Vec::with_capacity(rows.len());
    for row in rows {
        log.push(LogEntry {
            entity: side::CAMPAIGN_PROGRESS,
            entity_id: row.try_get_by_index(0)?,
            household_id: None,
            region_code: Some(row.try_get_by_index(1)?),
            target_user: None,
            op: LogOp::Delete,
            version: row.try_get_by_index::<i64>(2)? + 1,
        });
    }
    if !log.is_empty() {
        let tx = changelog::current_tx(conn).await?;
        changelog::append(conn, tx, &log).await?;
    }
    conn.execute_raw(sql(backend, &format!("DELETE FROM campaign_progress WHERE {column} = ?"), vec![id.into()]))
        .await?;
    Ok(())
}

/// Removes a milestone and its progress snapshots.
pub async fn delete_milestone(db: &Db, actor: &Actor, id: &str) -> Result<(), CampaignError> {
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let before = milestone(&*txn, id).await?.ok_or(CampaignError::NotFound)?;
    drop_progress(&*txn, "milestone_id", id).await?;
    txn.execute_raw(sql(backend, "DELETE FROM milestone WHERE id = ?", vec![id.into()])).await?;
    let mut e = actor.audit("delete", "milestone", id);
    e.old_value = Some(format!("{} {}", before.name, format_date(before.due_on)));
    crate::audit::record(&*txn, &[e]).await?;
    txn.commit().await?;
    Ok(())
}
