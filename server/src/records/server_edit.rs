//! Changes the server itself makes to synced records (a procedure completing, a
//! conflict resolved): the same versioning, change log and audit as a pushed change.

use crate::audit::AuditEntry;
use crate::records::changelog::{LogEntry, LogOp};
use crate::records::{self, Record};
use jingzhun_mobile_api::fields::{EntitySpec, FieldSpec};
use jingzhun_mobile_api::validate::FieldValue;
use sea_orm::{ConnectionTrait, DbErr};

/// Who makes the change and why; the reason goes into every audit entry.
pub struct Editor<'a> {
    pub user_id: &'a str,
    pub device_id: Option<&'a str>,
    pub action: &'a str,
    pub note: String,
}

/// The log row and audit entries of one server edit, for the caller's transaction.
#[derive(Default)]
pub struct Written {
    pub log: Vec<LogEntry>,
    pub audit: Vec<AuditEntry>,
}

impl Written {
    pub fn extend(&mut self, other: Written) {
        self.log.extend(other.log);
        self.audit.extend(other.audit);
    }
}

/// Sets fields of a record as a new version. Unchanged values are skipped; nothing
/// changed writes nothing.
pub async fn update_fields(
    conn: &impl ConnectionTrait,
    editor: &Editor<'_>,
    entity: &'static EntitySpec,
    record: &mut Record,
    changes: Vec<(&'static FieldSpec, FieldValue)>,
    region_code: Option<&str>,
) -> Result<Written, DbErr> {
    let changes: Vec<_> = changes.into_iter().filter(|(field, value)| record.value(field.name) != value).collect();
    if changes.is_empty() {
        return Ok(Written::default());
    }
    let version = record.version + 1;
    let mut audit = Vec::with_capacity(changes.len());
    let mut fields = Vec::with_capacity(changes.len());
    for (field, value) in changes {
        audit.push(AuditEntry {
            user_id: Some(editor.user_id.to_owned()),
            device_id: editor.device_id.map(str::to_owned),
            action: editor.action.to_owned(),
            entity: entity.name.to_owned(),
            entity_id: record.id.clone(),
            field: Some(field.name.to_owned()),
            old_value: Some(record.value(field.name).to_json().to_string()),
            new_value: Some(value.to_json().to_string()),
            version: Some(version),
            note: Some(editor.note.clone()),
            household_id: record.household_id(entity).map(str::to_owned),
            ..AuditEntry::default()
        });
        record.values.insert(field.name, value);
        record.field_versions.insert(field.name.to_owned(), version);
        fields.push(field);
    }
    record.version = version;
    records::update(conn, entity, record, &fields).await?;
    let log = LogEntry {
        entity: entity.name,
        entity_id: record.id.clone(),
        household_id: record.household_id(entity).map(str::to_owned),
        region_code: region_code.map(str::to_owned),
        target_user: None,
        op: LogOp::Upsert,
        version,
    };
    Ok(Written { log: vec![log], audit })
}
