//! The 村民代表会决议 after a village notice (002 §三(七): "没有举报，提交村民代表会作出
//! 决议，上报街道审定"): the village team records the representatives' meeting on a
//! closed village notice's list — its day, how many members the meeting has, how many
//! came, how many agreed — and every case of that list still waiting at the
//! `village_resolution` step passes to the township's review, in one transaction with
//! the record, the sign-offs and the audit entry.
//!
//! What this module must never do: pass a case without a recorded resolution, take a
//! meeting that could not resolve (村民委员会组织法 第二十六条: 三分之二以上组成人员参加
//! 方可召开，所作决定应当经到会人员的过半数同意) as one, or let anyone but the village's
//! own team record it.

use super::notice;
use crate::audit::Actor;
use crate::auth::Caller;
use crate::clock::china_date;
use crate::db::{Db, sql};
use crate::error::{Kind, Refusal};
use crate::procedures::signing;
use crate::procedures::steps::Step;
use crate::records::server_edit::Written;
use chrono::{DateTime, NaiveDate, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most members a representatives' meeting is taken to have: far above any village's,
/// and inside the INTEGER column on both backends.
pub const MAX_MEMBERS: u32 = 10_000;
const MAX_NOTE_CHARS: usize = 1000;

/// What the village team records of the meeting.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewResolution {
    /// The meeting's day, YYYY-MM-DD (Beijing time): not before the notice was
    /// published, not after today.
    pub held_on: String,
    /// 村民代表会议组成人员: the representatives (and village committee members) the
    /// meeting has.
    pub members: u32,
    /// How many came.
    pub present: u32,
    /// How many agreed to the list going to the township.
    pub agreeing: u32,
    /// What else the minutes say.
    #[serde(default)]
    pub note: Option<String>,
}

/// A recorded resolution and the cases it passed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResolutionView {
    pub id: String,
    pub notice_id: String,
    pub region_code: String,
    pub held_on: String,
    pub members: i32,
    pub present: i32,
    pub agreeing: i32,
    pub note: Option<String>,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
    /// The cases this resolution sent on to the township's review.
    pub case_ids: Vec<String>,
}

#[derive(FromQueryResult)]
struct ResolutionRow {
    id: String,
    notice_id: String,
    region_code: String,
    held_on: String,
    members: i32,
    present: i32,
    agreeing: i32,
    note: Option<String>,
    recorded_by: String,
    created_at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct CaseRow {
    case_id: String,
}

/// Checks the meeting could resolve and the day is plausible; the day as given.
fn check(new: &NewResolution, published_on: Option<NaiveDate>, today: NaiveDate) -> Result<NaiveDate, Refusal> {
    let held_on = NaiveDate::parse_from_str(new.held_on.trim(), "%Y-%m-%d")
        .map_err(|_| Refusal::invalid(ErrorCode::InvalidDate))?;
    if held_on > today || published_on.is_some_and(|p| held_on < p) {
        return Err(Refusal::invalid(ErrorCode::InvalidDate));
    }
    if new.members == 0 || new.members > MAX_MEMBERS || new.present > new.members || new.agreeing > new.present {
        return Err(Refusal::invalid(ErrorCode::InvalidRequest));
    }
    if new.note.as_deref().is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(Refusal::invalid(ErrorCode::InvalidRequest));
    }
    // Two thirds of the members present, and more than half of those present agreeing.
    if new.present * 3 < new.members * 2 || new.agreeing * 2 <= new.present {
        return Err(Refusal::new(Kind::Rejected, ErrorCode::ResolutionNotCarried));
    }
    Ok(held_on)
}

/// Records the representatives' resolution on a closed village notice and passes its
/// waiting cases on. Only the village team of the notice's village may record it.
pub async fn record(
    db: &Db,
    caller: &Caller,
    notice_id: &str,
    new: NewResolution,
    now: DateTime<Utc>,
) -> Result<ResolutionView, Refusal> {
    let txn = db.begin_write().await?;
    let row = notice::load_by(&*txn, "id", notice_id).await?.ok_or_else(Refusal::not_found)?;
    let Some(grant) = notice::grant_for(caller, Step::VillageResolution, &row.region_code) else {
        return Err(if caller.reads_region(&row.region_code) { Refusal::forbidden() } else { Refusal::out_of_scope() });
    };
    if row.step != Step::VillageNotice || row.status != "closed" {
        return Err(Refusal::conflict(ErrorCode::ResolutionNotDue));
    }
    let held_on = check(&new, row.published_at.map(china_date), china_date(now))?;
    let cases = CaseRow::find_by_statement(sql(
        txn.get_database_backend(),
        "SELECT nc.case_id FROM notice_case nc JOIN procedure_case c ON c.id = nc.case_id \
         WHERE nc.notice_id = ? AND nc.status = 'advanced' AND c.status = 'open' AND c.step = ? \
         ORDER BY nc.position",
        vec![notice_id.into(), Step::VillageResolution.code().into()],
    ))
    .all(&*txn)
    .await?;
    if cases.is_empty() {
        return Err(Refusal::conflict(ErrorCode::ResolutionNotDue));
    }
    let id = Uuid::new_v4().to_string();
    let note = new.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "INSERT INTO village_resolution (id, notice_id, region_code, held_on, members, present, agreeing, note, \
         recorded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            id.as_str().into(),
            notice_id.into(),
            row.region_code.as_str().into(),
            held_on.format("%Y-%m-%d").to_string().into(),
            (new.members as i32).into(),
            (new.present as i32).into(),
            (new.agreeing as i32).into(),
            note.clone().into(),
            caller.user_id.as_str().into(),
            now.into(),
        ],
    ))
    .await?;
    let summary = format!(
        "村民代表会决议（{}）：组成人员{}人，到会{}人，同意{}人（{} {}）",
        held_on.format("%Y-%m-%d"),
        new.members,
        new.present,
        new.agreeing,
        row.title,
        row.id
    );
    let mut written = Written::default();
    for CaseRow { case_id } in &cases {
        written.extend(signing::pass_resolution(&txn, caller, &grant, case_id, summary.clone()).await?);
    }
    signing::record_written(&txn, written).await?;
    let entry = crate::audit::AuditEntry {
        note: Some(format!("{summary}; {} cases to the township", cases.len())),
        ..Actor::of(caller).audit("village_resolution", "village_resolution", &id)
    };
    crate::audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    let mut views = of_notice_rows(&db.conn, notice_id).await?;
    views.retain(|v| v.id == id);
    let mut view = views.pop().ok_or_else(Refusal::not_found)?;
    view.case_ids = cases.into_iter().map(|c| c.case_id).collect();
    Ok(view)
}

/// The resolutions recorded on a notice the caller reads, oldest first.
pub async fn of_notice(db: &Db, caller: &Caller, notice_id: &str) -> Result<Vec<ResolutionView>, Refusal> {
    notice::readable(db, caller, notice_id).await?;
    let mut views = of_notice_rows(&db.conn, notice_id).await?;
    for view in &mut views {
        view.case_ids = passed_by(&db.conn, &view.notice_id).await?;
    }
    Ok(views)
}

async fn of_notice_rows(conn: &impl ConnectionTrait, notice_id: &str) -> Result<Vec<ResolutionView>, Refusal> {
    let rows = ResolutionRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT id, notice_id, region_code, held_on, members, present, agreeing, note, recorded_by, created_at \
         FROM village_resolution WHERE notice_id = ? ORDER BY created_at, id",
        vec![notice_id.into()],
    ))
    .all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ResolutionView {
            id: r.id,
            notice_id: r.notice_id,
            region_code: r.region_code,
            held_on: r.held_on,
            members: r.members,
            present: r.present,
            agreeing: r.agreeing,
            note: r.note,
            recorded_by: r.recorded_by,
            created_at: r.created_at,
            case_ids: Vec::new(),
        })
        .collect())
}

/// The notice's cases with a `village_resolution` approval (the sign-offs name the
/// notice in their comment; a case returned and listed again carries a later one).
async fn passed_by(conn: &impl ConnectionTrait, notice_id: &str) -> Result<Vec<String>, Refusal> {
    let rows = CaseRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT nc.case_id FROM notice_case nc WHERE nc.notice_id = ? AND EXISTS \
         (SELECT 1 FROM case_signoff s WHERE s.case_id = nc.case_id AND s.step = ? AND s.decision = 'approve' \
         AND s.comment LIKE ?) ORDER BY nc.position",
        vec![notice_id.into(), Step::VillageResolution.code().into(), format!("%{notice_id}%").into()],
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.case_id).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(members: u32, present: u32, agreeing: u32) -> NewResolution {
        NewResolution { held_on: "2026-11-20".into(), members, present, agreeing, note: None }
    }

    #[test]
    fn a_meeting_resolves_with_two_thirds_present_and_a_majority_of_them() {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
        let today = day("2026-11-21").expect("day");
        let published = day("2026-11-10");
        assert!(check(&new(30, 20, 11), published, today).is_ok());
        let code = |r: Result<NaiveDate, Refusal>| r.err().map(|e| e.code);
        assert_eq!(code(check(&new(30, 19, 19), published, today)), Some(ErrorCode::ResolutionNotCarried));
        assert_eq!(code(check(&new(30, 20, 10), published, today)), Some(ErrorCode::ResolutionNotCarried));
        assert_eq!(code(check(&new(30, 31, 20), published, today)), Some(ErrorCode::InvalidRequest));
        assert_eq!(code(check(&new(0, 0, 0), published, today)), Some(ErrorCode::InvalidRequest));
        assert_eq!(code(check(&new(30, 20, 21), published, today)), Some(ErrorCode::InvalidRequest));
        let future = NewResolution { held_on: "2026-11-22".into(), ..new(30, 20, 11) };
        assert_eq!(code(check(&future, published, today)), Some(ErrorCode::InvalidDate));
        let early = NewResolution { held_on: "2026-11-09".into(), ..new(30, 20, 11) };
        assert_eq!(code(check(&early, published, today)), Some(ErrorCode::InvalidDate));
    }
}
