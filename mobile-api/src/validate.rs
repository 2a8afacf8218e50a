//! Validators shared by the server and the phone: a phone can check a field before it
//! queues it, and the server checks it again before it applies it.

use crate::errors::ErrorCode;
use crate::fields::{FieldKind, FieldSpec, code_table};
use chrono::NaiveDate;
use serde_json::Value;

/// A field value after validation, in its stored form.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Null,
    Text(String),
    Int(i64),
    /// Whole fen (1/100 yuan).
    Money(i64),
    /// Whole hundredths of a `Decimal` field's unit (mu, m², km).
    Decimal(i64),
    Bool(bool),
    /// A date, stored as `YYYY-MM-DD` text.
    Date(String),
    /// A UUID, stored as its hyphenated lowercase text.
    Uuid(String),
    /// A list (codes or UUIDs), stored as a JSON array text.
    List(Vec<String>),
    /// A bank account number, digits only: stored in full, never sent out in full.
    BankAccount(String),
}

impl FieldValue {
    /// The wire form the server sends out: money back in yuan, lists as arrays, a bank
    /// account masked to its last four digits (so pulls, the admin API and the audit log
    /// never carry the number). Not the way back in: a masked account does not validate.
    pub fn to_json(&self) -> Value {
        match self {
            FieldValue::Null => Value::Null,
            FieldValue::Text(s) | FieldValue::Date(s) | FieldValue::Uuid(s) => Value::String(s.clone()),
            FieldValue::Int(i) => Value::from(*i),
            FieldValue::Money(fen) => fen_to_yuan(*fen),
            FieldValue::Decimal(hundredths) => fen_to_yuan(*hundredths),
            FieldValue::BankAccount(account) => Value::String(mask_bank_account(account)),
            FieldValue::Bool(b) => Value::Bool(*b),
            FieldValue::List(items) => Value::Array(items.iter().cloned().map(Value::String).collect()),
        }
    }
}

/// Yuan as a JSON number: whole yuan as an integer, otherwise with its decimals. The same
/// for any amount kept in hundredths.
pub fn fen_to_yuan(fen: i64) -> Value {
    if fen % 100 == 0 {
        Value::from(fen / 100)
    } else {
        serde_json::Number::from_f64(fen as f64 / 100.0).map_or(Value::Null, Value::Number)
    }
}

/// Largest amount accepted: ten billion yuan, far above any household figure.
const MONEY_MAX_FEN: i64 = 1_000_000_000_000;

/// Checks one field's wire value against its spec and returns the stored form.
///
/// The stored form is canonical, and every value this accepts fits its column on both
/// databases: text carries no control character (PostgreSQL refuses NUL in text) and
/// stays within `max_chars`, dates are `YYYY-MM-DD` (stored dates are compared as text),
/// phone numbers are digits only, numbers stay inside BIGINT. The server stores exactly
/// what this returns, so a phone that stores it too sees the same value come back.
pub fn field(spec: &FieldSpec, value: &Value) -> Result<FieldValue, ErrorCode> {
    if value.is_null() {
        return match spec.kind {
            _ if spec.required => Err(ErrorCode::Required),
            // A list is never absent, only empty: its column holds `[]` and is not nullable.
            FieldKind::UuidList { .. } | FieldKind::Codes { .. } => Ok(FieldValue::List(Vec::new())),
            _ => Ok(FieldValue::Null),
        };
    }
    match spec.kind {
        FieldKind::Text { max_chars } => {
            let text = value.as_str().ok_or(ErrorCode::InvalidType)?;
            let Some(s) = free_text(text, keeps_line_breaks(spec.kind))? else {
                return if spec.required { Err(ErrorCode::Required) } else { Ok(FieldValue::Null) };
            };
            if s.chars().count() > max_chars {
                return Err(ErrorCode::TooLong);
            }
            Ok(FieldValue::Text(s))
        }
        FieldKind::Int { min, max } => {
            let i = value.as_i64().ok_or(ErrorCode::InvalidType)?;
            if i < min || i > max {
                return Err(ErrorCode::OutOfRange);
            }
            Ok(FieldValue::Int(i))
        }
        FieldKind::Money => money_fen(value).map(FieldValue::Money),
        FieldKind::Decimal { max } => decimal_hundredths(value, max).map(FieldValue::Decimal),
        FieldKind::Bool => value.as_bool().map(FieldValue::Bool).ok_or(ErrorCode::InvalidType),
        FieldKind::Date => canonical_date(as_str(value)?).map(FieldValue::Date),
        FieldKind::Uuid => uuid(as_str(value)?).map(FieldValue::Uuid),
        FieldKind::UuidList { max } => {
            let items = value.as_array().ok_or(ErrorCode::InvalidType)?;
            if items.len() > max {
                return Err(ErrorCode::TooManyValues);
            }
            items.iter().map(|v| uuid(as_str(v)?)).collect::<Result<_, _>>().map(FieldValue::List)
        }
        FieldKind::Code { table } => {
            let s = as_str(value)?;
            let table = code_table(table).ok_or(ErrorCode::UnknownCode)?;
            if table.contains(s) { Ok(FieldValue::Text(s.to_owned())) } else { Err(ErrorCode::UnknownCode) }
        }
        FieldKind::Codes { table, max } => {
            let items = value.as_array().ok_or(ErrorCode::InvalidType)?;
            if items.len() > max {
                return Err(ErrorCode::TooManyValues);
            }
            let table = code_table(table).ok_or(ErrorCode::UnknownCode)?;
            let mut codes: Vec<String> = Vec::with_capacity(items.len());
            for item in items {
                let s = as_str(item)?;
                if !table.contains(s) {
                    return Err(ErrorCode::UnknownCode);
                }
                if !codes.iter().any(|c| c == s) {
                    codes.push(s.to_owned());
                }
            }
            Ok(FieldValue::List(codes))
        }
        FieldKind::IdNumber => {
            let s = as_str(value)?.trim().to_ascii_uppercase();
            if s.is_empty() {
                // A person without a document has no number at all (NULL), never "": two
                // such people must not look like one shared number (R8).
                return if spec.required { Err(ErrorCode::Required) } else { Ok(FieldValue::Null) };
            }
            if id_number_is_valid(&s) || disability_card_is_valid(&s) {
                Ok(FieldValue::Text(s))
            } else if s.len() == DISABILITY_CARD_LEN {
                Err(ErrorCode::InvalidDisabilityCard)
            } else {
                Err(ErrorCode::InvalidIdNumber)
            }
        }
        FieldKind::Phone => canonical_phone(as_str(value)?).map(FieldValue::Text).ok_or(ErrorCode::InvalidPhone),
        FieldKind::RegionCode => {
            let s = as_str(value)?;
            if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
                Ok(FieldValue::Text(s.to_owned()))
            } else {
                Err(ErrorCode::InvalidRegion)
            }
        }
        FieldKind::BankAccount => {
            let s = as_str(value)?.trim();
            if s.is_empty() {
                return if spec.required { Err(ErrorCode::Required) } else { Ok(FieldValue::Null) };
            }
            bank_account(s).map(FieldValue::BankAccount)
        }
    }
}

/// Text fields at least this long are free text (a visit note, a plan's goal): they keep
/// line breaks and tabs. Shorter ones (names, addresses, titles) are one line.
pub const FREE_TEXT_MIN_CHARS: usize = 1000;

/// Whether a field of this kind keeps line breaks and tabs.
pub fn keeps_line_breaks(kind: FieldKind) -> bool {
    matches!(kind, FieldKind::Text { max_chars } if max_chars >= FREE_TEXT_MIN_CHARS)
}

/// Whether `c` is refused in text: a control character (NUL, which PostgreSQL refuses
/// in text, the rest of C0, DEL, C1), a bidirectional override or isolate (it makes a
/// name or an address read as something else), or a line or paragraph separator.
/// Free text (`multiline`) keeps `\n` and `\t`, and the Unicode line and paragraph
/// separators.
pub fn is_refused_char(c: char, multiline: bool) -> bool {
    match c {
        '\n' | '\t' | '\u{2028}' | '\u{2029}' => !multiline,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => true,
        c => c.is_control(),
    }
}

/// Whether the text holds a character [`is_refused_char`] refuses.
pub fn has_control_characters(s: &str, multiline: bool) -> bool {
    s.chars().any(|c| is_refused_char(c, multiline))
}

/// Free text in its stored form: trimmed, line ends as `\n`; `None` when blank. A
/// control character inside is refused, not dropped: what was typed is not what
/// would be stored.
pub fn free_text(s: &str, multiline: bool) -> Result<Option<String>, ErrorCode> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let s = if multiline && s.contains('\r') { s.replace("\r\n", "\n").replace('\r', "\n") } else { s.to_owned() };
    if has_control_characters(&s, multiline) {
        return Err(ErrorCode::ControlCharacter);
    }
    Ok(Some(s))
}

/// Earliest and latest year of a date field: far wider than any household record needs,
/// and always four digits, so stored dates compare correctly as text.
pub const DATE_MIN_YEAR: i32 = 1900;
pub const DATE_MAX_YEAR: i32 = 2100;

/// A date as a phone may write it to its stored form `YYYY-MM-DD`: `2026-09-01`,
/// `2026-9-1` and ` 2026-09-01 ` all become `2026-09-01`. A four-digit year, a month and
/// a day, separated by `-`; a sign, a time, another separator or an impossible day is
/// `invalid_date`, a year outside [`DATE_MIN_YEAR`]–[`DATE_MAX_YEAR`] `out_of_range`.
pub fn canonical_date(s: &str) -> Result<String, ErrorCode> {
    let s = s.trim();
    if has_control_characters(s, false) {
        return Err(ErrorCode::ControlCharacter);
    }
    let mut parts = s.split('-');
    let (Some(year), Some(month), Some(day), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(ErrorCode::InvalidDate);
    };
    let number = |part: &str, digits: std::ops::RangeInclusive<usize>| {
        if digits.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse::<u32>().map_err(|_| ErrorCode::InvalidDate)
        } else {
            Err(ErrorCode::InvalidDate)
        }
    };
    let (year, month, day) = (number(year, 4..=4)?, number(month, 1..=2)?, number(day, 1..=2)?);
    let year = i32::try_from(year).map_err(|_| ErrorCode::InvalidDate)?;
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or(ErrorCode::InvalidDate)?;
    if !(DATE_MIN_YEAR..=DATE_MAX_YEAR).contains(&year) {
        return Err(ErrorCode::OutOfRange);
    }
    Ok(date.format("%Y-%m-%d").to_string())
}

/// A string value of a one-line kind (a code, a date, a number written as text). A
/// control character inside it is `control_character` whatever else is wrong with the
/// value, so the officer learns what to remove; surrounding whitespace is the kind's to
/// trim or refuse.
fn as_str(value: &Value) -> Result<&str, ErrorCode> {
    let s = value.as_str().ok_or(ErrorCode::InvalidType)?;
    if has_control_characters(s.trim(), false) {
        return Err(ErrorCode::ControlCharacter);
    }
    Ok(s)
}

fn uuid(s: &str) -> Result<String, ErrorCode> {
    uuid::Uuid::parse_str(s).map(|u| u.hyphenated().to_string()).map_err(|_| ErrorCode::InvalidType)
}

/// Yuan with at most two decimals, non-negative, to whole fen.
pub fn money_fen(value: &Value) -> Result<i64, ErrorCode> {
    let number = value.as_number().ok_or(ErrorCode::InvalidType)?;
    let fen = hundredths(number).ok_or(ErrorCode::InvalidMoney)?;
    if !(0..=MONEY_MAX_FEN).contains(&fen) {
        return Err(ErrorCode::InvalidMoney);
    }
    Ok(fen)
}

/// A non-negative number with at most two decimals and at most `max` whole units, to
/// whole hundredths: 12.5 mu is 1250.
pub fn decimal_hundredths(value: &Value, max: i64) -> Result<i64, ErrorCode> {
    let number = value.as_number().ok_or(ErrorCode::InvalidType)?;
    if number.as_f64().is_some_and(|x| x < 0.0 || x > max as f64) {
        return Err(ErrorCode::OutOfRange);
    }
    let hundredths = hundredths(number).ok_or(ErrorCode::InvalidDecimal)?;
    if hundredths < 0 || hundredths > max.saturating_mul(100) {
        return Err(ErrorCode::OutOfRange);
    }
    Ok(hundredths)
}

/// A JSON number in whole hundredths; `None` with more than two decimals or when it
/// does not fit.
fn hundredths(number: &serde_json::Number) -> Option<i64> {
    if let Some(i) = number.as_i64() {
        return i.checked_mul(100);
    }
    let x = number.as_f64()? * 100.0;
    let rounded = x.round();
    // More than two decimals is a typing error, not something to round away.
    if (x - rounded).abs() > 1e-6 || !(i64::MIN as f64..=i64::MAX as f64).contains(&rounded) {
        return None;
    }
    Some(rounded as i64)
}

/// A bank account number as officers copy it from a bank card or passbook: 8 to 30
/// digits, spaces and hyphens between groups dropped.
pub fn bank_account(s: &str) -> Result<String, ErrorCode> {
    let digits: String = s.chars().filter(|c| *c != ' ' && *c != '-').collect();
    if (8..=30).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(ErrorCode::InvalidBankAccount)
    }
}

/// GB 11643-1999: 17 digits, a check character (0–9 or X) and a real birth date.
pub fn id_number_is_valid(id: &str) -> bool {
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    if id_birth_date(id).is_none() {
        return false;
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = bytes[..17].iter().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    CHECK[(sum % 11) as usize] == bytes[17]
}

/// Length of a 残疾人证 number: the holder's 18-character ID number, then one digit of
/// category and one of grade.
pub const DISABILITY_CARD_LEN: usize = 20;

/// A 残疾人证 number of the national second-generation format (004 A4
/// "居民身份证(残疾人证)号码"): a valid 18-character ID number, then the category (1 视力,
/// 2 听力, 3 言语, 4 肢体, 5 智力, 6 精神, 7 多重) and the grade (1–4).
pub fn disability_card_is_valid(number: &str) -> bool {
    let bytes = number.as_bytes();
    bytes.len() == DISABILITY_CARD_LEN
        // `get`, not slicing: 20 bytes of which the 18th is inside a Chinese character
        // would panic, a 500 that a phone retries forever, wedging its outbox.
        && number.get(..18).is_some_and(id_number_is_valid)
        && (b'1'..=b'7').contains(&bytes[18])
        && (b'1'..=b'4').contains(&bytes[19])
}

/// The person a stored number names: its first 18 characters, so a 残疾人证 number and
/// its holder's ID card count as one person in every duplicate check (R8).
pub fn person_id(number: &str) -> &str {
    number.get(..18).unwrap_or(number)
}

/// Every number that names the person with this ID number: the ID number itself and the
/// 28 possible 残疾人证 numbers built on it, for duplicate look-ups that use the column's
/// index (`id_number IN (…)`) on both databases.
pub fn numbers_of_person(number: &str) -> Vec<String> {
    let person = person_id(number);
    let mut numbers = Vec::with_capacity(29);
    numbers.push(person.to_owned());
    for category in '1'..='7' {
        for grade in '1'..='4' {
            numbers.push(format!("{person}{category}{grade}"));
        }
    }
    numbers
}

/// `id_type` of a person recorded without any document (001 附件1 note 3: an unregistered
/// newborn, "尚未报户口，无身份证号码").
pub const NO_DOCUMENT: &str = "none";

/// Whether a member's identity fields agree, on the record as it will be stored
/// (`id_type`, `id_number`, `no_id_reason`): a number unless the type is 无证件; a
/// reason when there is none; a 20-character number not as a 居民身份证. The field named
/// is the one to correct. Old phones never send `id_type`: a member with a valid number
/// and no type is fine, as it always was, and so is a 残疾人证 number without its type
/// (the number says what it is). A reason left behind once a number is recorded (the
/// newborn registered) is harmless: nothing reads it while there is a number.
pub fn member_identity(
    id_type: Option<&str>,
    id_number: Option<&str>,
    no_id_reason: Option<&str>,
) -> Result<(), (&'static str, ErrorCode)> {
    match (id_type, id_number) {
        (Some(NO_DOCUMENT), Some(_)) => Err(("id_number", ErrorCode::IdTypeMismatch)),
        (Some(NO_DOCUMENT), None) if no_id_reason.is_none_or(|r| r.trim().is_empty()) => {
            Err(("no_id_reason", ErrorCode::Required))
        }
        (Some(NO_DOCUMENT), None) => Ok(()),
        (_, None) => Err(("id_number", ErrorCode::Required)),
        (Some("resident_id_card"), Some(n)) if n.len() == DISABILITY_CARD_LEN => {
            Err(("id_type", ErrorCode::IdTypeMismatch))
        }
        (_, Some(_)) => Ok(()),
    }
}

/// The birth date encoded in digits 7–14, if it is a real date not in the future.
pub fn id_birth_date(id: &str) -> Option<NaiveDate> {
    let date = NaiveDate::parse_from_str(id.get(6..14)?, "%Y%m%d").ok()?;
    let today = chrono::Utc::now().date_naive();
    (date.year_ce().1 >= 1900 && date <= today).then_some(date)
}

use chrono::Datelike;

/// The sex encoded in digit 17: odd for male, even for female.
pub fn id_sex(id: &str) -> Option<&'static str> {
    let d = id.as_bytes().get(16)?;
    d.is_ascii_digit().then(|| if (d - b'0') % 2 == 1 { "male" } else { "female" })
}

/// The check character for 17 digits; used to make valid demo and test numbers.
pub fn id_check_char(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes.iter().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    Some(CHECK[(sum % 11) as usize] as char)
}

/// A mainland mobile number (11 digits starting with 1) or a landline with its area code
/// (10 to 12 digits starting with 0), in any common writing.
pub fn phone_is_valid(phone: &str) -> bool {
    canonical_phone(phone).is_some()
}

/// A phone number to its stored form, digits only: spaces, hyphens and parentheses
/// between groups dropped, a `+86` or `0086` country code dropped (a landline written
/// internationally gets its leading 0 back). `None` for anything else.
///
/// "138 1234 5678", "+86 138-1234-5678" and "13812345678" are one number, and
/// the per-number SMS limits and look-ups must see it as one.
pub fn canonical_phone(phone: &str) -> Option<String> {
    let written: String = phone.trim().chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let (international, national) = match written.strip_prefix("+86").or_else(|| written.strip_prefix("0086")) {
        Some(rest) => (true, rest),
        None => (false, written.as_str()),
    };
    if national.is_empty() || !national.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if national.len() == 11 && national.starts_with('1') {
        return Some(national.to_owned());
    }
    let landline =
        if international && !national.starts_with('0') { format!("0{national}") } else { national.to_owned() };
    (landline.starts_with('0') && (10..=12).contains(&landline.len())).then_some(landline)
}

/// Masks an ID number for anything public: first 6 and last 4 kept. A 残疾人证 number
/// shows as its holder's ID number does, its last two digits (category and grade, health
/// data) hidden too.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() == DISABILITY_CARD_LEN {
        let holder = person_id(id);
        // 20 characters whose 18th byte is inside a multi-byte one are no card: hidden
        // whole (masking the same string again would recurse without end and overflow
        // the stack — one spreadsheet cell could take the server down).
        if holder.len() == id.len() {
            return "*".repeat(chars.len());
        }
        return format!("{}**", mask_id_number(holder));
    }
    if chars.len() < 10 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..6].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 10));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// Masks a bank account for every output: only the last 4 digits are kept, the length
/// shows ("************1234"). A value too short to hide anything is masked whole.
pub fn mask_bank_account(account: &str) -> String {
    let chars: Vec<char> = account.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let mut out = "*".repeat(chars.len() - 4);
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// Masks a phone number: first 3 and last 4 kept.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..3].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 7));
    out.extend(&chars[chars.len() - 4..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{HOUSEHOLD, INCOME, MEMBER};
    use serde_json::json;

    #[test]
    fn id_numbers_follow_gb11643() {
        // The standard's own example number.
        assert!(id_number_is_valid("11010519491231002X"));
        assert!(!id_number_is_valid("110105194912310021"), "wrong check digit");
        assert!(!id_number_is_valid("11010519491331002X"), "month 13");
        assert!(!id_number_is_valid("11010519491231002"), "17 characters");
        assert_eq!(id_check_char("11010519491231002"), Some('X'));
        assert_eq!(id_sex("11010519491231002X"), Some("female"));
    }

    #[test]
    fn disability_cards_are_the_id_number_with_category_and_grade() {
        assert!(disability_card_is_valid("11010519491231002X42"), "肢体残疾二级");
        assert!(!disability_card_is_valid("11010519491231002X82"), "category 8");
        assert!(!disability_card_is_valid("11010519491231002X45"), "grade 5");
        assert!(!disability_card_is_valid("11010519491231002142"), "the ID's check digit is wrong");
        assert!(
            !disability_card_is_valid("11010519491231002字"),
            "20 bytes ending inside a character: refused, no panic"
        );
        assert_eq!(person_id("11010519491231002X42"), "11010519491231002X");
        let numbers = numbers_of_person("11010519491231002X42");
        assert_eq!(numbers.len(), 29);
        assert!(numbers.iter().all(|n| id_number_is_valid(n) || disability_card_is_valid(n)));
        assert!(
            numbers.contains(&"11010519491231002X".to_owned()) && numbers.contains(&"11010519491231002X74".to_owned())
        );
        assert_eq!(mask_id_number("11010519491231002X42"), "110105********002X**", "the disability stays unsaid");
        let id = MEMBER.field("id_number").expect("field");
        assert_eq!(field(id, &json!("11010519491231002x42")), Ok(FieldValue::Text("11010519491231002X42".into())));
        assert_eq!(field(id, &json!("11010519491231002X82")), Err(ErrorCode::InvalidDisabilityCard));
        assert_eq!(field(id, &json!("  ")), Ok(FieldValue::Null), "no number is NULL, never a shared empty one");
    }

    #[test]
    fn a_member_has_a_number_or_says_why_not() {
        let id = Some("11010519491231002X");
        let card = Some("11010519491231002X42");
        assert_eq!(member_identity(None, id, None), Ok(()), "an old phone's member");
        assert_eq!(member_identity(None, None, None), Err(("id_number", ErrorCode::Required)));
        assert_eq!(
            member_identity(Some("resident_id_card"), None, Some("未报户口")),
            Err(("id_number", ErrorCode::Required))
        );
        assert_eq!(member_identity(Some("none"), None, Some("未报户口")), Ok(()));
        assert_eq!(member_identity(Some("none"), None, Some(" ")), Err(("no_id_reason", ErrorCode::Required)));
        assert_eq!(member_identity(Some("none"), id, Some("未报户口")), Err(("id_number", ErrorCode::IdTypeMismatch)));
        assert_eq!(member_identity(Some("disability_card"), card, None), Ok(()));
        assert_eq!(member_identity(None, card, None), Ok(()));
        assert_eq!(member_identity(Some("resident_id_card"), card, None), Err(("id_type", ErrorCode::IdTypeMismatch)));
        assert_eq!(
            member_identity(Some("disability_card"), id, None),
            Ok(()),
            "stored before 残疾人证 numbers were taken"
        );
    }

    #[test]
    fn fields_validate_to_their_stored_form() {
        let id = MEMBER.field("id_number").expect("field");
        assert_eq!(field(id, &json!("11010519491231002x")), Ok(FieldValue::Text("11010519491231002X".into())));
        assert_eq!(field(id, &json!("110105194912310021")), Err(ErrorCode::InvalidIdNumber));
        // Whether a member may lack one is `member_identity`'s answer, not the field's.
        assert_eq!(field(id, &Value::Null), Ok(FieldValue::Null));
        let name = MEMBER.field("name").expect("field");
        assert_eq!(field(name, &Value::Null), Err(ErrorCode::Required));
        let kind = HOUSEHOLD.field("kind").expect("field");
        assert_eq!(field(kind, &json!("dibao")), Ok(FieldValue::Text("dibao".into())));
        assert_eq!(field(kind, &json!("低保")), Err(ErrorCode::UnknownCode));
        let causes = HOUSEHOLD.field("poverty_causes").expect("field");
        assert_eq!(
            field(causes, &json!(["illness", "disability", "schooling", "disaster"])),
            Err(ErrorCode::TooManyValues)
        );
        let wage = INCOME.field("wage").expect("field");
        assert_eq!(field(wage, &json!(1234.5)), Ok(FieldValue::Money(123450)));
        assert_eq!(field(wage, &json!(3200)), Ok(FieldValue::Money(320000)));
        assert_eq!(field(wage, &json!(1.234)), Err(ErrorCode::InvalidMoney));
        assert_eq!(field(wage, &json!(-1)), Err(ErrorCode::InvalidMoney));
        assert_eq!(field(wage, &json!("100")), Err(ErrorCode::InvalidType));
        assert_eq!(FieldValue::Money(123450).to_json(), json!(1234.5));
        assert_eq!(FieldValue::Money(320000).to_json(), json!(3200));
    }

    #[test]
    fn areas_and_distances_keep_two_decimals() {
        let land = HOUSEHOLD.field("farmland_area").expect("field");
        assert_eq!(field(land, &json!(12.5)), Ok(FieldValue::Decimal(1250)));
        assert_eq!(field(land, &json!(3)), Ok(FieldValue::Decimal(300)));
        assert_eq!(field(land, &json!(0.01)), Ok(FieldValue::Decimal(1)));
        assert_eq!(field(land, &json!(1.1)), Ok(FieldValue::Decimal(110)), "no binary rounding surprise");
        assert_eq!(field(land, &json!(0)), Ok(FieldValue::Decimal(0)));
        assert_eq!(field(land, &json!(2.345)), Err(ErrorCode::InvalidDecimal));
        assert_eq!(field(land, &json!(-1)), Err(ErrorCode::OutOfRange));
        assert_eq!(field(land, &json!(100_000.01)), Err(ErrorCode::OutOfRange));
        assert_eq!(field(land, &json!(1e300)), Err(ErrorCode::OutOfRange));
        assert_eq!(field(land, &json!("12.5")), Err(ErrorCode::InvalidType));
        assert_eq!(field(land, &Value::Null), Ok(FieldValue::Null));
        assert_eq!(FieldValue::Decimal(1250).to_json(), json!(12.5));
        assert_eq!(FieldValue::Decimal(300).to_json(), json!(3));
        let distance = HOUSEHOLD.field("main_road_distance").expect("field");
        assert_eq!(field(distance, &json!(0.35)), Ok(FieldValue::Decimal(35)));
        assert_eq!(field(distance, &json!(1000.5)), Err(ErrorCode::OutOfRange));
        // Money keeps its own code.
        assert_eq!(field(INCOME.field("dibao").expect("field"), &json!(2.345)), Err(ErrorCode::InvalidMoney));
    }

    #[test]
    fn member_details_follow_their_tables() {
        let ethnicity = MEMBER.field("ethnicity").expect("field");
        assert_eq!(field(ethnicity, &json!("han")), Ok(FieldValue::Text("han".into())));
        assert_eq!(field(ethnicity, &json!("汉族")), Err(ErrorCode::UnknownCode));
        let months = MEMBER.field("work_months").expect("field");
        assert_eq!(field(months, &json!(12)), Ok(FieldValue::Int(12)));
        assert_eq!(field(months, &json!(13)), Err(ErrorCode::OutOfRange));
        let grade = HOUSEHOLD.field("housing_grade").expect("field");
        assert_eq!(field(grade, &json!("c")), Ok(FieldValue::Text("c".into())));
        assert_eq!(field(grade, &json!("E")), Err(ErrorCode::UnknownCode));
    }

    #[test]
    fn bank_accounts_are_stored_whole_and_shown_masked() {
        let account = HOUSEHOLD.field("bank_account").expect("field");
        let stored = field(account, &json!("6228 4800 1234 5678")).expect("valid");
        assert_eq!(stored, FieldValue::BankAccount("6228480012345678".into()));
        assert_eq!(stored.to_json(), json!("************5678"));
        assert_eq!(
            field(account, &json!("6217-0012-3456-7890-123")),
            Ok(FieldValue::BankAccount("6217001234567890123".into()))
        );
        assert_eq!(field(account, &json!("")), Ok(FieldValue::Null));
        assert_eq!(field(account, &json!("1234567")), Err(ErrorCode::InvalidBankAccount), "7 digits");
        assert_eq!(field(account, &json!("6228ABCD12345678")), Err(ErrorCode::InvalidBankAccount));
        // A masked value sent back (a form re-submitted whole) is refused, not stored.
        assert_eq!(field(account, &json!("************5678")), Err(ErrorCode::InvalidBankAccount));
        assert_eq!(field(account, &json!(6228480012345678_i64)), Err(ErrorCode::InvalidType));
        assert_eq!(mask_bank_account("6228480012345678"), "************5678");
        assert_eq!(mask_bank_account("1234"), "****");
        assert_eq!(mask_bank_account(""), "");
    }

    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert!(phone_is_valid("13812345678"));
        assert!(phone_is_valid("0518-85821234"));
        assert!(!phone_is_valid("2381234567"));
    }
    #[test]
    fn control_characters_are_refused_in_every_string() {
        use crate::fields::{CASE, PLAN_TASK, VISIT_LOG};
        let name = MEMBER.field("name").expect("field");
        assert_eq!(field(name, &json!("张\u{0}三")), Err(ErrorCode::ControlCharacter), "NUL");
        assert_eq!(field(name, &json!("张\u{1b}[31m三")), Err(ErrorCode::ControlCharacter), "ESC");
        assert_eq!(field(name, &json!("张\u{7f}三")), Err(ErrorCode::ControlCharacter), "DEL");
        assert_eq!(field(name, &json!("张\u{85}三")), Err(ErrorCode::ControlCharacter), "C1");
        assert_eq!(field(name, &json!("张\n三")), Err(ErrorCode::ControlCharacter), "a name is one line");
        assert_eq!(field(name, &json!("张\u{202e}三")), Err(ErrorCode::ControlCharacter), "bidi override");
        assert_eq!(field(name, &json!(" 张三\r\n")), Ok(FieldValue::Text("张三".into())), "trimmed, not refused");
        assert_eq!(field(name, &json!("\u{0}")), Err(ErrorCode::ControlCharacter), "not blank: refused");
        // Free text keeps its lines and tabs, with one line end.
        let note = VISIT_LOG.field("note").expect("field");
        assert_eq!(
            field(note, &json!("第一行\r\n第二行\r\t缩进")),
            Ok(FieldValue::Text("第一行\n第二行\n\t缩进".into()))
        );
        assert_eq!(field(note, &json!("走访\u{0}记录")), Err(ErrorCode::ControlCharacter));
        assert_eq!(field(note, &json!("走访\u{8}记录")), Err(ErrorCode::ControlCharacter), "backspace");
        // And every other kind that arrives as a string.
        for (spec, value) in [
            (HOUSEHOLD.field("phone"), "138\u{0}12345678"),
            (HOUSEHOLD.field("kind"), "dibao\u{0}"),
            (HOUSEHOLD.field("region_code"), "3207030010\u{0}1"),
            (HOUSEHOLD.field("bank_account"), "6228 4800\u{0}1234 5678"),
            (MEMBER.field("id_number"), "11010519491231002\u{0}"),
            (MEMBER.field("household_id"), "0a8e6f3c-1b1d-4c59-9c1e-\u{0}f7b5a3d2c11"),
            (PLAN_TASK.field("due_date"), "2026-09-0\u{0}1"),
            (CASE.field("reason"), "a\u{0}"),
        ] {
            assert_eq!(field(spec.expect("field"), &json!(value)), Err(ErrorCode::ControlCharacter), "{value:?}");
        }
        let causes = HOUSEHOLD.field("poverty_causes").expect("field");
        assert_eq!(field(causes, &json!(["illness\u{0}"])), Err(ErrorCode::ControlCharacter));
        // A list cleared is empty, never null: its column is not nullable.
        assert_eq!(field(causes, &Value::Null), Ok(FieldValue::List(Vec::new())));
    }

    #[test]
    fn dates_are_stored_as_yyyy_mm_dd() {
        let due = crate::fields::PLAN_TASK.field("due_date").expect("field");
        let date = |s: &str| field(due, &json!(s));
        let stored = |s: &str| Ok(FieldValue::Date(s.into()));
        assert_eq!(date("2026-09-01"), stored("2026-09-01"));
        assert_eq!(date("2026-9-1"), stored("2026-09-01"), "a phone's short form");
        assert_eq!(date(" 2026-01-05 "), stored("2026-01-05"));
        assert_eq!(date("2024-02-29"), stored("2024-02-29"));
        for bad in [
            "+2026-01-05",
            "-2026-01-05",
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "26-01-05",
            "02026-01-05",
            "12026-01-05",
            "2026-001-05",
            "2026/01/05",
            "2026-01-05T08:00:00",
            "2026-01-05 08:00",
            "2026- 1-05",
            "2026-+1-05",
            "２０２６-01-05",
            "",
            "--",
        ] {
            assert_eq!(date(bad), Err(ErrorCode::InvalidDate), "{bad:?}");
        }
        assert_eq!(date("1899-12-31"), Err(ErrorCode::OutOfRange));
        assert_eq!(date("2101-01-01"), Err(ErrorCode::OutOfRange));
        assert_eq!(date("0000-01-01"), Err(ErrorCode::OutOfRange));
        assert_eq!(field(due, &json!(20260105)), Err(ErrorCode::InvalidType));
        // Stored dates sort as dates.
        assert!(canonical_date("2026-9-1").expect("date") < canonical_date("2026-12-6").expect("date"));
    }

    #[test]
    fn phones_are_stored_as_digits() {
        let phone = HOUSEHOLD.field("phone").expect("field");
        let stored = |s: &str| Ok(FieldValue::Text(s.into()));
        for (written, digits) in [
            ("13812345678", "13812345678"),
            ("138 1234 5678", "13812345678"),
            ("138-1234-5678", "13812345678"),
            ("+86 138 1234 5678", "13812345678"),
            ("+8613812345678", "13812345678"),
            ("0086 13812345678", "13812345678"),
            ("0518-85821234", "051885821234"),
            ("(0518) 8582 1234", "051885821234"),
            ("+86 518 8582 1234", "051885821234"),
            (" 010-12345678 ", "01012345678"),
        ] {
            assert_eq!(field(phone, &json!(written)), stored(digits), "{written:?}");
        }
        let padded = format!("0518{}85821234", " -".repeat(100));
        assert_eq!(field(phone, &json!(padded)), stored("051885821234"), "200 separators");
        for bad in [
            "",
            "2381234567",
            "1381234567",
            "138123456789",
            "+1 415 555 0100",
            "+86",
            "86 138 1234 5678",
            "138.1234.5678",
            "１３８１２３４５６７８",
            "138 1234 5678 转 801",
            "0518-85821234-801",
        ] {
            assert_eq!(field(phone, &json!(bad)), Err(ErrorCode::InvalidPhone), "{bad:?}");
        }
        assert_eq!(canonical_phone("+86 138 1234 5678"), canonical_phone("13812345678"));
    }

    /// Every field of every entity against values a hostile or broken client sends:
    /// nothing panics, and whatever is accepted is storable on both databases and
    /// already canonical (validating the stored form again gives it back unchanged).
    #[test]
    fn accepted_values_are_storable_and_canonical() {
        let long = |n: usize| "字".repeat(n);
        let mut values = vec![
            Value::Null,
            json!(true),
            json!(0),
            json!(-1),
            json!(1),
            json!(12.5),
            json!(0.001),
            json!(1e300),
            json!(-1e300),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(f64::MAX),
            json!(f64::MIN_POSITIVE),
            json!(9_999_999_999.99),
            json!(10_000_000_000.01),
            json!([]),
            json!({}),
            json!([null]),
            json!([1, 2]),
            json!(["illness", "illness", "disability"]),
            json!(["0a8e6f3c-1b1d-4c59-9c1e-5f7b5a3d2c11", "{0A8E6F3C-1B1D-4C59-9C1E-5F7B5A3D2C11}"]),
            json!(vec!["0a8e6f3c-1b1d-4c59-9c1e-5f7b5a3d2c11"; 21]),
        ];
        for s in [
            "",
            " ",
            "\u{0}",
            "a\u{0}b",
            "\u{3000}全角空格\u{3000}",
            "\n\t\r",
            "line\nbreak",
            "\u{feff}bom",
            "\u{200b}",
            "\u{2028}",
            "\u{202e}",
            "𝕏😀",
            "2026-01-05",
            "+2026-01-05",
            " 2026-01-05",
            "2026-9-1",
            "+10000-01-01",
            "9999-12-31",
            "1900-01-01",
            "13812345678",
            "+86 138 1234 5678",
            "0518-85821234",
            "11010519491231002X",
            "11010519491231002x",
            "11010519491231002x42",
            "320703001001",
            "6228 4800 1234 5678",
            "************5678",
            "0a8e6f3c-1b1d-4c59-9c1e-5f7b5a3d2c11",
            "urn:uuid:0a8e6f3c-1b1d-4c59-9c1e-5f7b5a3d2c11",
            "dibao",
            "head",
            "national",
            "true",
            "12",
        ] {
            values.push(json!(s));
        }
        for n in [49, 50, 51, 199, 200, 201, 2000, 4001] {
            values.push(json!(long(n)));
        }
        values.push(json!(format!("{}{}", "0518", "-".repeat(200))));
        values.push(json!(format!("138{}12345678", " ".repeat(200))));
        for entity in crate::fields::ENTITIES {
            for spec in entity.fields {
                for value in &values {
                    if let Ok(stored) = field(spec, value) {
                        assert_storable(spec, &stored);
                        if !spec.kind.is_masked() {
                            let again = field(spec, &stored.to_json());
                            assert_eq!(again.as_ref(), Ok(&stored), "{}.{} = {value}", entity.name, spec.name);
                        }
                    }
                }
            }
        }
    }

    /// What both databases take for a field: no NUL or other control character in text,
    /// text within the column, dates and phones in their one form, numbers in BIGINT
    /// and in the field's range.
    pub(crate) fn assert_storable(spec: &FieldSpec, stored: &FieldValue) {
        let name = spec.name;
        let text_ok = |s: &str| !s.contains('\u{0}') && !has_control_characters(s, keeps_line_breaks(spec.kind));
        match (spec.kind, stored) {
            (_, FieldValue::Null) => assert!(!spec.required, "{name}: null but required"),
            (FieldKind::Text { max_chars }, FieldValue::Text(s)) => {
                assert!(text_ok(s) && s.chars().count() <= max_chars && !s.is_empty(), "{name}: {s:?}");
                assert_eq!(s.trim(), s, "{name}: trimmed");
            }
            (FieldKind::Int { min, max }, FieldValue::Int(i)) => assert!((min..=max).contains(i), "{name}: {i}"),
            (FieldKind::Money, FieldValue::Money(fen)) => assert!((0..=MONEY_MAX_FEN).contains(fen), "{name}: {fen}"),
            (FieldKind::Decimal { max }, FieldValue::Decimal(h)) => assert!((0..=max * 100).contains(h), "{name}: {h}"),
            (FieldKind::Bool, FieldValue::Bool(_)) => {}
            (FieldKind::Date, FieldValue::Date(s)) => {
                let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date");
                assert_eq!(date.format("%Y-%m-%d").to_string(), *s, "{name}: canonical");
                assert_eq!(s.len(), 10, "{name}: {s}");
            }
            (FieldKind::Uuid, FieldValue::Uuid(s)) => assert_eq!(uuid(s).as_deref(), Ok(s.as_str()), "{name}"),
            (FieldKind::UuidList { max }, FieldValue::List(items)) => {
                assert!(items.len() <= max, "{name}");
                assert!(items.iter().all(|s| uuid(s).as_deref() == Ok(s.as_str())), "{name}: {items:?}");
            }
            (FieldKind::Code { table }, FieldValue::Text(s)) => {
                assert!(code_table(table).is_some_and(|t| t.contains(s)), "{name}: {s:?}")
            }
            (FieldKind::Codes { table, max }, FieldValue::List(items)) => {
                assert!(items.len() <= max, "{name}");
                assert!(items.iter().all(|s| code_table(table).is_some_and(|t| t.contains(s))), "{name}: {items:?}");
            }
            (FieldKind::IdNumber, FieldValue::Text(s)) => {
                assert!(id_number_is_valid(s) || disability_card_is_valid(s), "{name}: {s:?}");
                assert!(s.len() <= DISABILITY_CARD_LEN, "{name}: {s:?} fits member.id_number");
            }
            (FieldKind::Phone, FieldValue::Text(s)) => {
                assert!(s.bytes().all(|b| b.is_ascii_digit()) && (10..=12).contains(&s.len()), "{name}: {s:?}")
            }
            (FieldKind::RegionCode, FieldValue::Text(s)) => {
                assert!(s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()), "{name}: {s:?}")
            }
            (FieldKind::BankAccount, FieldValue::BankAccount(s)) => {
                assert!((8..=30).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()), "{name}: {s:?}")
            }
            (kind, value) => panic!("{name}: {kind:?} stored as {value:?}"),
        }
    }
}

/// The shared vectors: `vectors/field_checks.json` holds field values with the code
/// [`field`] gives each, and the officer app's `check.js` is tested on the same file, so
/// a phone's offline check cannot drift from the server's. Every vector is asserted here
/// against the real validator; so are its shape (a kind object as `GET /schema` sends
/// it) and its numbers (read the same by JavaScript). `vectors/masks.json` does the same
/// for the app's `masks.js` ([`mask_id_number`], [`mask_phone`]), and
/// `vectors/member_identity.json` for its `identity.js` ([`member_identity`]).
#[cfg(test)]
mod vectors {
    use super::*;
    use crate::fields::{ENTITIES, MEMBER, Policy};
    use serde_json::json;

    const FIELD_CHECKS: &str = include_str!("../vectors/field_checks.json");
    /// The code tables the vectors name, as `GET /schema` sends them.
    const CODE_TABLES: &str = include_str!("../vectors/code_tables.json");

    fn cases() -> Vec<Value> {
        match serde_json::from_str(FIELD_CHECKS) {
            Ok(Value::Array(cases)) => cases,
            other => panic!("field_checks.json is not an array: {other:?}"),
        }
    }

    /// The catalogue's kind for a vector's `bounds`. A table name the catalogue does not
    /// know is leaked to get the `'static` a `FieldKind` holds: only a test does this.
    fn kind_of(bounds: &Value) -> FieldKind {
        let number = |key: &str| bounds[key].as_i64().unwrap_or_else(|| panic!("{bounds}: {key}"));
        let size = |key: &str| usize::try_from(number(key)).unwrap_or_else(|_| panic!("{bounds}: {key}"));
        let table = || -> &'static str {
            let name = bounds["table"].as_str().unwrap_or_else(|| panic!("{bounds}: table"));
            code_table(name).map_or_else(|| &*Box::leak(name.to_owned().into_boxed_str()), |t| t.name)
        };
        match bounds["type"].as_str().unwrap_or_else(|| panic!("{bounds}: type")) {
            "text" => FieldKind::Text { max_chars: size("max_chars") },
            "int" => FieldKind::Int { min: number("min"), max: number("max") },
            "money" => FieldKind::Money,
            "decimal" => FieldKind::Decimal { max: number("max") },
            "bool" => FieldKind::Bool,
            "date" => FieldKind::Date,
            "uuid" => FieldKind::Uuid,
            "uuid_list" => FieldKind::UuidList { max: size("max") },
            "code" => FieldKind::Code { table: table() },
            "codes" => FieldKind::Codes { table: table(), max: size("max") },
            "id_number" => FieldKind::IdNumber,
            "phone" => FieldKind::Phone,
            "region_code" => FieldKind::RegionCode,
            "bank_account" => FieldKind::BankAccount,
            other => panic!("unknown kind {other}"),
        }
    }

    fn spec_of(case: &Value) -> FieldSpec {
        FieldSpec {
            name: "vector",
            label: "vector",
            kind: kind_of(&case["bounds"]),
            policy: Policy::Lww,
            required: case.get("required").and_then(Value::as_bool).unwrap_or(false),
        }
    }

    #[test]
    fn every_vector_gives_its_code() {
        let mut wrong = Vec::new();
        for case in cases() {
            let got = field(&spec_of(&case), &case["value"]).err().map(ErrorCode::code);
            if got != case["code"].as_str() {
                wrong.push(format!("{case} gave {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{} vectors disagree with the validator:\n{}", wrong.len(), wrong.join("\n"));
    }

    /// `bounds` is a field's kind as `GET /schema` sends it, so the app passes the
    /// schema's kind object straight in; only an unknown table is made up.
    #[test]
    fn vector_bounds_are_kinds_the_schema_sends() {
        let catalogue: Vec<Value> =
            ENTITIES.iter().flat_map(|e| e.fields).map(|f| serde_json::to_value(f.kind).expect("kind")).collect();
        for case in cases() {
            let object = case.as_object().unwrap_or_else(|| panic!("{case}"));
            assert!(
                object.keys().all(|k| ["kind", "bounds", "value", "code", "required", "note"].contains(&k.as_str())),
                "{case}"
            );
            let bounds = &case["bounds"];
            assert_eq!(bounds["type"], case["kind"], "{case}");
            assert_eq!(&serde_json::to_value(kind_of(bounds)).expect("kind"), bounds, "{case}");
            let unknown_table = bounds["table"].as_str().is_some_and(|t| code_table(t).is_none());
            assert!(unknown_table || catalogue.contains(bounds), "no field has the kind {bounds}");
            if let Some(code) = case["code"].as_str() {
                assert!(ErrorCode::from_code(code).is_some(), "{case}: no such code");
            }
        }
    }

    /// Every kind the catalogue uses has vectors it accepts and vectors it refuses: a
    /// new kind without vectors fails here, not on a phone.
    #[test]
    fn vectors_cover_every_kind_of_the_catalogue() {
        let cases = cases();
        for spec in ENTITIES.iter().flat_map(|e| e.fields) {
            let kind = serde_json::to_value(spec.kind).expect("kind");
            let of_kind = || cases.iter().filter(|c| c["kind"] == kind["type"]);
            assert!(of_kind().any(|c| c["code"].is_null() && !c["value"].is_null()), "{kind}: nothing accepted");
            assert!(of_kind().any(|c| !c["code"].is_null()), "{kind}: nothing refused");
        }
    }

    /// A number in the vectors is one JavaScript reads as the same number and writes
    /// back in the same form (`JSON.stringify`), so both sides test the same value: an
    /// integer within 2^53, or a float that is not a whole number below 2^63 (which
    /// JavaScript would send as an integer, and serde would read as one).
    #[test]
    fn vector_numbers_read_the_same_in_javascript() {
        fn walk(value: &Value, case: &Value) {
            match value {
                Value::Number(n) if n.is_f64() => {
                    let x = n.as_f64().expect("f64");
                    assert!(x.fract() != 0.0 || x.abs() >= 9.223_372_036_854_776e18, "{case}: write {x} as an integer");
                }
                Value::Number(n) => {
                    let safe = n.as_i64().is_some_and(|i| i.unsigned_abs() < (1 << 53));
                    assert!(safe, "{case}: {n} is beyond what JavaScript holds exactly");
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, case)),
                Value::Object(map) => map.values().for_each(|v| walk(v, case)),
                _ => {}
            }
        }
        for case in cases() {
            walk(&case["value"], &case);
        }
    }

    /// The tables `check.js` is tested with are the server's, as `GET /schema` sends them.
    #[test]
    fn vector_code_tables_are_the_servers() {
        let tables: Vec<Value> = serde_json::from_str(CODE_TABLES).expect("code_tables.json");
        for table in &tables {
            let name = table["name"].as_str().expect("name");
            let served = code_table(name).map(|t| serde_json::to_value(t).expect("table"));
            assert_eq!(served.as_ref(), Some(table), "code_tables.json's {name} differs from codes.rs: copy it again");
        }
        for case in cases() {
            if let Some(name) = case["bounds"]["table"].as_str().filter(|n| code_table(n).is_some()) {
                assert!(tables.iter().any(|t| t["name"] == name), "{name} is missing from code_tables.json");
            }
        }
    }

    const MASKS: &str = include_str!("../vectors/masks.json");
    const MEMBER_IDENTITY: &str = include_str!("../vectors/member_identity.json");

    fn array(name: &str, json: &str) -> Vec<Value> {
        match serde_json::from_str(json) {
            Ok(Value::Array(cases)) => cases,
            other => panic!("{name} is not an array: {other:?}"),
        }
    }

    /// How a list shows an ID or phone number, as the app's `masks.js` must.
    #[test]
    fn every_mask_vector_is_the_servers_mask() {
        let cases = array("masks.json", MASKS);
        let mut wrong = Vec::new();
        for case in &cases {
            let object = case.as_object().unwrap_or_else(|| panic!("{case}"));
            assert!(object.keys().all(|k| ["kind", "value", "masked", "note"].contains(&k.as_str())), "{case}");
            let value = case["value"].as_str().unwrap_or_else(|| panic!("{case}: value"));
            let got = match case["kind"].as_str() {
                Some("id_number") => mask_id_number(value),
                Some("phone") => mask_phone(value),
                _ => panic!("{case}: kind is id_number or phone"),
            };
            if Some(got.as_str()) != case["masked"].as_str() {
                wrong.push(format!("{case} gave {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{} mask vectors disagree:\n{}", wrong.len(), wrong.join("\n"));
        for kind in ["id_number", "phone"] {
            assert!(cases.iter().filter(|c| c["kind"] == kind).count() >= 10, "too few {kind} vectors");
        }
    }

    /// A member as a phone sends it, judged as the server judges a pushed member: each
    /// document field to its stored form ([`field`], as the sync's entity rules read it),
    /// then [`member_identity`]. Every value is one the field check accepts: the app asks
    /// `check.js` first, so its `identityProblem` never sees another.
    #[test]
    fn every_member_identity_vector_is_the_servers_answer() {
        const FIELDS: [&str; 3] = ["id_type", "id_number", "no_id_reason"];
        let cases = array("member_identity.json", MEMBER_IDENTITY);
        let mut wrong = Vec::new();
        let mut answers = std::collections::BTreeSet::new();
        for case in &cases {
            let object = case.as_object().unwrap_or_else(|| panic!("{case}"));
            assert!(object.keys().all(|k| ["member", "problem", "note"].contains(&k.as_str())), "{case}");
            let member = case["member"].as_object().unwrap_or_else(|| panic!("{case}: member"));
            assert!(member.keys().all(|k| FIELDS.contains(&k.as_str())), "{case}: only the three document fields");
            // Each field as the sync's entity rules read it: the stored text, or nothing.
            let stored: Vec<Option<String>> = FIELDS
                .iter()
                .map(|name| {
                    let spec = MEMBER.field(name).expect("a member field");
                    match field(spec, member.get(*name).unwrap_or(&Value::Null)) {
                        Ok(FieldValue::Text(s)) => Some(s),
                        Ok(FieldValue::Null) => None,
                        other => panic!("{case}: {name} is {other:?}, not a text the field check accepts"),
                    }
                })
                .collect();
            let got = member_identity(stored[0].as_deref(), stored[1].as_deref(), stored[2].as_deref())
                .err()
                .map(|(name, code)| json!([name, code.code()]));
            answers.insert(got.as_ref().map_or("null".to_owned(), Value::to_string));
            if got.as_ref().unwrap_or(&Value::Null) != &case["problem"] {
                wrong.push(format!("{case} gave {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{} identity vectors disagree:\n{}", wrong.len(), wrong.join("\n"));
        // Every answer the rule can give is among the vectors.
        let every = [
            "null",
            r#"["id_number","id_type_mismatch"]"#,
            r#"["no_id_reason","required"]"#,
            r#"["id_number","required"]"#,
            r#"["id_type","id_type_mismatch"]"#,
        ];
        assert_eq!(answers, every.iter().map(|a| (*a).to_owned()).collect(), "answers the vectors cover");
    }
}
