//! R8: data quality of one household record — 000 §四(四): 贫困户信息要确保真实、完整，
//! 不漏项、不串项，无逻辑错误 (nothing missing, nothing in the wrong field, no logical
//! contradiction); 003 §五(四) and 004 §四(二) make data quality part of the yearly review.
//!
//! Checks: ID numbers (GB 11643-1999: 17 digits and a check character, a real birth
//! date not after the check date, the sex digit agreeing with the recorded sex; a
//! 残疾人证 number is its holder's ID number with a category 1–7 and a grade 1–4), a
//! person without any number kept 系统外 as 001 附件1 note 3 says, exactly
//! one head (户主), no person in two active households (given the ID numbers active
//! elsewhere), ages consistent with the ID number and with compulsory-school status,
//! no empty mandatory field, poverty causes at most three without repeats (004
//! A27a–c), income "of which" parts within their totals, residents not more than members.
//!
//! What this module must never do: read the clock (the check date is an argument),
//! look anything up (ID numbers seen elsewhere are passed in), or fix the record — it
//! lists problems, each with a stable code and a Chinese and an English text.

use super::facts::{HouseholdFacts, MemberFacts, Relation, Sex, coded};
use super::policy::RulePolicy;
use chrono::{Datelike, NaiveDate};
use jingzhun_mobile_api::validate::{DISABILITY_CARD_LEN, id_check_char, person_id};
use serde::Serialize;
use std::collections::HashSet;

coded! {
    /// What is wrong.
    ProblemCode {
        IdNumberMissing => "id_number_missing", "缺少身份证号码";
        IdNumberFormat => "id_number_format", "身份证号码格式错误";
        IdNumberCheckDigit => "id_number_check_digit", "身份证号码校验码错误";
        IdNumberBirthDate => "id_number_birth_date", "身份证号码出生日期无效";
        IdNumberSex => "id_number_sex", "身份证号码与登记性别不符";
        IdNumberRepeated => "id_number_repeated", "身份证号码在本户重复";
        IdNumberInOtherHousehold => "id_number_in_other_household", "身份证号码已在其他在档户中";
        HeadMissing => "head_missing", "没有户主";
        HeadMultiple => "head_multiple", "户主多于一人";
        AgeMismatch => "age_mismatch", "年龄与身份证号码不符";
        StudentAge => "student_age", "义务教育在校生年龄不合理";
        StudentStageWithoutStatus => "student_stage_without_status", "非在校生登记了就读阶段";
        FieldEmpty => "field_empty", "必填项为空";
        PovertyCausesRepeated => "poverty_causes_repeated", "致贫原因重复";
        PovertyCausesTooMany => "poverty_causes_too_many", "致贫原因超过三项";
        IncomeInconsistent => "income_inconsistent", "收入数据逻辑错误";
        ResidentsExceedMembers => "residents_exceed_members", "常住人口多于家庭成员";
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: ProblemCode,
    /// Index of the member concerned, if any.
    pub member: Option<usize>,
    /// The field concerned, if any.
    pub field: Option<&'static str>,
    pub zh: String,
    pub en: String,
}

/// Recorded age and the age from the ID number may differ by this much: forms are
/// filled in over weeks and some officers write the nominal age (虚岁).
const AGE_TOLERANCE_YEARS: u32 = 1;

/// R8 over one household, as of `as_of`. `ids_elsewhere`: the ID numbers (upper case,
/// the 18-character person part of a 残疾人证 number) of members of other active households.
pub fn check_quality(
    facts: &HouseholdFacts,
    as_of: NaiveDate,
    ids_elsewhere: &HashSet<String>,
    policy: &RulePolicy,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    household_fields(facts, &mut problems);
    heads(facts, &mut problems);
    let mut seen: HashSet<String> = HashSet::new();
    for (i, member) in facts.members.iter().enumerate() {
        member_fields(i, member, &mut problems);
        let birth = match member.id_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            // 001 附件1 note 3: "尚未报户口，无身份证号码，因国扶系统无法录入，暂时系统外管理".
            // A household already kept 系统外 with the reason recorded is managed as 001
            // says; otherwise the officer is told to do so.
            None if facts.outside_national_system
                && member.no_id_reason.as_deref().is_some_and(|r| !r.trim().is_empty()) =>
            {
                None
            }
            None => {
                problems.push(Problem {
                    code: ProblemCode::IdNumberMissing,
                    member: Some(i),
                    field: Some("id_number"),
                    zh: format!("{}没有身份证号码；尚未落户的按“系统外人员”管理（001 附件1），请登记无证件原因并将该户标为系统外", member.name),
                    en: format!("{} has no ID number; a person not yet registered is kept outside the national system (001 annex 1): record why and flag the household 系统外", member.name),
                });
                None
            }
            Some(id) => {
                let id = id.to_ascii_uppercase();
                // A person, not a number: an ID card and a 残疾人证 on it are one person.
                if !seen.insert(person_id(&id).to_owned()) {
                    problems.push(member_problem(ProblemCode::IdNumberRepeated, i, member, "id_number"));
                }
                if ids_elsewhere.contains(person_id(&id)) {
                    problems.push(member_problem(ProblemCode::IdNumberInOtherHousehold, i, member, "id_number"));
                }
                id_number(i, member, &id, as_of, &mut problems)
            }
        };
        ages(i, member, birth, as_of, policy, &mut problems);
    }
    if let Err(e) = facts.income.check() {
        problems.push(Problem {
            code: ProblemCode::IncomeInconsistent,
            member: None,
            field: Some("income"),
            zh: e.zh(),
            en: e.en(),
        });
    }
    let members = u32::try_from(facts.members.len()).unwrap_or(u32::MAX);
    if !facts.members.is_empty() && facts.resident_members > members {
        problems.push(Problem {
            code: ProblemCode::ResidentsExceedMembers,
            member: None,
            field: Some("resident_members"),
            zh: format!("常住人口{}人，多于家庭成员{}人", facts.resident_members, members),
            en: format!("{} residents but {} members", facts.resident_members, members),
        });
    }
    problems
}

fn member_problem(code: ProblemCode, i: usize, member: &MemberFacts, field: &'static str) -> Problem {
    Problem {
        code,
        member: Some(i),
        field: Some(field),
        zh: format!("{}：{}", member.name, code.label()),
        en: format!("{}: {}", member.name, code.code().replace('_', " ")),
    }
}

fn empty(field: &'static str, label: &str, member: Option<(usize, &str)>) -> Problem {
    let (index, who_zh, who_en) = match member {
        Some((i, name)) => (Some(i), format!("{name}："), format!("{name}: ")),
        None => (None, String::new(), String::new()),
    };
    Problem {
        code: ProblemCode::FieldEmpty,
        member: index,
        field: Some(field),
        zh: format!("{who_zh}“{label}”未填写"),
        en: format!("{who_en}{field} is empty"),
    }
}

fn household_fields(facts: &HouseholdFacts, problems: &mut Vec<Problem>) {
    if facts.region_code.trim().is_empty() {
        problems.push(empty("region_code", "所在村", None));
    }
    if facts.standard.is_none() {
        problems.push(empty("standard", "识别标准", None));
    }
    if facts.kind.is_none() {
        problems.push(empty("kind", "贫困户属性", None));
    }
    if facts.poverty_causes.is_empty() {
        problems.push(empty("poverty_causes", "主要致贫原因", None));
    }
    if facts.resident_members == 0 {
        problems.push(empty("resident_members", "家庭常住人口数", None));
    }
    for g in facts.guarantees.unrecorded() {
        problems.push(empty(g.code(), g.label(), None));
    }
    if facts.members.is_empty() {
        problems.push(empty("members", "家庭成员", None));
    }
    if facts.poverty_causes.len() > 3 {
        problems.push(Problem {
            code: ProblemCode::PovertyCausesTooMany,
            member: None,
            field: Some("poverty_causes"),
            zh: format!("致贫原因{}项，最多一项主要原因和两项其他原因", facts.poverty_causes.len()),
            en: format!("{} poverty causes; at most one main and two more", facts.poverty_causes.len()),
        });
    }
    let distinct: HashSet<_> = facts.poverty_causes.iter().collect();
    if distinct.len() < facts.poverty_causes.len() {
        problems.push(Problem {
            code: ProblemCode::PovertyCausesRepeated,
            member: None,
            field: Some("poverty_causes"),
            zh: "致贫原因重复填写".to_owned(),
            en: "a poverty cause is listed twice".to_owned(),
        });
    }
}

fn heads(facts: &HouseholdFacts, problems: &mut Vec<Problem>) {
    let heads = facts.members.iter().filter(|m| m.relation == Some(Relation::Head)).count();
    let (code, en) = match heads {
        1 => return,
        0 => (ProblemCode::HeadMissing, "no member is the head".to_owned()),
        n => (ProblemCode::HeadMultiple, format!("{n} members are recorded as head")),
    };
    if facts.members.is_empty() {
        return;
    }
    problems.push(Problem { code, member: None, field: Some("relation"), zh: code.label().to_owned(), en });
}

fn member_fields(i: usize, member: &MemberFacts, problems: &mut Vec<Problem>) {
    let who = Some((i, member.name.as_str()));
    if member.name.trim().is_empty() {
        problems.push(empty("name", "姓名", who));
    }
    if member.sex.is_none() {
        problems.push(empty("sex", "性别", who));
    }
    if member.relation.is_none() {
        problems.push(empty("relation", "与户主关系", who));
    }
    if member.health.is_none() {
        problems.push(empty("health", "健康状况", who));
    }
    if !member.is_student && member.school_stage.is_some() {
        problems.push(member_problem(ProblemCode::StudentStageWithoutStatus, i, member, "school_stage"));
    }
}

/// Checks one (upper-case) ID number; returns the birth date when it is valid.
fn id_number(
    i: usize,
    member: &MemberFacts,
    id: &str,
    as_of: NaiveDate,
    problems: &mut Vec<Problem>,
) -> Option<NaiveDate> {
    // A 残疾人证 number: its holder's ID number, then category 1–7 and grade 1–4.
    let card_suffix_ok = |b: &[u8]| (b'1'..=b'7').contains(&b[0]) && (b'1'..=b'4').contains(&b[1]);
    if id.len() == DISABILITY_CARD_LEN && !card_suffix_ok(&id.as_bytes()[18..]) {
        problems.push(member_problem(ProblemCode::IdNumberFormat, i, member, "id_number"));
        return None;
    }
    let id = if id.len() == DISABILITY_CARD_LEN { person_id(id) } else { id };
    let bytes = id.as_bytes();
    let well_formed = bytes.len() == 18
        && bytes[..17].iter().all(u8::is_ascii_digit)
        && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
    if !well_formed {
        problems.push(member_problem(ProblemCode::IdNumberFormat, i, member, "id_number"));
        return None;
    }
    if id_check_char(&id[..17]) != Some(char::from(bytes[17])) {
        problems.push(member_problem(ProblemCode::IdNumberCheckDigit, i, member, "id_number"));
    }
    let birth = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").ok().filter(|d| d.year() >= 1900 && *d <= as_of);
    if birth.is_none() {
        problems.push(member_problem(ProblemCode::IdNumberBirthDate, i, member, "id_number"));
    }
    // Digit 17: odd for men, even for women.
    let id_sex = if (bytes[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female };
    if member.sex.is_some_and(|sex| sex != id_sex) {
        problems.push(member_problem(ProblemCode::IdNumberSex, i, member, "sex"));
    }
    birth
}

/// Full years from `birth` to `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    on.years_since(birth).unwrap_or(0)
}

fn ages(
    i: usize,
    member: &MemberFacts,
    birth: Option<NaiveDate>,
    as_of: NaiveDate,
    policy: &RulePolicy,
    problems: &mut Vec<Problem>,
) {
    let id_age = birth.map(|b| age_on(b, as_of));
    if let (Some(recorded), Some(from_id)) = (member.age, id_age)
        && recorded.abs_diff(from_id) > AGE_TOLERANCE_YEARS
    {
        problems.push(Problem {
            code: ProblemCode::AgeMismatch,
            member: Some(i),
            field: Some("age"),
            zh: format!("{}：登记年龄{}岁，身份证号码显示{}岁", member.name, recorded, from_id),
            en: format!("{}: recorded age {}, {} by the ID number", member.name, recorded, from_id),
        });
    }
    let compulsory = member.is_student && member.school_stage.is_some_and(|s| s.is_compulsory());
    if let Some(age) = id_age.or(member.age)
        && compulsory
        && !(policy.compulsory_student_min_age..=policy.compulsory_student_max_age).contains(&age)
    {
        problems.push(Problem {
            code: ProblemCode::StudentAge,
            member: Some(i),
            field: Some("school_stage"),
            zh: format!("{}：{}岁登记为义务教育阶段在校生", member.name, age),
            en: format!("{}: aged {} but recorded as a compulsory-education student", member.name, age),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::{Guarantees, Health, Kind, PovertyCause, SchoolStage, Standard};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    /// A valid ID number for a birth date and a sequence (odd: male).
    fn id(region: &str, birth: &str, seq: &str) -> String {
        let first17 = format!("{region}{birth}{seq}");
        let check = id_check_char(&first17).expect("17 digits");
        format!("{first17}{check}")
    }

    fn member(name: &str, sex: Sex, id_number: Option<String>, relation: Relation, age: u32) -> MemberFacts {
        MemberFacts {
            name: name.into(),
            sex: Some(sex),
            id_number,
            relation: Some(relation),
            health: Some(Health::Healthy),
            age: Some(age),
            ..Default::default()
        }
    }

    fn clean() -> HouseholdFacts {
        HouseholdFacts {
            region_code: "350481100201".into(),
            standard: Some(Standard::National),
            kind: Some(Kind::General),
            poverty_causes: vec![PovertyCause::Illness],
            guarantees: Guarantees::all_met(),
            resident_members: 2,
            members: vec![
                member("王一", Sex::Male, Some(id("350481", "19700101", "001")), Relation::Head, 48),
                member("李二", Sex::Female, Some(id("350481", "19720202", "002")), Relation::Spouse, 46),
            ],
            ..Default::default()
        }
    }

    fn codes(facts: &HouseholdFacts) -> Vec<&'static str> {
        check_quality(facts, date(2018, 4, 1), &HashSet::new(), &RulePolicy::baseline())
            .iter()
            .map(|p| p.code.code())
            .collect()
    }

    #[test]
    fn a_clean_record_has_no_problem() {
        assert_eq!(codes(&clean()), Vec::<&str>::new());
    }

    #[test]
    fn id_numbers_follow_gb_11643() {
        let with_id = |id_number: &str, sex| {
            let mut facts = clean();
            facts.members[1].id_number = Some(id_number.to_owned());
            facts.members[1].sex = Some(sex);
            facts
        };
        let valid_female = id("350481", "19720202", "002");
        let mut wrong_check = valid_female.clone();
        wrong_check.replace_range(17.., if valid_female.ends_with('0') { "1" } else { "0" });
        let table = [
            ("the standard's own example", "11010519491231002X".to_owned(), Sex::Female, vec![]),
            ("lower-case x is the same", "11010519491231002x".to_owned(), Sex::Female, vec![]),
            ("wrong check character", wrong_check.clone(), Sex::Female, vec!["id_number_check_digit"]),
            ("17 characters", "11010519491231002".to_owned(), Sex::Female, vec!["id_number_format"]),
            // 001 附件1's 出生时间 19730342: the 42nd of March.
            ("no such birth date", id("350481", "19730342", "002"), Sex::Female, vec!["id_number_birth_date"]),
            ("born after the check date", id("350481", "20190101", "002"), Sex::Female, vec!["id_number_birth_date"]),
            ("sex digit says male", id("350481", "19720202", "003"), Sex::Female, vec!["id_number_sex"]),
            ("a 残疾人证 number", "11010519491231002X42".to_owned(), Sex::Female, vec![]),
            ("a 残疾人证 of grade 5", "11010519491231002X45".to_owned(), Sex::Female, vec!["id_number_format"]),
            ("a 残疾人证 on a wrong ID", format!("{wrong_check}42"), Sex::Female, vec!["id_number_check_digit"]),
        ];
        for (case, id_number, sex, expected) in table {
            let mut found = codes(&with_id(&id_number, sex));
            found.retain(|c| *c != "age_mismatch");
            assert_eq!(found, expected, "{case}");
        }
    }

    #[test]
    fn a_person_without_a_number_is_kept_outside_the_national_system() {
        let mut newborn = clean();
        newborn.members.push(MemberFacts {
            name: "张小小".into(),
            sex: Some(Sex::Female),
            relation: Some(Relation::Daughter),
            health: Some(Health::Healthy),
            ..Default::default()
        });
        newborn.resident_members = 3;
        assert_eq!(codes(&newborn), ["id_number_missing"], "told to record why and flag the household");
        newborn.members[2].no_id_reason = Some("未报户口".into());
        assert_eq!(codes(&newborn), ["id_number_missing"], "a reason alone does not keep the household 系统外");
        newborn.outside_national_system = true;
        assert_eq!(codes(&newborn), Vec::<&str>::new(), "managed as 001 附件1 note 3 says");
        newborn.members[2].no_id_reason = None;
        assert_eq!(codes(&newborn), ["id_number_missing"]);
    }

    #[test]
    fn an_id_card_and_a_disability_card_on_it_are_one_person() {
        let mut twice = clean();
        twice.members[1].id_number = twice.members[0].id_number.clone().map(|id| format!("{id}41"));
        twice.members[1].sex = Some(Sex::Male);
        assert!(codes(&twice).contains(&"id_number_repeated"));
        let mut card = clean();
        card.members[1].id_number = card.members[1].id_number.clone().map(|id| format!("{id}23"));
        let elsewhere: HashSet<String> = [id("350481", "19720202", "002")].into_iter().collect();
        let found = check_quality(&card, date(2018, 4, 1), &elsewhere, &RulePolicy::baseline());
        assert_eq!(found.iter().map(|p| p.code).collect::<Vec<_>>(), [ProblemCode::IdNumberInOtherHousehold]);
    }

    #[test]
    fn exactly_one_head() {
        let mut none = clean();
        none.members[0].relation = Some(Relation::Son);
        assert_eq!(codes(&none), ["head_missing"]);
        let mut two = clean();
        two.members[1].relation = Some(Relation::Head);
        assert_eq!(codes(&two), ["head_multiple"]);
    }

    #[test]
    fn a_person_in_two_households() {
        let facts = clean();
        let elsewhere: HashSet<String> = [id("350481", "19720202", "002")].into_iter().collect();
        let found = check_quality(&facts, date(2018, 4, 1), &elsewhere, &RulePolicy::baseline());
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].code, found[0].member), (ProblemCode::IdNumberInOtherHousehold, Some(1)));
        let mut twice = clean();
        twice.members[1].id_number = twice.members[0].id_number.clone();
        twice.members[1].sex = Some(Sex::Male);
        assert!(codes(&twice).contains(&"id_number_repeated"));
    }

    #[test]
    fn student_status_and_age() {
        let student = |birth: &str, age, stage| {
            let mut facts = clean();
            let mut child = member("王三", Sex::Male, Some(id("350481", birth, "011")), Relation::Son, age);
            child.is_student = true;
            child.school_stage = stage;
            facts.members.push(child);
            facts.resident_members = 3;
            facts
        };
        let table = [
            ("13 in junior secondary", student("20050101", 13, Some(SchoolStage::JuniorSecondary)), vec![]),
            ("20 in primary school", student("19980101", 20, Some(SchoolStage::Primary)), vec!["student_age"]),
            ("4 in primary school", student("20140101", 4, Some(SchoolStage::Primary)), vec!["student_age"]),
            ("20 at university", student("19980101", 20, Some(SchoolStage::Tertiary)), vec![]),
            ("age written 30, ID says 20", student("19980101", 30, Some(SchoolStage::Tertiary)), vec!["age_mismatch"]),
        ];
        for (case, facts, expected) in table {
            assert_eq!(codes(&facts), expected, "{case}");
        }
        let mut stage_only = clean();
        stage_only.members[1].school_stage = Some(SchoolStage::Primary);
        assert_eq!(codes(&stage_only), ["student_stage_without_status"]);
    }

    #[test]
    fn nothing_left_out_nothing_contradictory() {
        let mut facts = clean();
        facts.kind = None;
        facts.guarantees.water = None;
        facts.members[1].health = None;
        facts.poverty_causes = vec![PovertyCause::Illness, PovertyCause::Illness];
        facts.income.transfer = 100;
        facts.income.pension = 200;
        facts.resident_members = 3;
        let found = check_quality(&facts, date(2018, 4, 1), &HashSet::new(), &RulePolicy::baseline());
        let fields: Vec<(&str, Option<&str>)> = found.iter().map(|p| (p.code.code(), p.field)).collect();
        assert_eq!(
            fields,
            [
                ("field_empty", Some("kind")),
                ("field_empty", Some("water_secure")),
                ("poverty_causes_repeated", Some("poverty_causes")),
                ("field_empty", Some("health")),
                ("income_inconsistent", Some("income")),
                ("residents_exceed_members", Some("resident_members")),
            ]
        );
        assert_eq!(found[1].zh, "“饮水安全有保障”未填写");
    }

    #[test]
    fn ages_are_counted_in_full_years() {
        assert_eq!(age_on(date(2003, 4, 2), date(2018, 4, 1)), 14);
        assert_eq!(age_on(date(2003, 4, 1), date(2018, 4, 1)), 15);
        assert_eq!(age_on(date(2019, 1, 1), date(2018, 4, 1)), 0);
    }
}
