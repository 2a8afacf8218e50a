//! A demo household and everything that hangs off it (members, the year's income, help
//! measures, a plan with its tasks, visits), as catalogue records at version 1, and the
//! county's households village by village with their officers. Pure: no I/O.

use super::people::{IdNumbers, Person, birth_date, family, mobile_number, pick};
use super::{DEMO_YEAR, HOUSEHOLDS_PER_VILLAGE, OFFICERS_PER_TOWNSHIP, SHARED_SHARE, TOWNSHIPS, village_code};
use jingzhun::records::Record;
use jingzhun_mobile_api::validate::FieldValue;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::collections::BTreeMap;
use uuid::Uuid;

/// One household and everything that hangs off it, ready to insert.
pub(super) struct DemoHousehold {
    pub(super) record: Record,
    pub(super) members: Vec<Record>,
    pub(super) incomes: Vec<Record>,
    pub(super) measures: Vec<Record>,
    pub(super) plans: Vec<Record>,
    pub(super) tasks: Vec<Record>,
    pub(super) visits: Vec<Record>,
    /// Indexes into the officer list: the first is the main one.
    pub(super) officers: Vec<usize>,
}

/// Generates the county's households (pure: no I/O).
pub(super) fn county(rng: &mut StdRng, officer_ids: &[String]) -> Vec<DemoHousehold> {
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

pub(super) fn new_id(rng: &mut StdRng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A record at version 1 with every given field at version 1; `Null`s are left out so
/// their columns take their defaults.
pub(super) fn record(id: Uuid, values: Vec<(&'static str, FieldValue)>) -> Record {
    let values: BTreeMap<&'static str, FieldValue> =
        values.into_iter().filter(|(_, v)| *v != FieldValue::Null).collect();
    Record {
        id: id.to_string(),
        version: 1,
        field_versions: values.keys().map(|k| ((*k).to_owned(), 1)).collect(),
        values,
    }
}

pub(super) fn text(s: impl Into<String>) -> FieldValue {
    FieldValue::Text(s.into())
}

pub(super) fn yuan(amount: i64) -> FieldValue {
    FieldValue::Money(amount * 100)
}

pub(super) fn date(y: i32, m: u32, d: u32) -> FieldValue {
    FieldValue::Date(format!("{y:04}-{m:02}-{d:02}"))
}

fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    items.choose_weighted(rng, |(_, w)| *w).map_or(items[0].0, |(v, _)| *v)
}

pub(super) fn household(
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
