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
pub fn field(spec: &FieldSpec, value: &Value) -> Result<FieldValue, ErrorCode> {
    if value.is_null() {
        return if spec.required { Err(ErrorCode::Required) } else { Ok(FieldValue::Null) };
    }
    match spec.kind {
        FieldKind::Text { max_chars } => {
            let s = as_str(value)?.trim();
            if s.is_empty() {
                return if spec.required { Err(ErrorCode::Required) } else { Ok(FieldValue::Null) };
            }
            if s.chars().count() > max_chars {
                return Err(ErrorCode::TooLong);
            }
            Ok(FieldValue::Text(s.to_owned()))
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
        FieldKind::Date => {
            let s = as_str(value)?;
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ErrorCode::InvalidDate)?;
            Ok(FieldValue::Date(s.to_owned()))
        }
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
            if id_number_is_valid(&s) { Ok(FieldValue::Text(s)) } else { Err(ErrorCode::InvalidIdNumber) }
        }
        FieldKind::Phone => {
            let s = as_str(value)?.trim();
            if phone_is_valid(s) { Ok(FieldValue::Text(s.to_owned())) } else { Err(ErrorCode::InvalidPhone) }
        }
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

fn as_str(value: &Value) -> Result<&str, ErrorCode> {
    value.as_str().ok_or(ErrorCode::InvalidType)
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

/// A mainland mobile number (11 digits starting with 1) or a landline with area code.
pub fn phone_is_valid(phone: &str) -> bool {
    let digits: String = phone.chars().filter(|c| *c != '-' && *c != ' ').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    (digits.len() == 11 && digits.starts_with('1') && phone.chars().all(|c| c.is_ascii_digit()))
        || (digits.starts_with('0') && (10..=12).contains(&digits.len()))
}

/// Masks an ID number for anything public: first 6 and last 4 kept.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
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
    fn fields_validate_to_their_stored_form() {
        let id = MEMBER.field("id_number").expect("field");
        assert_eq!(field(id, &json!("11010519491231002x")), Ok(FieldValue::Text("11010519491231002X".into())));
        assert_eq!(field(id, &json!("110105194912310021")), Err(ErrorCode::InvalidIdNumber));
        assert_eq!(field(id, &Value::Null), Err(ErrorCode::Required));
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
}
