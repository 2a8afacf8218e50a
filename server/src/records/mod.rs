//! Synced records read and written through the field catalogue
//! (`jingzhun_mobile_api::fields`), so one description drives SQL, validation and the
//! wire form of every entity.
//!
//! This is the record store: the floor below the features. Sync, notices, campaigns,
//! procedures, plans, rules and reports read and write households through it; it uses
//! none of them. Besides the records themselves it holds the change log phones pull
//! from (`changelog`), who may see which household (`scope`), writes made on the server
//! rather than by a phone (`server_edit`) and the names of pulled side records (`side`).

pub mod changelog;
pub mod masking;
pub mod scope;
pub mod server_edit;
pub mod side;

use crate::db::{placeholders, sql};
use chrono::Utc;
use jingzhun_db::{Row, Rows};
use jingzhun_mobile_api::fields::{EntitySpec, FieldKind, FieldSpec};
use jingzhun_mobile_api::validate::{FieldValue, mask_bank_account};
use sea_orm::{ConnectionTrait, DbErr, Value};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// One synced record as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    pub version: i64,
    /// The version at which each field last changed: what a field merge compares
    /// against the phone's `base_version`.
    pub field_versions: BTreeMap<String, i64>,
    pub values: BTreeMap<&'static str, FieldValue>,
}

impl Record {
    pub fn value(&self, field: &str) -> &FieldValue {
        self.values.get(field).unwrap_or(&FieldValue::Null)
    }

    pub fn text(&self, field: &str) -> Option<&str> {
        match self.value(field) {
            FieldValue::Text(s) | FieldValue::Uuid(s) | FieldValue::Date(s) => Some(s),
            _ => None,
        }
    }

    pub fn int(&self, field: &str) -> Option<i64> {
        match self.value(field) {
            FieldValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A money field in fen.
    pub fn money(&self, field: &str) -> Option<i64> {
        match self.value(field) {
            FieldValue::Money(fen) => Some(*fen),
            _ => None,
        }
    }

    pub fn flag(&self, field: &str) -> Option<bool> {
        match self.value(field) {
            FieldValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A list field (codes or ids); empty when unset.
    pub fn list(&self, field: &str) -> Vec<String> {
        match self.value(field) {
            FieldValue::List(items) => items.clone(),
            _ => Vec::new(),
        }
    }

    pub fn date(&self, field: &str) -> Option<chrono::NaiveDate> {
        self.text(field).and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    }

    /// The household a record hangs off (itself for a household).
    pub fn household_id(&self, entity: &EntitySpec) -> Option<&str> {
        if entity.is_household() { Some(&self.id) } else { self.text("household_id") }
    }

    /// The wire form: `id`, `version` and every field. This is what pulls, the admin API
    /// and the audit log show, so a masked field (a bank account) comes out masked here
    /// (`FieldValue::to_json`), whatever reads it.
    pub fn to_json(&self, entity: &EntitySpec) -> Json {
        let mut map = Map::new();
        map.insert("id".into(), Json::String(self.id.clone()));
        map.insert("version".into(), Json::from(self.version));
        for field in entity.fields {
            let value = self.value(field.name);
            // Belt and braces: a bank account some server path built as plain text is masked too.
            let json = match value {
                FieldValue::Text(s) if field.kind.is_masked() => Json::String(mask_bank_account(s)),
                value => value.to_json(),
            };
            map.insert(field.name.into(), json);
        }
        Json::Object(map)
    }
}

fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

/// The columns a record is read from, in the order `read_record` takes them.
fn select_list(entity: &EntitySpec) -> String {
    let mut cols = vec!["\"id\"".to_owned(), "\"version\"".to_owned(), "\"field_versions\"".to_owned()];
    cols.extend(entity.fields.iter().map(|f| quoted(f.name)));
    cols.join(", ")
}

/// The database value of a field value of this kind.
pub fn to_sql(kind: FieldKind, value: &FieldValue) -> Value {
    match (kind, value) {
        (FieldKind::Int { .. } | FieldKind::Money | FieldKind::Decimal { .. }, FieldValue::Null) => Value::BigInt(None),
        (FieldKind::Bool, FieldValue::Null) => Value::Bool(None),
        (_, FieldValue::Null) => Value::String(None),
        (_, FieldValue::Int(i) | FieldValue::Money(i) | FieldValue::Decimal(i)) => Value::BigInt(Some(*i)),
        (_, FieldValue::Bool(b)) => Value::Bool(Some(*b)),
        (_, FieldValue::Text(s) | FieldValue::Date(s) | FieldValue::Uuid(s) | FieldValue::BankAccount(s)) => {
            Value::String(Some(s.clone()))
        }
        (_, FieldValue::List(items)) => {
            Value::String(Some(serde_json::to_string(items).unwrap_or_else(|_| "[]".into())))
        }
    }
}

/// A field's value from its column, the `at`th of the row (`select_list`'s order).
fn read_field(row: &dyn Row, at: usize, field: &FieldSpec) -> Result<FieldValue, DbErr> {
    Ok(match field.kind {
        FieldKind::Int { .. } => row.i64_at(at)?.map_or(FieldValue::Null, FieldValue::Int),
        FieldKind::Money => row.i64_at(at)?.map_or(FieldValue::Null, FieldValue::Money),
        FieldKind::Decimal { .. } => row.i64_at(at)?.map_or(FieldValue::Null, FieldValue::Decimal),
        FieldKind::BankAccount => row.text_at(at)?.map_or(FieldValue::Null, FieldValue::BankAccount),
        FieldKind::Bool => row.bool_at(at)?.map_or(FieldValue::Null, FieldValue::Bool),
        FieldKind::Date => row.text_at(at)?.map_or(FieldValue::Null, FieldValue::Date),
        FieldKind::Uuid => row.text_at(at)?.map_or(FieldValue::Null, FieldValue::Uuid),
        FieldKind::UuidList { .. } | FieldKind::Codes { .. } => match row.text_at(at)? {
            Some(text) => FieldValue::List(serde_json::from_str(&text).unwrap_or_default()),
            None => FieldValue::List(Vec::new()),
        },
        FieldKind::Text { .. }
        | FieldKind::Code { .. }
        | FieldKind::IdNumber
        | FieldKind::Phone
        | FieldKind::RegionCode => row.text_at(at)?.map_or(FieldValue::Null, FieldValue::Text),
    })
}

/// A record from a row selected with `select_list`. Columns are taken by position: a
/// push group reads a thousand records or more, and finding each column by name costs
/// a search of the row's column names per field.
fn read_record(row: &dyn Row, entity: &EntitySpec) -> Result<Record, DbErr> {
    const FIRST_FIELD: usize = 3;
    let field_versions = row.text_at(2)?.unwrap_or_default();
    let mut values = BTreeMap::new();
    for (i, field) in entity.fields.iter().enumerate() {
        values.insert(field.name, read_field(row, FIRST_FIELD + i, field)?);
    }
    let missing = |column: &str| DbErr::Type(format!("{} without {column}", entity.table));
    Ok(Record {
        id: row.text_at(0)?.ok_or_else(|| missing("id"))?,
        version: row.i64_at(1)?.ok_or_else(|| missing("version"))?,
        field_versions: serde_json::from_str(&field_versions).unwrap_or_default(),
        values,
    })
}

/// Loads one record; `for_update` locks its row on PostgreSQL until the transaction ends.
pub async fn load(conn: &impl Rows, entity: &EntitySpec, id: &str, for_update: bool) -> Result<Option<Record>, DbErr> {
    let backend = conn.backend();
    let lock = if for_update && backend == sea_orm::DbBackend::Postgres { " FOR UPDATE" } else { "" };
    let text = format!("SELECT {} FROM {} WHERE \"id\" = ?{lock}", select_list(entity), quoted(entity.table));
    Ok(conn.read(sql(backend, &text, vec![id.into()]), |row| read_record(row, entity)).await?.pop())
}

/// Loads the records with these ids in id order, locking their rows on PostgreSQL until
/// the transaction ends. Taking locks in one order keeps two writers from deadlocking.
pub async fn load_many_locked(conn: &impl Rows, entity: &EntitySpec, ids: &[String]) -> Result<Vec<Record>, DbErr> {
    let backend = conn.backend();
    let lock = if backend == sea_orm::DbBackend::Postgres { " FOR UPDATE" } else { "" };
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let text = format!(
            "SELECT {} FROM {} WHERE \"id\" IN ({}) ORDER BY \"id\"{lock}",
            select_list(entity),
            quoted(entity.table),
            placeholders(chunk.len())
        );
        let values = chunk.iter().map(|k| Value::from(k.as_str())).collect();
        out.extend(conn.read(sql(backend, &text, values), |row| read_record(row, entity)).await?);
    }
    Ok(out)
}

/// Loads the records with these ids (missing ones are left out).
pub async fn load_many(conn: &impl ConnectionTrait, entity: &EntitySpec, ids: &[String]) -> Result<Vec<Record>, DbErr> {
    load_where(conn, entity, "id", ids).await
}

/// Loads every record of these households, in id order.
pub async fn load_by_households(
    conn: &impl ConnectionTrait,
    entity: &EntitySpec,
    household_ids: &[String],
) -> Result<Vec<Record>, DbErr> {
    let column = if entity.is_household() { "id" } else { "household_id" };
    load_where(conn, entity, column, household_ids).await
}

async fn load_where(
    conn: &impl Rows,
    entity: &EntitySpec,
    column: &str,
    keys: &[String],
) -> Result<Vec<Record>, DbErr> {
    let backend = conn.backend();
    let mut out = Vec::with_capacity(keys.len());
    // Bounded IN lists: SQLite allows at most 32766 parameters, PostgreSQL 65535.
    for chunk in keys.chunks(1000) {
        let text = format!(
            "SELECT {} FROM {} WHERE {} IN ({}) ORDER BY \"id\"",
            select_list(entity),
            quoted(entity.table),
            quoted(column),
            placeholders(chunk.len())
        );
        let values = chunk.iter().map(|k| Value::from(k.as_str())).collect();
        out.extend(conn.read(sql(backend, &text, values), |row| read_record(row, entity)).await?);
    }
    Ok(out)
}

pub async fn insert(conn: &impl ConnectionTrait, entity: &EntitySpec, record: &Record) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let now = Utc::now();
    let mut cols = vec![
        "\"id\"".to_owned(),
        "\"version\"".to_owned(),
        "\"field_versions\"".to_owned(),
        "\"created_at\"".to_owned(),
        "\"updated_at\"".to_owned(),
    ];
    let mut values: Vec<Value> = vec![
        record.id.as_str().into(),
        record.version.into(),
        serde_json::to_string(&record.field_versions).unwrap_or_else(|_| "{}".into()).into(),
        now.into(),
        now.into(),
    ];
    for field in entity.fields {
        // Absent fields take the column default (status, active).
        if let Some(value) = record.values.get(field.name) {
            cols.push(quoted(field.name));
            values.push(to_sql(field.kind, value));
        }
    }
    let text =
        format!("INSERT INTO {} ({}) VALUES ({})", quoted(entity.table), cols.join(", "), placeholders(cols.len()));
    conn.execute_raw(sql(backend, &text, values)).await.map(|_| ())
}

/// Writes changed fields and the new version of a record.
pub async fn update(
    conn: &impl Rows,
    entity: &EntitySpec,
    record: &Record,
    changed: &[&'static FieldSpec],
) -> Result<(), DbErr> {
    let backend = conn.backend();
    let mut sets =
        vec!["\"version\" = ?".to_owned(), "\"field_versions\" = ?".to_owned(), "\"updated_at\" = ?".to_owned()];
    let mut values: Vec<Value> = vec![
        record.version.into(),
        serde_json::to_string(&record.field_versions).unwrap_or_else(|_| "{}".into()).into(),
        Utc::now().into(),
    ];
    for field in changed {
        sets.push(format!("{} = ?", quoted(field.name)));
        values.push(to_sql(field.kind, record.value(field.name)));
    }
    values.push(record.id.as_str().into());
    let text = format!("UPDATE {} SET {} WHERE \"id\" = ?", quoted(entity.table), sets.join(", "));
    conn.run(sql(backend, &text, values)).await.map(|_| ())
}

/// Writes the changed fields and new versions of several records of one entity in one
/// statement per hundred records (a push's change set often edits many members at
/// once, and through sqlx each statement costs a hand-off to the driver's thread).
/// Each record's own fields are set; a field another record changed is left as it is.
/// Where statements are cheap, a statement a record: its text recurs, so it is parsed
/// once.
pub async fn update_many(
    conn: &impl Rows,
    entity: &EntitySpec,
    updates: &[(&Record, &[&'static FieldSpec])],
) -> Result<(), DbErr> {
    const RECORDS_PER_STATEMENT: usize = 100;
    let backend = conn.backend();
    let now = Utc::now();
    let per_statement = if conn.statements_are_cheap() { 1 } else { RECORDS_PER_STATEMENT };
    for chunk in updates.chunks(per_statement) {
        if let [(record, changed)] = chunk {
            update(conn, entity, record, changed).await?;
            continue;
        }
        let mut columns: Vec<&'static FieldSpec> = Vec::new();
        for (_, changed) in chunk {
            for field in changed.iter() {
                if !columns.iter().any(|f| f.name == field.name) {
                    columns.push(field);
                }
            }
        }
        let mut values: Vec<Value> = Vec::new();
        let case = |column: &str, rows: Vec<(&str, Value)>, keep: bool, values: &mut Vec<Value>| {
            let mut text = format!("{} = CASE \"id\"", quoted(column));
            for (id, value) in rows {
                text.push_str(" WHEN ? THEN ?");
                values.push(id.into());
                values.push(value);
            }
            if keep {
                text.push_str(&format!(" ELSE {}", quoted(column)));
            }
            text.push_str(" END");
            text
        };
        let mut sets = vec![
            case("version", chunk.iter().map(|(r, _)| (r.id.as_str(), r.version.into())).collect(), false, &mut values),
            case(
                "field_versions",
                chunk
                    .iter()
                    .map(|(r, _)| {
                        (r.id.as_str(), serde_json::to_string(&r.field_versions).unwrap_or_else(|_| "{}".into()).into())
                    })
                    .collect(),
                false,
                &mut values,
            ),
        ];
        sets.push("\"updated_at\" = ?".to_owned());
        values.push(now.into());
        for field in &columns {
            let rows = chunk
                .iter()
                .filter(|(_, changed)| changed.iter().any(|f| f.name == field.name))
                .map(|(r, _)| (r.id.as_str(), to_sql(field.kind, r.value(field.name))))
                .collect();
            sets.push(case(field.name, rows, true, &mut values));
        }
        values.extend(chunk.iter().map(|(r, _)| Value::from(r.id.as_str())));
        let text = format!(
            "UPDATE {} SET {} WHERE \"id\" IN ({})",
            quoted(entity.table),
            sets.join(", "),
            placeholders(chunk.len())
        );
        conn.run(sql(backend, &text, values)).await?;
    }
    Ok(())
}

pub async fn delete(conn: &impl ConnectionTrait, entity: &EntitySpec, id: &str) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let text = format!("DELETE FROM {} WHERE \"id\" = ?", quoted(entity.table));
    conn.execute_raw(sql(backend, &text, vec![id.into()])).await.map(|_| ())
}
