//! Officer assignments. Assigning writes an `enter` scope event so the officer's next
//! pull brings the household whole; ending writes an `evict`. Both go in the change
//! log in the same transaction as the assignment.

use super::{Actor, RegistryError};
use crate::audit;
use crate::auth::roles::region_prefix;
use crate::auth::{Caller, Role};
use crate::db::Db;
use crate::db::entities::{app_user, assignment};
use crate::records::changelog::{self, LogEntry, LogOp};
use crate::records::{self, scope};
use chrono::{NaiveDate, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::fields;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

pub async fn assign(
    db: &Db,
    actor: &Actor,
    officer_id: &str,
    household_id: &str,
    start_date: Option<NaiveDate>,
) -> Result<assignment::Model, RegistryError> {
    let txn = db.begin_write().await?;
    let household =
        records::load(&*txn, &fields::HOUSEHOLD, household_id, false).await?.ok_or(RegistryError::NotFound)?;
    let region = household.text("region_code").unwrap_or_default().to_owned();
    if !actor.edits_region(&region) {
        return Err(RegistryError::Forbidden(ErrorCode::OutOfScope));
    }
    // Only an active user holding an officer grant over the household's region may be
    // assigned: an assignment opens the household's whole record to them.
    let officer = app_user::Entity::find_by_id(officer_id.to_owned()).one(&*txn).await?;
    let holds_officer_grant = super::users::grants(&*txn, officer_id)
        .await?
        .iter()
        .any(|(role, code)| *role == Role::Officer && region.starts_with(region_prefix(code)));
    if !officer.is_some_and(|o| o.active) || !holds_officer_grant {
        return Err(RegistryError::Rejected(ErrorCode::NotAnOfficer));
    }
    let active = assignment::Entity::find()
        .filter(assignment::Column::OfficerId.eq(officer_id))
        .filter(assignment::Column::HouseholdId.eq(household_id))
        .filter(assignment::Column::EndDate.is_null())
        .one(&*txn)
        .await?;
    if active.is_some() {
        return Err(RegistryError::AlreadyExists);
    }
    let model = insert(
        &*txn,
        officer_id,
        household_id,
        start_date.unwrap_or_else(|| Utc::now().date_naive()),
        actor.user_id.clone(),
    )
    .await?;
    scope_event(&*txn, LogOp::Enter, officer_id, household_id, Some(region)).await?;
    let mut entry = actor.audit("assign", "household", household_id);
    entry.new_value = Some(officer_id.to_owned());
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(model)
}

/// The assignments of a household, or else of an officer, history included, oldest
/// first: those the caller reads the household of, and the caller's own (at most 5,000
/// looked at). One of the two must be named.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    household_id: Option<String>,
    officer_id: Option<String>,
) -> Result<Vec<assignment::Model>, RegistryError> {
    let mut query = assignment::Entity::find().order_by_asc(assignment::Column::CreatedAt);
    match (household_id, officer_id) {
        (Some(h), _) => query = query.filter(assignment::Column::HouseholdId.eq(h)),
        (None, Some(o)) => query = query.filter(assignment::Column::OfficerId.eq(o)),
        (None, None) => return Err(RegistryError::Invalid("a household or an officer is required")),
    }
    let rows = query.limit(5000).all(conn).await?;
    let household_ids: Vec<String> = rows.iter().map(|a| a.household_id.clone()).collect();
    let regions = scope::household_regions(conn, &household_ids).await?;
    Ok(rows
        .into_iter()
        .filter(|a| {
            a.officer_id == caller.user_id || regions.get(&a.household_id).is_some_and(|r| caller.reads_region(r))
        })
        .collect())
}

/// Inserts an assignment row without events, for bulk loading.
pub async fn insert(
    conn: &impl ConnectionTrait,
    officer_id: &str,
    household_id: &str,
    start_date: NaiveDate,
    created_by: Option<String>,
) -> Result<assignment::Model, sea_orm::DbErr> {
    assignment::ActiveModel {
        id: Set(Uuid::new_v4().to_string()),
        officer_id: Set(officer_id.to_owned()),
        household_id: Set(household_id.to_owned()),
        start_date: Set(start_date),
        end_date: Set(None),
        created_by: Set(created_by),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await
}

pub async fn end(db: &Db, actor: &Actor, assignment_id: &str) -> Result<assignment::Model, RegistryError> {
    let txn = db.begin_write().await?;
    let existing =
        assignment::Entity::find_by_id(assignment_id.to_owned()).one(&*txn).await?.ok_or(RegistryError::NotFound)?;
    if existing.end_date.is_some() {
        return Err(RegistryError::Invalid("assignment already ended"));
    }
    let household = records::load(&*txn, &fields::HOUSEHOLD, &existing.household_id, false).await?;
    if !actor.edits_region(household.as_ref().and_then(|h| h.text("region_code")).unwrap_or_default()) {
        return Err(RegistryError::Forbidden(ErrorCode::OutOfScope));
    }
    let mut model: assignment::ActiveModel = existing.clone().into();
    model.end_date = Set(Some(Utc::now().date_naive()));
    let updated = model.update(&*txn).await?;
    let region = household.as_ref().and_then(|h| h.text("region_code")).map(str::to_owned);
    scope_event(&*txn, LogOp::Evict, &existing.officer_id, &existing.household_id, region).await?;
    let mut entry = actor.audit("unassign", "household", &existing.household_id);
    entry.old_value = Some(existing.officer_id.clone());
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(updated)
}

async fn scope_event(
    conn: &impl ConnectionTrait,
    op: LogOp,
    officer_id: &str,
    household_id: &str,
    region_code: Option<String>,
) -> Result<(), sea_orm::DbErr> {
    let tx = changelog::current_tx(conn).await?;
    changelog::append(
        conn,
        tx,
        &[LogEntry {
            entity: fields::HOUSEHOLD.name,
            entity_id: household_id.to_owned(),
            household_id: Some(household_id.to_owned()),
            region_code,
            target_user: Some(officer_id.to_owned()),
            op,
            version: 0,
        }],
    )
    .await
}
