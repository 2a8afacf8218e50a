//! Reports (C9): the four statistics tables of 000 附件1–4, the household register of
//! 001 附件1 and the 系统外人员 list of 001 §一, the paper of 004 (the per-household
//! 对照表 and the member-change tables 附件3–4) and the 10% spot check of 003, for any
//! region and period, as XLSX, CSV or JSON.
//!
//! `request` decides who may have which report, bounds the work and audits the paper
//! forms, `queries` reads the facts, `history` reads a household's past back from its
//! completed cases, `statistics`, `register`, `paper` and `spot_check` build the tables
//! as pure functions, `sheet` lays a report out in rows and `write` turns the rows into
//! a file (A4, header rows repeated on every page).
//!
//! What reports must never do: change anything but the audit log, show an ID number or
//! a phone number in full outside the paper forms of `paper` (audited per household),
//! or give a region a row that differs from the sum of the rows one level down (a row
//! counts the households whose village code starts with its region's prefix).

pub mod history;
pub mod paper;
pub mod queries;
pub mod register;
pub mod request;
pub mod sheet;
pub mod spot_check;
pub mod statistics;
pub mod write;

pub use paper::Numbers;
pub use request::{
    Format, Limits, Options, ReportFile, ReportUnit, busy, report_file_for, report_regions, report_sheet_for,
    too_large, unit_for,
};

use crate::auth::roles::prefix_len;
use chrono::{DateTime, Days, FixedOffset, NaiveDate, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::{Value, json};

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportName {
    /// 000 附件1 贫困人口动态调整情况统计表.
    DynamicAdjustment,
    /// 000 附件2 新识别贫困人口情况统计表.
    NewIdentification,
    /// 000 附件3 清除人口情况统计表.
    Removals,
    /// 000 附件4 返贫人口情况统计表.
    Relapse,
    /// 001 附件1 贫困户名册.
    Register,
    /// 001 §一 系统外人员名册.
    OutsideSystem,
    /// 000 §四(四) 不漏项、不串项、无逻辑错误: the data-quality problems (R8).
    DataQuality,
    /// 003 §四(二)1 / 004 附件1 二(二) 贫困户信息对照表: 004 附件2's fields A1–A51, a page a household.
    HouseholdForm,
    /// 004 附件3 家庭成员自然增加情况表 (以户为单位).
    MemberIncrease,
    /// 004 附件4 家庭成员自然减少情况表 (以村为单位).
    MemberDecrease,
    /// 003 §一(二)3 贫困村退出抽检报告: the 10% sample of exiting villages, drawn and reported.
    SpotCheck,
}

impl ReportName {
    pub const ALL: [ReportName; 11] = [
        ReportName::DynamicAdjustment,
        ReportName::NewIdentification,
        ReportName::Removals,
        ReportName::Relapse,
        ReportName::Register,
        ReportName::OutsideSystem,
        ReportName::DataQuality,
        ReportName::HouseholdForm,
        ReportName::MemberIncrease,
        ReportName::MemberDecrease,
        ReportName::SpotCheck,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ReportName::DynamicAdjustment => "dynamic_adjustment",
            ReportName::NewIdentification => "new_identification",
            ReportName::Removals => "removals",
            ReportName::Relapse => "relapse",
            ReportName::Register => "register",
            ReportName::OutsideSystem => "outside_system",
            ReportName::DataQuality => "data_quality",
            ReportName::HouseholdForm => "household_form",
            ReportName::MemberIncrease => "member_increase",
            ReportName::MemberDecrease => "member_decrease",
            ReportName::SpotCheck => "spot_check",
        }
    }

    pub fn parse(code: &str) -> Option<ReportName> {
        ReportName::ALL.into_iter().find(|n| n.code() == code)
    }

    /// The title as the seed prints it.
    pub fn title(self) -> &'static str {
        match self {
            ReportName::DynamicAdjustment => "贫困人口动态调整情况统计表",
            ReportName::NewIdentification => "贫困人口动态调整新识别贫困人口情况统计表",
            ReportName::Removals => "贫困人口动态调整清除人口情况统计表",
            ReportName::Relapse => "贫困人口动态调整返贫人口情况统计表",
            ReportName::Register => "贫困户名册",
            ReportName::OutsideSystem => "系统外人员名册",
            ReportName::DataQuality => "数据质量问题清单",
            ReportName::HouseholdForm => "贫困户信息对照表",
            ReportName::MemberIncrease => "低收入农户家庭成员自然增加情况表",
            ReportName::MemberDecrease => "低收入农户家庭成员自然减少情况表",
            ReportName::SpotCheck => "贫困村退出抽检报告",
        }
    }

    /// Whether the report shows ID and phone numbers whole, and so is audited per household.
    pub fn shows_whole_numbers(self) -> bool {
        matches!(self, ReportName::HouseholdForm | ReportName::MemberIncrease | ReportName::MemberDecrease)
    }
}

/// China Standard Time: the day a case closed is the day in Beijing.
fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Today in China.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&china()).date_naive()
}

/// A reporting period: whole days `from` to `to`, both included, in China time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Option<Period> {
        (from <= to).then_some(Period { from, to })
    }

    fn midnight(day: NaiveDate) -> DateTime<Utc> {
        let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        china().from_local_datetime(&local).single().map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// The first instant of the period.
    pub fn start(&self) -> DateTime<Utc> {
        Period::midnight(self.from)
    }

    /// The first instant after the period.
    pub fn end(&self) -> DateTime<Utc> {
        Period::midnight(self.to.checked_add_days(Days::new(1)).unwrap_or(self.to))
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start() <= at && at < self.end()
    }

    /// `2026年1月1日至2026年12月31日`.
    pub fn label(&self) -> String {
        format!("{}至{}", self.from.format("%Y年%-m月%-d日"), self.to.format("%Y年%-m月%-d日"))
    }
}

/// A region of the division tree.
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
}

impl Region {
    /// The part of the code its descendants share (`320703001` for a township).
    pub fn prefix(&self) -> &str {
        &self.code[..prefix_len(&self.level).min(self.code.len())]
    }

    /// Households hang off villages: a village (or anything below) has no rows under it.
    pub fn is_leaf(&self) -> bool {
        matches!(self.level.as_str(), "village" | "natural_village")
    }
}

/// A built report, ready to be laid out or sent as JSON.
#[derive(Debug, Clone)]
pub struct Report {
    pub name: ReportName,
    /// 填报单位.
    pub unit: Region,
    pub period: Period,
    pub generated_on: NaiveDate,
    pub body: Body,
    /// How the numbers were made: printed under the table.
    pub notes: Vec<String>,
    /// Whether a paper form shows ID and phone numbers whole (to print, audited) or
    /// masked (to look at); the other reports always mask them.
    pub numbers: Numbers,
}

#[derive(Debug, Clone)]
pub enum Body {
    Statistics(statistics::StatTable),
    Register(Vec<register::RegisterHousehold>),
    OutsideSystem(Vec<register::OutsideEntry>),
    /// One row per problem: household, where, what.
    DataQuality(Vec<QualityRow>),
    /// A paper form laid out as the seed prints it (`paper`, `spot_check`).
    Paper(Box<paper::Paper>),
}

/// One data-quality problem of one household.
#[derive(Debug, Clone)]
pub struct QualityRow {
    pub household_id: String,
    pub location: String,
    pub head_name: String,
    pub code: String,
    pub problem: String,
}

impl Report {
    pub fn title(&self) -> &'static str {
        self.name.title()
    }

    /// The file name offered for download, in Chinese: title, unit and period.
    pub fn file_name(&self, extension: &str) -> String {
        format!("{}_{}_{}_{}.{extension}", self.title(), self.unit.name, self.period.from, self.period.to)
    }

    /// An ASCII file name for clients that ignore `filename*`.
    pub fn ascii_file_name(&self, extension: &str) -> String {
        format!("{}_{}_{}_{}.{extension}", self.name.code(), self.unit.code, self.period.from, self.period.to)
    }

    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "name": self.name.code(),
            "title": self.title(),
            "unit": {"code": self.unit.code, "name": self.unit.name, "level": self.unit.level},
            "from": self.period.from.to_string(),
            "to": self.period.to.to_string(),
            "generated_on": self.generated_on.to_string(),
            "notes": self.notes,
        });
        match &self.body {
            Body::Statistics(table) => {
                out["layout"] = json!("statistics");
                table.write_json(&mut out);
            }
            Body::Register(households) => {
                out["layout"] = json!("register");
                out["households"] = households.iter().map(register::RegisterHousehold::to_json).collect();
            }
            Body::OutsideSystem(entries) => {
                out["layout"] = json!("list");
                out["households"] = entries.iter().map(register::OutsideEntry::to_json).collect();
            }
            Body::Paper(paper) => {
                if let Value::Object(fields) = &paper.json {
                    for (key, value) in fields {
                        out[key] = value.clone();
                    }
                }
            }
            Body::DataQuality(rows) => {
                out["layout"] = json!("list");
                out["problems"] = rows
                    .iter()
                    .map(|r| json!({"household_id": r.household_id, "location": r.location, "head_name": r.head_name, "code": r.code, "problem": r.problem}))
                    .collect();
            }
        }
        out
    }
}

/// Builds a report for `unit` over `period`. `scope` is the caller's household condition
/// over `h.id` and `h.region_code` (`records::scope::households_condition`): the caller
/// reads the whole unit, and the condition keeps it that way.
pub async fn build(
    conn: &impl ConnectionTrait,
    name: ReportName,
    unit: Region,
    period: Period,
    scope: (String, Vec<sea_orm::Value>),
) -> Result<Report, DbErr> {
    build_with(conn, name, unit, period, scope, &Options::default(), Numbers::Masked).await
}

/// [`build`] with the options some reports take (the households of a 对照表, the seed
/// of a spot check) and how a paper form shows its numbers: whole only for a file
/// whose households `request` audits as printed.
pub async fn build_with(
    conn: &impl ConnectionTrait,
    name: ReportName,
    unit: Region,
    period: Period,
    scope: (String, Vec<sea_orm::Value>),
    options: &Options,
    numbers: Numbers,
) -> Result<Report, DbErr> {
    let mut report = Report {
        name,
        unit,
        period,
        generated_on: today(),
        body: Body::DataQuality(Vec::new()),
        notes: Vec::new(),
        numbers,
    };
    let unit = &report.unit;
    let body = match name {
        ReportName::HouseholdForm => {
            let mut input = queries::register_input(conn, unit, &scope, &period, paper::on_form).await?;
            if let Some(wanted) = &options.households {
                input.households.retain(|h| wanted.contains(&h.id));
            }
            Body::Paper(Box::new(paper::household_forms(&report, &input, &period)))
        }
        ReportName::MemberIncrease | ReportName::MemberDecrease => {
            let input = queries::member_changes(conn, unit, &scope, &period).await?;
            Body::Paper(Box::new(if name == ReportName::MemberIncrease {
                paper::increase_table(&report, &input)
            } else {
                paper::decrease_table(&report, &input)
            }))
        }
        ReportName::SpotCheck => {
            let villages =
                crate::assess::village::exited_villages(conn, unit.prefix(), Some((period.from, period.to))).await?;
            Body::Paper(Box::new(spot_check::report(
                &report,
                &villages,
                options.seed.unwrap_or_else(|| spot_check::default_seed(unit, &period)),
            )))
        }
        ReportName::DynamicAdjustment | ReportName::NewIdentification | ReportName::Removals | ReportName::Relapse => {
            let spec = statistics::spec(name).ok_or_else(|| DbErr::Custom("no statistics table".into()))?;
            let groups = queries::row_groups(conn, unit).await?;
            let households = queries::household_facts(conn, unit, &scope).await?;
            Body::Statistics(statistics::tabulate(spec, &groups, &households, &period))
        }
        ReportName::Register => {
            let input = queries::register_input(conn, unit, &scope, &period, register::registered).await?;
            Body::Register(register::register(&input, &period))
        }
        ReportName::OutsideSystem => {
            let mut input = queries::register_input(conn, unit, &scope, &period, register::outside_candidate).await?;
            // 001: the quarterly list is of "新识别和返贫的“系统外人员”": a flagged household
            // is listed once its identification or relapse completed in the period. A person
            // the national system cannot take at all (no ID number, 001 附件1 note 3) is
            // listed whenever, flag or not: nowhere else would they be counted.
            let newly = queries::newly_registered(conn, unit, &scope, &period).await?;
            let members = &input.members;
            input.households.retain(|h| {
                !register::outside_system(h)
                    || newly.contains(&h.id)
                    || register::has_member_without_number(members.get(&h.id).map(Vec::as_slice).unwrap_or(&[]))
            });
            Body::OutsideSystem(register::outside_list(&input))
        }
        ReportName::DataQuality => Body::DataQuality(quality_rows(conn, unit, scope).await?),
    };
    let notes = match &body {
        Body::Statistics(table) => table.spec.notes.iter().map(|n| (*n).to_owned()).collect(),
        Body::Register(_) => register::REGISTER_NOTES.iter().map(|n| (*n).to_owned()).collect(),
        Body::OutsideSystem(_) => register::OUTSIDE_NOTES.iter().map(|n| (*n).to_owned()).collect(),
        Body::DataQuality(_) => {
            vec!["按000 §四(四)“不漏项、不串项、无逻辑错误”逐户检查当前数据（R8），与统计期间无关。".to_owned()]
        }
        Body::Paper(_) => match name {
            ReportName::HouseholdForm => paper::FORM_NOTES,
            ReportName::MemberIncrease => paper::INCREASE_NOTES,
            ReportName::MemberDecrease => paper::DECREASE_NOTES,
            _ => spot_check::NOTES,
        }
        .iter()
        .map(|n| (*n).to_owned())
        .collect(),
    };
    let mut notes = notes;
    if name.shows_whole_numbers() && numbers == Numbers::Masked {
        // The form's own notes say its numbers are whole; this copy is not.
        notes.insert(0, PREVIEW_NOTE.to_owned());
    }
    report.body = body;
    report.notes = notes;
    Ok(report)
}

/// Heads the notes of a paper form built for the screen.
pub const PREVIEW_NOTE: &str =
    "此为预览：证件号码、联系电话已部分隐藏，不记入审计日志；下载的文件为全号，按户记入打印审计日志。";

/// R8 over the unit's households in the caller's scope, a row per problem.
async fn quality_rows(
    conn: &impl ConnectionTrait,
    unit: &Region,
    scope: (String, Vec<sea_orm::Value>),
) -> Result<Vec<QualityRow>, DbErr> {
    let (mut cond, mut values) = scope;
    cond.push_str(" AND h.region_code LIKE ?");
    values.push(format!("{}%", unit.prefix()).into());
    let households = crate::assess::quality_problems(conn, (cond, values)).await?;
    let names = queries::region_names(conn, unit).await?;
    let mut rows = Vec::new();
    for h in households {
        let id = h["household_id"].as_str().unwrap_or_default().to_owned();
        let region = h["region_code"].as_str().unwrap_or_default();
        let head = queries::head_name(conn, &id).await?.unwrap_or_default();
        for p in h["problems"].as_array().into_iter().flatten() {
            rows.push(QualityRow {
                household_id: id.clone(),
                location: names.get(region).cloned().unwrap_or_else(|| region.to_owned()),
                head_name: head.clone(),
                code: p["code"].as_str().unwrap_or_default().to_owned(),
                problem: p["zh"].as_str().unwrap_or_default().to_owned(),
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn a_period_runs_over_whole_days_in_china_time() {
        let p = Period::new(date(2026, 3, 1), date(2026, 3, 31)).expect("period");
        assert_eq!(p.start().to_rfc3339(), "2026-02-28T16:00:00+00:00");
        assert_eq!(p.end().to_rfc3339(), "2026-03-31T16:00:00+00:00");
        assert!(p.contains(p.start()));
        assert!(!p.contains(p.end()));
        assert_eq!(p.label(), "2026年3月1日至2026年3月31日");
        assert!(Period::new(date(2026, 4, 1), date(2026, 3, 1)).is_none());
    }

    #[test]
    fn names_round_trip() {
        for name in ReportName::ALL {
            assert_eq!(ReportName::parse(name.code()), Some(name));
        }
        assert_eq!(ReportName::parse("nope"), None);
    }

    #[test]
    fn a_region_prefix_follows_its_level() {
        let township = Region {
            code: "320703001000".into(),
            name: "一号镇".into(),
            level: "township".into(),
            parent_code: Some("320703000000".into()),
        };
        assert_eq!(township.prefix(), "320703001");
        assert!(!township.is_leaf());
    }
}
