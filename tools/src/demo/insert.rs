//! Writes what the generators drew, inside the load's write transaction: regions,
//! catalogue records, poverty lines, cases with their sign-offs as the procedure engine
//! would have left them, and one comparison import with its leads. Only plain inserts:
//! the load has already refused a database that holds the demo county.
//! Nothing here commits or writes outside the connection it is given.

use super::history::{DemoCase, DemoLead, HISTORY_YEAR, LEADS_FILE, THRESHOLD_SOURCE, THRESHOLDS, china_time};
use super::households::{DemoHousehold, new_id};
use super::{CITY_CODE, COUNTY_CODE, COUNTY_NAME, DEMO_YEAR, ID_AREA, PROVINCE_CODE, TOWNSHIPS, village_code};
use chrono::NaiveDate;
use jingzhun::db::entities::region;
use jingzhun::db::sql;
use jingzhun::records::{self, Record};
use jingzhun::registry;
use jingzhun_mobile_api::fields::EntitySpec;
use jingzhun_mobile_api::validate::FieldValue;
use rand::Rng;
use rand::rngs::StdRng;
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult};
use std::collections::HashMap;

pub(super) async fn insert_all(
    conn: &impl ConnectionTrait,
    entity: &EntitySpec,
    rows: &[Record],
) -> Result<(), sea_orm::DbErr> {
    for record in rows {
        records::insert(conn, entity, record).await?;
    }
    Ok(())
}

/// The province and city when missing, then the county, townships and villages.
pub(super) async fn insert_regions(conn: &impl ConnectionTrait) -> anyhow::Result<usize> {
    let country = region::Entity::find_by_id("000000000000".to_owned()).one(conn).await?.map(|r| r.code);
    let mut created = 0;
    for (code, name, level, parent) in [
        (PROVINCE_CODE, "江苏省", "province", country),
        (CITY_CODE, "连云港市", "city", Some(PROVINCE_CODE.to_owned())),
    ] {
        if region::Entity::find_by_id(code.to_owned()).one(conn).await?.is_none() {
            insert_region(conn, code, name, level, parent).await?;
            created += 1;
        }
    }
    insert_region(conn, COUNTY_CODE, COUNTY_NAME, "county", Some(CITY_CODE.into())).await?;
    created += 1;
    for (township, name, villages) in TOWNSHIPS {
        insert_region(conn, township, name, "township", Some(COUNTY_CODE.into())).await?;
        created += 1;
        for (i, village) in villages.iter().enumerate() {
            let code = village_code(township, i);
            insert_region(conn, &code, village, "village", Some(township.into())).await?;
            created += 1;
        }
    }
    Ok(created)
}

async fn insert_region(
    conn: &impl ConnectionTrait,
    code: &str,
    name: &str,
    level: &str,
    parent_code: Option<String>,
) -> Result<(), sea_orm::DbErr> {
    registry::regions::insert(
        conn,
        registry::regions::NewRegion {
            code: code.to_owned(),
            name: name.to_owned(),
            level: level.to_owned(),
            parent_code,
        },
    )
    .await
    .map(|_| ())
}

/// The county's poverty lines for the 2025 incomes and for 2026.
pub(super) async fn insert_thresholds(conn: &impl ConnectionTrait, updated_by: &str) -> Result<usize, sea_orm::DbErr> {
    let mut n = 0;
    for year in [DEMO_YEAR, HISTORY_YEAR] {
        for (standard, yuan) in THRESHOLDS {
            conn.execute_raw(sql(
                conn.get_database_backend(),
                "INSERT INTO threshold (year, region_prefix, standard, amount_fen, source, updated_by, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    i64::from(year).into(),
                    ID_AREA.into(),
                    standard.into(),
                    (yuan * 100).into(),
                    THRESHOLD_SOURCE.into(),
                    updated_by.into(),
                    china_time(NaiveDate::from_ymd_opt(year, 1, 2).unwrap_or_default(), 10, 0).into(),
                ],
            ))
            .await?;
            n += 1;
        }
    }
    Ok(n)
}

/// The cases with their sign-offs, as the procedure engine would have left them.
pub(super) async fn insert_cases(
    conn: &impl ConnectionTrait,
    cases: &[DemoCase],
    user_ids: &HashMap<String, String>,
) -> Result<usize, sea_orm::DbErr> {
    let backend = conn.get_database_backend();
    let mut signoffs = 0;
    for case in cases {
        let r = &case.record;
        let value = |name: &str| -> sea_orm::Value {
            match r.values.get(name) {
                Some(FieldValue::Text(s) | FieldValue::Uuid(s)) => Some(s.clone()).into(),
                _ => Option::<String>::None.into(),
            }
        };
        let updated_at = case.signoffs.last().map_or(case.created_at, |s| s.at);
        conn.execute_raw(sql(
            backend,
            "INSERT INTO procedure_case (id, household_id, kind, reason, member_id, note, status, step, opened_by, \
             frozen_level, closed_at, version, field_versions, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                r.id.as_str().into(),
                value("household_id"),
                value("kind"),
                value("reason"),
                value("member_id"),
                value("note"),
                value("status"),
                value("step"),
                value("opened_by"),
                case.frozen_level.map(str::to_owned).into(),
                case.closed_at.into(),
                r.version.into(),
                serde_json::to_string(&r.field_versions).unwrap_or_else(|_| "{}".into()).into(),
                case.created_at.into(),
                updated_at.into(),
            ],
        ))
        .await?;
        for s in &case.signoffs {
            let (user_id, role, region_code) = s.signer.resolve(user_ids);
            conn.execute_raw(sql(
                backend,
                "INSERT INTO case_signoff (id, case_id, step, decision, user_id, role, region_code, comment, \
                 attachment_ids, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    s.id.to_string().into(),
                    r.id.as_str().into(),
                    s.step.code().into(),
                    s.decision.into(),
                    user_id.into(),
                    role.as_str().into(),
                    region_code.into(),
                    s.comment.clone().into(),
                    "[]".into(),
                    s.at.into(),
                ],
            ))
            .await?;
            signoffs += 1;
        }
    }
    Ok(signoffs)
}

/// One vehicle list from the traffic police and the leads it raised.
pub(super) async fn insert_leads(
    conn: &impl ConnectionTrait,
    rng: &mut StdRng,
    leads: &[DemoLead],
    households: &[DemoHousehold],
    county_user: &str,
) -> Result<(), sea_orm::DbErr> {
    use sha2::{Digest, Sha256};
    let backend = conn.get_database_backend();
    let import_id = new_id(rng).to_string();
    let imported_at = china_time(NaiveDate::from_ymd_opt(HISTORY_YEAR, 9, 10).unwrap_or_default(), 9, 30);
    // The file as the department sent it: the matched rows and a few that match no one.
    let mut csv = String::from("姓名,身份证号码,号牌号码,登记日期,价格\n");
    for lead in leads {
        let d = &lead.details;
        let cell = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        csv.push_str(&format!(
            "{},{},{},{},{}\n",
            cell("姓名"),
            cell("身份证号码"),
            cell("号牌号码"),
            cell("登记日期"),
            cell("价格")
        ));
    }
    let unmatched = 4;
    for _ in 0..unmatched {
        csv.push_str(&format!(
            "某某,320703********{:04},苏G{},2024-05-01,50000\n",
            rng.gen_range(0..10_000),
            rng.gen_range(10_000..100_000)
        ));
    }
    let total = (leads.len() + unmatched) as i64;
    conn.execute_raw(sql(
        backend,
        "INSERT INTO comparison_import (id, source, file_name, sha256, region_code, rows_total, rows_accepted, \
         rows_rejected, rows_matched, rejected, imported_by, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            import_id.as_str().into(),
            "vehicles".into(),
            LEADS_FILE.into(),
            hex::encode(Sha256::digest(csv.as_bytes())).into(),
            COUNTY_CODE.into(),
            total.into(),
            total.into(),
            0i64.into(),
            (leads.len() as i64).into(),
            "[]".into(),
            county_user.into(),
            imported_at.into(),
        ],
    ))
    .await?;
    for lead in leads {
        conn.execute_raw(sql(
            backend,
            "INSERT INTO comparison_lead (id, import_id, household_id, member_id, source, reason, details, \
             after_registration, status, note, decided_by, decided_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                new_id(rng).to_string().into(),
                import_id.as_str().into(),
                households[lead.household].record.id.as_str().into(),
                lead.member_id.as_str().into(),
                "vehicles".into(),
                "vehicle".into(),
                lead.details.to_string().into(),
                false.into(),
                lead.status.into(),
                lead.note.map(str::to_owned).into(),
                lead.decided.map(|_| county_user.to_owned()).into(),
                lead.decided.into(),
                imported_at.into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct PoorRow {
    region_code: String,
    n: i64,
}

/// Each village's rural population and exit facts (R9, 003 §一(二); what
/// `PUT /api/v1/villages/{code}/facts` records), so that the exit assessment shows all
/// three outcomes: 东岭村 may exit (incidence 1%, the departments found it met), 杨庄村
/// is as low but held by 不搬迁不退出 (a deep-poverty village on the whole-village
/// relocation list, not moved yet), and every other village is above 2%. The population
/// is set from the poor people the register left, so the incidences hold whatever the
/// generator drew. Audited as the command line's. Returns the villages written.
pub(super) async fn insert_village_facts(conn: &impl ConnectionTrait) -> anyhow::Result<usize> {
    let backend = conn.get_database_backend();
    // The people R9 counts as poor: `assess::village`'s remaining poor.
    let poor: HashMap<String, i64> = PoorRow::find_by_statement(sql(
        backend,
        "SELECT h.region_code AS region_code, COUNT(*) AS n FROM member m JOIN household h ON h.id = m.household_id \
         WHERE m.active AND h.region_code LIKE ? AND h.status IN ('registered', 'pre_exit') GROUP BY h.region_code",
        vec![format!("{ID_AREA}%").into()],
    ))
    .all(conn)
    .await?
    .into_iter()
    .map(|r| (r.region_code, r.n))
    .collect();
    let mut entries = Vec::new();
    let mut written = 0;
    for (t, (township, _, villages)) in TOWNSHIPS.iter().enumerate() {
        for i in 0..villages.len() {
            let code = village_code(township, i);
            let poor = poor.get(&code).copied().unwrap_or(0).max(1);
            // (people per poor person, deep poverty, relocation scope, moved, departments' finding)
            let (per_poor, deep, relocation, moved, met) = match (t, i) {
                (0, 0) => (100, false, false, None, Some(true)),
                (0, 1) => (100, true, true, Some(false), Some(true)),
                (0, 2) => (30, false, false, None, Some(true)),
                _ => (40, false, false, None, None),
            };
            conn.execute_raw(sql(
                backend,
                "UPDATE region SET rural_population = ?, deep_poverty_village = ?, whole_village_relocation = ?, \
                 relocation_done = ?, exit_indicators_met = ? WHERE code = ? AND level = 'village'",
                vec![
                    (poor * per_poor).into(),
                    Some(deep).into(),
                    Some(relocation).into(),
                    moved.into(),
                    met.into(),
                    code.as_str().into(),
                ],
            ))
            .await?;
            let mut entry = registry::Actor::CLI.audit("set_village_facts", "region", &code);
            entry.new_value = Some(format!(
                "demo: rural_population {}, deep_poverty_village {deep}, whole_village_relocation {relocation}, \
                 relocation_done {moved:?}, exit_indicators_met {met:?}",
                poor * per_poor
            ));
            entries.push(entry);
            written += 1;
        }
    }
    jingzhun::audit::record(conn, &entries).await?;
    Ok(written)
}
