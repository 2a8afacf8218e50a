//! Officer assignments. Assigning writes an `enter` scope event so the officer's next
//! pull brings the household whole; ending writes an `evict`. Both go in the change
//! log in the same transaction as the assignment.
//!
//! Also the console's table of who is assigned where ([`summaries`]) and the bulk move
//! of an officer's households to another officer ([`reassign`]), each household checked
//! as a single assignment would be, in one transaction, and the people a move may be
//! made between ([`officers`]). An officer holds at most one open assignment on a
//! household (the unique `assignment_active` index): opening and ending are conditional
//! writes, so two requests at once cannot give a household twice. Nothing here reads a
//! record's personal fields beyond the head's name.

use super::{Actor, RegistryError};
use crate::audit;
use crate::auth::roles::region_prefix;
use crate::auth::{Caller, Role};
use crate::db::entities::{app_user, assignment};
use crate::db::page::Page;
use crate::db::{Db, Paging, count, sql};
use crate::error::Refusal;
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
    let start = start_date.unwrap_or_else(|| Utc::now().date_naive());
    let model = insert_open(&*txn, officer_id, household_id, start, actor.user_id.clone())
        .await?
        .ok_or(RegistryError::AlreadyExists)?;
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
    let today = Utc::now().date_naive();
    if !end_open(&*txn, assignment_id, today).await? {
        return Err(RegistryError::Invalid("assignment already ended"));
    }
    let updated = assignment::Model { end_date: Some(today), ..existing.clone() };
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

/// Assignments of households the caller reads, by village and household, a page at a
/// time with the total.
pub async fn summaries(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: AssignmentFilter,
) -> Result<Page<AssignmentSummary>, Refusal> {
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
        _ => return Err(Refusal::invalid(ErrorCode::UnknownAssignmentStatus).on_field("status")),
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
    Ok(Page { total, page: paging.page, per_page: paging.per_page, items })
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
/// scope (`out_of_scope`) and `to` an active officer over it (`not_an_officer`), or
/// nothing moves. `from` need hold no role any more: an officer who left usually lost
/// the role first, and the households are what the actor must be allowed to touch. A
/// named household that is with `to` and no longer with `from` counts as already moved;
/// one with neither was moved elsewhere or ended meanwhile (`not_assigned_to_officer`).
///
/// Two moves at once (a double click, two clerks) cannot both move a household: its end
/// is conditional on the assignment being still open, and `to`'s new assignment is
/// written only where `to` holds none open (the unique `assignment_active` index), so
/// the second finds the work done and reports it as already moved.
pub async fn reassign(
    db: &Db,
    actor: &Actor,
    from: &str,
    to: &str,
    household_ids: Option<Vec<String>>,
) -> Result<Reassigned, Refusal> {
    if from == to {
        return Err(Refusal::rejected(ErrorCode::SameOfficer));
    }
    let txn = db.begin_write().await?;
    if app_user::Entity::find_by_id(from.to_owned()).one(&*txn).await?.is_none() {
        return Err(Refusal::not_found());
    }
    let to_active = app_user::Entity::find_by_id(to.to_owned()).one(&*txn).await?.is_some_and(|u| u.active);
    let to_grants: Vec<String> = super::users::grants(&*txn, to)
        .await?
        .into_iter()
        .filter(|(role, _)| *role == Role::Officer)
        .map(|(_, code)| code)
        .collect();
    // Said at once, even when `from` has nothing left to move.
    if !to_active || to_grants.is_empty() {
        return Err(Refusal::rejected(ErrorCode::NotAnOfficer));
    }
    let active_of = |officer: &str| {
        assignment::Entity::find()
            .filter(assignment::Column::OfficerId.eq(officer.to_owned()))
            .filter(assignment::Column::EndDate.is_null())
            // One order for every move, so two at once lock rows in the same order and
            // the second waits for the first instead of deadlocking with it.
            .order_by_asc(assignment::Column::HouseholdId)
            .order_by_asc(assignment::Column::Id)
            .all(&*txn)
    };
    let from_active = active_of(from).await?;
    let to_households: std::collections::BTreeSet<String> =
        active_of(to).await?.into_iter().map(|a| a.household_id).collect();
    let mut moving = Vec::new();
    let mut already = Vec::new();
    match household_ids {
        None => moving = from_active,
        Some(mut ids) => {
            ids.sort();
            ids.dedup();
            for id in ids {
                match from_active.iter().find(|a| a.household_id == id) {
                    Some(a) => moving.push(a.clone()),
                    None if to_households.contains(&id) => already.push(id),
                    None => return Err(Refusal::rejected(ErrorCode::NotAssignedToOfficer)),
                }
            }
        }
    }
    let touched: Vec<String> = moving.iter().map(|a| a.household_id.clone()).chain(already.iter().cloned()).collect();
    let regions = scope::household_regions(&*txn, &touched).await?;
    let region_of = |id: &str| regions.get(id).map(String::as_str).unwrap_or_default();
    if touched.iter().any(|id| !actor.edits_region(region_of(id))) {
        return Err(Refusal::out_of_scope());
    }
    if moving.iter().any(|a| !to_grants.iter().any(|code| region_of(&a.household_id).starts_with(region_prefix(code))))
    {
        return Err(Refusal::rejected(ErrorCode::NotAnOfficer));
    }
    let today = Utc::now().date_naive();
    let mut moved = Vec::new();
    let mut entries = Vec::new();
    for old in &moving {
        let household = &old.household_id;
        let region = regions.get(household).cloned();
        if !end_open(&*txn, &old.id, today).await? {
            // Another move (or an end) got there first and has committed: what it did stands.
            if active_of(to).await?.iter().any(|a| &a.household_id == household) {
                already.push(household.clone());
            }
            continue;
        }
        scope_event(&*txn, LogOp::Evict, from, household, region.clone()).await?;
        let mut entry = actor.audit("unassign", "household", household);
        entry.old_value = Some(from.to_owned());
        entry.note = Some(format!("reassigned to {to}"));
        entries.push(entry);
        // Someone already holding the household (sharing it with the leaving officer)
        // keeps their assignment: no second one, no second `enter`.
        if insert_open(&*txn, to, household, today, actor.user_id.clone()).await?.is_some() {
            scope_event(&*txn, LogOp::Enter, to, household, region).await?;
            let mut entry = actor.audit("assign", "household", household);
            entry.new_value = Some(to.to_owned());
            entry.note = Some(format!("reassigned from {from}"));
            entries.push(entry);
        }
        moved.push(household.clone());
    }
    audit::record(&*txn, &entries).await?;
    txn.commit().await?;
    already.sort();
    Ok(Reassigned { moved, already })
}

/// Ends an assignment if it is still open; false when another transaction ended it
/// first (on PostgreSQL this waits for that one to commit, then finds the row ended).
async fn end_open(conn: &impl ConnectionTrait, assignment_id: &str, day: NaiveDate) -> Result<bool, sea_orm::DbErr> {
    let ended = conn
        .execute_raw(sql(
            conn.get_database_backend(),
            "UPDATE assignment SET end_date = ? WHERE id = ? AND end_date IS NULL",
            vec![day.into(), assignment_id.into()],
        ))
        .await?
        .rows_affected();
    Ok(ended > 0)
}

/// Opens an assignment unless the officer holds one open on the household already (the
/// unique `assignment_active` index decides, so two writers at once cannot both open
/// one); `None` when one was there.
async fn insert_open(
    conn: &impl ConnectionTrait,
    officer_id: &str,
    household_id: &str,
    start_date: NaiveDate,
    created_by: Option<String>,
) -> Result<Option<assignment::Model>, sea_orm::DbErr> {
    let model = assignment::Model {
        id: Uuid::new_v4().to_string(),
        officer_id: officer_id.to_owned(),
        household_id: household_id.to_owned(),
        start_date,
        end_date: None,
        created_by,
        created_at: Utc::now(),
    };
    let inserted = conn
        .execute_raw(sql(
            conn.get_database_backend(),
            "INSERT INTO assignment (id, officer_id, household_id, start_date, end_date, created_by, created_at) \
             VALUES (?, ?, ?, ?, NULL, ?, ?) ON CONFLICT DO NOTHING",
            vec![
                model.id.clone().into(),
                model.officer_id.clone().into(),
                model.household_id.clone().into(),
                model.start_date.into(),
                model.created_by.clone().into(),
                model.created_at.into(),
            ],
        ))
        .await?
        .rows_affected();
    Ok((inserted > 0).then_some(model))
}

/// An officer the caller may choose in the assignment table: by name, with how many of
/// the caller's households they hold now.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OfficerChoice {
    pub id: String,
    pub username: String,
    pub name: String,
    pub active: bool,
    /// Whether they hold an officer grant over a region the caller edits: only then may
    /// households move to them. False for one who left (role removed) and still holds
    /// households here, listed so that those households can be moved away.
    pub officer_role: bool,
    /// The region of their officer grant here; none when `officer_role` is false.
    pub region_code: Option<String>,
    /// Households in the caller's edit scope assigned to them now.
    pub households: i64,
}

#[derive(FromQueryResult)]
struct OfficerGrantRow {
    id: String,
    username: String,
    name: String,
    active: bool,
    region_code: String,
}

#[derive(FromQueryResult)]
struct HolderRow {
    id: String,
    username: String,
    name: String,
    active: bool,
    households: i64,
}

/// The people a caller who assigns (village team, township, county, administrator) may
/// move households between, by name: officers whose grant region overlaps a region the
/// caller edits (an officer of the township serves its villages too), and anyone else
/// holding an open assignment on a household the caller edits (an officer whose role
/// was removed, or who moved elsewhere). Counts cover the caller's households only. Who
/// only reads (supervisor, verifier) or is an officer is refused: the list names
/// sign-in accounts and is a tool for moving households, nothing they may do.
pub async fn officers(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<OfficerChoice>, Refusal> {
    let prefixes = caller.edit_prefixes();
    if prefixes.is_empty() {
        return Err(Refusal::forbidden());
    }
    let backend = conn.get_database_backend();
    let grants = OfficerGrantRow::find_by_statement(sql(
        backend,
        "SELECT u.id, u.username, u.name, u.active, g.region_code \
         FROM role_grant g JOIN app_user u ON u.id = g.user_id WHERE g.role = ? ORDER BY g.region_code",
        vec![Role::Officer.as_str().into()],
    ))
    .all(conn)
    .await?;
    let scope = vec!["h.region_code LIKE ?"; prefixes.len()].join(" OR ");
    let holders = HolderRow::find_by_statement(sql(
        backend,
        &format!(
            "SELECT u.id, u.username, u.name, u.active, c.households FROM \
             (SELECT a.officer_id, COUNT(*) AS households FROM assignment a JOIN household h ON h.id = a.household_id \
              WHERE a.end_date IS NULL AND ({scope}) GROUP BY a.officer_id) c \
             JOIN app_user u ON u.id = c.officer_id"
        ),
        prefixes.iter().map(|p| format!("{p}%").into()).collect(),
    ))
    .all(conn)
    .await?;
    let mut choices: std::collections::BTreeMap<String, OfficerChoice> = std::collections::BTreeMap::new();
    for g in grants {
        let theirs = region_prefix(&g.region_code);
        if !prefixes.iter().any(|p| g.region_code.starts_with(p) || p.starts_with(theirs)) {
            continue;
        }
        choices.entry(g.id.clone()).or_insert(OfficerChoice {
            id: g.id,
            username: g.username,
            name: g.name,
            active: g.active,
            officer_role: true,
            region_code: Some(g.region_code),
            households: 0,
        });
    }
    for h in holders {
        choices
            .entry(h.id.clone())
            .or_insert(OfficerChoice {
                id: h.id,
                username: h.username,
                name: h.name,
                active: h.active,
                officer_role: false,
                region_code: None,
                households: 0,
            })
            .households = h.households;
    }
    let mut list: Vec<OfficerChoice> = choices.into_values().collect();
    list.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    Ok(list)
}
