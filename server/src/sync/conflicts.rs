//! Conflicts on sensitive fields (policy `manual`): opened by a push, kept until a
//! phone or a supervisor resolves them, never dropped.
//!
//! "Supervisor" in DESIGN §5 is whoever oversees the phone's work on the household: the
//! village team, township or county editing its region, from `/api/v1`. The
//! `supervisor` role (督查) only reads, there as everywhere, and cannot resolve. Nor can
//! an officer whose assignment has ended (`assignment_ended`).
//!
//! Applying the phone's value is an edit like a pushed one and passes the same checks
//! (M4 of the 2026-12 review): not while a higher level's sign-off freezes the
//! household for the caller (`case_frozen`) or one of its cases is on a published
//! notice (`case_on_notice`), one head per household (R8) and one household per
//! person. Keeping the server's value is always open to whoever may resolve.
//!
//! The office's list carries personal values masked ([`listed`], by `records::masking`:
//! ID, phone, bank account); one conflict with its whole values ([`whole`]) is a view of
//! personal data and audited as one. Phones pull their households' conflicts whole, as
//! they hold the records themselves.

use super::entity_rules::{self, Check};
use crate::audit::{self, Actor};
use crate::auth::Caller;
use crate::db::entities::sync_conflict;
use crate::db::page::Page;
use crate::db::{Db, WriteTxn, count, sql};
use crate::error::{Kind, Refusal};
use crate::procedures::signing;
use crate::records;
use crate::records::changelog::{self, LogEntry, LogOp};
use crate::records::scope;
use crate::records::server_edit::{Editor, update_fields};
use chrono::Utc;
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::fields;
use jingzhun_mobile_api::validate::{self, FieldValue};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, FromQueryResult};
use serde_json::{Value as Json, json};
use uuid::Uuid;

pub struct NewConflict<'a> {
    pub entity: &'static str,
    pub entity_id: &'a str,
    pub household_id: &'a str,
    pub field: &'a str,
    pub base_value: Json,
    pub server_value: Json,
    pub client_value: Json,
    pub caller: &'a Caller,
    pub changeset_id: &'a str,
}

pub struct OpenedConflict {
    pub id: Uuid,
    pub field: String,
    pub base_value: Json,
    pub server_value: Json,
    pub client_value: Json,
}

pub async fn open(conn: &impl ConnectionTrait, new: NewConflict<'_>) -> Result<OpenedConflict, DbErr> {
    let id = Uuid::new_v4();
    sync_conflict::ActiveModel {
        id: Set(id.to_string()),
        entity: Set(new.entity.to_owned()),
        entity_id: Set(new.entity_id.to_owned()),
        household_id: Set(new.household_id.to_owned()),
        field: Set(new.field.to_owned()),
        base_value: Set(new.base_value.to_string()),
        server_value: Set(new.server_value.to_string()),
        client_value: Set(new.client_value.to_string()),
        user_id: Set(new.caller.user_id.clone()),
        device_id: Set(new.caller.device_id.clone()),
        changeset_id: Set(new.changeset_id.to_owned()),
        status: Set("open".into()),
        resolution: Set(None),
        resolved_by: Set(None),
        resolved_at: Set(None),
        version: Set(1),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    Ok(OpenedConflict {
        id,
        field: new.field.to_owned(),
        base_value: new.base_value,
        server_value: new.server_value,
        client_value: new.client_value,
    })
}

/// The value a field had at `version`: the old value of the first audited change after
/// it, or the current value if it has not changed since.
pub async fn value_at_version(
    conn: &impl ConnectionTrait,
    entity: &str,
    id: &str,
    field: &str,
    version: i64,
    current: &FieldValue,
) -> Result<Json, DbErr> {
    let row = OldValueRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT old_value FROM audit_log WHERE entity = ? AND entity_id = ? AND field = ? AND action = 'update' AND version > ? ORDER BY id LIMIT 1",
        vec![entity.into(), id.into(), field.into(), version.into()],
    ))
    .one(conn)
    .await?;
    match row {
        Some(row) => Ok(row.old_value.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Json::Null)),
        None => Ok(current.to_json()),
    }
}

#[derive(FromQueryResult)]
struct OldValueRow {
    old_value: Option<String>,
}

/// Which of these records have an open conflict.
pub async fn records_with_open_conflicts(
    conn: &impl jingzhun_db::Rows,
    ids: &[String],
) -> Result<std::collections::BTreeSet<String>, DbErr> {
    let mut out = std::collections::BTreeSet::new();
    for chunk in ids.chunks(500) {
        let text = format!(
            "SELECT DISTINCT entity_id FROM sync_conflict WHERE status = 'open' AND entity_id IN ({})",
            crate::db::placeholders(chunk.len())
        );
        let values = chunk.iter().map(|id| sea_orm::Value::from(id.as_str())).collect();
        out.extend(conn.read(sql(conn.backend(), &text, values), |row| row.text_at(0)).await?.into_iter().flatten());
    }
    Ok(out)
}

/// The change-log row that carries a conflict's new version to the phones of its
/// household's scope.
pub fn log_entry(conflict_id: String, household_id: &str, region_code: Option<String>, version: i64) -> LogEntry {
    LogEntry {
        entity: fields::CONFLICT_ENTITY,
        entity_id: conflict_id,
        household_id: Some(household_id.to_owned()),
        region_code,
        target_user: None,
        op: LogOp::Upsert,
        version,
    }
}

/// A field written again by a later change supersedes its open conflicts.
pub async fn close_superseded(
    conn: &impl ConnectionTrait,
    entity: &str,
    id: &str,
    fields: &[&str],
    user_id: &str,
) -> Result<Vec<String>, DbErr> {
    let backend = conn.get_database_backend();
    // One look per record: conflicts are rare, so this usually finds nothing.
    let rows = OpenFieldRow::find_by_statement(sql(
        backend,
        "SELECT id, field FROM sync_conflict WHERE entity_id = ? AND status = 'open' AND entity = ?",
        vec![id.into(), entity.into()],
    ))
    .all(conn)
    .await?;
    let mut closed = Vec::new();
    for OpenFieldRow { id: conflict_id, field } in rows {
        if !fields.contains(&field.as_str()) {
            continue;
        }
        conn.execute_raw(sql(
            backend,
            "UPDATE sync_conflict SET status = 'resolved', resolution = 'superseded', resolved_by = ?, resolved_at = ?, version = version + 1 WHERE id = ?",
            vec![user_id.into(), Utc::now().into(), conflict_id.as_str().into()],
        ))
        .await?;
        closed.push(conflict_id);
    }
    Ok(closed)
}

#[derive(FromQueryResult)]
struct OpenFieldRow {
    id: String,
    field: String,
}

/// The WHERE of every office read of conflicts (the table, its count, the 待办 and the
/// older list) over `sync_conflict c JOIN household h`: the caller's read scope in SQL,
/// so no cap comes before it and a county's conflicts are never hidden by others'.
fn scoped_where(
    caller: &Caller,
    status: Option<String>,
    household_id: Option<String>,
) -> (String, Vec<sea_orm::Value>) {
    let (scope, mut values) = scope::households_condition(caller, "h.id", "h.region_code");
    let mut text = format!("c.status = ? AND {scope}");
    values.insert(0, status.filter(|s| !s.is_empty()).unwrap_or_else(|| "open".into()).into());
    if let Some(h) = household_id.filter(|h| !h.is_empty()) {
        text.push_str(" AND c.household_id = ?");
        values.push(h.into());
    }
    (text, values)
}

const FROM: &str = "FROM sync_conflict c JOIN household h ON h.id = c.household_id";

/// Conflicts of households the caller reads, oldest first: `open` unless another status
/// is asked for, of one household if one is named (the first 5,000 in scope).
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    status: Option<String>,
    household_id: Option<String>,
) -> Result<Vec<sync_conflict::Model>, DbErr> {
    let (cond, values) = scoped_where(caller, status, household_id);
    let text = format!("SELECT c.* {FROM} WHERE {cond} ORDER BY c.created_at, c.id LIMIT 5000");
    sync_conflict::Model::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await
}

#[derive(FromQueryResult)]
struct VillageCount {
    region_code: String,
    n: i64,
}

/// Open conflicts the caller reads, counted by the household's village: the 待办's
/// number, under the same WHERE as the table.
pub async fn open_by_village(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<(String, i64)>, DbErr> {
    let (cond, values) = scoped_where(caller, None, None);
    let text = format!("SELECT h.region_code, COUNT(*) AS n {FROM} WHERE {cond} GROUP BY h.region_code");
    let rows = VillageCount::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.region_code, r.n)).collect())
}

/// A conflict as phones receive it and the office reads one whole: the three values as
/// the JSON they were stored as.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ConflictRecord {
    pub id: String,
    pub version: i64,
    pub entity: String,
    pub entity_id: String,
    pub household_id: String,
    pub field: String,
    pub base_value: Json,
    pub server_value: Json,
    pub client_value: Json,
    pub user_id: String,
    pub device_id: String,
    pub changeset_id: String,
    /// open or resolved.
    pub status: String,
    /// server or client, once resolved.
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    /// RFC 3339.
    pub resolved_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&sync_conflict::Model> for ConflictRecord {
    fn from(c: &sync_conflict::Model) -> ConflictRecord {
        let parse = |s: &str| serde_json::from_str::<Json>(s).unwrap_or(Json::Null);
        ConflictRecord {
            id: c.id.clone(),
            version: c.version,
            entity: c.entity.clone(),
            entity_id: c.entity_id.clone(),
            household_id: c.household_id.clone(),
            field: c.field.clone(),
            base_value: parse(&c.base_value),
            server_value: parse(&c.server_value),
            client_value: parse(&c.client_value),
            user_id: c.user_id.clone(),
            device_id: c.device_id.clone(),
            changeset_id: c.changeset_id.clone(),
            status: c.status.clone(),
            resolution: c.resolution.clone(),
            resolved_by: c.resolved_by.clone(),
            resolved_at: c.resolved_at.map(|t| t.to_rfc3339()),
            created_at: c.created_at.to_rfc3339(),
        }
    }
}

/// The wire form sent to phones and listed for supervisors.
pub fn to_json(c: &sync_conflict::Model) -> Json {
    serde_json::to_value(ConflictRecord::from(c)).unwrap_or(Json::Null)
}

/// A conflict as the office's lists show it: the values of an ID number or phone field
/// masked, by the field's kind in the catalogue (a field made `manual` later is masked
/// without anyone remembering to). The whole values are on [`whole`], audited.
pub fn listed(c: &sync_conflict::Model) -> Json {
    let mut out = to_json(c);
    for key in ["base_value", "server_value", "client_value"] {
        if let Some(value) = out.get_mut(key) {
            records::masking::listed(&c.entity, &c.field, value);
        }
    }
    out
}

#[derive(FromQueryResult)]
struct HouseholdNameRow {
    id: String,
    region_code: String,
    region_name: Option<String>,
    head_name: Option<String>,
}

/// The head and village of each conflict's household, by household id.
async fn household_names(
    conn: &impl ConnectionTrait,
    rows: &[sync_conflict::Model],
) -> Result<std::collections::HashMap<String, HouseholdNameRow>, DbErr> {
    let mut ids: Vec<String> = rows.iter().map(|c| c.household_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut names = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let text = format!(
            "SELECT h.id, h.region_code, r.name AS region_name, {} AS head_name FROM household h \
             LEFT JOIN region r ON r.code = h.region_code WHERE h.id IN ({})",
            crate::registry::households::head_column("name"),
            crate::db::placeholders(chunk.len())
        );
        let values = chunk.iter().map(|id| sea_orm::Value::from(id.as_str())).collect();
        for row in
            HouseholdNameRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?
        {
            names.insert(row.id.clone(), row);
        }
    }
    Ok(names)
}

/// Which conflicts the office's table shows.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct ConflictFilter {
    /// `open` (default) or `resolved`.
    pub status: Option<String>,
    /// Only this household's.
    pub household_id: Option<String>,
    /// From 1.
    pub page: Option<u64>,
    /// 20 unless asked, at most 200.
    pub per_page: Option<u64>,
}

/// One conflict in the office's table: ID, phone and bank-account values masked (the
/// whole values are `GET /api/v1/conflicts/{id}`, audited), with whose household it is.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ConflictSummary {
    pub id: String,
    pub version: i64,
    pub entity: String,
    pub entity_id: String,
    pub household_id: String,
    pub field: String,
    /// The value both sides started from (a string, number, boolean or null).
    pub base_value: Json,
    /// The server's value when the phone pushed.
    pub server_value: Json,
    /// The phone's value.
    pub client_value: Json,
    /// Who pushed it, from which device and change set.
    pub user_id: String,
    pub device_id: String,
    pub changeset_id: String,
    /// `open` or `resolved`.
    pub status: String,
    /// `server`, `client` or `superseded` once resolved.
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<chrono::DateTime<Utc>>,
    pub created_at: chrono::DateTime<Utc>,
    pub head_name: Option<String>,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
}

/// The office's conflict table: conflicts of households the caller reads, oldest first,
/// a page at a time with the total, both under [`scoped_where`]; values as [`listed`]
/// masks them, with the household's head and village by name so a clerk sees whose
/// record is in dispute.
pub async fn summaries(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: ConflictFilter,
) -> Result<Page<ConflictSummary>, DbErr> {
    let backend = conn.get_database_backend();
    let (cond, mut values) = scoped_where(caller, filter.status, filter.household_id);
    let total = count(conn, &format!("SELECT COUNT(*) AS n {FROM} WHERE {cond}"), values.clone()).await?;
    let paging = crate::db::Paging::new(filter.page, filter.per_page, 20);
    values.extend(paging.limit_offset());
    let text = format!("SELECT c.* {FROM} WHERE {cond} ORDER BY c.created_at, c.id LIMIT ? OFFSET ?");
    let rows = sync_conflict::Model::find_by_statement(sql(backend, &text, values)).all(conn).await?;
    let names = household_names(conn, &rows).await?;
    let items = rows
        .iter()
        .map(|c| {
            let mut values = listed(c);
            let mut take = |key: &str| values.get_mut(key).map(Json::take).unwrap_or(Json::Null);
            let (base_value, server_value, client_value) =
                (take("base_value"), take("server_value"), take("client_value"));
            let h = names.get(&c.household_id);
            ConflictSummary {
                id: c.id.clone(),
                version: c.version,
                entity: c.entity.clone(),
                entity_id: c.entity_id.clone(),
                household_id: c.household_id.clone(),
                field: c.field.clone(),
                base_value,
                server_value,
                client_value,
                user_id: c.user_id.clone(),
                device_id: c.device_id.clone(),
                changeset_id: c.changeset_id.clone(),
                status: c.status.clone(),
                resolution: c.resolution.clone(),
                resolved_by: c.resolved_by.clone(),
                resolved_at: c.resolved_at,
                created_at: c.created_at,
                head_name: h.and_then(|h| h.head_name.clone()),
                region_code: h.map(|h| h.region_code.clone()),
                region_name: h.and_then(|h| h.region_name.clone()),
            }
        })
        .collect();
    Ok(Page { total, page: paging.page, per_page: paging.per_page, items })
}

/// [`list`] as the older `GET /api/v1/conflicts` shows it: [`listed`] with the
/// household's head and village by name.
pub async fn listed_for_office(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    status: Option<String>,
    household_id: Option<String>,
) -> Result<Vec<Json>, DbErr> {
    let rows = list(conn, caller, status, household_id).await?;
    let names = household_names(conn, &rows).await?;
    Ok(rows
        .iter()
        .map(|c| {
            let mut out = listed(c);
            if let Some(h) = names.get(&c.household_id) {
                out["head_name"] = json!(h.head_name);
                out["region_code"] = json!(h.region_code);
                out["region_name"] = json!(h.region_name);
            }
            out
        })
        .collect())
}

/// One conflict with its whole values, for a caller who reads its household: a view of
/// personal data like the household page, so one `view` entry (with the household) is
/// committed before the values are handed out; a refused caller leaves none.
pub async fn whole(db: &Db, caller: &Caller, id: &str) -> Result<ConflictRecord, Refusal> {
    let conflict =
        sync_conflict::Entity::find_by_id(id.to_owned()).one(&db.conn).await?.ok_or_else(Refusal::not_found)?;
    let region = scope::household_region(&db.conn, &conflict.household_id).await?.unwrap_or_default();
    if !scope::household_access(&db.conn, caller, &conflict.household_id, &region).await?.may_read() {
        return Err(Refusal::out_of_scope());
    }
    let txn = db.begin_write().await?;
    let mut entry = Actor::of(caller).audit_household("view", "conflict", &conflict.id, &conflict.household_id);
    entry.field = Some(conflict.field.clone());
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(ConflictRecord::from(&conflict))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Keep the server's value.
    Server,
    /// Apply the phone's value.
    Client,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("no such conflict")]
    NotFound,
    #[error("already resolved")]
    AlreadyResolved,
    #[error("the phone's value is no longer valid: {}", .0.code())]
    Invalid(ErrorCode),
    /// The caller may not resolve it: `out_of_scope`, `assignment_ended` or `forbidden`.
    #[error("not yours to resolve: {}", .0.code())]
    Refused(ErrorCode),
    /// The household's state does not take the phone's value now: `case_frozen`,
    /// `case_on_notice`, `multiple_heads`, `no_head`, `duplicate_person`, `needs_review`.
    #[error("the phone's value cannot be applied now: {}", .0.code())]
    Blocked(ErrorCode),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<ResolveError> for Refusal {
    fn from(err: ResolveError) -> Refusal {
        match err {
            ResolveError::NotFound => Refusal::not_found(),
            ResolveError::AlreadyResolved => Refusal::conflict(ErrorCode::Conflict),
            ResolveError::Invalid(code) => Refusal::invalid(code),
            ResolveError::Refused(code) => Refusal::new(Kind::Forbidden, code),
            ResolveError::Blocked(code) => Refusal::conflict(code),
            ResolveError::Db(err) => err.into(),
        }
    }
}

/// Resolves an open conflict, from the phone or the office alike; `Client` writes the
/// phone's value as a new version. The caller must edit the household now: 403
/// `assignment_ended` for a former officer, `forbidden` for read-only supervisors,
/// `out_of_scope` otherwise; applying the phone's value passes a push's checks (409
/// `case_frozen`, `case_on_notice`, `multiple_heads`, …).
pub async fn resolve(
    db: &Db,
    caller: &Caller,
    id: &str,
    resolution: Resolution,
) -> Result<sync_conflict::Model, ResolveError> {
    let txn = db.begin_write().await?;
    let conflict = sync_conflict::Entity::find_by_id(id.to_owned()).one(&*txn).await?.ok_or(ResolveError::NotFound)?;
    let household = records::load(&*txn, &fields::HOUSEHOLD, &conflict.household_id, false).await?;
    let region_code = household.as_ref().and_then(|h| h.text("region_code")).map(str::to_owned);
    let access =
        scope::household_access(&*txn, caller, &conflict.household_id, region_code.as_deref().unwrap_or_default())
            .await?;
    match access {
        scope::Access::Edit => {}
        scope::Access::FormerOfficer => return Err(ResolveError::Refused(ErrorCode::AssignmentEnded)),
        // Supervisors read everything in their region and change nothing.
        scope::Access::Read => return Err(ResolveError::Refused(ErrorCode::Forbidden)),
        scope::Access::None => return Err(ResolveError::Refused(ErrorCode::OutOfScope)),
    }
    if conflict.status != "open" {
        return Err(ResolveError::AlreadyResolved);
    }
    let tx = changelog::current_tx(&*txn).await?;
    let mut log = Vec::new();
    let mut entry =
        Actor::of(caller).audit_household("resolve_conflict", "conflict", &conflict.id, &conflict.household_id);
    entry.field = Some(conflict.field.clone());
    entry.new_value = Some(match resolution {
        Resolution::Server => "server".into(),
        Resolution::Client => "client".into(),
    });
    let mut audit_entries = vec![entry];

    if resolution == Resolution::Client {
        let entity = fields::entity(&conflict.entity).ok_or(ResolveError::NotFound)?;
        let field = entity.field(&conflict.field).ok_or(ResolveError::NotFound)?;
        if let Some(mut record) = records::load(&*txn, entity, &conflict.entity_id, true).await? {
            let client: Json = serde_json::from_str(&conflict.client_value).unwrap_or(Json::Null);
            // Validated when pushed; checked again in case the code tables changed since.
            let value = validate::field(field, &client).map_err(ResolveError::Invalid)?;
            check_household_open(&txn, caller, &conflict.household_id, region_code.as_deref().unwrap_or_default())
                .await?;
            // The entity's own rules, as a push applies them (`entity_rules`).
            let rules = entity_rules::of(entity);
            if rules.checks.contains(&Check::MemberIdentity) && field.name == "id_number" {
                let id_number = match &value {
                    FieldValue::Text(s) => Some(s.as_str()),
                    _ => None,
                };
                validate::member_identity(record.text("id_type"), id_number, record.text("no_id_reason"))
                    .map_err(|(_, code)| ResolveError::Blocked(code))?;
            }
            if rules.checks.contains(&Check::IdNumberFree)
                && field.name == "id_number"
                && let FieldValue::Text(id_number) = &value
            {
                check_person_free(&txn, caller, &record.id, id_number).await?;
            }
            let editor = Editor {
                user_id: &caller.user_id,
                device_id: Some(&caller.device_id),
                action: "update",
                note: format!("conflict {} resolved with the phone's value", conflict.id),
            };
            let written =
                update_fields(&*txn, &editor, entity, &mut record, vec![(field, value)], region_code.as_deref())
                    .await?;
            log.extend(written.log);
            audit_entries.extend(written.audit);
            if rules.head_field == Some(field.name) {
                check_one_head(&txn, &conflict.household_id).await?;
            }
        }
    }
    let mut model: sync_conflict::ActiveModel = conflict.clone().into();
    model.status = Set("resolved".into());
    model.resolution = Set(Some(match resolution {
        Resolution::Server => "server".into(),
        Resolution::Client => "client".into(),
    }));
    model.resolved_by = Set(Some(caller.user_id.clone()));
    model.resolved_at = Set(Some(Utc::now()));
    model.version = Set(conflict.version + 1);
    let updated = model.update(&*txn).await?;
    log.push(log_entry(updated.id.clone(), &updated.household_id, region_code, updated.version));
    changelog::append(&*txn, tx, &log).await?;
    audit::record(&*txn, &audit_entries).await?;
    txn.commit().await?;
    Ok(updated)
}

/// The freeze and the notice checks of a push, for a resolution that writes.
async fn check_household_open(
    txn: &WriteTxn,
    caller: &Caller,
    household_id: &str,
    region_code: &str,
) -> Result<(), ResolveError> {
    let frozen = signing::households_frozen_levels(&**txn, &[household_id.to_owned()]).await?;
    if frozen.get(household_id).is_some_and(|level| signing::caller_level(caller, region_code) < Some(*level)) {
        return Err(ResolveError::Blocked(ErrorCode::CaseFrozen));
    }
    let listed = count(
        &**txn,
        "SELECT COUNT(*) FROM notice_case nc JOIN notice n ON n.id = nc.notice_id \
         JOIN procedure_case c ON c.id = nc.case_id \
         WHERE c.household_id = ? AND c.status = 'open' AND nc.status = 'listed' AND n.status = 'published'",
        vec![household_id.into()],
    )
    .await?;
    if listed > 0 {
        return Err(ResolveError::Blocked(ErrorCode::CaseOnNotice));
    }
    Ok(())
}

/// One active household per person; whose household it is stays unsaid outside the
/// caller's scope, as in a push.
async fn check_person_free(
    txn: &WriteTxn,
    caller: &Caller,
    member_id: &str,
    id_number: &str,
) -> Result<(), ResolveError> {
    // An ID card and a 残疾人证 number on it are one person.
    let numbers = validate::numbers_of_person(id_number);
    let mut values: Vec<sea_orm::Value> = numbers.iter().map(|n| n.as_str().into()).collect();
    values.push(member_id.into());
    let row = RegisteredRow::find_by_statement(sql(
        txn.get_database_backend(),
        &format!(
            "SELECT m.household_id, h.region_code FROM member m JOIN household h ON h.id = m.household_id \
             WHERE m.id_number IN ({}) AND m.active AND m.id <> ? LIMIT 1",
            crate::db::placeholders(numbers.len())
        ),
        values,
    ))
    .one(&**txn)
    .await?;
    let Some(other) = row else { return Ok(()) };
    let readable = scope::household_access(&**txn, caller, &other.household_id, &other.region_code).await?.may_read();
    Err(ResolveError::Blocked(if readable { ErrorCode::DuplicatePerson } else { ErrorCode::NeedsReview }))
}

#[derive(FromQueryResult)]
struct RegisteredRow {
    household_id: String,
    region_code: String,
}

#[derive(FromQueryResult)]
struct HeadsRow {
    members: Option<i64>,
    heads: Option<i64>,
}

/// R8 after the phone's `relation` is applied: exactly one head.
async fn check_one_head(txn: &WriteTxn, household_id: &str) -> Result<(), ResolveError> {
    let row = HeadsRow::find_by_statement(sql(
        txn.get_database_backend(),
        "SELECT COUNT(*) AS members, SUM(CASE WHEN relation = 'head' THEN 1 ELSE 0 END) AS heads FROM member WHERE household_id = ? AND active",
        vec![household_id.into()],
    ))
    .one(&**txn)
    .await?;
    let (members, heads) = row.map_or((0, 0), |r| (r.members.unwrap_or(0), r.heads.unwrap_or(0)));
    if heads > 1 {
        return Err(ResolveError::Blocked(ErrorCode::MultipleHeads));
    }
    if members > 0 && heads == 0 {
        return Err(ResolveError::Blocked(ErrorCode::NoHead));
    }
    Ok(())
}
