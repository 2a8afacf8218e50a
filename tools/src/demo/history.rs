//! The demo's 2026: completed and open cases with their sign-offs, a rejected case or
//! two, households kept outside the national system and vehicle leads, written back
//! into the generated households so statuses and members match the cases. Pure: no I/O;
//! nothing in it is dated after [`HISTORY_END`], so the demo is never in the future.

use super::households::{DemoHousehold, new_id, record, text};
use super::people::{IdNumbers, SURNAMES, Sex, given_name, other_surname, pick};
use super::{COUNTY_CODE, OFFICERS_PER_TOWNSHIP, TOWNSHIPS, officer_username, village_code, village_username};
use chrono::{DateTime, NaiveDate, Utc};
use jingzhun::auth::Role;
use jingzhun::procedures::{CaseKind, Step};
use jingzhun::records::Record;
use jingzhun_mobile_api::validate::{FieldValue, id_check_char};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::collections::HashMap;
use uuid::Uuid;

/// The year the demo's procedures run in.
pub const HISTORY_YEAR: i32 = 2026;
/// Nothing in the history happens after this day (the demo must not be in the future).
const HISTORY_END: (u32, u32) = (11, 20);
/// What the demo's poverty lines cite.
pub(super) const THRESHOLD_SOURCE: &str = "演示数据（县扶贫办设定）";
/// The county's lines for the 2025 incomes and for 2026, in yuan per head and year.
pub(super) const THRESHOLDS: [(&str, i64); 3] = [("national", 4_000), ("provincial", 6_000), ("municipal", 5_000)];
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
pub(super) enum Signer {
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
    pub(super) fn resolve(self, user_ids: &HashMap<String, String>) -> (String, Role, String) {
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

pub(super) struct DemoSignoff {
    pub(super) id: Uuid,
    pub(super) step: Step,
    pub(super) decision: &'static str,
    pub(super) signer: Signer,
    pub(super) comment: Option<String>,
    pub(super) at: DateTime<Utc>,
}

/// A procedure case with its sign-offs, ready to insert.
pub(super) struct DemoCase {
    pub(super) record: Record,
    pub(super) frozen_level: Option<&'static str>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) closed_at: Option<DateTime<Utc>>,
    pub(super) signoffs: Vec<DemoSignoff>,
}

impl DemoCase {
    pub(super) fn kind(&self) -> &str {
        self.record.text("kind").unwrap_or_default()
    }
    pub(super) fn status(&self) -> &str {
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

pub(super) struct DemoLead {
    pub(super) household: usize,
    pub(super) member_id: String,
    pub(super) details: serde_json::Value,
    pub(super) status: &'static str,
    pub(super) note: Option<&'static str>,
    pub(super) decided: Option<DateTime<Utc>>,
}

/// Everything the history adds besides changed households.
#[derive(Default)]
pub(super) struct History {
    pub(super) cases: Vec<DemoCase>,
    pub(super) leads: Vec<DemoLead>,
    pub(super) outside: usize,
    pub(super) added_members: usize,
    /// The exit year before the system of a household that relapsed or was reversed this
    /// year (by the generated household id): the register's 脱贫年度, which 000 附件4
    /// counts when it is 2014–2016.
    pub(super) earlier_exit: HashMap<String, i64>,
}

pub(super) fn china_time(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
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
        Step::VillageAssessment | Step::VillageNotice | Step::VillageResolution => Signer::Village(village),
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
        Step::VillageResolution => "村民代表会决议同意上报",
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

/// Marks the household as meeting the exit standard: every guarantee met, the 两不退
/// facts recorded as met (003 §五(二): stable income, help effective, moved in where it
/// was relocated) and the 2025 income comfortably above every line.
fn meet_exit_standard(household: &mut DemoHousehold) {
    for field in [
        "food_clothing_secure",
        "education_secure",
        "medical_secure",
        "housing_secure",
        "water_secure",
        "long_term_stable_income",
        "help_effective",
    ] {
        set(&mut household.record, field, FieldValue::Bool(true));
    }
    if household.measures.iter().any(|m| m.text("category") == Some("relocation")) {
        set(&mut household.record, "relocation_moved_in", FieldValue::Bool(true));
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
pub(super) fn history(rng: &mut StdRng, households: &mut [DemoHousehold], officer_ids: &[String]) -> History {
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
    // Most of them exited in the 2014–2016 drive (000 §三(四) reviews those).
    let earlier = |household: &DemoHousehold, i: usize| match household.record.value("planned_exit_year") {
        FieldValue::Int(year) if i >= 6 => *year,
        _ => 2014 + (i % 3) as i64,
    };
    for (i, h) in take(&mut exited, 8).into_iter().enumerate() {
        let cause = RELAPSES[i % RELAPSES.len()];
        out.earlier_exit.insert(households[h].record.id.clone(), earlier(&households[h], i));
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
    for (i, h) in take(&mut exited, 3).into_iter().enumerate() {
        out.earlier_exit.insert(households[h].record.id.clone(), earlier(&households[h], i));
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

/// People a register holds without an ID card (issue 11 item 3): in the first
/// households no case, lead or 系统外 entry touches, three grandchildren under four are
/// 未报户口 (无证件, kept 系统外 by 001 附件1 note 3) and one disabled head's number is the
/// 20-digit 残疾人证 (category 4 肢体, grade 2). After [`history`], so that nothing it
/// drew reads these numbers. Pure and drawn from no generator: the same county each time.
/// Returns (without a number, with a 残疾人证).
pub(super) fn without_id_card(households: &mut [DemoHousehold], history: &History) -> (usize, usize) {
    let touched: std::collections::HashSet<&str> = history
        .cases
        .iter()
        .filter_map(|c| c.record.text("household_id"))
        .chain(history.leads.iter().filter_map(|l| households.get(l.household).map(|h| h.record.id.as_str())))
        .collect();
    let untouched: Vec<usize> = (0..households.len())
        .filter(|&h| {
            let household = &households[h];
            household.record.text("status") == Some("registered")
                && !touched.contains(household.record.id.as_str())
                && household.record.value("outside_national_system") != &FieldValue::Bool(true)
        })
        .collect();
    let (mut unregistered, mut cards) = (0, 0);
    for h in untouched {
        let household = &mut households[h];
        if unregistered < 3
            && let Some(m) =
                find_member(household, |m| relation_is(m, &["grandson", "granddaughter"]) && member_age(m) < 4)
        {
            let member = &mut household.members[m];
            set(member, "id_number", FieldValue::Null);
            set(member, "id_type", text("none"));
            set(member, "no_id_reason", text("未报户口"));
            unregistered += 1;
        } else if cards < 1
            && let Some(m) =
                find_member(household, |m| relation_is(m, &["head"]) && m.text("health") == Some("disabled"))
        {
            let member = &mut household.members[m];
            let card = format!("{}42", member.text("id_number").unwrap_or_default());
            set(member, "id_number", text(card));
            set(member, "id_type", text("disability_card"));
            cards += 1;
        }
        if unregistered == 3 && cards == 1 {
            break;
        }
    }
    (unregistered, cards)
}
