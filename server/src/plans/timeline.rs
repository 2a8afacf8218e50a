//! A household's timeline: visits, help plans and their tasks, help measures, income
//! years, procedure steps and sign-offs, and status changes, in one dated list — what a
//! supervisor reads to see whether the help reached the household (一户一策).
//!
//! Records that carry only a year (a plan, a measure without a start date, an income
//! record) are placed where that year sorts and marked [`DatePrecision::Year`]. A help
//! measure with neither a year nor a start date has no place in time; the plan outcome
//! lists it.

use super::{china_date, note_of, task_done, user_names, yuan_text};
use crate::db::sql;
use crate::domain::income::income_period;
use crate::domain::policy::RulePolicy;
use crate::records::{self, Record};
use chrono::{DateTime, NaiveDate, Utc};
use jingzhun_mobile_api::codes;
use jingzhun_mobile_api::fields::{HELP_MEASURE, HELP_PLAN, INCOME, PLAN_TASK, VISIT_LOG};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Serialize;

/// What an entry records. Entries of one day without a time sort in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// A year's help plan (帮扶计划).
    HelpPlan,
    /// A help measure or project (帮扶措施、项目).
    HelpMeasure,
    /// A visit (走访), with its photos.
    Visit,
    /// A plan task done, with its progress note and evidence.
    TaskDone,
    /// A plan task's due date.
    TaskDue,
    /// A year's income record.
    Income,
    /// A procedure case filed (农户申请 and the like).
    CaseOpened,
    /// A sign-off at a procedure step.
    CaseSignoff,
    /// The household's status moved (only procedures move it).
    StatusChange,
}

/// How exact an entry's date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DatePrecision {
    Day,
    /// Only the year is recorded; the date is where the entry sorts within it (a plan
    /// or measure at the year's start, income at the end of its income period).
    Year,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    /// The Beijing date.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub precision: DatePrecision,
    /// The moment, for what the server stamped (case steps, sign-offs, status changes).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<DateTime<Utc>>,
    pub kind: TimelineKind,
    /// In Chinese, for the officer and the supervisor.
    pub title: String,
    pub detail: Option<String>,
    /// The record the entry comes from: a visit, task, measure, plan, income record,
    /// case, sign-off, or audit entry (status changes).
    pub record_id: String,
    /// Visit photos or task evidence.
    pub attachment_ids: Vec<String>,
}

impl TimelineEntry {
    fn day(date: NaiveDate, kind: TimelineKind, title: String, record_id: &str) -> TimelineEntry {
        TimelineEntry {
            date,
            precision: DatePrecision::Day,
            at: None,
            kind,
            title,
            detail: None,
            record_id: record_id.to_owned(),
            attachment_ids: Vec::new(),
        }
    }

    /// A record that carries only a year, placed at `date` within it.
    fn yearly(date: NaiveDate, kind: TimelineKind, title: String, record_id: &str) -> TimelineEntry {
        TimelineEntry { precision: DatePrecision::Year, ..TimelineEntry::day(date, kind, title, record_id) }
    }

    fn stamped(at: DateTime<Utc>, kind: TimelineKind, title: String, record_id: &str) -> TimelineEntry {
        TimelineEntry { at: Some(at), ..TimelineEntry::day(china_date(at), kind, title, record_id) }
    }

    fn with_detail(mut self, parts: Vec<String>) -> TimelineEntry {
        let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
        self.detail = (!parts.is_empty()).then(|| parts.join("；"));
        self
    }
}

/// Date first; within a day, entries without a time before stamped ones, then by time,
/// kind and record, so the same data always reads in the same order.
fn sort(entries: &mut [TimelineEntry]) {
    entries.sort_by(|a, b| (a.date, a.at, a.kind, &a.record_id).cmp(&(b.date, b.at, b.kind, &b.record_id)));
}

fn january_first(year: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, 1, 1)
}

fn label(table: &codes::CodeTable, code: &str) -> String {
    table.label_of(code).unwrap_or(code).to_owned()
}

fn role_label(role: &str) -> &str {
    match role {
        "officer" => "帮扶责任人",
        "village" => "村两委",
        "township" => "乡镇",
        "county" => "县扶贫办",
        "supervisor" => "督查",
        "admin" => "管理员",
        other => other,
    }
}

fn decision_label(decision: &str) -> &str {
    match decision {
        "approve" => "通过",
        "reject" => "不通过",
        "resubmit" => "重新提交",
        "reopen" => "退回重办",
        "notice" => "期满无异议",
        "objection_upheld" => "异议成立，退回核实",
        other => other,
    }
}

/// Everything that happened to a household, oldest first.
pub async fn timeline(conn: &impl ConnectionTrait, household_id: &str) -> Result<Vec<TimelineEntry>, DbErr> {
    let ids = [household_id.to_owned()];
    let visits = records::load_by_households(conn, &VISIT_LOG, &ids).await?;
    let plans = records::load_by_households(conn, &HELP_PLAN, &ids).await?;
    let tasks = records::load_by_households(conn, &PLAN_TASK, &ids).await?;
    let measures = records::load_by_households(conn, &HELP_MEASURE, &ids).await?;
    let incomes = records::load_by_households(conn, &INCOME, &ids).await?;
    let officers: Vec<String> =
        visits.iter().chain(&tasks).filter_map(|r| r.text("officer_id")).map(str::to_owned).collect();
    let names = user_names(conn, &officers).await?;
    let name_of = |r: &Record| r.text("officer_id").and_then(|id| names.get(id)).cloned();

    let mut entries = Vec::new();
    for visit in &visits {
        let Some(date) = visit.date("visited_on") else { continue };
        let mut entry = TimelineEntry::day(date, TimelineKind::Visit, "入户走访".into(), &visit.id).with_detail(vec![
            note_of(visit, "note").unwrap_or_default().to_owned(),
            name_of(visit).map(|n| format!("走访人：{n}")).unwrap_or_default(),
        ]);
        entry.attachment_ids = visit.list("attachment_ids");
        entries.push(entry);
    }
    for plan in &plans {
        let Some(year) = plan.int("year") else { continue };
        let Some(date) = january_first(year) else { continue };
        let entry = TimelineEntry::yearly(date, TimelineKind::HelpPlan, format!("{year}年度帮扶计划"), &plan.id);
        entries.push(entry.with_detail(vec![
            note_of(plan, "goal").map(|g| format!("目标：{g}")).unwrap_or_default(),
            plan.money("planned_income").map(|f| format!("计划人均纯收入{}", yuan_text(f))).unwrap_or_default(),
            note_of(plan, "outcome_note").map(|n| format!("帮扶成效：{n}")).unwrap_or_default(),
        ]));
    }
    for task in &tasks {
        let title = task.text("title").unwrap_or_default();
        let progress = note_of(task, "progress_note").map(|p| format!("进展：{p}")).unwrap_or_default();
        let officer = name_of(task).map(|n| format!("责任人：{n}")).unwrap_or_default();
        let done = task_done(task);
        if let Some(due) = task.date("due_date") {
            let state = match task.date("done_on") {
                Some(on) => format!("已完成（{on}）"),
                None if done => "已完成".to_owned(),
                None => "未完成".to_owned(),
            };
            entries.push(
                TimelineEntry::day(due, TimelineKind::TaskDue, format!("任务期限：{title}"), &task.id)
                    .with_detail(vec![state, officer.clone(), progress.clone()]),
            );
        }
        if let Some(on) = task.date("done_on") {
            let evidence = task.list("evidence_ids");
            let count = if evidence.is_empty() { String::new() } else { format!("佐证材料{}份", evidence.len()) };
            let mut entry = TimelineEntry::day(on, TimelineKind::TaskDone, format!("任务完成：{title}"), &task.id)
                .with_detail(vec![progress, officer, count]);
            entry.attachment_ids = evidence;
            entries.push(entry);
        }
    }
    for measure in &measures {
        let name = measure.text("name").unwrap_or_default();
        let category = measure.text("category").map(|c| label(&codes::MAIN_MEASURE, c)).unwrap_or_default();
        let title = format!("帮扶措施：{name}（{category}）");
        let entry = match (measure.date("start_date"), measure.int("year")) {
            (Some(date), _) => Some(TimelineEntry::day(date, TimelineKind::HelpMeasure, title, &measure.id)),
            (None, Some(year)) => january_first(year)
                .map(|date| TimelineEntry::yearly(date, TimelineKind::HelpMeasure, title, &measure.id)),
            (None, None) => None,
        };
        if let Some(entry) = entry {
            entries.push(entry.with_detail(vec![
                note_of(measure, "project_name").map(|p| format!("项目：{p}")).unwrap_or_default(),
                note_of(measure, "scale").map(|s| format!("规模：{s}")).unwrap_or_default(),
                measure.money("funds").map(|f| format!("资金：{}", yuan_text(f))).unwrap_or_default(),
            ]));
        }
    }
    let policy = RulePolicy::baseline();
    for income in &incomes {
        let Some(year) = income.int("year") else { continue };
        let Some((start, end)) = i32::try_from(year).ok().and_then(|y| income_period(y, &policy).ok()) else {
            continue;
        };
        let amount = |field: &str, label: &str| income.money(field).map(|f| format!("{label}{}", yuan_text(f)));
        let parts: Vec<String> = [
            amount("wage", "工资性收入"),
            amount("business", "生产经营性收入"),
            amount("property", "财产性收入"),
            amount("transfer", "转移性收入"),
            amount("business_expense", "生产经营性支出"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let entry = TimelineEntry::yearly(end, TimelineKind::Income, format!("{year}年度收入"), &income.id);
        entries.push(entry.with_detail(vec![parts.join("，"), format!("统计期{start}至{end}")]));
    }
    entries.extend(case_entries(conn, household_id).await?);
    entries.extend(status_changes(conn, household_id).await?);
    sort(&mut entries);
    Ok(entries)
}

#[derive(FromQueryResult)]
struct CaseRow {
    id: String,
    kind: String,
    note: Option<String>,
    created_at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct SignoffRow {
    id: String,
    kind: String,
    step: String,
    decision: String,
    role: String,
    /// The signer's name; absent if the account is gone.
    signer: Option<String>,
    comment: Option<String>,
    /// A JSON array of attachment ids.
    attachment_ids: String,
    at: DateTime<Utc>,
}

/// Cases filed and every sign-off on them.
async fn case_entries(conn: &impl ConnectionTrait, household_id: &str) -> Result<Vec<TimelineEntry>, DbErr> {
    let backend = conn.get_database_backend();
    let mut entries = Vec::new();
    let cases = CaseRow::find_by_statement(sql(
        backend,
        "SELECT id, kind, note, created_at FROM procedure_case WHERE household_id = ?",
        vec![household_id.into()],
    ))
    .all(conn)
    .await?;
    for case in cases {
        let title = format!("{}：提出申请", label(&codes::CASE_KIND, &case.kind));
        entries.push(
            TimelineEntry::stamped(case.created_at, TimelineKind::CaseOpened, title, &case.id)
                .with_detail(vec![case.note.unwrap_or_default()]),
        );
    }
    let signoffs = SignoffRow::find_by_statement(sql(
        backend,
        "SELECT s.id, c.kind, s.step, s.decision, s.role, u.name AS signer, s.comment, s.attachment_ids, s.at \
         FROM case_signoff s JOIN procedure_case c ON c.id = s.case_id LEFT JOIN app_user u ON u.id = s.user_id \
         WHERE c.household_id = ?",
        vec![household_id.into()],
    ))
    .all(conn)
    .await?;
    for signoff in signoffs {
        let title = format!(
            "{}：{}{}",
            label(&codes::CASE_KIND, &signoff.kind),
            label(&codes::CASE_STEP, &signoff.step),
            decision_label(&signoff.decision)
        );
        let who = match signoff.signer {
            Some(name) => format!("{}{name}签字", role_label(&signoff.role)),
            None => format!("{}签字", role_label(&signoff.role)),
        };
        let mut entry = TimelineEntry::stamped(signoff.at, TimelineKind::CaseSignoff, title, &signoff.id)
            .with_detail(vec![who, signoff.comment.unwrap_or_default().trim().to_owned()]);
        entry.attachment_ids = serde_json::from_str(&signoff.attachment_ids).unwrap_or_default();
        entries.push(entry);
    }
    Ok(entries)
}

#[derive(FromQueryResult)]
struct StatusRow {
    id: i64,
    at: DateTime<Utc>,
    old_value: Option<String>,
    new_value: Option<String>,
    note: Option<String>,
}

/// The household's status as the audit log recorded each move.
async fn status_changes(conn: &impl ConnectionTrait, household_id: &str) -> Result<Vec<TimelineEntry>, DbErr> {
    let rows = StatusRow::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT id, at, old_value, new_value, note FROM audit_log \
         WHERE entity = 'household' AND entity_id = ? AND field = 'status' ORDER BY id",
        vec![household_id.into()],
    ))
    .all(conn)
    .await?;
    // Audit values are the wire form: a JSON string, or null.
    let status = |value: Option<String>| {
        let code = value.and_then(|v| serde_json::from_str::<Option<String>>(&v).ok().flatten());
        code.map_or_else(|| "无".to_owned(), |c| label(&codes::HOUSEHOLD_STATUS, &c))
    };
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let title = format!("户状态：{} → {}", status(row.old_value), status(row.new_value));
        entries.push(
            TimelineEntry::stamped(row.at, TimelineKind::StatusChange, title, &row.id.to_string())
                .with_detail(vec![row.note.unwrap_or_default()]),
        );
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn entries_sort_by_date_then_untimed_first_then_time_then_kind() {
        let at = DateTime::parse_from_rfc3339("2026-05-01T02:00:00Z").expect("time").with_timezone(&Utc);
        let mut entries = vec![
            TimelineEntry::stamped(at, TimelineKind::CaseSignoff, "签字".into(), "s"),
            TimelineEntry::day(date(2026, 5, 1), TimelineKind::TaskDue, "期限".into(), "t"),
            TimelineEntry::day(date(2026, 5, 1), TimelineKind::Visit, "走访".into(), "v"),
            TimelineEntry::yearly(date(2026, 1, 1), TimelineKind::HelpPlan, "计划".into(), "p"),
            TimelineEntry::day(date(2025, 12, 31), TimelineKind::Visit, "走访".into(), "old"),
        ];
        sort(&mut entries);
        let order: Vec<&str> = entries.iter().map(|e| e.record_id.as_str()).collect();
        assert_eq!(order, ["old", "p", "v", "t", "s"]);
        assert_eq!(entries[1].precision, DatePrecision::Year);
        assert_eq!(entries[4].date, date(2026, 5, 1), "10:00 in Beijing");
    }

    #[test]
    fn details_skip_what_was_not_recorded() {
        let entry = TimelineEntry::day(date(2026, 1, 2), TimelineKind::Visit, "走访".into(), "v")
            .with_detail(vec![String::new(), "走访人：王".into()]);
        assert_eq!(entry.detail.as_deref(), Some("走访人：王"));
        let empty = TimelineEntry::day(date(2026, 1, 2), TimelineKind::Visit, "走访".into(), "v").with_detail(vec![]);
        assert_eq!(empty.detail, None);
    }
}
