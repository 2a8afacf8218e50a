//! Importing a county's existing register (issue 11 item 1; review gap 1): households
//! already registered (建档立卡), exited (已脱贫, with the year) or removed, their
//! members, 建档立卡 date, standard, kind and officers, from a file in the layout of
//! [`super::layout`].
//!
//! Every row is checked first, with the field catalogue's validators and against what
//! is stored; a dry run stops there and reports each failing cell. A real import writes
//! nothing unless every row passes, and then writes everything in one transaction:
//! records through `crate::records` (versions, change log so phones in scope pull the
//! households, audit entries signed by the actor), officers through
//! `crate::registry::assignments`. Re-importing the same file matches households by
//! household number (else the head's ID number) and members by ID number, and changes
//! nothing.
//!
//! What this must never do: write outside the importer's county (or administrator)
//! region, set a status other than registered / exited / removed (this and the
//! procedures are the only writers of `status`), remove a person or clear a stored
//! value (a blank cell leaves it as it is; decreases go through procedures).

use super::layout::{self, COLUMNS, Column, Target};
use crate::audit::{self, Actor, AuditEntry};
use crate::auth::roles::region_prefix;
use crate::auth::{Caller, Role};
use crate::config::UploadsConfig;
use crate::db::{Db, placeholders, sql};
use crate::error::{Kind, Refusal};
use crate::gate::Gate;
use crate::records::changelog::{self, LogEntry, LogOp};
use crate::records::server_edit::{self, Editor};
use crate::records::{self, Record};
use crate::registry;
use crate::tabular::{self, Caps, Format, OffRuntimeError, TableError};
use chrono::NaiveDate;
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use jingzhun_mobile_api::fields::{FieldSpec, HOUSEHOLD, MEMBER};
use jingzhun_mobile_api::validate::{self, FieldValue};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::ControlFlow;
use uuid::Uuid;

/// Most failing cells an answer lists; the count says how many there were.
const MAX_LISTED_ERRORS: usize = 1000;

/// The statuses a register holds; anything else is a procedure's to set.
const IMPORTED_STATUSES: [&str; 3] = ["registered", "exited", "removed"];

/// One failing cell, named as the spreadsheet names it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CellError {
    /// The 1-based line of the file (the header is line 1).
    pub line: usize,
    /// The column's header as the file writes it.
    pub column: String,
    /// The cell, `D5`; empty for a missing column.
    pub cell: String,
    pub code: String,
    /// 第5行「A4 证件号码」（D5）：身份证号码无效…
    pub message_zh: String,
    pub message_en: String,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// What an import found and did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Whether anything was written: never in a dry run, never when a cell fails.
    pub written: bool,
    /// Data rows read (one per member).
    pub rows: usize,
    pub households: Counts,
    pub members: Counts,
    pub assignments_created: usize,
    /// Headers the import does not read (income and the like are left to the phones).
    pub ignored_columns: Vec<String>,
    pub errors_total: usize,
    /// The first failing cells, in file order.
    pub errors: Vec<CellError>,
}

impl ImportReport {
    /// The report as the command line prints it, in Chinese.
    pub fn summary_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.errors.iter().map(|e| e.message_zh.clone()).collect();
        if self.errors_total > self.errors.len() {
            lines.push(format!("……另有 {} 处错误未列出", self.errors_total - self.errors.len()));
        }
        let (h, m) = (&self.households, &self.members);
        let verb = if self.written {
            "已写入"
        } else if self.dry_run {
            "试导入（未写入）"
        } else {
            "未写入"
        };
        lines.push(format!(
            "{verb}：{} 行；户 新增 {} 更新 {} 不变 {}；成员 新增 {} 更新 {} 不变 {}；帮扶关系 新增 {}；错误 {} 处",
            self.rows,
            h.created,
            h.updated,
            h.unchanged,
            m.created,
            m.updated,
            m.unchanged,
            self.assignments_created,
            self.errors_total
        ));
        if self.errors_total == 0 && self.changes_nothing() {
            lines.push("与已有数据一致，无需更改".to_owned());
        }
        if !self.ignored_columns.is_empty() {
            lines.push(format!("未读取的列：{}", self.ignored_columns.join("、")));
        }
        lines
    }

    /// Whether a second import would change nothing.
    pub fn changes_nothing(&self) -> bool {
        self.households.created + self.households.updated + self.members.created + self.members.updated == 0
            && self.assignments_created == 0
    }
}

pub struct ImportRequest {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub dry_run: bool,
}

/// One data row: each read column's cell, by its index in [`COLUMNS`].
struct Row {
    line: usize,
    cells: HashMap<usize, (usize, String)>,
}

/// The file read and split into columns, before anything is looked up.
struct Table {
    /// (index in COLUMNS, index in the file, the header as written).
    columns: Vec<(usize, usize, String)>,
    rows: Vec<Row>,
    ignored: Vec<String>,
    missing: Vec<&'static Column>,
}

fn read_table(format: Format, bytes: &[u8], caps: &Caps) -> Result<Table, TableError> {
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut by_file_index: HashMap<usize, usize> = HashMap::new();
    tabular::read_rows(format, bytes, caps, |row| {
        if header.is_none() {
            header = Some(row.cells.iter().map(|c| c.trim().to_owned()).collect());
            for (i, text) in row.cells.iter().enumerate() {
                if let Some(column) = layout::column_of(text) {
                    let at = COLUMNS.iter().position(|c| std::ptr::eq(c, column)).unwrap_or_default();
                    // The first of two columns naming one field counts; the second is ignored.
                    if !by_file_index.values().any(|a| *a == at) {
                        by_file_index.insert(i, at);
                    }
                }
            }
            return ControlFlow::Continue(());
        }
        let cells = row
            .cells
            .into_iter()
            .enumerate()
            .filter_map(|(i, text)| {
                let at = *by_file_index.get(&i)?;
                let text = text.trim().to_owned();
                (!text.is_empty()).then_some((at, (i, text)))
            })
            .collect::<HashMap<_, _>>();
        if !cells.is_empty() {
            rows.push(Row { line: row.line, cells });
        }
        ControlFlow::Continue(())
    })?;
    let header = header.unwrap_or_default();
    let mut columns: Vec<_> = by_file_index.iter().map(|(file, at)| (*at, *file, header[*file].clone())).collect();
    columns.sort_by_key(|c| c.1);
    let ignored = header
        .iter()
        .enumerate()
        .filter(|(i, h)| !h.is_empty() && !by_file_index.contains_key(i))
        .map(|(_, h)| h.clone())
        .collect();
    let missing = COLUMNS
        .iter()
        .enumerate()
        .filter(|(at, c)| c.required && !by_file_index.values().any(|a| a == at))
        .map(|(_, c)| c)
        .collect();
    Ok(Table { columns, rows, ignored, missing })
}

/// Collects failing cells with their Chinese names.
struct Errors {
    list: Vec<CellError>,
    headers: HashMap<usize, (usize, String)>,
}

impl Errors {
    fn cell(&mut self, line: usize, column: usize, code: ErrorCode) {
        let (file_index, header) =
            self.headers.get(&column).cloned().unwrap_or_else(|| (usize::MAX, COLUMNS[column].header.to_owned()));
        let cell = if file_index == usize::MAX { String::new() } else { layout::cell_name(file_index, line) };
        let place = if cell.is_empty() { String::new() } else { format!("（{cell}）") };
        self.list.push(CellError {
            line,
            message_zh: format!("第{line}行「{header}」{place}：{}", code.message_zh()),
            message_en: format!("line {line}, column \"{header}\" {cell}: {}", code.message_en()),
            column: header,
            cell,
            code: code.code().to_owned(),
        });
    }
}

fn column_index(target: Target) -> usize {
    COLUMNS.iter().position(|c| c.target == target).unwrap_or_default()
}

/// A household as the file gives it, checked.
struct FileHousehold {
    number: String,
    first_line: usize,
    region: String,
    status: String,
    registered_on: Option<NaiveDate>,
    exit_year: Option<i64>,
    values: BTreeMap<&'static str, FieldValue>,
    /// (line, usernames).
    officers: Vec<(usize, String)>,
    members: Vec<FileMember>,
}

struct FileMember {
    line: usize,
    id_number: String,
    values: BTreeMap<&'static str, FieldValue>,
}

/// Checks each row's cells with the catalogue's validators and gathers households.
fn check_rows(rows: &[Row], errors: &mut Errors) -> Vec<FileHousehold> {
    let mut households: Vec<FileHousehold> = Vec::new();
    let mut by_number: HashMap<String, usize> = HashMap::new();
    let mut seen_ids: HashSet<String> = HashSet::new();
    let number_col = column_index(Target::HouseholdNumber);
    for row in rows {
        let text = |at: usize| row.cells.get(&at).map(|(_, t)| t.as_str());
        let Some(number) = text(number_col) else {
            errors.cell(row.line, number_col, ErrorCode::Required);
            continue;
        };
        let index = *by_number.entry(number.to_owned()).or_insert_with(|| {
            households.push(FileHousehold {
                number: number.to_owned(),
                first_line: row.line,
                region: String::new(),
                status: String::new(),
                registered_on: None,
                exit_year: None,
                values: BTreeMap::new(),
                officers: Vec::new(),
                members: Vec::new(),
            });
            households.len() - 1
        });
        let household = &mut households[index];
        let first = household.first_line == row.line;
        let mut member = BTreeMap::new();
        let mut causes = Vec::new();
        for (at, column) in COLUMNS.iter().enumerate() {
            let cell = text(at);
            match column.target {
                Target::Household(_) | Target::Member(_) => {
                    let field = layout::field_of(column.target).expect("a catalogue field");
                    let member_side = matches!(column.target, Target::Member(_));
                    // A household's columns count on its first row; later rows may repeat them.
                    if !member_side && !first {
                        let given = cell.map(|t| validate::field(field, &layout::wire_value(field, t)));
                        if let Some(Ok(value)) = given
                            && household.values.get(field.name).is_some_and(|v| *v != value)
                        {
                            errors.cell(row.line, at, ErrorCode::ImportHouseholdInconsistent);
                        }
                        continue;
                    }
                    let Some(cell) = cell else {
                        if column.required {
                            errors.cell(row.line, at, ErrorCode::Required);
                        }
                        continue;
                    };
                    match validate::field(field, &layout::wire_value(field, cell)) {
                        Ok(FieldValue::Null) => {}
                        Ok(value) if member_side => {
                            member.insert(field.name, value);
                        }
                        Ok(value) => {
                            household.values.insert(field.name, value);
                        }
                        Err(code) => errors.cell(row.line, at, code),
                    }
                }
                Target::PovertyCause if first => {
                    if let Some(cell) = cell {
                        let code = layout::code_from("poverty_cause", cell);
                        match jingzhun_mobile_api::codes::POVERTY_CAUSE.contains(&code) {
                            true if !causes.contains(&code) => causes.push(code),
                            true => {}
                            false => errors.cell(row.line, at, ErrorCode::UnknownCode),
                        }
                    }
                }
                Target::Status if first => match cell.map(|c| layout::code_from("household_status", c)) {
                    None => errors.cell(row.line, at, ErrorCode::Required),
                    Some(code) if IMPORTED_STATUSES.contains(&code.as_str()) => household.status = code,
                    Some(_) => errors.cell(row.line, at, ErrorCode::ImportStatusNotAllowed),
                },
                Target::RegisteredOn if first => match cell.map(layout::date) {
                    None => errors.cell(row.line, at, ErrorCode::Required),
                    Some(None) => errors.cell(row.line, at, ErrorCode::InvalidDate),
                    Some(date) => household.registered_on = date,
                },
                Target::ExitYear if first => match cell.map(|c| c.strip_suffix(".0").unwrap_or(c).parse::<i64>()) {
                    None => {}
                    Some(Ok(year)) if (2014..=2100).contains(&year) => household.exit_year = Some(year),
                    Some(_) => errors.cell(row.line, at, ErrorCode::OutOfRange),
                },
                Target::Officers => {
                    if let Some(cell) = cell {
                        household.officers.push((row.line, cell.to_owned()));
                    }
                }
                _ => {}
            }
        }
        if first {
            if !causes.is_empty() {
                household.values.insert("poverty_causes", FieldValue::List(causes));
            }
            if let Some(FieldValue::Text(region)) = household.values.get("region_code") {
                household.region = region.clone();
            }
            if household.status == "exited" && household.exit_year.is_none() {
                errors.cell(row.line, column_index(Target::ExitYear), ErrorCode::Required);
            }
        }
        if let Some(FieldValue::Text(id)) = member.get("id_number").cloned() {
            if !seen_ids.insert(id.clone()) {
                errors.cell(row.line, column_index(Target::Member("id_number")), ErrorCode::DuplicatePerson);
                continue;
            }
            household.members.push(FileMember { line: row.line, id_number: id, values: member });
        }
    }
    for household in &households {
        let heads: Vec<_> = household.members.iter().filter(|m| is_head(m)).collect();
        let relation = column_index(Target::Member("relation"));
        match heads.len() {
            0 => errors.cell(household.first_line, relation, ErrorCode::NoHead),
            1 => {}
            _ => errors.cell(heads[1].line, relation, ErrorCode::MultipleHeads),
        }
    }
    households
}

fn is_head(member: &FileMember) -> bool {
    member.values.get("relation") == Some(&FieldValue::Text("head".into()))
}

/// Who may import, and where: a county or administrator grant, whose region prefix
/// every household must fall in.
pub(super) fn import_prefixes(caller: Option<&Caller>) -> Result<Option<Vec<String>>, Refusal> {
    let Some(caller) = caller else {
        return Ok(None);
    };
    let prefixes: Vec<String> = caller
        .grants
        .iter()
        .filter(|g| matches!(g.role, Role::County | Role::Admin))
        .map(|g| g.prefix.clone())
        .collect();
    if prefixes.is_empty() {
        return Err(Refusal::forbidden());
    }
    Ok(Some(prefixes))
}

#[derive(FromQueryResult)]
struct RegisterRow {
    id: String,
    household_number: Option<String>,
    registered_on: Option<String>,
    exit_year: Option<i64>,
}

#[derive(FromQueryResult)]
struct PersonRow {
    household_id: String,
    id_number: String,
}

#[derive(FromQueryResult)]
struct CodeRow {
    code: String,
}

#[derive(FromQueryResult)]
struct OfficerRow {
    id: String,
    username: String,
    region_code: String,
}

async fn rows_in<T: FromQueryResult>(
    conn: &impl ConnectionTrait,
    head: &str,
    tail: &str,
    keys: &[String],
) -> Result<Vec<T>, DbErr> {
    let backend = conn.get_database_backend();
    let mut out = Vec::new();
    for chunk in keys.chunks(1000) {
        let text = format!("{head} ({}){tail}", placeholders(chunk.len()));
        let values = chunk.iter().map(|k| Value::from(k.as_str())).collect();
        out.extend(T::find_by_statement(sql(backend, &text, values)).all(conn).await?);
    }
    Ok(out)
}

/// What one household of the file does to the store.
struct Plan {
    file: FileHousehold,
    /// The stored household it matches, with its register columns.
    existing: Option<(Record, RegisterRow)>,
    /// Stored members of that household, by ID number.
    members: HashMap<String, Record>,
    /// Officers (user id) to assign who are not assigned yet.
    new_officers: Vec<String>,
}

/// Looks everything up and checks the rows against the store; no write.
async fn plan(
    conn: &impl ConnectionTrait,
    prefixes: Option<&[String]>,
    households: Vec<FileHousehold>,
    errors: &mut Errors,
) -> Result<Vec<Plan>, DbErr> {
    let region_col = column_index(Target::Household("region_code"));
    let number_col = column_index(Target::HouseholdNumber);
    let id_col = column_index(Target::Member("id_number"));
    let officer_col = column_index(Target::Officers);
    let in_scope = |region: &str| prefixes.is_none_or(|p| p.iter().any(|p| region.starts_with(p.as_str())));

    let regions: Vec<String> =
        households.iter().map(|h| h.region.clone()).collect::<HashSet<_>>().into_iter().collect();
    let villages: HashSet<String> =
        rows_in::<CodeRow>(conn, "SELECT code FROM region WHERE level = 'village' AND code IN", "", &regions)
            .await?
            .into_iter()
            .map(|r| r.code)
            .collect();
    let numbers: Vec<String> = households.iter().map(|h| h.number.clone()).collect();
    let by_number: HashMap<String, String> = rows_in::<RegisterRow>(
        conn,
        "SELECT id, household_number, registered_on, exit_year FROM household WHERE household_number IN",
        "",
        &numbers,
    )
    .await?
    .into_iter()
    .filter_map(|r| Some((r.household_number?, r.id)))
    .collect();
    let ids: Vec<String> = households.iter().flat_map(|h| h.members.iter().map(|m| m.id_number.clone())).collect();
    let people: HashMap<String, PersonRow> = rows_in::<PersonRow>(
        conn,
        "SELECT household_id, id_number FROM member WHERE active AND id_number IN",
        "",
        &ids,
    )
    .await?
    .into_iter()
    .map(|p| (p.id_number.clone(), p))
    .collect();
    let usernames: Vec<String> = households
        .iter()
        .flat_map(|h| h.officers.iter().flat_map(|(_, names)| split_names(names)))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut officers: HashMap<String, (String, Vec<String>)> = HashMap::new();
    for row in rows_in::<OfficerRow>(
        conn,
        "SELECT u.id AS id, u.username AS username, g.region_code AS region_code FROM app_user u \
         JOIN role_grant g ON g.user_id = u.id AND g.role = 'officer' WHERE u.active AND u.username IN",
        "",
        &usernames,
    )
    .await?
    {
        officers.entry(row.username).or_insert_with(|| (row.id, Vec::new())).1.push(row.region_code);
    }

    // Which stored household each file household is.
    let mut matched: Vec<Option<String>> = Vec::with_capacity(households.len());
    for household in &households {
        let head = household.members.iter().find(|m| is_head(m)).and_then(|m| people.get(&m.id_number));
        let by_no = by_number.get(&household.number);
        match (by_no, head) {
            (Some(a), Some(b)) if *a != b.household_id => {
                errors.cell(household.first_line, number_col, ErrorCode::ImportHouseholdInconsistent);
                matched.push(None);
            }
            (Some(id), _) => matched.push(Some(id.clone())),
            (None, Some(head)) => matched.push(Some(head.household_id.clone())),
            (None, None) => matched.push(None),
        }
    }
    let matched_ids: Vec<String> = matched.iter().flatten().cloned().collect();
    let mut stored: HashMap<String, Record> =
        records::load_many(conn, &HOUSEHOLD, &matched_ids).await?.into_iter().map(|r| (r.id.clone(), r)).collect();
    let mut register: HashMap<String, RegisterRow> = rows_in::<RegisterRow>(
        conn,
        "SELECT id, household_number, registered_on, exit_year FROM household WHERE id IN",
        "",
        &matched_ids,
    )
    .await?
    .into_iter()
    .map(|r| (r.id.clone(), r))
    .collect();
    let mut stored_members: HashMap<String, HashMap<String, Record>> = HashMap::new();
    for member in records::load_by_households(conn, &MEMBER, &matched_ids).await? {
        if member.flag("active") != Some(false)
            && let (Some(h), Some(id)) = (member.text("household_id"), member.text("id_number"))
        {
            stored_members.entry(h.to_owned()).or_default().insert(id.to_owned(), member.clone());
        }
    }
    let assigned: HashSet<(String, String)> = rows_in::<AssignedRow>(
        conn,
        "SELECT officer_id, household_id FROM assignment WHERE end_date IS NULL AND household_id IN",
        "",
        &matched_ids,
    )
    .await?
    .into_iter()
    .map(|a| (a.officer_id, a.household_id))
    .collect();

    let mut plans = Vec::with_capacity(households.len());
    for (household, target) in households.into_iter().zip(matched) {
        let line = household.first_line;
        if !household.region.is_empty() {
            if !in_scope(&household.region) {
                errors.cell(line, region_col, ErrorCode::OutOfScope);
            } else if !villages.contains(&household.region) {
                errors.cell(line, region_col, ErrorCode::InvalidRegion);
            }
        }
        let existing = target.as_ref().and_then(|id| Some((stored.remove(id)?, register.remove(id)?)));
        if let Some((record, row)) = &existing {
            let stored_region = record.text("region_code").unwrap_or_default();
            if !in_scope(stored_region) {
                errors.cell(line, region_col, ErrorCode::OutOfScope);
            } else if !household.region.is_empty() && household.region != stored_region {
                // A household moves village through a procedure, not an import.
                errors.cell(line, region_col, ErrorCode::ImportHouseholdInconsistent);
            }
            if row.household_number.as_deref().is_some_and(|n| n != household.number) {
                errors.cell(line, number_col, ErrorCode::ImportHouseholdInconsistent);
            }
        }
        let household_id = existing.as_ref().map(|(r, _)| r.id.clone());
        for member in &household.members {
            if let Some(person) = people.get(&member.id_number)
                && Some(&person.household_id) != household_id.as_ref()
            {
                // R8: a person is in one household at a time.
                errors.cell(member.line, id_col, ErrorCode::DuplicatePerson);
            }
        }
        let mut new_officers = Vec::new();
        for (officer_line, names) in &household.officers {
            for name in split_names(names) {
                let region = household.region.as_str();
                match officers.get(&name) {
                    Some((id, grants)) if grants.iter().any(|g| region.starts_with(region_prefix(g))) => {
                        let known = household_id.as_ref().is_some_and(|h| assigned.contains(&(id.clone(), h.clone())));
                        if !known && !new_officers.contains(id) {
                            new_officers.push(id.clone());
                        }
                    }
                    _ => errors.cell(*officer_line, officer_col, ErrorCode::NotAnOfficer),
                }
            }
        }
        let members = household_id.as_ref().and_then(|h| stored_members.remove(h)).unwrap_or_default();
        plans.push(Plan { file: household, existing, members, new_officers });
    }
    Ok(plans)
}

#[derive(FromQueryResult)]
struct AssignedRow {
    officer_id: String,
    household_id: String,
}

fn split_names(text: &str) -> Vec<String> {
    text.split(['、', ',', '，', ';', '；', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The file's values that differ from a stored record (blank cells were never read).
fn changes(
    entity: &'static jingzhun_mobile_api::fields::EntitySpec,
    record: &Record,
    values: &BTreeMap<&'static str, FieldValue>,
) -> Vec<(&'static FieldSpec, FieldValue)> {
    values
        .iter()
        .filter(|(name, value)| record.value(name) != *value)
        .filter_map(|(name, value)| Some((entity.field(name)?, value.clone())))
        .collect()
}

/// Counts what the plans would do.
fn count(plans: &[Plan], report: &mut ImportReport) {
    for plan in plans {
        match &plan.existing {
            None => report.households.created += 1,
            Some((record, row)) => {
                if changes(&HOUSEHOLD, record, &household_values(&plan.file)).is_empty()
                    && register_changes(row, &plan.file).is_empty()
                {
                    report.households.unchanged += 1;
                } else {
                    report.households.updated += 1;
                }
            }
        }
        for member in &plan.file.members {
            match plan.members.get(&member.id_number) {
                None => report.members.created += 1,
                Some(record) if changes(&MEMBER, record, &member.values).is_empty() => report.members.unchanged += 1,
                Some(_) => report.members.updated += 1,
            }
        }
        report.assignments_created += plan.new_officers.len();
    }
}

/// The household's catalogue values, status included.
fn household_values(file: &FileHousehold) -> BTreeMap<&'static str, FieldValue> {
    let mut values = file.values.clone();
    values.insert("status", FieldValue::Text(file.status.clone()));
    values
}

/// The register columns (outside the catalogue: phones do not pull them) that differ.
fn register_changes(row: &RegisterRow, file: &FileHousehold) -> Vec<(&'static str, Option<String>, Value)> {
    let mut out = Vec::new();
    if row.household_number.as_deref() != Some(file.number.as_str()) {
        out.push(("household_number", row.household_number.clone(), Value::from(file.number.clone())));
    }
    let registered_on = file.registered_on.map(|d| d.to_string());
    if registered_on.is_some() && row.registered_on != registered_on {
        out.push(("registered_on", row.registered_on.clone(), Value::from(registered_on)));
    }
    if file.exit_year.is_some() && row.exit_year != file.exit_year {
        out.push(("exit_year", row.exit_year.map(|y| y.to_string()), Value::from(file.exit_year)));
    }
    out
}

/// The caps a register file is read under: the uploads' caps, but with room for every
/// column of the layout and the ones the national system's export carries besides
/// (income, A28–A32, which the import reports as ignored). Under the general
/// `max_columns` (50, sized for department lists) a county's full file was refused whole.
pub fn caps(uploads: &UploadsConfig) -> Caps {
    let caps = Caps::from_config(uploads);
    // Twice the layout's columns: the layout, and as many again that the import ignores.
    Caps { max_columns: caps.max_columns.max(2 * COLUMNS.len()), ..caps }
}

/// How far an import has got: the command line prints it, a job keeps it for its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The file is read: this many data rows.
    Read { rows: usize },
    /// Every row's cells are checked; they make this many households.
    Checked { households: usize },
    /// The households are checked against the store (inside the write transaction
    /// unless a dry run).
    Planned { households: usize },
    /// Households written so far, inside the one transaction: none is visible to
    /// anyone else until all are.
    Writing { done: usize, total: usize },
    /// The transaction committed.
    Committed,
}

impl Step {
    /// The step as the command line prints it.
    pub fn zh(&self) -> String {
        match self {
            Step::Read { rows } => format!("读取 {rows} 行"),
            Step::Checked { households } => format!("校验 {households} 户"),
            Step::Planned { households } => format!("核对已有数据 {households} 户"),
            Step::Writing { done, total } => format!("写入 {done}/{total} 户（提交前不生效）"),
            Step::Committed => "已提交".to_owned(),
        }
    }
}

/// Told each step as the import takes it (the command line prints, a job records).
pub type Progress<'a> = &'a (dyn Fn(Step) + Send + Sync);

/// How often (in households) the write reports its progress.
pub const WRITE_PROGRESS_EVERY: usize = 100;

/// Reads, checks and (unless a dry run, or a cell fails) writes a register file.
pub async fn run(
    db: &Db,
    actor: &Actor,
    request: ImportRequest,
    gate: &Gate,
    caps: Caps,
    progress: Progress<'_>,
) -> Result<ImportReport, Refusal> {
    let prefixes = import_prefixes(actor.caller())?;
    let format = Format::detect(&request.file_name, &request.bytes);
    let bytes = request.bytes;
    let table =
        tabular::read_off_runtime(gate, move || read_table(format, &bytes, &caps)).await.map_err(|err| match err {
            OffRuntimeError::Read(err) => file_refusal(err),
            OffRuntimeError::Busy => Refusal::new(Kind::Busy, ErrorCode::Busy),
            OffRuntimeError::Failed(why) => Refusal::internal(why),
        })?;
    let checked = check(table, request.dry_run, progress);
    let prefixes = prefixes.as_deref();
    if request.dry_run {
        return apply(&db.conn, actor, prefixes, checked, progress).await;
    }
    // The store is checked again inside the write transaction, so what is written is
    // what was checked against.
    let txn = db.begin_write().await.map_err(Refusal::internal)?;
    let report = apply(&*txn, actor, prefixes, checked, progress).await?;
    if report.written {
        txn.commit().await.map_err(Refusal::internal)?;
        progress(Step::Committed);
    }
    Ok(report)
}

/// The same import inside a transaction the caller holds and commits (the demo county
/// loads its register this way, in the one transaction of its load). `written` says
/// what was written in that transaction. The file is read on the calling thread.
pub async fn run_in(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    request: ImportRequest,
    caps: Caps,
    progress: Progress<'_>,
) -> Result<ImportReport, Refusal> {
    let prefixes = import_prefixes(actor.caller())?;
    let format = Format::detect(&request.file_name, &request.bytes);
    let table = read_table(format, &request.bytes, &caps).map_err(file_refusal)?;
    let checked = check(table, request.dry_run, progress);
    apply(conn, actor, prefixes.as_deref(), checked, progress).await
}

/// A file's rows checked cell by cell, before the store is looked at.
struct Checked {
    report: ImportReport,
    errors: Errors,
    /// None when a required column is missing: nothing more is checked.
    households: Option<Vec<FileHousehold>>,
}

fn check(table: Table, dry_run: bool, progress: Progress<'_>) -> Checked {
    progress(Step::Read { rows: table.rows.len() });
    let report = ImportReport {
        dry_run,
        rows: table.rows.len(),
        ignored_columns: table.ignored.clone(),
        ..ImportReport::default()
    };
    let mut errors = Errors {
        list: Vec::new(),
        headers: table.columns.iter().map(|(at, file, h)| (*at, (*file, h.clone()))).collect(),
    };
    for column in &table.missing {
        let at = COLUMNS.iter().position(|c| std::ptr::eq(c, *column)).unwrap_or_default();
        errors.cell(1, at, ErrorCode::ImportColumnMissing);
    }
    if !errors.list.is_empty() {
        return Checked { report, errors, households: None };
    }
    let households = check_rows(&table.rows, &mut errors);
    progress(Step::Checked { households: households.len() });
    Checked { report, errors, households: Some(households) }
}

/// Checks against the store and, unless a dry run or a cell fails, writes on `conn`.
async fn apply(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    prefixes: Option<&[String]>,
    checked: Checked,
    progress: Progress<'_>,
) -> Result<ImportReport, Refusal> {
    let Checked { mut report, mut errors, households } = checked;
    let Some(households) = households else {
        return Ok(finish(report, errors));
    };
    let plans = plan(conn, prefixes, households, &mut errors).await.map_err(Refusal::internal)?;
    progress(Step::Planned { households: plans.len() });
    count(&plans, &mut report);
    if report.dry_run || !errors.list.is_empty() || report.changes_nothing() {
        return Ok(finish(report, errors));
    }
    write(conn, actor, &plans, progress).await.map_err(Refusal::internal)?;
    report.written = true;
    Ok(finish(report, errors))
}

fn finish(mut report: ImportReport, errors: Errors) -> ImportReport {
    report.errors_total = errors.list.len();
    let mut errors = errors;
    errors.list.sort_by_key(|e| e.line);
    report.errors = errors.list.into_iter().take(MAX_LISTED_ERRORS).collect();
    report
}

fn file_refusal(err: TableError) -> Refusal {
    let (kind, code) =
        if err.is_cap() { (Kind::Rejected, err.code()) } else { (Kind::Invalid, ErrorCode::InvalidFile) };
    let mut detail = FieldError::new("file", code);
    detail.message_en = err.to_string();
    Refusal::new(kind, code).with_fields(vec![detail])
}

/// The audit entry of a server edit, signed by the actor.
fn signed(actor: &Actor, entry: AuditEntry) -> AuditEntry {
    let household_id = entry.household_id.clone().unwrap_or_else(|| entry.entity_id.clone());
    AuditEntry {
        field: entry.field,
        old_value: entry.old_value,
        new_value: entry.new_value,
        version: entry.version,
        ..actor.audit_household("import", &entry.entity, &entry.entity_id, &household_id)
    }
}

async fn write(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    plans: &[Plan],
    progress: Progress<'_>,
) -> Result<(), DbErr> {
    let mut log: Vec<LogEntry> = Vec::new();
    let mut audit_entries: Vec<AuditEntry> = Vec::new();
    let editor = Editor { user_id: "", device_id: None, action: "import", note: "register import".into() };
    let upsert = |entity: &'static str, id: &str, household_id: &str, region: &str, version: i64| LogEntry {
        entity,
        entity_id: id.to_owned(),
        household_id: Some(household_id.to_owned()),
        region_code: Some(region.to_owned()),
        target_user: None,
        op: LogOp::Upsert,
        version,
    };
    for (done, plan) in plans.iter().enumerate() {
        if done > 0 && done % WRITE_PROGRESS_EVERY == 0 {
            progress(Step::Writing { done, total: plans.len() });
        }
        let file = &plan.file;
        let values = household_values(file);
        let (household_id, region) = match &plan.existing {
            None => {
                let record = new_record(values);
                records::insert(conn, &HOUSEHOLD, &record).await?;
                let mut entry = actor.audit_household("import", HOUSEHOLD.name, &record.id, &record.id);
                entry.new_value = Some(record.to_json(&HOUSEHOLD).to_string());
                entry.version = Some(1);
                audit_entries.push(entry);
                log.push(upsert(HOUSEHOLD.name, &record.id, &record.id, &file.region, 1));
                let empty =
                    RegisterRow { id: record.id.clone(), household_number: None, registered_on: None, exit_year: None };
                write_register(conn, actor, &empty, file, &mut audit_entries).await?;
                (record.id, file.region.clone())
            }
            Some((record, row)) => {
                let mut record = record.clone();
                let region = record.text("region_code").unwrap_or_default().to_owned();
                let changed = changes(&HOUSEHOLD, &record, &values);
                let written =
                    server_edit::update_fields(conn, &editor, &HOUSEHOLD, &mut record, changed, Some(&region)).await?;
                log.extend(written.log);
                audit_entries.extend(written.audit.into_iter().map(|e| signed(actor, e)));
                write_register(conn, actor, row, file, &mut audit_entries).await?;
                (record.id, region)
            }
        };
        for member in &file.members {
            match plan.members.get(&member.id_number) {
                None => {
                    let mut values = member.values.clone();
                    values.insert("household_id", FieldValue::Uuid(household_id.clone()));
                    let record = new_record(values);
                    records::insert(conn, &MEMBER, &record).await?;
                    let mut entry = actor.audit_household("import", MEMBER.name, &record.id, &household_id);
                    entry.new_value = Some(record.to_json(&MEMBER).to_string());
                    entry.version = Some(1);
                    audit_entries.push(entry);
                    log.push(upsert(MEMBER.name, &record.id, &household_id, &region, 1));
                }
                Some(stored) => {
                    let mut record = stored.clone();
                    let changed = changes(&MEMBER, &record, &member.values);
                    let written =
                        server_edit::update_fields(conn, &editor, &MEMBER, &mut record, changed, Some(&region)).await?;
                    log.extend(written.log);
                    audit_entries.extend(written.audit.into_iter().map(|e| signed(actor, e)));
                }
            }
        }
        for officer_id in &plan.new_officers {
            let start = file.registered_on.unwrap_or_else(|| chrono::Utc::now().date_naive());
            registry::assignments::insert(conn, officer_id, &household_id, start, actor.user_id.clone()).await?;
            // The officer's next pull brings the household whole.
            log.push(LogEntry {
                target_user: Some(officer_id.clone()),
                op: LogOp::Enter,
                version: 0,
                ..upsert(HOUSEHOLD.name, &household_id, &household_id, &region, 0)
            });
            let mut entry = actor.audit("assign", HOUSEHOLD.name, &household_id);
            entry.new_value = Some(officer_id.clone());
            entry.note = Some("register import".into());
            audit_entries.push(entry);
        }
    }
    progress(Step::Writing { done: plans.len(), total: plans.len() });
    let tx = changelog::current_tx(conn).await?;
    changelog::append(conn, tx, &log).await?;
    audit::record(conn, &audit_entries).await
}

fn new_record(values: BTreeMap<&'static str, FieldValue>) -> Record {
    Record {
        id: Uuid::new_v4().to_string(),
        version: 1,
        field_versions: values.keys().map(|k| ((*k).to_owned(), 1)).collect(),
        values,
    }
}

/// Sets the register columns that differ, each with its audit entry.
async fn write_register(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    row: &RegisterRow,
    file: &FileHousehold,
    audit_entries: &mut Vec<AuditEntry>,
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    for (column, old, new) in register_changes(row, file) {
        let text = format!("UPDATE household SET \"{column}\" = ? WHERE id = ?");
        conn.execute_raw(sql(backend, &text, vec![new.clone(), row.id.as_str().into()])).await?;
        let mut entry = actor.audit_household("import", HOUSEHOLD.name, &row.id, &row.id);
        entry.field = Some(column.to_owned());
        entry.old_value = old;
        entry.new_value = Some(match new {
            Value::String(Some(s)) => s.to_string(),
            Value::BigInt(Some(i)) => i.to_string(),
            other => format!("{other:?}"),
        });
        audit_entries.push(entry);
    }
    Ok(())
}
