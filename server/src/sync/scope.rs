//! Who may see and change which household (DESIGN §5: "only records in scope").
//!
//! Officers see the households assigned to them; every other role sees its region.
//! A change made offline while a household was assigned stays acceptable after the
//! assignment ends (`FormerOfficer`), so a reassignment never loses field work.

use crate::auth::{Caller, Role};
use crate::db::sql;
use sea_orm::{ConnectionTrait, DbErr, Value};

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
    if caller.edits_region(region_code) {
        return Ok(Access::Edit);
    }
    let mut access = if caller.reads_region(region_code) { Access::Read } else { Access::None };
    if caller.has_role(Role::Officer) {
        let backend = conn.get_database_backend();
        let row = conn
            .query_one_raw(sql(
                backend,
                "SELECT MIN(CASE WHEN end_date IS NULL THEN 0 ELSE 1 END) FROM assignment WHERE officer_id = ? AND household_id = ?",
                vec![caller.user_id.as_str().into(), household_id.into()],
            ))
            .await?;
        match row.map(|r| r.try_get_by_index::<Option<i32>>(0)).transpose()?.flatten() {
            Some(0) => access = Access::Edit,
            Some(_) if access == Access::None => access = Access::FormerOfficer,
            _ => {}
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
