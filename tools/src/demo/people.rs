//! People of the demo county, drawn from the seeded generator: names (surnames and
//! given names by sex), families of three to six with believable relations and ages,
//! health, phone numbers and ID numbers that pass GB 11643. Pure: no I/O, no clock.

use super::{DEMO_YEAR, ID_AREA};
use chrono::NaiveDate;
use jingzhun_mobile_api::validate::id_check_char;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::collections::HashMap;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Sex {
    Male,
    Female,
}

impl Sex {
    pub(super) fn code(self) -> &'static str {
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

pub(super) struct Person {
    pub(super) name: String,
    pub(super) sex: Sex,
    pub(super) relation: &'static str,
    pub(super) age: i32,
    pub(super) health: &'static str,
}

pub(super) const SURNAMES: &[&str] = &[
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

pub(super) fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    *items.choose(rng).unwrap_or(&items[0])
}

/// A given name of one or two characters.
pub(super) fn given_name(rng: &mut StdRng, sex: Sex) -> String {
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

pub(super) fn other_surname(rng: &mut StdRng, not: &str) -> &'static str {
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
pub(super) fn family(rng: &mut StdRng, size: usize) -> Vec<Person> {
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
pub(super) struct IdNumbers {
    next: HashMap<(NaiveDate, Sex), u32>,
}

impl IdNumbers {
    pub(super) fn issue(&mut self, rng: &mut StdRng, birth: NaiveDate, sex: Sex) -> String {
        let n = self.next.entry((birth, sex)).or_insert_with(|| rng.gen_range(0..300));
        let seq = *n * 2 + u32::from(sex == Sex::Male);
        *n += 1;
        let first17 = format!("{ID_AREA}{}{seq:03}", birth.format("%Y%m%d"));
        let check = id_check_char(&first17).unwrap_or('0');
        format!("{first17}{check}")
    }
}

pub(super) fn birth_date(rng: &mut StdRng, age: i32) -> NaiveDate {
    let year = DEMO_YEAR - age;
    let month = rng.gen_range(1..=12);
    let day = rng.gen_range(1..=28);
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

pub(super) fn mobile_number(rng: &mut StdRng) -> String {
    let prefix = pick(rng, &["13", "15", "18", "17", "19"]);
    format!("{prefix}{:09}", rng.gen_range(0..1_000_000_000u32))
}
