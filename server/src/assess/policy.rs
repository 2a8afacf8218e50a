//! Stored regional rule variants (`rule_policy`, `crate::domain::policy::RulePolicy`):
//! the most specific region prefix wins; a region with none uses the baseline. Seeded on
//! an empty table with the variants the seed documents state; set by county staff of the
//! region (audited). The only module that reads or writes the table.
//!
//! What this module must never do: store variants that do not parse as a `RulePolicy`
//! (every reader would skip them), or overwrite a variant when seeding.

use chrono::Utc;
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::wire::RegionPolicy;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::setting::may_set_for;
use crate::audit;
use crate::auth::Caller;
use crate::db::{Db, sql};
use crate::domain::policy::RulePolicy;
use crate::error::Refusal;
use crate::registry::Actor;

pub struct StoredPolicy {
    pub region_prefix: String,
    pub policy: RulePolicy,
    pub source: String,
}

/// A region's variants as the API shows and takes them.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyBody {
    /// Leading digits of the division codes covered.
    pub region_prefix: String,
    /// The rule choices (identification variant, pension counted, income period start,
    /// edge ceiling, vehicle limit, …) as `crate::domain::policy::RulePolicy` names them.
    #[schema(value_type = crate::domain::policy::RulePolicy)]
    pub policy: Value,
    /// The document that sets them.
    pub source: String,
}

#[derive(FromQueryResult)]
struct PolicyRow {
    region_prefix: String,
    policy: String,
    source: String,
}

pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<StoredPolicy>, DbErr> {
    let rows = PolicyRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT region_prefix, policy, source FROM rule_policy ORDER BY region_prefix",
        vec![],
    ))
    .all(conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        match serde_json::from_str(&row.policy) {
            Ok(policy) => out.push(StoredPolicy { region_prefix: row.region_prefix, policy, source: row.source }),
            // Written through `set`, so this means a hand edit: say so, and skip it.
            Err(err) => tracing::error!(region_prefix = %row.region_prefix, %err, "unreadable rule policy ignored"),
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

/// The pension choice of each county the caller's households lie in, and of any region
/// inside those counties with a variant of its own (a household follows the longest
/// prefix, as [`for_region`] does), for the phone's offline R1 preview.
pub async fn in_scope(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<RegionPolicy>, DbErr> {
    #[derive(FromQueryResult)]
    struct CountyRow {
        county: String,
    }
    let (cond, values) = crate::records::scope::households_condition(caller, "id", "region_code");
    let text = format!("SELECT DISTINCT SUBSTR(region_code, 1, 6) AS county FROM household WHERE {cond}");
    let counties = CountyRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await?;
    let stored = all(conn).await?;
    // By the prefix itself, not its zero-padded code: a variant set for `3207030` is
    // not the county's.
    let policy_of = |prefix: &str| {
        stored
            .iter()
            .filter(|p| prefix.starts_with(&p.region_prefix))
            .max_by_key(|p| p.region_prefix.len())
            .map_or_else(RulePolicy::baseline, |p| p.policy.clone())
    };
    let mut regions = Vec::new();
    for county in counties.iter().map(|row| row.county.as_str()) {
        let inside =
            stored.iter().map(|p| p.region_prefix.as_str()).filter(|p| p.len() > county.len() && p.starts_with(county));
        for prefix in std::iter::once(county).chain(inside) {
            regions.push(RegionPolicy {
                pension_counted: policy_of(prefix).pension_counted,
                region_code: format!("{prefix:0<12}"),
                region_prefix: prefix.to_owned(),
            });
        }
    }
    regions.sort_by(|a, b| a.region_prefix.cmp(&b.region_prefix));
    Ok(regions)
}

/// The stored variants, for anyone signed in.
pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<PolicyBody>, Refusal> {
    Ok(all(conn)
        .await?
        .into_iter()
        .map(|p| PolicyBody {
            region_prefix: p.region_prefix,
            policy: serde_json::to_value(p.policy).unwrap_or_default(),
            source: p.source,
        })
        .collect())
}

/// Sets a region's variants (county staff of that region), replacing what it had;
/// audited with the variants as stored.
pub async fn set(db: &Db, caller: &Caller, body: PolicyBody) -> Result<(), Refusal> {
    let policy: RulePolicy =
        serde_json::from_value(body.policy).map_err(|_| Refusal::invalid(ErrorCode::InvalidRequest))?;
    let region_prefix = body.region_prefix.as_str();
    if region_prefix.len() > 12 || !region_prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::invalid(ErrorCode::InvalidRegion));
    }
    if !may_set_for(caller, region_prefix) {
        return Err(Refusal::forbidden());
    }
    let text = serde_json::to_string(&policy).map_err(Refusal::internal)?;
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
            body.source.as_str().into(),
            caller.user_id.as_str().into(),
            Utc::now().into(),
        ],
    ))
    .await?;
    let mut entry = Actor::of(caller).audit("set_rule_policy", "rule_policy", region_prefix);
    entry.new_value = Some(text);
    entry.note = Some(body.source.clone());
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}

/// On an empty table, stores the variants of the seed documents' regions. Safe to race
/// (two processes starting at once): a variant already there is left as it is.
pub async fn seed_if_empty(db: &Db) -> Result<(), DbErr> {
    if crate::db::count(&db.conn, "SELECT COUNT(*) FROM rule_policy", vec![]).await? > 0 {
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
