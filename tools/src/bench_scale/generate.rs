//! The prefecture `jingzhun bench scale` measures on: a city-level region with eight
//! counties, their townships and about 2,500 villages, 500,000 registered households
//! with their members and the year's income, an officer per ~35 households (with
//! `assignment` rows), a village team per village and a county office per county, and a
//! change log of about ten rows per household: the register's import (each household,
//! its members and its officers' `enter` events, as `jingzhun import register` writes
//! them) and the edits since (upserts with the versions the records carry).
//!
//! Rows go straight into the tables with multi-row INSERTs in big transactions, because
//! the server's one-record-at-a-time writes would take hours; but every row has the
//! layout the server writes: records through the catalogue (`records::to_sql`, the same
//! columns as `records::insert`, `field_versions` as `records` serialises it) and the
//! change log through `changelog::current_tx`, `changelog::append` and
//! `changelog::number_committed` themselves, so a change in how the server numbers or
//! writes log rows is followed here.
//!
//! What this must never do: write into a database that already holds a region of the
//! prefecture (it refuses), or be used for anything but a benchmark (every account has
//! the bench password).

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use jingzhun::auth::{self, Role};
use jingzhun::db::{Db, WriteTxn, placeholders, query_scalar_i64, sql};
use jingzhun::records::changelog::{self, LogEntry, LogOp};
use jingzhun::records::{self, Record};
use jingzhun_mobile_api::fields::{self, EntitySpec};
use jingzhun_mobile_api::validate::{FieldValue, id_check_char};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// The prefecture's code (盐城市); the demo county is elsewhere (连云港).
pub const CITY_CODE: &str = "320900000000";
const PROVINCE_CODE: &str = "320000000000";
const COUNTIES: [(&str, &str); 8] = [
    ("320902", "亭湖区"),
    ("320903", "盐都区"),
    ("320904", "大丰区"),
    ("320921", "响水县"),
    ("320922", "滨海县"),
    ("320923", "阜宁县"),
    ("320924", "射阳县"),
    ("320925", "建湖县"),
];
/// Households an officer follows, as in the demo county (about 33).
const HOUSEHOLDS_PER_OFFICER: usize = 35;
const SHARED_SHARE: f64 = 0.05;
/// Households written per transaction.
const BATCH: usize = 5_000;
/// Bind parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const PARAMS_PER_STATEMENT: usize = 30_000;
const INCOME_YEAR: i64 = 2025;

/// How many counties, townships and villages hold the households.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub households: usize,
    pub counties: usize,
    pub townships_per_county: usize,
    pub villages_per_township: usize,
}

impl Shape {
    /// About 200 households per village, 26 villages per township and eight counties,
    /// fewer of each for a small prefecture.
    pub fn for_households(households: usize) -> Shape {
        let villages = (households / 200).max(1);
        let counties = (villages / 100).clamp(1, COUNTIES.len());
        let townships_per_county = (villages / counties / 26).clamp(1, 99);
        let villages_per_township = villages.div_ceil(counties * townships_per_county).clamp(1, 999);
        Shape { households, counties, townships_per_county, villages_per_township }
    }

    pub fn villages(&self) -> usize {
        self.counties * self.townships_per_county * self.villages_per_township
    }
}

pub fn county_code(county: usize) -> String {
    format!("{}000000", COUNTIES[county].0)
}

fn township_code(county: usize, township: usize) -> String {
    format!("{}{:03}000", COUNTIES[county].0, township + 1)
}

fn village_code(county: usize, township: usize, village: usize) -> String {
    format!("{}{:03}{:03}", COUNTIES[county].0, township + 1, village + 1)
}

/// The accounts the measurement signs in as, in the first village of the first county.
pub fn officer_username(village_code: &str, n: usize) -> String {
    format!("officer-{village_code}-{n}")
}

pub fn village_username(village_code: &str) -> String {
    format!("village-{village_code}")
}

pub fn county_username(county_code: &str) -> String {
    format!("county-{}", &county_code[..6])
}

pub fn first_village() -> String {
    village_code(0, 0, 0)
}

/// What a generation wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Generated {
    pub regions: usize,
    pub villages: usize,
    pub households: usize,
    pub members: usize,
    pub incomes: usize,
    pub users: usize,
    pub assignments: usize,
    pub change_log_rows: usize,
    pub seconds: f64,
}

/// Whether the prefecture is already in this database.
pub async fn present(db: &Db) -> anyhow::Result<bool> {
    let n = query_scalar_i64(
        &db.conn,
        sql(db.backend(), "SELECT COUNT(*) AS n FROM region WHERE code = ?", vec![CITY_CODE.into()]),
    )
    .await?;
    Ok(n.unwrap_or(0) > 0)
}

/// Generates the prefecture into `db` (migrated, without the prefecture), every account
/// with `password`. `progress` says how far it is, for a person waiting minutes.
pub async fn generate(db: &Db, shape: Shape, password: &str, seed: u64) -> anyhow::Result<Generated> {
    let started = Instant::now();
    if present(db).await? {
        bail!("the bench prefecture ({CITY_CODE}) is already in this database");
    }
    let owned = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&owned))
        .await
        .context("hashing the bench password")?
        .map_err(|e| anyhow::anyhow!("hashing the bench password: {e}"))?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Generated::default();
    let now = Utc::now();

    // Regions and accounts first: the households name their villages and officers.
    let mut villages: Vec<Village> = Vec::new();
    {
        let txn = db.begin_write().await?;
        let mut regions = Rows::new("region", &["code", "name", "level", "parent_code"]);
        let country = query_scalar_i64(
            &*txn,
            sql(
                txn.get_database_backend(),
                "SELECT COUNT(*) AS n FROM region WHERE code = ?",
                vec![PROVINCE_CODE.into()],
            ),
        )
        .await?;
        if country.unwrap_or(0) == 0 {
            let root = query_scalar_i64(
                &*txn,
                sql(txn.get_database_backend(), "SELECT COUNT(*) AS n FROM region WHERE code = '000000000000'", vec![]),
            )
            .await?;
            let parent: Option<String> = (root.unwrap_or(0) > 0).then(|| "000000000000".to_owned());
            regions.push(vec![PROVINCE_CODE.into(), "江苏省".into(), "province".into(), parent.into()]);
        }
        regions.push(vec![CITY_CODE.into(), "盐城市".into(), "city".into(), Some(PROVINCE_CODE.to_owned()).into()]);
        let mut users =
            Rows::new("app_user", &["id", "username", "name", "phone", "password_hash", "active", "created_at"]);
        let mut grants = Rows::new("role_grant", &["id", "user_id", "role", "region_code", "created_at"]);
        let mut add_user = |rng: &mut StdRng, username: String, name: String, role: Role, region: &str| -> String {
            let id = new_id(rng);
            users.push(vec![
                id.as_str().into(),
                username.into(),
                name.into(),
                Some(mobile(rng)).into(),
                hash.as_str().into(),
                true.into(),
                now.into(),
            ]);
            grants.push(vec![new_id(rng).into(), id.as_str().into(), role.as_str().into(), region.into(), now.into()]);
            id
        };
        let per_village = shape.households.div_ceil(shape.villages());
        let mut left = shape.households;
        for (county, &(area, name)) in COUNTIES.iter().enumerate().take(shape.counties) {
            let code = county_code(county);
            regions.push(vec![code.as_str().into(), name.into(), "county".into(), Some(CITY_CODE.to_owned()).into()]);
            add_user(&mut rng, county_username(&code), format!("{name}扶贫办"), Role::County, &code);
            for township in 0..shape.townships_per_county {
                let t_code = township_code(county, township);
                let t_name = format!("{}{}", place_name(&mut rng), if rng.gen_bool(0.6) { "镇" } else { "乡" });
                regions.push(vec![t_code.as_str().into(), t_name.into(), "township".into(), Some(code.clone()).into()]);
                for village in 0..shape.villages_per_township {
                    let v_code = village_code(county, township, village);
                    let v_name = format!("{}村", place_name(&mut rng));
                    regions.push(vec![
                        v_code.as_str().into(),
                        v_name.as_str().into(),
                        "village".into(),
                        Some(t_code.clone()).into(),
                    ]);
                    add_user(&mut rng, village_username(&v_code), format!("{v_name}两委"), Role::Village, &v_code);
                    let households = per_village.min(left);
                    left -= households;
                    let officers = households.div_ceil(HOUSEHOLDS_PER_OFFICER).max(1);
                    let officer_ids = (1..=officers)
                        .map(|n| {
                            let male = rng.gen_bool(0.6);
                            let name = person_name(&mut rng, male);
                            add_user(&mut rng, officer_username(&v_code, n), name, Role::Officer, &t_code)
                        })
                        .collect();
                    villages.push(Village { code: v_code, name: v_name, county: area, households, officer_ids });
                }
            }
        }
        out.regions = regions.len();
        out.users = users.len();
        out.villages = villages.len();
        regions.write(&*txn).await?;
        users.write(&*txn).await?;
        grants.write(&*txn).await?;
        txn.commit().await?;
    }

    let mut ids = IdNumbers::default();
    let mut batch: Vec<Household> = Vec::with_capacity(BATCH);
    let mut last_report = Instant::now();
    for (v, village) in villages.iter().enumerate() {
        for h in 0..village.households {
            batch.push(household(&mut rng, &mut ids, village, h));
        }
        if batch.len() >= BATCH || v + 1 == villages.len() {
            write_batch(db, &mut rng, &batch, now, &mut out).await?;
            batch.clear();
            if last_report.elapsed() > Duration::from_secs(15) {
                last_report = Instant::now();
                eprintln!(
                    "bench: generated {} of {} households, {} change-log rows, in {:.0} s",
                    out.households,
                    shape.households,
                    out.change_log_rows,
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

struct Village {
    code: String,
    name: String,
    /// The county's six digits: the ID numbers' area code.
    county: &'static str,
    households: usize,
    officer_ids: Vec<String>,
}

/// A generated household: its records, its officers and the edits its history logs.
struct Household {
    record: Record,
    members: Vec<Record>,
    income: Record,
    officers: Vec<String>,
    /// The 户编号 of a household the register holds (not an applicant).
    number: Option<String>,
    /// (entity, record id, version) of each logged edit since the import, in order.
    edits: Vec<(&'static EntitySpec, String, i64)>,
}

/// One transaction for the records, assignments and the import's log rows of a batch,
/// a second for the log of the edits since: two positions in the log, as the import
/// and the later pushes are.
async fn write_batch(
    db: &Db,
    rng: &mut StdRng,
    batch: &[Household],
    now: DateTime<Utc>,
    out: &mut Generated,
) -> anyhow::Result<()> {
    let txn = db.begin_write().await?;
    // The register's 户编号 and 建档立卡 date, outside the catalogue, as the import sets them.
    let households: Vec<(&Record, Vec<(&'static str, Value)>)> = batch
        .iter()
        .map(|h| {
            let registered = h.number.as_ref().map(|_| registered_on(&h.record));
            (&h.record, vec![("household_number", h.number.clone().into()), ("registered_on", registered.into())])
        })
        .collect();
    let members: Vec<(&Record, Vec<(&'static str, Value)>)> =
        batch.iter().flat_map(|h| &h.members).map(|m| (m, Vec::new())).collect();
    let incomes: Vec<(&Record, Vec<(&'static str, Value)>)> = batch.iter().map(|h| (&h.income, Vec::new())).collect();
    insert_records(&txn, &fields::HOUSEHOLD, &households, now).await?;
    insert_records(&txn, &fields::MEMBER, &members, now).await?;
    insert_records(&txn, &fields::INCOME, &incomes, now).await?;
    let mut assignments =
        Rows::new("assignment", &["id", "officer_id", "household_id", "start_date", "end_date", "created_at"]);
    let start = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or_default();
    let mut log = Vec::new();
    for h in batch {
        let region = h.record.text("region_code").map(str::to_owned);
        let entry =
            |entity: &'static EntitySpec, id: &str, op: LogOp, version: i64, target: Option<&String>| LogEntry {
                entity: entity.name,
                entity_id: id.to_owned(),
                household_id: Some(h.record.id.clone()),
                region_code: region.clone(),
                target_user: target.cloned(),
                op,
                version,
            };
        log.push(entry(&fields::HOUSEHOLD, &h.record.id, LogOp::Upsert, 1, None));
        for m in &h.members {
            log.push(entry(&fields::MEMBER, &m.id, LogOp::Upsert, 1, None));
        }
        for officer in &h.officers {
            assignments.push(vec![
                new_id(rng).into(),
                officer.as_str().into(),
                h.record.id.as_str().into(),
                start.into(),
                Option::<NaiveDate>::None.into(),
                now.into(),
            ]);
            log.push(entry(&fields::HOUSEHOLD, &h.record.id, LogOp::Enter, 0, Some(officer)));
        }
    }
    out.assignments += assignments.len();
    assignments.write(&*txn).await?;
    let tx = changelog::current_tx(&*txn).await?;
    changelog::append(&*txn, tx, &log).await?;
    txn.commit().await?;
    out.change_log_rows += log.len();

    let mut edits = Vec::new();
    for h in batch {
        for (entity, id, version) in &h.edits {
            edits.push(LogEntry {
                entity: entity.name,
                entity_id: id.clone(),
                household_id: Some(h.record.id.clone()),
                region_code: h.record.text("region_code").map(str::to_owned),
                target_user: None,
                op: LogOp::Upsert,
                version: *version,
            });
        }
    }
    let txn = db.begin_write().await?;
    let tx = changelog::current_tx(&*txn).await?;
    changelog::append(&*txn, tx, &edits).await?;
    txn.commit().await?;
    // PostgreSQL: give the batch's commits their numbers as the pulls running during an
    // import would, rather than leave five million rows to the first pull after it.
    changelog::number_committed(db).await?;
    out.change_log_rows += edits.len();
    out.households += batch.len();
    out.members += members.len();
    out.incomes += incomes.len();
    Ok(())
}

/// Rows of one table, written with as few multi-row INSERTs as the parameter limit allows.
struct Rows {
    table: &'static str,
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

impl Rows {
    fn new(table: &'static str, columns: &[&str]) -> Rows {
        Rows { table, columns: columns.iter().map(|c| format!("\"{c}\"")).collect(), rows: Vec::new() }
    }

    fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    async fn write(self, conn: &impl ConnectionTrait) -> Result<(), sea_orm::DbErr> {
        let per_statement = (PARAMS_PER_STATEMENT / self.columns.len().max(1)).max(1);
        let one = format!("({})", placeholders(self.columns.len()));
        for chunk in self.rows.chunks(per_statement) {
            let text = format!(
                "INSERT INTO \"{}\" ({}) VALUES {}",
                self.table,
                self.columns.join(", "),
                vec![one.as_str(); chunk.len()].join(", ")
            );
            let values: Vec<Value> = chunk.iter().flatten().cloned().collect();
            conn.execute_raw(sql(conn.get_database_backend(), &text, values)).await?;
        }
        Ok(())
    }
}

/// Records of one entity with the columns `records::insert` writes (id, version,
/// field_versions, created_at, updated_at, then every field present), plus columns
/// outside the catalogue from `extra`. Records with different fields present go in
/// different statements, as absent fields take their column defaults.
async fn insert_records(
    txn: &WriteTxn,
    entity: &'static EntitySpec,
    rows: &[(&Record, Vec<(&'static str, Value)>)],
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let mut groups: BTreeMap<Vec<&'static str>, Vec<Vec<Value>>> = BTreeMap::new();
    for (record, extra) in rows {
        let present: Vec<&'static fields::FieldSpec> =
            entity.fields.iter().filter(|f| record.values.contains_key(f.name)).collect();
        let mut key: Vec<&'static str> = present.iter().map(|f| f.name).collect();
        key.extend(extra.iter().map(|(name, _)| *name));
        let mut values: Vec<Value> = vec![
            record.id.as_str().into(),
            record.version.into(),
            serde_json::to_string(&record.field_versions).unwrap_or_else(|_| "{}".into()).into(),
            now.into(),
            now.into(),
        ];
        values.extend(present.iter().map(|f| records::to_sql(f.kind, record.value(f.name))));
        values.extend(extra.iter().map(|(_, v)| v.clone()));
        groups.entry(key).or_default().push(values);
    }
    for (key, values) in groups {
        let mut columns = vec!["id", "version", "field_versions", "created_at", "updated_at"];
        columns.extend(key);
        let mut table = Rows::new(entity.table, &columns);
        table.rows = values;
        table.write(&**txn).await?;
    }
    Ok(())
}

/// A day of the 2014–2016 建档立卡 drive, spread by household.
fn registered_on(record: &Record) -> String {
    let n = u32::from_str_radix(&record.id[..4], 16).unwrap_or(0);
    (NaiveDate::from_ymd_opt(2014, 4, 1).unwrap_or_default() + chrono::Days::new(u64::from(n % 900))).to_string()
}

fn new_id(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid().to_string()
}

fn mobile(rng: &mut StdRng) -> String {
    let prefix = ["13", "15", "18", "17", "19"].choose(rng).copied().unwrap_or("13");
    format!("{prefix}{:09}", rng.gen_range(0..1_000_000_000u32))
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "高",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "潘", "袁", "蔡",
    "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁", "任", "沈",
];
const MALE: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "建", "国", "德", "春", "海", "林", "波",
    "斌",
];
const FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "玉", "兰", "萍", "红", "梅", "琴", "云", "燕", "洁",
    "华",
];
const PLACE: &[&str] = &[
    "东", "西", "南", "北", "新", "大", "小", "河", "桥", "湖", "庄", "集", "沟", "坝", "港", "洋", "楼", "丰", "安",
    "兴", "龙", "凤", "杨", "柳", "张", "王", "陈", "李", "马", "刘", "黄", "石", "沙", "海", "盐", "垛", "荡", "滩",
];

fn place_name(rng: &mut StdRng) -> String {
    let a = PLACE.choose(rng).copied().unwrap_or("东");
    let b = PLACE.choose(rng).copied().unwrap_or("河");
    format!("{a}{b}")
}

fn person_name(rng: &mut StdRng, male: bool) -> String {
    let pool = if male { MALE } else { FEMALE };
    let surname = SURNAMES.choose(rng).copied().unwrap_or("王");
    let n = if rng.gen_bool(0.7) { 2 } else { 1 };
    let given: String = (0..n).map(|_| pool.choose(rng).copied().unwrap_or("明")).collect();
    format!("{surname}{given}")
}

/// Unique, valid ID numbers: the county's area code, the birth date, a sequence whose
/// last digit is odd for men and even for women, and the GB 11643 check character.
#[derive(Default)]
struct IdNumbers {
    next: HashMap<(&'static str, NaiveDate, bool), u32>,
}

impl IdNumbers {
    fn issue(&mut self, rng: &mut StdRng, area: &'static str, age: i64, male: bool) -> String {
        let birth = NaiveDate::from_ymd_opt(2025 - age as i32, rng.gen_range(1..=12), rng.gen_range(1..=28))
            .unwrap_or_default();
        let n = self.next.entry((area, birth, male)).or_insert_with(|| rng.gen_range(0..100));
        let seq = *n * 2 + u32::from(male);
        *n += 1;
        let first17 = format!("{area}{}{seq:03}", birth.format("%Y%m%d"));
        let check = id_check_char(&first17).unwrap_or('0');
        format!("{first17}{check}")
    }
}

fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    items.choose_weighted(rng, |(_, w)| *w).map_or(items[0].0, |(v, _)| *v)
}

fn text(s: impl Into<String>) -> FieldValue {
    FieldValue::Text(s.into())
}

/// A record at version 1 with every given field at version 1; `Null`s left out.
fn record(id: String, values: Vec<(&'static str, FieldValue)>) -> Record {
    let values: BTreeMap<&'static str, FieldValue> =
        values.into_iter().filter(|(_, v)| *v != FieldValue::Null).collect();
    Record { id, version: 1, field_versions: values.keys().map(|k| ((*k).to_owned(), 1)).collect(), values }
}

/// A household as the demo draws them (`crate::demo`'s shares of status, kind, standard,
/// causes and family sizes), its members and income, and 0–8 edits since the import.
fn household(rng: &mut StdRng, ids: &mut IdNumbers, village: &Village, nth: usize) -> Household {
    let id = new_id(rng);
    let hid = FieldValue::Uuid(id.clone());
    let size = weighted(rng, &[(3usize, 30), (4, 35), (5, 22), (6, 13)]);
    let status = weighted(rng, &[("registered", 85), ("exited", 12), ("applicant", 3)]);
    let kind = weighted(rng, &[("general", 72), ("dibao", 24), ("wubao", 4)]);
    let standard = weighted(rng, &[("national", 88), ("provincial", 9), ("municipal", 3)]);
    let mut causes: Vec<String> = Vec::new();
    for _ in 0..rng.gen_range(1..=3) {
        let cause = weighted(
            rng,
            &[
                ("illness", 30),
                ("disability", 15),
                ("schooling", 8),
                ("lack_of_skills", 25),
                ("lack_of_funds", 25),
                ("lack_of_labour", 20),
                ("lack_of_motivation", 8),
                ("poor_transport", 6),
                ("lack_of_land", 6),
                ("disaster", 4),
            ],
        );
        if !causes.iter().any(|c| c == cause) {
            causes.push(cause.into());
        }
    }
    let secure = |rng: &mut StdRng, p: f64| FieldValue::Bool(status == "exited" || rng.gen_bool(p));
    let planned_exit_year = match status {
        "registered" => FieldValue::Int(rng.gen_range(2025..=2027)),
        "exited" => FieldValue::Int(rng.gen_range(2019..2025)),
        _ => FieldValue::Null,
    };
    let address = format!("{}{}组{}号", village.name, rng.gen_range(1..=8), rng.gen_range(1..=60));
    let mut household = record(
        id.clone(),
        vec![
            ("region_code", text(village.code.as_str())),
            ("address", text(address)),
            ("phone", text(mobile(rng))),
            ("standard", text(standard)),
            ("kind", text(kind)),
            ("status", text(status)),
            ("poverty_causes", FieldValue::List(causes)),
            ("food_clothing_secure", secure(rng, 0.97)),
            ("education_secure", secure(rng, 0.95)),
            ("medical_secure", secure(rng, 0.86)),
            ("housing_secure", secure(rng, 0.85)),
            ("water_secure", secure(rng, 0.92)),
            ("planned_exit_year", planned_exit_year),
        ],
    );

    let head_male = rng.gen_bool(0.85);
    let head_age: i64 = rng.gen_range(28..=78);
    let surname = SURNAMES.choose(rng).copied().unwrap_or("王");
    let mut members = Vec::with_capacity(size);
    let mut pensioners = 0;
    for i in 0..size {
        let (relation, male, age) = match i {
            0 => ("head", head_male, head_age),
            1 => ("spouse", !head_male, (head_age + rng.gen_range(-5..=3)).max(22)),
            _ => {
                let male = rng.gen_bool(0.52);
                let relation = if male { "son" } else { "daughter" };
                (relation, male, rng.gen_range((head_age - 40).max(1)..=(head_age - 20).max(1)))
            }
        };
        pensioners += usize::from(age >= 60);
        let name = if i == 1 || !male && i == 0 {
            person_name(rng, male)
        } else {
            let given = person_name(rng, male);
            format!("{surname}{}", given.chars().skip(1).collect::<String>())
        };
        let health =
            weighted(rng, &[("healthy", 70), ("chronic_illness", 18), ("serious_illness", 6), ("disabled", 6)]);
        let phone = if (18..70).contains(&age) && rng.gen_bool(0.5) { text(mobile(rng)) } else { FieldValue::Null };
        members.push(record(
            new_id(rng),
            vec![
                ("household_id", hid.clone()),
                ("name", text(name)),
                ("sex", text(if male { "male" } else { "female" })),
                ("id_number", text(ids.issue(rng, village.county, age, male))),
                ("relation", text(relation)),
                ("health", text(health)),
                ("phone", phone),
                ("active", FieldValue::Bool(true)),
            ],
        ));
    }

    let per_capita: i64 = rng.gen_range(2_000..=9_000);
    let transfer = pensioners as i64 * 2_000 + rng.gen_range(2..=15) * 100;
    let wage = per_capita * size as i64 / 2;
    let income = record(
        new_id(rng),
        vec![
            ("household_id", hid),
            ("year", FieldValue::Int(INCOME_YEAR)),
            ("wage", FieldValue::Money(wage * 100)),
            ("business", FieldValue::Money((per_capita * size as i64 - wage) * 100)),
            ("property", FieldValue::Money(rng.gen_range(0..300) * 100)),
            ("transfer", FieldValue::Money(transfer * 100)),
            ("business_expense", FieldValue::Money(rng.gen_range(5..=30) * 10_000)),
            ("pension", FieldValue::Money(pensioners as i64 * 200_000)),
        ],
    );

    // Each officer follows a run of neighbouring households; a few have a second one.
    let first = (nth * village.officer_ids.len() / village.households.max(1)).min(village.officer_ids.len() - 1);
    let mut officers = vec![village.officer_ids[first].clone()];
    if village.officer_ids.len() > 1 && rng.gen_bool(SHARED_SHARE) {
        let other = (first + rng.gen_range(1..village.officer_ids.len())) % village.officer_ids.len();
        officers.push(village.officer_ids[other].clone());
    }

    // The edits since the import: a household's phone or address, a member's health
    // or phone; each bumps its record's version as a push would.
    let mut edits = Vec::new();
    for _ in 0..rng.gen_range(0..=8) {
        if rng.gen_bool(0.3) {
            household.version += 1;
            let field = if rng.gen_bool(0.5) { "phone" } else { "address" };
            household.field_versions.insert(field.into(), household.version);
            edits.push((&fields::HOUSEHOLD, id.clone(), household.version));
        } else if let Some(member) = members.choose_mut(rng) {
            member.version += 1;
            let field = if rng.gen_bool(0.6) { "health" } else { "phone" };
            member.field_versions.insert(field.into(), member.version);
            edits.push((&fields::MEMBER, member.id.clone(), member.version));
        }
    }
    let number = (status != "applicant").then(|| format!("{}{:06}", village.code, nth + 1));
    Household { record: household, members, income, officers, number, edits }
}

/// Ids of a few households of the prefecture, for tests.
#[cfg(test)]
pub async fn household_ids(db: &Db, limit: usize) -> anyhow::Result<Vec<String>> {
    #[derive(sea_orm::FromQueryResult)]
    struct IdRow {
        id: String,
    }
    use sea_orm::FromQueryResult;
    Ok(IdRow::find_by_statement(sql(
        db.backend(),
        "SELECT id FROM household WHERE region_code LIKE ? ORDER BY id LIMIT ?",
        vec![format!("{}%", &CITY_CODE[..4]).into(), (limit as i64).into()],
    ))
    .all(&db.conn)
    .await?
    .into_iter()
    .map(|r| r.id)
    .collect())
}
