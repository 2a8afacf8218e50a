//! The demo county 演示县: about 2,000 registered households in eight villages, with
//! their members, incomes, help measures, plans and visits, the officers assigned to
//! them, village teams, township and county reviewers and a supervisor. For trying the
//! server out, for training, and for the sync benchmark (`crate::bench_sync`).
//!
//! The load is reproducible (a seeded generator gives the same households, people and
//! ID numbers every time; the import gives the households and members their ids) and
//! atomic (one write transaction; only the 2026 campaign of the 004 template is made
//! after it, by the campaigns service, which opens its own). It must never touch a county that is already there:
//! it refuses when the demo county's code exists. The register goes in as a county's
//! would, through the register import (`register`), which writes its change-log rows
//! and audit entries; the rest writes none, because a phone's first pull reads the
//! tables directly.
//!
//! Here: the county's shape, its accounts and [`load`]. The generators are pure and
//! draw from one seeded generator in a fixed order (reordering calls changes the
//! county): `people` draws names, families and ID numbers, `households` a household
//! with everything that hangs off it, `history` the demo's 2026 (cases, sign-offs,
//! leads) written back into the households; `register` loads the register they make
//! through the import, and `insert` writes the rest of what they drew, with each
//! village's rural population and exit facts (R9).

mod history;
mod households;
mod insert;
mod people;
mod register;
#[cfg(test)]
mod tests;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use jingzhun::audit;
use jingzhun::auth::{self, Role};
use jingzhun::campaigns;
use jingzhun::db::Db;
use jingzhun::db::entities::{app_user, region};
use jingzhun::procedures::CaseKind;
use jingzhun::records::{self, Record};
use jingzhun::registry::{self, Actor};
use jingzhun_mobile_api::fields;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

pub use history::{HISTORY_YEAR, LEADS_FILE, REPORT_URL};
use history::{history, without_id_card};
use households::county;
use insert::{insert_all, insert_cases, insert_leads, insert_regions, insert_thresholds, insert_village_facts};
pub(crate) use people::corrected_name;
use people::{SURNAMES, Sex, given_name, mobile_number, pick};

pub const PROVINCE_CODE: &str = "320000000000";
pub const CITY_CODE: &str = "320700000000";
/// The demo county; its presence is what "already loaded" means.
pub const COUNTY_CODE: &str = "320703000000";
pub const COUNTY_NAME: &str = "演示县";
/// The first six digits of every demo ID number: the county's division code.
const ID_AREA: &str = "320703";

/// Two townships of four villages each; village codes append 001…004 to the
/// township's first nine digits.
const TOWNSHIPS: [(&str, &str, [&str; 4]); 2] = [
    ("320703001000", "东岭镇", ["东岭村", "杨庄村", "河口村", "柳树村"]),
    ("320703002000", "南湖乡", ["南湖村", "王集村", "前营村", "张圩村"]),
];

pub const HOUSEHOLDS_PER_VILLAGE: usize = 250;
pub const OFFICERS: usize = 60;
const OFFICERS_PER_TOWNSHIP: usize = OFFICERS / TOWNSHIPS.len();
/// Share of households followed by a second officer as well.
const SHARED_SHARE: f64 = 0.05;
/// The year of the income records, plans and visits.
pub const DEMO_YEAR: i32 = 2025;
/// Fixed so that every load makes the same county.
const SEED: u64 = 0x4A49_4E47_5A48_554E;

/// `officer-001` … `officer-060`; officers 1–30 work in the first township.
pub fn officer_username(n: usize) -> String {
    format!("officer-{n:03}")
}

/// `village-01` … `village-08`, in village code order.
pub fn village_username(n: usize) -> String {
    format!("village-{n:02}")
}

/// What a load created.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub county_code: String,
    pub regions_created: usize,
    pub villages: usize,
    pub households: usize,
    pub members: usize,
    pub income_records: usize,
    pub help_measures: usize,
    pub help_plans: usize,
    pub plan_tasks: usize,
    pub visit_logs: usize,
    pub users_created: usize,
    pub assignments: usize,
    /// Households with two officers.
    pub shared_households: usize,
    /// Whether `admin` was created with the demo password (an existing one is left alone).
    pub admin_created: bool,
    pub sample_usernames: Vec<String>,
    /// Poverty lines set for the county (2025 and 2026).
    pub thresholds: usize,
    /// Completed cases by kind, in `CaseKind::ALL` order.
    pub completed_cases: Vec<(&'static str, usize)>,
    pub open_cases: usize,
    pub rejected_cases: usize,
    pub signoffs: usize,
    pub comparison_leads: usize,
    /// Households kept outside the national system (系统外).
    pub outside_system: usize,
    /// Members without an ID number (未报户口), and members whose number is a 残疾人证.
    pub without_id_number: usize,
    pub disability_cards: usize,
    /// Villages with their rural population and exit facts (R9).
    pub village_facts: usize,
    /// The 004 campaign of the history's year over the county.
    pub campaign: String,
    pub elapsed: Duration,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Loaded the demo county {COUNTY_NAME} ({}) in {:.2} s:",
            self.county_code,
            self.elapsed.as_secs_f64()
        )?;
        let rows = [
            ("regions created", self.regions_created),
            ("villages", self.villages),
            ("households", self.households),
            ("members", self.members),
            ("income records", self.income_records),
            ("help measures", self.help_measures),
            ("help plans", self.help_plans),
            ("plan tasks", self.plan_tasks),
            ("visit logs", self.visit_logs),
            ("users created", self.users_created),
            ("assignments", self.assignments),
            ("shared households", self.shared_households),
            ("poverty lines", self.thresholds),
            ("open cases", self.open_cases),
            ("rejected cases", self.rejected_cases),
            ("case sign-offs", self.signoffs),
            ("comparison leads", self.comparison_leads),
            ("outside system", self.outside_system),
            ("without ID number", self.without_id_number),
            ("残疾人证 numbers", self.disability_cards),
            ("village facts", self.village_facts),
        ];
        for (label, n) in rows {
            writeln!(f, "  {label:<18} {n:>6}")?;
        }
        let completed: Vec<String> = self.completed_cases.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(f, "  completed cases in {HISTORY_YEAR}: {}", completed.join(", "))?;
        writeln!(f, "  comparison import: {LEADS_FILE} (vehicles)")?;
        writeln!(f, "  campaign: {}", self.campaign)?;
        writeln!(
            f,
            "Reports for {HISTORY_YEAR} have figures: as `county`, try GET {REPORT_URL} \
             (format=json to read it here)"
        )?;
        Ok(())
    }
}

/// Loads the demo county in one write transaction; every demo account gets `password`.
pub async fn load(db: &Db, password: &str) -> anyhow::Result<DemoSummary> {
    let started = Instant::now();
    if password.chars().count() < 8 {
        bail!("the demo password must have at least 8 characters");
    }
    let owned = password.to_owned();
    // One hash for every account: Argon2 is slow on purpose, and 72 of them would take
    // longer than the rest of the load.
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&owned))
        .await
        .context("hashing the demo password")?
        .map_err(|e| anyhow::anyhow!("hashing the demo password: {e}"))?;

    let txn = db.begin_write().await?;
    if region::Entity::find_by_id(COUNTY_CODE.to_owned()).one(&*txn).await?.is_some() {
        bail!(
            "the demo county {COUNTY_NAME} ({COUNTY_CODE}) is already in this database; \
             load the demo into a fresh database"
        );
    }
    let accounts = accounts();
    let taken: Vec<String> = app_user::Entity::find()
        .filter(app_user::Column::Username.is_in(accounts.iter().map(|a| a.username.clone())))
        .all(&*txn)
        .await?
        .into_iter()
        .map(|u| u.username)
        .collect();
    if !taken.is_empty() {
        bail!("these demo usernames are already taken: {}; load the demo into a fresh database", taken.join(", "));
    }

    let mut rng = StdRng::seed_from_u64(SEED);
    let regions_created = insert_regions(&*txn).await?;

    let mut user_ids: HashMap<String, String> = HashMap::new();
    for account in &accounts {
        let user = registry::users::insert(
            &*txn,
            registry::users::NewUserRow {
                username: account.username.clone(),
                name: account.name(&mut rng),
                password_hash: hash.clone(),
                phone: Some(mobile_number(&mut rng)),
                email: None,
            },
        )
        .await?;
        registry::users::grant(&*txn, &user.id, account.role, &account.region_code).await?;
        user_ids.insert(account.username.clone(), user.id);
    }
    let admin_created =
        app_user::Entity::find().filter(app_user::Column::Username.eq("admin")).one(&*txn).await?.is_none();
    if admin_created {
        let user = registry::users::insert(
            &*txn,
            registry::users::NewUserRow {
                username: "admin".into(),
                name: "管理员".into(),
                password_hash: hash.clone(),
                phone: None,
                email: None,
            },
        )
        .await?;
        // The demo's administrator runs the deployment: an admin grant at the root of the
        // region tree (the country when the server made it, else the province).
        let root = region::Entity::find_by_id("000000000000".to_owned()).one(&*txn).await?.map(|r| r.code);
        registry::users::grant(&*txn, &user.id, Role::Admin, root.as_deref().unwrap_or(PROVINCE_CODE)).await?;
    }
    let officer_ids: Vec<String> = (1..=OFFICERS).map(|n| user_ids[&officer_username(n)].clone()).collect();

    let mut households = county(&mut rng, &officer_ids);
    let history = history(&mut rng, &mut households, &officer_ids);
    let (without_id_number, disability_cards) = without_id_card(&mut households, &history);
    let mut summary = DemoSummary {
        county_code: COUNTY_CODE.to_owned(),
        regions_created,
        villages: TOWNSHIPS.iter().map(|t| t.2.len()).sum(),
        households: households.len(),
        members: 0,
        income_records: 0,
        help_measures: 0,
        help_plans: 0,
        plan_tasks: 0,
        visit_logs: 0,
        users_created: accounts.len() + usize::from(admin_created),
        assignments: 0,
        shared_households: 0,
        admin_created,
        sample_usernames: vec![
            "admin".into(),
            "county".into(),
            "township-1".into(),
            village_username(1),
            officer_username(1),
            "supervisor".into(),
        ],
        thresholds: 0,
        completed_cases: CaseKind::ALL
            .iter()
            .map(|k| {
                let n = history.cases.iter().filter(|c| c.kind() == k.code() && c.status() == "completed").count();
                (k.code(), n)
            })
            .collect(),
        open_cases: history.cases.iter().filter(|c| c.status() == "open").count(),
        rejected_cases: history.cases.iter().filter(|c| c.status() == "rejected").count(),
        signoffs: 0,
        comparison_leads: history.leads.len(),
        outside_system: history.outside,
        without_id_number,
        disability_cards,
        village_facts: 0,
        campaign: String::new(),
        elapsed: Duration::ZERO,
    };
    // The register through the import, as a county loads its own; then the rest.
    let mut history = history;
    register::load_register(&*txn, &mut households, &mut history).await?;
    let start_date = NaiveDate::from_ymd_opt(DEMO_YEAR - 1, 3, 1).unwrap_or_default();
    for household in &households {
        // The register brought the household, its present members and its officers.
        let imported = register::in_register(household);
        if !imported {
            records::insert(&*txn, &fields::HOUSEHOLD, &household.record).await?;
            for officer in &household.officers {
                registry::assignments::insert(&*txn, &officer_ids[*officer], &household.record.id, start_date, None)
                    .await?;
            }
        }
        let members: Vec<Record> =
            household.members.iter().filter(|m| !imported || !register::present(m)).cloned().collect();
        insert_all(&*txn, &fields::MEMBER, &members).await?;
        summary.members += household.members.len();
        for (entity, rows, count) in [
            (&fields::INCOME, &household.incomes, &mut summary.income_records),
            (&fields::HELP_MEASURE, &household.measures, &mut summary.help_measures),
            (&fields::HELP_PLAN, &household.plans, &mut summary.help_plans),
            (&fields::PLAN_TASK, &household.tasks, &mut summary.plan_tasks),
            (&fields::VISIT_LOG, &household.visits, &mut summary.visit_logs),
        ] {
            insert_all(&*txn, entity, rows).await?;
            *count += rows.len();
        }
        summary.assignments += household.officers.len();
        summary.shared_households += usize::from(household.officers.len() > 1);
    }

    let county_user = user_ids["county"].clone();
    summary.thresholds = insert_thresholds(&*txn, &county_user).await?;
    summary.signoffs = insert_cases(&*txn, &history.cases, &user_ids).await?;
    insert_leads(&*txn, &mut rng, &history.leads, &households, &county_user).await?;
    summary.village_facts = insert_village_facts(&*txn).await?;

    let mut entry = Actor::CLI.audit("load_demo", "region", COUNTY_CODE);
    entry.new_value = Some(format!(
        "demo county {COUNTY_NAME}: {} households, {} members, {} users, {} assignments",
        summary.households, summary.members, summary.users_created, summary.assignments
    ));
    let mut history_entry = Actor::CLI.audit("load_demo_history", "region", COUNTY_CODE);
    let completed: Vec<String> = summary.completed_cases.iter().map(|(k, n)| format!("{k} {n}")).collect();
    history_entry.new_value = Some(format!(
        "demo {HISTORY_YEAR}: completed cases ({}), {} open, {} rejected, {} sign-offs; {} poverty lines; \
         vehicle comparison import with {} leads; {} households outside the national system; {} members added",
        completed.join(", "),
        summary.open_cases,
        summary.rejected_cases,
        summary.signoffs,
        summary.thresholds,
        summary.comparison_leads,
        summary.outside_system,
        history.added_members
    ));
    audit::record(&*txn, &[entry, history_entry]).await?;
    txn.commit().await?;
    if db.is_postgres() {
        // Statistics now, not a minute later from autovacuum: before them PostgreSQL
        // plans a pull's member read as a scan of the whole table. Not the change log's:
        // its rows still carry provisional numbers until the first pull numbers them,
        // and statistics of those would tell the planner that any later cursor matches
        // nothing. Only our own schema's tables: the shared catalogs are not ours to
        // analyze.
        let tables = db
            .conn
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'change_log'",
            ))
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).map(|t| format!("\"{t}\"")))
            .collect::<Result<Vec<_>, _>>()?;
        if !tables.is_empty() {
            db.conn.execute_unprepared(&format!("ANALYZE {}", tables.join(", "))).await?;
        }
    }
    // The 工作台's progress chart reads a campaign: the 004 timeline over the county, made
    // by the campaigns service as `POST /api/v1/campaigns/from-template` makes it.
    let new = campaigns::template::campaign(None, COUNTY_CODE.to_owned(), HISTORY_YEAR, None)
        .map_err(|e| anyhow::anyhow!("the demo campaign: {e}"))?;
    let campaign = campaigns::campaign::create(db, &Actor::CLI, new)
        .await
        .map_err(|e| anyhow::anyhow!("the demo campaign: {e}"))?;
    summary.campaign = format!("{} ({} milestones)", campaign.name, campaign.milestones.len());
    summary.elapsed = started.elapsed();
    Ok(summary)
}

fn village_code(township: &str, index: usize) -> String {
    format!("{}{:03}", &township[..9], index + 1)
}

/// A demo account and the role it holds.
struct Account {
    username: String,
    role: Role,
    region_code: String,
    /// Fixed display name; officers get a generated personal name.
    title: Option<String>,
}

impl Account {
    fn name(&self, rng: &mut StdRng) -> String {
        match &self.title {
            Some(title) => title.clone(),
            None => {
                let sex = if rng.gen_bool(0.6) { Sex::Male } else { Sex::Female };
                format!("{}{}", pick(rng, SURNAMES), given_name(rng, sex))
            }
        }
    }
}

fn accounts() -> Vec<Account> {
    let mut out = Vec::new();
    for n in 1..=OFFICERS {
        out.push(Account {
            username: officer_username(n),
            role: Role::Officer,
            region_code: TOWNSHIPS[(n - 1) / OFFICERS_PER_TOWNSHIP].0.to_owned(),
            title: None,
        });
    }
    let mut village = 0;
    for (t, (township, township_name, villages)) in TOWNSHIPS.iter().enumerate() {
        for (i, name) in villages.iter().enumerate() {
            village += 1;
            out.push(Account {
                username: village_username(village),
                role: Role::Village,
                region_code: village_code(township, i),
                title: Some(format!("{name}两委")),
            });
        }
        out.push(Account {
            username: format!("township-{}", t + 1),
            role: Role::Township,
            region_code: (*township).to_owned(),
            title: Some(format!("{township_name}审核")),
        });
        // 002 §三(七): objections to a village notice are investigated by the 动态管理工作核查组,
        // not by the village team whose list it is; without one they could not be answered.
        out.push(Account {
            username: format!("verifier-{}", t + 1),
            role: Role::Verifier,
            region_code: (*township).to_owned(),
            title: Some(format!("{township_name}动态管理工作核查组")),
        });
    }
    out.push(Account {
        username: "county".into(),
        role: Role::County,
        region_code: COUNTY_CODE.into(),
        title: Some(format!("{COUNTY_NAME}扶贫办")),
    });
    out.push(Account {
        username: "supervisor".into(),
        role: Role::Supervisor,
        region_code: CITY_CODE.into(),
        title: Some("连云港市督查组".into()),
    });
    out
}
