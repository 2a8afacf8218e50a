//! Campaign progress as a pulled side entity (`crate::records::side::CAMPAIGN_PROGRESS`):
//! the last stored progress of one milestone over one region, read-only on the phone.
//! Supervisors (and township and county teams) get the rows of the regions they read.
//!
//! What this module must never do: write, or hand a row outside the caller's regions.

use crate::auth::Caller;
use crate::db::sql;
use crate::records::side::SideRecord;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde_json::json;

/// Columns named by what they are: three tables have a `name`.
const SELECT: &str = "SELECT p.id, p.version, p.campaign_id, c.name AS campaign_name, p.milestone_id, \
     m.name AS milestone_name, m.due_on, m.measure, m.target_percent, p.region_code, r.name AS region_name, p.level, \
     p.done, p.total, p.share_permille, p.expected_permille, p.lagging, m.starts_on \
     FROM campaign_progress p JOIN milestone m ON m.id = p.milestone_id JOIN campaign c ON c.id = p.campaign_id \
     LEFT JOIN region r ON r.code = p.region_code";

#[derive(FromQueryResult)]
struct ProgressRow {
    id: String,
    version: i64,
    campaign_id: String,
    campaign_name: String,
    milestone_id: String,
    milestone_name: String,
    due_on: String,
    measure: String,
    target_percent: i32,
    region_code: String,
    region_name: Option<String>,
    level: String,
    done: i64,
    total: i64,
    share_permille: i32,
    expected_permille: i32,
    lagging: bool,
    starts_on: Option<String>,
}

fn record(row: ProgressRow) -> SideRecord {
    let (share, expected, target) = (row.share_permille, row.expected_permille, row.target_percent);
    SideRecord {
        id: row.id,
        version: row.version,
        data: json!({
            "campaign_id": row.campaign_id,
            "campaign_name": row.campaign_name,
            "milestone_id": row.milestone_id,
            "milestone_name": row.milestone_name,
            "starts_on": row.starts_on,
            "due_on": row.due_on,
            "measure": row.measure,
            "target_percent": target,
            "region_code": row.region_code,
            "region_name": row.region_name,
            "level": row.level,
            "done": row.done,
            "total": row.total,
            "share_percent": f64::from(share) / 10.0,
            "expected_percent": f64::from(expected) / 10.0,
            "lagging": row.lagging,
            "reached": share >= target * 10,
        }),
    }
}

/// The current state of these progress rows (for log upserts).
pub async fn pull_records(conn: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<SideRecord>, DbErr> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let text = format!("{SELECT} WHERE p.id IN ({}) ORDER BY p.id", crate::db::placeholders(chunk.len()));
        let values = chunk.iter().map(|id| Value::from(id.as_str())).collect();
        let rows = ProgressRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
        out.extend(rows.into_iter().map(record));
    }
    Ok(out)
}

/// What a first pull holds: the progress rows of active campaigns in the regions the
/// caller reads as a whole (officers read none).
pub async fn pull_snapshot(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<SideRecord>, DbErr> {
    let prefixes = caller.read_prefixes();
    if prefixes.is_empty() {
        return Ok(Vec::new());
    }
    let cond: Vec<&str> = prefixes.iter().map(|_| "p.region_code LIKE ?").collect();
    let mut values: Vec<Value> = vec!["active".into()];
    values.extend(prefixes.iter().map(|p| Value::from(format!("{p}%"))));
    let text = format!("{SELECT} WHERE c.status = ? AND ({}) ORDER BY p.id LIMIT 20000", cond.join(" OR "));
    let rows = ProgressRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    Ok(rows.into_iter().map(record).collect())
}
