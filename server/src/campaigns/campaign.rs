//! Campaigns and their milestones in the database. Every write is one transaction with
//! its audit entries, and checks first that the actor runs the campaign's region
//! (county staff and administrators); who may read them is `super::access`.
//!
//! What this module must never do: answer in HTTP terms. It refuses with a
//! [`CampaignError`], whose kind of refusal is decided here, next to it.

use super::{Measure, format_date, parse_date};
use crate::audit::Actor;
use crate::db::{Db, sql};
use crate::error::Refusal;
use crate::records::changelog::{self, LogEntry, LogOp};
use crate::records::side;
use chrono::{DateTime, NaiveDate, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// Read by name from [`CAMPAIGN_COLUMNS`]; the milestones are loaded after.
#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    /// The region covered (usually a county).
    pub region_code: String,
    pub year: i32,
    /// `active` or `closed`.
    pub status: String,
    pub created_by: Option<String>,
    #[sea_orm(skip)]
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
    /// `households_visited`, `cases_past_step:<step>`, `cases_completed`, `households_collected`,
    /// `quality_problems_left`, `households_complete`, `help_plans_entered` (see `campaigns::Measure`).
    pub measure: String,
    /// Percent of the measure that counts as done.
    pub target_percent: i32,
    /// Days before the due date a reminder goes out.
    pub remind_days_before: Vec<i64>,
}

// A campaign to create, as `POST /api/v1/campaigns` takes it. Under its old name in the
// API document, and without a doc comment, which the document would show as a
// description the schema never had.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = CampaignBody)]
pub struct NewCampaign {
    pub name: String,
    /// The region covered (12 digits), usually the county.
    pub region_code: String,
    pub year: i32,
    #[serde(default)]
    pub milestones: Vec<NewMilestone>,
}

// A milestone to add or to put in place of one, as the API takes it and the template
// list shows it; `MilestoneBody` in the API document, as for `NewCampaign`. A target or
// reminder days left out, or sent as `null`, are the usual ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = MilestoneBody)]
pub struct NewMilestone {
    pub name: String,
    /// First day of the work (`YYYY-MM-DD`, Beijing); empty: no expectation before the due day.
    #[schema(value_type = Option<String>, format = Date)]
    pub starts_on: Option<NaiveDate>,
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    /// `households_visited`, `cases_past_step:<step>`, `cases_completed`, `households_collected`,
    /// `quality_problems_left`, `households_complete`, `help_plans_entered` (see `campaigns::Measure`).
    pub measure: String,
    /// Percent that counts as done (default 100).
    #[serde(default = "full_target", deserialize_with = "target_or_full")]
    #[schema(value_type = Option<i32>)]
    pub target_percent: i32,
    /// Days before the due day a reminder goes out (default [3, 1]).
    #[serde(default = "usual_reminders", deserialize_with = "reminders_or_usual")]
    #[schema(value_type = Option<Vec<i64>>)]
    pub remind_days_before: Vec<i64>,
}

fn full_target() -> i32 {
    100
}

fn usual_reminders() -> Vec<i64> {
    vec![3, 1]
}

fn target_or_full<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    Ok(Option::<i32>::deserialize(d)?.unwrap_or_else(full_target))
}

fn reminders_or_usual<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
    Ok(Option::<Vec<i64>>::deserialize(d)?.unwrap_or_else(usual_reminders))
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
    /// Not a template we have.
    #[error("unknown template")]
    UnknownTemplate,
    /// A campaign year outside 2000–2100.
    #[error("year out of range")]
    YearOutOfRange,
    #[error("not found")]
    NotFound,
    /// The actor does not run (or, for reads, does not read) the campaign's region.
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<CampaignError> for Refusal {
    fn from(err: CampaignError) -> Refusal {
        match err {
            CampaignError::UnknownMeasure => Refusal::invalid(ErrorCode::UnknownMeasure).on_field("measure"),
            CampaignError::InvalidMilestone => Refusal::invalid(ErrorCode::InvalidMilestone),
            CampaignError::UnknownRegion => Refusal::invalid(ErrorCode::InvalidRegion).on_field("region_code"),
            CampaignError::UnknownTemplate => Refusal::invalid(ErrorCode::UnknownTemplate).on_field("template"),
            CampaignError::YearOutOfRange => Refusal::invalid(ErrorCode::OutOfRange).on_field("year"),
            CampaignError::NotFound => Refusal::not_found(),
            CampaignError::Forbidden => Refusal::forbidden(),
            CampaignError::Db(err) => Refusal::internal(err),
        }
    }
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

/// A milestone as stored: dates as `YYYY-MM-DD` text, reminder days as a JSON list.
#[derive(FromQueryResult)]
struct MilestoneRow {
    id: String,
    campaign_id: String,
    position: i32,
    name: String,
    starts_on: Option<String>,
    due_on: String,
    measure: String,
    target_percent: i32,
    remind_days_before: String,
}

impl MilestoneRow {
    fn milestone(self) -> Option<Milestone> {
        // Dates are validated on the way in; a malformed one cannot be scheduled.
        let due_on = parse_date(&self.due_on)?;
        Some(Milestone {
            id: self.id,
            campaign_id: self.campaign_id,
            position: self.position,
            name: self.name,
            starts_on: self.starts_on.as_deref().and_then(parse_date),
            due_on,
            measure: self.measure,
            target_percent: self.target_percent,
            remind_days_before: serde_json::from_str(&self.remind_days_before).unwrap_or_else(|_| vec![3, 1]),
        })
    }
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
    let rows = MilestoneRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    Ok(rows.into_iter().filter_map(MilestoneRow::milestone).collect())
}

/// Campaigns matching `condition` (SQL over `campaign`, with its values), each with its milestones.
async fn load_where(conn: &impl ConnectionTrait, condition: &str, values: Vec<Value>) -> Result<Vec<Campaign>, DbErr> {
    let text = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaign WHERE {condition} ORDER BY year DESC, id");
    let mut campaigns = Campaign::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
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
    let row =
        MilestoneRow::find_by_statement(sql(conn.get_database_backend(), &text, vec![id.into()])).one(conn).await?;
    Ok(row.and_then(MilestoneRow::milestone))
}

/// The campaign, if the actor runs its region.
async fn managed(conn: &impl ConnectionTrait, actor: &Actor, id: &str) -> Result<Campaign, CampaignError> {
    let campaign = get(conn, id).await?.ok_or(CampaignError::NotFound)?;
    if !actor.manages_region(&campaign.region_code) {
        return Err(CampaignError::Forbidden);
    }
    Ok(campaign)
}

/// The milestone, if the actor runs its campaign's region.
async fn managed_milestone(conn: &impl ConnectionTrait, actor: &Actor, id: &str) -> Result<Milestone, CampaignError> {
    let m = milestone(conn, id).await?.ok_or(CampaignError::NotFound)?;
    managed(conn, actor, &m.campaign_id).await?;
    Ok(m)
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
    if !actor.manages_region(&new.region_code) {
        return Err(CampaignError::Forbidden);
    }
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
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let before = managed(&*txn, actor, id).await?;
    if status.as_deref().is_some_and(|s| s != "active" && s != "closed")
        || name.as_deref().is_some_and(|n| n.trim().is_empty())
    {
        return Err(CampaignError::InvalidMilestone);
    }
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
    let txn = db.begin_write().await?;
    let campaign = managed(&*txn, actor, campaign_id).await?;
    m.validate()?;
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
    let txn = db.begin_write().await?;
    let before = managed_milestone(&*txn, actor, id).await?;
    m.validate()?;
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
    #[derive(FromQueryResult)]
    struct Stored {
        id: String,
        region_code: String,
        version: i64,
    }
    let backend = conn.get_database_backend();
    let rows = Stored::find_by_statement(sql(
        backend,
        &format!("SELECT id, region_code, version FROM campaign_progress WHERE {column} = ?"),
        vec![id.into()],
    ))
    .all(conn)
    .await?;
    let log: Vec<LogEntry> = rows
        .into_iter()
        .map(|row| LogEntry {
            entity: side::CAMPAIGN_PROGRESS,
            entity_id: row.id,
            household_id: None,
            region_code: Some(row.region_code),
            target_user: None,
            op: LogOp::Delete,
            version: row.version + 1,
        })
        .collect();
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
    let before = managed_milestone(&*txn, actor, id).await?;
    drop_progress(&*txn, "milestone_id", id).await?;
    txn.execute_raw(sql(backend, "DELETE FROM milestone WHERE id = ?", vec![id.into()])).await?;
    let mut e = actor.audit("delete", "milestone", id);
    e.old_value = Some(format!("{} {}", before.name, format_date(before.due_on)));
    crate::audit::record(&*txn, &[e]).await?;
    txn.commit().await?;
    Ok(())
}
