//! A property-based fuzz harness over the push body (issue 9): random, hostile and
//! almost-valid JSON for every field of every synced entity.
//!
//! Properties, checked on every case:
//! - the validators never panic, and what they accept is storable on both databases
//!   (no control character in text, within the column, dates `YYYY-MM-DD`, phones as
//!   digits, numbers in range) and already canonical (validating it again gives it back);
//! - a real push of it to a real server never answers 5xx or fails to answer: each
//!   change set is applied or rejected with field codes;
//! - what was applied reads back exactly as the validator's stored form;
//! - a push body that is not a push at all gets a 4xx with our error body.
//!
//! Not part of the test run: `scripts/fuzz-push` runs it for a bounded time
//! (`JINGZHUN_FUZZ_SECONDS`, default 60; `JINGZHUN_FUZZ_SEED` to replay a run).

use crate::harness::*;
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::fields::{self, EntitySpec, FieldKind, FieldSpec, Policy};
use jingzhun_mobile_api::validate::{self, FieldValue};
use jingzhun_mobile_api::wire::{ChangeSetStatus, ChangeStatus, Op};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "fuzzing, bounded by time: run by scripts/fuzz-push"]
async fn fuzz_push_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "fuzzing, bounded by time: run by scripts/fuzz-push"]
async fn fuzz_push_postgres() {
    run(Backend::Postgres).await
}

/// xorshift64*: small, seedable, good enough to pick test cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Characters worth trying: controls, separators, bidi marks, wide and astral ones.
const ODD_CHARS: &[char] = &[
    '\u{0}',
    '\u{1}',
    '\u{8}',
    '\t',
    '\n',
    '\u{b}',
    '\r',
    '\u{1b}',
    '\u{1f}',
    '\u{7f}',
    '\u{85}',
    '\u{9f}',
    ' ',
    '-',
    '+',
    '(',
    ')',
    '.',
    '/',
    ':',
    'T',
    'Z',
    'x',
    'X',
    '0',
    '1',
    '9',
    '\u{a0}',
    '\u{200b}',
    '\u{200e}',
    '\u{202e}',
    '\u{2066}',
    '\u{2028}',
    '\u{3000}',
    '\u{feff}',
    '\u{fffd}',
    '\u{ffff}',
    '中',
    '文',
    '１',
    '٣',
    '😀',
    '\u{10ffff}',
    '"',
    '\\',
];

fn odd_string(rng: &mut Rng, max_len: usize) -> String {
    let len = rng.below(max_len + 1);
    (0..len)
        .map(|_| {
            if rng.chance(60) {
                *rng.pick(ODD_CHARS)
            } else {
                char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('?')
            }
        })
        .collect()
}

/// Inserts, deletes or replaces a character, or pads the value: an almost-valid string.
fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..=rng.below(3) {
        let at = rng.below(chars.len() + 1);
        match rng.below(6) {
            0 => chars.insert(at, *rng.pick(ODD_CHARS)),
            1 if at < chars.len() => {
                chars.remove(at);
            }
            2 if at < chars.len() => chars[at] = *rng.pick(ODD_CHARS),
            3 => {
                let pad = *rng.pick(&[' ', '-', '\u{0}', '\t', '0']);
                let n = rng.below(300);
                chars.splice(at..at, std::iter::repeat_n(pad, n));
            }
            4 => chars.insert(0, *rng.pick(&['+', '-', ' ', '\u{feff}'])),
            _ => chars.push(*rng.pick(&[' ', '\n', '\u{0}', 'Z'])),
        }
    }
    chars.into_iter().collect()
}

fn any_json(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 2 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => json!(*rng.pick(&[0i64, -1, 1, 12, 2014, 2100, 2101, i64::MAX, i64::MIN, 1_000_000_000_000])),
        3 => json!(*rng.pick(&[0.5, 0.01, 0.001, 1.1, 2.345, -0.0, 1e15, 1e300, f64::MAX, 9_999_999_999.99])),
        4 => json!(u64::MAX - rng.below(3) as u64),
        5 => Value::String(odd_string(rng, 40)),
        6 => Value::Array((0..rng.below(25)).map(|_| any_json(rng, depth + 1)).collect()),
        _ => Value::Object((0..rng.below(4)).map(|_| (odd_string(rng, 5), any_json(rng, depth + 1))).collect()),
    }
}

/// A value aimed at a field: valid for its kind, almost valid, or anything at all.
fn value_for(rng: &mut Rng, spec: &FieldSpec, ids: &[String]) -> Value {
    let valid = valid_for(rng, spec.kind, ids);
    match rng.below(10) {
        0..=3 => valid,
        4..=6 => match &valid {
            Value::String(s) => Value::String(mutate(rng, s)),
            Value::Array(items) if !items.is_empty() => {
                let mut items = items.clone();
                let at = rng.below(items.len());
                items[at] = match &items[at] {
                    Value::String(s) => Value::String(mutate(rng, s)),
                    other => other.clone(),
                };
                Value::Array(items)
            }
            _ => any_json(rng, 0),
        },
        _ => any_json(rng, 0),
    }
}

fn valid_for(rng: &mut Rng, kind: FieldKind, ids: &[String]) -> Value {
    match kind {
        FieldKind::Text { max_chars } => {
            let n = *rng.pick(&[1, max_chars / 2, max_chars.saturating_sub(1), max_chars, max_chars + 1]);
            json!(std::iter::repeat_n(*rng.pick(&['字', 'a', ' ', '\n']), n.max(1)).collect::<String>())
        }
        FieldKind::Int { min, max } => json!(*rng.pick(&[min, max, min - 1, max + 1, (min + max) / 2])),
        FieldKind::Money => json!(*rng.pick(&[0.0, 0.01, 1234.5, 3200.0, 10_000_000_000.0, 10_000_000_000.01])),
        FieldKind::Decimal { max } => json!(*rng.pick(&[0.0, 0.35, 12.5, max as f64, max as f64 + 0.01])),
        FieldKind::Bool => json!(rng.chance(50)),
        FieldKind::Date => {
            let (y, m, d) = (1899 + rng.below(204), 1 + rng.below(13), 1 + rng.below(32));
            json!(match rng.below(3) {
                0 => format!("{y:04}-{m:02}-{d:02}"),
                1 => format!("{y}-{m}-{d}"),
                _ => format!(" {y:04}-{m:02}-{d:02} "),
            })
        }
        FieldKind::Uuid => json!(if rng.chance(70) { rng.pick(ids).clone() } else { Uuid::new_v4().to_string() }),
        FieldKind::UuidList { max } => {
            json!((0..rng.below(max + 2)).map(|_| Uuid::new_v4().to_string()).collect::<Vec<_>>())
        }
        FieldKind::Code { table } => json!(rng.pick(fields::code_table(table).expect("table").codes).code),
        FieldKind::Codes { table, max } => {
            let codes = fields::code_table(table).expect("table").codes;
            json!((0..rng.below(max + 2)).map(|_| rng.pick(codes).code).collect::<Vec<_>>())
        }
        FieldKind::IdNumber => json!(fresh_id_number()),
        FieldKind::Phone => json!(*rng.pick(&[
            "13812345678",
            "138 1234 5678",
            "+86 138-1234-5678",
            "0518-85821234",
            "(0518) 8582 1234",
            "+86 518 8582 1234",
        ])),
        FieldKind::RegionCode => json!(*rng.pick(&[VILLAGE_1, VILLAGE_2, TOWNSHIP, "320703001001 "])),
        FieldKind::BankAccount => json!(*rng.pick(&["6228 4800 1234 5678", "6217-0012-3456-7890-123", "12345678"])),
    }
}

/// What both databases take for a field, and its one stored form.
fn check_storable(spec: &FieldSpec, stored: &FieldValue) -> Result<(), String> {
    let multiline = validate::keeps_line_breaks(spec.kind);
    let text_ok = |s: &str| !s.contains('\u{0}') && !validate::has_control_characters(s, multiline);
    let ok = match (spec.kind, stored) {
        (_, FieldValue::Null) => !spec.required,
        (FieldKind::Text { max_chars }, FieldValue::Text(s)) => {
            text_ok(s) && !s.is_empty() && s.chars().count() <= max_chars && s.trim() == s
        }
        (FieldKind::Int { min, max }, FieldValue::Int(i)) => (min..=max).contains(i),
        (FieldKind::Money, FieldValue::Money(fen)) => (0..=1_000_000_000_000).contains(fen),
        (FieldKind::Decimal { max }, FieldValue::Decimal(h)) => (0..=max * 100).contains(h),
        (FieldKind::Bool, FieldValue::Bool(_)) => true,
        (FieldKind::Date, FieldValue::Date(s)) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .is_ok_and(|d| d.format("%Y-%m-%d").to_string() == *s && s.len() == 10),
        (FieldKind::Uuid, FieldValue::Uuid(s)) => Uuid::parse_str(s).is_ok_and(|u| u.hyphenated().to_string() == *s),
        (FieldKind::UuidList { max }, FieldValue::List(items)) => {
            items.len() <= max
                && items.iter().all(|s| Uuid::parse_str(s).is_ok_and(|u| u.hyphenated().to_string() == *s))
        }
        (FieldKind::Code { table }, FieldValue::Text(s)) => fields::code_table(table).is_some_and(|t| t.contains(s)),
        (FieldKind::Codes { table, max }, FieldValue::List(items)) => {
            items.len() <= max && items.iter().all(|s| fields::code_table(table).is_some_and(|t| t.contains(s)))
        }
        (FieldKind::IdNumber, FieldValue::Text(s)) => validate::id_number_is_valid(s),
        (FieldKind::Phone, FieldValue::Text(s)) => {
            s.bytes().all(|b| b.is_ascii_digit()) && (10..=12).contains(&s.len())
        }
        (FieldKind::RegionCode, FieldValue::Text(s)) => s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()),
        (FieldKind::BankAccount, FieldValue::BankAccount(s)) => {
            (8..=30).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    };
    if !ok {
        return Err(format!("{}: {:?} stored as {stored:?}", spec.name, spec.kind));
    }
    if !spec.kind.is_masked() {
        let again = validate::field(spec, &stored.to_json());
        if again.as_ref() != Ok(stored) {
            return Err(format!("{}: {stored:?} validates again as {again:?}", spec.name));
        }
    }
    Ok(())
}

/// One field through the validator, panics caught: the stored form or the refusal.
fn validated(spec: &FieldSpec, value: &Value) -> Result<Result<FieldValue, String>, String> {
    std::panic::catch_unwind(|| validate::field(spec, value))
        .map(|r| r.map_err(|code| code.code().to_owned()))
        .map_err(|_| format!("{}: validator panicked on {value}", spec.name))
}

#[derive(Default)]
struct Tally {
    validator_cases: u64,
    validator_accepted: u64,
    pushes: u64,
    applied: u64,
    rejected: u64,
    raw_bodies: u64,
    codes: BTreeMap<String, u64>,
    findings: Vec<String>,
}

/// The records the harness edits: a household with its head, and its plan.
struct Records {
    household: Uuid,
    head: Uuid,
    plan: Uuid,
    versions: BTreeMap<Uuid, i64>,
}

async fn run(backend: Backend) {
    let seconds: u64 = std::env::var("JINGZHUN_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let fuzz_seed: u64 = std::env::var("JINGZHUN_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1
    });
    eprintln!("fuzz-push {backend:?}: {seconds} s, JINGZHUN_FUZZ_SEED={fuzz_seed}");
    let mut rng = Rng(fuzz_seed);
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-fuzz").await;
    let (household, members) = create_household(&phone, VILLAGE_1, 0).await;
    let plan = Uuid::new_v4();
    let res = push(
        &phone,
        vec![changeset(vec![change(
            "help_plan",
            plan,
            Op::Create,
            0,
            json!({"household_id": household, "year": 2026}),
        )])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);
    let mut records = Records {
        household,
        head: members[0],
        plan,
        versions: [(household, 1), (members[0], 1), (plan, 1)].into_iter().collect(),
    };
    let mut tally = Tally::default();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        validator_round(&mut rng, &records, &mut tally);
        push_round(&mut rng, &app, &phone, &mut records, &mut tally).await;
        if rng.chance(10) {
            raw_round(&mut rng, &app, &phone, &records, &mut tally).await;
        }
        if tally.findings.len() > 20 {
            break;
        }
    }
    eprintln!(
        "fuzz-push {backend:?}: seed {fuzz_seed}; {} validator cases ({} accepted), {} pushes ({} applied, {} rejected), {} raw bodies",
        tally.validator_cases, tally.validator_accepted, tally.pushes, tally.applied, tally.rejected, tally.raw_bodies
    );
    eprintln!("refusal codes: {:?}", tally.codes);
    for finding in &tally.findings {
        eprintln!("FINDING: {finding}");
    }
    assert!(tally.findings.is_empty(), "{} findings (seed {fuzz_seed})", tally.findings.len());
}

fn validator_round(rng: &mut Rng, records: &Records, tally: &mut Tally) {
    let ids = [records.household.to_string(), records.plan.to_string()];
    for _ in 0..200 {
        let entity = *rng.pick(fields::ENTITIES);
        let spec = rng.pick(entity.fields);
        let value = value_for(rng, spec, &ids);
        tally.validator_cases += 1;
        match validated(spec, &value) {
            Err(finding) => tally.findings.push(finding),
            Ok(Ok(stored)) => {
                tally.validator_accepted += 1;
                if let Err(finding) = check_storable(spec, &stored) {
                    tally.findings.push(format!("{}.{finding} (sent {value})", entity.name));
                }
            }
            Ok(Err(code)) => *tally.codes.entry(code).or_default() += 1,
        }
    }
}

/// A create of a child record (required fields valid, some fields random) or an update
/// of the household, its head or its plan with random fields.
fn random_change(rng: &mut Rng, records: &Records) -> (&'static EntitySpec, Uuid, Op, i64, Map<String, Value>) {
    let ids = [records.household.to_string(), records.plan.to_string()];
    let entity = *rng.pick(fields::ENTITIES);
    let mut values = Map::new();
    let (id, op) = match entity.name {
        "household" => (records.household, Op::Update),
        "member" if rng.chance(70) => (records.head, Op::Update),
        "help_plan" if rng.chance(50) => (records.plan, Op::Update),
        _ => (Uuid::new_v4(), Op::Create),
    };
    if op == Op::Create {
        for spec in entity.fields.iter().filter(|f| f.required) {
            let value = match spec.name {
                "household_id" => json!(records.household),
                "plan_id" => json!(records.plan),
                "relation" => json!("son"),
                "kind" if entity.name == "case" => json!("exit"),
                _ => valid_for(rng, spec.kind, &ids),
            };
            values.insert(spec.name.to_owned(), value);
        }
    }
    let editable: Vec<&FieldSpec> = entity
        .fields
        .iter()
        .filter(|f| f.policy != Policy::ReadOnly && (op == Op::Create || f.policy != Policy::CreateOnly))
        .filter(|f| !matches!(f.name, "household_id" | "plan_id"))
        .collect();
    for _ in 0..=rng.below(4) {
        if let Some(spec) = editable.get(rng.below(editable.len())) {
            values.insert(spec.name.to_owned(), value_for(rng, spec, &ids));
        }
    }
    let base = records.versions.get(&id).copied().unwrap_or(0);
    (entity, id, op, base, values)
}

async fn push_round(rng: &mut Rng, app: &TestApp, phone: &Client, records: &mut Records, tally: &mut Tally) {
    let (entity, id, op, base, values) = random_change(rng, records);
    let sent = change(entity.name, id, op, base, Value::Object(values.clone()));
    tally.pushes += 1;
    let answer = phone.push(&jingzhun_mobile_api::wire::PushRequest { changesets: vec![changeset(vec![sent])] }).await;
    let result = match answer {
        Ok(mut res) if res.results.len() == 1 => res.results.remove(0),
        Ok(res) => return tally.findings.push(format!("{} results for one change set: {res:?}", res.results.len())),
        Err(err) => return tally.findings.push(format!("push of {} {values:?} failed: {err}", entity.name)),
    };
    if result.status != ChangeSetStatus::Applied {
        tally.rejected += 1;
        for error in result.changes.iter().flat_map(|c| &c.errors) {
            *tally.codes.entry(format!("push:{}", error.code)).or_default() += 1;
        }
        return;
    }
    tally.applied += 1;
    let change = &result.changes[0];
    records.versions.insert(id, change.version);
    // What was applied reads back as the validator's stored form.
    let state = app.admin.household(records.household).await;
    let record = if entity.is_household() {
        state["household"].clone()
    } else {
        state[entity.name]
            .as_array()
            .and_then(|list| list.iter().find(|r| r["id"] == json!(id)).cloned())
            .unwrap_or(Value::Null)
    };
    if record.is_null() {
        // A create applied to another household is not ours to read (a random household_id).
        return;
    }
    for (name, value) in &values {
        let Some(spec) = entity.field(name) else { continue };
        if change.status == ChangeStatus::Conflict && change.conflicts.iter().any(|c| c.field == *name) {
            continue;
        }
        let Ok(Ok(stored)) = validated(spec, value) else { continue };
        if record[name.as_str()] != stored.to_json() {
            tally.findings.push(format!(
                "{}.{name}: sent {value}, validated {:?}, read back {}",
                entity.name,
                stored,
                record[name.as_str()]
            ));
        }
    }
}

/// A body that is not a push, a push of the wrong shape, or escapes serde never writes
/// (half a surrogate pair): 200 with results, or 4xx with our error body; never 5xx.
async fn raw_round(rng: &mut Rng, app: &TestApp, phone: &Client, records: &Records, tally: &mut Tally) {
    tally.raw_bodies += 1;
    let body = match rng.below(4) {
        0 => any_json(rng, 0).to_string(),
        1 => json!({"changesets": [{"id": Uuid::new_v4(), "changes": [any_json(rng, 0)]}]}).to_string(),
        2 => json!({"changesets": any_json(rng, 0)}).to_string(),
        // Escapes serde never writes: half a surrogate pair, a short or odd escape.
        _ => {
            let escape = *rng.pick(&[r"\ud83d", r"\ude00", r"\ud83d\ud83d", r"\u00", r"\x41", r"\\ud83d", r"\uDFFF"]);
            format!(
                r#"{{"changesets": [{{"id": "{}", "changes": [{{"entity": "visit_log", "id": "{}", "op": "create",
                    "base_version": 0, "fields": {{"household_id": "{}", "visited_on": "2026-01-05", "note": "a{escape}b"}}}}]}}]}}"#,
                Uuid::new_v4(),
                Uuid::new_v4(),
                records.household
            )
        }
    };
    let res = reqwest::Client::new()
        .post(format!("{}/api/mobile/v1/sync/push", app.base))
        .bearer_auth(phone.token().unwrap_or_default())
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await;
    let res = match res {
        Ok(res) => res,
        Err(err) => return tally.findings.push(format!("raw push {body} failed: {err}")),
    };
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let fine = match status {
        200 => parsed["results"].is_array(),
        400..=499 => parsed["error"]["code"].is_string(),
        _ => false,
    };
    if !fine {
        tally.findings.push(format!("raw push {body} answered {status}: {text}"));
    }
}
