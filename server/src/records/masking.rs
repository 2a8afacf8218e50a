//! How the office's lists show the catalogue's personal values: ID numbers and phones
//! masked, bank accounts showing their last four digits, by the field's kind in the
//! catalogue, so a field added later is masked without anyone remembering to. Shared
//! by every list that carries raw field values (sync conflicts, rejected change sets).
//!
//! Pure: nothing here reads the database or decides who may see a whole value; that is
//! the single-record reads' job, which audit what they hand out.

use jingzhun_mobile_api::fields::{self, FieldKind};
use jingzhun_mobile_api::validate;

/// The mask a list applies to a value of this kind; `None` for values shown as they are.
pub fn for_kind(kind: FieldKind) -> Option<fn(&str) -> String> {
    match kind {
        FieldKind::IdNumber => Some(validate::mask_id_number),
        FieldKind::Phone => Some(validate::mask_phone),
        FieldKind::BankAccount => Some(validate::mask_bank_account),
        _ => None,
    }
}

/// The mask for `entity.field` of the catalogue; `None` for a field it does not name
/// or one shown as it is.
pub fn for_field(entity: &str, field: &str) -> Option<fn(&str) -> String> {
    fields::entity(entity).and_then(|e| e.field(field)).and_then(|f| for_kind(f.kind))
}

/// `value` as a list shows `entity.field`: a non-empty text masked when the field's kind
/// asks for it, anything else unchanged.
pub fn listed(entity: &str, field: &str, value: &mut serde_json::Value) {
    if let (Some(mask), serde_json::Value::String(text)) = (for_field(entity, field), value)
        && !text.is_empty()
    {
        *text = mask(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn id_numbers_phones_and_accounts_are_masked_by_kind() {
        let mut id = json!("320703198001011234");
        listed("member", "id_number", &mut id);
        assert_eq!(id, "320703********1234");
        let mut phone = json!("13900001111");
        listed("household", "phone", &mut phone);
        assert_eq!(phone, "139****1111");
        let mut name = json!("张三");
        listed("member", "name", &mut name);
        assert_eq!(name, "张三");
        let mut unknown = json!("320703198001011234");
        listed("nothing", "id_number", &mut unknown);
        assert_eq!(unknown, "320703198001011234", "only the catalogue's fields are known");
    }
}
