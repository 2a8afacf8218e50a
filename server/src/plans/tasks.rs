//! Plan tasks past their due date and not done: what a supervisor chases, by village
//! and responsible officer (DESIGN §1: supervisors see progress; C7: say what is behind
//! and where).

use crate::db::sql;
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::Serialize;

/// The most tasks one answer lists. Most overdue first, so what a cap leaves out is the
/// least late.
pub const MAX_OVERDUE_TASKS: u64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OverdueTask {
    pub task_id: String,
    pub plan_id: String,
    pub household_id: String,
    pub title: String,
    #[schema(value_type = String, format = Date)]
    pub due_date: NaiveDate,
    /// Whole days from the due date to today.
    pub days_overdue: i64,
    /// The household's village.
    pub region_code: String,
    pub village_name: Option<String>,
    /// The responsible officer (责任人), if the task names one.
    pub officer_id: Option<String>,
    pub officer_name: Option<String>,
    pub progress_note: Option<String>,
}

/// A task as [`overdue_tasks`] reads it; the due date is the stored `YYYY-MM-DD` text.
#[derive(FromQueryResult)]
struct OverdueRow {
    id: String,
    plan_id: String,
    household_id: String,
    title: String,
    due_date: String,
    region_code: String,
    village_name: Option<String>,
    officer_id: Option<String>,
    officer_name: Option<String>,
    progress_note: Option<String>,
}

/// Tasks of the households `condition` selects that are neither ticked done nor dated
/// done, due before `today`; most overdue first.
///
/// `condition` is SQL over the household aliased `h` (`h.id`, `h.region_code`) with its
/// values, as `crate::records::scope::households_condition(caller, "h.id", "h.region_code")`
/// makes it, possibly narrowed further by the caller.
pub async fn overdue_tasks(
    conn: &impl ConnectionTrait,
    condition: (String, Vec<Value>),
    today: NaiveDate,
) -> Result<Vec<OverdueTask>, DbErr> {
    let (condition, mut values) = condition;
    let text = format!(
        "SELECT t.id, t.plan_id, t.household_id, t.title, t.due_date, h.region_code, r.name AS village_name, t.officer_id, u.name AS officer_name, t.progress_note \
         FROM plan_task t JOIN household h ON h.id = t.household_id \
         LEFT JOIN region r ON r.code = h.region_code LEFT JOIN app_user u ON u.id = t.officer_id \
         WHERE {condition} AND (t.done IS NULL OR t.done = ?) AND t.done_on IS NULL AND t.due_date < ? \
         ORDER BY t.due_date, h.region_code, t.household_id, t.id LIMIT ?"
    );
    values.push(false.into());
    // Dates are stored `YYYY-MM-DD`, so text order is date order.
    values.push(today.format("%Y-%m-%d").to_string().into());
    values.push((MAX_OVERDUE_TASKS as i64).into());
    let rows = OverdueRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    let mut tasks = Vec::with_capacity(rows.len());
    for row in rows {
        // A stored date is validated on the way in; a malformed one cannot be measured.
        let Ok(due_date) = NaiveDate::parse_from_str(&row.due_date, "%Y-%m-%d") else { continue };
        tasks.push(OverdueTask {
            task_id: row.id,
            plan_id: row.plan_id,
            household_id: row.household_id,
            title: row.title,
            due_date,
            days_overdue: (today - due_date).num_days(),
            region_code: row.region_code,
            village_name: row.village_name,
            officer_id: row.officer_id,
            officer_name: row.officer_name,
            progress_note: row.progress_note,
        });
    }
    Ok(tasks)
}
