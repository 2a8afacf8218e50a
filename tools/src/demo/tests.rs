//! The demo county loaded into a fresh SQLite file: consistent households, valid ID
//! numbers, every field valid under the phone contract, a 2026 whose statuses follow its
//! cases, and the same county from the same seed.

use super::*;
use chrono::{DateTime, Utc};
use jingzhun::db::sql;
use jingzhun_mobile_api::validate::{self, id_number_is_valid, id_sex};
use sea_orm::FromQueryResult;
use std::collections::HashSet;
use uuid::Uuid;

#[derive(FromQueryResult)]
struct MemberRow {
    id_number: Option<String>,
    id_type: Option<String>,
    sex: String,
}

#[derive(FromQueryResult)]
struct IdRow {
    id: String,
}

#[derive(FromQueryResult)]
struct CaseRow {
    id: String,
    kind: String,
    status: String,
    step: String,
    version: i64,
}

#[derive(FromQueryResult)]
struct SignoffRow {
    step: String,
    role: String,
    at: DateTime<Utc>,
}

/// A fresh SQLite file, removed when dropped.
struct TempDb {
    path: std::path::PathBuf,
}

impl TempDb {
    fn new() -> TempDb {
        let path = std::env::temp_dir().join(format!("jingzhun-demo-{}.db", Uuid::new_v4()));
        TempDb { path }
    }
    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.path.display())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

async fn count(db: &Db, text: &str) -> i64 {
    jingzhun::db::query_scalar_i64(&db.conn, sql(db.backend(), text, vec![])).await.expect("query").unwrap_or(0)
}

#[tokio::test]
async fn loads_a_consistent_county_once() {
    let file = TempDb::new();
    let db = Db::connect(&file.url(), 2).await.expect("connect");
    db.migrate().await.expect("migrate");
    let summary = load(&db, "demo1234").await.expect("load");
    assert!(summary.admin_created);

    let villages = count(&db, "SELECT COUNT(*) FROM region WHERE level = 'village' AND code LIKE '320703%'").await;
    assert_eq!(villages, 8);
    let households = count(&db, "SELECT COUNT(*) FROM household").await;
    assert!((1900..=2100).contains(&households), "{households}");
    assert_eq!(households as usize, summary.households);

    let without_one_head = count(
        &db,
        "SELECT COUNT(*) FROM household h WHERE (SELECT COUNT(*) FROM member m \
         WHERE m.household_id = h.id AND m.active AND m.relation = 'head') <> 1",
    )
    .await;
    assert_eq!(without_one_head, 0);

    let rows = MemberRow::find_by_statement(sql(db.backend(), "SELECT id_number, id_type, sex FROM member", vec![]))
        .all(&db.conn)
        .await
        .expect("members");
    let mut seen = HashSet::new();
    let (mut unregistered, mut cards) = (0, 0);
    for MemberRow { id_number, id_type, sex } in &rows {
        // 未报户口: no number, 无证件 (the import matched them by household, name, relation).
        let Some(id_number) = id_number else {
            assert_eq!(id_type.as_deref(), Some("none"));
            unregistered += 1;
            continue;
        };
        let person = if validate::disability_card_is_valid(id_number) {
            assert_eq!(id_type.as_deref(), Some("disability_card"), "{id_number}");
            cards += 1;
            &id_number[..18]
        } else {
            id_number.as_str()
        };
        assert!(id_number_is_valid(person), "{id_number}");
        assert_eq!(id_sex(person), Some(sex.as_str()), "{id_number}");
        assert!(seen.insert(person.to_owned()), "{id_number} twice");
    }
    assert_eq!(rows.len(), summary.members);
    assert_eq!((unregistered, cards), (3, 1));
    assert_eq!((summary.without_id_number, summary.disability_cards), (3, 1));

    let unassigned = count(
        &db,
        "SELECT COUNT(*) FROM household h WHERE NOT EXISTS (SELECT 1 FROM assignment a \
         WHERE a.household_id = h.id AND a.end_date IS NULL)",
    )
    .await;
    assert_eq!(unassigned, 0);
    let shared = count(
        &db,
        "SELECT COUNT(*) FROM (SELECT household_id FROM assignment WHERE end_date IS NULL \
         GROUP BY household_id HAVING COUNT(*) = 2) s",
    )
    .await;
    let share = shared as f64 / households as f64;
    assert!((0.03..=0.08).contains(&share), "{shared} shared");

    // Every stored field passes the phone contract's own validation.
    let ids: Vec<String> = IdRow::find_by_statement(sql(db.backend(), "SELECT id FROM household", vec![]))
        .all(&db.conn)
        .await
        .expect("ids")
        .into_iter()
        .map(|r| r.id)
        .collect();
    for entity in fields::ENTITIES {
        for record in records::load_by_households(&db.conn, entity, &ids).await.expect("records") {
            for field in entity.fields {
                let value = record.value(field.name).to_json();
                assert!(validate::field(field, &value).is_ok(), "{}.{} = {value}", entity.name, field.name);
            }
        }
    }

    check_history(&db, &summary).await;

    let again = load(&db, "demo1234").await.expect_err("second load");
    assert!(again.to_string().contains("already"), "{again}");
}

/// The 2026 history: cases by kind, statuses and members that match them, leads,
/// lines, and reports with figures.
async fn check_history(db: &Db, summary: &DemoSummary) {
    println!("demo loaded in {:.2} s", summary.elapsed.as_secs_f64());
    print!("{summary}");
    let completed =
        |kind: &str| format!("SELECT COUNT(*) FROM procedure_case WHERE status = 'completed' AND kind = '{kind}'");
    for (kind, range) in [
        ("identify", 35..=45),
        ("remove", 12..=18),
        ("exit", 55..=65),
        ("relapse", 6..=10),
        ("exit_reversal", 2..=4),
        ("member_change", 25..=32),
    ] {
        let n = count(db, &completed(kind)).await;
        assert!(range.contains(&n), "{n} completed {kind} cases");
    }
    let open = count(db, "SELECT COUNT(*) FROM procedure_case WHERE status = 'open'").await;
    assert!((20..=30).contains(&open), "{open} open");
    assert_eq!(open as usize, summary.open_cases);
    assert_eq!(count(db, "SELECT COUNT(*) FROM procedure_case WHERE status = 'rejected'").await, 2);
    for (step, kind) in [("village_notice", "identify"), ("township_review", "exit"), ("application", "member_change")]
    {
        let text = format!(
            "SELECT COUNT(*) FROM procedure_case WHERE status = 'open' AND step = '{step}' AND kind = '{kind}'"
        );
        assert!(count(db, &text).await > 0, "an open {kind} at {step}");
    }
    assert!(
        count(db, "SELECT COUNT(*) FROM procedure_case WHERE status = 'open' AND frozen_level = 'township'").await > 0
    );

    // Statuses follow the completed cases.
    for (kind, status) in [
        ("identify", "'registered', 'exited', 'removed'"),
        ("remove", "'removed'"),
        ("exit", "'exited'"),
        ("relapse", "'registered'"),
        ("exit_reversal", "'registered'"),
    ] {
        let text = format!(
            "SELECT COUNT(*) FROM procedure_case c JOIN household h ON h.id = c.household_id \
             WHERE c.status = 'completed' AND c.kind = '{kind}' AND h.status NOT IN ({status})"
        );
        assert_eq!(count(db, &text).await, 0, "{kind}");
    }
    let rejected_identify = count(
        db,
        "SELECT COUNT(*) FROM procedure_case c JOIN household h ON h.id = c.household_id \
         WHERE c.status = 'rejected' AND c.kind = 'identify' AND h.status <> 'rejected'",
    )
    .await;
    assert_eq!(rejected_identify, 0);
    // Exited this year: every guarantee met.
    let unmet = count(
        db,
        "SELECT COUNT(*) FROM procedure_case c JOIN household h ON h.id = c.household_id \
         WHERE c.status = 'completed' AND c.kind = 'exit' AND NOT (h.food_clothing_secure AND h.education_secure \
         AND h.medical_secure AND h.housing_secure AND h.water_secure)",
    )
    .await;
    assert_eq!(unmet, 0);
    // And the 两不退 facts the exit check refuses without (003 §五(二)).
    let two_no_exit = count(
        db,
        "SELECT COUNT(*) FROM procedure_case c JOIN household h ON h.id = c.household_id \
         WHERE c.status = 'completed' AND c.kind = 'exit' AND (h.long_term_stable_income IS NOT TRUE \
         OR h.help_effective IS NOT TRUE OR (h.relocation_moved_in IS NOT TRUE AND EXISTS (SELECT 1 \
         FROM help_measure m WHERE m.household_id = h.id AND m.category = 'relocation')))",
    )
    .await;
    assert_eq!(two_no_exit, 0);
    // Members: departures inactive, arrivals active.
    let wrong = count(
        db,
        "SELECT COUNT(*) FROM procedure_case c JOIN member m ON m.id = c.member_id WHERE c.status = 'completed' \
         AND ((c.reason IN ('death', 'moved_out', 'marriage_out', 'urban_hukou') AND m.active) \
         OR (c.reason IN ('newborn', 'marriage_in') AND NOT m.active))",
    )
    .await;
    assert_eq!(wrong, 0);
    let orphan = count(
        db,
        "SELECT COUNT(*) FROM procedure_case c WHERE c.kind = 'member_change' \
         AND NOT EXISTS (SELECT 1 FROM member m WHERE m.id = c.member_id AND m.household_id = c.household_id)",
    )
    .await;
    assert_eq!(orphan, 0);
    assert!(count(db, &format!("{} AND reason = 'newborn'", completed("member_change"))).await > 0);
    assert!(count(db, &format!("{} AND reason = 'death'", completed("member_change"))).await > 0);

    // Sign-offs: one per signed step, in step order, all in 2026 and by the right role.
    let cases = CaseRow::find_by_statement(sql(
        db.backend(),
        "SELECT id, kind, status, step, version FROM procedure_case",
        vec![],
    ))
    .all(&db.conn)
    .await
    .expect("cases");
    let today = Utc::now();
    for CaseRow { id, kind, status, step, version } in &cases {
        let kind = CaseKind::parse(kind).expect("kind");
        let signoffs = SignoffRow::find_by_statement(sql(
            db.backend(),
            "SELECT step, role, at FROM case_signoff WHERE case_id = ? ORDER BY at",
            vec![id.as_str().into()],
        ))
        .all(&db.conn)
        .await
        .expect("signoffs");
        assert_eq!(*version, 1 + signoffs.len() as i64, "{id}");
        let mut last: Option<DateTime<Utc>> = None;
        for (i, SignoffRow { step: signed, role, at }) in signoffs.iter().enumerate() {
            let at = *at;
            let expected = kind.steps()[i];
            assert_eq!(signed, expected.code(), "{id}");
            assert!(expected.roles().iter().any(|r| r.as_str() == role), "{role} at {signed}");
            assert!(last.is_none_or(|l| l < at) && at < today, "{id}");
            assert_eq!(at.format("%Y").to_string(), "2026");
            last = Some(at);
        }
        match status.as_str() {
            "completed" => assert_eq!(signoffs.len(), kind.steps().len()),
            "open" => assert_eq!(step, kind.steps()[signoffs.len()].code()),
            _ => {}
        }
    }
    let township_cases = count(
        db,
        "SELECT COUNT(DISTINCT substr(h.region_code, 1, 9)) FROM procedure_case c \
         JOIN household h ON h.id = c.household_id WHERE c.status = 'completed'",
    )
    .await;
    assert_eq!(township_cases, 2);

    // Poverty lines, leads, households outside the system.
    assert_eq!(count(db, "SELECT COUNT(*) FROM threshold WHERE region_prefix = '320703'").await, 6);
    assert_eq!(count(db, "SELECT COUNT(*) FROM comparison_import WHERE source = 'vehicles'").await, 1);
    let leads = count(db, "SELECT COUNT(*) FROM comparison_lead").await;
    assert_eq!(leads, 10);
    for status in ["open", "confirmed", "dismissed"] {
        let n = count(db, &format!("SELECT COUNT(*) FROM comparison_lead WHERE status = '{status}'")).await;
        assert!(n > 0, "{status} leads");
    }
    assert!(count(db, "SELECT COUNT(*) FROM household WHERE outside_national_system").await >= 3);

    // Village exit (R9): one may exit, one is held by 不搬迁不退出, the rest are above 2%.
    assert_eq!(summary.village_facts, 8);
    let county = jingzhun::auth::Caller {
        user_id: "demo-test".into(),
        username: "county".into(),
        name: "县".into(),
        device_id: "demo-test".into(),
        grants: vec![jingzhun::auth::Grant::new(Role::County, COUNTY_CODE.into(), false)],
        draining: false,
    };
    let mut verdicts = Vec::new();
    for code in ["320703001001", "320703001002", "320703001003", "320703002004"] {
        let row = jingzhun::assess::village::exit_assessment(&db.conn, &county, code).await.expect("assessment");
        let exit = &row["exit"];
        verdicts.push((
            exit["may_exit"].as_bool(),
            exit["below_limit"].as_bool(),
            exit["awaiting_relocation"].as_bool(),
        ));
    }
    assert_eq!(
        verdicts,
        [
            (Some(true), Some(true), Some(false)),
            (Some(false), Some(true), Some(true)),
            (Some(false), Some(false), Some(false)),
            (Some(false), Some(false), Some(false)),
        ]
    );
    // The 004 campaign of 2026 over the county, for the 工作台's progress chart.
    let campaigns = count(
        db,
        "SELECT COUNT(*) FROM campaign WHERE region_code = '320703000000' AND year = 2026 AND status = 'active'",
    )
    .await;
    assert_eq!(campaigns, 1);
    assert!(count(db, "SELECT COUNT(*) FROM milestone").await >= 6);
    // `jingzhun demo` then publishes the notices; the village notice's objection is
    // answered by the 核查组 (the village team is refused), one stays open.
    let notices = crate::demo_notices::publish_all(db, COUNTY_CODE, Utc::now()).await.expect("demo notices");
    assert!(notices.len() >= 2, "{notices:?}");
    let answered = count(
        db,
        "SELECT COUNT(*) FROM objection o JOIN app_user u ON u.id = o.answered_by \
         WHERE o.status = 'dismissed' AND u.username LIKE 'verifier-%'",
    )
    .await;
    assert_eq!(answered, 1);
    assert_eq!(count(db, "SELECT COUNT(*) FROM objection WHERE status = 'open'").await, 1);
    // Households that exited in 2014–2016 and relapsed (000 附件4 counts them).
    assert!(count(db, "SELECT COUNT(*) FROM household WHERE exit_year BETWEEN 2014 AND 2016").await >= 6);

    // The county's 附件1 for 2026 has figures.
    let unit = jingzhun::reports::queries::region(&db.conn, COUNTY_CODE).await.expect("region").expect("county");
    let period = jingzhun::reports::Period::new(
        NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
    )
    .expect("period");
    let report = jingzhun::reports::build(
        &db.conn,
        jingzhun::reports::ReportName::DynamicAdjustment,
        unit,
        period,
        ("1 = 1".to_owned(), vec![]),
    )
    .await
    .expect("report");
    let json = report.to_json();
    let total = &json["total"]["values"];
    println!("附件1 total: {total}");
    for key in ["new_identified", "removed", "relapse", "increase_newborn", "decrease_death", "remaining"] {
        assert!(total[key].as_i64().unwrap_or(0) > 0, "{key}: {total}");
    }
    // 000 附件4 (only households that exited in 2014–2016) has relapsed people.
    let unit = jingzhun::reports::queries::region(&db.conn, COUNTY_CODE).await.expect("region").expect("county");
    let relapse = jingzhun::reports::build(
        &db.conn,
        jingzhun::reports::ReportName::Relapse,
        unit,
        period,
        ("1 = 1".to_owned(), vec![]),
    )
    .await
    .expect("附件4")
    .to_json();
    assert!(relapse["total"]["values"]["people"].as_i64().unwrap_or(0) > 0, "{relapse}");
    // 附件1 has no 脱贫 column: exits are in the reconciliation printed apart under it.
    let rows = json["appendix"]["rows"].as_array().expect("rows");
    assert!(rows.iter().filter(|r| r["values"]["exited"].as_i64().unwrap_or(0) > 0).count() >= 2, "{json}");
}

#[test]
fn the_same_seed_makes_the_same_county() {
    let officers: Vec<String> = (0..OFFICERS).map(|i| format!("officer-{i}")).collect();
    let a = county(&mut StdRng::seed_from_u64(SEED), &officers);
    let b = county(&mut StdRng::seed_from_u64(SEED), &officers);
    assert_eq!(a.len(), b.len());
    assert!(a.iter().zip(&b).all(|(x, y)| x.record == y.record && x.members == y.members));
}
