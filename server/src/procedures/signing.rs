//! Signing a case's steps, rejecting, resubmitting and reopening, and what a completed
//! case does to its household. Every action is one transaction with its sign-off row,
//! change-log rows (phones see their cases move) and audit entries.

use super::steps::{CaseKind, Level, Step};
use crate::auth::{Caller, Grant, Role};
use crate::db::{Db, WriteTxn, query_scalar_i64, sql};
use crate::error::{Kind, Refusal};
use crate::records::changelog;
use crate::records::scope;
use crate::records::server_edit::{Editor, Written, update_fields};
use crate::records::{self, Record};
use chrono::Utc;
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use jingzhun_mobile_api::fields::{CASE, HOUSEHOLD, MEMBER};
use jingzhun_mobile_api::validate::FieldValue;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("no such case")]
    NotFound,
    #[error("the case is not open")]
    Closed,
    #[error("the case is at another step")]
    StepMismatch,
    #[error("role or region may not act at this step")]
    WrongRole,
    #[error("removals in this village go first")]
    RemovalsFirst,
    #[error("general households of this village exit first")]
    ExitOrder(Vec<FieldError>),
    #[error("the case is not rejected")]
    NotRejected,
    #[error("the household does not meet the exit standard")]
    ExitRefused(Vec<FieldError>),
    #[error("a notice step passes through a published notice, not a sign-off")]
    NoticeStep,
    #[error("the representatives' resolution step passes through a recorded resolution")]
    ResolutionStep,
    #[error("the case is listed on a published notice")]
    OnNotice,
    #[error("the household is outside the caller's scope")]
    OutOfScope,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<CaseError> for Refusal {
    fn from(err: CaseError) -> Refusal {
        match err {
            CaseError::NotFound => Refusal::not_found(),
            CaseError::Closed => Refusal::conflict(ErrorCode::CaseClosed),
            CaseError::StepMismatch => Refusal::conflict(ErrorCode::StepMismatch),
            CaseError::WrongRole => Refusal::new(Kind::Forbidden, ErrorCode::WrongRole),
            CaseError::RemovalsFirst => Refusal::conflict(ErrorCode::RemovalsFirst),
            CaseError::ExitOrder(blocking) => Refusal::conflict(ErrorCode::ExitOrder).with_fields(blocking),
            CaseError::NotRejected => Refusal::conflict(ErrorCode::CaseClosed),
            CaseError::ExitRefused(reasons) => {
                Refusal::new(Kind::Rejected, ErrorCode::ExitRefused).with_fields(reasons)
            }
            CaseError::NoticeStep => Refusal::conflict(ErrorCode::NoticeStep),
            CaseError::ResolutionStep => Refusal::conflict(ErrorCode::ResolutionRequired),
            CaseError::OnNotice => Refusal::conflict(ErrorCode::CaseOnNotice),
            CaseError::OutOfScope => Refusal::out_of_scope(),
            CaseError::Db(err) => Refusal::internal(err),
        }
    }
}

/// A general household's exit still before a 兜底 household's in the village's round.
#[derive(FromQueryResult)]
struct BlockingExit {
    id: String,
    step: String,
}

impl BlockingExit {
    fn error(&self) -> FieldError {
        let step = jingzhun_mobile_api::codes::CASE_STEP.label_of(&self.step).unwrap_or(&self.step);
        FieldError {
            field: format!("cases/{}", self.id),
            code: ErrorCode::ExitOrder.code().to_owned(),
            message_zh: format!("本村一般贫困户的退出（案件 {}）尚在“{step}”环节，须先评议", self.id),
            message_en: format!(
                "A general household's exit (case {}) is still at {}; it goes first",
                self.id, self.step
            ),
        }
    }
}

/// A case loaded for an action, with its household.
struct Loaded {
    case: Record,
    kind: CaseKind,
    step: Step,
    household: Record,
    region_code: String,
}

impl Loaded {
    /// Sets fields of the case as a new version (change log and audit in `Written`).
    async fn set_case(
        &mut self,
        txn: &WriteTxn,
        editor: &Editor<'_>,
        changes: Vec<(&'static str, &str)>,
    ) -> Result<Written, DbErr> {
        let changes = changes.into_iter().map(|(name, value)| (field(name), text(value))).collect();
        update_fields(&**txn, editor, &CASE, &mut self.case, changes, Some(&self.region_code)).await
    }

    /// Moves the household's status: only procedures do this.
    async fn set_household_status(
        &mut self,
        txn: &WriteTxn,
        editor: &Editor<'_>,
        status: &str,
    ) -> Result<Written, DbErr> {
        let changes = vec![(field("status"), text(status))];
        update_fields(&**txn, editor, &HOUSEHOLD, &mut self.household, changes, Some(&self.region_code)).await
    }

    fn status(&self) -> &str {
        self.case.text("status").unwrap_or("open")
    }
    fn step_index(&self, step: Step) -> usize {
        self.kind.steps().iter().position(|s| *s == step).unwrap_or(0)
    }
}

async fn load(txn: &WriteTxn, case_id: &str) -> Result<Loaded, CaseError> {
    let case = records::load(&**txn, &CASE, case_id, true).await?.ok_or(CaseError::NotFound)?;
    let kind = case.text("kind").and_then(CaseKind::parse).ok_or(CaseError::NotFound)?;
    let step = case.text("step").and_then(Step::parse).unwrap_or(Step::Application);
    let household_id = case.text("household_id").unwrap_or_default().to_owned();
    let household = records::load(&**txn, &HOUSEHOLD, &household_id, true).await?.ok_or(CaseError::NotFound)?;
    let region_code = household.text("region_code").unwrap_or_default().to_owned();
    Ok(Loaded { case, kind, step, household, region_code })
}

/// A case loaded for an action of the caller's: they must read its household before
/// anything about the case is told (403 `out_of_scope`).
async fn load_for(txn: &WriteTxn, caller: &Caller, case_id: &str) -> Result<Loaded, CaseError> {
    let loaded = load(txn, case_id).await?;
    if !scope::household_access(&**txn, caller, &loaded.household.id, &loaded.region_code).await?.may_read() {
        return Err(CaseError::OutOfScope);
    }
    Ok(loaded)
}

/// The caller's grant that lets them act at `step` on this household, if any.
async fn signing_grant(txn: &WriteTxn, caller: &Caller, loaded: &Loaded, step: Step) -> Result<Option<Grant>, DbErr> {
    grant_for(&**txn, caller, &loaded.household.id, &loaded.region_code, step).await
}

/// The caller's grant that lets them act at `step` on a household of `region_code`:
/// a role of the step over the region, an officer only for a household assigned to
/// them now. Also what the case read offers as actions, so the two never differ.
pub(crate) async fn grant_for(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    household_id: &str,
    region_code: &str,
    step: Step,
) -> Result<Option<Grant>, DbErr> {
    for grant in &caller.grants {
        if !step.roles().contains(&grant.role) {
            continue;
        }
        if grant.role == Role::Officer {
            // An officer signs only for the households assigned to them now.
            let assigned = query_scalar_i64(
                conn,
                sql(
                    conn.get_database_backend(),
                    "SELECT COUNT(*) FROM assignment WHERE officer_id = ? AND household_id = ? AND end_date IS NULL",
                    vec![caller.user_id.as_str().into(), household_id.into()],
                ),
            )
            .await?;
            if assigned.unwrap_or(0) > 0 {
                return Ok(Some(grant.clone()));
            }
        } else if region_code.starts_with(&grant.prefix) {
            return Ok(Some(grant.clone()));
        }
    }
    Ok(None)
}

/// What the caller may press on this case now — `approve`, `reject`, `reopen`,
/// `resubmit` — by the checks [`sign`], [`reopen`] and [`resubmit`] make before they
/// look at the rules of the household (the exit standard, the orders of a round), which
/// they still answer with their coded refusal.
pub(crate) async fn actions(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    case: &Record,
    household_status: &str,
    region_code: &str,
) -> Result<Vec<&'static str>, DbErr> {
    let mut actions = Vec::new();
    let Some(kind) = case.text("kind").and_then(CaseKind::parse) else { return Ok(actions) };
    let step = case.text("step").and_then(Step::parse).unwrap_or(Step::Application);
    let household_id = case.text("household_id").unwrap_or_default();
    match case.text("status").unwrap_or("open") {
        "open" => {
            if !step.is_notice() && grant_for(conn, caller, household_id, region_code, step).await?.is_some() {
                if step != Step::VillageResolution {
                    actions.push("approve");
                }
                actions.push("reject");
            }
            let index = kind.steps().iter().position(|s| *s == step).unwrap_or(0);
            if index > 0 && !on_published_notice(conn, &case.id).await? {
                let frozen = frozen_level(conn, &case.id).await?;
                let may = caller_level(caller, region_code).is_some_and(|level| {
                    frozen.is_none_or(|f| level >= f)
                        && caller
                            .grants
                            .iter()
                            .any(|g| region_code.starts_with(&g.prefix) && Level::of(g.role) == Some(level))
                });
                if may {
                    actions.push("reopen");
                }
            }
        }
        "rejected"
            if kind.applies_to(household_status)
                && grant_for(conn, caller, household_id, region_code, Step::Application).await?.is_some() =>
        {
            actions.push("resubmit");
        }
        _ => {}
    }
    Ok(actions)
}

/// The highest level the caller holds over this household's region.
pub fn caller_level(caller: &Caller, region_code: &str) -> Option<Level> {
    caller
        .grants
        .iter()
        .filter(|g| g.role == Role::Officer || region_code.starts_with(&g.prefix))
        .filter_map(|g| Level::of(g.role))
        .max()
}

fn editor<'a>(caller: &'a Caller, action: &'a str, note: String) -> Editor<'a> {
    Editor { user_id: &caller.user_id, device_id: Some(&caller.device_id), action, note }
}

fn text(value: &str) -> FieldValue {
    FieldValue::Text(value.to_owned())
}

fn field(name: &str) -> &'static jingzhun_mobile_api::fields::FieldSpec {
    #[allow(clippy::expect_used)]
    CASE.field(name).or_else(|| HOUSEHOLD.field(name)).or_else(|| MEMBER.field(name)).expect("catalogued field")
}

/// Signs the case's current step. `expected` is the step the signer saw, so two people
/// signing at once cannot both move it.
pub async fn sign(
    db: &Db,
    caller: &Caller,
    case_id: &str,
    expected: Step,
    decision: Decision,
    comment: Option<String>,
    attachment_ids: Vec<Uuid>,
) -> Result<Record, CaseError> {
    let txn = db.begin_write().await?;
    let mut loaded = load_for(&txn, caller, case_id).await?;
    if loaded.status() != "open" {
        return Err(CaseError::Closed);
    }
    if loaded.step != expected {
        return Err(CaseError::StepMismatch);
    }
    if loaded.step.is_notice() {
        return Err(CaseError::NoticeStep);
    }
    // The 村民代表会 approves a list by a resolution on record (`pass_resolution`); a
    // sign-off may only turn one case down, as the representatives may.
    if loaded.step == Step::VillageResolution && decision == Decision::Approve {
        return Err(CaseError::ResolutionStep);
    }
    let grant = signing_grant(&txn, caller, &loaded, loaded.step).await?.ok_or(CaseError::WrongRole)?;
    let mut written = Written::default();
    let note = format!("{} {} at {}", loaded.kind.code(), decision_code(decision), loaded.step.code());

    // 000 §四(一) and 002 §二(一) say who is to be identified; the village assessment
    // (民主评议, 002 §三(六)) is where the team weighs the household against them, so R2's
    // answer is kept with its sign-off, whichever way the team decides. It does not
    // refuse: the seeds leave the decision to the 评议 and the notices after it, and a
    // "no" shown on the case is what the township's review then questions.
    let assessment = if loaded.kind == CaseKind::Identify && loaded.step == Step::VillageAssessment {
        crate::assess::identification(&*txn, &loaded.household.id).await?.map(|v| v.to_string())
    } else {
        None
    };
    match decision {
        Decision::Approve => {
            check_before_approving(&txn, &loaded).await?;
            let level = Level::of(grant.role).map(Level::code);
            let next = loaded.kind.steps().get(loaded.step_index(loaded.step) + 1).copied();
            match next {
                Some(next) => {
                    written.extend(
                        loaded.set_case(&txn, &editor(caller, "sign", note), vec![("step", next.code())]).await?,
                    );
                }
                None => {
                    written.extend(
                        loaded
                            .set_case(&txn, &editor(caller, "sign", note.clone()), vec![("status", "completed")])
                            .await?,
                    );
                    written.extend(complete(&txn, caller, &mut loaded, note).await?);
                }
            }
            raise_frozen_level(&txn, &loaded.case.id, level).await?;
        }
        Decision::Reject => {
            written.extend(
                loaded.set_case(&txn, &editor(caller, "sign", note.clone()), vec![("status", "rejected")]).await?,
            );
            if let Some(status) = loaded.kind.rejected_status() {
                written.extend(loaded.set_household_status(&txn, &editor(caller, "procedure", note), status).await?);
            }
            close(&txn, &loaded.case.id).await?;
        }
    }
    insert_signoff(
        &txn,
        &loaded.case.id,
        loaded.step,
        decision_code(decision),
        caller,
        &grant,
        comment,
        &attachment_ids,
        assessment,
    )
    .await?;
    finish(txn, written).await?;
    Ok(loaded.case)
}

/// Moves a case past its notice step when the notice's period has ended with no open
/// objection, signed as the level that published it (decision `notice`). Part of the
/// caller's transaction: the notice closes with all its cases or not at all.
pub async fn pass_notice(
    txn: &WriteTxn,
    publisher: &Caller,
    grant: &Grant,
    case_id: &str,
    step: Step,
    comment: String,
) -> Result<Written, CaseError> {
    let mut loaded = load(txn, case_id).await?;
    if loaded.status() != "open" {
        return Err(CaseError::Closed);
    }
    if loaded.step != step {
        return Err(CaseError::StepMismatch);
    }
    let note = format!("{} passed {}", loaded.kind.code(), step.code());
    let mut written = Written::default();
    match loaded.kind.steps().get(loaded.step_index(step) + 1).copied() {
        Some(next) => {
            written.extend(loaded.set_case(txn, &editor(publisher, "notice", note), vec![("step", next.code())]).await?)
        }
        None => {
            written.extend(
                loaded.set_case(txn, &editor(publisher, "notice", note.clone()), vec![("status", "completed")]).await?,
            );
            written.extend(complete(txn, publisher, &mut loaded, note).await?);
        }
    }
    raise_frozen_level(txn, case_id, Level::of(grant.role).map(Level::code)).await?;
    insert_signoff(txn, case_id, step, "notice", publisher, grant, Some(comment), &[], None).await?;
    Ok(written)
}

/// Moves a case past its 村民代表会决议 step on the resolution the village team recorded
/// (002 §三(七)), signed by them with the resolution in the comment. Part of the caller's
/// transaction: the resolution and all its cases, or nothing.
pub async fn pass_resolution(
    txn: &WriteTxn,
    recorder: &Caller,
    grant: &Grant,
    case_id: &str,
    comment: String,
) -> Result<Written, CaseError> {
    let mut loaded = load(txn, case_id).await?;
    if loaded.status() != "open" {
        return Err(CaseError::Closed);
    }
    if loaded.step != Step::VillageResolution {
        return Err(CaseError::StepMismatch);
    }
    let next = loaded.kind.steps().get(loaded.step_index(Step::VillageResolution) + 1).copied();
    let Some(next) = next else { return Err(CaseError::StepMismatch) };
    let note = format!("{} passed {}", loaded.kind.code(), Step::VillageResolution.code());
    let written = loaded.set_case(txn, &editor(recorder, "resolution", note), vec![("step", next.code())]).await?;
    raise_frozen_level(txn, case_id, Level::of(grant.role).map(Level::code)).await?;
    insert_signoff(txn, case_id, Step::VillageResolution, "approve", recorder, grant, Some(comment), &[], None).await?;
    Ok(written)
}

/// An upheld objection sends the case back to home verification (入户核实): every step
/// after it is done again, so every level may correct the data, and the case will be
/// listed on a new notice with a full period.
pub async fn return_for_verification(
    txn: &WriteTxn,
    investigator: &Caller,
    grant: &Grant,
    case_id: &str,
    comment: String,
) -> Result<Written, CaseError> {
    let mut loaded = load(txn, case_id).await?;
    if loaded.status() != "open" {
        return Err(CaseError::Closed);
    }
    let note =
        format!("{} returned to verification from {} (objection upheld)", loaded.kind.code(), loaded.step.code());
    let written = loaded
        .set_case(txn, &editor(investigator, "objection", note), vec![("step", Step::HomeVerification.code())])
        .await?;
    set_frozen_level(txn, case_id, None).await?;
    insert_signoff(txn, case_id, loaded.step, "objection_upheld", investigator, grant, Some(comment), &[], None)
        .await?;
    Ok(written)
}

/// While its notice is published a case stays where it is (R10): villagers are reading
/// that list.
async fn on_published_notice(conn: &impl ConnectionTrait, case_id: &str) -> Result<bool, DbErr> {
    let listed = query_scalar_i64(
        conn,
        sql(
            conn.get_database_backend(),
            "SELECT COUNT(*) FROM notice_case nc JOIN notice n ON n.id = nc.notice_id \
             WHERE nc.case_id = ? AND nc.status = 'listed' AND n.status = 'published'",
            vec![case_id.into()],
        ),
    )
    .await?;
    Ok(listed.unwrap_or(0) > 0)
}

/// Writes the change log and audit of what a caller's transaction changed (it does not commit).
pub async fn record_written(txn: &WriteTxn, written: Written) -> Result<(), DbErr> {
    let tx = changelog::current_tx(&**txn).await?;
    changelog::append(&**txn, tx, &written.log).await?;
    crate::audit::record(&**txn, &written.audit).await
}

fn decision_code(decision: Decision) -> &'static str {
    match decision {
        Decision::Approve => "approve",
        Decision::Reject => "reject",
    }
}

/// Rules that hold a case at a step: 先退后进 (002 §三(五)) before village assessment of
/// additions, 先一般后兜底 (003 §一(一)2) before village assessment of a 兜底 exit, and
/// the exit standard before an exit moves on.
async fn check_before_approving(txn: &WriteTxn, loaded: &Loaded) -> Result<(), CaseError> {
    if matches!(loaded.kind, CaseKind::Identify | CaseKind::Relapse) && loaded.step == Step::VillageAssessment {
        // A removal still at or before its own village assessment in this village goes first.
        let pending = query_scalar_i64(
            &**txn,
            sql(
                txn.get_database_backend(),
                "SELECT COUNT(*) FROM procedure_case c JOIN household h ON h.id = c.household_id \
                 WHERE c.kind = 'remove' AND c.status = 'open' AND h.region_code = ? \
                 AND c.step IN ('application', 'home_verification', 'comparison', 'village_assessment')",
                vec![loaded.region_code.as_str().into()],
            ),
        )
        .await?;
        if pending.unwrap_or(0) > 0 {
            return Err(CaseError::RemovalsFirst);
        }
    }
    if loaded.kind == CaseKind::Exit
        && loaded.step == Step::VillageAssessment
        && matches!(loaded.household.text("kind"), Some("dibao" | "wubao"))
    {
        // 003 §一(一)2 先一般贫困户，后低保政策兜底户: the village's 评议 decides the order,
        // so a 兜底 household's exit passes it only once no general household's exit in
        // the same village (the same round: open at the same time) is still before it.
        // Its exit then never reaches a notice ahead of theirs.
        let general_before = BlockingExit::find_by_statement(sql(
            txn.get_database_backend(),
            "SELECT c.id, c.step FROM procedure_case c JOIN household h ON h.id = c.household_id \
             WHERE c.kind = 'exit' AND c.status = 'open' AND h.region_code = ? AND h.kind = 'general' \
             AND c.step IN ('application', 'home_verification', 'village_assessment') ORDER BY c.created_at, c.id",
            vec![loaded.region_code.as_str().into()],
        ))
        .all(&**txn)
        .await?;
        if !general_before.is_empty() {
            // Each exit ahead is named, so the team can see which one to decide (or reject)
            // rather than wait on an anonymous refusal.
            return Err(CaseError::ExitOrder(general_before.iter().map(BlockingExit::error).collect()));
        }
    }
    if loaded.kind == CaseKind::Exit {
        let unmet = super::exit_check::unmet(txn, &loaded.household).await?;
        if !unmet.is_empty() {
            return Err(CaseError::ExitRefused(unmet));
        }
    }
    Ok(())
}

/// What a completed case does: the household's status, or a member leaving.
async fn complete(txn: &WriteTxn, caller: &Caller, loaded: &mut Loaded, note: String) -> Result<Written, CaseError> {
    let mut written = Written::default();
    let reason = loaded.case.text("reason").map(str::to_owned);
    if let Some(status) = loaded.kind.completed_status_for(reason.as_deref()) {
        written.extend(loaded.set_household_status(txn, &editor(caller, "procedure", note.clone()), status).await?);
    }
    if loaded.kind.removes_member(reason.as_deref())
        && let Some(member_id) = loaded.case.text("member_id").map(str::to_owned)
        && let Some(mut member) = records::load(&**txn, &MEMBER, &member_id, true).await?
    {
        written.extend(
            update_fields(
                &**txn,
                &editor(caller, "procedure", note),
                &MEMBER,
                &mut member,
                vec![(field("active"), FieldValue::Bool(false))],
                Some(&loaded.region_code),
            )
            .await?,
        );
    }
    close(txn, &loaded.case.id).await?;
    Ok(written)
}

async fn close(txn: &WriteTxn, case_id: &str) -> Result<(), DbErr> {
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "UPDATE procedure_case SET closed_at = ? WHERE id = ?",
        vec![Utc::now().into(), case_id.into()],
    ))
    .await
    .map(|_| ())
}

async fn raise_frozen_level(txn: &WriteTxn, case_id: &str, level: Option<&str>) -> Result<(), DbErr> {
    let Some(level) = level else { return Ok(()) };
    let current = frozen_level(&**txn, case_id).await?;
    if current.is_some_and(|c| Level::parse(level).is_some_and(|l| l <= c)) {
        return Ok(());
    }
    set_frozen_level(txn, case_id, Some(level)).await
}

async fn set_frozen_level(txn: &WriteTxn, case_id: &str, level: Option<&str>) -> Result<(), DbErr> {
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "UPDATE procedure_case SET frozen_level = ? WHERE id = ?",
        vec![level.map(str::to_owned).into(), case_id.into()],
    ))
    .await
    .map(|_| ())
}

pub async fn frozen_level(conn: &impl ConnectionTrait, case_id: &str) -> Result<Option<Level>, DbErr> {
    let row = conn
        .query_one_raw(sql(
            conn.get_database_backend(),
            "SELECT frozen_level FROM procedure_case WHERE id = ?",
            vec![case_id.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<Option<String>>("", "frozen_level"))
        .transpose()?
        .flatten()
        .as_deref()
        .and_then(Level::parse))
}

/// The highest level frozen by an open case of each of these households (absent: none).
///
/// A case sitting at its village assessment (民主评议) holds the household at most at the
/// village level, whatever signed before it: the comparison is the township's, but the
/// assessment is the village team's own step, where it must be able to correct what the
/// 入户核实 and the 比对 found (issue 11 item 2). Officers stay frozen out.
pub async fn households_frozen_levels(
    conn: &impl jingzhun_db::Rows,
    household_ids: &[String],
) -> Result<std::collections::HashMap<String, Level>, DbErr> {
    let mut highest = std::collections::HashMap::new();
    for chunk in household_ids.chunks(500) {
        let text = format!(
            "SELECT household_id, frozen_level, step FROM procedure_case WHERE status = 'open' AND frozen_level IS NOT NULL AND household_id IN ({})",
            crate::db::placeholders(chunk.len())
        );
        let values = chunk.iter().map(|id| sea_orm::Value::from(id.as_str())).collect();
        let rows = conn
            .read(sql(conn.backend(), &text, values), |row| {
                Ok((row.text_at(0)?.unwrap_or_default(), row.text_at(1)?, row.text_at(2)?))
            })
            .await?;
        for (household_id, frozen_level, step) in rows {
            if let Some(mut level) = frozen_level.as_deref().and_then(Level::parse) {
                if step.as_deref() == Some(Step::VillageAssessment.code()) {
                    level = level.min(Level::Village);
                }
                let entry = highest.entry(household_id).or_insert(level);
                *entry = (*entry).max(level);
            }
        }
    }
    Ok(highest)
}

#[allow(clippy::too_many_arguments)]
async fn insert_signoff(
    txn: &WriteTxn,
    case_id: &str,
    step: Step,
    decision: &str,
    caller: &Caller,
    grant: &Grant,
    comment: Option<String>,
    attachment_ids: &[Uuid],
    assessment: Option<String>,
) -> Result<(), DbErr> {
    let attachments = serde_json::to_string(&attachment_ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into());
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "INSERT INTO case_signoff (id, case_id, step, decision, user_id, role, region_code, comment, attachment_ids, assessment, at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            Uuid::new_v4().to_string().into(),
            case_id.into(),
            step.code().into(),
            decision.into(),
            caller.user_id.as_str().into(),
            grant.role.as_str().into(),
            grant.region_code.as_str().into(),
            comment.into(),
            attachments.into(),
            assessment.into(),
            Utc::now().into(),
        ],
    ))
    .await
    .map(|_| ())
}

async fn finish(txn: WriteTxn, written: Written) -> Result<(), DbErr> {
    record_written(&txn, written).await?;
    txn.commit().await
}

/// Starts a rejected case again from the application, keeping its history.
pub async fn resubmit(db: &Db, caller: &Caller, case_id: &str, comment: Option<String>) -> Result<Record, CaseError> {
    let txn = db.begin_write().await?;
    let mut loaded = load_for(&txn, caller, case_id).await?;
    if loaded.status() != "rejected" {
        return Err(CaseError::NotRejected);
    }
    if !loaded.kind.applies_to(loaded.household.text("status").unwrap_or_default()) {
        return Err(CaseError::Closed);
    }
    let grant = signing_grant(&txn, caller, &loaded, Step::Application).await?.ok_or(CaseError::WrongRole)?;
    let note = format!("{} resubmitted", loaded.kind.code());
    let written = loaded
        .set_case(&txn, &editor(caller, "resubmit", note), vec![("status", "open"), ("step", Step::Application.code())])
        .await?;
    set_frozen_level(&txn, case_id, None).await?;
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "UPDATE procedure_case SET closed_at = NULL WHERE id = ?",
        vec![case_id.into()],
    ))
    .await?;
    insert_signoff(&txn, case_id, Step::Application, "resubmit", caller, &grant, comment, &[], None).await?;
    finish(txn, written).await?;
    Ok(loaded.case)
}

/// Sends an open case back to an earlier step. Only the level that froze it, or a
/// higher one, may do so; the levels of the steps redone may then change data again.
pub async fn reopen(
    db: &Db,
    caller: &Caller,
    case_id: &str,
    to: Step,
    comment: Option<String>,
) -> Result<Record, CaseError> {
    let txn = db.begin_write().await?;
    let mut loaded = load_for(&txn, caller, case_id).await?;
    if loaded.status() != "open" {
        return Err(CaseError::Closed);
    }
    let (Some(target), current) = (loaded.kind.steps().iter().position(|s| *s == to), loaded.step_index(loaded.step))
    else {
        return Err(CaseError::StepMismatch);
    };
    if target >= current {
        return Err(CaseError::StepMismatch);
    }
    if on_published_notice(&*txn, case_id).await? {
        return Err(CaseError::OnNotice);
    }
    let level = caller_level(caller, &loaded.region_code).ok_or(CaseError::WrongRole)?;
    if frozen_level(&*txn, case_id).await?.is_some_and(|frozen| level < frozen) {
        return Err(CaseError::WrongRole);
    }
    let grant = caller
        .grants
        .iter()
        .filter(|g| loaded.region_code.starts_with(&g.prefix) && Level::of(g.role) == Some(level))
        .max_by_key(|g| g.prefix.len())
        .cloned()
        .ok_or(CaseError::WrongRole)?;
    let note = format!("{} reopened at {}", loaded.kind.code(), to.code());
    let written = loaded.set_case(&txn, &editor(caller, "reopen", note), vec![("step", to.code())]).await?;
    // The steps from `to` on are to be done again: their levels may edit once more.
    let still_signed = signed_level_before(&*txn, loaded.kind, case_id, target).await?;
    set_frozen_level(&txn, case_id, still_signed.map(Level::code)).await?;
    insert_signoff(&txn, case_id, to, "reopen", caller, &grant, comment, &[], None).await?;
    finish(txn, written).await?;
    Ok(loaded.case)
}

#[derive(FromQueryResult)]
struct SignoffRow {
    step: String,
    decision: String,
    role: String,
}

/// The highest level that approved a step before `target` since the case was last
/// (re)submitted.
async fn signed_level_before(
    conn: &impl ConnectionTrait,
    kind: CaseKind,
    case_id: &str,
    target: usize,
) -> Result<Option<Level>, DbErr> {
    let rows = SignoffRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT step, decision, role FROM case_signoff WHERE case_id = ? ORDER BY at, id",
        vec![case_id.into()],
    ))
    .all(conn)
    .await?;
    let mut highest = None;
    for SignoffRow { step, decision, role } in rows {
        match decision.as_str() {
            "resubmit" => highest = None,
            "approve" => {
                let before = Step::parse(&step)
                    .and_then(|s| kind.steps().iter().position(|x| *x == s))
                    .is_some_and(|i| i < target);
                if before {
                    highest = highest.max(Role::parse(&role).and_then(Level::of).filter(|l| *l > Level::Officer));
                }
            }
            _ => {}
        }
    }
    Ok(highest)
}

/// The sign-offs of a case, oldest first.
pub async fn signoffs(conn: &impl ConnectionTrait, case_id: &str) -> Result<Vec<serde_json::Value>, DbErr> {
    let rows = SignedRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT step, decision, user_id, role, region_code, comment, attachment_ids, assessment, at FROM case_signoff WHERE case_id = ? ORDER BY at, id",
        vec![case_id.into()],
    ))
    .all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "step": r.step,
                "decision": r.decision,
                "user_id": r.user_id,
                "role": r.role,
                "region_code": r.region_code,
                "comment": r.comment,
                "attachment_ids": serde_json::from_str::<serde_json::Value>(&r.attachment_ids).unwrap_or_default(),
                "assessment": r.assessment.as_deref().and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok()),
                "at": r.at.to_rfc3339(),
            })
        })
        .collect())
}

#[derive(FromQueryResult)]
struct SignedRow {
    step: String,
    decision: String,
    user_id: String,
    role: String,
    region_code: String,
    comment: Option<String>,
    attachment_ids: String,
    /// The rules' answer kept with the sign-off (R2 at an identification's village assessment).
    assessment: Option<String>,
    at: chrono::DateTime<Utc>,
}
