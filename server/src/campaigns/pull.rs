//! Campaign progress as a pulled side entity (`crate::records::side::CAMPAIGN_PROGRESS`):
//! the last stored progress of one milestone over one region, read-only on the phone.
//! Supervisors (and township and county teams) get the rows of the regions they read.

use crate::auth::Caller;
use crate::db::sql;
use crate::records::side::SideRecord;
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Value};
use serde_json::json;

const SELECT: &str = "SELECT p.id, p.version, p.campaign_id, c.name, p.milestone_id, m.name, m.due_on, m.measure, \
     m.target_percent, p.region_code, r.name, p.level, p.done, p.total, p.share_permille, p.expected_permille, \
     p.lagging, m.starts_on \
     FROM campaign_progress p JOIN milestone m ON m.id = p.milestone_id JOIN campaign c ON c.id = p.campaign_id \
     LEFT JOIN region r ON r.code = p.region_code";

fn record(row: &QueryResult) -> Result<SideRecord, DbErr> {
    let share: i32 = row.try_get_by_index(14)?;
    let expected: i32 = row.try_get_by_index(15)?;
    let target: i32 = row.try_get_by_index(8)?;
    Ok(SideRecord {
        id: row.try_get_by_index(0)?,
        version: row.try_get_by_index(1)?,
        data: json!({
            "campaign_id": row.try_get_by_index::<String>(2)?,
            "campaign_name": row.try_get_by_index::<String>(3)?,
            "milestone_id": row.try_get_by_index::<String>(4)?,
            "milestone_name": row.try_get_by_index::<String>(5)?,
            "starts_on": row.try_get_by_index::<Option<String>>(17)?,
            "due_on": row.try_get_by_index::<String>(6)?,
            "measure": row.try_get_by_index::<String>(7)?,
            "target_percent": target,
            "region_code": row.try_get_by_index::<String>(9)?,
            "region_name": row.try_get_by_index::<Option<String>>(10)?,
            "level": row.try_get_by_index::<String>(11)?,
            "done": row.try_get_by_index::<i64>(12)?,
            "total": row.try_get_by_index::<i64>(13)?,
            "share_percent": f64::from(share) / 10.0,
            "expected_percent": f64::from(expected) / 10.0,
            "lagging": row.try_get_by_index::<bool>(16)?,
            "reached": share >= target * 10,
        }),
    })
}

/// The current state of these progress rows (for log upserts).
pub async fn pull_records(conn: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<SideRecord>, DbErr> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let text = format!("{SELECT} WHERE p.id IN ({}) ORDER BY p.id", crate::db::placeholders(chunk.len()));
        let values = chunk.iter().map(|id| Value::from(id.as_str())).collect();
        for row in conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await? {
            out.push(record(&row)?);
        }
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
    let rows = conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await?;
    rows.iter().map(record).collect()
}
