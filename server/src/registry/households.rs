//! The household register as the office reads it: one household whole (audited as a
//! `view`: the only read here that shows whole ID and phone numbers), the households in a
//! caller's scope (household records with phone numbers masked, and masked summaries with
//! filters, paging and a total for the console's table), a household's audit trail.
//! Only within the caller's read scope; households change through sync and procedures,
//! never here, and no whole number leaves this file unaudited.

use crate::audit::{self, KeptEntry};
use crate::auth::Caller;
use crate::db::page::Page;
use crate::db::{Db, Paging, count, like_pattern, sql};
use crate::error::Refusal;
use crate::records::{self, scope};
use jingzhun_mobile_api::{fields, validate};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Deserialize;
use serde_json::Value;

/// The household's village, for a caller who reads it: 404 for an unknown household,
/// 403 `out_of_scope` for one they do not read.
async fn readable(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> Result<String, Refusal> {
    let region = scope::household_region(conn, id).await?.ok_or_else(Refusal::not_found)?;
    if !scope::household_access(conn, caller, id, &region).await?.may_read() {
        return Err(Refusal::out_of_scope());
    }
    Ok(region)
}

/// A household with every record that hangs off it, as the server holds it now, and
/// the status to show (`pre_exit` while an exit case is open). It carries whole ID and
/// phone numbers, so it is a whole-record view (DESIGN: every one audited): one `view`
/// entry for the caller, committed before the record is handed out, so a view the log
/// could not take is not served.
pub async fn whole(db: &Db, caller: &Caller, id: &str) -> Result<Value, Refusal> {
    // Scope first, outside the transaction: a refused caller saw nothing and leaves no entry.
    readable(&db.conn, caller, id).await?;
    let txn = db.begin_write().await?;
    let record = read_whole(&*txn, id).await?;
    audit::record(&*txn, &[audit::Actor::of(caller).audit("view", "household", id)]).await?;
    txn.commit().await?;
    Ok(record)
}

/// Read in the audit entry's transaction, so the entry and what was shown agree.
async fn read_whole(conn: &impl ConnectionTrait, id: &str) -> Result<Value, DbErr> {
    let mut out = serde_json::Map::new();
    for entity in fields::ENTITIES {
        let records = records::load_by_households(conn, entity, &[id.to_owned()]).await?;
        let list: Vec<Value> = records.iter().map(|r| r.to_json(entity)).collect();
        if entity.is_household() {
            out.insert("household".into(), list.into_iter().next().unwrap_or(Value::Null));
        } else {
            out.insert(entity.name.into(), Value::Array(list));
        }
    }
    // 预退出: while an exit case is open the household shows as pre-exit; its stored
    // status changes only when the case completes.
    let exiting = out
        .get(fields::CASE.name)
        .and_then(Value::as_array)
        .is_some_and(|cases| cases.iter().any(|c| c["kind"] == "exit" && c["status"] == "open"));
    let display = if exiting { Value::from("pre_exit") } else { out["household"]["status"].clone() };
    out.insert("display_status".into(), display);
    Ok(Value::Object(out))
}

/// Which households to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HouseholdFilter {
    /// Households in this region (any level).
    pub region_code: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u64>,
}

#[derive(FromQueryResult)]
struct IdRow {
    id: String,
}

/// Households in the caller's read scope, in id order, a page of at most `limit` (100
/// unless asked, 1,000 at most) after the id `after`: household records, their phone
/// numbers masked like the summaries' (a list of up to 1,000 is no whole-record view;
/// the whole number is on `whole`, audited).
pub async fn list(conn: &impl ConnectionTrait, caller: &Caller, filter: HouseholdFilter) -> Result<Vec<Value>, DbErr> {
    let (cond, mut values) = scope::households_condition(caller, "id", "region_code");
    let mut text = format!("SELECT id FROM household WHERE {cond} AND id > ?");
    values.push(filter.after.unwrap_or_default().into());
    if let Some(region) = filter.region_code {
        text.push_str(" AND region_code LIKE ?");
        // By level: a city's code is `3207` followed by zeros, not `320700`.
        values.push(format!("{}%", crate::auth::roles::region_prefix(&region)).into());
    }
    text.push_str(" ORDER BY id LIMIT ?");
    values.push((filter.limit.unwrap_or(100).min(1000) as i64).into());
    let ids: Vec<String> = IdRow::find_by_statement(sql(conn.get_database_backend(), &text, values))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let households = records::load_many(conn, &fields::HOUSEHOLD, &ids).await?;
    Ok(households.iter().map(|h| masked(h.to_json(&fields::HOUSEHOLD), &fields::HOUSEHOLD)).collect())
}

/// A record for a list: its personal values masked as every office list masks them
/// (`records::masking`, by the field's kind).
fn masked(mut record: Value, entity: &fields::EntitySpec) -> Value {
    for field in entity.fields {
        let Some(mask) = records::masking::for_kind(field.kind) else { continue };
        if let Some(Value::String(text)) =
            record.get_mut(field.name).filter(|v| v.as_str().is_some_and(|t| !t.is_empty()))
        {
            *text = mask(text);
        }
    }
    record
}

#[derive(FromQueryResult)]
struct LinkRow {
    attachment_id: String,
}

/// The audit trail of a household and every record under it, oldest first: deleted
/// records, conflicts and attachment uploads included (entries carry their household).
/// Entries written without their household are found by the household's current
/// records and linked attachments.
pub async fn audit_trail(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> Result<Vec<KeptEntry>, Refusal> {
    readable(conn, caller, id).await?;
    let mut record_ids = Vec::new();
    for entity in fields::ENTITIES {
        let records = records::load_by_households(conn, entity, &[id.to_owned()]).await?;
        record_ids.extend(records.into_iter().map(|r| r.id));
    }
    let links = LinkRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT attachment_id FROM attachment_link WHERE household_id = ?",
        vec![id.into()],
    ))
    .all(conn)
    .await?;
    record_ids.extend(links.into_iter().map(|l| l.attachment_id));
    Ok(audit::household_trail(conn, id, &record_ids).await?)
}

/// Which households the console's table lists, and which page. Every filter is optional.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct SummaryFilter {
    /// Households in this region (any level).
    pub region_code: Option<String>,
    /// A `household_status` code.
    pub status: Option<String>,
    /// A `kind` code (贫困户属性).
    pub kind: Option<String>,
    /// A `standard` code (识别标准).
    pub standard: Option<String>,
    /// Part of a member's name or of the household number; an ID number whole or as the
    /// lists mask it (320703********1234), never digit by digit.
    pub q: Option<String>,
    /// From 1.
    pub page: Option<u64>,
    /// 20 unless asked, at most 200.
    pub per_page: Option<u64>,
}

/// One household in a list: ID and phone numbers masked, whoever asks.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HouseholdSummary {
    pub id: String,
    /// The national system's 户编号, when the household came from its register.
    pub household_number: Option<String>,
    pub head_name: Option<String>,
    pub head_id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub region_code: String,
    pub region_name: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub standard: Option<String>,
    /// Members still in the household.
    pub residents: i64,
    /// The officer assigned now (帮扶责任人), by name.
    pub officer_name: Option<String>,
}

#[derive(FromQueryResult)]
struct SummaryRow {
    id: String,
    household_number: Option<String>,
    region_code: String,
    region_name: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    standard: Option<String>,
    phone: Option<String>,
    head_name: Option<String>,
    head_id_number: Option<String>,
    head_phone: Option<String>,
    residents: i64,
    officer_name: Option<String>,
    /// The matches in all, when the page query counted them.
    total: Option<i64>,
}

/// The household head's `column` as a subquery over `household h`: the member whose
/// relation is `head` (the lowest id, should the data ever hold two).
pub(crate) fn head_column(column: &str) -> String {
    format!(
        "(SELECT m.{column} FROM member m WHERE m.household_id = h.id AND m.relation = 'head' ORDER BY m.id LIMIT 1)"
    )
}

/// The LIKE pattern of an ID number as the lists mask it (`320703********1234`, a
/// 残疾人证 number with `**` after it): each hidden digit one `_`. `None` for any other
/// shape, so a search learns nothing a list did not tell: a query showing a hidden digit
/// (`3207031*******1234`) would let anyone who reads the list find a whole number digit
/// by digit.
fn masked_id_pattern(q: &str) -> Option<String> {
    let q = q.to_uppercase();
    let all = |part: &str, check: fn(char) -> bool| part.chars().all(check);
    let id_shape = |id: &str| {
        id.len() == 18
            && all(&id[..6], |c| c.is_ascii_digit())
            && &id[6..14] == "********"
            && all(&id[14..], |c| c.is_ascii_digit() || c == 'X')
    };
    let is_masked = q.is_ascii() && (id_shape(&q) || (q.len() == 20 && q.ends_with("**") && id_shape(&q[..18])));
    is_masked.then(|| q.replace('*', "_"))
}

/// Households in the caller's read scope for the console's table, by region then
/// household number, a page at a time with the total. The head is the member whose
/// relation is `head`.
pub async fn summaries(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: SummaryFilter,
) -> Result<Page<HouseholdSummary>, DbErr> {
    let (cond, mut values) = scope::households_condition(caller, "h.id", "h.region_code");
    let mut wheres = vec![cond];
    if let Some(region) = filter.region_code.filter(|r| !r.is_empty()) {
        wheres.push("h.region_code LIKE ?".into());
        values.push(format!("{}%", crate::auth::roles::region_prefix(&region)).into());
    }
    for (column, wanted) in [("h.status", filter.status), ("h.kind", filter.kind), ("h.standard", filter.standard)] {
        if let Some(wanted) = wanted.filter(|w| !w.is_empty()) {
            wheres.push(format!("{column} = ?"));
            values.push(wanted.into());
        }
    }
    let q = filter.q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    let searching = q.is_some();
    if let Some(q) = q {
        let pattern = like_pattern(&q);
        if q.chars().all(|c| c.is_ascii_digit() || c.eq_ignore_ascii_case(&'x')) {
            // Digits: a household number (any part of it) or a whole ID number, by the
            // index on member.id_number. Names are not searched: none is only digits.
            wheres.push(
                "(h.household_number LIKE ? ESCAPE '\\' \
                  OR h.id IN (SELECT m.household_id FROM member m WHERE m.id_number = ?))"
                    .into(),
            );
            values.extend([pattern.into(), q.to_uppercase().into()]);
        } else if let Some(masked) = masked_id_pattern(&q) {
            // An ID number as the lists show it (320703********1234), copied from a list
            // or a printed notice: the people whose number has those digits there.
            wheres.push("h.id IN (SELECT m.household_id FROM member m WHERE m.id_number LIKE ?)".into());
            values.push(masked.into());
        } else {
            // A name, matched anywhere in it: one read of the member table. Kept apart
            // from the number search, whose OR made SQLite read it several times
            // (a surname took 500 ms on 20,000 households, `jingzhun bench console`).
            wheres.push("h.id IN (SELECT m.household_id FROM member m WHERE m.name LIKE ? ESCAPE '\\')".into());
            values.push(pattern.into());
        }
    }
    let where_text = wheres.join(" AND ");
    let backend = conn.get_database_backend();
    let paging = Paging::new(filter.page, filter.per_page, 20);
    // A search reads the member table, so the total is counted in the page query (a window
    // over the matches) rather than by a second read; a plain list counts by index, which is
    // cheaper than sorting every household in scope to count them in the page.
    let page_total = if searching { "COUNT(*) OVER ()" } else { "CAST(NULL AS BIGINT)" };
    let text = format!(
        "SELECT h.id, h.household_number, h.region_code, r.name AS region_name, h.status, h.kind, h.standard, h.phone, \
         {} AS head_name, {} AS head_id_number, {} AS head_phone, \
         (SELECT COUNT(*) FROM member m WHERE m.household_id = h.id AND m.active = ?) AS residents, \
         (SELECT u.name FROM assignment a JOIN app_user u ON u.id = a.officer_id \
          WHERE a.household_id = h.id AND a.end_date IS NULL ORDER BY a.officer_id LIMIT 1) AS officer_name, \
         page.total \
         FROM (SELECT h.id, {page_total} AS total FROM household h WHERE {where_text} \
               ORDER BY h.region_code, h.household_number, h.id LIMIT ? OFFSET ?) page \
         JOIN household h ON h.id = page.id LEFT JOIN region r ON r.code = h.region_code \
         ORDER BY h.region_code, h.household_number, h.id",
        head_column("name"),
        head_column("id_number"),
        head_column("phone"),
    );
    // The page's ids first: a backend computes the selected columns of the rows an
    // OFFSET skips too, and the head's and officer's lookups are per row.
    let mut page_values = vec![sea_orm::Value::from(true)];
    page_values.extend(values.iter().cloned());
    page_values.extend(paging.limit_offset());
    let rows = SummaryRow::find_by_statement(sql(backend, &text, page_values)).all(conn).await?;
    // A page past the end has no row to carry the count.
    let total = match rows.first().and_then(|r| r.total) {
        Some(total) => total,
        None => count(conn, &format!("SELECT COUNT(*) FROM household h WHERE {where_text}"), values).await?,
    };
    let items = rows
        .into_iter()
        .map(|r| HouseholdSummary {
            id: r.id,
            household_number: r.household_number,
            head_name: r.head_name,
            head_id_number_masked: r.head_id_number.filter(|n| !n.is_empty()).map(|n| validate::mask_id_number(&n)),
            phone_masked: r.phone.or(r.head_phone).filter(|p| !p.is_empty()).map(|p| validate::mask_phone(&p)),
            region_code: r.region_code,
            region_name: r.region_name,
            status: r.status,
            kind: r.kind,
            standard: r.standard,
            residents: r.residents,
            officer_name: r.officer_name,
        })
        .collect();
    Ok(Page { total, page: paging.page, per_page: paging.per_page, items })
}

/// The OpenAPI schema of [`whole`]'s answer, built from the field catalogue so the
/// console's generated types follow the catalogue: one `…Fields` schema per entity (the
/// record as `Record::to_json` writes it) and the household around them. Only a
/// description: the answer stays the JSON `whole` builds.
pub struct WholeHousehold;

/// `household` → `HouseholdFields`, `help_measure` → `HelpMeasureFields`.
fn record_schema_name(entity: &fields::EntitySpec) -> String {
    let pascal: String = entity
        .name
        .split('_')
        .map(|word| {
            word.chars().next().map_or_else(String::new, |c| c.to_uppercase().chain(word.chars().skip(1)).collect())
        })
        .collect();
    format!("{pascal}Fields")
}

fn record_schema(entity: &fields::EntitySpec) -> utoipa::openapi::Schema {
    use fields::FieldKind as K;
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    use utoipa::openapi::{KnownFormat, SchemaFormat};
    // Any field may be unset (null) in a stored record, whatever create requires.
    let nullable = |t: Type| SchemaType::from_iter([t, Type::Null]);
    let mut object = ObjectBuilder::new()
        .property(
            "id",
            ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .required("id")
        .property("version", ObjectBuilder::new().schema_type(Type::Integer))
        .required("version");
    for field in entity.fields {
        let note = match field.kind {
            K::Money => Some("yuan".to_owned()),
            K::Code { table } => Some(format!("a code of `{table}`")),
            K::Codes { table, .. } => Some(format!("codes of `{table}`")),
            K::Date => Some("YYYY-MM-DD".to_owned()),
            K::BankAccount => Some("masked: the last four digits".to_owned()),
            _ => None,
        };
        let description = Some(match note {
            Some(note) => format!("{}（{note}）", field.label),
            None => field.label.to_owned(),
        });
        let scalar = |t: Type| ObjectBuilder::new().schema_type(nullable(t)).description(description.clone()).into();
        let schema: utoipa::openapi::Schema = match field.kind {
            K::Int { .. } => scalar(Type::Integer),
            K::Money | K::Decimal { .. } => scalar(Type::Number),
            K::Bool => scalar(Type::Boolean),
            K::UuidList { .. } | K::Codes { .. } => ArrayBuilder::new()
                .schema_type(nullable(Type::Array))
                .items(ObjectBuilder::new().schema_type(Type::String))
                .description(description.clone())
                .into(),
            K::Code { .. }
            | K::Date
            | K::BankAccount
            | K::Text { .. }
            | K::Uuid
            | K::IdNumber
            | K::Phone
            | K::RegionCode => scalar(Type::String),
        };
        object = object.property(field.name, schema).required(field.name);
    }
    object.into()
}

impl utoipa::PartialSchema for WholeHousehold {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Ref, Type};
        let mut object = ObjectBuilder::new().description(Some(
            "A household with every record that hangs off it: `household` and one list per entity of the field catalogue",
        ));
        for entity in fields::ENTITIES {
            let reference = Ref::from_schema_name(record_schema_name(entity));
            object = if entity.is_household() {
                object.property("household", reference)
            } else {
                object.property(entity.name, ArrayBuilder::new().items(reference))
            }
            .required(entity.name);
        }
        object
            .property(
                "display_status",
                ObjectBuilder::new().schema_type(Type::String).description(Some(
                    "the status to show: `pre_exit` while an exit case is open, else the household's",
                )),
            )
            .required("display_status")
            .into()
    }
}

impl utoipa::ToSchema for WholeHousehold {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::Schema>)>) {
        for entity in fields::ENTITIES {
            schemas.push((record_schema_name(entity), record_schema(entity).into()));
        }
    }
}

/// The OpenAPI schema of one household record (as in [`list`], numbers masked there).
pub struct HouseholdFields;

impl utoipa::PartialSchema for HouseholdFields {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        record_schema(&fields::HOUSEHOLD).into()
    }
}

impl utoipa::ToSchema for HouseholdFields {}

#[cfg(test)]
mod tests {
    use super::masked_id_pattern;

    #[test]
    fn only_the_lists_own_mask_is_searched() {
        assert_eq!(masked_id_pattern("320703********123x").as_deref(), Some("320703________123X"));
        assert_eq!(masked_id_pattern("320703********1234**").as_deref(), Some("320703________1234__"));
        // A hidden digit shown, one fewer shown, or a mask of another length: a probe, not a copy.
        for probe in [
            "3207031*******1234",
            "32070********1234",
            "320703*********1234",
            "320703********12345",
            "320703**＊*****1234",
        ] {
            assert_eq!(masked_id_pattern(probe), None, "{probe}");
        }
    }
}
