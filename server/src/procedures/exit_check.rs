//! The exit check a case must pass before it moves (R3; 004 §三(三): the system refuses
//! an exit while any of 两不愁三保障 is unmet).

use crate::db::WriteTxn;
use crate::sync::records::Record;
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use jingzhun_mobile_api::validate::FieldValue;
use sea_orm::DbErr;

/// The guarantees a household must have secured to exit, by field.
const GUARANTEES: [&str; 5] =
    ["food_clothing_secure", "education_secure", "medical_secure", "housing_secure", "water_secure"];

/// Each unmet condition, as a field error naming it. Unknown counts as unmet.
pub async fn unmet(_txn: &WriteTxn, household: &Record) -> Result<Vec<FieldError>, DbErr> {
    let mut errors = Vec::new();
    for guarantee in GUARANTEES {
        if household.value(guarantee) != &FieldValue::Bool(true) {
            let mut error = FieldError::new(guarantee, ErrorCode::ExitRefused);
            let label = jingzhun_mobile_api::fields::HOUSEHOLD.field(guarantee).map_or(guarantee, |f| f.label);
            error.message_zh = format!("未实现“{label}”，不能脱贫");
            error.message_en = format!("{guarantee} is not ensured: the household cannot exit");
            errors.push(error);
        }
    }
    Ok(errors)
}
