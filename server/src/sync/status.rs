//! A device's sync state, as a phone asks for it before and after syncing: the last
//! change set of this device that was applied, the open conflicts in the caller's
//! scope, the device's rejected change sets, the size of its scope and whether a pull
//! now would miss a commit being made visible. Read only.

use crate::auth::Caller;
use crate::db::{Db, count, sql};
use crate::records::{changelog, scope};
use chrono::{DateTime, Utc};
use jingzhun_mobile_api::wire::SyncStatus;
use sea_orm::{DbErr, FromQueryResult};
use uuid::Uuid;

#[derive(FromQueryResult)]
struct LastApplied {
    changeset_id: String,
    received_at: DateTime<Utc>,
}

pub async fn of(db: &Db, caller: &Caller) -> Result<SyncStatus, DbErr> {
    let conn = &db.conn;
    let last = LastApplied::find_by_statement(sql(
        db.backend(),
        "SELECT changeset_id, received_at FROM changeset_receipt WHERE device_id = ? AND status = 'applied' ORDER BY received_at DESC LIMIT 1",
        vec![caller.device_id.as_str().into()],
    ))
    .one(conn)
    .await?;
    // Conflicts carry their household only: its village is read through it.
    let (cond, values) = scope::households_condition(
        caller,
        "household_id",
        "(SELECT region_code FROM household h WHERE h.id = household_id)",
    );
    let open_conflicts =
        count(conn, &format!("SELECT COUNT(*) FROM sync_conflict WHERE status = 'open' AND {cond}"), values).await?;
    let rejected = count(
        conn,
        "SELECT COUNT(*) FROM changeset_receipt WHERE device_id = ? AND status = 'rejected'",
        vec![caller.device_id.as_str().into()],
    )
    .await?;
    let fresh = changelog::freshness(conn).await?;
    Ok(SyncStatus {
        last_applied_changeset: last.as_ref().and_then(|l| Uuid::parse_str(&l.changeset_id).ok()),
        last_applied_at: last.map(|l| l.received_at.to_rfc3339()),
        open_conflicts,
        rejected_changesets: rejected,
        scope_households: scope::scope_size(conn, caller).await?,
        server_time: Utc::now().to_rfc3339(),
        behind: fresh.behind,
        retry_after: fresh.retry_after,
    })
}
