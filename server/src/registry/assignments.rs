//! Officer assignments. Assigning writes an `enter` scope event so the officer's next
//! pull brings the household whole; ending writes an `evict`. Both go in the change
//! log in the same transaction as the assignment.
//!
//! Also the console's table of who is assigned where ([`summaries`]) and the bulk move
//! of an officer's households to another officer ([`reassign`]), each household checked
//! as a single assignment would be, in one transaction. Nothing here reads a record's
//! personal fields beyond the head's name.

use super::{Actor, RegistryError};
use crate::audit;
use crate::auth::roles::region_prefix;
use crate::auth::{Caller, Role};
use crate::db::entities::{app_user, assignment};
use crate::db::{Db, Paging, count, sql};
use crate::records::changelog::{self, LogEntry, LogOp};
use crate::records::{self, scope};
use chrono::{NaiveDate, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::fields;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect,
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

/// Which assignments the console's table shows.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct AssignmentFilter {
    pub officer_id: Option<String>,
    /// Households in this region (a village, or any level above).
    pub region_code: Option<String>,
    /// `active` (the default), `ended` or `all`.
    pub status: Option<String>,
    /// From 1.
    pub page: Option<u64>,
    /// 20 unless asked, at most 200.
    pub per_page: Option<u64>,
}

/// One assignment in the table: the officer and the household by name.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, FromQueryResult)]
pub struct AssignmentSummary {
    pub id: String,
    pub officer_id: String,
    pub officer_name: Option<String>,
    pub household_id: String,
    pub household_number: Option<String>,
    pub head_name: Option<String>,
    pub region_code: String,
    pub region_name: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

/// A page of assignments and how many match in all.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AssignmentPage {
    pub total: i64,
    pub page: u64,
    pub per_page: u64,
    pub items: Vec<AssignmentSummary>,
}

/// Assignments of households the caller reads, by village and household, a page at a
/// time with the total.
pub async fn summaries(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: AssignmentFilter,
) -> Result<AssignmentPage, RegistryError> {
    let (cond, mut values) = scope::households_condition(caller, "h.id", "h.region_code");
    let mut wheres = vec![cond];
    if let Some(officer) = filter.officer_id.filter(|o| !o.is_empty()) {
        wheres.push("a.officer_id = ?".into());
        values.push(officer.into());
    }
    if let Some(region) = filter.region_code.filter(|r| !r.is_empty()) {
        wheres.push("h.region_code LIKE ?".into());
        values.push(format!("{}%", region_prefix(&region)).into());
    }
    match filter.status.as_deref().unwrap_or("active") {
        "active" | "" => wheres.push("a.end_date IS NULL".into()),
        "ended" => wheres.push("a.end_date IS NOT NULL".into()),
        "all" => {}
        _ => return Err(RegistryError::Invalid("status is active, ended or all")),
    }
    let where_text = wheres.join(" AND ");
    let from = "FROM assignment a JOIN household h ON h.id = a.household_id";
    let total = count(conn, &format!("SELECT COUNT(*) {from} WHERE {where_text}"), values.clone()).await?;
    let paging = Paging::new(filter.page, filter.per_page, 20);
    let text = format!(
        "SELECT a.id, a.officer_id, u.name AS officer_name, a.household_id, h.household_number, \
         {} AS head_name, h.region_code, r.name AS region_name, a.start_date, a.end_date \
         {from} LEFT JOIN app_user u ON u.id = a.officer_id LEFT JOIN region r ON r.code = h.region_code \
         WHERE {where_text} ORDER BY h.region_code, h.household_number, h.id, a.created_at, a.id LIMIT ? OFFSET ?",
        crate::registry::households::head_column("name"),
    );
    values.extend(paging.limit_offset());
    let items = AssignmentSummary::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    Ok(AssignmentPage { total, page: paging.page, per_page: paging.per_page, items })
}

/// What a bulk reassignment did: the households moved now, and those already with the
/// new officer (a retry of a move that went through finds them there).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Reassigned {
    pub moved: Vec<String>,
    pub already: Vec<String>,
}

/// Moves `from`'s households (all of them, or the named ones) to `to` in one transaction:
/// `from`'s assignment ends and `to`'s begins, with the scope events and the audit
/// entries a single end and assign write. Every household must be in the actor's edit
/// scope and `to` an active officer over it (`not_an_officer`), or nothing moves. A
/// named household that is with `to` and no longer with `from` counts as already moved.
pub async fn reassign(
    db: &Db,
    actor: &Actor,
    from: &str,
    to: &str,
    household_ids: Option<Vec<String>>,
) -> Result<Reassigned, RegistryError> {
    if from == to {
        return Err(RegistryError::Invalid("the officers must differ"));
    }
    let txn = db.begin_write().await?;
    // The leaving officer may be deactivated already, but an officer they must have
    // been; what the actor may touch is decided by the households below.
    if app_user::Entity::find_by_id(from.to_owned()).one(&*txn).await?.is_none() {
        return Err(RegistryError::NotFound);
    }
    if !super::users::grants(&*txn, from).await?.iter().any(|(role, _)| *role == Role::Officer) {
        return Err(RegistryError::Rejected(ErrorCode::NotAnOfficer));
    }
    let to_active = app_user::Entity::find_by_id(to.to_owned()).one(&*txn).await?.is_some_and(|u| u.active);
    let to_grants = super::users::grants(&*txn, to).await?;
    let active_of = |officer: &str| {
        assignment::Entity::find()
            .filter(assignment::Column::OfficerId.eq(officer.to_owned()))
            .filter(assignment::Column::EndDate.is_null())
            .all(&*txn)
    };
    let from_active = active_of(from).await?;
    let to_households: std::collections::BTreeSet<String> =
        active_of(to).await?.into_iter().map(|a| a.household_id).collect();
    let mut moving = Vec::new();
    let mut already = Vec::new();
    match household_ids {
        None => moving = from_active,
        Some(ids) => {
            let mut ids = ids;
            ids.sort();
            ids.dedup();
            for id in ids {
                match from_active.iter().find(|a| a.household_id == id) {
                    Some(a) => moving.push(a.clone()),
                    None if to_households.contains(&id) => already.push(id),
                    None => return Err(RegistryError::Invalid("a household is not assigned to the officer")),
                }
            }
        }
    }
    let ids: Vec<String> = moving.iter().map(|a| a.household_id.clone()).collect();
    let touched: Vec<String> = ids.iter().chain(&already).cloned().collect();
    let regions = scope::household_regions(&*txn, &touched).await?;
    for id in &touched {
        let region = regions.get(id).map(String::as_str).unwrap_or_default();
        if !actor.edits_region(region) {
            return Err(RegistryError::Forbidden(ErrorCode::OutOfScope));
        }
    }
    for id in &ids {
        let region = regions.get(id).map(String::as_str).unwrap_or_default();
        if !to_active
            || !to_grants.iter().any(|(role, code)| *role == Role::Officer && region.starts_with(region_prefix(code)))
        {
            return Err(RegistryError::Rejected(ErrorCode::NotAnOfficer));
        }
    }
    let today = Utc::now().date_naive();
    let mut entries = Vec::new();
    for old in &moving {
        let region = regions.get(&old.household_id).cloned();
        let mut ended: assignment::ActiveModel = old.clone().into();
        ended.end_date = Set(Some(today));
        ended.update(&*txn).await?;
        scope_event(&*txn, LogOp::Evict, from, &old.household_id, region.clone()).await?;
        let mut entry = actor.audit("unassign", "household", &old.household_id);
        entry.old_value = Some(from.to_owned());
        entry.note = Some(format!("reassigned to {to}"));
        entries.push(entry);
        // Someone sharing the household with the leaving officer keeps their assignment.
        if !to_households.contains(&old.household_id) {
            insert(&*txn, to, &old.household_id, today, actor.user_id.clone()).await?;
            scope_event(&*txn, LogOp::Enter, to, &old.household_id, region).await?;
            let mut entry = actor.audit("assign", "household", &old.household_id);
            entry.new_value = Some(to.to_owned());
            entry.note = Some(format!("reassigned from {from}"));
            entries.push(entry);
        }
    }
    audit::record(&*txn, &entries).await?;
    txn.commit().await?;
    Ok(Reassigned { moved: ids, already })
}

/// An officer the caller may choose in the assignment table: by name, with how many
/// households they hold now.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, FromQueryResult)]
pub struct OfficerChoice {
    pub id: String,
    pub username: String,
    pub name: String,
    pub active: bool,
    /// The region of their officer grant.
    pub region_code: String,
    /// Households assigned to them now.
    pub households: i64,
}

/// Officers whose grant region overlaps a region the caller reads (an officer of the
/// township serves its villages too), by name: whom a township or village team may move
/// households between, though not manage as accounts.
pub async fn officers(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<OfficerChoice>, RegistryError> {
    let rows = OfficerChoice::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT u.id, u.username, u.name, u.active, g.region_code, \
         (SELECT COUNT(*) FROM assignment a WHERE a.officer_id = u.id AND a.end_date IS NULL) AS households \
         FROM role_grant g JOIN app_user u ON u.id = g.user_id WHERE g.role = ? ORDER BY u.name, u.id, g.region_code",
        vec![Role::Officer.as_str().into()],
    ))
    .all(conn)
    .await?;
    let prefixes = caller.read_prefixes();
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|o| {
            let theirs = region_prefix(&o.region_code);
            prefixes.iter().any(|p| o.region_code.starts_with(p) || p.starts_with(theirs))
        })
        .filter(|o| seen.insert(o.id.clone()))
        .collect())
}
