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
//! household number (else the head's ID number) and changes nothing.
//!
//! Members are matched inside the matched household only, by person: the first 18
//! characters of the number (`validate::person_id`: a 残疾人证 is its holder's ID card
//! plus category and grade). A person without a number (证件类型 无证件, with the reason
//! sync asks for, `validate::member_identity`) is matched by (name, relation to the
//! head): the layout has no birth-date column, the 对照表 reads it off the number such a
//! person lacks. That key is unique inside a household or the row is refused, and is
//! never looked up across households, so two unregistered children of one name in two
//! families stay two people. A file person with a number not yet stored is also looked
//! for by that key among the household's members without one (a newborn registered
//! since), so she gains her number rather than a twin.
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
    /// Of the file's members, those without any number (证件类型 无证件: an unregistered
    /// newborn), kept 系统外 until they have one (001 附件1 note 3).
    #[serde(default)]
    pub members_without_number: usize,
    /// Of the file's members, those with a 20-character 残疾人证 number.
    #[serde(default)]
    pub members_with_disability_card: usize,
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
        if self.members_without_number + self.members_with_disability_card > 0 {
            lines.push(format!(
                "其中无证件 {} 人（系统外管理）、残疾人证 {} 人",
                self.members_without_number, self.members_with_disability_card
            ));
        }
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
    /// The person's number (ID card or 残疾人证); None for a person without a document.
    id_number: Option<String>,
    values: BTreeMap<&'static str, FieldValue>,
}

impl FileMember {
    /// Who the person is when the file gives no number: name and relation to the head,
    /// inside one household (there is no birth date column to add: the 对照表 derives
    /// it from the number this person lacks).
    fn unnumbered_key(&self) -> Option<(String, String)> {
        if self.id_number.is_some() {
            return None;
        }
        name_relation(self.values.get("name"), self.values.get("relation"))
    }
}

fn name_relation(name: Option<&FieldValue>, relation: Option<&FieldValue>) -> Option<(String, String)> {
    match (name, relation) {
        (Some(FieldValue::Text(name)), Some(FieldValue::Text(relation))) => {
            Some((name.trim().to_owned(), relation.clone()))
        }
        _ => None,
    }
}

fn text_of<'a>(values: &'a BTreeMap<&'static str, FieldValue>, name: &str) -> Option<&'a str> {
    match values.get(name) {
        Some(FieldValue::Text(t)) => Some(t.as_str()),
        _ => None,
    }
}

/// The 证件类型 a number implies when the file gives none: a 20-character number can only
/// be a 残疾人证 (its holder's ID number, category and grade), so the record says so.
fn implied_id_type(values: &mut BTreeMap<&'static str, FieldValue>) {
    if !values.contains_key("id_type")
        && text_of(values, "id_number").is_some_and(|n| n.len() == validate::DISABILITY_CARD_LEN)
    {
        values.insert("id_type", FieldValue::Text("disability_card".into()));
    }
}

/// Checks each row's cells with the catalogue's validators and gathers households.
fn check_rows(rows: &[Row], errors: &mut Errors) -> Vec<FileHousehold> {
    let mut households: Vec<FileHousehold> = Vec::new();
    let mut by_number: HashMap<String, usize> = HashMap::new();
    // By person (`validate::person_id`): a 残疾人证 and the ID card under it are one person.
    let mut seen_ids: HashSet<String> = HashSet::new();
    // (household, name, relation) of the people without a number: the key a re-import
    // finds them by, so it must be unique inside a household, and only there.
    let mut seen_unnumbered: HashSet<(usize, String, String)> = HashSet::new();
    let number_col = column_index(Target::HouseholdNumber);
    let id_col = column_index(Target::Member("id_number"));
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
        let mut id_failed = false;
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
                        // A blank ID number is judged with the row's type and reason below.
                        if column.required && at != id_col {
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
                        Err(code) => {
                            id_failed |= at == id_col;
                            errors.cell(row.line, at, code);
                        }
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
        if member.is_empty() || id_failed {
            continue;
        }
        implied_id_type(&mut member);
        let id_number = text_of(&member, "id_number").map(str::to_owned);
        let identity = validate::member_identity(
            text_of(&member, "id_type"),
            id_number.as_deref(),
            text_of(&member, "no_id_reason"),
        );
        if let Err((field, code)) = identity {
            errors.cell(row.line, column_index(Target::Member(field)), code);
            continue;
        }
        let member = FileMember { line: row.line, id_number, values: member };
        if let Some(id) = &member.id_number {
            if !seen_ids.insert(validate::person_id(id).to_owned()) {
                errors.cell(row.line, id_col, ErrorCode::DuplicatePerson);
                continue;
            }
        } else if let Some((name, relation)) = member.unnumbered_key()
            && !seen_unnumbered.insert((index, name, relation))
        {
            // Two people without a number, of one name and relation in one household,
            // could never be told apart again on re-import.
            errors.cell(row.line, column_index(Target::Member("name")), ErrorCode::DuplicatePerson);
            continue;
        }
        household.members.push(member);
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
    /// The stored member each of the file's members is (in the file's order), if any.
    matches: Vec<Option<Record>>,
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
    // Stored people by person (`validate::person_id`): the index finds the numbers as the
    // file writes them and the ID numbers under its 残疾人证; one scan finds the few stored
    // 残疾人证 whose holder the file writes by ID card alone.
    let numbers: HashSet<&str> =
        households.iter().flat_map(|h| h.members.iter().filter_map(|m| m.id_number.as_deref())).collect();
    let persons: HashSet<&str> = numbers.iter().map(|n| validate::person_id(n)).collect();
    let keys: Vec<String> = numbers.union(&persons).map(|n| (*n).to_owned()).collect();
    let mut found: Vec<PersonRow> = rows_in::<PersonRow>(
        conn,
        "SELECT household_id, id_number FROM member WHERE active AND id_number IN",
        "",
        &keys,
    )
    .await?;
    if !persons.is_empty() {
        let cards = sql(
            conn.get_database_backend(),
            "SELECT household_id, id_number FROM member WHERE active AND LENGTH(id_number) = ?",
            vec![Value::from(validate::DISABILITY_CARD_LEN as i64)],
        );
        found.extend(PersonRow::find_by_statement(cards).all(conn).await?);
    }
    let people: HashMap<String, PersonRow> = found
        .into_iter()
        .filter(|p| persons.contains(validate::person_id(&p.id_number)))
        .map(|p| (validate::person_id(&p.id_number).to_owned(), p))
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
        let head = household
            .members
            .iter()
            .find(|m| is_head(m))
            .and_then(|m| people.get(validate::person_id(m.id_number.as_deref()?)));
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
    let mut stored_members: HashMap<String, Vec<Record>> = HashMap::new();
    for member in records::load_by_households(conn, &MEMBER, &matched_ids).await? {
        if member.flag("active") != Some(false)
            && let Some(h) = member.text("household_id")
        {
            stored_members.entry(h.to_owned()).or_default().push(member.clone());
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
    for (mut household, target) in households.into_iter().zip(matched) {
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
            if let Some(person) = member.id_number.as_deref().and_then(|n| people.get(validate::person_id(n)))
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
        let stored = household_id.as_ref().and_then(|h| stored_members.remove(h)).unwrap_or_default();
        let matches = match_members(&mut household.members, &stored, errors);
        plans.push(Plan { file: household, existing, matches, new_officers });
    }
    Ok(plans)
}

/// The stored member each of a household's file members is. A number finds its person
/// (an ID card and the 残疾人证 on it are one); a person without one, or whose number
/// is not stored yet, is found by name and relation to the head among the members
/// stored without a number (a newborn registered since), and only inside this
/// household: two children of one name in two households are never one person. A file
/// person without a number whose namesake is stored with one matches them, and the
/// identity check then names the stale row rather than adding the person twice.
fn match_members(members: &mut [FileMember], stored: &[Record], errors: &mut Errors) -> Vec<Option<Record>> {
    let id_col = column_index(Target::Member("id_number"));
    let name_col = column_index(Target::Member("name"));
    let mut taken: HashSet<String> = HashSet::new();
    let mut matches = Vec::with_capacity(members.len());
    for member in members.iter_mut() {
        let by_number = member.id_number.as_deref().map(validate::person_id).and_then(|person| {
            stored.iter().find(|r| r.text("id_number").is_some_and(|n| validate::person_id(n) == person))
        });
        let found = match by_number {
            Some(record) => Ok(Some(record)),
            None => {
                let key = name_relation(member.values.get("name"), member.values.get("relation"));
                let same: Vec<&Record> = stored
                    .iter()
                    .filter(|r| member.id_number.is_none() || r.text("id_number").is_none())
                    .filter(|r| key.is_some() && name_relation(Some(r.value("name")), Some(r.value("relation"))) == key)
                    .collect();
                match same.as_slice() {
                    [] => Ok(None),
                    [one] => Ok(Some(*one)),
                    _ => Err(()),
                }
            }
        };
        let record = match found {
            Ok(Some(record)) if !taken.insert(record.id.clone()) => Err(()),
            other => other,
        };
        let Ok(record) = record else {
            // Two stored people (or two of the file's) the row could be: never guess.
            errors.cell(member.line, name_col, ErrorCode::DuplicatePerson);
            matches.push(None);
            continue;
        };
        if let Some(record) = record {
            // A newborn registered since: the number the file brings makes her an ID holder.
            if member.id_number.is_some()
                && !member.values.contains_key("id_type")
                && record.text("id_type") == Some(validate::NO_DOCUMENT)
            {
                let card = member.id_number.as_deref().is_some_and(|n| n.len() == validate::DISABILITY_CARD_LEN);
                let id_type = if card { "disability_card" } else { "resident_id_card" };
                member.values.insert("id_type", FieldValue::Text(id_type.into()));
            }
            // The record as it will be stored: the file's cells over what is kept.
            let merged = |field: &str| text_of(&member.values, field).or_else(|| record.text(field));
            if let Err((field, code)) =
                validate::member_identity(merged("id_type"), merged("id_number"), merged("no_id_reason"))
            {
                let at = if field == "id_number" { id_col } else { column_index(Target::Member(field)) };
                errors.cell(member.line, at, code);
            }
        }
        matches.push(record.cloned());
    }
    matches
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
        for (member, stored) in plan.file.members.iter().zip(&plan.matches) {
            if member.id_number.is_none() {
                report.members_without_number += 1;
            } else if member.id_number.as_deref().is_some_and(|n| n.len() == validate::DISABILITY_CARD_LEN) {
                report.members_with_disability_card += 1;
            }
            match stored {
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
        analyze_imported(db).await;
    }
    Ok(report)
}

/// Statistics of the tables an import fills, taken now rather than when autovacuum
/// comes round: a county's first import takes them from empty to many thousands of
/// rows, and until then PostgreSQL plans a pull's member read as a scan of the whole
/// table (the demo county's load does the same). Not the change log's: its rows carry
/// provisional numbers until a pull numbers them, and statistics of those would tell
/// the planner that any later cursor matches nothing. SQLite keeps none that we use.
/// The import has committed, so a failure here is only logged.
async fn analyze_imported(db: &Db) {
    if !db.is_postgres() {
        return;
    }
    if let Err(err) = db.conn.execute_unprepared("ANALYZE household, member, assignment").await {
        tracing::warn!(error = %err, "statistics after a register import were not taken; autovacuum will take them");
    }
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
        for (member, stored) in file.members.iter().zip(&plan.matches) {
            match stored {
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
