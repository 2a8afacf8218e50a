//! Cases as they are filed and read: opening one (its application step) from a phone's
//! push or from the office, one case with its sign-offs, the cases in a caller's scope.
//! Moving a case through its steps is `engine`'s.
//!
//! A case is opened in one place, [`open_case`], whoever files it: the same access rule
//! (a current editor of the household; a former officer never, not even offline) and
//! the same rules (one open case per kind, a kind that applies to the household's
//! status, a reason from the kind's tables, a member of the same household). Opening
//! never changes the household: its status moves only when a case completes.

use super::steps::CaseKind;
use crate::assess;
use crate::audit::{self, Actor};
use crate::auth::Caller;
use crate::db::page::Page;
use crate::db::{Db, count};
use crate::domain::removal::{self, RemovalReason, Verdict};
use crate::error::Refusal;
use crate::records::changelog::{self, LogEntry, LogOp};
use crate::records::scope::{self, Access};
use crate::records::{self, Record};
use chrono::NaiveDate;
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use jingzhun_mobile_api::fields::{self, CASE};
use jingzhun_mobile_api::validate::{self, FieldValue};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A case about to be opened, in the filer's transaction.
pub struct NewCase<'a> {
    pub id: &'a str,
    pub household_id: &'a str,
    /// The filer's access to the household (a filer answers a household that does not
    /// exist, `household_not_found`, before it comes here).
    pub access: Access,
    /// Its fields as filed, each valid by the field catalogue.
    pub values: BTreeMap<&'static str, FieldValue>,
}

/// Opens a case inside the filer's transaction: who may, what the rules allow, then the
/// record (with `opened_by`). Answers the stored record, or the field errors that refuse
/// it. The change log and audit entries are the filer's to write with the rest of its
/// transaction (a push writes them with its change set).
pub async fn open_case(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    new: NewCase<'_>,
) -> Result<Result<Record, Vec<FieldError>>, DbErr> {
    match new.access {
        Access::Edit => {}
        // Filing a case is an online act: never an offline edit that a former officer
        // may still deliver.
        Access::FormerOfficer => return Ok(Err(vec![FieldError::new("", ErrorCode::AssignmentEnded)])),
        // A household one may not edit is not there to file for.
        Access::Read | Access::None => {
            return Ok(Err(vec![FieldError::new("household_id", ErrorCode::HouseholdNotFound)]));
        }
    }
    let errors = check_new_case(conn, new.household_id, &new.values).await?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let mut values = new.values;
    values.insert("opened_by", FieldValue::Uuid(caller.user_id.clone()));
    let record = Record {
        id: new.id.to_owned(),
        version: 1,
        field_versions: values.keys().map(|k| ((*k).to_owned(), 1)).collect(),
        values,
    };
    records::insert(conn, &CASE, &record).await?;
    Ok(Ok(record))
}

/// One open case per kind, a kind that applies to the household's status, a reason
/// from the kind's tables (required where it has some), a member of the same household
/// (required when a member leaves).
async fn check_new_case(
    conn: &impl ConnectionTrait,
    household_id: &str,
    values: &BTreeMap<&'static str, FieldValue>,
) -> Result<Vec<FieldError>, DbErr> {
    let mut errors = Vec::new();
    let Some(FieldValue::Text(kind_code)) = values.get("kind") else { return Ok(errors) };
    let Some(kind) = CaseKind::parse(kind_code) else { return Ok(errors) };
    let open = count(
        conn,
        "SELECT COUNT(*) FROM procedure_case WHERE household_id = ? AND kind = ? AND status = 'open'",
        vec![household_id.into(), kind_code.as_str().into()],
    )
    .await?;
    if open > 0 {
        errors.push(FieldError::new("kind", ErrorCode::CaseOpen));
    }
    if let Some(household) = records::load(conn, &fields::HOUSEHOLD, household_id, false).await?
        && !kind.applies_to(household.text("status").unwrap_or_default())
    {
        errors.push(FieldError::new("kind", ErrorCode::CaseNotAllowed));
    }
    let reason = match values.get("reason") {
        Some(FieldValue::Text(reason)) => Some(reason.as_str()),
        _ => None,
    };
    let tables = kind.reason_tables();
    match reason {
        None if !tables.is_empty() => errors.push(FieldError::new("reason", ErrorCode::Required)),
        Some(reason) if !tables.iter().any(|t| t.contains(reason)) => {
            errors.push(FieldError::new("reason", ErrorCode::UnknownReason));
        }
        _ => {}
    }
    // A member leaving names the member, and so does a removal of persons (002 §二(二)9).
    if kind.removes_member(reason) && !values.contains_key("member_id") {
        errors.push(FieldError::new("member_id", ErrorCode::Required));
    }
    if let Some(FieldValue::Uuid(member_id)) = values.get("member_id") {
        let same = count(
            conn,
            "SELECT COUNT(*) FROM member WHERE id = ? AND household_id = ?",
            vec![member_id.as_str().into(), household_id.into()],
        )
        .await?;
        if same == 0 {
            errors.push(FieldError::new("member_id", ErrorCode::RecordNotFound));
        }
    }
    Ok(errors)
}

/// A case filed from the office (the application step) for a household in the filer's
/// scope.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OpenCase {
    pub household_id: Uuid,
    /// identify, relapse, exit, remove, exit_reversal, member_change
    pub kind: String,
    pub reason: Option<String>,
    pub member_id: Option<Uuid>,
    pub note: Option<String>,
    /// A removal on 002 §二(二) 1–4 or 6: the day the post began, or the car, town
    /// property or business was acquired or registered.
    pub acquired_on: Option<NaiveDate>,
    /// …and whether it was the household's exit measure (作为脱贫措施).
    pub as_exit_measure: Option<bool>,
}

impl OpenCase {
    /// Its fields checked by the catalogue, as a phone's would be.
    fn values(&self) -> (BTreeMap<&'static str, FieldValue>, Vec<FieldError>) {
        let mut filed = serde_json::Map::new();
        filed.insert("household_id".into(), json!(self.household_id));
        filed.insert("kind".into(), json!(self.kind));
        if let Some(reason) = &self.reason {
            filed.insert("reason".into(), json!(reason));
        }
        if let Some(member_id) = self.member_id {
            filed.insert("member_id".into(), json!(member_id));
        }
        if let Some(note) = &self.note {
            filed.insert("note".into(), json!(note));
        }
        let mut values = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, value) in &filed {
            let Some(field) = CASE.field(name) else { continue };
            match validate::field(field, value) {
                Ok(v) => {
                    values.insert(field.name, v);
                }
                Err(code) => errors.push(FieldError::new(field.name, code)),
            }
        }
        (values, errors)
    }
}

/// Opens a case filed from the office, in its own transaction with its change-log row
/// and audit entry; answers its id. Refused as a push would refuse it: 400
/// `invalid_request` with the field errors (`forbidden` for a caller who edits no
/// household, `household_not_found` outside the caller's edit scope, `assignment_ended`
/// for a former officer, then the rules of [`open_case`]).
pub async fn open(db: &Db, caller: &Caller, filed: &OpenCase) -> Result<String, Refusal> {
    let refused = |errors| Refusal::invalid(ErrorCode::InvalidRequest).with_fields(errors);
    if caller.grants.iter().all(|g| !g.role.edits_households()) {
        return Err(refused(vec![FieldError::new("", ErrorCode::Forbidden)]));
    }
    let (values, errors) = filed.values();
    if !errors.is_empty() {
        return Err(refused(errors));
    }
    let id = Uuid::new_v4().to_string();
    let household_id = filed.household_id.to_string();
    let txn = db.begin_write().await?;
    let Some(region) = scope::household_region(&*txn, &household_id).await? else {
        return Err(refused(vec![FieldError::new("household_id", ErrorCode::HouseholdNotFound)]));
    };
    let access = scope::household_access(&*txn, caller, &household_id, &region).await?;
    if matches!(access, Access::Edit) && is_normal_exit(&*txn, &household_id, filed).await? {
        return Err(refused(vec![FieldError::new("reason", ErrorCode::RemovalIsNormalExit)]));
    }
    let new = NewCase { id: &id, household_id: &household_id, access, values };
    let record = match open_case(&*txn, caller, new).await? {
        Ok(record) => record,
        Err(errors) => return Err(refused(errors)),
    };
    let tx = changelog::current_tx(&*txn).await?;
    let log = LogEntry {
        entity: CASE.name,
        entity_id: id.clone(),
        household_id: Some(household_id.clone()),
        region_code: Some(region),
        target_user: None,
        op: LogOp::Upsert,
        version: 1,
    };
    changelog::append(&*txn, tx, &[log]).await?;
    let mut entry = Actor::of(caller).audit_household("create", CASE.name, &id, &household_id);
    entry.new_value = Some(record.to_json(&CASE).to_string());
    entry.version = Some(1);
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(id)
}

/// 002 §二(二) 1–4, 6: "建档立卡后…（作为脱贫措施）的，不认定为错评，按正常脱贫程序退出".
/// Such a removal is refused, not turned into an exit case: the seed sends the household
/// through the *normal* exit procedure, whose own steps (no comparison) and checks (R3,
/// 两不退, the exit order) the village must start and answer for; an exited household has
/// nothing left to remove. Only a stated date decides it: without one, or before the
/// 建档立卡 date (stored, else the identification's completion), the removal is 错评 and
/// proceeds, and a filer who does not say it was an exit measure has not claimed the
/// exception for a car, town property or business.
async fn is_normal_exit(conn: &impl ConnectionTrait, household_id: &str, filed: &OpenCase) -> Result<bool, DbErr> {
    if CaseKind::parse(&filed.kind) != Some(CaseKind::Remove) {
        return Ok(false);
    }
    let Some(reason) = filed.reason.as_deref().and_then(RemovalReason::from_code) else { return Ok(false) };
    let Some(needs_exit_measure) = reason.exception_needs_exit_measure() else { return Ok(false) };
    let Some(acquired_on) = filed.acquired_on else { return Ok(false) };
    let as_exit_measure = needs_exit_measure.then_some(filed.as_exit_measure.unwrap_or(false));
    let registered_on = assess::facts::registered_on(conn, household_id).await?;
    let verdict = removal::exception_on(registered_on, Some(acquired_on), "acquired_on", as_exit_measure);
    Ok(verdict == Verdict::NormalExit)
}

/// One sign-off on a case: who (by name where the user is known) signed which step,
/// how, when, with what comment and attachments, and the rules' answer kept with it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignoffView {
    pub step: String,
    /// approve, reject, resubmit, reopen, notice, objection_upheld
    pub decision: String,
    pub user_id: String,
    #[serde(default)]
    pub user_name: Option<String>,
    pub role: String,
    pub region_code: String,
    pub comment: Option<String>,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
    /// R2's answer kept with an identification's village assessment.
    #[schema(value_type = Option<Object>)]
    pub assessment: Option<Value>,
    pub at: String,
}

/// The case's household as a case page shows it: the head's ID number masked (whole
/// only on the household page, whose views are audited).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromQueryResult)]
pub struct CaseHousehold {
    pub household_number: Option<String>,
    pub head_name: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    pub head_id_number: Option<String>,
    pub head_id_number_masked: Option<String>,
    pub region_name: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
}

/// A case as read: its record, village, freeze, steps, sign-offs, the actions the caller
/// may take now (by the signing service's own checks) and its household.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: String,
    pub household_id: String,
    /// identify, relapse, exit, remove, exit_reversal, member_change
    pub kind: String,
    /// The current step.
    pub step: String,
    /// open, rejected, completed
    pub status: String,
    pub reason: Option<String>,
    pub note: Option<String>,
    /// The case record's other fields as synced (version, member_id, opened_by …).
    #[serde(flatten)]
    #[schema(ignore)]
    pub record: serde_json::Map<String, Value>,
    pub region_code: String,
    pub frozen_level: Option<String>,
    /// Every step of the case's kind, in order.
    pub steps: Vec<String>,
    pub signoffs: Vec<SignoffView>,
    /// Why an open identification is kept off the public notices (R5), if it is.
    pub held_back: Option<assess::edge::HeldBack>,
    /// approve, reject, reopen, resubmit: what the caller may press now; the server
    /// still refuses by the household's rules (exit standard, order of a round).
    pub actions: Vec<String>,
    pub household: Option<CaseHousehold>,
}

#[derive(FromQueryResult)]
struct UserNameRow {
    id: String,
    name: Option<String>,
}

/// A case with its village, freeze and sign-offs, for a caller who reads its household
/// (404 for an unknown case, 403 `out_of_scope` for one they do not read).
pub async fn view(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> Result<CaseView, Refusal> {
    let case = records::load(conn, &CASE, id, false).await?.ok_or_else(Refusal::not_found)?;
    let household_id = case.text("household_id").unwrap_or_default().to_owned();
    let region = scope::household_region(conn, &household_id).await?.ok_or_else(Refusal::not_found)?;
    if !scope::household_access(conn, caller, &household_id, &region).await?.may_read() {
        return Err(Refusal::out_of_scope());
    }
    let backend = conn.get_database_backend();
    let household = CaseHousehold::find_by_statement(crate::db::sql(
        backend,
        "SELECT h.household_number, h.status, h.kind, r.name AS region_name, \
         (SELECT m.name FROM member m WHERE m.household_id = h.id AND m.relation = 'head' ORDER BY m.id LIMIT 1) AS head_name, \
         (SELECT m.id_number FROM member m WHERE m.household_id = h.id AND m.relation = 'head' ORDER BY m.id LIMIT 1) AS head_id_number, \
         NULL AS head_id_number_masked \
         FROM household h LEFT JOIN region r ON r.code = h.region_code WHERE h.id = ?",
        vec![household_id.as_str().into()],
    ))
    .one(conn)
    .await?
    .map(|mut h| {
        h.head_id_number_masked =
            h.head_id_number.take().filter(|n| !n.is_empty()).map(|n| validate::mask_id_number(&n));
        h
    });
    // A sign-off that does not read back is an error, never a step silently unsigned.
    let mut signoffs = super::signing::signoffs(conn, id)
        .await?
        .into_iter()
        .map(serde_json::from_value::<SignoffView>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(Refusal::internal)?;
    let mut user_ids: Vec<String> = signoffs.iter().map(|s| s.user_id.clone()).collect();
    user_ids.sort();
    user_ids.dedup();
    if !user_ids.is_empty() {
        let text = format!("SELECT id, name FROM app_user WHERE id IN ({})", crate::db::placeholders(user_ids.len()));
        let values = user_ids.iter().map(|u| sea_orm::Value::from(u.as_str())).collect();
        let names: std::collections::HashMap<String, Option<String>> =
            UserNameRow::find_by_statement(crate::db::sql(backend, &text, values))
                .all(conn)
                .await?
                .into_iter()
                .map(|r| (r.id, r.name))
                .collect();
        for signoff in &mut signoffs {
            signoff.user_name = names.get(&signoff.user_id).cloned().flatten();
        }
    }
    let household_status = household.as_ref().and_then(|h| h.status.clone()).unwrap_or_default();
    let actions = super::signing::actions(conn, caller, &case, &household_status, &region).await?;
    // An identification R5 keeps off the public notices says so, with why (004 §三(一)).
    let open_identify = case.text("kind") == Some("identify") && case.text("status") == Some("open");
    let held_back = if open_identify { assess::edge::held_back(conn, &household_id).await? } else { None };
    let steps = case
        .text("kind")
        .and_then(CaseKind::parse)
        .map(|k| k.steps().iter().map(|s| s.code().to_owned()).collect())
        .unwrap_or_default();
    let Value::Object(mut record) = case.to_json(&CASE) else { return Err(Refusal::not_found()) };
    let mut take = |name: &str| match record.remove(name) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    Ok(CaseView {
        id: take("id").unwrap_or_default(),
        household_id: take("household_id").unwrap_or_default(),
        kind: take("kind").unwrap_or_default(),
        step: take("step").unwrap_or_else(|| "application".into()),
        status: take("status").unwrap_or_else(|| "open".into()),
        reason: take("reason"),
        note: take("note"),
        record,
        region_code: region,
        frozen_level: super::signing::frozen_level(conn, id).await?.map(|l| l.code().to_owned()),
        steps,
        signoffs,
        held_back,
        actions: actions.into_iter().map(str::to_owned).collect(),
        household,
    })
}

/// Which cases to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CaseFilter {
    pub household_id: Option<Uuid>,
    /// open (default), rejected, completed
    pub status: Option<String>,
    pub kind: Option<String>,
    /// Cases waiting at this step.
    pub step: Option<String>,
}

#[derive(FromQueryResult)]
struct ListedRow {
    id: String,
    kind: String,
    household_kind: Option<String>,
}

/// Cases of households in the caller's read scope, oldest first (at most 5,000), but
/// exits general households first (003 §一(一)2 先一般贫困户，后低保政策兜底户).
pub async fn list(conn: &impl ConnectionTrait, caller: &Caller, filter: CaseFilter) -> Result<Vec<Value>, DbErr> {
    let (cond, mut values) = scope::households_condition(caller, "h.id", "h.region_code");
    let mut text = format!(
        "SELECT c.id, c.kind, h.kind AS household_kind FROM procedure_case c JOIN household h ON h.id = c.household_id \
         WHERE {cond} AND c.status = ?"
    );
    values.push(filter.status.unwrap_or_else(|| "open".into()).into());
    if let Some(h) = filter.household_id {
        text.push_str(" AND c.household_id = ?");
        values.push(h.to_string().into());
    }
    if let Some(kind) = filter.kind {
        text.push_str(" AND c.kind = ?");
        values.push(kind.into());
    }
    if let Some(step) = filter.step {
        text.push_str(" AND c.step = ?");
        values.push(step.into());
    }
    text.push_str(" ORDER BY c.created_at LIMIT 5000");
    let mut rows =
        ListedRow::find_by_statement(crate::db::sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    crate::domain::exit::sort_for_exit(&mut rows, |r| {
        if r.kind == "exit" {
            r.household_kind.as_deref().and_then(crate::domain::facts::Kind::from_code)
        } else {
            Some(crate::domain::facts::Kind::General)
        }
    });
    let ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
    // load_many answers in its own order; the list keeps the one decided above.
    let mut by_id: std::collections::HashMap<String, Value> =
        records::load_many(conn, &CASE, &ids).await?.iter().map(|c| (c.id.clone(), c.to_json(&CASE))).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Which cases the console's 案件 table lists.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct CaseSummaryFilter {
    /// A region (village, township …); its households' cases.
    pub region_code: Option<String>,
    /// open (default), rejected, completed
    pub status: Option<String>,
    pub kind: Option<String>,
    /// Cases at this step.
    pub step: Option<String>,
    /// `mine`: only open cases whose current step the caller may sign now (the 待办's
    /// link).
    pub waiting: Option<String>,
    /// From 1.
    pub page: Option<u64>,
    /// 20 unless asked, at most 200.
    pub per_page: Option<u64>,
}

/// One case in the console's table: its household's head by name, ID number masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromQueryResult)]
pub struct CaseSummary {
    pub id: String,
    pub household_id: String,
    pub kind: String,
    pub step: String,
    pub status: String,
    pub reason: Option<String>,
    pub region_code: String,
    pub region_name: Option<String>,
    pub household_number: Option<String>,
    pub head_name: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    pub head_id_number: Option<String>,
    pub head_id_number_masked: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Cases of households in the caller's read scope, newest first, a page at a time with
/// the total. `waiting=mine` keeps the open cases whose step the caller may sign, by the
/// steps' roles as `signing` grants them (a role of the step over the region; an officer
/// only for households assigned to them now); notice steps pass by publishing.
pub async fn summaries(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: CaseSummaryFilter,
) -> Result<Page<CaseSummary>, DbErr> {
    let (cond, mut values) = scope::households_condition(caller, "h.id", "h.region_code");
    let mut wheres = vec![cond];
    let waiting_mine = filter.waiting.as_deref() == Some("mine");
    let status = if waiting_mine { Some("open".to_owned()) } else { filter.status.filter(|s| !s.is_empty()) };
    if let Some(status) = status {
        wheres.push("c.status = ?".into());
        values.push(status.into());
    }
    for (column, wanted) in [("c.kind", filter.kind), ("c.step", filter.step)] {
        if let Some(wanted) = wanted.filter(|w| !w.is_empty()) {
            wheres.push(format!("{column} = ?"));
            values.push(wanted.into());
        }
    }
    if let Some(region) = filter.region_code.filter(|r| !r.is_empty()) {
        wheres.push("h.region_code LIKE ?".into());
        values.push(format!("{}%", crate::auth::roles::region_prefix(&region)).into());
    }
    if waiting_mine {
        let mut mine = Vec::new();
        for grant in &caller.grants {
            let mut steps: Vec<&str> = CaseKind::ALL
                .iter()
                .flat_map(|k| k.steps())
                .filter(|s| !s.is_notice() && s.roles().contains(&grant.role))
                .map(|s| s.code())
                .collect();
            steps.sort_unstable();
            steps.dedup();
            if steps.is_empty() {
                continue;
            }
            let marks = vec!["?"; steps.len()].join(", ");
            if grant.role == crate::auth::Role::Officer {
                mine.push(format!(
                    "(c.step IN ({marks}) AND EXISTS (SELECT 1 FROM assignment a WHERE a.officer_id = ? \
                     AND a.household_id = h.id AND a.end_date IS NULL))"
                ));
                values.extend(steps.iter().map(|s| sea_orm::Value::from(*s)));
                values.push(caller.user_id.as_str().into());
            } else {
                mine.push(format!("(c.step IN ({marks}) AND h.region_code LIKE ?)"));
                values.extend(steps.iter().map(|s| sea_orm::Value::from(*s)));
                values.push(format!("{}%", grant.prefix).into());
            }
        }
        wheres.push(if mine.is_empty() { "1 = 0".into() } else { format!("({})", mine.join(" OR ")) });
    }
    let where_text = wheres.join(" AND ");
    let backend = conn.get_database_backend();
    let from = "procedure_case c JOIN household h ON h.id = c.household_id";
    let total =
        crate::db::count(conn, &format!("SELECT COUNT(*) FROM {from} WHERE {where_text}"), values.clone()).await?;
    let paging = crate::db::Paging::new(filter.page, filter.per_page, 20);
    let head = crate::registry::households::head_column;
    let text = format!(
        "SELECT c.id, c.household_id, c.kind, c.step, c.status, c.reason, h.region_code, r.name AS region_name, \
         h.household_number, {} AS head_name, {} AS head_id_number, NULL AS head_id_number_masked, c.created_at \
         FROM {from} LEFT JOIN region r ON r.code = h.region_code WHERE {where_text} \
         ORDER BY c.created_at DESC, c.id LIMIT ? OFFSET ?",
        head("name"),
        head("id_number"),
    );
    values.extend(paging.limit_offset());
    let items = CaseSummary::find_by_statement(crate::db::sql(backend, &text, values))
        .all(conn)
        .await?
        .into_iter()
        .map(|mut c| {
            c.head_id_number_masked =
                c.head_id_number.take().filter(|n| !n.is_empty()).map(|n| validate::mask_id_number(&n));
            c
        })
        .collect();
    Ok(Page { total, page: paging.page, per_page: paging.per_page, items })
}
