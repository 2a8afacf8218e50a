//! The demo county 演示县: about 2,000 registered households in eight villages, with
//! their members, incomes, help measures, plans and visits, the officers assigned to
//! them, village teams, township and county reviewers and a supervisor. For trying the
//! server out, for training, and for the sync benchmark (`crate::bench`).
//!
//! The load is reproducible (a seeded generator gives the same households, people and
//! ID numbers every time) and atomic (one write transaction). It must never touch a
//! county that is already there: it refuses when the demo county's code exists. It
//! writes no change-log rows, because a phone's first pull reads the tables directly.

use crate::audit;
use crate::auth::{self, Role};
use crate::db::Db;
use crate::db::entities::{app_user, region};
use crate::db::sql;
use crate::procedures::{CaseKind, Step};
use crate::registry::{self, Actor};
use crate::records::{self, Record};
use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use jingzhun_mobile_api::fields::{self, EntitySpec};
use jingzhun_mobile_api::validate::{FieldValue, id_check_char};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, Instant};
use uuid::Uuid;

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
        ];
        for (label, n) in rows {
            writeln!(f, "  {label:<18} {n:>6}")?;
        }
        let completed: Vec<String> = self.completed_cases.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(f, "  completed cases in {HISTORY_YEAR}: {}", completed.join(", "))?;
        writeln!(f, "  comparison import: {LEADS_FILE} (vehicles)")?;
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
        elapsed: Duration::ZERO,
    };
    let start_date = NaiveDate::from_ymd_opt(DEMO_YEAR - 1, 3, 1).unwrap_or_default();
    for household in &households {
        records::insert(&*txn, &fields::HOUSEHOLD, &household.record).await?;
        for (entity, rows, count) in [
            (&fields::MEMBER, &household.members, &mut summary.members),
            (&fields::INCOME, &household.incomes, &mut summary.income_records),
            (&fields::HELP_MEASURE, &household.measures, &mut summary.help_measures),
            (&fields::HELP_PLAN, &household.plans, &mut summary.help_plans),
            (&fields::PLAN_TASK, &household.tasks, &mut summary.plan_tasks),
            (&fields::VISIT_LOG, &household.visits, &mut summary.visit_logs),
        ] {
            insert_all(&*txn, entity, rows).await?;
            *count += rows.len();
        }
        for officer in &household.officers {
            registry::assignments::insert(&*txn, &officer_ids[*officer], &household.record.id, start_date, None)
                .await?;
        }
        summary.assignments += household.officers.len();
        summary.shared_households += usize::from(household.officers.len() > 1);
    }

    let county_user = user_ids["county"].clone();
    summary.thresholds = insert_thresholds(&*txn, &county_user).await?;
    summary.signoffs = insert_cases(&*txn, &history.cases, &user_ids).await?;
    insert_leads(&*txn, &mut rng, &history.leads, &households, &county_user).await?;

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
    summary.elapsed = started.elapsed();
    Ok(summary)
}

async fn insert_all(conn: &impl ConnectionTrait, entity: &EntitySpec, rows: &[Record]) -> Result<(), sea_orm::DbErr> {
    for record in rows {
        records::insert(conn, entity, record).await?;
    }
    Ok(())
}

/// The province and city when missing, then the county, townships and villages.
async fn insert_regions(conn: &impl ConnectionTrait) -> anyhow::Result<usize> {
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

/// One household and everything that hangs off it, ready to insert.
struct DemoHousehold {
    record: Record,
    members: Vec<Record>,
    incomes: Vec<Record>,
    measures: Vec<Record>,
    plans: Vec<Record>,
    tasks: Vec<Record>,
    visits: Vec<Record>,
    /// Indexes into the officer list: the first is the main one.
    officers: Vec<usize>,
}

/// Generates the county's households (pure: no I/O).
fn county(rng: &mut StdRng, officer_ids: &[String]) -> Vec<DemoHousehold> {
    let mut ids = IdNumbers::default();
    let mut out = Vec::with_capacity(TOWNSHIPS.len() * 4 * HOUSEHOLDS_PER_VILLAGE);
    for (t, (township, _, villages)) in TOWNSHIPS.iter().enumerate() {
        let per_township = villages.len() * HOUSEHOLDS_PER_VILLAGE;
        for (v, village) in villages.iter().enumerate() {
            let code = village_code(township, v);
            for h in 0..HOUSEHOLDS_PER_VILLAGE {
                // Each officer follows a run of neighbouring households.
                let nth = v * HOUSEHOLDS_PER_VILLAGE + h;
                let first = t * OFFICERS_PER_TOWNSHIP + nth * OFFICERS_PER_TOWNSHIP / per_township;
                let mut officers = vec![first];
                if rng.gen_bool(SHARED_SHARE) {
                    let other = (first + rng.gen_range(1..OFFICERS_PER_TOWNSHIP)) % OFFICERS_PER_TOWNSHIP
                        + t * OFFICERS_PER_TOWNSHIP;
                    officers.push(other);
                }
                out.push(household(rng, &mut ids, &code, village, officers, officer_ids));
            }
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Sex {
    Male,
    Female,
}

impl Sex {
    fn code(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
    fn other(self) -> Sex {
        match self {
            Sex::Male => Sex::Female,
            Sex::Female => Sex::Male,
        }
    }
}

struct Person {
    name: String,
    sex: Sex,
    relation: &'static str,
    age: i32,
    health: &'static str,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许", "傅", "沈", "曾",
    "彭", "吕", "蒋", "蔡", "贾", "丁", "魏", "薛", "叶", "阎",
];
const MALE_CHARS: &[&str] = &[
    "伟", "强", "军", "明", "永", "建", "国", "志", "海", "平", "华", "东", "林", "刚", "俊", "杰", "涛", "斌", "磊",
    "勇", "峰", "春", "立", "文", "德", "成", "兵", "宝", "福", "生", "荣", "良", "浩", "宇", "轩", "博", "睿", "子",
    "庆", "祥",
];
const FEMALE_CHARS: &[&str] = &[
    "秀", "英", "芳", "娟", "敏", "静", "丽", "霞", "燕", "玲", "兰", "凤", "梅", "琴", "红", "艳", "萍", "洁", "慧",
    "婷", "雪", "桂", "珍", "玉", "莉", "娜", "倩", "雅", "欣", "怡", "月", "云",
];

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    *items.choose(rng).unwrap_or(&items[0])
}

/// A given name of one or two characters.
fn given_name(rng: &mut StdRng, sex: Sex) -> String {
    let chars = match sex {
        Sex::Male => MALE_CHARS,
        Sex::Female => FEMALE_CHARS,
    };
    let mut name = pick(rng, chars).to_owned();
    if rng.gen_bool(0.7) {
        name.push_str(pick(rng, chars));
    }
    name
}

/// A new given name for a member, e.g. to correct a misspelt one (the benchmark's edits).
pub(crate) fn corrected_name(rng: &mut StdRng, surname: &str, male: bool) -> String {
    let sex = if male { Sex::Male } else { Sex::Female };
    format!("{surname}{}", given_name(rng, sex))
}

fn other_surname(rng: &mut StdRng, not: &str) -> &'static str {
    loop {
        let s = pick(rng, SURNAMES);
        if s != not {
            return s;
        }
    }
}

fn health(rng: &mut StdRng, age: i32) -> &'static str {
    let (chronic, serious, disabled) = if age >= 65 {
        (0.28, 0.08, 0.07)
    } else if age >= 18 {
        (0.08, 0.04, 0.03)
    } else {
        (0.02, 0.02, 0.02)
    };
    let x: f64 = rng.r#gen();
    if x < disabled {
        "disabled"
    } else if x < disabled + serious {
        "serious_illness"
    } else if x < disabled + serious + chronic {
        "chronic_illness"
    } else {
        "healthy"
    }
}

fn person(rng: &mut StdRng, surname: &str, sex: Sex, relation: &'static str, age: i32) -> Person {
    Person { name: format!("{surname}{}", given_name(rng, sex)), sex, relation, age, health: health(rng, age) }
}

/// The people of one household: a head, usually a spouse, then either children (and a
/// parent of the head) or, for an older head, a married son's family.
fn family(rng: &mut StdRng, size: usize) -> Vec<Person> {
    let head_sex = if rng.gen_bool(0.85) { Sex::Male } else { Sex::Female };
    let head_age: i32 = rng.gen_range(28..=78);
    let head_surname = pick(rng, SURNAMES);
    let mut people = vec![person(rng, head_surname, head_sex, "head", head_age)];
    // Children carry the father's surname.
    let mut family_name = head_surname;
    let has_spouse = match head_sex {
        Sex::Male => rng.gen_bool(0.9),
        Sex::Female => rng.gen_bool(0.3),
    };
    if has_spouse {
        let surname = other_surname(rng, head_surname);
        if head_sex == Sex::Female {
            family_name = surname;
        }
        let age = (head_age + rng.gen_range(-5..=3)).max(22);
        people.push(person(rng, surname, head_sex.other(), "spouse", age));
    }
    if head_age >= 58 && size - people.len() >= 2 && rng.gen_bool(0.6) {
        // An older couple living with a married son and his children.
        let son_age = head_age - rng.gen_range(24..=32);
        people.push(person(rng, family_name, Sex::Male, "son", son_age));
        let wife = other_surname(rng, family_name);
        let age = (son_age + rng.gen_range(-3..=2)).max(20);
        people.push(person(rng, wife, Sex::Female, "daughter_in_law", age));
        while people.len() < size {
            let sex = if rng.gen_bool(0.5) { Sex::Male } else { Sex::Female };
            let relation = match sex {
                Sex::Male => "grandson",
                Sex::Female => "granddaughter",
            };
            let age = rng.gen_range(1..=(son_age - 20).clamp(1, 16));
            people.push(person(rng, family_name, sex, relation, age));
        }
        return people;
    }
    if head_age <= 52 && size - people.len() >= 2 && rng.gen_bool(0.45) {
        let age = (head_age + rng.gen_range(22..=32)).min(94);
        if rng.gen_bool(0.5) {
            people.push(person(rng, head_surname, Sex::Male, "father", age));
        } else {
            let surname = other_surname(rng, head_surname);
            people.push(person(rng, surname, Sex::Female, "mother", age));
        }
    }
    while people.len() < size {
        let sex = if rng.gen_bool(0.52) { Sex::Male } else { Sex::Female };
        let relation = match sex {
            Sex::Male => "son",
            Sex::Female => "daughter",
        };
        let age = rng.gen_range((head_age - 40).max(1)..=head_age - 20);
        people.push(person(rng, family_name, sex, relation, age));
    }
    people
}

/// Unique, valid demo ID numbers: the county's area code, the birth date, a sequence
/// whose last digit is odd for men and even for women, and the GB 11643 check character.
#[derive(Default)]
struct IdNumbers {
    next: HashMap<(NaiveDate, Sex), u32>,
}

impl IdNumbers {
    fn issue(&mut self, rng: &mut StdRng, birth: NaiveDate, sex: Sex) -> String {
        let n = self.next.entry((birth, sex)).or_insert_with(|| rng.gen_range(0..300));
        let seq = *n * 2 + u32::from(sex == Sex::Male);
        *n += 1;
        let first17 = format!("{ID_AREA}{}{seq:03}", birth.format("%Y%m%d"));
        let check = id_check_char(&first17).unwrap_or('0');
        format!("{first17}{check}")
    }
}

fn birth_date(rng: &mut StdRng, age: i32) -> NaiveDate {
    let year = DEMO_YEAR - age;
    let month = rng.gen_range(1..=12);
    let day = rng.gen_range(1..=28);
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

fn mobile_number(rng: &mut StdRng) -> String {
    let prefix = pick(rng, &["13", "15", "18", "17", "19"]);
    format!("{prefix}{:09}", rng.gen_range(0..1_000_000_000u32))
}

fn new_id(rng: &mut StdRng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A record at version 1 with every given field at version 1; `Null`s are left out so
/// their columns take their defaults.
fn record(id: Uuid, values: Vec<(&'static str, FieldValue)>) -> Record {
    let values: BTreeMap<&'static str, FieldValue> =
        values.into_iter().filter(|(_, v)| *v != FieldValue::Null).collect();
    Record {
        id: id.to_string(),
        version: 1,
        field_versions: values.keys().map(|k| ((*k).to_owned(), 1)).collect(),
        values,
    }
}

fn text(s: impl Into<String>) -> FieldValue {
    FieldValue::Text(s.into())
}

fn yuan(amount: i64) -> FieldValue {
    FieldValue::Money(amount * 100)
}

fn date(y: i32, m: u32, d: u32) -> FieldValue {
    FieldValue::Date(format!("{y:04}-{m:02}-{d:02}"))
}

fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    items.choose_weighted(rng, |(_, w)| *w).map_or(items[0].0, |(v, _)| *v)
}

fn household(
    rng: &mut StdRng,
    ids: &mut IdNumbers,
    village_code: &str,
    village_name: &str,
    officers: Vec<usize>,
    officer_ids: &[String],
) -> DemoHousehold {
    let id = new_id(rng);
    let hid = FieldValue::Uuid(id.to_string());
    let size = weighted(rng, &[(3usize, 30), (4, 35), (5, 22), (6, 13)]);
    let people = family(rng, size);
    let status = weighted(rng, &[("registered", 85), ("exited", 12), ("applicant", 3)]);
    let kind = weighted(rng, &[("general", 72), ("dibao", 24), ("wubao", 4)]);
    let standard = weighted(rng, &[("national", 88), ("provincial", 9), ("municipal", 3)]);

    // Causes follow the family: illness and disability where someone is ill or
    // disabled, schooling where children are of school age.
    let mut causes: Vec<String> = Vec::new();
    if people.iter().any(|p| matches!(p.health, "serious_illness" | "chronic_illness")) {
        causes.push("illness".into());
    }
    if people.iter().any(|p| p.health == "disabled") {
        causes.push("disability".into());
    }
    let schooling = people.iter().any(|p| (6..=18).contains(&p.age));
    if schooling && rng.gen_bool(0.3) {
        causes.push("schooling".into());
    }
    let extra = rng.gen_range(1..=2);
    for _ in 0..extra {
        let cause = weighted(
            rng,
            &[
                ("lack_of_skills", 25),
                ("lack_of_funds", 25),
                ("lack_of_labour", 20),
                ("lack_of_motivation", 8),
                ("poor_transport", 6),
                ("lack_of_land", 6),
                ("lack_of_water", 3),
                ("disaster", 4),
                ("marriage", 1),
                ("funeral", 2),
            ],
        );
        if !causes.iter().any(|c| c == cause) {
            causes.push(cause.into());
        }
    }
    causes.truncate(3);

    let secure = |rng: &mut StdRng, p: f64| FieldValue::Bool(status == "exited" || rng.gen_bool(p));
    let food = secure(rng, 0.97);
    let education = secure(rng, if schooling { 0.9 } else { 1.0 });
    let medical = secure(rng, 0.86);
    let housing = secure(rng, 0.85);
    let water = secure(rng, 0.92);
    let planned_exit_year = match status {
        "registered" => FieldValue::Int(rng.gen_range(DEMO_YEAR..=DEMO_YEAR + 2).into()),
        "exited" => FieldValue::Int(rng.gen_range(2019..DEMO_YEAR).into()),
        _ => FieldValue::Null,
    };
    let address = format!("{village_name}{}组{}号", rng.gen_range(1..=8), rng.gen_range(1..=60));
    let household = record(
        id,
        vec![
            ("region_code", text(village_code)),
            ("address", text(address)),
            ("phone", text(mobile_number(rng))),
            ("standard", text(standard)),
            ("kind", text(kind)),
            ("status", text(status)),
            ("poverty_causes", FieldValue::List(causes.clone())),
            ("food_clothing_secure", food),
            ("education_secure", education),
            ("medical_secure", medical),
            ("housing_secure", housing),
            ("water_secure", water),
            ("planned_exit_year", planned_exit_year),
        ],
    );

    let members = people
        .iter()
        .map(|p| {
            let birth = birth_date(rng, p.age);
            let id_number = ids.issue(rng, birth, p.sex);
            let phone = if p.age >= 18 && p.age < 70 && rng.gen_bool(0.5) {
                text(mobile_number(rng))
            } else {
                FieldValue::Null
            };
            record(
                new_id(rng),
                vec![
                    ("household_id", hid.clone()),
                    ("name", text(p.name.clone())),
                    ("sex", text(p.sex.code())),
                    ("id_number", text(id_number)),
                    ("relation", text(p.relation)),
                    ("health", text(p.health)),
                    ("phone", phone),
                    ("active", FieldValue::Bool(true)),
                ],
            )
        })
        .collect();

    let incomes = vec![income(rng, &hid, status, kind, &people)];

    let mut measures = Vec::new();
    if status != "applicant" {
        for _ in 0..rng.gen_range(0..=2) {
            measures.push(help_measure(rng, &hid, kind, &causes));
        }
    }

    let officer_id = FieldValue::Uuid(officer_ids[officers[0]].clone());
    let mut plans = Vec::new();
    let mut tasks = Vec::new();
    if status == "registered" && rng.gen_bool(0.5) {
        let plan_id = new_id(rng);
        let per_capita = rng.gen_range(50..=90) * 100;
        plans.push(record(
            plan_id,
            vec![
                ("household_id", hid.clone()),
                ("year", FieldValue::Int(DEMO_YEAR.into())),
                ("goal", text(format!("{DEMO_YEAR}年人均纯收入稳定超过扶贫标准，两不愁三保障全部达标"))),
                ("planned_income", yuan(per_capita)),
            ],
        ));
        let mut titles = PLAN_TASKS.to_vec();
        titles.shuffle(rng);
        for (title, month) in titles.into_iter().take(2) {
            let done = month <= 9 && rng.gen_bool(0.7);
            tasks.push(record(
                new_id(rng),
                vec![
                    ("household_id", hid.clone()),
                    ("plan_id", FieldValue::Uuid(plan_id.to_string())),
                    ("title", text(title)),
                    ("due_date", date(DEMO_YEAR, month, 28)),
                    ("officer_id", officer_id.clone()),
                    ("done", FieldValue::Bool(done)),
                    ("progress_note", if done { text("已落实") } else { FieldValue::Null }),
                ],
            ));
        }
    }

    let mut visits = Vec::new();
    if rng.gen_bool(0.6) {
        for _ in 0..rng.gen_range(1..=2) {
            visits.push(record(
                new_id(rng),
                vec![
                    ("household_id", hid.clone()),
                    ("visited_on", date(DEMO_YEAR, rng.gen_range(1..=10), rng.gen_range(1..=28))),
                    ("note", text(pick(rng, VISIT_NOTES))),
                    ("attachment_ids", FieldValue::List(Vec::new())),
                    ("officer_id", officer_id.clone()),
                ],
            ));
        }
    }

    DemoHousehold { record: household, members, incomes, measures, plans, tasks, visits, officers }
}

const PLAN_TASKS: &[(&str, u32)] = &[
    ("落实公益性岗位", 4),
    ("协助申请产业扶持资金", 5),
    ("办理大病医疗救助", 6),
    ("落实雨露计划助学补助", 9),
    ("核实全年家庭收入", 10),
    ("危房改造验收", 11),
    ("组织参加就业技能培训", 8),
];

const VISIT_NOTES: &[&str] = &[
    "了解家庭收入和务工情况，宣传产业扶持政策。",
    "核实家庭成员变化，更新联系电话。",
    "询问户主病情和医疗报销情况，已协助办理慢性病卡。",
    "检查住房安全和饮水情况，无异常。",
    "了解子女上学情况，告知雨露计划申请办法。",
    "落实帮扶计划任务进展，户主对帮扶措施满意。",
];

/// The year's income: per-capita net income around 2,000–9,000 yuan, made of wages,
/// farming, a little property income and transfers (pensions for the over-60s,
/// 低保 for dibao households).
fn income(rng: &mut StdRng, hid: &FieldValue, status: &str, kind: &str, people: &[Person]) -> Record {
    let n = people.len() as i64;
    let per_capita: i64 = match status {
        "exited" => rng.gen_range(5_500..=9_000),
        "applicant" => rng.gen_range(1_800..=4_000),
        _ => rng.gen_range(2_000..=6_500),
    };
    let net = per_capita * n;
    let pensioners = people.iter().filter(|p| p.age >= 60).count() as i64;
    let pension: i64 = (0..pensioners).map(|_| rng.gen_range(1_800..=2_400)).sum();
    let social = match kind {
        "dibao" => rng.gen_range(3_000..=6_000),
        "wubao" => rng.gen_range(6_000..=9_000),
        _ => 0,
    };
    let transfer = pension + social + rng.gen_range(2..=15) * 100;
    let expense = rng.gen_range(5..=30) * 100;
    // What wages, farming and property must bring for the net to come out as drawn.
    let earned = (net + expense - transfer).max(rng.gen_range(3..=10) * 100);
    let property = rng.gen_range(0..=(earned / 4).min(300));
    let wage = ((earned - property) as f64 * rng.gen_range(0.45..0.8) / 10.0).round() as i64 * 10;
    let business = earned - property - wage;
    record(
        new_id(rng),
        vec![
            ("household_id", hid.clone()),
            ("year", FieldValue::Int(DEMO_YEAR.into())),
            ("wage", yuan(wage)),
            ("business", yuan(business)),
            ("property", yuan(property)),
            ("transfer", yuan(transfer)),
            ("business_expense", yuan(expense)),
            ("pension", yuan(pension)),
        ],
    )
}

/// A help measure that fits the household, in one of the six main-measure categories
/// (001 附件2): social security (medical aid included) for illness, dibao and wubao,
/// education for schooling, otherwise mostly industry or employment.
fn help_measure(rng: &mut StdRng, hid: &FieldValue, kind: &str, causes: &[String]) -> Record {
    let has = |c: &str| causes.iter().any(|x| x == c);
    let illness = has("illness") && rng.gen_bool(0.5);
    let category = if illness || (kind != "general" && rng.gen_bool(0.5)) {
        "social_security"
    } else if has("schooling") && rng.gen_bool(0.6) {
        "education"
    } else {
        weighted(rng, &[("industry", 45), ("employment", 40), ("ecological_compensation", 8), ("relocation", 4)])
    };
    let (name, project, scale, funds): (&str, &str, &str, i64) = match category {
        "social_security" if illness => pick(
            rng,
            &[("大病专项救治", "医疗救助", "住院报销1人次", 5_000), ("慢性病门诊补助", "医疗救助", "1人", 1_200)],
        ),
        "ecological_compensation" => pick(
            rng,
            &[
                ("生态护林员", "生态护林员选聘", "管护林地500亩", 8_000),
                ("退耕还林补助", "新一轮退耕还林", "2亩", 1_500),
            ],
        ),
        "education" => pick(
            rng,
            &[("雨露计划助学", "雨露计划", "中职学生1人", 3_000), ("义务教育阶段资助", "教育资助", "学生1人", 1_000)],
        ),
        "social_security" => pick(
            rng,
            &[("低保金发放", "农村低保", "全年", 4_800), ("城乡居民养老保险代缴", "社保兜底", "代缴2人", 200)],
        ),
        "relocation" => pick(rng, &[("危房改造", "农村危房改造", "C级危房修缮", 20_000)]),
        "employment" => pick(
            rng,
            &[
                ("公益性岗位", "村级公益岗位", "保洁员1人", 6_000),
                ("就业技能培训", "电焊工培训", "15天", 1_200),
                ("劳务输出交通补贴", "外出务工补贴", "1人", 500),
            ],
        ),
        _ => pick(
            rng,
            &[
                ("发放鸡苗", "特色养殖", "鸡苗200只", 2_000),
                ("葡萄种植补助", "特色种植", "3亩", 3_000),
                ("光伏扶贫收益分配", "村级光伏电站", "3千瓦", 3_000),
                ("发放山羊", "特色养殖", "山羊5只", 4_000),
            ],
        ),
    };
    let year = rng.gen_range(DEMO_YEAR - 1..=DEMO_YEAR);
    record(
        new_id(rng),
        vec![
            ("household_id", hid.clone()),
            ("category", text(category)),
            ("name", text(name)),
            ("year", FieldValue::Int(year.into())),
            ("start_date", date(year, rng.gen_range(1..=12), rng.gen_range(1..=28))),
            ("project_name", text(project)),
            ("scale", text(scale)),
            ("funds", yuan(funds)),
        ],
    )
}

// ---------------------------------------------------------------------------------
// The demo's 2026: completed and open cases, comparison leads, poverty lines.
// ---------------------------------------------------------------------------------

/// The year the demo's procedures run in.
pub const HISTORY_YEAR: i32 = 2026;
/// Nothing in the history happens after this day (the demo must not be in the future).
const HISTORY_END: (u32, u32) = (11, 20);
/// What the demo's poverty lines cite.
const THRESHOLD_SOURCE: &str = "演示数据（县扶贫办设定）";
/// The county's lines for the 2025 incomes and for 2026, in yuan per head and year.
const THRESHOLDS: [(&str, i64); 3] = [("national", 4_000), ("provincial", 6_000), ("municipal", 5_000)];
/// Per-head net income given to households that exit, comfortably above every line.
const EXIT_INCOME_PER_HEAD: i64 = 7_500;
const OUTSIDE_REASON: &str = "系统未开放，纸质建档";
pub const LEADS_FILE: &str = "演示-公安交警车辆.csv";
/// The report that shows the history, for the printed summary.
pub const REPORT_URL: &str =
    "/api/v1/reports/dynamic_adjustment?region_code=320703000000&from=2026-01-01&to=2026-12-31&format=xlsx";

/// Who signs a step: an officer (by index), a village team (by village index), a
/// township team (by township index) or the county office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signer {
    Officer(usize),
    Village(usize),
    Township(usize),
    County,
}

impl Signer {
    fn level(self) -> u8 {
        match self {
            Signer::Officer(_) => 0,
            Signer::Village(_) => 1,
            Signer::Township(_) => 2,
            Signer::County => 3,
        }
    }
    fn level_code(self) -> &'static str {
        match self {
            Signer::Officer(_) => "officer",
            Signer::Village(_) => "village",
            Signer::Township(_) => "township",
            Signer::County => "county",
        }
    }
    /// The signer's user id, role and the region of the grant used.
    fn resolve(self, user_ids: &HashMap<String, String>) -> (String, Role, String) {
        match self {
            Signer::Officer(n) => (
                user_ids[&officer_username(n + 1)].clone(),
                Role::Officer,
                TOWNSHIPS[n / OFFICERS_PER_TOWNSHIP].0.to_owned(),
            ),
            Signer::Village(v) => {
                (user_ids[&village_username(v + 1)].clone(), Role::Village, village_code(TOWNSHIPS[v / 4].0, v % 4))
            }
            Signer::Township(t) => {
                (user_ids[&format!("township-{}", t + 1)].clone(), Role::Township, TOWNSHIPS[t].0.to_owned())
            }
            Signer::County => (user_ids["county"].clone(), Role::County, COUNTY_CODE.to_owned()),
        }
    }
}

struct DemoSignoff {
    id: Uuid,
    step: Step,
    decision: &'static str,
    signer: Signer,
    comment: Option<String>,
    at: DateTime<Utc>,
}

/// A procedure case with its sign-offs, ready to insert.
struct DemoCase {
    record: Record,
    frozen_level: Option<&'static str>,
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    signoffs: Vec<DemoSignoff>,
}

impl DemoCase {
    fn kind(&self) -> &str {
        self.record.text("kind").unwrap_or_default()
    }
    fn status(&self) -> &str {
        self.record.text("status").unwrap_or_default()
    }
}

/// How far a generated case got.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Completed,
    /// Open after this many approvals.
    Open(usize),
    /// Rejected at the step after this many approvals.
    Rejected(usize),
}

struct DemoLead {
    household: usize,
    member_id: String,
    details: serde_json::Value,
    status: &'static str,
    note: Option<&'static str>,
    decided: Option<DateTime<Utc>>,
}

/// Everything the history adds besides changed households.
#[derive(Default)]
struct History {
    cases: Vec<DemoCase>,
    leads: Vec<DemoLead>,
    outside: usize,
    added_members: usize,
}

fn china_time(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let local = day.and_hms_opt(hour, minute, 0).unwrap_or_default();
    local.and_utc() - chrono::Duration::hours(8)
}

/// The village index (0–7) of a village code.
fn village_index(code: &str) -> usize {
    for (t, (township, _, villages)) in TOWNSHIPS.iter().enumerate() {
        for v in 0..villages.len() {
            if village_code(township, v) == code {
                return t * 4 + v;
            }
        }
    }
    0
}

fn signer_for(step: Step, household: &DemoHousehold) -> Signer {
    let village = village_index(household.record.text("region_code").unwrap_or_default());
    match step {
        Step::Application | Step::HomeVerification => Signer::Officer(household.officers[0]),
        Step::Comparison | Step::TownshipReview | Step::TownshipNotice => Signer::Township(village / 4),
        Step::VillageAssessment | Step::VillageNotice => Signer::Village(village),
        Step::CountyReview | Step::Announcement => Signer::County,
    }
}

fn step_comment(step: Step) -> &'static str {
    match step {
        Step::Application => "农户提出申请，材料齐全",
        Step::HomeVerification => "已入户核实，情况属实",
        Step::Comparison => "部门信息比对无异常",
        Step::VillageAssessment => "村民代表大会民主评议通过",
        Step::VillageNotice => "村级公示7天无异议",
        Step::TownshipReview => "乡镇审核通过",
        Step::TownshipNotice => "乡镇公示7天无异议",
        Step::CountyReview => "县级复审同意",
        Step::Announcement => "县级公告完成",
    }
}

/// A case for `household` that started on a day drawn between `first` and the last day
/// leaving room for its steps, with its sign-offs in step order.
#[allow(clippy::too_many_arguments)]
fn demo_case(
    rng: &mut StdRng,
    officer_ids: &[String],
    household: &DemoHousehold,
    kind: CaseKind,
    reason: Option<&str>,
    member_id: Option<&str>,
    note: &str,
    outcome: Outcome,
    first: NaiveDate,
) -> DemoCase {
    let steps = kind.steps();
    let (approvals, rejected) = match outcome {
        Outcome::Completed => (steps.len(), false),
        Outcome::Open(n) => (n.min(steps.len() - 1), false),
        Outcome::Rejected(n) => (n.min(steps.len() - 1), true),
    };
    let signed = approvals + usize::from(rejected);
    // Days between one sign-off and the next: a notice runs seven days.
    let gaps: Vec<i64> = steps[..signed]
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            _ if i == 0 => rng.gen_range(0..=2),
            Step::VillageNotice | Step::TownshipNotice | Step::Announcement => 7,
            _ => rng.gen_range(1..=5),
        })
        .collect();
    let total: i64 = gaps.iter().sum();
    let last = NaiveDate::from_ymd_opt(HISTORY_YEAR, HISTORY_END.0, HISTORY_END.1).unwrap_or_default();
    let latest_start = last - chrono::Duration::days(total + 1);
    let span = (latest_start - first).num_days().max(0);
    let start = first + chrono::Duration::days(rng.gen_range(0..=span));
    let created_at = china_time(start, rng.gen_range(8..=10), rng.gen_range(0..60));

    let hid = FieldValue::Uuid(household.record.id.clone());
    let mut values: Vec<(&'static str, FieldValue)> = vec![
        ("household_id", hid),
        ("kind", text(kind.code())),
        ("reason", reason.map_or(FieldValue::Null, text)),
        ("member_id", member_id.map_or(FieldValue::Null, |m| FieldValue::Uuid(m.to_owned()))),
        ("note", text(note)),
        ("status", text("open")),
        ("step", text(Step::Application.code())),
        ("opened_by", FieldValue::Uuid(officer_ids[household.officers[0]].clone())),
    ];
    values.retain(|(_, v)| *v != FieldValue::Null);
    let mut record = record(new_id(rng), values);

    let mut day = start;
    let mut signoffs = Vec::new();
    let mut frozen: Option<Signer> = None;
    for (i, step) in steps[..signed].iter().enumerate() {
        day += chrono::Duration::days(gaps[i]);
        let at = if i == 0 {
            created_at + chrono::Duration::minutes(rng.gen_range(20..=240))
        } else {
            china_time(day, rng.gen_range(9..=17), rng.gen_range(0..60))
        };
        let signer = signer_for(*step, household);
        let reject = rejected && i == approvals;
        signoffs.push(DemoSignoff {
            id: new_id(rng),
            step: *step,
            decision: if reject { "reject" } else { "approve" },
            signer,
            comment: Some(if reject {
                "经评议不符合条件，不予通过".to_owned()
            } else {
                step_comment(*step).to_owned()
            }),
            at,
        });
        record.version += 1;
        if reject {
            record.values.insert("status", text("rejected"));
            record.field_versions.insert("status".into(), record.version);
        } else {
            if frozen.is_none_or(|f| signer.level() > f.level()) {
                frozen = Some(signer);
            }
            match steps.get(i + 1) {
                Some(next) => {
                    record.values.insert("step", text(next.code()));
                    record.field_versions.insert("step".into(), record.version);
                }
                None => {
                    record.values.insert("status", text("completed"));
                    record.field_versions.insert("status".into(), record.version);
                }
            }
        }
    }
    let closed_at = match outcome {
        Outcome::Open(_) => None,
        _ => signoffs.last().map(|s| s.at),
    };
    DemoCase { record, frozen_level: frozen.map(Signer::level_code), created_at, closed_at, signoffs }
}

fn set(record: &mut Record, name: &'static str, value: FieldValue) {
    if value == FieldValue::Null {
        record.values.remove(name);
        record.field_versions.remove(name);
    } else {
        record.values.insert(name, value);
        record.field_versions.insert(name.to_owned(), record.version);
    }
}

/// Marks the household as meeting the exit standard: every guarantee met and the 2025
/// income comfortably above every line.
fn meet_exit_standard(household: &mut DemoHousehold) {
    for field in ["food_clothing_secure", "education_secure", "medical_secure", "housing_secure", "water_secure"] {
        set(&mut household.record, field, FieldValue::Bool(true));
    }
    let people = household.members.iter().filter(|m| m.value("active") != &FieldValue::Bool(false)).count() as i64;
    let money = |r: &Record, f: &str| match r.value(f) {
        FieldValue::Money(v) => *v,
        _ => 0,
    };
    for income in &mut household.incomes {
        let net =
            money(income, "wage") + money(income, "business") + money(income, "property") + money(income, "transfer")
                - money(income, "pension")
                - money(income, "business_expense");
        let target = EXIT_INCOME_PER_HEAD * 100 * people.max(1);
        if net < target {
            let wage = money(income, "wage") + (target - net + 9_999) / 10_000 * 10_000;
            set(income, "wage", FieldValue::Money(wage));
        }
    }
}

/// Age in 2026 of a member, read from the ID number's birth date.
fn member_age(member: &Record) -> i32 {
    member
        .text("id_number")
        .and_then(|id| id.get(6..10))
        .and_then(|y| y.parse::<i32>().ok())
        .map_or(0, |y| HISTORY_YEAR - y)
}

fn is_active(member: &Record) -> bool {
    member.value("active") != &FieldValue::Bool(false)
}

/// A member of the household fitting `fits`, if any.
fn find_member(household: &DemoHousehold, fits: impl Fn(&Record) -> bool) -> Option<usize> {
    household.members.iter().position(|m| is_active(m) && fits(m))
}

fn relation_is(member: &Record, relations: &[&str]) -> bool {
    member.text("relation").is_some_and(|r| relations.contains(&r))
}

/// An ID number for someone born outside the county (a bride from 东海县).
fn outside_id_number(rng: &mut StdRng, birth: NaiveDate, sex: Sex) -> String {
    let seq = rng.gen_range(0..500u32) * 2 + u32::from(sex == Sex::Male);
    let first17 = format!("320722{}{seq:03}", birth.format("%Y%m%d"));
    let check = id_check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// Writes the demo's 2026 into the generated households: completed cases whose
/// outcomes the households' statuses and members now show, open and rejected cases,
/// system-outside households and vehicle leads. Pure: no I/O.
fn history(rng: &mut StdRng, households: &mut [DemoHousehold], officer_ids: &[String]) -> History {
    let mut out = History::default();
    let pool = |status: &str, rng: &mut StdRng| -> Vec<usize> {
        let mut v: Vec<usize> =
            (0..households.len()).filter(|i| households[*i].record.text("status") == Some(status)).collect();
        v.shuffle(rng);
        v
    };
    let mut registered = pool("registered", rng);
    let mut exited = pool("exited", rng);
    let mut applicants = pool("applicant", rng);
    let jan = NaiveDate::from_ymd_opt(HISTORY_YEAR, 1, 5).unwrap_or_default();
    let autumn = NaiveDate::from_ymd_opt(HISTORY_YEAR, 9, 20).unwrap_or_default();

    // 40 identifications completed: households registered this year.
    for h in take(&mut registered, 40) {
        let case = demo_case(
            rng,
            officer_ids,
            &households[h],
            CaseKind::Identify,
            None,
            None,
            "新识别贫困户",
            Outcome::Completed,
            jan,
        );
        out.cases.push(case);
    }
    // 15 removals.
    const REMOVALS: &[&str] = &["vehicle", "urban_property", "public_servant", "registered_business", "nominal_hukou"];
    for (i, h) in take(&mut registered, 15).into_iter().enumerate() {
        let reason = REMOVALS[i % REMOVALS.len()];
        let case = demo_case(
            rng,
            officer_ids,
            &households[h],
            CaseKind::Remove,
            Some(reason),
            None,
            "经核实不符合建档立卡条件，予以清除",
            Outcome::Completed,
            jan,
        );
        set(&mut households[h].record, "status", text("removed"));
        out.cases.push(case);
    }
    // 60 exits.
    for h in take(&mut registered, 60) {
        meet_exit_standard(&mut households[h]);
        set(&mut households[h].record, "status", text("exited"));
        set(&mut households[h].record, "planned_exit_year", FieldValue::Int(HISTORY_YEAR.into()));
        let case = demo_case(
            rng,
            officer_ids,
            &households[h],
            CaseKind::Exit,
            None,
            None,
            "收入稳定超过扶贫标准，两不愁三保障已实现",
            Outcome::Completed,
            jan,
        );
        out.cases.push(case);
    }
    // 8 relapses and 3 exit reversals of households that exited before 2026.
    const RELAPSES: &[&str] =
        &["illness", "disaster", "disability", "market", "illness", "lack_of_labour", "schooling", "project_failure"];
    for (i, h) in take(&mut exited, 8).into_iter().enumerate() {
        let cause = RELAPSES[i % RELAPSES.len()];
        let case = demo_case(
            rng,
            officer_ids,
            &households[h],
            CaseKind::Relapse,
            Some(cause),
            None,
            "脱贫后返贫，重新纳入",
            Outcome::Completed,
            jan,
        );
        set(&mut households[h].record, "status", text("registered"));
        set(&mut households[h].record, "planned_exit_year", FieldValue::Int((HISTORY_YEAR + 1).into()));
        if cause == "illness" {
            set(&mut households[h].record, "medical_secure", FieldValue::Bool(false));
        }
        out.cases.push(case);
    }
    for h in take(&mut exited, 3) {
        let case = demo_case(
            rng,
            officer_ids,
            &households[h],
            CaseKind::ExitReversal,
            None,
            None,
            "退出时收入核算有误，经核实未达脱贫标准",
            Outcome::Completed,
            jan,
        );
        set(&mut households[h].record, "status", text("registered"));
        set(&mut households[h].record, "planned_exit_year", FieldValue::Int((HISTORY_YEAR + 1).into()));
        out.cases.push(case);
    }

    // 30 member changes.
    let mut births = IdNumbers::default();
    let reasons: Vec<&str> =
        [("newborn", 8), ("marriage_in", 5), ("death", 7), ("moved_out", 4), ("marriage_out", 4), ("urban_hukou", 2)]
            .iter()
            .flat_map(|(r, n)| std::iter::repeat_n(*r, *n))
            .collect();
    for reason in reasons {
        let fits = |h: &DemoHousehold| -> Option<usize> {
            match reason {
                "newborn" => find_member(h, |m| {
                    relation_is(m, &["spouse", "daughter_in_law"])
                        && m.text("sex") == Some("female")
                        && (22..=38).contains(&member_age(m))
                }),
                "marriage_in" => (find_member(h, |m| relation_is(m, &["daughter_in_law"])).is_none())
                    .then(|| find_member(h, |m| relation_is(m, &["son"]) && (23..=35).contains(&member_age(m))))
                    .flatten(),
                "death" => find_member(h, |m| !relation_is(m, &["head"]) && member_age(m) >= 70),
                "moved_out" | "urban_hukou" => find_member(h, |m| {
                    relation_is(m, &["son", "daughter", "grandson", "granddaughter"])
                        && (18..=45).contains(&member_age(m))
                }),
                "marriage_out" => find_member(h, |m| {
                    relation_is(m, &["daughter", "granddaughter"]) && (20..=35).contains(&member_age(m))
                }),
                _ => None,
            }
        };
        let Some(pos) = registered.iter().rposition(|h| fits(&households[*h]).is_some()) else { continue };
        let h = registered.remove(pos);
        let Some(m) = fits(&households[h]) else { continue };
        let hid = FieldValue::Uuid(households[h].record.id.clone());
        let (member_id, note) = match reason {
            "newborn" | "marriage_in" => {
                let anchor = &households[h].members[m];
                let (sex, relation, age, surname) = if reason == "newborn" {
                    let sex = if rng.gen_bool(0.52) { Sex::Male } else { Sex::Female };
                    let grand = relation_is(anchor, &["daughter_in_law"]);
                    let relation = match (grand, sex) {
                        (true, Sex::Male) => "grandson",
                        (true, Sex::Female) => "granddaughter",
                        (false, Sex::Male) => "son",
                        (false, Sex::Female) => "daughter",
                    };
                    let father = find_member(&households[h], |x| {
                        x.text("sex") == Some("male")
                            && relation_is(x, if grand { &["son"] } else { &["head", "spouse"] })
                    });
                    let surname = father
                        .and_then(|f| households[h].members[f].text("name").and_then(|n| n.chars().next()))
                        .map_or_else(|| pick(rng, SURNAMES).to_owned(), String::from);
                    (sex, relation, 0, surname)
                } else {
                    let husband =
                        anchor.text("name").and_then(|n| n.chars().next()).map(String::from).unwrap_or_default();
                    let relation = "daughter_in_law";
                    (
                        Sex::Female,
                        relation,
                        member_age(anchor) + rng.gen_range(-3..=1),
                        other_surname(rng, &husband).to_owned(),
                    )
                };
                let name = format!("{surname}{}", given_name(rng, sex));
                let id = new_id(rng).to_string();
                // Decide the case first: the person joins before it is opened.
                let case = demo_case(
                    rng,
                    officer_ids,
                    &households[h],
                    CaseKind::MemberChange,
                    Some(reason),
                    Some(&id),
                    if reason == "newborn" { "新生儿落户" } else { "婚入" },
                    Outcome::Completed,
                    jan,
                );
                let opened = case.created_at.date_naive();
                let id_number = if reason == "newborn" {
                    let earliest = NaiveDate::from_ymd_opt(HISTORY_YEAR, 1, 1).unwrap_or_default();
                    let birth = (opened - chrono::Duration::days(rng.gen_range(5..=40))).max(earliest);
                    births.issue(rng, birth, sex)
                } else {
                    let birth =
                        NaiveDate::from_ymd_opt(HISTORY_YEAR - age, rng.gen_range(1..=12), rng.gen_range(1..=28))
                            .unwrap_or_default();
                    outside_id_number(rng, birth, sex)
                };
                households[h].members.push(record(
                    Uuid::parse_str(&id).unwrap_or_else(|_| Uuid::nil()),
                    vec![
                        ("household_id", hid),
                        ("name", text(name)),
                        ("sex", text(sex.code())),
                        ("id_number", text(id_number)),
                        ("relation", text(relation)),
                        ("health", text("healthy")),
                        ("active", FieldValue::Bool(true)),
                    ],
                ));
                out.added_members += 1;
                out.cases.push(case);
                continue;
            }
            "death" => (households[h].members[m].id.clone(), "家庭成员因病去世"),
            "moved_out" => (households[h].members[m].id.clone(), "户籍迁出"),
            "marriage_out" => (households[h].members[m].id.clone(), "出嫁婚出"),
            _ => (households[h].members[m].id.clone(), "农转非"),
        };
        let case = demo_case(
            rng,
            officer_ids,
            &households[h],
            CaseKind::MemberChange,
            Some(reason),
            Some(&member_id),
            note,
            Outcome::Completed,
            jan,
        );
        set(&mut households[h].members[m], "active", FieldValue::Bool(false));
        out.cases.push(case);
    }

    // Open cases, waiting at various steps.
    for (i, h) in take(&mut applicants, 10).into_iter().enumerate() {
        // village_notice (5 approvals), township_review (5+1… see steps), county_review.
        let approvals = [4, 4, 4, 4, 5, 5, 5, 7, 7, 1][i];
        out.cases.push(demo_case(
            rng,
            officer_ids,
            &households[h],
            CaseKind::Identify,
            None,
            None,
            "农户申请纳入",
            Outcome::Open(approvals),
            autumn,
        ));
    }
    for (i, h) in take(&mut registered, 8).into_iter().enumerate() {
        meet_exit_standard(&mut households[h]);
        // Waiting at township_review, or at township_notice once the township has signed.
        let approvals = if i % 2 == 0 { 4 } else { 5 };
        out.cases.push(demo_case(
            rng,
            officer_ids,
            &households[h],
            CaseKind::Exit,
            None,
            None,
            "拟脱贫退出",
            Outcome::Open(approvals),
            autumn,
        ));
    }
    let lead_removals = take(&mut registered, 2);
    for h in &lead_removals {
        // Waiting at township_review after the vehicle lead was confirmed.
        out.cases.push(demo_case(
            rng,
            officer_ids,
            &households[*h],
            CaseKind::Remove,
            Some("vehicle"),
            None,
            "比对发现拥有3万元以上机动车，入户核实属实",
            Outcome::Open(5),
            autumn,
        ));
    }
    for h in take(&mut registered, 3) {
        let Some(m) = find_member(&households[h], |m| !relation_is(m, &["head"])) else { continue };
        let member_id = households[h].members[m].id.clone();
        out.cases.push(demo_case(
            rng,
            officer_ids,
            &households[h],
            CaseKind::MemberChange,
            Some("moved_out"),
            Some(&member_id),
            "申请户籍迁出",
            Outcome::Open(0),
            autumn,
        ));
    }
    for h in take(&mut exited, 2) {
        out.cases.push(demo_case(
            rng,
            officer_ids,
            &households[h],
            CaseKind::Relapse,
            Some("illness"),
            None,
            "家庭成员患大病，申请返贫",
            Outcome::Open(1),
            autumn,
        ));
    }
    // Two rejected: an identification at village assessment and an exit at township review.
    for h in take(&mut applicants, 1) {
        out.cases.push(demo_case(
            rng,
            officer_ids,
            &households[h],
            CaseKind::Identify,
            None,
            None,
            "农户申请纳入",
            Outcome::Rejected(3),
            jan,
        ));
        set(&mut households[h].record, "status", text("rejected"));
    }
    for h in take(&mut registered, 1) {
        out.cases.push(demo_case(
            rng,
            officer_ids,
            &households[h],
            CaseKind::Exit,
            None,
            None,
            "拟脱贫退出",
            Outcome::Rejected(4),
            jan,
        ));
    }

    // Households kept on paper, outside the national system.
    for h in take(&mut registered, 5) {
        set(&mut households[h].record, "outside_national_system", FieldValue::Bool(true));
        set(&mut households[h].record, "outside_reason", text(OUTSIDE_REASON));
        out.outside += 1;
    }

    // Vehicle leads from the traffic police list: two confirmed (the open removals),
    // two dismissed, six open.
    let imported = NaiveDate::from_ymd_opt(HISTORY_YEAR, 9, 10).unwrap_or_default();
    let mut lead_households: Vec<(usize, &'static str, Option<&'static str>)> = lead_removals
        .iter()
        .map(|h| (*h, "confirmed", Some("入户核实属实，车辆登记在户主名下，已启动清除程序")))
        .collect();
    for h in take(&mut registered, 2) {
        lead_households.push((h, "dismissed", Some("入户核实：车辆已于登记前转让，现不在该户名下")));
    }
    for h in take(&mut registered, 6) {
        lead_households.push((h, "open", None));
    }
    for (line, (h, status, note)) in lead_households.into_iter().enumerate() {
        let household = &households[h];
        let Some(m) = find_member(household, |m| relation_is(m, &["head"])) else { continue };
        let member = &household.members[m];
        let registered_on =
            date_text(HISTORY_YEAR - 1 - rng.gen_range(0..4), rng.gen_range(1..=12), rng.gen_range(1..=28));
        let details = serde_json::json!({
            "line": line + 2,
            "姓名": member.text("name").unwrap_or_default(),
            "身份证号码": jingzhun_mobile_api::validate::mask_id_number(member.text("id_number").unwrap_or_default()),
            "号牌号码": format!("苏G{}", rng.gen_range(10_000..100_000)),
            "登记日期": registered_on,
            "价格": (rng.gen_range(35..=160) * 1_000).to_string(),
        });
        let decided =
            (status != "open").then(|| china_time(imported + chrono::Duration::days(rng.gen_range(3..=10)), 15, 0));
        out.leads.push(DemoLead { household: h, member_id: member.id.clone(), details, status, note, decided });
    }
    out
}

fn take(v: &mut Vec<usize>, n: usize) -> Vec<usize> {
    v.split_off(v.len().saturating_sub(n))
}

fn date_text(y: i32, m: u32, d: u32) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// The county's poverty lines for the 2025 incomes and for 2026.
async fn insert_thresholds(conn: &impl ConnectionTrait, updated_by: &str) -> Result<usize, sea_orm::DbErr> {
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
async fn insert_cases(
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
async fn insert_leads(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql;
    use jingzhun_mobile_api::validate::{self, id_number_is_valid, id_sex};
    use std::collections::HashSet;

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
        crate::db::query_scalar_i64(&db.conn, sql(db.backend(), text, vec![])).await.expect("query").unwrap_or(0)
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

        let rows = db
            .conn
            .query_all_raw(sql(db.backend(), "SELECT id_number, sex FROM member", vec![]))
            .await
            .expect("members");
        let mut seen = HashSet::new();
        for row in &rows {
            let id_number: String = row.try_get_by_index(0).expect("id_number");
            let sex: String = row.try_get_by_index(1).expect("sex");
            assert!(id_number_is_valid(&id_number), "{id_number}");
            assert_eq!(id_sex(&id_number), Some(sex.as_str()), "{id_number}");
            assert!(seen.insert(id_number.clone()), "{id_number} twice");
        }
        assert_eq!(rows.len(), summary.members);

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
        let ids: Vec<String> = db
            .conn
            .query_all_raw(sql(db.backend(), "SELECT id FROM household", vec![]))
            .await
            .expect("ids")
            .iter()
            .map(|r| r.try_get_by_index(0).expect("id"))
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
        for (step, kind) in
            [("village_notice", "identify"), ("township_review", "exit"), ("application", "member_change")]
        {
            let text = format!(
                "SELECT COUNT(*) FROM procedure_case WHERE status = 'open' AND step = '{step}' AND kind = '{kind}'"
            );
            assert!(count(db, &text).await > 0, "an open {kind} at {step}");
        }
        assert!(
            count(db, "SELECT COUNT(*) FROM procedure_case WHERE status = 'open' AND frozen_level = 'township'").await
                > 0
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
        let cases = db
            .conn
            .query_all_raw(sql(db.backend(), "SELECT id, kind, status, step, version FROM procedure_case", vec![]))
            .await
            .expect("cases");
        let today = Utc::now();
        for row in &cases {
            let id: String = row.try_get_by_index(0).expect("id");
            let kind: String = row.try_get_by_index(1).expect("kind");
            let status: String = row.try_get_by_index(2).expect("status");
            let step: String = row.try_get_by_index(3).expect("step");
            let version: i64 = row.try_get_by_index(4).expect("version");
            let kind = CaseKind::parse(&kind).expect("kind");
            let signoffs = db
                .conn
                .query_all_raw(sql(
                    db.backend(),
                    "SELECT step, role, decision, at FROM case_signoff WHERE case_id = ? ORDER BY at",
                    vec![id.as_str().into()],
                ))
                .await
                .expect("signoffs");
            assert_eq!(version, 1 + signoffs.len() as i64, "{id}");
            let mut last: Option<DateTime<Utc>> = None;
            for (i, s) in signoffs.iter().enumerate() {
                let signed: String = s.try_get_by_index(0).expect("step");
                let role: String = s.try_get_by_index(1).expect("role");
                let at: DateTime<Utc> = s.try_get_by_index(3).expect("at");
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

        // The county's 附件1 for 2026 has figures.
        let unit = crate::reports::queries::region(&db.conn, COUNTY_CODE).await.expect("region").expect("county");
        let period = crate::reports::Period::new(
            NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
        )
        .expect("period");
        let report = crate::reports::build(
            &db.conn,
            crate::reports::ReportName::DynamicAdjustment,
            unit,
            period,
            ("1 = 1".to_owned(), vec![]),
        )
        .await
        .expect("report");
        let json = report.to_json();
        let total = &json["total"]["values"];
        println!("附件1 total: {total}");
        for key in ["new_identified", "exited", "removed", "relapse", "increase_newborn", "decrease_death", "remaining"]
        {
            assert!(total[key].as_i64().unwrap_or(0) > 0, "{key}: {total}");
        }
        let rows = json["rows"].as_array().expect("rows");
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
}
