//! Who may see and change which household (DESIGN §5: "only records in scope").
//!
//! Officers see the households assigned to them; every other role sees its region.
//! An officer whose assignment has ended (`FormerOfficer`) sees nothing of the household
//! and may do nothing online with it; only an edit the phone recorded offline before
//! the end still arrives, within a grace window after the end date
//! (`sync.former_officer_grace_days`), so a reassignment never loses field work but
//! never leaves a removed officer with lasting write access either.

use crate::auth::{Caller, Role};
use crate::db::{placeholders, sql};
use crate::error::Refusal;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use jingzhun_db::Rows;
use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Value};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    None,
    Read,
    /// Was assigned once: offline edits recorded before the end may still arrive.
    FormerOfficer,
    Edit,
}

impl Access {
    /// Online actions (deletes, new cases, uploads, conflict resolution, lead
    /// decisions) and anything else that is not a pushed offline edit.
    pub fn may_edit(self) -> bool {
        self.may_edit_online()
    }
    /// A current assignment, or edit rights over the household's region.
    pub fn may_edit_online(self) -> bool {
        matches!(self, Access::Edit)
    }
    /// Pushed offline edits: a former officer's too, subject to [`offline_edit_window`].
    pub fn may_edit_offline(self) -> bool {
        matches!(self, Access::Edit | Access::FormerOfficer)
    }
    pub fn may_read(self) -> bool {
        matches!(self, Access::Edit | Access::Read)
    }
    /// The refusal of an online action: `assignment_ended` for a former officer (so the
    /// phone can say why), `out_of_scope` otherwise. `None` when the action may go on.
    pub fn online_refusal(self) -> Option<ErrorCode> {
        match self {
            Access::Edit => None,
            Access::FormerOfficer => Some(ErrorCode::AssignmentEnded),
            Access::Read | Access::None => Some(ErrorCode::OutOfScope),
        }
    }
}

/// Checks an online action on a household (upload, lead decision, conflict
/// resolution…): 403 `assignment_ended` for a former officer, 403 `out_of_scope` for
/// anyone else who may not edit it.
pub async fn may_edit_online(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    household_id: &str,
    region_code: &str,
) -> Result<(), Refusal> {
    match household_access(conn, caller, household_id, region_code).await?.online_refusal() {
        None => Ok(()),
        Some(code) => Err(Refusal::new(crate::error::Kind::Forbidden, code)),
    }
}

/// Whether a former officer's offline edit may still be applied: it was recorded on
/// or before the assignment's end date and it arrives within `grace_days` after that
/// date. Times are UTC, as the end date is written.
///
/// `recorded_at` is what the phone says (an older app sends nothing: then only the
/// arrival counts). It cannot be trusted, so the grace window is what bounds a former
/// officer's writes; a time in the future counts as the arrival.
pub fn offline_edit_window(
    end_date: NaiveDate,
    recorded_at: Option<DateTime<Utc>>,
    arrived_at: DateTime<Utc>,
    grace_days: i64,
) -> Result<(), ErrorCode> {
    let last_day_in_window = end_date + Duration::days(grace_days.max(0));
    if arrived_at.date_naive() > last_day_in_window {
        return Err(ErrorCode::AssignmentEnded);
    }
    if let Some(recorded) = recorded_at {
        let recorded = recorded.min(arrived_at);
        if recorded.date_naive() > end_date {
            return Err(ErrorCode::AssignmentEnded);
        }
    }
    Ok(())
}

/// The day the caller's latest assignment to each of these households ended (for
/// households the caller is no longer assigned to).
pub async fn assignment_end_dates(
    conn: &impl Rows,
    officer_id: &str,
    household_ids: &[String],
) -> Result<HashMap<String, NaiveDate>, DbErr> {
    let backend = conn.backend();
    // As text on both backends (a SQLite date is text already).
    let end_date =
        if backend == DbBackend::Postgres { "to_char(MAX(end_date), 'YYYY-MM-DD')" } else { "MAX(end_date)" };
    let mut out = HashMap::new();
    for chunk in household_ids.chunks(500) {
        let text = format!(
            "SELECT household_id, {end_date} FROM assignment WHERE officer_id = ? AND end_date IS NOT NULL \
             AND household_id IN ({}) GROUP BY household_id",
            placeholders(chunk.len())
        );
        let mut values: Vec<Value> = vec![officer_id.into()];
        values.extend(chunk.iter().map(|id| Value::from(id.as_str())));
        let rows = conn.read(sql(backend, &text, values), |row| Ok((row.text_at(0)?, row.text_at(1)?))).await?;
        for (household, end) in rows {
            let end = end.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            if let (Some(household), Some(end)) = (household, end) {
                out.insert(household, end);
            }
        }
    }
    Ok(out)
}

/// How the caller may touch a household in `region_code`.
pub async fn household_access(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    household_id: &str,
    region_code: &str,
) -> Result<Access, DbErr> {
    let households = [(household_id.to_owned(), region_code.to_owned())];
    Ok(households_access(conn, caller, &households).await?.remove(household_id).unwrap_or(Access::None))
}

/// How the caller may touch each of these (household id, village code) pairs, with one
/// assignment query for all of them.
pub async fn households_access(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    households: &[(String, String)],
) -> Result<HashMap<String, Access>, DbErr> {
    let asks: Vec<(&Caller, &str, &str)> =
        households.iter().map(|(id, region)| (caller, id.as_str(), region.as_str())).collect();
    Ok(many_callers_access(conn, &asks)
        .await?
        .into_iter()
        .map(|((_, household), access)| (household, access))
        .collect())
}

/// How each caller may touch each household (caller, household id, village code), keyed
/// by (user id, household id): one assignment query for a whole group of pushes from
/// many officers, instead of one per officer.
pub async fn many_callers_access(
    conn: &impl Rows,
    asks: &[(&Caller, &str, &str)],
) -> Result<HashMap<(String, String), Access>, DbErr> {
    let mut access = HashMap::with_capacity(asks.len());
    let mut officer_asks: Vec<(&str, &str)> = Vec::new();
    for (caller, household, region) in asks {
        let a = if caller.edits_region(region) {
            Access::Edit
        } else if caller.reads_region(region) {
            Access::Read
        } else {
            Access::None
        };
        if a != Access::Edit && caller.has_role(Role::Officer) {
            officer_asks.push((caller.user_id.as_str(), household));
        }
        access.insert((caller.user_id.clone(), (*household).to_owned()), a);
    }
    officer_asks.sort_unstable();
    officer_asks.dedup();
    // Officers and households each in an IN list: the rows of pairs nobody asked
    // about are dropped here (a group's officers rarely share households).
    for chunk in officer_asks.chunks(400) {
        let mut officers: Vec<&str> = chunk.iter().map(|(o, _)| *o).collect();
        officers.sort_unstable();
        officers.dedup();
        // `ended` is 0 while one of the officer's assignments to the household is open.
        let text = format!(
            "SELECT officer_id, household_id, CAST(MIN(CASE WHEN end_date IS NULL THEN 0 ELSE 1 END) AS BIGINT) \
             FROM assignment WHERE officer_id IN ({}) AND household_id IN ({}) GROUP BY officer_id, household_id",
            placeholders(officers.len()),
            placeholders(chunk.len())
        );
        let mut values: Vec<Value> = officers.iter().map(|o| Value::from(*o)).collect();
        values.extend(chunk.iter().map(|(_, h)| Value::from(*h)));
        let rows = conn
            .read(sql(conn.backend(), &text, values), |row| {
                Ok((row.text_at(0)?.unwrap_or_default(), row.text_at(1)?.unwrap_or_default(), row.i64_at(2)?))
            })
            .await?;
        for (officer, household, ended) in rows {
            let Some(entry) = access.get_mut(&(officer, household)) else { continue };
            match ended {
                Some(0) => *entry = Access::Edit,
                Some(_) if *entry == Access::None => *entry = Access::FormerOfficer,
                _ => {}
            }
        }
    }
    Ok(access)
}

/// The village of each of these households (absent: no such household), in a few
/// queries however many there are: their ids and villages only, not whole records.
pub async fn household_regions(conn: &impl Rows, household_ids: &[String]) -> Result<HashMap<String, String>, DbErr> {
    let mut ids = household_ids.to_vec();
    ids.sort();
    ids.dedup();
    let backend = conn.backend();
    let mut out = HashMap::with_capacity(ids.len());
    // Bounded IN lists, as `records::load_many`'s.
    for chunk in ids.chunks(1000) {
        let text = format!(
            "SELECT \"id\", \"region_code\" FROM \"{}\" WHERE \"id\" IN ({})",
            jingzhun_mobile_api::fields::HOUSEHOLD.table,
            placeholders(chunk.len())
        );
        let values = chunk.iter().map(|id| Value::from(id.as_str())).collect();
        let rows = conn.read(sql(backend, &text, values), |row| Ok((row.text_at(0)?, row.text_at(1)?))).await?;
        for (id, region) in rows {
            out.insert(id.unwrap_or_default(), region.unwrap_or_default());
        }
    }
    Ok(out)
}

/// The village of one household (None: no such household).
pub async fn household_region(conn: &impl ConnectionTrait, household_id: &str) -> Result<Option<String>, DbErr> {
    Ok(household_regions(conn, &[household_id.to_owned()]).await?.remove(household_id))
}

/// The caller's access to each of these households, by id (unknown ones absent).
pub async fn access_by_id(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    household_ids: &[String],
) -> Result<HashMap<String, Access>, DbErr> {
    let pairs: Vec<(String, String)> = household_regions(conn, household_ids).await?.into_iter().collect();
    households_access(conn, caller, &pairs).await
}

/// A SQL condition selecting households in the caller's read scope, with its values.
/// `id_col` names the household id column and `region_col` its village code column.
/// Regions are ranges of codes ([`region_condition`]), which an index on the column can
/// walk; a `LIKE 'prefix%'` is walked by neither backend's default index.
pub fn households_condition(caller: &Caller, id_col: &str, region_col: &str) -> (String, Vec<Value>) {
    let mut parts = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    for prefix in caller.read_prefixes() {
        parts.push(region_condition(region_col, prefix, &mut values));
    }
    if caller.has_role(Role::Officer) {
        parts.push(format!(
            "{id_col} IN (SELECT household_id FROM assignment WHERE officer_id = ? AND end_date IS NULL)"
        ));
        values.push(caller.user_id.as_str().into());
    }
    if parts.is_empty() {
        return ("1 = 0".to_owned(), values);
    }
    (format!("({})", parts.join(" OR ")), values)
}

/// The longest region code (a village): a prefix this long names one code.
const VILLAGE_CODE_LEN: usize = 12;

/// A SQL condition selecting the codes in `column` that start with `prefix`, as an index
/// range: `= code` for a whole village code, `>= prefix AND < next` for a county or
/// township, where `next` is the prefix counted up by one (`320102` → `320103`, `3299`
/// → `33`), so the range holds exactly the digit strings that start with the prefix on
/// either backend and under any collation that orders digits. Pushes its values.
pub fn region_condition(column: &str, prefix: &str, values: &mut Vec<Value>) -> String {
    if prefix.is_empty() {
        return format!("{column} IS NOT NULL");
    }
    if !prefix.bytes().all(|b| b.is_ascii_digit()) {
        // Not a region code: no range is safe to compute, keep the plain match.
        values.push(format!("{prefix}%").into());
        return format!("{column} LIKE ?");
    }
    if prefix.len() >= VILLAGE_CODE_LEN {
        values.push(prefix.to_owned().into());
        return format!("{column} = ?");
    }
    values.push(prefix.to_owned().into());
    match next_prefix(prefix) {
        Some(next) => {
            values.push(next.into());
            format!("({column} >= ? AND {column} < ?)")
        }
        // All nines: nothing above bounds it but the prefix itself.
        None => {
            values.push(format!("{prefix}%").into());
            format!("({column} >= ? AND {column} LIKE ?)")
        }
    }
}

/// The smallest digit string above every string starting with `prefix` (digits only),
/// or None when the prefix is all nines.
fn next_prefix(prefix: &str) -> Option<String> {
    let kept = prefix.trim_end_matches('9');
    let last = kept.bytes().last()?;
    let mut next = kept[..kept.len() - 1].to_owned();
    next.push(char::from(last + 1));
    Some(next)
}

/// Whose change-log rows a pull reads, each part an index range of the log: the
/// officer's current households (`change_log_household`), the regions read
/// (`change_log_region`) and the user's own scope events (`change_log_target`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogScope {
    /// The user whose `enter`/`evict` events are read.
    pub user_id: String,
    /// Reads the households assigned to `user_id` now.
    pub officer: bool,
    /// Region prefixes read, none inside another (a row would come twice).
    pub prefixes: Vec<String>,
}

impl LogScope {
    pub fn of(caller: &Caller) -> LogScope {
        let mut prefixes: Vec<String> = caller.read_prefixes().into_iter().map(str::to_owned).collect();
        prefixes.sort();
        prefixes.dedup();
        // Sorted, a prefix comes right after any prefix of it that is kept.
        let mut kept: Vec<String> = Vec::new();
        for p in prefixes {
            if !kept.iter().any(|k| p.starts_with(k.as_str())) {
                kept.push(p);
            }
        }
        LogScope { user_id: caller.user_id.clone(), officer: caller.has_role(Role::Officer), prefixes: kept }
    }
}

/// A SQL condition selecting the notices the caller reads, over the notice table under
/// `alias`, with its values: those in the regions they read, and a notice above them (a
/// township notice seen from its villages) once published, for a draft stays with its
/// level and above (`notices::notice::readable` says the same of one notice). `None` for
/// a caller who reads no region. Here, below both, because the notices' lists and the
/// attachments' download of a posting photo ask the same question.
pub fn notices_condition(caller: &Caller, alias: &str) -> Option<(String, Vec<Value>)> {
    let prefixes = caller.read_prefixes();
    if prefixes.is_empty() {
        return None;
    }
    let mut values: Vec<Value> = Vec::new();
    let mut scope = Vec::new();
    for prefix in prefixes {
        scope.push(format!(
            "({alias}.region_prefix LIKE ? OR ({alias}.status <> 'draft' AND ? LIKE {alias}.region_prefix || '%'))"
        ));
        values.push(format!("{prefix}%").into());
        values.push(prefix.to_owned().into());
    }
    Some((format!("({})", scope.join(" OR ")), values))
}

/// Number of households in the caller's scope.
pub async fn scope_size(conn: &impl ConnectionTrait, caller: &Caller) -> Result<i64, DbErr> {
    let (cond, values) = households_condition(caller, "id", "region_code");
    let backend = conn.get_database_backend();
    let n = crate::db::query_scalar_i64(
        conn,
        sql(backend, &format!("SELECT COUNT(*) FROM household WHERE {cond}"), values),
    )
    .await?;
    Ok(n.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn a_former_officers_offline_edit_counts_only_if_recorded_by_the_end_and_sent_within_the_window() {
        let end = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
        let ok = offline_edit_window(end, Some(at("2026-11-30T09:00:00Z")), at("2026-12-10T08:00:00Z"), 14);
        assert_eq!(ok, Ok(()));
        // On the end day itself: the day is the end's granularity.
        assert_eq!(offline_edit_window(end, Some(at("2026-12-01T23:00:00Z")), at("2026-12-02T08:00:00Z"), 14), Ok(()));
        // Recorded after the end.
        assert_eq!(
            offline_edit_window(end, Some(at("2026-12-02T00:10:00Z")), at("2026-12-02T08:00:00Z"), 14),
            Err(ErrorCode::AssignmentEnded)
        );
        // Arrived after the window, however early it claims to be.
        assert_eq!(
            offline_edit_window(end, Some(at("2026-11-01T09:00:00Z")), at("2026-12-16T00:00:01Z"), 14),
            Err(ErrorCode::AssignmentEnded)
        );
        assert_eq!(offline_edit_window(end, None, at("2026-12-15T23:59:00Z"), 14), Ok(()));
        // A time in the future is the arrival.
        assert_eq!(
            offline_edit_window(end, Some(at("2030-01-01T00:00:00Z")), at("2026-12-03T00:00:00Z"), 14),
            Err(ErrorCode::AssignmentEnded)
        );
        assert_eq!(offline_edit_window(end, None, at("2026-12-02T00:00:00Z"), 0), Err(ErrorCode::AssignmentEnded));
    }

    #[test]
    fn a_region_prefix_is_a_range_of_exactly_its_codes() {
        assert_eq!(next_prefix("320102").as_deref(), Some("320103"));
        assert_eq!(next_prefix("3201029").as_deref(), Some("320103"));
        assert_eq!(next_prefix("3299").as_deref(), Some("33"));
        assert_eq!(next_prefix("999"), None);
        let inside = |prefix: &str, code: &str| {
            let next = next_prefix(prefix);
            code >= prefix && next.as_deref().is_none_or(|n| code < n)
        };
        for code in ["320102", "320102001", "320102001001", "320102999999"] {
            assert!(inside("320102", code), "{code}");
        }
        for code in ["320101999999", "320103", "320103000001", "32010", "3201"] {
            assert!(!inside("320102", code), "{code}");
        }
        let mut values = Vec::new();
        assert_eq!(region_condition("c", "320102001001", &mut values), "c = ?");
        assert_eq!(region_condition("c", "320102", &mut values), "(c >= ? AND c < ?)");
        assert_eq!(values.len(), 3);
    }

    #[test]
    fn only_a_current_editor_acts_online() {
        assert_eq!(Access::Edit.online_refusal(), None);
        assert_eq!(Access::FormerOfficer.online_refusal(), Some(ErrorCode::AssignmentEnded));
        assert_eq!(Access::Read.online_refusal(), Some(ErrorCode::OutOfScope));
        assert!(!Access::FormerOfficer.may_edit() && Access::FormerOfficer.may_edit_offline());
        assert!(!Access::FormerOfficer.may_read());
    }
}
