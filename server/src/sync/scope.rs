//! Who may see and change which household (DESIGN §5: "only records in scope").
//!
//! Officers see the households assigned to them; every other role sees its region.
//! A change made offline while a household was assigned stays acceptable after the
//! assignment ends (`FormerOfficer`), so a reassignment never loses field work.

use crate::auth::{Caller, Role};
use crate::db::sql;
use sea_orm::{ConnectionTrait, DbErr, Value};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    None,
    Read,
    /// Was assigned once; offline edits from then are still accepted.
    FormerOfficer,
    Edit,
}

impl Access {
    pub fn may_edit(self) -> bool {
        matches!(self, Access::Edit | Access::FormerOfficer)
    }
    pub fn may_read(self) -> bool {
        matches!(self, Access::Edit | Access::Read)
    }
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
    let mut access: HashMap<String, Access> = households
        .iter()
        .map(|(id, region)| {
            let a = if caller.edits_region(region) {
                Access::Edit
            } else if caller.reads_region(region) {
                Access::Read
            } else {
                Access::None
            };
            (id.clone(), a)
        })
        .collect();
    let officer_asks: Vec<&String> =
        households.iter().filter(|(id, _)| access.get(id) != Some(&Access::Edit)).map(|(id, _)| id).collect();
    if !caller.has_role(Role::Officer) || officer_asks.is_empty() {
        return Ok(access);
    }
    for chunk in officer_asks.chunks(500) {
        let text = format!(
            "SELECT household_id, MIN(CASE WHEN end_date IS NULL THEN 0 ELSE 1 END) FROM assignment \
             WHERE officer_id = ? AND household_id IN ({}) GROUP BY household_id",
            crate::db::placeholders(chunk.len())
        );
        let mut values: Vec<Value> = vec![caller.user_id.as_str().into()];
        values.extend(chunk.iter().map(|id| Value::from(id.as_str())));
        for row in conn.query_all_raw(sql(conn.get_database_backend(), &text, values)).await? {
            let id: String = row.try_get_by_index(0)?;
            let ended: Option<i32> = row.try_get_by_index(1)?;
            let entry = access.entry(id).or_insert(Access::None);
            match ended {
                Some(0) => *entry = Access::Edit,
                Some(_) if *entry == Access::None => *entry = Access::FormerOfficer,
                _ => {}
            }
        }
    }
    Ok(access)
}

/// A SQL condition selecting households in the caller's read scope, with its values.
/// `id_col` names the household id column and `region_col` its village code column.
pub fn households_condition(caller: &Caller, id_col: &str, region_col: &str) -> (String, Vec<Value>) {
    let mut parts = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    for prefix in caller.read_prefixes() {
        parts.push(format!("{region_col} LIKE ?"));
        values.push(format!("{prefix}%").into());
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
