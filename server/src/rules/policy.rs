//! Stored regional rule variants (`crate::domain::policy::RulePolicy`): the most
//! specific region prefix wins; a region with none uses the baseline. Seeded on an
//! empty table with the variants the seed documents state.

use crate::audit::{self, AuditEntry};
use crate::auth::Caller;
use crate::db::{Db, sql};
use crate::domain::policy::RulePolicy;
use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr};

pub struct StoredPolicy {
    pub region_prefix: String,
    pub policy: RulePolicy,
    pub source: String,
}

pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<StoredPolicy>, DbErr> {
    let rows = conn
        .query_all_raw(sql(
            conn.get_database_backend(),
            "SELECT region_prefix, policy, source FROM rule_policy ORDER BY region_prefix",
            vec![],
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let region_prefix: String = row.try_get_by_index(0)?;
        let text: String = row.try_get_by_index(1)?;
        match serde_json::from_str(&text) {
            Ok(policy) => out.push(StoredPolicy { region_prefix, policy, source: row.try_get_by_index(2)? }),
            // Written through `set`, so this means a hand edit: say so, and skip it.
            Err(err) => tracing::error!(%region_prefix, %err, "unreadable rule policy ignored"),
        }
    }
    Ok(out)
}

/// The policy for a village: the longest stored prefix of its code, else the baseline.
pub async fn for_region(conn: &impl ConnectionTrait, region_code: &str) -> Result<RulePolicy, DbErr> {
    Ok(all(conn)
        .await?
        .into_iter()
        .filter(|p| region_code.starts_with(&p.region_prefix))
        .max_by_key(|p| p.region_prefix.len())
        .map_or_else(RulePolicy::baseline, |p| p.policy))
}

pub async fn set(
    db: &Db,
    caller: &Caller,
    region_prefix: &str,
    policy: &RulePolicy,
    source: &str,
) -> Result<(), DbErr> {
    let text = serde_json::to_string(policy).map_err(|e| DbErr::Custom(e.to_string()))?;
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    txn.execute_raw(sql(backend, "DELETE FROM rule_policy WHERE region_prefix = ?", vec![region_prefix.into()]))
        .await?;
    txn.execute_raw(sql(
        backend,
        "INSERT INTO rule_policy (region_prefix, policy, source, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)",
        vec![
            region_prefix.into(),
            text.clone().into(),
            source.into(),
            caller.user_id.as_str().into(),
            Utc::now().into(),
        ],
    ))
    .await?;
    audit::record(
        &*txn,
        &[AuditEntry {
            user_id: Some(caller.user_id.clone()),
            device_id: Some(caller.device_id.clone()),
            action: "set_rule_policy".into(),
            entity: "rule_policy".into(),
            entity_id: region_prefix.to_owned(),
            new_value: Some(text),
            note: Some(source.to_owned()),
            ..AuditEntry::default()
        }],
    )
    .await?;
    txn.commit().await
}

/// On an empty table, stores the variants of the seed documents' regions. Safe to race
/// (two processes starting at once): a variant already there is left as it is.
pub async fn seed_if_empty(db: &Db) -> Result<(), DbErr> {
    let count =
        crate::db::query_scalar_i64(&db.conn, sql(db.backend(), "SELECT COUNT(*) FROM rule_policy", vec![])).await?;
    if count.unwrap_or(0) > 0 {
        return Ok(());
    }
    let txn = db.begin_write().await?;
    for (prefix, policy, source) in [
        ("22", RulePolicy::jilin_000(), "000 §四(一)"),
        ("530103", RulePolicy::kunming_002(), "002 §二(一)"),
        ("14", RulePolicy::shanxi_003(), "003 §一、§四(二)5"),
        ("3207", RulePolicy::lianyungang_004(), "004 §三"),
    ] {
        let text = serde_json::to_string(&policy).map_err(|e| DbErr::Custom(e.to_string()))?;
        txn.execute_raw(sql(
            txn.get_database_backend(),
            "INSERT INTO rule_policy (region_prefix, policy, source) VALUES (?, ?, ?) \
             ON CONFLICT (region_prefix) DO NOTHING",
            vec![prefix.into(), text.into(), source.into()],
        ))
        .await?;
    }
    txn.commit().await
}
